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
from pathlib import Path

from ..cache import cache_dir, read_json, write_json
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
            doc = read_json(self._file(folder))
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
            write_json(self._file(folder), self.folders[folder])
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


def inputs(files: list[tuple[str, Path, Path | None, list[int] | None]]) -> list[dict]:
    """[{root, path, bytes, sha256}] of (root name, file, root folder, stamp when read), sorted by
    root and path."""
    digests = Digests()
    out = []
    try:
        for root_name, path, root, before in files:
            size, digest = digests.of(path, before)
            out.append({"root": root_name, "path": relative(path, root), "bytes": size, "sha256": digest})
    finally:
        digests.save()
    return sorted(out, key=lambda f: (f["root"], f["path"]))
