"""`flowsql pull`: the window's flow logs from S3 or CloudWatch Logs into a local tree."""

from __future__ import annotations

import sys
import time
from typing import List, Optional

import typer

from ..errors import FlowsqlError, UsageError
from .common import AccountOpt, ProfileOpt, SinceOpt, Spinner, UntilOpt, app, command, ids, note, out, out_folder, split, window


class PullFailed(FlowsqlError):
    """Some objects or days could not be fetched or verified (exit 1); they were named."""


@command(app, "pull")
def pull_cmd(
    out_dir: str = typer.Option(..., "--out", "-o", metavar="DIR",
                                 help="Where the AWSLogs/ tree goes (made if missing; files already there are kept)."),
    bucket: Optional[str] = typer.Option(None, "--bucket", metavar="BUCKET[/PREFIX]",
                                         help="Pull from this S3 bucket (PREFIX: the key prefix above AWSLogs/)."),
    log_group: Optional[str] = typer.Option(None, "--log-group", metavar="NAME",
                                            help="Pull this CloudWatch Logs log group's events (a name or an ARN)."),
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = typer.Option(
        None, "--region", metavar="REGION",
        help="Only logs of this region (repeatable or comma-separated); for a log group and for discovery, "
             "the regions looked in (default: AWS_REGION / the profile's region)."),
    log_format: Optional[str] = typer.Option(None, "--log-format", metavar="FORMAT",
                                             help="A log group's LogFormat (${version} …), overriding DescribeFlowLogs."),
    filter_address: Optional[List[str]] = typer.Option(
        None, "--filter-address", metavar="IP|CIDR",
        help="Log group: only events whose srcaddr or dstaddr is this (repeatable or comma-separated)."),
    filter_port: Optional[List[str]] = typer.Option(
        None, "--filter-port", metavar="PORT",
        help="Log group: only events whose srcport or dstport is this (repeatable or comma-separated)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", metavar="N",
                                       help="Transfers at once (default: 10 for S3, 4 for CloudWatch Logs)."),
    profile: Optional[str] = ProfileOpt,
):
    """Copy the window's flow logs into DIR as an AWSLogs/ tree that every local command reads: S3
    objects (text or Parquet, plain or Hive layout) verified against S3's checksums and written whole;
    or a log group's events as gzip text files in the S3 layout. With neither --bucket nor
    --log-group, every flow log of the account that publishes to S3 or CloudWatch Logs. A pull of an
    unchanged window fetches nothing; Ctrl-C leaves only whole files and the same command resumes.
    Exit 0 also when the window holds nothing (said on stdout), 1 when an object could not be
    fetched or verified (named; the rest is written), 2 for bad input.

    Example: flowsql pull --bucket my-log-bucket --out ./logs --since -2d && flowsql query top-talkers --source ./logs --since -2d
    """
    from ..aws import Aws
    from ..pull import EventFilter, Scope, pull

    out_dir = out_folder(out_dir)
    if log_format is not None:
        if not log_format.strip():
            raise UsageError("--log-format: empty value")
        from ..logs.fields import parse_log_format

        try:
            parse_log_format(log_format)  # refused before any AWS call, not after the log group is found
        except UsageError as e:
            raise UsageError(f"--log-format: {e}") from None
    w = window(since, until)
    scope = Scope(w, tuple(ids(account, "--account", "account_id")), tuple(ids(region, "--region", "region")))
    event_filter = EventFilter.parse(split(filter_address), split(filter_port))
    if event_filter and bucket is not None:
        raise UsageError("--filter-address/--filter-port narrow a CloudWatch Logs pull; S3 objects are copied whole")
    if jobs is not None and not 1 <= jobs <= 64:
        raise UsageError("--jobs: from 1 to 64")
    if bucket is not None and log_group is not None:
        raise UsageError("pass --bucket or --log-group, not both")
    aws = Aws.connect(profile, scope.regions[0] if scope.regions else None)
    shown = _Shown()
    try:
        with Spinner(f"pulling {w.since} … {w.until}") as spinner:
            shown.spinner = spinner
            summary = pull(aws, out_dir, scope, bucket=bucket, log_group=log_group, log_format=log_format,
                           event_filter=event_filter, jobs=jobs, progress=shown.update)
    except KeyboardInterrupt:
        shown.stopped()
        raise
    for n in summary.notes:
        note(f"note: {n}")
    for s in summary.sources:
        for n in s.notes:
            note(f"note: {n}")
        for key, why in s.ignored[:10]:
            note(f"not a flow-log file, not pulled: {key} ({why})")
        if len(s.ignored) > 10:
            note(f"… and {len(s.ignored) - 10} more objects that are no flow-log file")
        out(_line(s, w))
    for what, why in summary.failed:
        note(f"FAILED {what}: {why}")
    span = f"--since {w.since} --until {w.until}"
    if summary.nothing:
        out(f"nothing to pull: the window {w.since} … {w.until} holds no flow logs there"
            + (f" (accounts {', '.join(scope.accounts)})" if scope.accounts else "")
            + (f" (regions {', '.join(scope.regions)})" if scope.regions else ""))
    else:
        out(f"pulled into {out_dir} in {summary.seconds:.1f} s; query it: flowsql query QUERY --source {out_dir} {span}")
    if summary.failed:
        raise PullFailed(f"{len(summary.failed)} object(s) or day(s) could not be pulled (named above, not written); "
                         "the rest was written: run the same command again to retry them")


def _line(s, w) -> str:
    if s.kind == "s3":
        if not s.listed and not s.refused:
            return f"{s.label}: no flow-log object in the window {w.since} … {w.until}"
        how = ", ".join(f"{n} {m}" for m, n in sorted(s.verified.items()))
        return (f"{s.label}: {s.listed:,} object(s) in the window (listed in {s.listing_seconds:.2f} s, all in "
                f"{s.seconds:.2f} s): {s.fetched:,} fetched ({_bytes(s.bytes)}"
                + (f"; verified by {how}" if how else "") + f"), {s.skipped:,} already there and unchanged"
                + (f", {len(s.failed)} failed" if s.failed else "")
                + (f", {len(s.refused)} refused" if s.refused else ""))
    if s.missing:
        return f"{s.label}: no such log group"
    if s.events == 0 and not s.skipped and not s.failed:
        return f"{s.label}: no events in the window {w.since} … {w.until}"
    return (f"{s.label}: {s.events:,} event(s); {s.fetched} day file(s) written, {s.skipped} unchanged"
            + (f", {len(s.failed)} day(s) failed" if s.failed else ""))


def _bytes(n: int) -> str:
    for unit, k in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n} bytes"


class _Shown:
    """Progress on stderr: the spinner's text on a terminal; otherwise a line every 15 seconds."""

    EVERY_S = 15.0

    def __init__(self):
        self.spinner = None
        self.last = None
        self.said = time.monotonic()

    def text(self, p) -> str:
        if p.phase == "listing":
            return f"{p.source}: listing the window …"
        rate = f"{_bytes(int(p.bytes_per_s))}/s"
        if p.events or p.source.startswith("log group"):
            return (f"{p.source}: {p.done:,}/{p.total:,} unit(s), {p.events:,} events ({p.events_per_s:,.0f}/s), "
                    f"{_bytes(p.bytes)}, {rate}")
        return (f"{p.source}: {p.done:,}/{p.total:,} objects ({p.fetched:,} fetched, {p.skipped:,} already there"
                + (f", {p.failed} failed" if p.failed else "") + f"), {_bytes(p.bytes)}, {rate}")

    def update(self, p) -> None:
        self.last = p
        if self.spinner is not None and sys.stderr is not None and sys.stderr.isatty():
            self.spinner.update(self.text(p))
        elif p.phase == "fetching" and time.monotonic() - self.said >= self.EVERY_S:
            self.said = time.monotonic()
            note(self.text(p))

    def stopped(self) -> None:
        p = self.last
        if p is not None and p.phase == "fetching":
            note(f"stopped: {self.text(p)}; only whole files were written — run the same command again to resume")
