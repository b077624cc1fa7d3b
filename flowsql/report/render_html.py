"""report.html: one self-contained file, readable offline and printable.

Inline CSS, charts as inline SVG (flowsql.report.charts), no script, no font, no image or link
to fetch; a Content-Security-Policy that forbids any fetch says so to the browser too. Here: the
building blocks the sections (sections/*.py) write their HTML with; the page: flowsql/report/pages.py.
"""

from __future__ import annotations

from html import escape

from .text import cell_text, plural

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2933;
       margin: 0 auto; max-width: 1040px; padding: 24px 28px 64px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 2px solid #e4e7eb;
padding-bottom: 4px; } h3 { font-size: 16px; margin: 22px 0 6px; } h4 { font-size: 14px; margin: 14px 0 4px; }
p { margin: 6px 0; } .muted { color: #616e7c; } .small { font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 12.5px; }
th, td { border: 1px solid #d8dde3; padding: 3px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f1f3f5; } table.kv { width: 100%; } table.kv th { width: 150px; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f7f8fa; border: 1px solid #e4e7eb; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.kpi { border: 1px solid #d8dde3; border-radius: 6px; padding: 8px 14px; min-width: 130px; }
.kpi b { display: block; font-size: 20px; } .kpi span { color: #616e7c; font-size: 12px; }
.sev, .status { display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 11.5px; font-weight: 600;
                color: #fff; }
.sev-critical { background: #7b1fa2; } .sev-high { background: #c62828; } .sev-medium { background: #ef6c00; }
.sev-low { background: #f9a825; color: #1f2933; } .sev-info { background: #607d8b; }
.status-ok { background: #2e7d32; } .status-alarm { background: #c62828; } .status-skip { background: #9e9e9e; }
.status-info { background: #1565c0; }
.finding { border-left: 4px solid #d8dde3; padding: 2px 0 2px 12px; margin: 14px 0; }
.finding.has-rows { border-left-color: #ef6c00; } .ne { color: #8a4b00; }
.banner { border: 2px solid #c62828; color: #8e0000; background: #fdecea; padding: 8px 12px; font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 6px 0 10px; }
details > summary { cursor: pointer; color: #1f4e79; }
.print-only { display: none; } .print-only > .summary { font-weight: 600; color: #1f4e79; margin: 6px 0 2px; }
@media print { body { max-width: none; padding: 0; } h2 { break-after: avoid; } .finding, table { break-inside: avoid; }
  details.fold { display: none; } .print-only { display: block; } pre { overflow-x: visible; } }
"""

# No fetch of any kind: inline styles only, data: images only (the favicon), nothing else.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(text) -> str:
    return escape(str(text), quote=True)


def table(columns: list[str], rows: list[dict], *, limit: int | None = None, caption: str = "",
          types: dict | None = None) -> str:
    """Rows (dicts) as a table; numbers right-aligned; past `limit` rows a line says how many more;
    `types`: the outcome's column_types (a time as ISO 8601)."""
    shown = rows if limit is None else rows[:limit]
    types = types or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for r in shown:
        cells = []
        for c in columns:
            v = r.get(c)
            num = isinstance(v, (int, float)) and not isinstance(v, bool) and c not in types
            shown_v = esc(cell_text(v, c, types.get(c)))
            cells.append(f'<td class="num">{shown_v}</td>' if num else f"<td>{shown_v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption class=\"muted small\">{esc(caption)}</caption>" if caption else ""
    more = ""
    if limit is not None and len(rows) > limit:
        more = f'<p class="muted small">… and {plural(len(rows) - limit, "more row")} (report.json has them).</p>'
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def fold(summary: str, inner_html: str) -> str:
    """`inner_html` folded under `summary` on screen, and shown in full when printed.

    A printed or PDF report is what an auditor keeps, and it must show the SQL behind every figure;
    but no CSS opens a closed <details> in print (a browser does not print what is folded). So the
    content is also in a block that only print shows, and the <details> is hidden there."""
    return (f'<details class="fold"><summary>{esc(summary)}</summary>{inner_html}</details>'
            f'<div class="print-only"><p class="summary">{esc(summary)}</p>{inner_html}</div>')


def kv_table(pairs: list[tuple[str, str]]) -> str:
    return '<table class="kv">' + "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in pairs) + "</table>"


def badge(kind: str, value: str) -> str:
    return f'<span class="{kind} {kind}-{esc(value)}">{esc(value)}</span>'


def evidence_link(eid: str | None) -> str:
    return f'<a href="#{esc(eid)}">{esc(eid)}</a>' if eid else "–"
