"""Where flowsql keeps what it can recompute: lint results, files already verified.

`$FLOWSQL_CACHE_DIR`, else `$XDG_CACHE_HOME/flowsql`, else `~/.cache/flowsql`. Everything here is
an optimisation: an unreadable or read-only cache only costs time, never an answer.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    base = os.environ.get("FLOWSQL_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "flowsql"
    )
    return Path(base) / kind


def read_json(path: Path):
    """The JSON in `path`, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data) -> None:
    """Write atomically (a reader sees the old or the new file); failures are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
