"""`flowsql inventory sync`: the account's ENIs, subnets and VPCs written as `aws ec2 describe-…` would,
the network configuration diagnose evaluates (security groups, network ACLs, route tables: see
.configuration) and the posture snapshot beside them (flow logs, their log groups and buckets: see
.posture)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timezone
from pathlib import Path

from ..errors import SourceError
from ..files import Refused

# file -> (EC2 paginator, key); the same files and keys as `aws ec2 describe-…` writes.
_SYNC = (
    ("network-interfaces.json", "describe_network_interfaces", "NetworkInterfaces"),
    ("subnets.json", "describe_subnets", "Subnets"),
    ("vpcs.json", "describe_vpcs", "Vpcs"),
)
DEFAULT_PAGE_SIZE = 1000  # EC2's maximum MaxResults for these calls (minimum 5)


class Synced(dict):
    """File name -> number of items written, plus the posture snapshot's bucket files (`written`,
    `absent`: the configuration does not exist) and `warnings`: files that could not be written."""

    def __init__(self, counts=(), *, written=(), absent=(), warnings=()):
        super().__init__(counts)
        self.written, self.absent, self.warnings = list(written), list(absent), list(warnings)


def _aws(source):
    """A flowsql.aws.Aws from itself or a boto3 Session (its region is the one inventoried)."""
    from ..aws import Aws

    return source if isinstance(source, Aws) else Aws(source)


def sync(source, out_dir: Path, *, page_size: int = DEFAULT_PAGE_SIZE, posture: bool = True,
         today: date | None = None) -> Synced:
    """Write network-interfaces.json, subnets.json and vpcs.json as `aws ec2 describe-…` would, the
    network configuration (security-groups.json, network-acls.json, route-tables.json, prefix-lists/)
    and (with `posture`) the posture snapshot: flow-logs.json, log-groups.json, buckets/BUCKET/….

    The three inventory files are also kept as a dated snapshot, `out_dir/YYYY-MM-DD/` (today, UTC;
    a later sync the same day replaces it): ENIs come and go (Lambda deletes idle ones), and a query
    over a past window attributes traffic with the snapshots that cover it (documents.snapshot_folders).

    `source` is a flowsql.aws.Aws or a boto3 Session; its region is the one inventoried. Every page of
    DescribeNetworkInterfaces/Subnets/Vpcs (`page_size` items, 5–1000) is written as it arrives, so
    10,000 ENIs never sit in memory at once; each file replaces the old one atomically. A posture
    file that cannot be read (access denied on one bucket, say) is a warning in the result, and
    the rest is still written.
    """
    from ..aws import aws_errors
    from ..files import Tree
    from .cli_json import cli_operation, write_cli_json
    from .configuration_sync import sync_configuration
    from .snapshot_sync import sync_posture

    if not 5 <= page_size <= 1000:
        raise SourceError("page size must be between 5 and 1000 (EC2's MaxResults range)")
    out = Path(out_dir)
    aws = _aws(source)
    ec2 = aws.client("ec2")
    counts: dict[str, int] = {}
    try:
        tree = Tree(out, create=True)  # nothing is written or removed through a link in it
        for name, operation, key in _SYNC:
            with aws_errors(f"inventory: ec2:{cli_operation(operation)}"):
                pages = ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": page_size})
                counts[name] = write_cli_json(tree, name, key,
                                               (item for page in pages for item in page.get(key, [])))
        day = today or datetime.now(timezone.utc).date()
        _keep_dated(tree, day)
        c = sync_configuration(aws, tree, day, page_size=page_size)
        counts.update(c.counts)
        if not posture:
            return Synced(counts, warnings=c.warnings)
        p = sync_posture(aws, tree)
    except Refused as e:  # a link where sync writes or tidies: nothing went through it
        raise SourceError(f"cannot write the inventory to {out}: {e.strerror}") from None
    except OSError as e:  # --out is a file, read-only, on a full disk, …: the user's to fix
        raise SourceError(f"cannot write the inventory to {out}: {e.strerror or e}"
                          + (f" ({e.filename})" if e.filename else "")) from None
    return Synced({**counts, **p.counts}, written=p.written, absent=p.absent, warnings=c.warnings + p.warnings)


def _keep_dated(tree, day: date) -> None:
    """Copy the latest inventory files into out/YYYY-MM-DD/ (each copy atomic)."""
    for name, _, _ in _SYNC:
        with open(tree.path(name), encoding="utf-8") as src, tree.writer(f"{day.isoformat()}/{name}") as dst:
            shutil.copyfileobj(src, dst)
