"""The month a report covers: `YYYY-MM`, or `previous` (the last full calendar month, UTC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import UsageError
from ..pack.params import Window, today_utc

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - timedelta(days=1)

    @property
    def window(self) -> Window:
        """The month's days; for the current month, its days so far (today included)."""
        return Window(self.first, min(self.last, today_utc()))

    def __str__(self) -> str:
        return self.label


def parse_month(text: str, today: date | None = None) -> Month:
    """`YYYY-MM` or `previous`; a month that has not begun is refused (it can hold no logs). The
    current month is allowed: the report then covers its days so far (the CLI says so)."""
    today = today or today_utc()
    text = str(text).strip()
    if text == "previous":
        last = today.replace(day=1) - timedelta(days=1)
        return Month(last.year, last.month)
    m = _MONTH.match(text)
    if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
        raise UsageError(f"--month {text!r}: expected YYYY-MM (e.g. 2025-02) or previous")
    month = Month(int(m[1]), int(m[2]))
    if month.first > today:
        raise UsageError(f"--month {month}: that month has not begun (today is {today}, UTC)")
    return month
