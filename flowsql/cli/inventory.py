"""`flowsql inventory sync`: the ENI, subnet and VPC inventory that attributes traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import AwsError, UsageError
from .common import AwsRegionOpt, ProfileOpt, Spinner, command, note, out, out_folder, sub_app

inventory_app = sub_app("inventory", "The ENI, subnet and VPC inventory that attributes traffic.")


@command(inventory_app, "sync")
def inventory_sync_cmd(
    out_dir: str = typer.Option(..., "--out", "-o", metavar="DIR", help="Folder for network-interfaces.json, "
                                 "subnets.json, vpcs.json, the network configuration (security-groups.json, "
                                 "network-acls.json, route-tables.json, prefix-lists/) and the posture snapshot "
                                 "(flow-logs.json, log-groups.json, buckets/)."),
    upload: bool = typer.Option(False, "--upload", help="Also put the rows in S3 and register the inventory "
                                "Glue tables (needs `flowsql setup`)."),
    regions: Optional[str] = typer.Option(None, "--regions", metavar="all|R1,R2",
                                          help="One snapshot per region under DIR/ACCOUNT/REGION/ and "
                                               "DIR/manifest.json: all (every region enabled for the account; "
                                               "opt-in regions not enabled are listed as skipped) or names."),
    accounts: Optional[str] = typer.Option(None, "--accounts", metavar="A,B",
                                           help="These accounts (with --role-name): the caller's own is read "
                                                "directly, each other one through sts:AssumeRole."),
    organization: bool = typer.Option(False, "--organization",
                                      help="Every ACTIVE account of the organization (organizations:ListAccounts; "
                                           "from the management account or a delegated administrator), with "
                                           "--role-name."),
    role_name: Optional[str] = typer.Option(None, "--role-name", metavar="NAME",
                                            help="The role to assume in each account (e.g. "
                                                 "OrganizationAccountAccessRole; `flowsql iam-policy --for "
                                                 "inventory-role` prints one)."),
    external_id: Optional[str] = typer.Option(None, "--external-id", metavar="ID",
                                              help="The external id the role's trust policy requires."),
    profile: Optional[str] = ProfileOpt,
    region: Optional[str] = AwsRegionOpt,
):
    """Write the account's ENIs, subnets and VPCs in the AWS CLI's JSON shapes (for --inventory), its
    security groups, network ACLs and route tables (for `flowsql diagnose`), and the posture snapshot:
    its flow logs, their CloudWatch Logs groups and S3 buckets' settings (for `flowsql posture`). A
    configuration or posture file that cannot be read is named on stderr and the command exits 1
    after writing everything else.

    With --regions, --accounts or --organization: one snapshot per account and region under
    DIR/ACCOUNT/REGION/ and DIR/manifest.json (what was read, skipped, and not evaluated and why); an
    account or region that cannot be read is not evaluated, the others are written, and the command
    exits 1.

    Example: flowsql inventory sync --out ./inv && flowsql query lambda-egress --engine local --source ./logs --inventory ./inv

    Example: flowsql inventory sync --out ./org --organization --role-name OrganizationAccountAccessRole --regions all
    """
    from ..engines.athena import config
    from ..aws import Aws
    from ..account.inventory_sync import sync
    from ..account.tree_sync import check_tree_options

    out_dir = out_folder(out_dir)  # '' or a file: exit 2 before any AWS call
    plan = check_tree_options(regions=regions, accounts=accounts, organization=organization, role_name=role_name,
                              external_id=external_id)
    if plan.is_tree:
        if upload:
            raise UsageError("--upload takes one snapshot: sync each account and region's folder without "
                             "--regions/--accounts to upload it")
        _sync_tree(plan, out_dir, profile, region)
        return
    # Only --upload needs setup's settings (and its region, where the Glue tables are); a plain
    # sync follows the AWS CLI's region chain like any describe call.
    cfg = config.load(required=True) if upload else None
    if cfg is not None and not cfg.inventory_location:
        raise UsageError("the flowsql config names no inventory location; run `flowsql setup` again")
    aws = Aws.connect(profile, region or (cfg.region if cfg else None))
    with Spinner(f"reading ENIs, subnets, VPCs, security groups, network ACLs, route tables and flow-log settings "
                 f"of {aws.region}"):
        synced = sync(aws, out_dir)
    for name, n in synced.items():
        out(f"{out_dir / name}: {n:,} item(s)")
    for rel in synced.written:
        out(f"{out_dir / rel}: written")
    for rel in synced.absent:
        out(f"{out_dir / rel}: absent (no such configuration)")
    for w in synced.warnings:
        note(f"flowsql: warning: {w}")
    if cfg is not None:
        from ..account.inventory_upload import upload_inventory

        with Spinner("uploading the inventory and registering its Glue tables"):
            rows = upload_inventory(aws, out_dir, location=cfg.inventory_location, database=cfg.database)
        for table, n in rows.items():
            name = cfg.inventory.get(table, f"inventory_{table}")
            out(f"{cfg.database}.{name}: {n:,} row(s) from this account and region")
        from datetime import datetime, timezone

        cfg.inventory_synced = datetime.now(timezone.utc).isoformat(timespec="seconds")
        config.save(cfg)
    if synced.warnings:
        raise AwsError(f"the posture snapshot or network configuration in {out_dir} is incomplete: "
                       f"{len(synced.warnings)} part(s) could "
                       "not be read (see the warnings above); everything else was written")


def _sync_tree(plan, out_dir: Path, profile, region) -> None:
    from ..aws import Aws
    from ..account.tree_sync import sync_tree
    from ..output import terminal_text

    aws = Aws.connect(profile, region)
    with Spinner("reading the accounts' regions") as spin:
        done = sync_tree(aws, out_dir, plan, progress=spin.update)
    for (account, where), synced in sorted(done.snapshots.items()):
        out(f"{out_dir / account / where}: " + ", ".join(f"{n:,} {name.removesuffix('.json')}"
                                                        for name, n in synced.items()))
    for s in done.skipped:
        note(f"flowsql: skipped {s['account']} {s['region']}: opt-in region not enabled ({s['opt_in_status']})")
    for w in done.warnings:
        note(f"flowsql: warning: {w['account']} {w['region']}: {terminal_text(w['warning'])}")
    for e in done.not_evaluated:
        note(f"flowsql: NOT EVALUATED: {e['account']}{' ' + e['region'] if e['region'] else ''}: "
             f"{terminal_text(e['reason'])}")
    out(f"{out_dir / 'manifest.json'}: {len(done.snapshots)} snapshot(s), {len(done.not_evaluated)} not evaluated, "
        f"{len(done.skipped)} region(s) skipped")
    if done.not_evaluated or done.warnings:
        raise AwsError(f"the inventory tree in {out_dir} is incomplete: {len(done.not_evaluated)} account(s)/"
                       f"region(s) not evaluated, {len(done.warnings)} part(s) not read (see above); everything "
                       "else was written")
