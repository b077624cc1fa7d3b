"""The local engine: DuckDB over an `AWSLogs/` tree on disk, in UTC, with no network.

Only the files whose path day, account and region fall in the request are read. Files of one tree
may have different log formats; each file is read by its own header line, and the view `flow_logs`
has every field of versions 2-8 (NULL where a file's format lacks it) plus the partition columns.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from collections import defaultdict
from pathlib import Path

from ..errors import DataError, FormatError, QueryError
from ..fields import FIELDS, LogFormat, parse_header
from ..inventory import TABLES, Inventory
from ..layout import LogFile, local_files
from ..resources import local_functions_sql
from ..params import Window
from . import ALL_COLUMNS, FileNote, Result, Stats, Target

_DUCK_TYPES = {"string": "VARCHAR", "boolean": "BOOLEAN", "int": "INTEGER", "bigint": "BIGINT"}
# DuckDB reads the files through links in a private folder laid out as {account}/{region}/{yyyy}/
# {MM}/{dd}/{n}.log.gz: its paths then hold no glob characters ([ ] * ? in a user's folder name would
# make DuckDB read other files), and each row's partition is read back from a path flowsql wrote.
_LINK_RE = r"/([0-9]{12})/([a-z0-9-]+)/([0-9]{4})/([0-9]{2})/([0-9]{2})/[0-9]+[.][a-z.]+$"


def read_header(path: Path) -> LogFormat:
    """The log format a file's first line names; DataError names the file if it can't be read."""
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="ascii", newline="") as fh:
            line = fh.readline()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not a readable gzip flow-log file ({e})") from None
    if not line.strip():
        raise DataError(f"{path}: empty file, no header line")
    try:
        return parse_header(line)
    except FormatError as e:
        raise DataError(f"{path}: {e}") from None


class LocalEngine:
    name = "local"

    def __init__(self, source: Path, window: Window, *, inventory: Inventory | None = None,
                 accounts=(), regions=(), skip_bad_files: bool = False):
        self.source = Path(source)
        self.window = window
        self.inventory = inventory or Inventory()
        self.accounts = tuple(accounts or ())
        self.regions = tuple(regions or ())
        self.skip_bad_files = skip_bad_files
        self.skipped: list[str] = []  # "path: reason" for files left out
        self.files: list[LogFile] = local_files(self.source, window.since, window.until,
                                                self.accounts, self.regions)
        self._con = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._original: dict[str, Path] = {}  # link DuckDB reads -> the user's file
        self._formats: dict[Path, LogFormat] = {}  # header of each file, read once across retries

    def target(self) -> Target:
        return Target("local", flow_logs="flow_logs", columns=ALL_COLUMNS)

    # -- setting up the connection -------------------------------------------------------------

    def _connect(self):
        import duckdb

        # Private extension, secret and spill folders: nothing written to the user's home or working
        # folder, nothing downloaded.
        config = {
            "extension_directory": self._tmp.name,
            "secret_directory": self._tmp.name,
            "temp_directory": os.path.join(self._tmp.name, "spill"),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        con = duckdb.connect(":memory:", config=config)
        con.execute("SET TimeZone = 'UTC'")
        # flowsql_cidr_contains and friends: pure SQL, so no UDF runtime (numpy) and no extension.
        con.execute(local_functions_sql())
        self._create_inventory(con)
        return con

    def _create_inventory(self, con) -> None:
        for table, cols in TABLES.items():
            ddl = ", ".join(f"{c} {_DUCK_TYPES[t]}" for c, t in cols)
            con.execute(f"CREATE TABLE inventory_{table} ({ddl})")
            rows = [tuple(r.get(c) for c, _ in cols) for r in self.inventory.table(table)]
            if rows:
                marks = ", ".join("?" for _ in cols)
                con.executemany(f"INSERT INTO inventory_{table} VALUES ({marks})", rows)

    def _skip(self, path: Path, reason: str) -> None:
        """Leave a file out of this query, or stop with an error naming it."""
        if not self.skip_bad_files:
            raise DataError(f"{path}: {reason}; --skip-bad-files leaves such files out")
        self.skipped.append(f"{path}: {reason}")
        self.files = [f for f in self.files if f.path != path]

    def _groups(self) -> dict[LogFormat, list[str]]:
        """The files by log format (each read by its own header), as links DuckDB may read."""
        groups: dict[LogFormat, list[str]] = defaultdict(list)
        self._original = {}
        for i, f in enumerate(list(self.files)):
            try:
                if f.path not in self._formats:
                    self._formats[f.path] = read_header(f.path)
            except DataError as e:
                self._skip(f.path, str(e).removeprefix(f"{f.path}: "))
                continue
            p = f.partition
            folder = Path(self._tmp.name, "links", p.account, p.region, p.day.strftime("%Y/%m/%d"))
            folder.mkdir(parents=True, exist_ok=True)
            link = folder / f"{i}.{'log.gz' if f.path.name.endswith('.gz') else 'log'}"
            link.symlink_to(f.path.resolve())
            self._original[str(link)] = f.path
            groups[self._formats[f.path]].append(str(link))
        return groups

    def _create_view(self, con, groups) -> None:
        selects = []
        for fmt, links in groups.items():
            cols = ", ".join(f"'{f.column}': '{f.duckdb_type}'" for f in fmt.fields)
            files = ", ".join("'" + link.replace("'", "''") + "'" for link in links)
            present = set(fmt.columns)
            projection = ", ".join(
                (f'"{f.column}"' if f.column in present else f'CAST(NULL AS {f.duckdb_type}) AS "{f.column}"')
                for f in FIELDS
            )
            selects.append(
                f"SELECT {projection}, p.a AS aws_account_id, p.r AS aws_region, "
                f"p.y || '/' || p.m || '/' || p.d AS day FROM ("
                f"SELECT *, regexp_extract(filename, '{_LINK_RE}', ['a', 'r', 'y', 'm', 'd']) AS p "
                f"FROM read_csv([{files}], "
                f"delim=' ', header=true, nullstr='-', quote='', escape='', auto_detect=false, "
                f"compression='auto', filename=true, columns={{{cols}}}))"
            )
        if not selects:
            empty = ", ".join(f'CAST(NULL AS {f.duckdb_type}) AS "{f.column}"' for f in FIELDS)
            selects.append(f"SELECT {empty}, CAST(NULL AS VARCHAR) AS aws_account_id, "
                           f"CAST(NULL AS VARCHAR) AS aws_region, CAST(NULL AS VARCHAR) AS day WHERE false")
        con.execute("CREATE OR REPLACE VIEW flow_logs AS " + "\nUNION ALL\n".join(selects))

    # -- running -------------------------------------------------------------------------------

    def execute(self, sql: str) -> Result:
        import duckdb
        import sqlglot

        duck_sql = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
        while True:
            try:
                if self._con is None:
                    self._tmp = tempfile.TemporaryDirectory(prefix="flowsql-duckdb-")
                    self._con = self._connect()
                    self._create_view(self._con, self._groups())
                cur = self._con.execute(duck_sql)
                rows = cur.fetchall()
                columns = [d[0] for d in cur.description]
                break
            except duckdb.Error as e:
                first = str(e).splitlines()[0]
                link, bad = next(((k, v) for k, v in self._original.items() if k in str(e)), (None, None))
                if link is not None:  # say the user's file, not flowsql's private link to it
                    first = first.replace(link, str(bad))
                self.close()
                if bad is None:
                    raise QueryError(f"local engine: {first}") from None
                # A file DuckDB could not read: stop, or leave it out and run again over the rest.
                self._skip(bad, f"corrupt or malformed flow-log file ({first[:160]})")
        return Result(columns, rows, Stats(
            "local",
            files_read=len(self.files),
            skipped=[FileNote(*s.split(": ", 1)) for s in self.skipped],
            bytes_read=sum(f.path.stat().st_size for f in self.files),
        ))

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
