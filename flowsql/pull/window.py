"""What a pull's window covers: the S3 prefixes to list, the CloudWatch Logs time ranges to ask for,
and whether one key belongs to the request.

The window is the query's (`--since/--until`, UTC days, both inclusive). On S3 a day is the key's
folder day (the delivery time, as everywhere in flowsql); on CloudWatch Logs it is the UTC day of an
event's timestamp, the time FilterLogEvents selects on (docs/flow-logs.md, "CloudWatch Logs").
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..logs.layout import SERVICE, Partition, log_kind, parse_key
from ..pack.params import Window

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Scope:
    """The window and the account/region cut of one pull (empty tuples: every account or region)."""

    window: Window
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def wants_account(self, account: str) -> bool:
        return not self.accounts or account in self.accounts

    def wants_region(self, region: str) -> bool:
        return not self.regions or region in self.regions

    def covers(self, p: Partition) -> bool:
        return (self.window.since <= p.day <= self.window.until and self.wants_account(p.account)
                and self.wants_region(p.region))

    def days(self) -> list[date]:
        w = self.window
        return [w.since + timedelta(days=i) for i in range(w.days)]


def service_prefix(account: str, hive: bool) -> str:
    """The key prefix of one account's flow logs below `…/AWSLogs/` (no regions yet)."""
    if hive:
        return f"aws-account-id={account}/aws-service={SERVICE}/"
    return f"{account}/{SERVICE}/"


def region_prefix(account: str, region: str, hive: bool) -> str:
    return service_prefix(account, hive) + (f"aws-region={region}/" if hive else f"{region}/")


def listing_prefixes(account: str, region: str, window: Window, *, hive: bool) -> list[str]:
    """The prefixes (below `…/AWSLogs/`) whose listing holds exactly the window's objects of one
    account and region: a month the window covers whole is one prefix, any other day its own. A
    day's listing takes in its hour folders too (per-hour partitions)."""
    base = region_prefix(account, region, hive)
    out: list[str] = []
    day = window.since
    while day <= window.until:
        last = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        month = f"year={day:%Y}/month={day:%m}/" if hive else f"{day:%Y}/{day:%m}/"
        if day.day == 1 and last <= window.until:
            out.append(base + month)
            day = last + timedelta(days=1)
            continue
        out.append(base + month + (f"day={day:%d}/" if hive else f"{day:%d}/"))
        day += timedelta(days=1)
    return out


def parse_object_key(rel: str) -> tuple[Partition, str] | None:
    """(partition, kind) of a key below the bucket prefix (`AWSLogs/…`) that names a flow-log file
    (`.log.gz`, `.log`, `.parquet`) in the flow-log layout, else None."""
    parsed = parse_key(rel)
    if parsed is None or not rel.startswith("AWSLogs/"):
        return None
    kind = log_kind(parsed[1])
    return (parsed[0], kind) if kind else None


def day_bounds_ms(day: date) -> tuple[int, int]:
    """FilterLogEvents' startTime and endTime (both inclusive, epoch ms) of one UTC day."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()) * 1000
    return start, start + DAY_MS - 1


def day_of_ms(ms: int) -> date:
    """The UTC day of an epoch-millisecond timestamp."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).date()
