"""What the report's sections and its builder share: a query a section needs (`Job`) and what it gave
(`Outcome`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..logs.window import Window

# Rows of one query kept in report.json; the hash covers them all (an auditor re-runs the SQL).
MAX_ROWS = 1000


@dataclass(frozen=True)
class Job:
    """One query a section needs, with its parameters (text, as `flowsql query -p` takes them), over
    the month or, when `window` is given, over other days (the previous month's coverage)."""

    query: str
    params: tuple[tuple[str, str], ...] = ()
    used_by: str = ""  # "trends/top_destinations": where the figure appears
    window: Window | None = None
    # a query whose failure (an unreadable file, say) does not stop the report: it is not evaluated
    tolerant: bool = False

    @property
    def key(self) -> tuple:
        return (self.query, self.params, self.window)


@dataclass
class Outcome:
    """What a query gave: its rows and the id of its evidence entry, or why it was not evaluated."""

    query: str
    parameters: dict
    evidence: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    reason: str | None = None  # not evaluated: why
    column_types: dict = field(default_factory=dict)  # the query header's `columns:` (a time's unit)

    @property
    def evaluated(self) -> bool:
        return self.reason is None

    def part(self) -> dict:
        """The outcome as a section shows it in report.json."""
        if not self.evaluated:
            return {"query": self.query, "parameters": self.parameters, "evaluated": False, "reason": self.reason}
        return {"query": self.query, "parameters": self.parameters, "evaluated": True, "evidence": self.evidence,
                "columns": self.columns, "row_count": len(self.rows), "rows": self.rows[:MAX_ROWS],
                "rows_truncated": len(self.rows) > MAX_ROWS,
                "column_types": {c: t for c, t in self.column_types.items() if c in self.columns}}
