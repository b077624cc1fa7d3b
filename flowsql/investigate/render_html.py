"""case.html: one self-contained file, readable offline and printable, by the monthly report's rules.

The report's CSS and pieces (flowsql.report.render_html): inline CSS, charts as inline SVG, no
script, no font, image or link to fetch (a Content-Security-Policy says so to the browser), every
value escaped. Printed or saved as PDF it shows in full what the screen folds away: the SQL as it
ran, the hour-by-hour numbers, every input file with its SHA-256.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..report import charts
from ..report.render_html import CSP, CSS, esc, fold, kv_table
from . import text as words
from .build import SHOWN

# the case's tables are wider than the report's: a smaller type, and times that do not wrap
CASE_CSS = "table { font-size: 11.5px; } td.time { white-space: nowrap; }"
_TIMES = {"first seen", "last seen", "hour"}
_NUMERIC = {"flows", "accepted", "rejected", "packets", "bytes", "sent", "received", "bytes sent", "bytes received"}


def _table(columns: list[str], rows: list[dict], *, total: int | None = None) -> str:
    """Rows of text; `total`: how many rows there are in all (the first ones are given)."""
    shown = rows
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    def cell(c, v):
        kind = "num" if c in _NUMERIC else "time" if c in _TIMES else ""
        return f'<td class="{kind}">{esc(v)}</td>' if kind else f"<td>{esc(v)}</td>"

    body = "".join("<tr>" + "".join(cell(c, r[c]) for c in columns) + "</tr>" for r in shown)
    if not rows:
        body = f'<tr><td colspan="{len(columns)}" class="muted">none</td></tr>'
    more = ""
    if total is not None and total > len(rows):
        more = f'<p class="muted small">… and {total - len(rows):,} more row(s) (case.json has them all).</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _hours(case: dict) -> list[datetime]:
    """Every hour of the window (and any hour with records outside it: a flow that began before the
    first day's midnight), so an hour without records is a gap in the chart, not left out."""
    w = case["window"]
    first = datetime.fromisoformat(w["since"]).replace(tzinfo=timezone.utc)
    last = datetime.fromisoformat(w["until"]).replace(tzinfo=timezone.utc) + timedelta(hours=23)
    seen = [datetime.strptime(r["hour"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            for r in case["timeline"]["rows"] if r["hour"]]
    first, last = min([first, *seen]), max([last, *seen])
    n = int((last - first).total_seconds() // 3600) + 1
    return [first + timedelta(hours=i) for i in range(n)]


def timeline_charts(case: dict) -> str:
    hours = _hours(case)
    by_hour = {r["hour"]: r for r in case["timeline"]["rows"]}
    keys = [h.strftime("%Y-%m-%dT%H:%M:%SZ") for h in hours]
    rows = [by_hour.get(k, {}) for k in keys]
    labels = [h.strftime("%Y-%m-%d %H:00 UTC") for h in hours]
    days = [i for i, h in enumerate(hours) if h.hour == 0]
    every = max(1, -(-len(days) // 16))  # at most 16 day labels under a chart
    ticks = {i: hours[i].strftime("%m-%d") for i in days[::every]}

    def series(key):
        return [r.get(key) for r in rows]

    unknown = [None if not r else max((r.get("bytes") or 0) - (r.get("bytes_sent") or 0)
                                      - (r.get("bytes_received") or 0), 0) for r in rows]
    volume = [("bytes sent", charts.ACCEPTED, series("bytes_sent")),
              ("bytes received", charts.BAR, series("bytes_received"))]
    if any(unknown):
        volume.append(("bytes, direction unknown", charts.MUTED, unknown))
    empty = "no record of the subject in the window"
    return (charts.columns(labels, volume, title="Bytes per hour (UTC)", fmt=charts.human_bytes, ticks=ticks,
                           empty=empty)
            + charts.columns(labels, [("accepted flows", charts.ACCEPTED, series("accepted_flows")),
                                      ("rejected flows", charts.REJECTED, series("rejected_flows"))],
                             title="Flows per hour (UTC)", ticks=ticks, empty=empty))


def _section(key: str, inner: str) -> str:
    return f'<section id="{esc(key)}"><h2>{esc(words.TITLES[key])}</h2>{inner}</section>'


def page(case: dict) -> str:
    w = words
    parts = [_header(case)]
    tl = case["timeline"]["rows"]
    parts.append(_section("timeline", timeline_charts(case)
                          + fold(f"Hour by hour ({len(tl):,} hour(s) with records)",
                                 _table(w.TIMELINE_COLUMNS, w.timeline_rows(tl)))))
    peers = case["peers"]
    parts.append(_section("peers", f"<p class=\"small\">{len(peers['rows']):,} row(s): one per peer address and "
                          "direction (outbound: the subject sent to it; inbound: it received from it); ports are "
                          "destination ports; network: vpc (inside a VPC of the inventory), private or internet.</p>"
                          + _table(w.PEER_COLUMNS, w.peer_rows(peers["rows"][:SHOWN]), total=len(peers["rows"]))))
    net = case["internet"]
    top = [(d["address"], d["bytes"]) for d in net["top_destinations"]]
    parts.append(_section("internet", "".join(f"<p>{esc(line)}</p>" for line in w.internet_lines(net))
                          + (charts.bars(top, title="Internet destinations by bytes") if top else "")))
    rej = case["rejected"]
    parts.append(_section("rejected", f"<p>{rej['flows']:,} rejected flow(s): {rej['flows_outbound']:,} outbound, "
                          f"{rej['flows_inbound']:,} inbound. A security group's deny is logged as REJECT, as a "
                          "network ACL's is.</p>" + _table(w.REJECTED_COLUMNS, w.rejected_rows(rej["rows"][:SHOWN]),
                                                     total=len(rej["rows"]))))
    ifaces = case["interfaces"]
    details = "".join(
        f"<li><code>{esc(r['interface_id'])}</code>: {esc(r['inventory']['description'] or 'no description')}; "
        f"addresses {esc(', '.join(r['inventory']['addresses']) or '–')}; security groups "
        f"{esc(', '.join(r['inventory']['security_groups']) or '–')}; in {esc(', '.join(r['inventory']['snapshots']))}</li>"
        for r in ifaces["rows"][:SHOWN] if r["inventory"])
    parts.append(_section("interfaces", (f'<p class="ne">Not attributed: {esc(ifaces["reason"])}</p>'
                                         if not ifaces["evaluated"] else "")
                          + _table(w.INTERFACE_COLUMNS, w.interface_rows(ifaces, SHOWN), total=len(ifaces["rows"]))
                          + (f'<ul class="small">{details}</ul>' if details else "")))
    ecs = case["ecs_tasks"]["rows"]
    parts.append(_section("ecs_tasks", _table(w.ECS_COLUMNS, w.ecs_rows(ecs[:SHOWN]), total=len(ecs)) if ecs else
                          "<p class=\"muted\">No record of the subject names an ECS task (the ecs-* fields of a "
                          "version 7 log format do).</p>"))
    if "undirected" in case:
        u = case["undirected"]
        known = ", ".join(u["addresses"]) or "none known: it is in no folder of the inventory"
        parts.append(_section("undirected", f"<p>{u['flows']:,} flow(s) of the interface have no direction: no "
                              f"flow-direction field, and neither address is one of the interface's own "
                              f"({esc(known)}).</p>" + _table(w.UNDIRECTED_COLUMNS, w.undirected_rows(u["rows"][:SHOWN]),
                                                           total=len(u["rows"]))))
    ne = case["not_evaluated"]
    parts.append(_section("not_evaluated", "<ul>" + "".join(
        f"<li class=\"ne\">{esc(i['section'])}/{esc(i['name'])}: {esc(i['reason'])}</li>" for i in ne) + "</ul>"
        if ne else "<p class=\"muted\">Nothing: every section was computed.</p>"))
    parts.append(_section("evidence", _evidence(case["evidence"])))
    title = f"Case {case['subject']['value']} {case['window']['since']} … {case['window']['until']}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>{CSS}{CASE_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")


def _header(case: dict) -> str:
    w = words
    v = w.verdict_line(case)
    links = " · ".join(f'<a href="#{esc(k)}">{esc(t)}</a>' for k, t in w.TITLES.items()
                       if k != "undirected" or "undirected" in case)
    return (f"<header><h1>Case: {esc(w.subject_line(case))}</h1><p class=\"muted\">{esc(w.scope_line(case))}</p>"
            + (f'<p class="banner">{esc(v)}</p>' if v else "")
            + '<div class="kpis">' + "".join(f'<div class="kpi"><b>{esc(val)}</b><span>{esc(k)}</span></div>'
                                           for k, val in w.kpis(case)) + "</div>"
            f'<p class="small">{links}</p><p class="small muted">{esc(w.ABOUT)}</p></header>')


def _evidence(ev: dict) -> str:
    w = words
    out = [f'<p class="small">{esc(ev["rows_sha256"])} To check a figure, run the query\'s command (or its SQL, '
           "on Athena) and hash its rows the same way.</p>"]
    for e in ev["queries"]:
        out.append(f'<div class="evidence" id="{esc(e["id"])}"><h3>{esc(e["id"])} · {esc(e["title"])}</h3>')
        out.append(kv_table([(k, f"<code>{esc(v)}</code>" if k in w.CODE_FACTS else esc(v))
                             for k, v in w.evidence_facts(e)]))
        out.append(fold("SQL as it ran", f"<pre>{esc(e['sql'])}</pre>") + "</div>")
    out.append(f"<h3>Inputs</h3><p class=\"small\">{len(ev['inputs']):,} file(s) read, with their SHA-256.</p>")
    out.append(fold(f"The {len(ev['inputs']):,} input file(s)", _table(w.INPUT_COLUMNS, w.input_rows(ev["inputs"]))))
    out.append(f"<p>Make the case again: <code>{esc(ev['command'])}</code></p>")
    return "\n".join(out)
