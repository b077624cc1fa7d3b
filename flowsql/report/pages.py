"""The report's two pages: its summary, then each section's own part (sections/*.py) in the sections'
order, as report.html and as report.md."""

from __future__ import annotations

from .render_html import CSP, CSS, esc
from .render_md import code_span, kv_table, text
from .sections import discover
from .text import usd


def html_page(report: dict) -> str:
    """report.html."""
    title = f"Flow-log report {report['month']}"
    parts = [_html_summary(report)]
    for section in discover():
        if section.KEY in report:
            parts.append(f'<section id="{esc(section.KEY)}"><h2>{esc(section.TITLE)}</h2>'
                         f"{section.html(report[section.KEY], report)}</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def _html_summary(report: dict) -> str:
    s, scope, w = report["summary"], report["scope"], report["window"]
    where = [f"engine <b>{esc(scope['engine'])}</b>"]
    if scope.get("source"):
        where.append(f"source <code>{esc(scope['source'])}</code>")
    if scope.get("table"):
        where.append(f"table <code>{esc(scope['table'])}</code>")
    if scope.get("accounts"):
        where.append("accounts " + esc(", ".join(scope["accounts"])))
    if scope.get("regions"):
        where.append("regions " + esc(", ".join(scope["regions"])))
    findings = report.get("findings", {}).get("summary", {})
    kpis = [
        ("posture alarms", str(s["posture_alarms"]) if report.get("posture", {}).get("evaluated") else "–"),
        ("findings with rows", f"{findings.get('with_rows', 0)} / {findings.get('evaluated', 0)}"),
        ("coverage gaps", str(s["coverage_gaps"])),
        ("accounts and regions without records", str(s.get("accounts_without_records", 0))),
        ("not evaluated", str(s["not_evaluated"])),
        ("queries run", str(s["queries_run"])),
    ]
    if s.get("cost_usd") is not None:
        kpis.append(("Athena cost", usd(s["cost_usd"])))
    links = " · ".join(f'<a href="#{esc(k)}">{esc(k.replace("_", " "))}</a>' for k in report["sections"])
    return (f"<header><h1>Flow-log report {esc(report['month'])}</h1>"
            f"<p class=\"muted\">{esc(w['since'])} … {esc(w['until'])} (UTC days, inclusive) · "
            + " · ".join(where) + f" · flowsql {esc(report['flowsql_version'])}</p>"
            + (f'<p class="banner">NOT EVALUATED: {esc(s["reason"])}.</p>' if not s["evaluated"] else "")
            + '<div class="kpis">' + "".join(f'<div class="kpi"><b>{esc(v)}</b><span>{esc(k)}</span></div>'
                                           for k, v in kpis) + "</div>"
            f"<p class=\"small\">{links}</p>"
            "<p class=\"small muted\">Every figure names its evidence (E1, E2, …): the query, its parameters, "
            "the SQL as it ran, what was read or scanned, and the SHA-256 of its rows, in the appendix.</p>"
            "</header>")


def md_page(report: dict) -> str:
    """report.md."""
    s, scope, w = report["summary"], report["scope"], report["window"]
    lines = [f"# Flow-log report {text(report['month'])}", "",
             f"{text(w['since'])} … {text(w['until'])} (UTC days, inclusive) · engine {text(scope['engine'])}"
             + (f" · source {code_span(scope['source'])}" if scope.get("source") else "")
             + (f" · table {code_span(scope['table'])}" if scope.get("table") else "")
             + (f" · accounts {text(', '.join(scope['accounts']))}" if scope.get("accounts") else "")
             + (f" · regions {text(', '.join(scope['regions']))}" if scope.get("regions") else "")
             + f" · flowsql {text(report['flowsql_version'])}", ""]
    if not s["evaluated"]:
        lines += [f"**NOT EVALUATED: {text(s['reason'])}.**", ""]
    findings = report.get("findings", {}).get("summary", {})
    pairs = [("posture alarms", str(s["posture_alarms"]) if report.get("posture", {}).get("evaluated") else "–"),
             ("findings with rows", f"{findings.get('with_rows', 0)} of {findings.get('evaluated', 0)} evaluated"),
             ("coverage gaps", str(s["coverage_gaps"])),
             ("accounts and regions without records", str(s.get("accounts_without_records", 0))),
        ("accounts and regions without records", str(s.get("accounts_without_records", 0))),
             ("not evaluated", str(s["not_evaluated"])),
             ("queries run", str(s["queries_run"]))]
    if s.get("cost_usd") is not None:
        pairs.append(("Athena cost", usd(s["cost_usd"])))
    lines += [kv_table(pairs), "",
              "Every figure names its evidence (E1, E2, …): the query, its parameters, the SQL as it ran, what "
              "was read or scanned, and the SHA-256 of its rows, in the appendix.", ""]
    for section in discover():
        if section.KEY in report:
            lines += [f"## {text(section.TITLE)}", "", section.markdown(report[section.KEY], report).rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"
