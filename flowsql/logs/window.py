"""The window of UTC days a query reads, applied to the partition day (the day in a log file's path)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ..errors import UsageError

MIN_YEAR = 2000  # flow logs began in 2015; earlier days can only be typos


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def parse_day(text: str) -> date:
    """A UTC day: YYYY-MM-DD (or YYYY/MM/DD), `today`, `yesterday`, or `-Nd` (N days ago)."""
    t = text.strip().lower()
    d = None
    if t == "today":
        d = today_utc()
    elif t == "yesterday":
        d = today_utc() - timedelta(days=1)
    elif m := re.fullmatch(r"-([0-9]{1,5})d", t):
        d = today_utc() - timedelta(days=int(m[1]))
    elif m := re.fullmatch(r"([0-9]{4})[-/]([0-9]{2})[-/]([0-9]{2})", t):
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    # Partition values are compared as text: a year must have four digits to sort right.
    if d is None or d.year < MIN_YEAR:
        raise UsageError(f"invalid day: {text!r} (expected YYYY-MM-DD from {MIN_YEAR} on, today, yesterday or -Nd)")
    return d


@dataclass(frozen=True)
class Window:
    """UTC days, both inclusive, applied to the partition day (the S3 path's day)."""

    since: date
    until: date

    @classmethod
    def from_options(cls, since: str | None, until: str | None, *, default_days: int = 7) -> "Window":
        """From --since/--until (None: not given); the default is the `default_days` ending today."""
        def day(option: str, text: str) -> date:
            try:
                return parse_day(text)
            except UsageError as e:
                raise UsageError(f"{option}: {e}") from None

        u = day("--until", until) if until is not None else today_utc()
        s = day("--since", since) if since is not None else u - timedelta(days=default_days - 1)
        if s > u:
            raise UsageError(f"--since {s} is after --until {u}: the window is reversed")
        return cls(s, u)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1
