"""A private DuckDB session: its own folders, UTC, no network, queries that Ctrl-C stops at once.

DuckDB reads a path with `*`, `?` or `[` in it as a glob pattern, with no way to escape them, so
every path flowsql hands it must be free of them: the session's temporary folder is made where its
path has none (TMPDIR first), and callers link a user's file into it when the file's own path has.
The folder is named after the process, so one that a killed process left behind is removed by the
next session (`sweep`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from ...errors import FlowsqlError
from ...files import alive

PREFIX = "flowsql-duckdb-"
_GLOB = re.compile(r"[*?\[]")
_OURS = re.compile(re.escape(PREFIX) + r"(\d+)-")


def duckdb():
    """DuckDB's C extension, which is all flowsql uses: the `duckdb` package around it (its
    relational API's Python classes, importlib.metadata) adds about 0.1 s to every start-up. The
    package re-exports the extension's names (`duckdb.Error is _duckdb.Error`); should a DuckDB
    release stop shipping it as `_duckdb`, the package itself is used."""
    try:
        import _duckdb
    except ImportError:  # pragma: no cover - a DuckDB release without the extension module
        import duckdb as _duckdb
    return _duckdb


def has_glob(path: str) -> bool:
    return bool(_GLOB.search(path))


def _bases() -> list[Path]:
    from ...cache import cache_dir

    seen, out = set(), []
    for b in (tempfile.gettempdir(), "/tmp", "/var/tmp", str(cache_dir("tmp"))):
        p = os.path.abspath(b)
        if p not in seen:
            seen.add(p)
            out.append(Path(p))
    return out


def sweep() -> None:
    """Remove session folders whose process is gone (killed before it could clean up)."""
    for base in _bases():
        try:
            entries = list(os.scandir(base))
        except OSError:
            continue
        for e in entries:
            m = _OURS.match(e.name)
            if m and int(m[1]) != os.getpid() and not alive(int(m[1])):
                with contextlib.suppress(OSError):
                    if time.time() - e.stat(follow_symlinks=False).st_mtime > 60:
                        shutil.rmtree(e.path, ignore_errors=True)


def private_folder() -> Path:
    """A new temporary folder whose path DuckDB cannot read as a pattern."""
    for base in _bases():
        if has_glob(str(base)):
            continue
        try:
            base.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base))
        except OSError:
            continue
    raise FlowsqlError("no temporary folder without *, ? or [ in its path is writable "
                       "(set TMPDIR to one)")


class Session:
    """One DuckDB connection with private extension, secret and spill folders under `folder`."""

    def __init__(self):
        sweep()
        self.folder = private_folder()
        config = {
            "extension_directory": str(self.folder / "ext"),
            "secret_directory": str(self.folder / "secrets"),
            "temp_directory": str(self.folder / "spill"),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        try:
            self.con = duckdb().connect(":memory:", config=config)
            self.con.execute("SET TimeZone = 'UTC'")
            # flowsql says what it does on stderr itself; DuckDB's own bar would write over it
            self.con.execute("SET enable_progress_bar = false")
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def readable(self, path: Path, partition) -> str:
        """The path DuckDB reads for a log file: its own (absolute), or, when that holds a glob
        character, a link in the session folder laid out like the tree (so the partition still reads
        back from the path)."""
        own = os.path.abspath(path)
        if not has_glob(own):
            return own
        links = self.folder / "links" / partition.account / "vpcflowlogs" / partition.region / \
            partition.day.strftime("%Y/%m/%d")
        links.mkdir(parents=True, exist_ok=True)
        self._links = getattr(self, "_links", 0) + 1
        link = links / f"{self._links}{''.join(Path(path).suffixes[-2:])}"
        link.symlink_to(own)
        return str(link)

    def run(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """(columns, rows) of one statement. It runs in a worker thread so that Ctrl-C (or
        SIGTERM) in the main thread interrupts DuckDB at once instead of when DuckDB next looks."""
        box: dict = {}
        # An Event, not Thread.join: a join interrupted by KeyboardInterrupt can report the thread
        # finished while it still runs (CPython gh-90882), and a thread left inside DuckDB when the
        # interpreter exits aborts the process.
        done = threading.Event()

        def work():
            try:
                cur = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
                box["rows"] = cur.fetchall()
                box["columns"] = [d[0] for d in cur.description or []]
            except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = e
            finally:
                done.set()

        threading.Thread(target=work, name="flowsql-duckdb", daemon=True).start()
        try:
            while not done.wait(0.1):
                pass
        except BaseException:
            self.con.interrupt()
            done.wait(30)
            raise
        if "error" in box:
            raise box["error"]
        return box["columns"], box["rows"]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.folder, ignore_errors=True)
