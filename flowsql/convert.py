"""`flowsql convert`: a local tree of text flow logs as Parquet, laid out as AWS delivers Parquet.

The output is what a flow log with `FileFormat=parquet` and Hive-compatible prefixes writes:
`OUT/AWSLogs/aws-account-id=A/aws-service=vpcflowlogs/aws-region=R/year=YYYY/month=MM/day=DD/*.parquet`,
the columns of each file its log format's own fields with AWS's Parquet types (INT_32, INT_64,
STRING), Snappy-compressed (the codec every Parquet reader has, and the quickest to read back), so the same table definitions and queries work on it locally and on Athena.

One Parquet file per day and log format, converted from files checked in full first (the local
engine's checks). It is written to a temporary name and renamed into place, so a reader sees the
old file or the new one, never half of one. A record of each converted day's inputs (path, size,
modification time) is kept under `OUT/.flowsql-convert/`: a day whose inputs did not change is
skipped, and an interrupted run resumes where it stopped (a day is recorded only once all its files
are in place).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import DataError, UsageError
from .fields import LogFormat
from .layout import LogFile, awslogs_root, day_prefix, local_files
from .params import Window, today_utc

STATE = ".flowsql-convert"
FIRST_DAY = date(2015, 1, 1)  # flow logs began in 2015


@dataclass
class Converted:
    days_converted: int = 0
    days_skipped: int = 0  # unchanged since the last run
    files_read: int = 0
    records: int = 0
    files_written: list[Path] = field(default_factory=list)
    bad_files: list[tuple[str, str]] = field(default_factory=list)  # left out with skip_bad_files


def _format_id(fmt: LogFormat) -> str:
    return hashlib.sha256(fmt.header().encode()).hexdigest()[:12]


def output_name(account: str, region: str, day: date, fmt: LogFormat) -> str:
    """A stable name per day and format (a new conversion replaces the old file by renaming)."""
    return f"{account}_vpcflowlogs_{region}_flowsql-{_format_id(fmt)}_{day:%Y%m%d}T0000Z_converted.parquet"


def _stamp(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def _check_places(source: Path, out: Path) -> None:
    from .engines.duck import has_glob

    src = awslogs_root(source).resolve()
    o = Path(out).resolve()
    if has_glob(str(o)):
        raise UsageError(f"--out {out}: a folder whose path holds *, ? or [ (DuckDB would read it as a pattern)")
    if o == src.parent or src in o.parents or o in src.parents or o == src:
        raise UsageError(f"--out {out} overlaps --source {source}: write the Parquet tree to a folder of its own "
                         "(a tree holding both would count every record twice)")


def convert(source: Path, out: Path, *, window: Window | None = None, accounts=(), regions=(),
            skip_bad_files: bool = False, progress=None) -> Converted:
    """Convert the text files of `source` (in `window`, all days by default) into `out`.
    `progress(done, total, what)` is called per day."""
    from .engines.duck import Session
    from .engines.integrity import sql_path, verify
    from .files import write_atomic

    _check_places(source, out)
    window = window or Window(FIRST_DAY, today_utc())
    listing = local_files(source, window.since, window.until, accounts, regions)
    if listing.unreadable and not skip_bad_files:
        path, reason = listing.unreadable[0]
        raise DataError(f"{path}: {reason}; --skip-bad-files leaves such folders out")
    days: dict[tuple, list[LogFile]] = defaultdict(list)
    for f in listing.files:
        if f.kind == "text":
            days[(f.partition.account, f.partition.region, f.partition.day)].append(f)
    out = Path(out)
    result = Converted(bad_files=[(str(p), r) for p, r in listing.unreadable])
    state = out / STATE
    todo = []
    for key, files in sorted(days.items()):
        record = state / key[0] / key[1] / f"{key[2].isoformat()}.json"
        inputs = sorted(_stamp(f.path) for f in files)
        try:
            done = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            done = None
        if isinstance(done, dict) and done.get("inputs") == inputs and all(
                (out / p).is_file() for p in done.get("outputs", [])):
            result.days_skipped += 1
            continue
        todo.append((key, files, record, inputs, done))
    if not todo:
        return result
    session = Session()
    try:
        # A day's records have no order worth keeping (AWS's own files interleave interfaces);
        # letting DuckDB write row groups as its threads finish them makes the writing parallel.
        session.run("SET preserve_insertion_order = false")
        todo_files = [f for _, files, _, _, _ in todo for f in files]
        part = {f.path: f.partition for f in todo_files}
        duck = {}

        def duck_path(path: Path) -> str:
            if path not in duck:
                duck[path] = session.readable(path, part[path])
            return duck[path]

        checked = verify(todo_files, session, duck_path=duck_path)
        bad = {c.file.path: c.problem for c in checked if not c.ok}
        if bad and not skip_bad_files:
            path, reason = next(iter(bad.items()))
            raise DataError(f"{path}: {reason}; --skip-bad-files leaves such files out")
        result.bad_files += [(str(p), r) for p, r in bad.items()]
        fmt_of = {c.file.path: c.fmt for c in checked if c.ok}
        for i, ((account, region, day), files, record, inputs, done) in enumerate(todo, 1):
            if progress:
                progress(i - 1, len(todo), f"{account} {region} {day}")
            folder = out / day_prefix(account, region, day, hive=True)
            folder.mkdir(parents=True, exist_ok=True)
            groups: dict[LogFormat, list[Path]] = defaultdict(list)
            for f in files:
                if f.path in fmt_of:
                    groups[fmt_of[f.path]].append(f.path)
            outputs = []
            for fmt, paths in sorted(groups.items(), key=lambda g: g[0].header()):
                target = folder / output_name(account, region, day, fmt)
                tmp = folder / f".{target.name}.{os.getpid()}.tmp"
                cols = ", ".join(f"'{f.column}': '{f.duckdb_type}'" for f in fmt.fields)
                listed = ", ".join(sql_path(duck_path(p)) for p in paths)
                select = ", ".join(f'"{c}"' for c in fmt.columns)
                try:
                    _, rows = session.run(
                        f"COPY (SELECT {select} FROM read_csv([{listed}], delim=' ', header=true, nullstr='-', "
                        f"quote='', escape='', auto_detect=false, compression='auto', columns={{{cols}}})) "
                        f"TO {sql_path(str(tmp))} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)")
                    os.replace(tmp, target)
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
                result.records += rows[0][0] if rows and rows[0] else 0
                result.files_read += len(paths)
                outputs.append(target.relative_to(out).as_posix())
                result.files_written.append(target)
            # a format that this day no longer has: its old file goes, after the new ones are in place
            for old in (done or {}).get("outputs", []):
                if old not in outputs:
                    (out / old).unlink(missing_ok=True)
            record.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(record, json.dumps({"inputs": inputs, "outputs": outputs}))
            result.days_converted += 1
        if progress:
            progress(len(todo), len(todo), "done")
    finally:
        session.close()
    return result
