"""Printing result rows as a table, JSON or CSV, and text that reaches a terminal.

Text from the data or a snapshot (a tag, a description, a log group's name, a record's field, an
error message an API returned) can hold characters a terminal acts on instead of printing: an
escape sequence sets the window's title or clears the screen, a bidirectional override reorders
what is shown. `terminal_text` is the one place they are made visible (`\x1b`, `\u202e`): every
table cell, every line on stderr and the free text on stdout go through it. JSON escapes them
itself; CSV keeps the characters of the data (it is for programs; see `csv_cell` for what it
neutralises).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

FORMATS = ("table", "json", "csv")

# C0 and C1 controls, DEL, and the format characters that reorder or hide text (bidirectional marks,
# embeddings, overrides and isolates; line and paragraph separators; the zero-width no-break space).
_FORMAT_CHARS = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT_CHARS}]")
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(m: re.Match) -> str:
    c = m.group()
    return _SHORT.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def terminal_text(text, keep: str = "") -> str:
    """`text` with every character a terminal would act on shown as an escape (`\x1b`, `\u202e`,
    `\n`), except those in `keep` (a multi-line output keeps its line breaks)."""
    text = str(text)
    if not keep:
        return _UNSAFE.sub(_escape, text)
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


# What a JSON text written with ensure_ascii=False can still hold raw: _UNSAFE but the C0 controls (its
# encoder escapes them inside strings; outside them only line feeds and spaces separate tokens).
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_FORMAT_CHARS}]")


def terminal_json(text: str) -> str:
    """A JSON text fit for a terminal and still the same JSON: every character a terminal would act
    on as a `\\uXXXX` escape, which a JSON parser reads back as that character (terminal_text's
    `\\x85` would not parse). A text without any is returned as it is."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def plain(value):
    """A JSON-ready value: Decimal → int/float, dates → ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def as_declared(value, kind: str | None):
    """A value as a human-readable output shows a column the query's header declares
    (pack.COLUMN_TYPES): a `unix_seconds` time as ISO 8601 UTC (`2026-11-03T14:00:00Z`). Anything
    else, and a value that is no such time (NULL, out of range), is returned as it is. JSON and CSV
    never call it: they keep the number."""
    if kind == "unix_seconds":
        v = plain(value)
        if isinstance(v, int) and not isinstance(v, bool):
            try:
                return datetime.fromtimestamp(v, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            except (OverflowError, OSError, ValueError):
                return value
    return value


def declared(columns: list[str], rows: list[tuple], types: dict | None) -> list[tuple]:
    """`rows` with the values of the declared columns as_declared shows them."""
    kinds = [(types or {}).get(c) for c in columns]
    if not any(kinds):
        return rows
    return [tuple(as_declared(v, k) if k else v for v, k in zip(r, kinds)) for r in rows]


def to_json(columns: list[str], rows: list[tuple]) -> str:
    from .files import dumps_json

    return dumps_json([{c: plain(v) for c, v in zip(columns, r)} for r in rows], what="the rows", indent=2)


# A spreadsheet reads a cell that begins with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """One CSV field, as OWASP advises against CSV injection: every text cell quoted (inner quotes
    doubled), and one that begins like a formula prefixed with a single quote (`'=1+2`, `'-5` when
    it is text); a number (int, float, Decimal) stays a bare number, negative ones included, since
    a spreadsheet reads `-5` as the number it is; NULL is an empty, unquoted field (`""` is an
    empty text)."""
    if value is None:
        return ""
    value = plain(value)
    if isinstance(value, (int, float)):  # bool too: True and False are no formula
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if text.startswith(FORMULA_START):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def to_csv(columns: list[str], rows: list[tuple]) -> str:
    """RFC 4180 CSV (line feeds between records), header first, cells as csv_cell writes them."""
    lines = [",".join(csv_cell(c) for c in columns)]
    lines += [",".join(csv_cell(v) for v in r) for r in rows]
    return "\n".join(lines) + "\n"


# Columns that hold amounts get thousands separators; ports, protocols and times do not.
_AMOUNT = re.compile(r"(^|_)(flows|packets|bytes|records|sources|destinations|hosts|ports|interfaces|count)$")


def _cell(v, column: str = "") -> str:
    if v is None:
        return "∅"
    if isinstance(v, int) and not isinstance(v, bool) and _AMOUNT.search(column):
        return f"{v:,}"
    return terminal_text(plain(v))  # a line break or an escape sequence in a cell is shown, not obeyed


def _numeric(rows: list[tuple], i: int) -> bool:
    """Column i holds numbers only (right-aligned in tables)."""
    return bool(rows) and all(isinstance(r[i], (int, float, Decimal)) or r[i] is None for r in rows)


def to_text_table(columns: list[str], rows: list[tuple], types: dict | None = None) -> str:
    """A plain aligned table for pipes and files (numbers right-aligned; the columns `types`
    declares shown as as_declared says)."""
    rows = declared(columns, rows, types)
    cells = [[_cell(v, c) for v, c in zip(r, columns)] for r in rows]
    columns = [terminal_text(c) for c in columns]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [_numeric(rows, i) for i in range(len(columns))]
    def line(values):
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()
    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out) + "\n"


def print_rich_table(columns: list[str], rows: list[tuple], *, title: str | None = None, file=None,
                     types: dict | None = None) -> None:
    """A rich table for a terminal. Every cell is a `Text`: data is printed as data, never read as
    rich markup (a dstaddr of `[bold]…` or `[/]` is text like any other)."""
    rows = declared(columns, rows, types)
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(terminal_text(title)) if title else None, title_justify="left", show_lines=False)
    for i, c in enumerate(columns):
        table.add_column(Text(terminal_text(c)), justify="right" if _numeric(rows, i) else "left")
    for r in rows:
        table.add_row(*[Text(_cell(v, c)) for v, c in zip(r, columns)])
    console = Console(file=file, highlight=False, emoji=False, markup=False)
    console.print(table)
    if not rows:
        console.print(Text("(no rows)"))
