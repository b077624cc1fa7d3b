"""The inventory: ENIs, subnets and VPCs in the AWS CLI's `describe-*` JSON shapes, and their rows.

The rows are what both engines join on: `enis`, `eni_ips`, `subnets`, `vpc_cidrs` (see TABLES).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SourceError

# file name -> top-level key of `aws ec2 describe-…` output
FILES = {
    "network-interfaces.json": "NetworkInterfaces",
    "subnets.json": "Subnets",
    "vpcs.json": "Vpcs",
}

LAMBDA_DESCRIPTION_PREFIX = "AWS Lambda VPC ENI"

# table -> ordered (column, type) pairs; all strings except is_lambda.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "enis": (
        ("interface_id", "string"),
        ("subnet_id", "string"),
        ("vpc_id", "string"),
        ("account_id", "string"),
        ("interface_type", "string"),
        ("description", "string"),
        ("is_lambda", "boolean"),
    ),
    "eni_ips": (("interface_id", "string"), ("private_ip", "string")),
    "subnets": (
        ("subnet_id", "string"),
        ("vpc_id", "string"),
        ("cidr_block", "string"),
        ("availability_zone", "string"),
        ("account_id", "string"),
    ),
    "vpc_cidrs": (("vpc_id", "string"), ("cidr", "string")),
}


def is_lambda_eni(eni: dict) -> bool:
    """Lambda's Hyperplane ENIs: InterfaceType `lambda`, or the description Lambda gives them."""
    return eni.get("InterfaceType") == "lambda" or (eni.get("Description") or "").startswith(
        LAMBDA_DESCRIPTION_PREFIX
    )


@dataclass
class Inventory:
    enis: list[dict] = field(default_factory=list)
    eni_ips: list[dict] = field(default_factory=list)
    subnets: list[dict] = field(default_factory=list)
    vpc_cidrs: list[dict] = field(default_factory=list)

    def table(self, name: str) -> list[dict]:
        return getattr(self, name)


def rows_from_documents(network_interfaces: list, subnets: list, vpcs: list) -> Inventory:
    """Flatten describe-* items into the inventory tables' rows."""
    inv = Inventory()
    for eni in network_interfaces:
        eni_id = eni.get("NetworkInterfaceId")
        if not eni_id:
            continue
        inv.enis.append({
            "interface_id": eni_id,
            "subnet_id": eni.get("SubnetId"),
            "vpc_id": eni.get("VpcId"),
            "account_id": eni.get("OwnerId"),
            "interface_type": eni.get("InterfaceType"),
            "description": eni.get("Description"),
            "is_lambda": is_lambda_eni(eni),
        })
        ips = [a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or []]
        ips.append(eni.get("PrivateIpAddress"))
        ips += [a.get("Ipv6Address") for a in eni.get("Ipv6Addresses") or []]
        for ip in dict.fromkeys(i for i in ips if i):
            inv.eni_ips.append({"interface_id": eni_id, "private_ip": ip})
    for sn in subnets:
        if sn.get("SubnetId"):
            inv.subnets.append({
                "subnet_id": sn["SubnetId"],
                "vpc_id": sn.get("VpcId"),
                "cidr_block": sn.get("CidrBlock"),
                "availability_zone": sn.get("AvailabilityZone"),
                "account_id": sn.get("OwnerId"),
            })
    for vpc in vpcs:
        cidrs = [a.get("CidrBlock") for a in vpc.get("CidrBlockAssociationSet") or []]
        for cidr in dict.fromkeys(c for c in cidrs if c):
            inv.vpc_cidrs.append({"vpc_id": vpc.get("VpcId"), "cidr": cidr})
    return inv


def load(directory: Path | None) -> Inventory:
    """Read an inventory folder; a missing folder is an error, a missing file an empty table."""
    if directory is None:
        return Inventory()
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(f"inventory folder {directory} does not exist")
    docs = {}
    for name, key in FILES.items():
        path = directory / name
        if not path.exists():
            docs[key] = []
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))  # PowerShell's `>` writes a BOM
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SourceError(f"{path}: not readable AWS CLI JSON ({e})") from None
        items = data.get(key, []) if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise SourceError(f"{path}: expected an object with a {key!r} list of objects, "
                              "as `aws ec2 describe-…` prints")
        docs[key] = items
    if not any(docs.values()) and not any((directory / n).exists() for n in FILES):
        raise SourceError(f"inventory folder {directory} has none of {', '.join(FILES)}")
    try:
        return rows_from_documents(docs["NetworkInterfaces"], docs["Subnets"], docs["Vpcs"])
    except (AttributeError, TypeError) as e:  # a field of the wrong JSON type somewhere inside
        raise SourceError(f"inventory folder {directory}: not in the AWS CLI's shapes ({e})") from None


# -- from AWS: `flowsql inventory sync [--upload]` -------------------------------------------

# file -> (EC2 paginator, key); the same files and keys as `aws ec2 describe-…` writes.
_SYNC = (
    ("network-interfaces.json", "describe_network_interfaces", "NetworkInterfaces"),
    ("subnets.json", "describe_subnets", "Subnets"),
    ("vpcs.json", "describe_vpcs", "Vpcs"),
)
DEFAULT_PAGE_SIZE = 1000  # EC2's maximum MaxResults for these calls (minimum 5)


def _ec2_client(source):
    """An EC2 client from a flowsql.aws.Aws, a boto3 Session or an EC2 client."""
    from .aws import Aws, client_config

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
    from .aws import aws_errors

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
    from .files import atomic_writer

    n = 0
    with atomic_writer(path) as f:
        f.write("{\n    " + json.dumps(key) + ": [")
        for item in items:
            text = json.dumps(item, indent=4, ensure_ascii=False, default=_cli_default)
            f.write(("\n" if n == 0 else ",\n") + "\n".join("        " + line for line in text.split("\n")))
            n += 1
        f.write("\n    ]\n}\n" if n else "]\n}\n")
    return n


def upload(aws, directory: Path, *, location: str, database: str = "flowsql") -> dict[str, int]:
    """Put an inventory folder's rows in S3 as JSON lines and register the inventory Glue tables.

    Each table gets one object, `<location><table>/<account>-<region>.json`, so several accounts'
    inventories sit side by side and a new sync of one replaces only its own. The tables (`inventory_enis`, …, see glue/tables.yaml) are created, or
    updated if their definition changed; they are flowsql's own, so no `--update` is needed.
    Returns table -> rows uploaded.
    """
    from .aws import aws_errors, split_s3_uri

    if not location.endswith("/"):
        location += "/"
    bucket, base = split_s3_uri(location, "the inventory location")
    name = f"{aws.account}-{aws.region}"
    inv = load(directory)
    s3 = aws.client("s3")
    counts: dict[str, int] = {}
    for table in TABLES:
        rows = inv.table(table)
        body = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
        key = f"{base}{table}/{name}.json"
        with aws_errors(f"uploading s3://{bucket}/{key}"):
            s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"),
                          ContentType="application/x-ndjson", ServerSideEncryption="AES256")
        counts[table] = len(rows)
    from .provision import ensure_inventory_tables

    ensure_inventory_tables(aws, database, location)
    return counts
