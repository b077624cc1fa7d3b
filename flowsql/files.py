"""Writing a file so that a reader sees the old or the new one, never half of one; writing and
tidying in a folder without following a link (`Tree`); reading a small file that must be a regular
one; JSON as flowsql reads and writes it (strict and bounded)."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator, TextIO


@contextlib.contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[TextIO]:
    """A text handle on a temporary file beside `path`, renamed over it when the block succeeds.
    `durable`: flushed to disk before the rename (not for a cache, which a crash may empty: a cache
    entry that does not read is not used)."""
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
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    with atomic_writer(path, durable=durable) as f:
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


class Refused(OSError):
    """A symbolic link, or something other than a folder or a regular file, where flowsql would
    write, replace or delete. Its strerror is a whole sentence naming the path."""


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | \
    getattr(os, "O_NONBLOCK", 0)


class Tree:
    """A folder flowsql writes in (`--out`, `--dir`, the unit folder), reached so that nothing below
    it can lead a write or a removal elsewhere.

    The folder itself is the one the user named: a link to it is followed, the user chose it. Every
    path below it is walked one name at a time, each folder opened relative to its parent with
    O_NOFOLLOW, and every write, rename and removal is made relative to the folder that holds it: a
    symbolic link anywhere below the root (or one swapped in while flowsql runs) is never followed,
    and no path may hold `..`. Where a file is replaced or removed, what is there must be a regular
    file: a link, a folder, a pipe is refused (`Refused`, naming it), never replaced or deleted.
    Folders are removed only when empty, or (`rmtree`) when they are a temporary folder flowsql made.
    """

    def __init__(self, root: Path, *, create: bool = False):
        self.root = Path(root)
        if create:
            self.root.mkdir(parents=True, exist_ok=True)

    # -- paths --------------------------------------------------------------------------------

    def path(self, rel) -> Path:
        return self.root.joinpath(*self._parts(rel))

    @staticmethod
    def _dir_parts(rel) -> tuple[str, ...]:
        """A folder's parts below the root; None, '' and '.' are the root itself."""
        return () if rel is None or str(rel) in ("", ".") else Tree._parts(rel)

    @staticmethod
    def _parts(rel) -> tuple[str, ...]:
        from pathlib import PurePosixPath

        parts = PurePosixPath(str(rel)).parts
        if not parts or parts[0] == "/" or ".." in parts or any("\0" in p for p in parts):
            raise ValueError(f"{rel!r} is not a plain path inside the folder")
        return parts

    def _refused(self, parts, st=None) -> Refused:
        import errno
        import stat

        where = self.root.joinpath(*parts)
        if st is not None and stat.S_ISLNK(st.st_mode):
            return Refused(errno.ELOOP, f"{where} is a symbolic link: flowsql never writes or deletes through a "
                           "link, nor replaces one", str(where))
        what = "a folder" if st is not None and stat.S_ISDIR(st.st_mode) else "a pipe, socket or device"
        return Refused(errno.EINVAL, f"{where} is {what}, not a regular file: flowsql leaves it alone", str(where))

    def refusal(self, rel) -> Refused:
        """The Refused error for what is at `rel` (a link, a folder, a pipe)."""
        with self._parent(rel) as (fd, name, parts):
            return self._refused(parts, self._lstat(name, fd))

    def _lstat(self, name: str, fd: int):
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def _open_dir(self, parts, create: bool = False) -> int:
        """An fd of the folder `parts` below the root (made, with `create`), no link followed."""
        import stat

        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        try:
            for i, part in enumerate(parts):
                if create:
                    try:
                        os.mkdir(part, dir_fd=fd)
                    except FileExistsError:
                        pass
                try:
                    sub = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError as e:
                    e.filename = str(self.root.joinpath(*parts[:i + 1]))
                    raise
                except OSError as e:
                    st = self._lstat(part, fd)
                    if st is not None and not stat.S_ISREG(st.st_mode):
                        raise self._refused(parts[:i + 1], st) from None
                    e.filename = str(self.root.joinpath(*parts[:i + 1]))
                    raise
                os.close(fd)
                fd = sub
            return fd
        except BaseException:
            os.close(fd)
            raise

    @contextlib.contextmanager
    def _parent(self, rel, create: bool = False):
        parts = self._parts(rel)
        fd = self._open_dir(parts[:-1], create)
        try:
            yield fd, parts[-1], parts
        finally:
            os.close(fd)

    # -- reading the tree ---------------------------------------------------------------------

    def kind(self, rel) -> str | None:
        """'file', 'dir', 'link' or 'other' for what is at `rel` (not followed); None when nothing
        is there, or when the way there is not a plain folder."""
        import stat

        try:
            with self._parent(rel) as (fd, name, _):
                st = self._lstat(name, fd)
        except (FileNotFoundError, NotADirectoryError, Refused):
            return None
        if st is None:
            return None
        return ("file" if stat.S_ISREG(st.st_mode) else "dir" if stat.S_ISDIR(st.st_mode)
                else "link" if stat.S_ISLNK(st.st_mode) else "other")

    def is_file(self, rel) -> bool:
        return self.kind(rel) == "file"

    def entries(self, rel=None) -> list[tuple[str, str]]:
        """(name, kind) of what a folder below the root holds ([] when it is missing)."""
        try:
            fd = self._open_dir(self._dir_parts(rel))
        except FileNotFoundError:
            return []
        try:
            out = []
            with os.scandir(fd) as it:
                for e in it:
                    kind = ("link" if e.is_symlink() else "dir" if e.is_dir(follow_symlinks=False)
                            else "file" if e.is_file(follow_symlinks=False) else "other")
                    out.append((e.name, kind))
            return sorted(out)
        finally:
            os.close(fd)

    # -- changing it --------------------------------------------------------------------------

    def mkdirs(self, rel) -> None:
        os.close(self._open_dir(self._dir_parts(rel), create=True))

    def _check_replaceable(self, fd: int, name: str, parts) -> None:
        import stat

        st = self._lstat(name, fd)
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise self._refused(parts, st)

    @contextlib.contextmanager
    def writer(self, rel, *, binary: bool = False):
        """A handle on a new file beside `rel`, renamed over it when the block succeeds (a reader
        sees the old file or the new one). What is at `rel` must be a regular file or nothing."""
        import secrets

        with self._parent(rel, create=True) as (fd, name, parts):
            self._check_replaceable(fd, name, parts)
            _sweep_writer_temporaries(fd)
            tmp = f".{name[:200]}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
            tfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                          0o666, dir_fd=fd)
            try:
                with os.fdopen(tfd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
                    yield f
                    f.flush()
                    os.fsync(f.fileno())
                self._check_replaceable(fd, name, parts)
                os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=fd)
                raise

    def write(self, rel, data) -> None:
        with self.writer(rel, binary=isinstance(data, bytes)) as f:
            f.write(data)

    def move_in(self, source: Path, rel) -> None:
        """Rename `source` (a file flowsql made, on the same file system) to `rel`, replacing only a
        regular file there."""
        with self._parent(rel, create=True) as (fd, name, parts):
            self._check_replaceable(fd, name, parts)
            os.replace(source, name, dst_dir_fd=fd)

    def rename(self, old, new) -> None:
        """Rename a file of the tree to another name in the same folder, replacing only a regular file."""
        with self._parent(old) as (fd, src, _):
            new_parts = self._parts(new)
            if new_parts[:-1] != self._parts(old)[:-1]:
                raise ValueError("rename stays within one folder")
            self._check_replaceable(fd, new_parts[-1], new_parts)
            os.replace(src, new_parts[-1], src_dir_fd=fd, dst_dir_fd=fd)

    def remove(self, rel) -> bool:
        """Delete the regular file at `rel`; False when nothing is there. A link or anything else
        there is refused, and so is a link on the way."""
        try:
            with self._parent(rel) as (fd, name, parts):
                self._check_replaceable(fd, name, parts)
                os.unlink(name, dir_fd=fd)
                return True
        except FileNotFoundError:
            return False

    def rmdir(self, rel) -> bool:
        """Remove the folder at `rel` if it is empty (never a link); False when it is not there or
        not empty."""
        import errno
        import stat

        try:
            with self._parent(rel) as (fd, name, parts):
                st = self._lstat(name, fd)
                if st is None:
                    return False
                if not stat.S_ISDIR(st.st_mode):
                    raise self._refused(parts, st)
                os.rmdir(name, dir_fd=fd)
                return True
        except FileNotFoundError:
            return False
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            raise

    def rmtree(self, rel) -> None:
        """Remove a folder flowsql made (a temporary one) and all it holds; links in it are removed
        as links, never followed; a link at `rel` itself is refused."""
        import shutil
        import stat

        try:
            with self._parent(rel) as (fd, name, parts):
                st = self._lstat(name, fd)
                if st is None:
                    return
                if not stat.S_ISDIR(st.st_mode):
                    raise self._refused(parts, st)
                shutil.rmtree(name, dir_fd=fd)
        except FileNotFoundError:
            return


_WRITER_TMP = None
_swept_folders: set = set()  # (device, inode) of the folders this process has swept


def _sweep_writer_temporaries(fd: int) -> None:
    """Remove the temporary files Tree.writer made in this folder (`.NAME.PID.XXXXXXXX.tmp`) for a
    process that is gone (killed with SIGKILL between writing and renaming); once per folder and
    process, so writing many files in one folder costs one listing."""
    import re
    import stat

    global _WRITER_TMP
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) in _swept_folders:
        return
    _swept_folders.add((st.st_dev, st.st_ino))
    _WRITER_TMP = _WRITER_TMP or re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$")
    try:
        with os.scandir(fd) as it:
            names = [e.name for e in it if _WRITER_TMP.match(e.name)]
    except OSError:
        return
    for name in names:
        pid = int(_WRITER_TMP.match(name)[1])
        if pid == os.getpid() or alive(pid):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                os.unlink(name, dir_fd=fd)


@contextlib.contextmanager
def signals_held():
    """Ctrl-C, SIGTERM and SIGHUP wait until the block is done, then arrive as usual: for a few
    renames that must all happen (or be undone) and for a cleanup, which a signal must not cut in
    half. (Only the main thread receives them; elsewhere this does nothing.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def alive(pid: int) -> bool:
    """Is process `pid` running (one of another user counts as running)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def temporary_folder(beside: Path, tag: str, inside: Path | None = None) -> Path:
    """A new folder `.NAME.TAG-PID-XXXXXXXX` beside `beside` (or in `inside`: the same file system,
    so what is made in it renames into place), with the mode a plain mkdir would give.
    `sweep_temporary_folders` removes one whose process was killed before it could."""
    beside = Path(beside).absolute()
    where = Path(inside) if inside is not None else beside.parent
    folder = Path(tempfile.mkdtemp(prefix=f".{beside.name}.{tag}-{os.getpid()}-", dir=where))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)  # mkdtemp's folder is private; what is renamed out of it should not be
    return folder


def sweep_temporary_folders(beside: Path, tag: str, inside: Path | None = None) -> list[str]:
    """Remove the temporary folders beside `beside` (or in `inside`; see temporary_folder) whose
    process is gone, as a run killed with SIGKILL leaves them; returns their names. Only folders
    are removed, never a link, and what they hold is removed without following any link."""
    import re

    beside = Path(beside).absolute()
    ours = re.compile(re.escape(f".{beside.name}.{tag}-") + r"(\d+)-[A-Za-z0-9_]+$")
    parent = Tree(Path(inside) if inside is not None else beside.parent)
    removed = []
    try:
        entries = parent.entries()
    except OSError:
        return removed
    for name, kind in entries:
        m = ours.match(name)
        if kind == "dir" and m and int(m[1]) != os.getpid() and not alive(int(m[1])):
            with contextlib.suppress(OSError):
                parent.rmtree(name)
                removed.append(name)
    return removed
