"""Writing a file so that a reader sees the old or the new one, never half of one; reading a small
file that must be a regular one; JSON as flowsql reads and writes it (strict and bounded)."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator, TextIO


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[TextIO]:
    """A text handle on a temporary file beside `path`, renamed over it when the block succeeds."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp makes the file private (0600); the result should have the mode `>` would give it
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, text: str) -> None:
    with atomic_writer(path) as f:
        f.write(text)


MAX_DOCUMENT_BYTES = 256 << 20  # no record, inventory document or cache entry of flowsql is near this


def read_regular_text(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> str:
    """The UTF-8 text of `path`, which must be a regular file: a named pipe would block its reader
    for ever (it is opened without waiting and refused), and a file over `limit` bytes is refused
    rather than read into memory. OSError (or UnicodeDecodeError) otherwise."""
    return read_regular_bytes(path, limit).decode("utf-8")


def read_regular_bytes(path: Path, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of `path` as read_regular_text reads them (a regular file of at most `limit`)."""
    import errno
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            data = fh.read(limit + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:  # grown since fstat
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
    return data


class DocumentError(ValueError):
    """A text that is not strict, bounded JSON; the message says why in a few words. `empty`: there
    is no JSON at all (`aws … > file` leaves such a file when the call fails)."""

    def __init__(self, message: str, *, empty: bool = False):
        super().__init__(message)
        self.empty = empty


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DocumentError(f"{text[:40]} is beyond the range of a number (a double)")
    return value


def _constant(name: str):
    raise DocumentError(f"{name} is no JSON number")


def loads_json(text: str):
    """json.loads of strict JSON (RFC 8259): NaN, Infinity and numbers beyond a double are refused,
    as are integers longer than Python converts (sys.get_int_max_str_digits(), 4,300 digits) and
    documents nested too deep for Python's stack. DocumentError (a ValueError) for any of them and
    for text that is not JSON. (Integers are parsed by json itself: a callback per number would
    cost a third more on the large documents.)"""
    import json

    if not text.strip():
        raise DocumentError("empty: no JSON in it", empty=True)
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float)
    except RecursionError:
        raise DocumentError("JSON nested too deep") from None
    except DocumentError:
        raise
    except json.JSONDecodeError as e:
        raise DocumentError(f"not JSON ({' '.join(str(e).split())[:200]})") from None
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        raise DocumentError(f"an integer of more than {sys.get_int_max_str_digits():,} digits") from None


def read_json(path: Path, limit: int = MAX_DOCUMENT_BYTES):
    """The one reader of every JSON document flowsql reads: a regular file (read_regular_text: never
    a pipe or a device) of at most `limit` bytes, UTF-8 with or without a byte order mark
    (PowerShell's `>` writes one), holding strict JSON (loads_json). OSError (FileNotFoundError
    when there is no file), UnicodeDecodeError or DocumentError otherwise; error_reason() says
    which in a few words."""
    return loads_json(read_regular_text(path, limit).removeprefix("\ufeff"))


def error_reason(e: BaseException) -> str:
    """What read_json's (or read_regular_text's) error says, without the path the caller names."""
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    if isinstance(e, UnicodeDecodeError):
        return f"not UTF-8 text (byte {e.start:,})"
    return " ".join(str(e).split())[:200]


def dumps_json(value, *, what: str = "the output", **options) -> str:
    """json.dumps of strict JSON, the only kind flowsql writes: a NaN or an infinity (which
    json.dumps would print as `NaN`, a text no JSON parser takes) is a DataError naming `what`."""
    import json

    from .errors import DataError

    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError as e:
        raise DataError(f"cannot write {what} as JSON: {e} (a NaN or an infinity, which JSON cannot "
                        "hold)") from None


def is_plain_relative_path(entry) -> bool:
    """A path a record of ours may name: relative, written plainly (`a/b`, no `./`, `//` or trailing
    `/`), with no `..`, no NUL and no part longer than a file name may be. A record is never trusted
    to name anything outside the folder it sits in."""
    from pathlib import PurePosixPath

    if not isinstance(entry, str) or not entry or "\0" in entry or len(entry) > 4096:
        return False
    if any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in entry.split("/")):
        return False
    p = PurePosixPath(entry)
    return not p.is_absolute() and ".." not in p.parts and entry == p.as_posix()
