"""report.md: the report as Markdown (GitHub's flavour: pipe tables, fenced code), for a pull
request, a wiki or a ticket. The same content as the HTML, tables in place of charts."""

from __future__ import annotations

from .text import cell_text, plural, usd


def cell(text) -> str:
    """Text for a table cell: pipes escaped, line breaks folded."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def table(columns: list[str], rows: list[dict], *, limit: int | None = None) -> str:
    shown = rows if limit is None else rows[:limit]
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |",
             "|" + "|".join("---:" if _numeric(rows, c) else "---" for c in columns) + "|"]
    lines += ["| " + " | ".join(cell(cell_text(r.get(c), c)) for c in columns) + " |" for r in shown]
    if limit is not None and len(rows) > limit:
        lines.append("")
        lines.append(f"… and {plural(len(rows) - limit, 'more row')} (report.json has them).")
    return "\n".join(lines)


def _numeric(rows: list[dict], column: str) -> bool:
    values = [r.get(column) for r in rows]
    return any(v is not None for v in values) and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values)


def kv_table(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(["| | |", "|---|---|"] + [f"| {cell(k)} | {cell(v)} |" for k, v in pairs])


def code(text: str, lang: str = "") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def page(report: dict) -> str:
    from .sections import discover

    s, scope, w = report["summary"], report["scope"], report["window"]
    lines = [f"# Flow-log report {report['month']}", "",
             f"{w['since']} … {w['until']} (UTC days, inclusive) · engine {scope['engine']}"
             + (f" · source `{scope['source']}`" if scope.get("source") else "")
             + (f" · table `{scope['table']}`" if scope.get("table") else "")
             + (f" · accounts {', '.join(scope['accounts'])}" if scope.get("accounts") else "")
             + (f" · regions {', '.join(scope['regions'])}" if scope.get("regions") else "")
             + f" · flowsql {report['flowsql_version']}", ""]
    if not s["evaluated"]:
        lines += [f"**NOT EVALUATED: {s['reason']}.**", ""]
    findings = report.get("findings", {}).get("summary", {})
    pairs = [("posture alarms", str(s["posture_alarms"]) if report.get("posture", {}).get("evaluated") else "–"),
             ("findings with rows", f"{findings.get('with_rows', 0)} of {findings.get('evaluated', 0)} evaluated"),
             ("coverage gaps", str(s["coverage_gaps"])),
             ("not evaluated", str(s["not_evaluated"])),
             ("queries run", str(s["queries_run"]))]
    if s.get("cost_usd") is not None:
        pairs.append(("Athena cost", usd(s["cost_usd"])))
    lines += [kv_table(pairs), "",
              "Every figure names its evidence (E1, E2, …): the query, its parameters, the SQL as it ran, what "
              "was read or scanned, and the SHA-256 of its rows, in the appendix.", ""]
    for section in discover():
        if section.KEY in report:
            lines += [f"## {section.TITLE}", "", section.markdown(report[section.KEY], report).rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"
