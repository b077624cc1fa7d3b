"""The files a case was made from, each with its SHA-256: what a reader checks a copy of the evidence by.

A file is hashed as a stream (1 MiB at a time) and once: its digest is remembered with the file's
state (size, modification time, inode, change time) in the cache, so a case made again over the
same files reads none of them a second time; any write, `touch` or `chmod` changes the change time,
and the file is hashed again. Only a regular file is opened (a named pipe would block the reader).
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

from ..cache import cache_dir, read_cached, write_cached
from ..errors import DataError

CHUNK = 1 << 20


def stamp(path: Path) -> list[int] | None:
    """What identifies a file's state (the integrity check's own stamp): size, modification time,
    inode and change time."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


def sha256_file(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DataError(f"{path}: not a regular file")
        h = hashlib.sha256()
        with os.fdopen(fd, "rb", closefd=False) as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
        return h.hexdigest()
    finally:
        os.close(fd)


class Digests:
    """SHA-256 of files, remembered per folder ({name: [size, mtime_ns, inode, ctime_ns, sha256]})."""

    def __init__(self):
        self.base = cache_dir("sha256")
        self.folders: dict[Path, dict] = {}
        self.dirty: set[Path] = set()

    def _file(self, folder: Path) -> Path:
        return self.base / f"{hashlib.sha256(str(folder).encode()).hexdigest()[:40]}.json"

    def _folder(self, folder: Path) -> dict:
        if folder not in self.folders:
            doc = read_cached(self._file(folder))
            self.folders[folder] = doc if isinstance(doc, dict) else {}
        return self.folders[folder]

    def of(self, path: Path, before: list[int] | None = None) -> tuple[int, str]:
        """(size, SHA-256) of `path`. `before`: its stamp when the query read it; a file that
        changed since is an error (the digest would not be of what was read)."""
        path = Path(os.path.abspath(path))
        now = stamp(path)
        if now is None:
            raise DataError(f"{path}: cannot be read any more (it was read for the case); make the case again")
        if before is not None and now != before:
            raise DataError(f"{path}: changed while the case was made; make the case again")
        entries = self._folder(path.parent)
        entry = entries.get(path.name)
        if isinstance(entry, list) and len(entry) == 5 and entry[:4] == now and isinstance(entry[4], str):
            return now[0], entry[4]
        try:
            digest = sha256_file(path)
        except OSError as e:
            raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
        if stamp(path) != now:
            raise DataError(f"{path}: changed while it was hashed; make the case again")
        entries[path.name] = [*now, digest]
        self.dirty.add(path.parent)
        return now[0], digest

    def save(self) -> None:
        for folder in self.dirty:
            write_cached(self._file(folder), self.folders[folder])
        self.dirty.clear()


def relative(path: Path, root: Path | None) -> str:
    """`path` relative to `root` (POSIX separators), the same on every machine; the path itself
    when it is not below `root`."""
    if root is not None:
        try:
            return Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root))).as_posix()
        except ValueError:
            pass
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).as_posix()


class Hasher:
    """The digests of files, computed in a thread of their own (hashlib and file reads release the
    GIL) while the query reads the same files. Each file's stamp is taken when the Hasher is made,
    before the query runs; a file whose stamp differs when it is hashed, or after the query, is an
    error (its digest would not be of what was read)."""

    def __init__(self, files: list[tuple[str, Path, Path | None]]):
        self.files = files  # (root name, file, root folder)
        self._before = {path: stamp(path) for _, path, _ in files}
        self._done: dict = {}  # path -> (size, sha256) or the DataError
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def _work(self) -> None:
        digests = Digests()
        try:
            for _, path, _ in self.files:
                if self._cancel.is_set():
                    return
                try:
                    self._done[path] = digests.of(path, self._before[path])
                except DataError as e:
                    self._done[path] = e  # an error only if the query read the file
        finally:
            digests.save()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="flowsql-sha256", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._cancel.set()

    def result(self, wanted=lambda path: True) -> list[dict]:
        """[{root, path, bytes, sha256}] of the files `wanted(path)` keeps, once all are hashed."""
        if self._thread is None:
            self.start()
        while self._thread.is_alive():  # a join Ctrl-C can interrupt
            self._thread.join(0.1)
        out = []
        for root_name, path, root in self.files:
            if not wanted(path):
                continue
            got = self._done.get(path)
            if isinstance(got, DataError):
                raise got
            if got is None or stamp(path) != self._before[path]:
                raise DataError(f"{path}: changed while the case was made; make the case again")
            out.append({"root": root_name, "path": relative(path, root), "bytes": got[0], "sha256": got[1]})
        return out

    def run(self) -> list[dict]:
        """Every file's entry, hashed now."""
        self._work()
        self._thread = threading.Thread()  # nothing left to wait for
        return self.result()
