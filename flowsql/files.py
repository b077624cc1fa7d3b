"""Writing a file so that a reader sees the old or the new one, never half of one; reading a small
file that must be a regular one."""

from __future__ import annotations

import contextlib
import os
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
    return data.decode("utf-8")


def loads_json(text: str):
    """json.loads, with a document nested too deep for Python's stack as a ValueError."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


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
