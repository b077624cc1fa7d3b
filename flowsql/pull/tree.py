"""The folder a pull writes into: only below it, never through a symbolic link, whole files only.

Every folder below the output folder is opened one name at a time with O_NOFOLLOW (relative to its
parent's descriptor), so a link planted anywhere in the tree — `AWSLogs` pointing at `/etc`, say —
is refused instead of followed, whatever happens to the paths meanwhile. A file is written under a
hidden temporary name beside its final one (`.NAME.flowsql-PID-N.part`), flushed to disk and renamed
over the final name: a reader, or a run stopped at any moment, sees the old file or the new one,
never half of one. Temporary files of a run that was killed are removed by the next run in the
folders it writes to. One pull at a time writes to a folder (an advisory lock on `.flowsql-pull.lock`).
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ..errors import FlowsqlError, UsageError
from ..files import is_plain_relative_path

LOCK_NAME = ".flowsql-pull.lock"
_TEMP = re.compile(r"^\..+\.flowsql-\d+-\d+\.part$")
_MAX_OPEN_FOLDERS = 128
_O_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafePath(FlowsqlError):
    """A path below the output folder that is a symbolic link or not a folder: never written through."""


@dataclass(frozen=True)
class FileState:
    """What a file looked like when it was written or last checked: any write, `touch`, `chmod` or
    replacement changes one of these."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> "FileState":
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    def as_list(self) -> list[int]:
        return [self.size, self.mtime_ns, self.ctime_ns, self.ino]


class _Folder:
    __slots__ = ("fd", "users", "cleaned")

    def __init__(self, fd: int):
        self.fd, self.users, self.cleaned = fd, 0, False


class Tree:
    """The output folder, opened once; `folder()` hands out descriptors of folders below it."""

    def __init__(self, root: Path):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise UsageError(f"--out {self.root}: exists and is not a folder") from None
        except OSError as e:
            raise UsageError(f"--out {self.root}: cannot create it ({e.strerror or e})") from None
        try:
            # The output folder itself is the user's choice and may be a link; nothing below it is followed.
            self.root_fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        except NotADirectoryError:
            raise UsageError(f"--out {self.root}: exists and is not a folder") from None
        except OSError as e:
            raise UsageError(f"--out {self.root}: cannot open it ({e.strerror or e})") from None
        self._lock = threading.Lock()
        self._folders: OrderedDict[str, _Folder] = OrderedDict()
        self._temps: dict[tuple[int, str], None] = {}  # (folder fd, temporary name) of files being written
        self._counter = itertools.count()
        self._lock_fd = None
        self._stopped = False

    # -- one writer at a time ------------------------------------------------------------------

    def lock(self) -> None:
        """Take the folder's pull lock, or fail saying another pull is writing there."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX: no advisory locks
            return
        fd = os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     0o644, dir_fd=self.root_fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise UsageError(f"--out {self.root}: another flowsql pull is writing to this folder") from None
        self._lock_fd = fd

    def close(self) -> None:
        with self._lock:
            self._stopped = True
            for (fd, name) in list(self._temps):
                _unlink(fd, name)
            self._temps.clear()
            for f in self._folders.values():
                os.close(f.fd)
            self._folders.clear()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None
        os.close(self.root_fd)

    def remove_temporaries(self) -> None:
        """Remove the temporary files being written now and refuse new ones (a stop): the final names
        are untouched."""
        with self._lock:
            self._stopped = True
            for (fd, name) in list(self._temps):
                _unlink(fd, name)
            self._temps.clear()

    # -- folders ---------------------------------------------------------------------------------

    def folder(self, rel_dir: str, *, create: bool):
        """A context manager giving the descriptor of folder `rel_dir` (posix, relative), made if
        `create`; None when it does not exist and `create` is false. UnsafePath for a link or a file
        on the way."""
        return _FolderUse(self, rel_dir, create)

    def _acquire(self, rel_dir: str, create: bool) -> int | None:
        with self._lock:
            if self._stopped:  # a stop: workers still running touch nothing more
                raise InterruptedError("stopped")
            f = self._folders.get(rel_dir)
            if f is not None:
                f.users += 1
                self._folders.move_to_end(rel_dir)
                fd = f.fd
                cleaned = f.cleaned
            else:
                fd = None
        if fd is None:
            fd = self._open(rel_dir, create)
            if fd is None:
                return None
            with self._lock:
                f = self._folders.get(rel_dir)
                if f is not None:  # another thread opened it meanwhile
                    os.close(fd)
                else:
                    f = self._folders[rel_dir] = _Folder(fd)
                    self._evict()
                f.users += 1
                fd, cleaned = f.fd, f.cleaned
        if create and not cleaned:
            self._clean(rel_dir, fd)
        return fd

    def _release(self, rel_dir: str) -> None:
        with self._lock:
            f = self._folders.get(rel_dir)
            if f is not None:
                f.users -= 1
            self._evict()

    def _evict(self) -> None:  # with self._lock held
        while len(self._folders) > _MAX_OPEN_FOLDERS:
            writing = {fd for (fd, _) in self._temps}  # a temporary file's folder stays open until it is done
            victim = next((k for k, f in self._folders.items() if f.users == 0 and f.fd not in writing), None)
            if victim is None:
                return
            os.close(self._folders.pop(victim).fd)

    def _open(self, rel_dir: str, create: bool) -> int | None:
        if rel_dir in ("", "."):
            return os.dup(self.root_fd)
        if not is_plain_relative_path(rel_dir):
            raise UnsafePath(f"{rel_dir!r} is not a plain relative path")
        fd = os.dup(self.root_fd)
        done: list[str] = []
        try:
            for part in rel_dir.split("/"):
                done.append(part)
                try:
                    nxt = os.open(part, _O_DIR, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        os.close(fd)
                        return None
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass
                    nxt = os.open(part, _O_DIR, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except OSError as e:
            os.close(fd)
            where = self.root / "/".join(done)
            if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                what = "a symbolic link" if _is_link(self.root_fd, "/".join(done)) else "not a folder"
                raise UnsafePath(f"{where} is {what}: flowsql pull never writes through one") from None
            raise FlowsqlError(f"cannot create {where}: {e.strerror or e}") from None
        return fd

    def _clean(self, rel_dir: str, fd: int) -> None:
        """Temporary files of an earlier run that was killed (this run holds the lock: none is live)."""
        with self._lock:
            f = self._folders.get(rel_dir)
            if f is None or f.cleaned:
                return
            f.cleaned = True
        ours = f".flowsql-{os.getpid()}-"  # this run's own, being written by other threads now
        try:
            names = os.listdir(fd)
        except OSError:
            return
        for name in names:
            m = _TEMP.match(name)
            if m and ours not in name:
                _unlink(fd, name)

    # -- files -------------------------------------------------------------------------------------

    def state(self, dir_fd: int, name: str) -> FileState | None:
        """The state of a regular file (not followed if a link); None for anything else or nothing."""
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            return None
        return FileState.of(st) if stat.S_ISREG(st.st_mode) else None

    def new_file(self, dir_fd: int, name: str, *, readable: bool = False, after_stop: bool = False) -> "NewFile":
        """A temporary file beside `name` in that folder, to be committed (renamed over `name`) or discarded."""
        temp = f".{name}.flowsql-{os.getpid()}-{next(self._counter)}.part"
        flags = ((os.O_RDWR if readable else os.O_WRONLY) | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))
        with self._lock:  # made and registered at once: a stop removes every temporary file there is
            if self._stopped and not after_stop:
                raise InterruptedError("stopped")
            fd = os.open(temp, flags, 0o666, dir_fd=dir_fd)
            self._temps[(dir_fd, temp)] = None
        return NewFile(self, dir_fd, name, temp, fd)

    def _forget(self, dir_fd: int, temp: str) -> bool:
        with self._lock:
            return self._temps.pop((dir_fd, temp), False) is None


class _FolderUse:
    def __init__(self, tree: Tree, rel_dir: str, create: bool):
        self.tree, self.rel_dir, self.create = tree, rel_dir, create
        self.fd: int | None = None

    def __enter__(self) -> int | None:
        self.fd = self.tree._acquire(self.rel_dir, self.create)
        return self.fd

    def __exit__(self, *exc):
        if self.fd is not None:
            self.tree._release(self.rel_dir)
        return False


class NewFile:
    """A file being written under a temporary name; `commit()` makes it the final one."""

    def __init__(self, tree: Tree, dir_fd: int, name: str, temp: str, fd: int):
        self.tree, self.dir_fd, self.name, self.temp, self.fd = tree, dir_fd, name, temp, fd
        self.size = 0

    def write(self, data) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.size += len(data)

    def commit(self, mtime_ns: int | None = None) -> FileState:
        """Flush to disk, set the modification time, rename over the final name; the new file's state."""
        fd = self.fd
        if mtime_ns is not None:
            os.utime(fd, ns=(mtime_ns, mtime_ns))
        # the bytes (and the size) on disk before the name: fdatasync, which leaves out the times
        # (a lost modification time only makes the next pull check the file again)
        getattr(os, "fdatasync", os.fsync)(fd)
        self.fd = -1
        if not self.tree._forget(self.dir_fd, self.temp):  # removed by a stop meanwhile
            os.close(fd)
            raise InterruptedError("stopped")
        try:
            os.rename(self.temp, self.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
            st = os.fstat(fd)  # after the rename, which may change the change time
        except OSError:
            _unlink(self.dir_fd, self.temp)
            raise
        finally:
            os.close(fd)
        return FileState.of(st)

    def discard(self) -> None:
        """Close and remove the temporary file; again is nothing (a descriptor is never closed twice:
        its number may belong to another file by then)."""
        if self.fd < 0:
            return
        fd, self.fd = self.fd, -1
        try:
            os.close(fd)
        except OSError:
            pass
        if self.tree._forget(self.dir_fd, self.temp):
            _unlink(self.dir_fd, self.temp)


def sync_folder(fd: int) -> None:
    """Make the renames in a folder durable (one fsync of the folder for all its files)."""
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the files themselves were synced
        pass


def _unlink(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except OSError:
        pass


def _is_link(root_fd: int, rel: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(rel, dir_fd=root_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False
