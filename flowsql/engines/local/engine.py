"""The local engine: DuckDB over an `AWSLogs/` tree on disk, in UTC, with no network.

Only the files whose path day, account and region fall in the request are read. Before a file is
read it is checked in full, once (engines/integrity.py): a file that cannot be read in full stops
the query with its name, or with --skip-bad-files is left out and named. Files of one tree may have
different log formats (text or Parquet); each is read by its own header or schema, and the view
`flow_logs` has every field of versions 2-8 (NULL where a file's format lacks it) plus the
partition columns; Transit Gateway flow-log files have their own view (tgw.py). A query that needs
fields some files lack runs on the others and names them; when no file can answer, it is refused.
Nothing under the request is passed over in silence.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from pathlib import Path

from ...errors import DataError, FlowsqlError, QueryError, UsageError
from ...inventory import TABLES, Inventory
from ...inventory.documents import check_inventory
from ...logs.fields import BY_NAME, FIELDS, LogFormat
from ...logs.layout import LogFile, local_files
from ...logs.window import Window
from ...resources import local_functions_sql
from ..base import ALL_COLUMNS, FileNote, Result, Stats, Target
from .duck import Session, duckdb
from .integrity import ByteChecks, Checked, excerpt, forget, record_checker, remember, unchanged, verify
from . import tgw, view

_DUCK_TYPES = {"string": "VARCHAR", "boolean": "BOOLEAN", "int": "INTEGER", "bigint": "BIGINT"}
# The partition of a row, read back from its file's path (plain or Hive-compatible layout). DuckDB
# computes it once per file chunk (the filename is a constant vector), so it costs nothing per row.
_PARTITION_RE = (r"/(?:aws-account-id=)?([0-9]{12})/(?:aws-service=)?vpcflowlogs/(?:aws-region=)?([a-z0-9-]+)/"
                 r"(?:year=)?([0-9]{4})/(?:month=)?([0-9]{2})/(?:day=)?([0-9]{2})/(?:(?:hour=)?[0-9]{2}/)?[^/]+$")


class LocalEngine:
    name = "local"

    def __init__(self, source: Path, window: Window, *, inventory: Inventory | None = None,
                 accounts=(), regions=(), skip_bad_files: bool = False, progress=None):
        self.source = Path(source)
        self.window = window
        self.inventory = inventory or Inventory()
        self.accounts = tuple(accounts or ())
        self.regions = tuple(regions or ())
        self.skip_bad_files = skip_bad_files
        self.progress = progress  # progress(done, total) while files are checked the first time
        listing = local_files(self.source, window.since, window.until, self.accounts, self.regions)
        self.files: list[LogFile] = listing.files
        self._partitions = {f.path: f.partition for f in self.files}
        self._unreadable = [FileNote(str(p), r) for p, r in listing.unreadable]
        self._ignored = [FileNote(str(p), r) for p, r in listing.ignored]
        self._session: Session | None = None
        self._duck_paths: dict[Path, str] = {}
        self._checked: list[Checked] | None = None
        self._usable: list[Checked] | None = None  # the files the current query reads
        self._left_out: list[FileNote] = []
        self._skipped: list[FileNote] = []
        self._notes: list[str] = []

    def target(self) -> Target:
        return Target("local", flow_logs="flow_logs", columns=ALL_COLUMNS)

    # -- what a query needs -------------------------------------------------------------------

    def require(self, query, *, window=None, accounts=(), regions=()) -> None:
        """Check the query's needs (pack.Needs) against the inventory and the files of the window;
        leave out (and name) the files whose format lacks a needed field. UsageError when the
        inventory lacks a file it needs, or when no file in the window can answer it."""
        needs = query.needs
        self._notes = check_inventory(query.name, needs, self.inventory.present, self.inventory.directory,
                                      folders=self.inventory.folders)
        # a query reads one kind of flow log (its header's `table:`): the other kind is left out
        vpc_files, tgw_files = tgw.split_by_kind(self._check_files())
        checked = tgw_files if query.table == "tgw" else vpc_files
        if query.table != "tgw" and tgw_files:
            self._notes.append(tgw.left_out_note(len(tgw_files)))
        usable, left_out = [], []
        for c in checked:
            missing = needs.missing_fields(c.fmt.names)
            if missing:
                left_out.append((c, missing))
            else:
                usable.append(c)
        self._left_out = [FileNote(str(c.file.path), f"its log format lacks {', '.join(m)}, which {query.name} "
                                   "needs") for c, m in left_out]
        if left_out and not usable:
            fields = sorted({f for _, m in left_out for f in m})
            raise UsageError(f"no file in the window can answer {query.name}: all {len(left_out)} lack field(s) "
                             f"{', '.join(fields)} (e.g. {left_out[0][0].file.path}); their log format must "
                             "include them")
        for name, note in needs.without:
            lacking = [c for c in usable if name in BY_NAME and name not in c.fmt.names]
            if lacking:
                self._notes.append(f"{len(lacking)} file(s) have no {name} field: {note}")
        self._usable = usable

    # -- checking the files ----------------------------------------------------------------------

    def _session_for(self) -> Session:
        if self._session is None:
            self._session = Session()
        return self._session

    def _duck_path(self, path: Path) -> str:
        """The path DuckDB reads for a file (duck.Session.readable), made once per file."""
        p = self._duck_paths.get(path)
        if p is None:
            p = self._duck_paths[path] = self._session_for().readable(path, self._partitions[path])
        return p

    def _check_files(self) -> list[Checked]:
        """Every file of the window checked (once); the unreadable ones stop the query, or are left
        out with --skip-bad-files. Returns the readable ones."""
        if self._checked is None:
            # new text files are checked by the query that reads them (execute); only their header now
            checked = verify(self.files, self._session_for(), duck_path=self._duck_path, progress=self.progress,
                             defer_text=True)
            bad = self._unreadable + [FileNote(str(c.file.path), c.problem) for c in checked if not c.ok]
            if bad and not self.skip_bad_files:
                more = f" ({len(bad) - 1} more unreadable file(s) or folder(s))" if len(bad) > 1 else ""
                raise DataError(f"{bad[0].path}: {bad[0].reason}; --skip-bad-files leaves such files out{more}")
            self._skipped = bad
            self._checked = [c for c in checked if c.ok]
        return self._checked

    # -- the view ----------------------------------------------------------------------------------

    def _create_views(self, session: Session, files: list[Checked], sql: str, read_as=None) -> None:
        """The view `flow_logs` over `files`, and the functions and inventory tables `sql` names
        (making the others would only add to every query's start-up). `read_as`: the path DuckDB reads
        for some files (stream.url: new files checked as they are read), by path."""
        read_as = read_as or {}

        def path_of(p: Path) -> str:
            return read_as.get(p) or self._duck_path(p)

        named = sql.lower()  # the translation may have upper-cased a function's name
        if "flowsql_" in named or not all(c.canonical for c in files):
            session.run(local_functions_sql())
        for table, cols in TABLES.items():
            if f"inventory_{table}" not in named:
                continue
            ddl = ", ".join(f"{c} {_DUCK_TYPES[t]}" for c, t in cols)
            session.run(f"CREATE OR REPLACE TABLE inventory_{table} ({ddl})")
            rows = self.inventory.table(table)
            if rows:
                # one statement of a list per column, unnested side by side (executemany runs one
                # statement per row: 0.3 ms each, seconds for an account of thousands of ENIs); a text
                # column's value that is no text (an inventory file's number) as text, as a row insert had it
                lists = ", ".join(f"unnest(?::{_DUCK_TYPES[t]}[])" for _, t in cols)
                session.run(f"INSERT INTO inventory_{table} SELECT {lists}",
                            [[r.get(c) for r in rows] if t != "string" else [_text(r.get(c)) for r in rows]
                             for c, t in cols])
        files, tgw_files = tgw.split_by_kind(files)
        if "tgw_flow_logs" in named:
            session.run(tgw.view_sql(tgw_files, path_of, _PARTITION_RE))
        groups: dict[tuple[str, LogFormat, bool], list[str]] = defaultdict(list)
        for c in files:
            groups[(c.file.kind, c.fmt, c.canonical)].append(path_of(c.file.path))
        selects = [view.select(FIELDS, fmt, canonical, view.reader(kind, fmt, paths), _PARTITION_RE)
                   for (kind, fmt, canonical), paths in groups.items()]
        session.run(view.create_view("flow_logs", FIELDS, selects))

    # -- running -----------------------------------------------------------------------------------

    def execute(self, sql: str) -> Result:
        from .translate import to_duckdb

        started = time.perf_counter()
        checked = self._check_files()
        files = self._usable if self._usable is not None else checked
        session = self._session_for()
        pending = [c for c in checked if c.pending]
        streamed, checks = {}, None
        if pending and all(record_checker(c.fmt) is not None for c in pending):  # else neither it nor RE2
            reading = {id(c) for c in files}  # by identity: a dataclass's == compares every field
            streamed = self._streamable([c for c in pending if id(c) in reading])
            # the others are checked beside the query, from now: the translation (sqlglot's import, the
            # first time) and the views are made while they run
            checks = ByteChecks([c for c in pending if c.file.path not in streamed])
        try:
            duck_sql = to_duckdb(sql)
        except BaseException:
            if checks is not None:
                checks.stop()
            raise
        answer = self._one_pass(session, files, duck_sql, pending, streamed, checks) if pending else None
        if answer is None:
            files = self._usable if self._usable is not None else self._checked
            try:
                self._create_views(session, files, duck_sql)
                columns, rows = session.run(duck_sql)
            except duckdb().Error as e:
                raise self._explain(e, files) from None
        else:
            columns, rows = answer
        notes = list(self._notes)
        if not self.files and not self._unreadable:
            what = " ".join(x for x in (", ".join(self.accounts), ", ".join(self.regions)) if x)
            notes.insert(0, f"no log files in {self.source} for {self.window.since} … {self.window.until}"
                         + (f" ({what})" if what else ""))
        return Result(columns, rows, Stats(
            "local",
            elapsed_s=time.perf_counter() - started,
            files_read=len(files),
            bytes_read=sum(_size(c.file.path) for c in files),
            skipped=list(self._skipped),
            left_out=self._ignored + self._left_out,
            notes=notes,
        ))

    def _streamable(self, pending: list[Checked]) -> dict:
        """The new text files the query reads that DuckDB can read through stream.NewFiles, checked as
        they are read (stream.Entry by path); none without fsspec."""
        try:
            from . import stream
        except ImportError:
            return {}
        return stream.plan(pending, self._duck_path)

    def _one_pass(self, session: Session, files: list[Checked], duck_sql: str, pending: list[Checked],
                  streamed: dict, checks: ByteChecks | None):
        """(columns, rows) of the query over `files`, of which the `pending` ones were never checked:
        the `streamed` ones (stream.Entry by path) checked as DuckDB reads them, the others by `checks`
        beside it (integrity.py, "one pass"); None when it cannot be answered so — the pending files
        have then been checked the slow way (verify, which names a bad file: DataError, or left out with
        --skip-bad-files) and the query is to run as usual. No `checks`: google-re2 is missing, the
        slow way at once."""
        answer = None
        if checks is not None:
            registered = False
            try:
                read_as = {}
                if streamed:
                    from . import stream

                    session.con.register_filesystem(stream.NewFiles({stream.url(e.source): e
                                                                     for e in streamed.values()}))
                    registered = True
                    read_as = {p: stream.url(e.source) for p, e in streamed.items()}
                self._create_views(session, files, duck_sql, read_as)
                answer = session.run(duck_sql)
            except duckdb().Error:
                answer = None  # a new file failed a check, or the query is wrong: the slow way says which
            except BaseException:
                checks.stop()
                raise
            finally:
                if registered:
                    with contextlib.suppress(Exception):
                        session.con.unregister_filesystem(stream.PROTOCOL)
            # every streamed file read to its end (a query that stopped early did not check them all)
            if checks.wait() or not unchanged(pending) or not all(e.done for e in streamed.values()):
                answer = None
        if answer is not None:
            remember(pending)
            return answer
        self._check_pending()
        return None

    def _check_pending(self) -> None:
        """The files not yet checked, checked the slow way; bad ones stop the query (or are left out)."""
        pending = [c for c in self._checked if c.pending]
        done = {c.file.path: c for c in verify([c.file for c in pending], self._session_for(),
                                                duck_path=self._duck_path, progress=self.progress)}
        bad = []
        for c in pending:
            d = done[c.file.path]
            c.pending, c.fmt, c.canonical, c.problem = False, d.fmt, d.canonical, d.problem
            if not d.ok:
                bad.append(FileNote(str(c.file.path), d.problem))
        if bad and not self.skip_bad_files:
            more = f" ({len(bad) - 1} more unreadable file(s) or folder(s))" if len(bad) > 1 else ""
            raise DataError(f"{bad[0].path}: {bad[0].reason}; --skip-bad-files leaves such files out{more}")
        self._skipped += bad
        self._checked = [c for c in self._checked if c.ok]
        if self._usable is not None:
            self._usable = [c for c in self._usable if c.ok]

    def files_read(self) -> list[Path]:
        """The files the last query read: checked, and able to answer it (the evidence's inputs)."""
        files = self._usable if self._usable is not None else (self._checked or [])
        return [c.file.path for c in files]

    def _explain(self, e: Exception, files: list[Checked]) -> FlowsqlError:
        """A DuckDB error as one line; one that names a file (changed since it was checked) names
        the user's file, which is checked again next time."""
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        for c in files:
            p = self._duck_path(c.file.path)
            if p in str(e):
                forget(c.file.path)
                return DataError(f"{c.file.path}: could not be read ({excerpt(first.replace(p, '…'), 160)}); "
                                 "it changed since it was checked, run the query again")
        return QueryError(f"local engine: {excerpt(first, 300)[1:-1]}")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
            self._duck_paths = {}


def _text(value):
    return value if value is None or isinstance(value, str) else str(value)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
