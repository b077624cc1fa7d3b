"""`flowsql inventory sync`: the ENI, subnet and VPC inventory that attributes traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from .app import AwsRegionOpt, ProfileOpt, Spinner, command, out, sub_app

inventory_app = sub_app("inventory", "The ENI, subnet and VPC inventory that attributes traffic.")


@command(inventory_app, "sync")
def inventory_sync_cmd(
    out_dir: Path = typer.Option(..., "--out", "-o", metavar="DIR", help="Folder for network-interfaces.json, "
                                 "subnets.json, vpcs.json."),
    upload: bool = typer.Option(False, "--upload", help="Also put the rows in S3 and register the inventory "
                                "Glue tables (needs `flowsql setup`)."),
    profile: Optional[str] = ProfileOpt,
    region: Optional[str] = AwsRegionOpt,
):
    """Write the account's ENIs, subnets and VPCs in the AWS CLI's JSON shapes (for --inventory).

    Example: flowsql inventory sync --out ./inv && flowsql query lambda-egress --engine local --source ./logs --inventory ./inv
    """
    from .. import config
    from ..aws import Aws
    from ..inventory.sync import sync

    # Only --upload needs setup's settings (and its region, where the Glue tables are); a plain
    # sync follows the AWS CLI's region chain like any describe call.
    cfg = config.load(required=True) if upload else None
    if cfg is not None and not cfg.inventory_location:
        raise UsageError("the flowsql config names no inventory location; run `flowsql setup` again")
    aws = Aws.connect(profile, region or (cfg.region if cfg else None))
    with Spinner(f"reading ENIs, subnets and VPCs of {aws.region}"):
        counts = sync(aws, out_dir)
    for name, n in counts.items():
        out(f"{out_dir / name}: {n:,} item(s)")
    if cfg is not None:
        from ..inventory.upload import upload as upload_inventory

        with Spinner("uploading the inventory and registering its Glue tables"):
            rows = upload_inventory(aws, out_dir, location=cfg.inventory_location, database=cfg.database)
        for table, n in rows.items():
            name = cfg.inventory.get(table, f"inventory_{table}")
            out(f"{cfg.database}.{name}: {n:,} row(s) from this account and region")
        from datetime import datetime, timezone

        cfg.inventory_synced = datetime.now(timezone.utc).isoformat(timespec="seconds")
        config.save(cfg)
