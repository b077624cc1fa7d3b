"""Wording and number formats both renderers share (HTML and Markdown say the same things)."""

from __future__ import annotations

import re

# Columns that hold amounts get thousands separators; ports, protocols, days and times do not.
_AMOUNT = re.compile(r"(^|_)(flows|packets|bytes|records|sources|destinations|hosts|ports|interfaces|count)$")

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def cell_text(value, column: str = "", kind: str | None = None) -> str:
    """A value as both renderers show it; `kind` is the type the query's header declares for the
    column (a `unix_seconds` time as ISO 8601 UTC, by output.as_declared, the tables' own rule)."""
    if kind is not None:
        from ..output import as_declared

        value = as_declared(value, kind)
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and _AMOUNT.search(column):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".") if _AMOUNT.search(column) else repr(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def usd(value) -> str:
    return "–" if value is None else f"${value:,.6f}"


def rows_line(part: dict) -> str:
    """How many rows an evaluated outcome has."""
    more = " (report.json keeps the first ones)" if part.get("rows_truncated") else ""
    return f"{plural(part['row_count'], 'row')}{more}"


def outcome_line(part: dict) -> str:
    """One line about a query's outcome: its rows and evidence, or why it was not evaluated."""
    if not part.get("evaluated"):
        return f"Not evaluated: {part['reason']}"
    return f"{rows_line(part)}; evidence {part['evidence']}"
