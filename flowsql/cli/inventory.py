"""`flowsql inventory sync`: the ENI, subnet and VPC inventory that attributes traffic."""

from __future__ import annotations

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
    profile: Optional[str] = ProfileOpt,
    region: Optional[str] = AwsRegionOpt,
):
    """Write the account's ENIs, subnets and VPCs in the AWS CLI's JSON shapes (for --inventory), its
    security groups, network ACLs and route tables (for `flowsql diagnose`), and the posture snapshot:
    its flow logs, their CloudWatch Logs groups and S3 buckets' settings (for `flowsql posture`). A
    configuration or posture file that cannot be read is named on stderr and the command exits 1
    after writing everything else.

    Example: flowsql inventory sync --out ./inv && flowsql query lambda-egress --engine local --source ./logs --inventory ./inv
    """
    from ..engines.athena import config
    from ..aws import Aws
    from ..account.inventory_sync import sync

    out_dir = out_folder(out_dir)  # '' or a file: exit 2 before any AWS call
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
