"""`flowsql report`: the monthly report (posture, findings, trends, evidence) as HTML, Markdown, JSON."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import FlowsqlError, UsageError
from .common import AccountOpt, EngineName, RegionOpt, Spinner, app, command, ids, note, out
from .query import SkipOpt, SourceOpt, TableOpt, default_engine, engine_option, make_engine


@command(app, "report")
def report_cmd(
    month: str = typer.Option(..., "--month", metavar="YYYY-MM|previous",
                              help="The calendar month (UTC), or previous: the last full one."),
    engine: Optional[EngineName] = engine_option(),
    source: Optional[Path] = SourceOpt,
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
    skip_bad_files: bool = SkipOpt,
    table: Optional[str] = TableOpt,
    profile: Optional[str] = typer.Option(None, "--profile", help="The AWS CLI profile (Athena and --upload)."),
):
    """Write the month's report: coverage (did the logs arrive), posture (when the inventory holds a
    snapshot), every finding of the query pack, trends, and the evidence behind each figure (SQL,
    what was read or scanned, a SHA-256 of the rows). Prints the files' paths. Exits 1 (after
    writing) when a posture check alarms, when the month holds no record at all (the report is then
    marked not evaluated), or when an account, region or day that should have logged has no record.

    Example: flowsql report --month 2025-02 --engine local --source ./logs --inventory ./inv --out ./reports/2025-02
    """
    from .. import posture as posture_mod
    from ..aws import Aws
    from ..pack.queries import HeaderError, load_pack
    from ..pack.params import today_utc
    from ..report.build import Context, build_report
    from ..report.month import parse_month
    from ..report.upload import check_writable, keys_for
    from ..report.upload import upload as upload_files
    from ..report.write import check_out, render, sweep, write_files

    m = parse_month(month)
    if out_dir is not None and not out_dir.strip():
        raise UsageError("--out: empty value")
    target = Path(out_dir.replace("{month}", m.label)) if out_dir is not None else Path("reports") / m.label
    check_out(target)  # a folder or a link where a report file goes is refused before any work
    if upload is not None:
        keys_for(upload, m.label, ())  # a malformed location is refused before any work
    if inventory is not None and not inventory.is_dir():
        raise UsageError(f"--inventory {inventory}: no such folder")
    if policy is not None:
        posture_mod.load_policy(policy)
    accounts = tuple(ids(account, "--account", "account_id"))
    regions = tuple(ids(region, "--region", "region"))
    name = engine or default_engine(source)
    try:
        pack = {q.name: q for q in load_pack()}
    except HeaderError as e:
        raise FlowsqlError(f"the query pack is broken: {e}") from None
    if m.last >= today_utc():
        note(f"note: {m} is not over: the report covers its days so far")
    sweep(target)  # what a run killed while writing this report left beside it
    if upload is not None:  # a bucket that does not exist or may not be written: found before the queries
        aws_upload = Aws.connect(profile, None)
        note(f"checked that the report can be uploaded: wrote {check_writable(aws_upload, upload, m.label)}")
    eng = make_engine(name, source=source, inventory=inventory if name is EngineName.local else None,
                      window=m.window, accounts=accounts, regions=regions, skip_bad_files=skip_bad_files,
                      table=table, profile=profile)
    started = time.perf_counter()
    others: dict = {}  # the local engine reads the files of its own window: one per other window

    def engine_for(window):
        if window not in others:
            others[window] = make_engine(name, source=source, inventory=None, window=window, accounts=accounts,
                                         regions=regions, skip_bad_files=skip_bad_files, table=table,
                                         profile=profile)
        return others[window]

    ctx = Context(month=m, engine=eng, pack=pack, accounts=accounts, regions=regions, source=source,
                  inventory=inventory, policy=policy, table=table, skip_bad_files=skip_bad_files,
                  engine_for=engine_for if name is EngineName.local else None)
    tty = sys.stderr is not None and sys.stderr.isatty()
    try:
        with Spinner(f"report {m}: starting") as spin:
            def progress(i: int, n: int, query: str) -> None:
                if tty:
                    spin.update(f"report {m}: running {i}/{n}: {query}")
                else:
                    note(f"running {i}/{n}: {query}")

            report = build_report(ctx, progress)
    finally:
        eng.close()
        for other in others.values():
            other.close()
    files = render(report)
    for path in write_files(files, target):
        out(str(path))
    if upload is not None:
        for item in upload_files(aws_upload, files, upload, m.label):
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
