"""Where flowsql keeps what it can recompute: renderings, lint results, files already verified.

`$FLOWSQL_CACHE_DIR`, else `$XDG_CACHE_HOME/flowsql`, else `~/.cache/flowsql`. Everything here is
an optimisation: an unreadable or read-only cache only costs time, never an answer.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    base = os.environ.get("FLOWSQL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "flowsql"
    )
    return Path(base) / kind


MAX_ENTRY_BYTES = 64 << 20
_digests: dict[tuple[str, ...], str] = {}


def source_digest(*folders: Path) -> str:
    """A digest of every file under `folders` (relative names and bytes; compiled files and JSON left
    out: the JSON there is data flowsql writes, such as pack/lint/shipped.json, whose keys are made of
    this digest), for the key of entries that any of them can change: a new module or macro counts
    without being listed. Computed once per process."""
    key = tuple(str(f) for f in folders)
    if key not in _digests:
        import hashlib

        h = hashlib.sha256()
        for folder in key:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    if name.endswith((".pyc", ".pyo", ".json")):
                        continue
                    path = os.path.join(dirpath, name)
                    h.update(os.path.relpath(path, folder).encode() + b"\0")
                    try:
                        with open(path, "rb") as f:
                            h.update(f.read())
                    except OSError:
                        h.update(b"?")
                    h.update(b"\0")
            h.update(b"\1")
        _digests[key] = h.hexdigest()
    return _digests[key]


def read_cached(path: Path):
    """The JSON in `path`, or None when it is missing, unreadable, no regular file (a pipe there
    would block) or not strict, bounded JSON (files.read_json)."""
    from .files import read_json as read_document

    try:
        return read_document(path, MAX_ENTRY_BYTES)
    except (OSError, ValueError):
        return None


def write_cached(path: Path, data) -> None:
    """Write atomically (a reader sees the old or the new file); failures are ignored (a value
    JSON cannot hold, a NaN, is not kept)."""
    from .errors import DataError
    from .files import dumps_json, write_atomic

    try:
        text = dumps_json(data, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # a fresh temporary name (O_EXCL), never one a link planted beforehand could send elsewhere
        write_atomic(path, text, durable=False)  # a torn entry after a crash does not read: it is not used
    except (OSError, DataError):
        pass
