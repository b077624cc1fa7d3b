"""`flowsql report`: the monthly report (posture, findings, trends, evidence) as HTML, Markdown, JSON."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from .common import AccountOpt, RegionOpt, Spinner, app, command, ids, note, out
from .engine_options import engine_options


@command(app, "report")
@engine_options(exclude=("inventory",), shared={"profile": "The AWS CLI profile (Athena and --upload)."})
def report_cmd(
    month: str = typer.Option(..., "--month", metavar="YYYY-MM|previous",
                              help="The calendar month (UTC), or previous: the last full one."),
    engine=None,
    inventory: Optional[Path] = typer.Option(
        None, "--inventory", "-i", metavar="DIR",
        help="The inventory folder: its posture snapshot (either engine) and, on the local engine, the ENIs, "
             "subnets and VPCs that attribute traffic."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    policy: Optional[Path] = typer.Option(None, "--policy", metavar="FILE",
                                          help="A posture policy merged over the defaults (flowsql posture --show-policy)."),
    out_dir: Optional[str] = typer.Option(None, "--out", metavar="DIR",
                                          help="Where to write report.html, report.md, report.json (default "
                                               "reports/YYYY-MM; {month} in it becomes the month)."),
    upload: Optional[str] = typer.Option(None, "--upload", metavar="s3://BUCKET/PREFIX/",
                                         help="Also put the files at PREFIX/YYYY-MM/ in S3 ({month} in it "
                                              "places the month instead), checked by SHA-256."),
):
    """Write the month's report: coverage (did the logs arrive), posture (when the inventory holds a
    snapshot), every finding of the query pack, trends, and the evidence behind each figure (SQL,
    what was read or scanned, a SHA-256 of the rows). Prints the files' paths. Exits 1 (after
    writing) when a posture check alarms, when the month holds no record at all (the report is then
    marked not evaluated), or when an account, region or day that should have logged has no record.

    Example: flowsql report --month 2025-02 --engine local --source ./logs --inventory ./inv --out ./reports/2025-02
    """
    from ..report.run import ReportRun

    run = ReportRun.prepare(month, engine, out=out_dir, inventory=inventory,
                            accounts=ids(account, "--account", "account_id"),
                            regions=ids(region, "--region", "region"), policy=policy, upload=upload)
    if run.month_not_over:
        note(f"note: {run.month} is not over: the report covers its days so far")
    run.sweep()
    probe = run.check_upload()
    if probe is not None:
        note(f"checked that the report can be uploaded: wrote {probe}")
    started = time.perf_counter()
    tty = sys.stderr is not None and sys.stderr.isatty()
    with Spinner(f"report {run.month}: starting") as spin:
        def progress(i: int, n: int, query: str) -> None:
            if tty:
                spin.update(f"report {run.month}: running {i}/{n}: {query}")
            else:
                note(f"running {i}/{n}: {query}")

        report = run.build(progress)
    for path in run.write():
        out(str(path))
    for item in run.upload():
        note(f"uploaded {item['uri']} (sha256 {item['sha256']})")
    _summary(report, time.perf_counter() - started)
    if report["summary"]["exit_code"]:
        raise typer.Exit(report["summary"]["exit_code"])


def _summary(report: dict, elapsed: float) -> None:
    s = report["summary"]
    findings = report.get("findings", {}).get("summary", {})
    line = (f"report {report['month']}: {s['queries_run']} queries in {elapsed:.1f} s; findings with rows: "
            f"{findings.get('with_rows', 0)} of {findings.get('evaluated', 0)}")
    if s["cost_usd"] is not None:
        line += f"; Athena scanned {s['data_scanned_bytes'] or 0:,} bytes, cost ≈ ${s['cost_usd']:.6f}"
    note(line)
    if not s["evaluated"]:
        note(f"report {report['month']}: NOT EVALUATED: {s['reason']}")
    # when not evaluated, everything not run for that reason is one line, not one line each
    because = [i for i in report.get("not_evaluated", []) if not s["evaluated"] and s["reason"] in i["reason"]]
    for item in report.get("not_evaluated", []):
        if item not in because:
            note(f"not evaluated: {item['section']}/{item['name']}: {item['reason']}")
    if because:
        note(f"not evaluated: {len(because)} part(s) of the report for that reason (the report lists them)")
    if s["coverage_gaps"]:
        note(f"coverage: {s['coverage_gaps']} account(s)/region(s) without records on some day of the month "
             "(listed above; the report's Coverage section has them)")
    skipped = {f["path"] for e in report.get("evidence", {}).get("queries", []) for f in e["skipped"]}
    if skipped:
        note(f"SKIPPED {len(skipped)} unreadable file(s) (listed in the report's evidence)")
    if report.get("posture", {}).get("evaluated"):
        c = report["posture"]["counts"]
        note("posture: " + ", ".join(f"{n} {k}" for k, n in c.items()) + (" — ALARM" if c.get("alarm") else ""))
