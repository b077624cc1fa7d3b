"""report.md: the report as Markdown (GitHub's flavour: pipe tables, fenced code), for a pull
request, a wiki or a ticket. The same content as the HTML, tables in place of charts. Here: the
building blocks the sections write their Markdown with; the page: flowsql/report/pages.py."""

from __future__ import annotations

import re

from .text import cell_text, plural

# What Markdown would read as markup inside a line: escapes, code spans, emphasis, strikethrough,
# links and images, table cells. Each is escaped with a backslash (CommonMark: any ASCII punctuation).
_INLINE = re.compile(r"[\\`*_~\[\]|]")
# What starts a block when a line begins with it: a heading, a list item, a setext underline or a
# thematic break (a quote's `>`, a fence's backticks or tildes and HTML's `<` are escaped anyway).
_BLOCK_START = re.compile(r"^(?:#{1,6}(?= |$)|[+-](?= |$)|=+$|-+$|[0-9]{1,9}(?=[.)]( |$)))")


def text(value, *, starts_line: bool = False) -> str:
    """Text from the data or the pack as Markdown shows it, literally, in a paragraph, a heading or a
    table cell: line breaks folded (one line, no new block, no new table row), HTML's `<`, `>` and
    `&` as entities (no element, no comment, no autolink), Markdown's punctuation escaped (no link
    or image, no code span, no emphasis, no cell boundary), and, when the text `starts_line`, a
    block marker at its start escaped. Every value a renderer puts in report.md outside a code
    block goes through here or code_span."""
    t = _INLINE.sub(lambda m: "\\" + m.group(), " ".join(str(value).split()))
    t = t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if starts_line and (m := _BLOCK_START.match(t)):
        at = m.end() if m.group().isdigit() else 0  # `1.` → `1\.`, `#` → `\#`
        t = t[:at] + "\\" + t[at:]
    return t


cell = text  # a table cell is a line of text: its pipes are escaped with the rest


def code_span(value, *, in_table: bool = False) -> str:
    """`value` as an inline code span, literally: fenced by more backticks than any run in it, line
    breaks folded; `in_table`, its pipes escaped (GFM splits a row at a pipe even in a code span,
    and reads `\\|` there as the pipe; elsewhere a backslash in a code span is a backslash)."""
    t = " ".join(str(value).split())
    if in_table:
        t = t.replace("|", "\\|")
    fence = "`" * (max((len(r) for r in re.findall("`+", t)), default=0) + 1)
    pad = " " if t.startswith("`") or t.endswith("`") else ""
    return f"{fence}{pad}{t}{pad}{fence}"


def table(columns: list[str], rows: list[dict], *, limit: int | None = None, types: dict | None = None) -> str:
    """Rows (dicts) as a pipe table; `types`: the outcome's column_types (a time as ISO 8601)."""
    shown = rows if limit is None else rows[:limit]
    types = types or {}
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |",
             "|" + "|".join("---:" if _numeric(rows, c) and c not in types else "---" for c in columns) + "|"]
    lines += ["| " + " | ".join(cell(cell_text(r.get(c), c, types.get(c))) for c in columns) + " |" for r in shown]
    if limit is not None and len(rows) > limit:
        lines.append("")
        lines.append(f"… and {plural(len(rows) - limit, 'more row')} (report.json has them).")
    return "\n".join(lines)


def _numeric(rows: list[dict], column: str) -> bool:
    values = [r.get(column) for r in rows]
    return any(v is not None for v in values) and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)


def kv_table(pairs: list[tuple[str, str]], *, code: tuple[str, ...] = ()) -> str:
    """Two columns, key and value; the values of the keys in `code` as code spans."""
    def value(k, v):
        return code_span(v, in_table=True) if k in code else cell(v)

    return "\n".join(["| | |", "|---|---|"] + [f"| {cell(k)} | {value(k, v)} |" for k, v in pairs])


def code(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"
