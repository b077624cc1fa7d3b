"""`flowsql inventory sync`: the account's ENIs, subnets and VPCs written as `aws ec2 describe-…` would."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import SourceError

# file -> (EC2 paginator, key); the same files and keys as `aws ec2 describe-…` writes.
_SYNC = (
    ("network-interfaces.json", "describe_network_interfaces", "NetworkInterfaces"),
    ("subnets.json", "describe_subnets", "Subnets"),
    ("vpcs.json", "describe_vpcs", "Vpcs"),
)
DEFAULT_PAGE_SIZE = 1000  # EC2's maximum MaxResults for these calls (minimum 5)


def _ec2_client(source):
    """An EC2 client from a flowsql.aws.Aws, a boto3 Session or an EC2 client."""
    from ..aws import Aws, client_config

    if isinstance(source, Aws):
        return source.client("ec2")
    if hasattr(source, "describe_network_interfaces"):
        return source
    return source.client("ec2", config=client_config())


def sync(source, out_dir: Path, *, page_size: int = DEFAULT_PAGE_SIZE) -> dict[str, int]:
    """Write network-interfaces.json, subnets.json and vpcs.json as `aws ec2 describe-…` would.

    `source` is a flowsql.aws.Aws, a boto3 Session or an EC2 client (its region is the one
    inventoried). Every page of DescribeNetworkInterfaces/Subnets/Vpcs (`page_size` items, 5–1000)
    is written as it arrives, so 10,000 ENIs never sit in memory at once; each file replaces the
    old one atomically. Returns file name -> number of items.
    """
    from ..aws import aws_errors

    if not 5 <= page_size <= 1000:
        raise SourceError("page size must be between 5 and 1000 (EC2's MaxResults range)")
    out = Path(out_dir)
    ec2 = _ec2_client(source)
    counts: dict[str, int] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, operation, key in _SYNC:
            with aws_errors(f"inventory: ec2:{_camel(operation)}"):
                pages = ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": page_size})
                counts[name] = _write_cli_json(out / name, key,
                                               (item for page in pages for item in page.get(key, [])))
    except OSError as e:  # --out is a file, read-only, on a full disk, …: the user's to fix
        raise SourceError(f"cannot write the inventory to {out}: {e.strerror or e}") from None
    return counts


def _camel(operation: str) -> str:
    return "".join(w.capitalize() for w in operation.split("_"))


def _cli_default(value):
    # The AWS CLI prints timestamps as ISO 8601 (its default cli_timestamp_format).
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _write_cli_json(path: Path, key: str, items) -> int:
    """Write {"key": [items…]} exactly as `json.dumps(doc, indent=4)` would, one item at a time."""
    from ..files import atomic_writer

    n = 0
    with atomic_writer(path) as f:
        f.write("{\n    " + json.dumps(key) + ": [")
        for item in items:
            text = json.dumps(item, indent=4, ensure_ascii=False, default=_cli_default)
            f.write(("\n" if n == 0 else ",\n") + "\n".join("        " + line for line in text.split("\n")))
            n += 1
        f.write("\n    ]\n}\n" if n else "]\n}\n")
    return n
