"""Printing result rows as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

FORMATS = ("table", "json", "csv")


def plain(value):
    """A JSON-ready value: Decimal → int/float, dates → ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def to_json(columns: list[str], rows: list[tuple]) -> str:
    from .files import dumps_json

    return dumps_json([{c: plain(v) for c, v in zip(columns, r)} for r in rows], what="the rows", indent=2)


def to_csv(columns: list[str], rows: list[tuple]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if v is None else plain(v) for v in r])
    return buf.getvalue()


# Columns that hold amounts get thousands separators; ports, protocols and times do not.
_AMOUNT = re.compile(r"(^|_)(flows|packets|bytes|records|sources|destinations|hosts|ports|interfaces|count)$")


def _cell(v, column: str = "") -> str:
    if v is None:
        return "∅"
    if isinstance(v, int) and not isinstance(v, bool) and _AMOUNT.search(column):
        return f"{v:,}"
    return str(plain(v))


def _numeric(rows: list[tuple], i: int) -> bool:
    """Column i holds numbers only (right-aligned in tables)."""
    return bool(rows) and all(isinstance(r[i], (int, float, Decimal)) or r[i] is None for r in rows)


def to_text_table(columns: list[str], rows: list[tuple]) -> str:
    """A plain aligned table for pipes and files (numbers right-aligned)."""
    cells = [[_cell(v, c) for v, c in zip(r, columns)] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [_numeric(rows, i) for i in range(len(columns))]
    def line(values):
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()
    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out) + "\n"


def print_rich_table(columns: list[str], rows: list[tuple], *, title: str | None = None, file=None) -> None:
    """A rich table for a terminal. Every cell is a `Text`: data is printed as data, never read as
    rich markup (a dstaddr of `[bold]…` or `[/]` is text like any other)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title) if title else None, title_justify="left", show_lines=False)
    for i, c in enumerate(columns):
        table.add_column(Text(c), justify="right" if _numeric(rows, i) else "left")
    for r in rows:
        table.add_row(*[Text(_cell(v, c)) for v, c in zip(r, columns)])
    console = Console(file=file, highlight=False, emoji=False, markup=False)
    console.print(table)
    if not rows:
        console.print(Text("(no rows)"))
