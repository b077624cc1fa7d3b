"""The inventory documents: ENIs, subnets and VPCs in the AWS CLI's `describe-*` JSON shapes, and
the rows both engines join on.

The rows are what both engines join on: `enis`, `eni_ips`, `subnets`, `vpc_cidrs` (see TABLES).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceError

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


def load(directory: Path | None, *, window=None) -> Inventory:
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
