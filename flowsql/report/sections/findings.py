"""Findings: every query of the pack that is a finding (severity low or above), found by discovery
and run with its defaults. A finding that cannot run (a required parameter without a default, data
whose format lacks a field it needs, an inventory file it needs) is shown with the reason."""

from __future__ import annotations

from ..model import Job
from ..text import SEVERITY_ORDER

KEY = "findings"
TITLE = "Findings"
ORDER = 20

ROWS_SHOWN = 25  # per finding in HTML and Markdown; report.json keeps up to model.MAX_ROWS


def _findings(ctx) -> list:
    found = [q for q in ctx.pack.values() if q.is_finding]
    return sorted(found, key=lambda q: (SEVERITY_ORDER.index(q.severity), q.name))


def plan(ctx) -> list[Job]:
    return [Job(q.name, (), used_by=f"{KEY}/{q.name}") for q in _findings(ctx)]


def build(ctx) -> dict:
    items = []
    for q in _findings(ctx):
        outcome = ctx.outcome(Job(q.name))
        if not outcome.evaluated:
            ctx.not_evaluated_item(KEY, q.name, outcome.reason)
        items.append({"query": q.name, "title": q.title, "severity": q.severity, "description": q.description,
                      "why": q.why, "remediation": q.remediation, "compliance": list(q.compliance),
                      **outcome.part()})
    evaluated = [i for i in items if i["evaluated"]]
    return {
        "items": items,
        "summary": {
            "findings": len(items),
            "evaluated": len(evaluated),
            "with_rows": sum(i["row_count"] > 0 for i in evaluated),
            "not_evaluated": len(items) - len(evaluated),
            "with_rows_by_severity": {s: sum(i["row_count"] > 0 and i["severity"] == s for i in evaluated)
                                      for s in SEVERITY_ORDER if s != "info"},
        },
    }


def html(part: dict, report: dict) -> str:
    from ..render_html import badge, esc, evidence_link, table
    from ..text import plural, rows_line

    s = part["summary"]
    out = [f"<p>{plural(s['findings'], 'finding')} in the query pack: {s['with_rows']} with rows, "
           f"{s['evaluated'] - s['with_rows']} without, {s['not_evaluated']} not evaluated. A finding's rows are "
           "something to look at; no rows means the month showed none.</p>"]
    if part["items"]:
        overview = [{"finding": i["query"], "severity": i["severity"],
                     "rows": i["row_count"] if i["evaluated"] else None,
                     "evidence": i.get("evidence") or "not evaluated"} for i in part["items"]]
        out.append(table(["finding", "severity", "rows", "evidence"], overview))
    for i in part["items"]:
        has = i["evaluated"] and i["row_count"] > 0
        out.append(f'<div class="finding{" has-rows" if has else ""}" id="finding-{esc(i["query"])}">')
        out.append(f"<h3>{badge('sev', i['severity'])} {esc(i['title'])} <code>{esc(i['query'])}</code></h3>")
        out.append(f"<p>{esc(i['description'])}</p>")
        out.append(f"<p><b>Why it matters.</b> {esc(i['why'])}</p><p><b>What to do.</b> {esc(i['remediation'])}</p>")
        if i["compliance"]:
            out.append(f"<p class=\"small\">Compliance: {esc(', '.join(i['compliance']))}</p>")
        if not i["evaluated"]:
            out.append(f'<p class="ne">Not evaluated: {esc(i["reason"])}</p>')
        else:
            out.append(f'<p class="small muted">{esc(rows_line(i))}; evidence {evidence_link(i["evidence"])}</p>')
            if i["row_count"]:
                out.append(table(i["columns"], i["rows"], limit=ROWS_SHOWN, types=i.get("column_types")))
        out.append("</div>")
    return "\n".join(out)


def markdown(part: dict, report: dict) -> str:
    from ..render_md import code_span, table, text
    from ..text import outcome_line, plural

    s = part["summary"]
    out = [f"{plural(s['findings'], 'finding')} in the query pack: {s['with_rows']} with rows, "
           f"{s['evaluated'] - s['with_rows']} without, {s['not_evaluated']} not evaluated.", ""]
    for i in part["items"]:
        out += [f"### \\[{text(i['severity'])}\\] {text(i['title'])} ({code_span(i['query'])})", "",
                text(i["description"], starts_line=True), "",
                f"**Why it matters.** {text(i['why'])}", "", f"**What to do.** {text(i['remediation'])}", ""]
        if i["compliance"]:
            out += [f"Compliance: {text(', '.join(i['compliance']))}", ""]
        out += [text(outcome_line(i), starts_line=True), ""]
        if i["evaluated"] and i["row_count"]:
            out += [table(i["columns"], i["rows"], limit=ROWS_SHOWN, types=i.get("column_types")), ""]
    return "\n".join(out)
