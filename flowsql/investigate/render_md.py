"""case.md: the case as Markdown (GitHub's flavour: pipe tables, fenced code) for the incident ticket.
The same content as case.html, tables in place of charts.

Every value from the data, the inventory or the options is shown literally: outside a code block
it goes through `text()` (or `code_span()`; both are the report's, flowsql/report/render_md.py), so
no ENI description, ECS name or folder name can make a link, an image, emphasis, a new table cell or
row, HTML, or a heading.
"""

from __future__ import annotations

from ..report.render_md import code, code_span, text
from . import text as words
from .build import SHOWN


def _table(columns: list[str], rows: list[dict], *, numeric=(), total: int | None = None) -> str:
    """Rows of text; `total`: how many rows there are in all (the first ones are given)."""
    shown = rows
    lines = ["| " + " | ".join(text(c) for c in columns) + " |",
             "|" + "|".join("---:" if c in numeric else "---" for c in columns) + "|"]
    lines += ["| " + " | ".join(text(r[c]) for c in columns) + " |" for r in shown]
    if total is not None and total > len(rows):
        lines += ["", f"… and {total - len(rows):,} more row(s) (case.json has them all)."]
    if not rows:
        lines.append("| " + " | ".join(["–"] * len(columns)) + " |")
    return "\n".join(lines)


def _kv_table(pairs: list[tuple[str, str]], *, code_keys=()) -> str:
    def value(k, v):
        return code_span(v, in_table=True) if k in code_keys else text(v)

    return "\n".join(["| | |", "|---|---|"] + [f"| {text(k)} | {value(k, v)} |" for k, v in pairs])


_NUMERIC = {"flows", "accepted", "rejected", "packets", "bytes", "sent", "received", "bytes sent", "bytes received"}


def page(case: dict) -> str:
    w = words
    out = [f"# Case: {text(w.subject_line(case))}", "", text(w.scope_line(case), starts_line=True), ""]
    v = w.verdict_line(case)
    if v:
        out += [f"**{text(v)}**", ""]
    out += [_kv_table(w.kpis(case)), "", text(w.ABOUT, starts_line=True), ""]

    out += [f"## {w.TITLES['timeline']}", ""]
    out += [_table(w.TIMELINE_COLUMNS, w.timeline_rows(case["timeline"]["rows"]), numeric=_NUMERIC), ""]

    peers = case["peers"]
    out += [f"## {w.TITLES['peers']}", "",
            text(f"{len(peers['rows']):,} peer row(s): one per address and direction (outbound: the subject "
                 "sent to it; inbound: it received from it); ports are destination ports.", starts_line=True), ""]
    out += [_table(w.PEER_COLUMNS, w.peer_rows(peers["rows"][:SHOWN]), numeric=_NUMERIC, total=len(peers["rows"])), ""]

    out += [f"## {w.TITLES['internet']}", ""] + [text(line, starts_line=True) + "\n" for line in
                                                  w.internet_lines(case["internet"])]

    rej = case["rejected"]
    out += [f"## {w.TITLES['rejected']}", "",
            text(f"{rej['flows']:,} rejected flow(s): {rej['flows_outbound']:,} outbound, {rej['flows_inbound']:,} "
                 "inbound. A security group's deny is logged as REJECT, as a network ACL's is.", starts_line=True),
            "", _table(w.REJECTED_COLUMNS, w.rejected_rows(rej["rows"][:SHOWN]), numeric=_NUMERIC,
                  total=len(rej["rows"])), ""]

    ifaces = case["interfaces"]
    out += [f"## {w.TITLES['interfaces']}", ""]
    if not ifaces["evaluated"]:
        out += [text(f"Not attributed: {ifaces['reason']}", starts_line=True), ""]
    out += [_table(w.INTERFACE_COLUMNS, w.interface_rows(ifaces, SHOWN), numeric=_NUMERIC,
                   total=len(ifaces["rows"])), ""]
    for r in ifaces["rows"][:SHOWN]:
        inv = r["inventory"]
        if inv and (inv["description"] or inv["addresses"]):
            out.append("- " + code_span(r["interface_id"]) + ": " + text(
                f"{inv['description'] or 'no description'}; addresses {', '.join(inv['addresses']) or '–'}; "
                f"security groups {', '.join(inv['security_groups']) or '–'}; in {', '.join(inv['snapshots'])}"))
    out.append("")

    ecs = case["ecs_tasks"]
    out += [f"## {w.TITLES['ecs_tasks']}", ""]
    if ecs["rows"]:
        out += [_table(w.ECS_COLUMNS, w.ecs_rows(ecs["rows"][:SHOWN]), numeric=_NUMERIC, total=len(ecs["rows"])), ""]
    else:
        out += ["No record of the subject names an ECS task (the ecs-* fields of a version 7 log format do).", ""]

    if "undirected" in case:
        u = case["undirected"]
        out += [f"## {w.TITLES['undirected']}", "",
                text(f"{u['flows']:,} flow(s) of the interface have no direction: no flow-direction field, and "
                     "neither address is one of the interface's own ("
                     + (", ".join(u["addresses"]) or "none known: it is in no folder of the inventory") + ").",
                     starts_line=True), "",
                _table(w.UNDIRECTED_COLUMNS, w.undirected_rows(u["rows"][:SHOWN]), numeric=_NUMERIC,
                      total=len(u["rows"])), ""]

    out += [f"## {w.TITLES['not_evaluated']}", ""]
    if case["not_evaluated"]:
        out += ["- " + text(f"{i['section']}/{i['name']}: {i['reason']}") for i in case["not_evaluated"]]
    else:
        out.append("Nothing: every section was computed.")
    out.append("")

    ev = case["evidence"]
    out += [f"## {w.TITLES['evidence']}", "", text(ev["rows_sha256"], starts_line=True), ""]
    for e in ev["queries"]:
        out += [f"### {text(e['id'])} · {text(e['title'])}", "", _kv_table(w.evidence_facts(e), code_keys=w.CODE_FACTS),
                "", code(e["sql"], "sql"), ""]
    out += ["### Inputs", "", text(f"{len(ev['inputs']):,} file(s) read, with their SHA-256:", starts_line=True), "",
            _table(w.INPUT_COLUMNS, w.input_rows(ev["inputs"]), numeric={"bytes"}), "",
            "Make the case again: " + code_span(ev["command"]), ""]
    return "\n".join(out).rstrip() + "\n"
