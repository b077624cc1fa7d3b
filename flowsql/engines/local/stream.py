"""New text log files read by DuckDB through flowsql: each decompressed once and checked as DuckDB
reads it — the "one pass" of a cold query (integrity.py).

DuckDB reads a registered fsspec filesystem through Python. For each file never checked, the query's
view names `flowsqlnew://PATH` (PATH the file's own path without `.gz`, so the partition still reads
back from it, and DuckDB reads plain text); opening it starts ISA-L's inflate on the file, and every
chunk handed to DuckDB has passed integrity.TextCheck first: the gzip CRC and length, UTF-8, control
characters, line lengths, the header, and every record against record_pattern (record_checker: compiled
or RE2). A fault raises an error inside DuckDB's read, which stops the query; the engine then
checks the files the slow way.

An answer counts only if every streamed file was read to its end, passing every check, and its
length was the gzip trailer's (DuckDB reads as many bytes as the size we tell it): a query that
stops early (a LIMIT, a join with an empty side) leaves a file unread, and its files are checked the
slow way. fsspec is imported only here, on a cold query.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from fsspec.spec import AbstractFileSystem

from ...logs.fields import LogFormat
from .integrity import (_GZIP_ERRORS, DataProblem, TextCheck, Unchecked, _gunzip, _plain, excerpt,
                        record_checker)

PROTOCOL = "flowsqlnew"


@dataclass
class Entry:
    """One new file as DuckDB reads it: the path opened (`source`, glob-free), its format, the length
    of its text, and what became of it (`done`: read to its end, every check passed; `problem`)."""
    source: str
    fmt: LogFormat
    size: int
    done: bool = False
    problem: str | None = None


def text_size(source: str) -> int | None:
    """The length of a text file's text: a gzip file's trailer (ISIZE, exact for one member under
    4 GiB; any other length is found at the end of the read), a plain file's size. None when the file
    is too short to hold a gzip member."""
    try:
        with open(source, "rb") as fh:
            if not source.endswith(".gz"):
                return os.fstat(fh.fileno()).st_size
            if os.fstat(fh.fileno()).st_size < 18:
                return None
            fh.seek(-4, os.SEEK_END)
            return struct.unpack("<I", fh.read(4))[0]
    except OSError:
        return None


def url(source: str) -> str:
    return f"{PROTOCOL}://{source[:-3] if source.endswith('.gz') else source}"


class _Text(io.RawIOBase):
    """A file's text as DuckDB reads it, forward only, every chunk checked before it is handed on."""

    def __init__(self, entry: Entry):
        super().__init__()
        self.entry = entry
        self.fh = open(entry.source, "rb")
        self.chunks = _gunzip(self.fh) if entry.source.endswith(".gz") else _plain(self.fh)
        self.check = TextCheck(record_checker(entry.fmt))
        self.buf: list[bytes] = []  # checked, not yet handed on
        self.held = 0
        self.pos = 0
        self.eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if (whence == 0 and offset == self.pos) or (whence == 1 and offset == 0):
            return self.pos
        raise self._fail("read out of order (flowsql reads a new file from its start to its end)")

    def _fail(self, problem: str) -> OSError:
        self.entry.problem = self.entry.problem or problem
        return OSError(f"{self.entry.source}: {problem}")

    def _more(self) -> None:
        try:
            chunk = next(self.chunks, None)
            if chunk is None:
                self.eof = True
                fmt = self.check.end()
                if fmt != self.entry.fmt:
                    raise self._fail("its header changed while it was read")
                if self.pos + self.held != self.entry.size:
                    raise self._fail("its text is not as long as its gzip trailer says")
                self.entry.done = self.entry.problem is None
                return
            self.check.feed(chunk)
            self.buf.append(chunk)
            self.held += len(chunk)
        except Unchecked:
            raise self._fail("a record the pattern does not pass") from None
        except DataProblem as e:
            raise self._fail(str(e)) from None
        except _GZIP_ERRORS as e:
            raise self._fail(f"corrupt gzip data ({excerpt(str(e))[1:-1]})") from None
        except UnicodeDecodeError as e:
            raise self._fail(f"not UTF-8 text ({e.reason})") from None

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 62
        # on to the end once the text reaches its told size: DuckDB reads no further, and the end is
        # where the last CRC and the length are checked
        while (self.held < n or self.pos + self.held >= self.entry.size) and not self.eof:
            self._more()
        data = b"".join(self.buf)
        out, rest = data[:n], data[n:]
        self.buf, self.held = ([rest], len(rest)) if rest else ([], 0)
        self.pos += len(out)
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.fh.close()
        super().close()


class NewFiles(AbstractFileSystem):
    """The filesystem `flowsqlnew://` of one query: the new files it reads, by url()."""

    protocol = PROTOCOL
    cachable = False  # one per query, never fsspec's shared instance

    def __init__(self, entries: dict[str, Entry]):
        super().__init__()
        self.entries = {self._key(u): e for u, e in entries.items()}

    @staticmethod
    def _key(path: str) -> str:
        return "/" + path.split("://", 1)[-1].lstrip("/")

    def _entry(self, path: str) -> Entry:
        try:
            return self.entries[self._key(path)]
        except KeyError:
            raise FileNotFoundError(path) from None

    def info(self, path, **kwargs):
        return {"name": path, "size": self._entry(path).size, "type": "file"}

    def ls(self, path, detail=True, **kwargs):
        return [self.info(path)] if detail else [path]

    def _open(self, path, mode="rb", **kwargs):
        if "r" not in mode:
            raise PermissionError(path)
        return _Text(self._entry(path))


def plan(pending, duck_path) -> dict[Path, Entry]:
    """The new text files (integrity.Checked, pending) that can be read through NewFiles, by path:
    those whose text length is known (the others are checked beside the query)."""
    out = {}
    for c in pending:
        if c.file.kind != "text":
            continue
        source = duck_path(c.file.path)
        size = text_size(source)
        if size is not None:
            out[c.file.path] = Entry(source, c.fmt, size)
    return out
