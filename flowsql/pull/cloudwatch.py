"""Pulling a flow log's CloudWatch Logs events into gzip text files in the S3 layout.

The events of one log group and one UTC day (of the event's timestamp) become one file,
`AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{MM}/{dd}/{account}_vpcflowlogs_{region}_{flow-log-id}_
{yyyyMMdd}T0000Z_{hash}.log.gz`, its first line the flow log's format (the header an S3 delivery
has): every local command reads it as it reads S3's files. The account and region are the log
group's (from its ARN), as S3's path names the account and region of the flow log that delivered;
`hash` is drawn from the log group's ARN and the narrowing, so the same pull writes the same names
again and another log group or another narrowing never overwrites them.

The work is split into units — a day × a batch of the group's log streams (one stream per ENI) —
fetched in parallel, each paginating FilterLogEvents by `nextToken` on its own; a throttled call is
retried by botocore (adaptive mode) and then again with a longer backoff (backoff.py), from the
same `nextToken`. A day's file is written when all its units are done, whole, or not at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from ..aws import errors, is_code, map_error
from ..errors import FlowsqlError, FormatError, UsageError
from ..logs.fields import DEFAULT_LOG_FORMAT, LogFormat, parse_log_format
from ..logs.layout import day_prefix, file_name
from . import backoff
from .filters import EventFilter
from .record import Record
from .tree import Tree, UnsafePath
from .window import DAY_MS, Scope, day_bounds_ms

STREAMS_PER_CALL = 100  # FilterLogEvents' limit on logStreamNames
# A stream whose last event DescribeLogStreams reports more than this before the window is passed
# over: AWS updates lastEventTimestamp "on an eventual consistency basis", typically within an hour.
LAST_EVENT_SLACK_MS = DAY_MS
_NAME = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_ARN = re.compile(r"^arn:(?P<p>aws[a-z-]*):logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(?::\*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class LogGroupSource:
    """A log group to pull from; `log_format`/`flow_log_ids` when discovery already knows them."""

    name: str
    region: str
    log_format: LogFormat | None = None
    flow_log_ids: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"log group {self.name} ({self.region})"


def parse_log_group(text: str) -> tuple[str, str | None]:
    """A --log-group value: a name, or a log group ARN (which also names the region)."""
    t = (text or "").strip()
    m = _ARN.match(t)
    if m:
        return m["name"], m["region"]
    if not _NAME.match(t):
        raise UsageError(f"--log-group: not a log group name: {text!r} (1-512 of A-Z a-z 0-9 . - _ / #)")
    return t, None


@dataclass
class Group:
    """A log group resolved against the service: where its files go and in which format."""

    name: str
    region: str
    arn: str
    account: str
    log_format: LogFormat
    flow_log_id: str
    notes: list[str] = field(default_factory=list)


def resolve_group(aws, logs, source: LogGroupSource, *, log_format: str | None) -> Group:
    """The log group's ARN (it must exist: else a UsageError) and its flow log's format: --log-format,
    else the format of the flow logs that publish to it (DescribeFlowLogs), else the default format
    (said in the notes)."""
    name, region = source.name, source.region
    found = None
    try:
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
            found = next((g for g in page.get("logGroups", []) if g.get("logGroupName") == name), None)
            if found:
                break
    except errors() as e:
        raise map_error(e, f"looking up log group {name} in {region} (logs:DescribeLogGroups)") from None
    if found is None:
        raise UsageError(f"log group {name} does not exist in {region}")
    arn = found.get("logGroupArn") or (found.get("arn") or "").removesuffix(":*")
    parts = arn.split(":")
    account = parts[4] if len(parts) > 5 and parts[4].isdigit() else aws.account
    notes: list[str] = []
    ids = tuple(source.flow_log_ids)
    if log_format:
        fmt = parse_log_format(log_format)
    elif source.log_format is not None:
        fmt = source.log_format
    else:
        fmt, ids = _format_from_flow_logs(aws, name, region, notes)
    flow_log_id = ids[0] if ids else "fl-unknown"
    return Group(name, region, arn or f"arn:aws:logs:{region}:{account}:log-group:{name}", account, fmt,
                 flow_log_id, notes)


def _format_from_flow_logs(aws, name: str, region: str, notes: list[str]) -> tuple[LogFormat, tuple[str, ...]]:
    ec2 = aws.client("ec2", region)
    items = []
    try:
        for page in ec2.get_paginator("describe_flow_logs").paginate(
                Filters=[{"Name": "log-group-name", "Values": [name]}]):
            items.extend(page.get("FlowLogs", []))
    except errors() as e:
        err = map_error(e, f"reading the format of the flow logs of log group {name} (ec2:DescribeFlowLogs)")
        raise type(err)(f"{err}; or pass --log-format") from None
    items = [fl for fl in items if fl.get("LogGroupName") == name
             and fl.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"]
    if not items:
        notes.append(f"no flow log publishes to log group {name} any more: its events are read in the default "
                     "format (pass --log-format if they were written in another)")
        return parse_log_format(DEFAULT_LOG_FORMAT), ()
    formats: dict[tuple, list[str]] = {}
    for fl in items:
        if str(fl.get("ResourceId", "")).startswith("tgw-") or "${tgw-" in (fl.get("LogFormat") or ""):
            raise UsageError(f"log group {name} receives Transit Gateway flow logs ({fl.get('FlowLogId')}), whose "
                             "records flowsql does not read")
        try:
            fmt = parse_log_format(fl.get("LogFormat"))
        except FormatError as e:
            raise UsageError(f"flow log {fl.get('FlowLogId')} of log group {name}: its {e}") from None
        formats.setdefault(fmt.names, []).append(fl.get("FlowLogId", ""))
    if len(formats) > 1:
        said = "; ".join(f"{', '.join(sorted(i))}: {len(n)} fields" for n, i in formats.items())
        raise UsageError(f"flow logs of different formats publish to log group {name} ({said}); pass "
                         "--log-format to say which format to read (events of another are left out)")
    names, ids = next(iter(formats.items()))
    return LogFormat(names), tuple(sorted(filter(None, ids)))


@dataclass(frozen=True)
class Stream:
    name: str
    first: int | None  # firstEventTimestamp, lastEventTimestamp (epoch ms), None when not said
    last: int | None

    def may_hold(self, lo: int, hi: int) -> bool:
        """Whether the stream may have events in [lo, hi] (DescribeLogStreams' word, with slack)."""
        if self.first is not None and self.first > hi:
            return False
        return not (self.last is not None and self.last + LAST_EVENT_SLACK_MS < lo)


def list_streams(logs, group: Group, scope: Scope) -> list[Stream]:
    """The group's log streams that may hold events of the window, sorted by name. They are asked
    for newest last event first, so the listing stops at the first stream whose last event is before
    the window (with the slack): a group of years of short-lived ENIs costs the pages of the window's."""
    lo, _ = day_bounds_ms(scope.window.since)
    _, hi = day_bounds_ms(scope.window.until)
    out = []
    try:
        pages = logs.get_paginator("describe_log_streams").paginate(
            logGroupName=group.name, orderBy="LastEventTime", descending=True)
        for page in pages:
            older = False
            for s in page.get("logStreams", []):
                stream = Stream(s["logStreamName"], s.get("firstEventTimestamp"), s.get("lastEventTimestamp"))
                if stream.may_hold(lo, hi):
                    out.append(stream)
                elif stream.last is not None and stream.last + LAST_EVENT_SLACK_MS < lo:
                    older = True
            if older:
                break
    except errors() as e:
        if is_code(e, "ResourceNotFoundException"):
            raise UsageError(f"log group {group.name} does not exist in {group.region}") from None
        raise map_error(e, f"listing the log streams of {group.name} (logs:DescribeLogStreams)") from None
    return sorted(out, key=lambda s: s.name)


def plan_batches(streams: list[Stream], days: list[date], jobs: int) -> dict[date, list[list[str]]]:
    """Per day, the batches of stream names to ask FilterLogEvents for: only the streams that may
    hold events that day, at most 100 a call; a window of fewer days than threads splits each day
    further, so that the threads share the work."""
    out: dict[date, list[list[str]]] = {}
    for day in days:
        lo, hi = day_bounds_ms(day)
        names = [s.name for s in streams if s.may_hold(lo, hi)]
        if not names:
            continue
        wanted = max(-(-len(names) // STREAMS_PER_CALL), -(-max(1, jobs) // len(days)))
        size = max(1, min(STREAMS_PER_CALL, -(-len(names) // wanted)))
        out[day] = [names[i:i + size] for i in range(0, len(names), size)]
    return out


def target(group: Group, day: date, spec: str) -> tuple[str, str]:
    """(folder, file name) of a day's file."""
    digest = hashlib.sha256(f"{group.arn}|{spec}".encode()).hexdigest()[:8]
    when = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    folder = day_prefix(group.account, group.region, day).rstrip("/")
    return folder, file_name(group.account, group.region, group.flow_log_id, when, digest)


def _gzip(data: bytes) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # a gzip member, mtime 0: the same bytes every time
    return z.compress(data) + z.flush()


@dataclass
class UnitResult:
    events: int = 0
    left_out: list[str] = field(default_factory=list)  # examples of events that are no record of the format
    left_out_count: int = 0
    part: object = None  # tree.NewFile holding this unit's gzip member, or None (no events)
    problem: str | None = None


class Puller:
    """One log group's pull: units fetched by the caller's thread pool, day files assembled here."""

    def __init__(self, logs, tree: Tree, record: Record, group: Group, scope: Scope, event_filter: EventFilter,
                 *, stop: threading.Event, on_events):
        self.logs, self.tree, self.record, self.group, self.scope = logs, tree, record, group, scope
        self.filter, self.stop, self.on_events = event_filter, stop, on_events
        self.fmt = group.log_format
        self.n_fields = len(self.fmt.names)
        self.match = event_filter.matcher(self.fmt)
        self.patterns = event_filter.patterns(self.fmt) or [None]
        self.spec = event_filter.spec
        self.source_id = f"logs:{group.arn}"

    def check_record(self) -> None:
        """The output folder must not hold this group pulled with another narrowing: its records would
        be in two files, counted twice by every query."""
        for rel, e in self.record.entries.items():
            if e.get("source") == self.source_id and e.get("filter", "") != self.spec:
                had = e.get("filter") or "no narrowing"
                now = self.spec or "no narrowing"
                raise UsageError(f"{self.tree.root} already holds log group {self.group.name} pulled with {had} "
                                 f"({rel}); pull with {now} into another folder (one tree holding both would count "
                                 "their common records twice)")

    # -- a unit: one day, one batch of streams ------------------------------------------------------

    def run_unit(self, day: date, streams: list[str]) -> UnitResult:
        folder, name = target(self.group, day, self.spec)
        start, end = day_bounds_ms(day)
        result = UnitResult()
        seen: set[str] | None = set() if len(self.patterns) > 1 else None
        z = zlib.compressobj(6, zlib.DEFLATED, 31)
        try:
            # the day's folder is made when its first event comes (a day without events leaves none)
            for pattern in self.patterns:
                params = {"logGroupName": self.group.name, "logStreamNames": streams,
                          "startTime": start, "endTime": end}
                if pattern:
                    params["filterPattern"] = pattern
                token = None
                while True:
                    if self.stop.is_set():
                        raise InterruptedError("stopped")
                    if token:
                        params["nextToken"] = token
                    resp = self._call(params)
                    lines = []
                    for ev in resp.get("events", []):
                        if seen is not None:
                            eid = ev.get("eventId")
                            if eid in seen:
                                continue
                            seen.add(eid)
                        line = self._line(ev, result)
                        if line is not None:
                            lines.append(line)
                    if lines:
                        if result.part is None:
                            with self.tree.folder(folder, create=True) as dfd:
                                result.part = self.tree.new_file(dfd, name, readable=True)
                        text = ("\n".join(lines) + "\n").encode("utf-8")
                        result.part.write(z.compress(text))
                        result.events += len(lines)
                        self.on_events(len(lines), len(text))
                    nxt = resp.get("nextToken")
                    if not nxt:
                        break
                    if nxt == token and not resp.get("events"):
                        raise FlowsqlError("the service returned the same nextToken again with no events")
                    token = nxt
            if result.part is not None:
                result.part.write(z.flush())
        except BaseException as e:
            if result.part is not None:
                result.part.discard()
                result.part = None
            if isinstance(e, (InterruptedError, KeyboardInterrupt)) or self.stop.is_set():
                raise
            if isinstance(e, UnsafePath):
                result.problem = str(e)
            elif isinstance(e, FlowsqlError):
                result.problem = str(e)
            elif isinstance(e, OSError):
                result.problem = f"cannot write it: {e.strerror or e}"
            elif isinstance(e, errors()):
                result.problem = str(map_error(e, "FilterLogEvents"))
            else:
                raise
        return result

    def _line(self, ev: dict, result: UnitResult) -> str | None:
        msg = ev.get("message")
        ok = isinstance(msg, str) and msg and not _CONTROL.search(msg)
        fields = msg.split(" ") if ok else []
        if not ok or len(fields) != self.n_fields or "" in fields:
            result.left_out_count += 1
            if len(result.left_out) < 3:
                result.left_out.append(f"{ev.get('logStreamName', '?')} event {ev.get('eventId', '?')}")
            return None
        if self.match is not None and not self.match(fields):
            return None
        return msg

    def _call(self, params: dict) -> dict:
        """FilterLogEvents; throttling that outlasts botocore's retries is waited out here, and the
        same page asked for again (the pagination resumes where it was)."""
        try:
            return backoff.call(self.logs.filter_log_events, self.stop, **params)
        except errors() as e:
            if is_code(e, "ResourceNotFoundException"):
                raise FlowsqlError(f"log group {self.group.name} was deleted during the pull") from None
            raise

    # -- a day: its units' parts into one file ----------------------------------------------------

    def assemble(self, day: date, results: list[UnitResult]) -> tuple[str, str | None, int]:
        """Write the day's file from its units' parts (all done, none failed). Returns (what happened,
        the local path or None, events): "written", "unchanged", "kept" (fewer events now), "empty"."""
        folder, name = target(self.group, day, self.spec)
        rel = f"{folder}/{name}"
        parts = [r.part for r in results if r.part is not None]
        events = sum(r.events for r in results)
        try:
            if not events:
                return "empty", None, 0
            with self.tree.folder(folder, create=True) as dfd:
                out = self.tree.new_file(dfd, name)
                try:
                    h = hashlib.sha256()
                    header = _gzip((self.fmt.header() + "\n").encode())
                    out.write(header)
                    h.update(header)
                    for p in parts:
                        os.lseek(p.fd, 0, os.SEEK_SET)
                        while chunk := os.read(p.fd, 1 << 20):
                            out.write(chunk)
                            h.update(chunk)
                    digest = h.hexdigest()
                    entry = self.record.get(rel)
                    current = self.tree.state(dfd, name)
                    if Record.unchanged(entry, current) and entry.get("source") == self.source_id:
                        if entry.get("sha256") == digest:
                            out.discard()
                            return "unchanged", rel, events
                        if int(entry.get("events", 0)) > events:
                            out.discard()  # events expire with the group's retention: evidence is never shrunk
                            return "kept", rel, events
                    state = out.commit()
                except BaseException:
                    out.discard()
                    raise
            self.record.put(rel, {"source": self.source_id, "filter": self.spec, "sha256": digest,
                                  "events": events, "format": self.fmt.header()}, state)
            return "written", rel, events
        finally:
            for p in parts:
                p.discard()


def make_client(aws, region: str, jobs: int):
    """A CloudWatch Logs client for `jobs` threads: adaptive retries (a client-side rate limit that
    follows the service's throttling, shared by the threads), few attempts before Puller's own."""
    from botocore.config import Config

    from ..aws import client_config

    config = client_config().merge(Config(max_pool_connections=jobs + 4,
                                          retries={"mode": "adaptive", "total_max_attempts": 4}))
    return aws.session.client("logs", region_name=region, config=config)
