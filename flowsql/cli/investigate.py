"""`flowsql investigate`: one address, CIDR block or ENI's case file (case.html, case.md, case.json)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import UsageError
from ..output import terminal_json
from .common import (AccountOpt, ListFormat, OutputFormat, RegionOpt, SinceOpt, Spinner, UntilOpt, app, command,
                     gc_paused, ids, note, out, out_folder, print_rows, window)
from .engine_options import engine_options

TOP = 10  # peers and interfaces in the table summary (the case files have them all)


@command(app, "investigate")
@engine_options(exclude=("inventory",))
def investigate_cmd(
    subject: str = typer.Argument(..., metavar="SUBJECT",
                                  help="An IPv4 or IPv6 address, a CIDR block or an ENI id (eni-…)."),
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine=None,
    inventory: Optional[Path] = typer.Option(
        None, "--inventory", "-i", metavar="DIR",
        help="The inventory folder (and its dated snapshots): whose ENIs logged the subject, which peers are "
             "in a VPC. Either engine."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    out_dir: Optional[str] = typer.Option(None, "--out", metavar="DIR",
                                          help="Where to write case.html, case.md, case.json (default "
                                               "cases/SUBJECT-SINCE-UNTIL)."),
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o",
                                      help="table (a summary) or json (case.json) on stdout."),
):
    """Write the case file of an address, a CIDR block or an ENI for the window: when it was first and
    last seen, every peer per direction (ports, protocols, flows, bytes, accepted and rejected; in a
    VPC, private or the internet), the ENIs that logged it and whose they are (the inventory and its
    dated snapshots, a deleted ENI included), bytes to the internet, rejected traffic, an hourly
    timeline, ECS tasks, and the evidence: the query and its SQL as it ran, what it read (every file
    with its SHA-256) or scanned and cost, and the command that makes the case again. The subject's
    records are read once. Exits 0 when the case is written (a subject without records is said in
    it), 1 when the window holds no log at all (the case is written, marked not evaluated).

    Example: flowsql investigate 10.0.1.23 --engine local --source ./logs --inventory ./inv --since -2d
    """
    from ..investigate import Options, build_case, load_attribution, parse_subject, render, write_case

    subj = parse_subject(subject)
    w = window(since, until)
    accounts = tuple(ids(account, "--account", "account_id"))
    regions = tuple(ids(region, "--region", "region"))
    target = out_folder(out_dir) or Path("cases") / f"{subj.safe_name()}-{w.since}-{w.until}"
    attribution = load_attribution(inventory, w)  # a missing folder or a malformed file: exit 2, before any query
    eng = engine.create(window=w, accounts=accounts, regions=regions)
    given = engine.options
    options = Options(engine=engine.name, source=given.source, inventory=inventory, accounts=accounts,
                      regions=regions, table=given.table, skip_bad_files=given.skip_bad_files, out=out_dir)
    # A busy subject's case is hundreds of thousands of small dicts and lists, none of them in a
    # cycle: the cyclic collector's passes over them would cost a fifth of the Python part's time.
    with gc_paused():
        try:
            with Spinner(f"investigating {subj.value} on {engine.name} ({w.since} … {w.until})") as spin:
                case = build_case(eng, w, subj, attribution, options, progress=spin.update)
        finally:
            eng.close()
        for line in _stats_lines(case):
            note(line)
        files = render(case)
        paths = write_case(files, target)
    if output is ListFormat.json:
        out(terminal_json(files["case.json"].decode("utf-8")), nl=False, raw=True)
    else:
        _summary(case)
    note("wrote " + ", ".join(str(p) for p in paths))
    for item in case["not_evaluated"]:
        note(f"not evaluated: {item['section']}/{item['name']}: {item['reason']}")
    if not case["summary"]["evaluated"]:
        note(f"case {subj.value}: NOT EVALUATED: {case['summary']['reason']}")
    if case["summary"]["exit_code"]:
        raise typer.Exit(case["summary"]["exit_code"])


def _stats_lines(case: dict) -> list[str]:
    """What the query read or scanned, as `flowsql query` says it on stderr."""
    from ..engines import get

    e = case["evidence"]["queries"][0]
    lines = [get(e["engine"]).read_summary(e)]
    if e["skipped"]:
        lines.append(f"SKIPPED {len(e['skipped'])} unreadable file(s):")
        lines += [f"  skipped {f['path']}: {f['reason']}" for f in e["skipped"]]
    if e["left_out"]:
        lines.append(f"LEFT OUT {len(e['left_out'])} file(s) that cannot answer this query:")
        lines += [f"  left out {f['path']}: {f['reason']}" for f in e["left_out"]]
    lines += [f"note: {n}" for n in e["notes"]]
    return lines


def _summary(case: dict) -> None:
    from ..investigate import text as words

    out(f"case: {words.subject_line(case)}")
    out(words.scope_line(case))
    v = words.verdict_line(case)
    if v:
        out(v)
    width = max(len(k) for k, _ in words.kpis(case))
    for k, val in words.kpis(case):
        out(f"  {k.ljust(width)}  {val}")
    peers = words.peer_rows(case["peers"]["rows"][:TOP])
    if peers:
        out("")
        cols = ["address", "direction", "network", "ports", "flows", "rejected", "bytes"]
        print_rows(cols, [tuple(p[c] for c in cols) for p in peers], OutputFormat.table,
                   title=f"top peers by bytes ({len(case['peers']['rows']):,} in the case file)")
    ifaces = words.interface_rows(case["interfaces"])[:TOP]
    if ifaces:
        out("")
        cols = ["interface", "attached to", "in inventory", "flows", "bytes"]
        print_rows(cols, [tuple(i[c] for c in cols) for i in ifaces], OutputFormat.table,
                   title=f"network interfaces ({len(case['interfaces']['rows']):,} in the case file)")
