"""`flowsql convert`: a local tree of text flow logs as Parquet, laid out as AWS delivers Parquet.

The output is what a flow log with `FileFormat=parquet` and Hive-compatible prefixes writes:
`OUT/AWSLogs/aws-account-id=A/aws-service=vpcflowlogs/aws-region=R/year=YYYY/month=MM/day=DD/*.parquet`,
the columns of each file its log format's own fields with AWS's Parquet types (INT_32, INT_64,
STRING), Snappy-compressed (the codec every Parquet reader has, and the quickest to read back), so the same table definitions and queries work on it locally and on Athena.

One Parquet file per day and log format, converted from files checked in full first (the local
engine's checks), its records ordered by (srcaddr, dstaddr) where the format has them. It is
written to a temporary name and renamed into place, so a reader sees the old file or the new one,
never half of one. A record of each converted day's inputs (path, size,
modification time) is kept under `OUT/.flowsql-convert/`: a day whose inputs did not change is
skipped, and an interrupted run resumes where it stopped (a day is recorded only once all its files
are in place).

A day's Parquet is replaced only by one that covers at least the files it was made from: when a
file of an already converted day has become unreadable (a truncated re-sync, with
--skip-bad-files) or is gone, the day keeps its old Parquet and is named in `Converted.kept`.
Deleting the day's Parquet lets the next run convert it from what is left. A day whose files are
all gone keeps its Parquet in silence (converted text may be pruned).

Everything under OUT is written and removed through files.Tree: a link in OUT is never followed,
and one where convert writes or removes a file is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ...errors import DataError, UsageError
from ...logs.fields import LogFormat
from ...logs.layout import LogFile, awslogs_root, day_prefix, local_files
from ...logs.window import Window, today_utc

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
    # days whose old Parquet was kept: (account, region, day, [files it covers that are now
    # unreadable or gone])
    kept: list[tuple[str, str, date, list[str]]] = field(default_factory=list)


def _format_id(fmt: LogFormat) -> str:
    return hashlib.sha256(fmt.header().encode()).hexdigest()[:12]


def output_name(account: str, region: str, day: date, fmt: LogFormat) -> str:
    """A stable name per day and format (a new conversion replaces the old file by renaming)."""
    return f"{account}_vpcflowlogs_{region}_flowsql-{_format_id(fmt)}_{day:%Y%m%d}T0000Z_converted.parquet"


def _stamp(path: Path) -> list:
    """A source file's state: a rewrite keeping its size and mtime still changes its change time."""
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


def _read_record(tree, record: str) -> dict | None:
    """A day's record of its last conversion, or None when there is none or it is not one flowsql
    wrote: a regular file whose outputs are plain relative paths under AWSLogs/ (a record is never
    trusted to name what to delete elsewhere). `covered` (the files its Parquet was made from) is
    filled in for a record written before it was kept: all its inputs."""
    from ...files import is_plain_relative_path, loads_json, read_regular_text

    if not tree.is_file(record):
        return None
    try:
        done = loads_json(read_regular_text(tree.path(record)))
    except (OSError, ValueError):
        return None
    if not isinstance(done, dict) or not isinstance(done.get("inputs"), list):
        return None
    outputs = done.get("outputs")
    if not isinstance(outputs, list) or not all(
            is_plain_relative_path(o) and o.startswith("AWSLogs/") for o in outputs):
        return None
    covered = done.get("covered")
    if not (isinstance(covered, list) and all(isinstance(c, str) for c in covered)):
        covered = [i[0] for i in done["inputs"] if isinstance(i, list) and i and isinstance(i[0], str)]
    done["covered"] = covered
    return done


def _check_places(source: Path, out: Path) -> None:
    from .duck import has_glob

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
    `progress(done, total, what)` is called at the start and as each day is done."""
    from .duck import Session
    from .integrity import verify
    from ...files import Tree

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
    tree = Tree(out)
    result = Converted(bad_files=[(str(p), r) for p, r in listing.unreadable])
    todo = []
    for key, files in sorted(days.items()):
        record = f"{STATE}/{key[0]}/{key[1]}/{key[2].isoformat()}.json"
        inputs = sorted(_stamp(f.path) for f in files)
        done = _read_record(tree, record)
        if done is not None and not all(tree.is_file(p) for p in done["outputs"]):
            done["covered"] = []  # its Parquet is gone (deleted to start the day again): nothing to keep
        elif done is not None and done["inputs"] == inputs:
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
        jobs = []
        for key, files, record, inputs, done in todo:
            good = [f for f in files if f.path in fmt_of]
            covered = sorted(_stamp(f.path)[0] for f in good)
            lost = sorted(set(done["covered"]) - set(covered)) if done else []
            if lost:  # the new Parquet would hold less than the old one: the old one stays
                result.kept.append((*key, lost))
                continue
            groups: dict[LogFormat, list[str]] = defaultdict(list)
            for f in good:
                groups[fmt_of[f.path]].append(duck_path(f.path))
            jobs.append(_Day(key, sorted(groups.items(), key=lambda g: g[0].header()), record, inputs, done,
                             len(good), covered))
        if jobs:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise DataError(f"cannot write {out}: {e.strerror or e}") from None
            _convert_days(session, jobs, tree, result, progress)
    finally:
        session.close()
    return result


@dataclass
class _Day:
    key: tuple  # (account, region, day)
    groups: list  # [(LogFormat, [path DuckDB reads])], one Parquet file each
    record: str  # relative to OUT
    inputs: list
    done: dict | None  # the record of the last conversion of this day
    files: int
    covered: list  # the files the day's Parquet is made from


# A day's records ordered by conversation: the aggregations the pack runs most group by source,
# destination or both, and DuckDB's hash tables hit the same entries in a row (25-40 % off every
# bench query on Parquet); the order is no part of a file's meaning, every query orders its output.
SORT_COLUMNS = ("srcaddr", "dstaddr")


def _sort_key(fmt: LogFormat) -> str:
    """The ORDER BY of a day's COPY: the conversation columns the format has (none: as read)."""
    cols = [f'"{c}"' for c in SORT_COLUMNS if c in fmt.columns]
    return f" ORDER BY {', '.join(cols)}" if cols else ""


class _Stopped(Exception):
    """A worker told to stop before its next statement (the run was interrupted or failed)."""


def _convert_days(session, jobs: list[_Day], tree, result: Converted, progress) -> None:
    """Convert the days side by side, one DuckDB thread each: a day's few files give one statement
    little to share between threads, and two days at once convert 1.6× faster on two cores. Each
    day is complete (all its files renamed into place, then its record written) or absent; Ctrl-C or
    a failure stops every day under way and removes their temporary files."""
    import threading
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from .duck import duckdb
    from .integrity import sql_path
    from ...files import Refused, dumps_json, signals_held

    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    if workers > 1:
        session.run("SET threads = 1")
    stop = threading.Event()
    lock = threading.Lock()
    running: list = []  # the cursors of the days under way, to interrupt them

    def convert_day(job: _Day) -> tuple[int, list[Path]]:
        account, region, day = job.key
        folder = day_prefix(account, region, day, hive=True).strip("/")
        cur = session.con.cursor()
        with lock:
            running.append(cur)
        records, staged = 0, []  # (temporary, final) of each of the day's files, relative to OUT
        try:
            tree.mkdirs(folder)  # refuses a link on the way: DuckDB then writes inside OUT
            _remove_stale_temporaries(tree, folder)
            # every file of the day is written first, then all are renamed into place and the day
            # recorded: a day is complete or as it was, never half of one (a day of two formats)
            for fmt, paths in job.groups:
                if stop.is_set():
                    raise _Stopped()
                target = f"{folder}/{output_name(account, region, day, fmt)}"
                tmp = f"{folder}/.{output_name(account, region, day, fmt)}.{os.getpid()}.tmp"
                staged.append((tmp, target))
                cols = ", ".join(f"'{f.column}': '{f.duckdb_type}'" for f in fmt.fields)
                listed = ", ".join(sql_path(p) for p in paths)
                select = ", ".join(f'"{c}"' for c in fmt.columns)
                order = _sort_key(fmt)
                try:
                    rows = cur.execute(
                        f"COPY (SELECT {select} FROM read_csv([{listed}], delim=' ', header=true, nullstr='-', "
                        f"quote='', escape='', auto_detect=false, compression='auto', columns={{{cols}}}){order}) "
                        f"TO {sql_path(str(tree.path(tmp)))} (FORMAT parquet, COMPRESSION snappy, "
                        "ROW_GROUP_SIZE 122880)"
                    ).fetchall()
                except duckdb().Error as e:
                    if stop.is_set():
                        raise _Stopped() from None
                    raise DataError(f"{account} {region} {day}: could not be converted "
                                    f"({_cause(e, tree.path(tmp))})") from None
                records += rows[0][0] if rows and rows[0] else 0
            if stop.is_set():
                raise _Stopped()
            for tmp, target in staged:
                tree.rename(tmp, target)
            outputs = [target for _, target in staged]
            # a format that this day no longer has: its old file goes, after the new ones are in place
            for old in (job.done or {}).get("outputs", []):
                if old not in outputs:
                    tree.remove(old)
            tree.write(job.record, dumps_json({"inputs": job.inputs, "outputs": outputs, "covered": job.covered},
                                              what=str(tree.path(job.record))))
            return records, [tree.path(t) for t in outputs]
        except Refused as e:
            raise UsageError(f"{account} {region} {day}: {e.strerror}") from None
        except OSError as e:
            raise DataError(f"{account} {region} {day}: cannot write {e.filename or tree.path(folder)}: "
                            f"{e.strerror or e}") from None
        finally:
            with lock:
                running.remove(cur)
            cur.close()  # first: DuckDB is done with a file it was writing once its cursor is closed
            for tmp, _ in staged:
                with contextlib.suppress(OSError):
                    tree.remove(tmp)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowsql-convert")
    futures: dict = {}
    try:
        # A signal while the jobs are handed out would otherwise leave a day under way that the
        # stopping below does not know of (its temporary file outlived the run, on a loaded machine).
        with signals_held():
            futures.update({pool.submit(convert_day, job): job for job in jobs})
        if progress:
            progress(0, len(jobs), "")
        pending = set(futures)
        while pending:  # in slices, so that Ctrl-C reaches this thread at once
            finished, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in finished:
                records, written = f.result()
                job = futures[f]
                result.records += records
                result.files_read += job.files
                result.files_written += written
                result.days_converted += 1
                if progress:
                    progress(result.days_converted, len(jobs), " ".join(map(str, job.key)))
    except BaseException:
        stop.set()
        for f in futures:
            f.cancel()
        while any(not f.done() for f in futures):
            with lock:
                for cur in running:
                    cur.interrupt()
            wait([f for f in futures if not f.done()], timeout=0.05)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _cause(error: Exception, tmp: Path) -> str:
    """DuckDB's reason in one short line: its message names the temporary file in full, which would
    push the cause (No space left on device, Permission denied) out of an excerpt."""
    from .integrity import excerpt

    text = " ".join(str(error).split()) or type(error).__name__
    return excerpt(text.replace(str(tmp), tmp.name), 300)[1:-1]


def _remove_stale_temporaries(tree, folder: str) -> None:
    """Temporary files of a conversion killed before it could remove them (named with its pid)."""
    import fnmatch

    from ...files import alive

    for name, kind in tree.entries(folder):
        if kind != "file" or not fnmatch.fnmatchcase(name, ".*_converted.parquet.*.tmp"):
            continue
        pid = name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and not alive(int(pid)):
            with contextlib.suppress(OSError):
                tree.remove(f"{folder}/{name}")
