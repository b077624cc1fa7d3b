"""`flowsql pull`: the window's flow logs from S3 or CloudWatch Logs into a local `AWSLogs/` tree that
every local command reads.

`pull()` resolves the sources (a bucket, a log group, or every flow log of the account), then pulls
each into the output folder with a pool of threads, and returns a `Summary` of what it fetched,
skipped, left out and could not fetch. It prints nothing: `progress` (called from the caller's
thread, a few times a second) is how a caller shows the work. A KeyboardInterrupt (Ctrl-C, or the
CLI's SIGTERM) stops the workers, removes the files being written — only whole files are ever
left — saves the record of what was fetched, and is raised again: the same pull then resumes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from . import cloudwatch as cw
from . import s3 as s3mod
from .filters import EventFilter
from .record import Record
from .sources import discover_sources, parse_bucket
from .tree import Tree, sync_folder
from .window import Scope

S3_JOBS = 10  # the AWS CLI's default max_concurrent_requests
LOGS_JOBS = 4  # FilterLogEvents is throttled per account and region: more threads only wait
SAVE_EVERY_S = 10.0  # the record is saved this often during a long pull (and at the end, and on a stop)


@dataclass
class Progress:
    source: str
    phase: str  # "listing", "fetching", "done"
    done: int = 0  # objects (S3) or units (CloudWatch Logs) finished
    total: int = 0
    fetched: int = 0
    skipped: int = 0
    failed: int = 0
    bytes: int = 0
    events: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-6)

    @property
    def bytes_per_s(self) -> float:
        return self.bytes / self.elapsed

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed


@dataclass
class SourceResult:
    """What one source gave: counts, what was left out and why, what failed and why."""

    label: str
    kind: str  # "s3" or "logs"
    listed: int = 0  # S3: objects of the window; CloudWatch Logs: days × stream batches
    fetched: int = 0  # S3: objects written; CloudWatch Logs: day files written
    skipped: int = 0  # already there and unchanged
    bytes: int = 0
    events: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, why): not written
    refused: list[tuple[str, str]] = field(default_factory=list)  # keys never written (unsafe paths)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # objects that are no flow-log file
    left_out_events: int = 0  # CloudWatch Logs events that are no record of the format
    left_out_examples: list[str] = field(default_factory=list)
    verified: Counter = field(default_factory=Counter)  # S3: how objects were verified (crc32, md5, size…)
    unusable: set = field(default_factory=set)  # S3 checksums that could not be recomputed here
    files: list[str] = field(default_factory=list)  # written, relative to the output folder
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    listing_seconds: float = 0.0  # S3: listing the window; CloudWatch Logs: the group and its streams
    missing: bool = False  # the log group does not exist in that region

    @property
    def nothing(self) -> bool:
        return self.listed == 0 if self.kind == "s3" else (self.events == 0 and self.skipped == 0)

    def to_dict(self) -> dict:
        return {"source": self.label, "kind": self.kind, "listed": self.listed, "fetched": self.fetched,
                "skipped": self.skipped, "bytes": self.bytes, "events": self.events,
                "failed": [{"what": w, "why": y} for w, y in self.failed],
                "refused": [{"key": k, "why": y} for k, y in self.refused],
                "ignored": [{"key": k, "why": y} for k, y in self.ignored],
                "left_out_events": self.left_out_events, "verified": dict(sorted(self.verified.items())),
                "notes": self.notes, "seconds": round(self.seconds, 3),
                "listing_seconds": round(self.listing_seconds, 3)}


@dataclass
class Summary:
    out: Path
    scope: Scope
    sources: list[SourceResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [f for s in self.sources for f in s.failed] + [(k, y) for s in self.sources for k, y in s.refused]

    @property
    def nothing(self) -> bool:
        return all(s.nothing for s in self.sources) and not self.failed

    def to_dict(self) -> dict:
        w = self.scope.window
        return {"out": str(self.out), "since": w.since.isoformat(), "until": w.until.isoformat(),
                "accounts": list(self.scope.accounts), "regions": list(self.scope.regions),
                "sources": [s.to_dict() for s in self.sources], "notes": self.notes,
                "failed": len(self.failed), "nothing": self.nothing, "seconds": round(self.seconds, 3)}


def pull(aws, out: Path, scope: Scope, *, bucket: str | None = None, log_group: str | None = None,
         log_format: str | None = None, event_filter: EventFilter | None = None, jobs: int | None = None,
         progress: Callable[[Progress], None] | None = None) -> Summary:
    """Pull the window's flow logs into `out` (see the module's docstring). UsageError for bad input
    (a malformed bucket or log group name, an unknown log group, a missing bucket, narrowing that the
    source cannot take); AwsError when AWS refuses the listing; failures of single objects or days are
    in the summary (`failed`), the rest is written."""
    event_filter = event_filter or EventFilter()
    if bucket and log_group:
        raise UsageError("pass --bucket or --log-group, not both")
    if jobs is not None and not 1 <= jobs <= 64:
        raise UsageError("--jobs: from 1 to 64")
    if bucket is not None:
        if event_filter:
            raise UsageError("--filter-address/--filter-port narrow a CloudWatch Logs pull; S3 objects are copied whole")
        if log_format:
            raise UsageError("--log-format is for --log-group: an S3 object names its own fields")
        sources, notes = [parse_bucket(bucket)], []
    elif log_group is not None:
        name, arn_region = cw.parse_log_group(log_group)
        if arn_region and scope.regions and arn_region not in scope.regions:
            raise UsageError(f"--log-group {log_group} is in {arn_region}, not in --region {', '.join(scope.regions)}")
        regions = [arn_region] if arn_region else list(scope.regions or (aws.region,))
        sources, notes = [cw.LogGroupSource(name, r) for r in regions], []
    else:
        if log_format:
            raise UsageError("--log-format is for --log-group")
        sources, notes = discover_sources(aws, list(scope.regions or (aws.region,)), scope.accounts)

    started = time.monotonic()
    tree = Tree(out)
    summary = Summary(Path(out), scope, notes=list(notes))
    record = None
    try:
        tree.lock()
        record = Record.load(tree)
        if record.note:
            summary.notes.append(record.note)
        run = _Run(tree, record, progress)
        claimed: dict[str, str] = {}
        for src in sources:
            if isinstance(src, s3mod.S3Source):
                summary.sources.append(run.s3(aws, src, scope, jobs or S3_JOBS, claimed))
            else:
                summary.sources.append(run.logs(aws, src, scope, event_filter, log_format, jobs or LOGS_JOBS,
                                                missing_ok=len(sources) > 1))
        if log_group is not None and all(s.missing for s in summary.sources):
            raise UsageError(f"log group {sources[0].name} does not exist in "
                             f"{', '.join(s.region for s in sources)}")
    finally:
        try:
            if record is not None:
                record.save(tree)
        finally:
            tree.close()
    summary.seconds = time.monotonic() - started
    return summary


class _Run:
    """One pull's stop, progress and record saving; a thread pool per source, for its listing and transfers."""

    def __init__(self, tree: Tree, record: Record, progress):
        self.tree, self.record, self.progress_cb = tree, record, progress
        self.stop = threading.Event()
        self.bodies = s3mod.Bodies()
        self.lock = threading.Lock()
        self.p: Progress | None = None
        self.last_tick = self.last_save = time.monotonic()

    # -- shared machinery --------------------------------------------------------------------------

    def _tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if now - self.last_save >= SAVE_EVERY_S:
            self.record.save(self.tree)
            self.last_save = now
        if self.progress_cb and self.p and (force or now - self.last_tick >= 0.25):
            self.last_tick = now
            with self.lock:
                snapshot = Progress(**{k: getattr(self.p, k) for k in Progress.__dataclass_fields__})
            self.progress_cb(snapshot)

    def _count(self, **add) -> None:
        with self.lock:
            for k, v in add.items():
                setattr(self.p, k, getattr(self.p, k) + v)

    def _drain(self, pool: ThreadPoolExecutor, futures: dict, on_done) -> None:
        """Wait for every future, handing each finished one to `on_done` (in this thread); a stop
        (KeyboardInterrupt here) ends the workers, removes what they were writing, and is raised."""
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for f in done:
                    on_done(futures[f], f.result())
                self._tick()
        except BaseException:
            self._halt(pool, pending)
            raise

    def _halt(self, pool: ThreadPoolExecutor, pending) -> None:
        self.stop.set()
        self.bodies.close_all()
        for f in pending:
            f.cancel()
        wait(pending, timeout=3)  # reads end at once (their bodies are closed); a call waiting for an answer may not
        self.tree.remove_temporaries()
        pool.shutdown(wait=False, cancel_futures=True)

    def _pool(self, jobs: int) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="flowsql-pull")

    # -- S3 ------------------------------------------------------------------------------------------

    def s3(self, aws, source: s3mod.S3Source, scope: Scope, jobs: int, claimed: dict) -> SourceResult:
        result = SourceResult(source.label, "s3")
        t0 = time.monotonic()
        self.p = Progress(source.label, "listing")
        self._tick(force=True)
        client = s3mod.make_client(aws, None, jobs)
        pool = self._pool(jobs)
        try:
            try:
                listing = s3mod.list_window(client, source, scope, pool, self.stop)
            except BaseException:
                self._halt(pool, set())
                raise
            result.listing_seconds = time.monotonic() - t0
            result.listed = len(listing.objects)
            result.refused = listing.refused
            result.ignored = listing.ignored
            self.p = Progress(source.label, "fetching", total=len(listing.objects), started=self.p.started)
            fetch, maybe = [], []
            for obj in listing.objects:
                other = claimed.get(obj.rel)
                if other is not None and other != source.label:
                    result.refused.append((f"s3://{source.bucket}/{obj.key}", f"its path {obj.rel} is also a key of "
                                           f"{other}: written once, from there"))
                    continue
                claimed[obj.rel] = source.label
                skip, adoptable = s3mod.is_current(self.tree, self.record, source, obj)
                if skip:
                    result.skipped += 1
                elif adoptable:
                    maybe.append(obj)
                else:
                    fetch.append(obj)
            self._count(skipped=result.skipped, done=result.skipped)

            def adopted(obj, kept):
                if kept:
                    result.skipped += 1
                    self._count(skipped=1, done=1)
                else:
                    fetch.append(obj)

            self._drain(pool, {pool.submit(s3mod.adopt, self.tree, self.record, source, o, self.stop): o
                               for o in maybe}, adopted)
            written_folders: set[str] = set()

            def fetched(obj, r: s3mod.Fetched):
                if r.problem:
                    result.failed.append((f"s3://{source.bucket}/{obj.key}", r.problem))
                    self._count(failed=1, done=1)
                    return
                result.fetched += 1
                result.bytes += r.size
                result.verified[r.method] += 1
                result.unusable.update(r.unusable)
                result.files.append(obj.rel)
                written_folders.add(s3mod.split_rel(obj.rel)[0])
                self._count(fetched=1, done=1)

            def on_bytes(n):
                self._count(bytes=n)

            self._drain(pool, {pool.submit(s3mod.fetch, client, self.tree, self.record, source, o, stop=self.stop,
                                           bodies=self.bodies, on_bytes=on_bytes): o for o in fetch}, fetched)
            for folder in sorted(written_folders):
                with self.tree.folder(folder, create=False) as fd:
                    if fd is not None:
                        sync_folder(fd)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if result.verified.get("size"):
            why = (f"S3 gave only checksums this Python cannot compute ({', '.join(sorted(result.unusable))}; "
                   "`pip install awscrt` adds CRC32C and CRC64NVME)" if result.unusable else "S3 gave no checksum")
            result.notes.append(f"{result.verified['size']} object(s) verified by their size only: {why}, and their "
                                "ETag is no MD5 (multipart or SSE-KMS)")
        result.seconds = time.monotonic() - t0
        self.p.phase = "done"
        self._tick(force=True)
        return result

    # -- CloudWatch Logs ---------------------------------------------------------------------------

    def logs(self, aws, source: cw.LogGroupSource, scope: Scope, event_filter: EventFilter, log_format: str | None,
             jobs: int, *, missing_ok: bool) -> SourceResult:
        result = SourceResult(source.label, "logs")
        t0 = time.monotonic()
        self.p = Progress(source.label, "listing")
        self._tick(force=True)
        client = cw.make_client(aws, source.region, jobs)
        try:
            group = cw.resolve_group(aws, client, source, log_format=log_format)
        except UsageError as e:
            if missing_ok and "does not exist" in str(e):
                result.notes.append(str(e))
                result.missing = True
                return result
            raise
        result.label = f"log group {group.name} ({group.region}, account {group.account})"
        result.notes.extend(group.notes)
        if not scope.wants_account(group.account):
            result.notes.append(f"log group {group.name} belongs to account {group.account}, not to --account "
                                f"{', '.join(scope.accounts)}: nothing pulled")
            return result
        event_filter.check_format(group.log_format, f"log group {group.name}")
        puller = cw.Puller(client, self.tree, self.record, group, scope, event_filter, stop=self.stop,
                           on_events=lambda n, b: self._count(events=n, bytes=b))
        puller.check_record()
        if event_filter:
            pushed = puller.patterns if puller.patterns != [None] else []
            result.notes.append(f"narrowed to {event_filter.describe()}: " + (
                f"asked of the service with {len(pushed)} filter pattern(s) ({pushed[0]}{' …' if len(pushed) > 1 else ''})"
                if pushed else "applied here only (no filter pattern can say it)") + ", and checked again here")
        streams = cw.list_streams(client, group, scope)
        work = cw.plan_batches(streams, scope.days(), jobs)
        result.listing_seconds = time.monotonic() - t0
        result.listed = sum(len(b) for b in work.values())
        if not work:
            result.notes.append(f"log group {group.name} has no log stream with events in the window")
        self.p = Progress(result.label, "fetching", total=result.listed, started=self.p.started)
        pool = self._pool(jobs)
        by_day: dict = {d: [] for d in work}
        failed_days: dict = {}

        def unit_done(key, r: cw.UnitResult):
            day, index = key
            by_day[day].append((index, r))
            result.left_out_events += r.left_out_count
            result.left_out_examples.extend(r.left_out[:3 - len(result.left_out_examples)])
            if r.problem:
                failed_days.setdefault(day, r.problem)
            self._count(done=1)
            if len(by_day[day]) < len(work[day]):
                return
            units = [x for _, x in sorted(by_day[day], key=lambda t: t[0])]  # in batch order: the same bytes each time
            if day in failed_days:
                for x in units:
                    if x.part is not None:
                        x.part.discard()
                result.failed.append((f"{group.name} {day.isoformat()}", failed_days[day]))
                self._count(failed=1)
                return
            what, rel, events = puller.assemble(day, units)
            result.events += events
            if what == "written":
                result.fetched += 1
                result.files.append(rel)
                self._count(fetched=1)
            elif what == "unchanged":
                result.skipped += 1
                self._count(skipped=1)
            elif what == "kept":
                result.skipped += 1
                result.notes.append(f"kept {rel}: the log group returns fewer events for {day} now than the file "
                                    "holds (past its retention?)")

        try:
            self._drain(pool, {pool.submit(puller.run_unit, d, b): (d, i) for d, bs in work.items()
                               for i, b in enumerate(bs)}, unit_done)
        finally:
            for rs in by_day.values():
                for _, x in rs:
                    if x.part is not None:
                        x.part.discard()
            pool.shutdown(wait=False, cancel_futures=True)
        if result.left_out_events:
            result.notes.append(f"LEFT OUT {result.left_out_events} event(s) that are no record of the format "
                                f"`{group.log_format.header()}` (e.g. {'; '.join(result.left_out_examples)})")
        result.seconds = time.monotonic() - t0
        self.p.phase = "done"
        self._tick(force=True)
        return result


__all__ = ["EventFilter", "Progress", "Scope", "SourceResult", "Summary", "pull"]
