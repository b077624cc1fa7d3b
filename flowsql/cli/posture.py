"""`flowsql posture`: is flow logging designed and working? Checks over an inventory snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .common import OutputFormat, app, command, note, out, print_rows

_DESIGN_COLUMNS = ("vpc", "name", "account", "region", "class", "destinations", "est_monthly_usd")
_DESIGN_CSV = ("vpc", "name", "account", "region", "class", "class_source", "exempt", "destinations",
               "est_monthly_usd", "cloudwatch_logs_ingestion", "cloudwatch_logs_storage", "s3_delivery",
               "s3_storage", "notes")


@command(app, "posture")
def posture_cmd(
    inventory: Optional[Path] = typer.Option(None, "--inventory", metavar="DIR",
                                             help="The snapshot folder (`flowsql inventory sync --out DIR`), or "
                                                  "a tree of them (`… --regions/--accounts/--organization`)."),
    policy: Optional[Path] = typer.Option(None, "--policy", metavar="FILE",
                                          help="A YAML policy merged over the defaults (see --show-policy)."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o",
                                        help="table (the checks, then the design sheet), json or csv."),
    design: bool = typer.Option(False, "--design", help="Print only the design sheet: each VPC's class, "
                                "destinations, retention and estimated monthly cost."),
    show_policy: bool = typer.Option(False, "--show-policy", help="Print the policy (the defaults, or with "
                                     "--policy the effective one) and exit."),
):
    """Check that flow logging is designed and working: one row per check and resource (ok, alarm,
    skip, info), and a design sheet per VPC. Over a tree of snapshots (one per account and region),
    every account and region; one the sync could not read is a "not evaluated" row. Exit 1 when any
    check alarms or anything is not evaluated.

    Example: flowsql posture --inventory ./inv -o json
    """
    from .. import posture
    from ..posture.policy import default_policy_text, policy_yaml

    pol = posture.load_policy(policy)  # a bad policy file is exit 2 before anything is read
    if show_policy:
        out(policy_yaml(pol) if policy else default_policy_text(), nl=False, raw=True)  # a file to keep
        return
    if inventory is None:
        raise UsageError("--inventory DIR is required (the folder `flowsql inventory sync --out DIR` writes)")
    inv = posture.load_snapshots(inventory)
    rows = posture.evaluate_snapshots(inv, pol)
    sheet = posture.design_snapshots(inv, pol) if design or output is OutputFormat.table else []
    for s in inv.skipped:
        note(f"posture: {s['account']} {s['region']}: skipped (opt-in region not enabled: {s['opt_in_status']})")
    if design:
        _print_design(sheet, output)
    else:
        print_rows(list(posture.COLUMNS), [tuple(r.as_dict().values()) for r in rows], output,
                   title="Posture checks")
        if output is OutputFormat.table:
            out("")
            _print_design(sheet, output)
    counts = {s: sum(r.status == s for r in rows) for s in posture.STATUSES}
    note(f"posture: {len(rows)} row(s): " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    if counts["alarm"] or counts[posture.NOT_EVALUATED]:
        raise typer.Exit(1)


def _destinations(row: dict) -> str:
    return "; ".join(f"{d['type']} {d['target']} ({d['retention']})" for d in row["destinations"]) or "none"


def _print_design(sheet: list[dict], output: OutputFormat) -> None:
    if output is OutputFormat.json:
        from ..files import dumps_json

        out(dumps_json(sheet, what="the design sheet", indent=2))
        return
    if output is OutputFormat.csv:
        rows = [(r["vpc"], r["name"], r["account"], r["region"], r["class"], r["class_source"], r["exempt"],
                 _destinations(r), r["est_monthly_usd"], *r["parts"].values(), "; ".join(r["notes"]))
                for r in sheet]
        print_rows(list(_DESIGN_CSV), rows, output)
        return
    rows = [(r["vpc"], r["name"], r["account"], r["region"], r["class"] + (" (exempt)" if r["exempt"] else ""),
             _destinations(r), f"{r['est_monthly_usd']:.2f}") for r in sheet]
    print_rows(list(_DESIGN_COLUMNS), rows, output, title="Design sheet (estimated monthly cost in USD at the "
                                                           "policy's list prices)")
    for r in sheet:
        for n in r["notes"]:
            note(f"  note: {r['vpc']}: {n}")
