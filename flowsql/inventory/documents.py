"""The inventory documents: ENIs, subnets and VPCs in the AWS CLI's `describe-*` JSON shapes, and
the rows both engines join on.

The rows are what both engines join on: `enis`, `eni_ips`, `subnets`, `vpc_cidrs` (see TABLES).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import SourceError
from ..logs.address import canonical

# file name -> top-level key of `aws ec2 describe-…` output
FILES = {
    "network-interfaces.json": "NetworkInterfaces",
    "subnets.json": "Subnets",
    "vpcs.json": "Vpcs",
}
# The network configuration `diagnose` evaluates (inventory.configuration), beside the three above:
# file name -> top-level key; and the folder of the prefix lists they name, one
# `get-managed-prefix-list-entries` document per list (PREFIX_LISTS/pl-….json, key "Entries").
CONFIGURATION_FILES = {
    "security-groups.json": "SecurityGroups",
    "network-acls.json": "NetworkAcls",
    "route-tables.json": "RouteTables",
}
PREFIX_LISTS = "prefix-lists"
PREFIX_LIST_FILE = re.compile(r"pl-[0-9a-f]{1,64}\.json")
# file name -> the AWS CLI command that writes it
CLI_COMMANDS = {
    "network-interfaces.json": "aws ec2 describe-network-interfaces",
    "subnets.json": "aws ec2 describe-subnets",
    "vpcs.json": "aws ec2 describe-vpcs",
    "security-groups.json": "aws ec2 describe-security-groups",
    "network-acls.json": "aws ec2 describe-network-acls",
    "route-tables.json": "aws ec2 describe-route-tables",
}


def _cli(path: Path) -> str:
    if PREFIX_LIST_FILE.fullmatch(path.name):
        return f"aws ec2 get-managed-prefix-list-entries --prefix-list-id {path.name.removesuffix('.json')}"
    return CLI_COMMANDS.get(path.name, "aws …")


def how_to_get(stems, directory: Path | str | None = None) -> str:
    """How a user makes the named inventory files: flowsql's sync or the AWS CLI."""
    d = str(directory) if directory is not None else "DIR"
    cli = "; ".join(f"`{CLI_COMMANDS[s + '.json']} > {d}/{s}.json`" for s in stems)
    return f"`flowsql inventory sync --out {d}` writes them, or the AWS CLI: {cli}"

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
        ("requester_id", "string"),  # the AWS service that made a requester-managed ENI (amazon-rds, …)
    ),
    "eni_ips": (("interface_id", "string"), ("private_ip", "string")),
    "subnets": (
        ("subnet_id", "string"),
        ("vpc_id", "string"),
        ("cidr_block", "string"),
        ("availability_zone", "string"),
        ("account_id", "string"),
        ("availability_zone_id", "string"),  # use1-az4: what a record's az-id field names
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
    directory: Path | None = None  # where it was read from (None: no --inventory)
    present: frozenset[str] = frozenset()  # the files it was read from, by stem ("vpcs", …)
    # each folder read (the dated snapshots a window uses, then the latest) with the stems it holds
    folders: tuple[tuple[Path, frozenset[str]], ...] = ()

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
            "requester_id": eni.get("RequesterId"),
        })
        ips = [a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or []]
        ips.append(eni.get("PrivateIpAddress"))
        ips += [a.get("Ipv6Address") for a in eni.get("Ipv6Addresses") or []]
        # compared as addresses: each in the one text flowsql compares addresses by (flowsql.logs.address)
        for ip in dict.fromkeys(canonical(i) or i for i in ips if i):
            inv.eni_ips.append({"interface_id": eni_id, "private_ip": ip})
    for sn in subnets:
        if sn.get("SubnetId"):
            inv.subnets.append({
                "subnet_id": sn["SubnetId"],
                "vpc_id": sn.get("VpcId"),
                "cidr_block": sn.get("CidrBlock"),
                "availability_zone": sn.get("AvailabilityZone"),
                "account_id": sn.get("OwnerId"),
                "availability_zone_id": sn.get("AvailabilityZoneId"),
            })
    for vpc in vpcs:
        # IPv4 and IPv6 blocks alike: an address inside either is inside the VPC.
        cidrs = [a.get("CidrBlock") for a in vpc.get("CidrBlockAssociationSet") or []]
        cidrs += [a.get("Ipv6CidrBlock") for a in vpc.get("Ipv6CidrBlockAssociationSet") or []
                  if (a.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated"]
        for cidr in dict.fromkeys(c for c in cidrs if c):
            inv.vpc_cidrs.append({"vpc_id": vpc.get("VpcId"), "cidr": cidr})
    return inv


def read_document(path: Path, key: str) -> list[dict]:
    """The items of one `aws … describe-…` document: `{"<key>": [ {…}, … ]}`."""
    from ..files import error_reason, read_json

    try:
        data = read_json(path)
    except (OSError, ValueError) as e:
        raise SourceError(f"{path}: not readable AWS CLI JSON ({error_reason(e)})") from None
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a JSON object with the top-level key {key!r}, "
                          f"as `{_cli(path)}` prints it; found a JSON {type(data).__name__}")
    if key not in data:
        found = ", ".join(repr(k) for k in list(data)[:3]) or "none"
        raise SourceError(f"{path}: expected the top-level key {key!r}, as "
                          f"`{_cli(path)}` prints it (found: {found})")
    items = data[key]
    cli = _cli(path)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SourceError(f"{path}: {key!r} must be a list of objects, as `{cli}` prints it")
    # An item without the keys its rows come from would drop out of the joins without a word
    # (an ENI unattributed, a VPC's blocks unknown): every item must have them, as AWS writes them.
    for i, item in enumerate(items):
        for k, kind in _REQUIRED.get(key, {}).items():
            if not isinstance(item.get(k), kind) or (kind is str and not item[k]):
                what = "a list" if kind is list else "a string"
                raise SourceError(f"{path}: item {i} of {key!r} has no {k!r} ({what}), as `{cli}` prints it "
                                  f"(found: {', '.join(repr(x) for x in list(item)[:4]) or 'no keys'})")
        _check_nested(path, key, i, item, cli)
        for where, value, network in _addresses(key, item):
            if not _is_address(value, network):
                raise SourceError(f"{path}: item {i} of {key!r}: {where} is {str(value)[:60]!r}, not an IP "
                                  f"{'block' if network else 'address'}")
    return items


def _addresses(key: str, item: dict):
    """(where, value, is a block) of the addresses and blocks an item's rows are made of."""
    if key == "NetworkInterfaces":
        yield "PrivateIpAddress", item.get("PrivateIpAddress"), False
        for a in item.get("PrivateIpAddresses") or []:
            yield "PrivateIpAddresses[].PrivateIpAddress", (a or {}).get("PrivateIpAddress"), False
        for a in item.get("Ipv6Addresses") or []:
            yield "Ipv6Addresses[].Ipv6Address", (a or {}).get("Ipv6Address"), False
    elif key == "Subnets":
        yield "CidrBlock", item.get("CidrBlock"), True
    elif key == "Vpcs":
        for a in item.get("CidrBlockAssociationSet") or []:
            yield "CidrBlockAssociationSet[].CidrBlock", (a or {}).get("CidrBlock"), True
        for a in item.get("Ipv6CidrBlockAssociationSet") or []:
            yield "Ipv6CidrBlockAssociationSet[].Ipv6CidrBlock", (a or {}).get("Ipv6CidrBlock"), True
    elif key == "SecurityGroups":
        for side in ("IpPermissions", "IpPermissionsEgress"):
            for p in item.get(side) or []:
                for r in (p or {}).get("IpRanges") or []:
                    yield f"{side}[].IpRanges[].CidrIp", (r or {}).get("CidrIp"), True
                for r in (p or {}).get("Ipv6Ranges") or []:
                    yield f"{side}[].Ipv6Ranges[].CidrIpv6", (r or {}).get("CidrIpv6"), True
    elif key == "NetworkAcls":
        for e in item.get("Entries") or []:
            yield "Entries[].CidrBlock", (e or {}).get("CidrBlock"), True
            yield "Entries[].Ipv6CidrBlock", (e or {}).get("Ipv6CidrBlock"), True
    elif key == "RouteTables":
        for r in item.get("Routes") or []:
            yield "Routes[].DestinationCidrBlock", (r or {}).get("DestinationCidrBlock"), True
            yield "Routes[].DestinationIpv6CidrBlock", (r or {}).get("DestinationIpv6CidrBlock"), True
    elif key == "Entries":
        yield "Cidr", item.get("Cidr"), True


def _is_address(value, network: bool) -> bool:
    """An absent value is no error (the row has none); a present one must parse."""
    import ipaddress

    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        (ipaddress.ip_network if network else ipaddress.ip_address)(value)
    except ValueError:
        return False
    return True


_ID_KEYS = {"NetworkInterfaces": "NetworkInterfaceId", "Subnets": "SubnetId", "Vpcs": "VpcId"}
# top-level key -> the keys every item must have (the AWS CLI always prints them)
_REQUIRED: dict[str, dict[str, type]] = {
    "NetworkInterfaces": {"NetworkInterfaceId": str, "SubnetId": str, "VpcId": str},
    "Subnets": {"SubnetId": str, "VpcId": str, "CidrBlock": str},
    "Vpcs": {"VpcId": str, "CidrBlockAssociationSet": list},
    "SecurityGroups": {"GroupId": str, "IpPermissions": list, "IpPermissionsEgress": list},
    "NetworkAcls": {"NetworkAclId": str, "VpcId": str, "IsDefault": bool, "Entries": list, "Associations": list},
    "RouteTables": {"RouteTableId": str, "VpcId": str, "Routes": list, "Associations": list},
    "Entries": {"Cidr": str},  # a prefix list's entries
}
# top-level key -> list -> the keys each of its objects must have: a rule without its number,
# direction, action or protocol would be evaluated as some other rule
_REQUIRED_NESTED: dict[str, dict[str, dict[str, type]]] = {
    "SecurityGroups": {"IpPermissions": {"IpProtocol": str}, "IpPermissionsEgress": {"IpProtocol": str}},
    "NetworkAcls": {"Entries": {"RuleNumber": int, "Egress": bool, "RuleAction": str, "Protocol": str},
                    "Associations": {}},
    "RouteTables": {"Routes": {}, "Associations": {}},
}


def _check_nested(path: Path, key: str, i: int, item: dict, cli: str) -> None:
    for inner, keys in _REQUIRED_NESTED.get(key, {}).items():
        for j, sub in enumerate(item[inner]):
            if not isinstance(sub, dict):
                raise SourceError(f"{path}: item {i} of {key!r}: {inner}[{j}] is not an object, as `{cli}` prints it")
            for k, kind in keys.items():
                v = sub.get(k)
                if not isinstance(v, kind) or (kind is int and isinstance(v, bool)) or (kind is str and not v):
                    what = {int: "a number", bool: "true or false", str: "a string"}[kind]
                    raise SourceError(f"{path}: item {i} of {key!r}: {inner}[{j}] has no {k!r} ({what}), as "
                                      f"`{cli}` prints it")
_DATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def snapshot_folders(directory: Path, window=None) -> list[Path]:
    """The inventory folders that cover a window, oldest first: `inventory sync` keeps the latest in
    DIR and dated snapshots in DIR/YYYY-MM-DD/. ENIs come and go (Lambda deletes idle ones), so a
    window is attributed with every snapshot dated in it, the last one before it (the state when it
    began) and the latest; without a window, the latest alone."""
    if window is None:
        return [directory]
    dated = []
    for p in sorted(directory.iterdir()):
        if p.is_dir() and _DATED.fullmatch(p.name):
            try:
                dated.append((date.fromisoformat(p.name), p))
            except ValueError:
                continue
    before = [p for d, p in dated if d < window.since][-1:]
    inside = [p for d, p in dated if window.since <= d <= window.until]
    return before + inside + [directory]


def _folders(directory: Path, window) -> list[Path]:
    """The folders to read: a single inventory's, or those of every snapshot of a tree (one per
    account and region, as its manifest lists them: flowsql.inventory.tree)."""
    from .tree import is_tree, read_manifest

    if not is_tree(directory):
        return snapshot_folders(directory, window)
    return [f for place in read_manifest(directory).places for f in snapshot_folders(place.directory, window)]


def load_inventory(directory: Path | None, *, window=None) -> Inventory:
    """Read an inventory folder (and, for a window, the dated snapshots that cover it; an item in a
    later snapshot replaces the same item in an earlier one). No folder (None): an empty inventory
    with nothing present. A folder holds any of FILES (a missing one is absent, for the query to
    refuse if it needs it); a file that is not the AWS CLI's shape is an error naming the file and
    the key expected."""
    if directory is None:
        return Inventory()
    directory = Path(directory)
    if not directory.exists():
        raise SourceError(f"inventory folder {directory} does not exist")
    if not directory.is_dir():
        raise SourceError(f"--inventory {directory} is a file, not a folder (give the folder that holds "
                          f"{', '.join(FILES)})")
    docs: dict[str, dict] = {key: {} for key in FILES.values()}
    present = set()
    folders = []
    for folder in _folders(directory, window):
        here = set()
        for name, key in FILES.items():
            path = folder / name
            if not os.path.lexists(path):  # a link to nothing is read, and named, not passed over
                continue
            for i, item in enumerate(read_document(path, key)):
                docs[key][item.get(_ID_KEYS[key]) or f"{folder}#{i}"] = item
            here.add(name.removesuffix(".json"))
        folders.append((folder, frozenset(here)))
        present |= here
    if not present:
        raise SourceError(f"inventory folder {directory} has none of {', '.join(FILES)}; "
                          + how_to_get([n.removesuffix(".json") for n in FILES], directory))
    try:
        inv = rows_from_documents(*(list(docs[k].values()) for k in ("NetworkInterfaces", "Subnets", "Vpcs")))
    except (AttributeError, TypeError) as e:  # a field of the wrong JSON type somewhere inside
        raise SourceError(f"inventory folder {directory}: not in the AWS CLI's shapes ({e})") from None
    inv.directory = directory
    inv.present = frozenset(present)
    inv.folders = tuple(folders)
    return inv


def check_inventory(query: str, needs, present, directory=None, *, upload_hint: bool = False,
                    folders=()) -> list[str]:
    """What an inventory lacks for a query: a UsageError for a file the query cannot answer without
    (naming it and how to get it), a note for an optional one. `present`: the stems of the files
    there are; `folders`: (folder, stems) of each folder the window is attributed with
    (Inventory.folders), every one of which must hold the files the query needs: a VPC or an ENI
    known only to the folder without it would be classified wrongly, not refused; `upload_hint`:
    the query runs on Athena (the inventory tables come from `flowsql inventory sync --upload`)."""
    from ..errors import UsageError

    missing = [s for s in needs.inventory if s not in present]
    if not missing and folders:
        # the latest (last) first: the folder a user fixes with a new sync
        for folder, stems in reversed(folders):
            lacking = [s for s in needs.inventory if s not in stems]
            if not lacking:
                continue
            paths = ", ".join(str(Path(folder) / f"{s}.json") for s in lacking)
            if Path(folder) == Path(directory or folder):
                raise UsageError(f"{query} needs {paths}, which is missing (an older snapshot's copy does not "
                                 "stand in for the latest); " + how_to_get(lacking, directory))
            raise UsageError(f"{query} needs {paths}, which is missing: the window is attributed with that "
                             "dated snapshot too, and each must hold every file the query needs (restore the "
                             "file, or move the folder out of the inventory)")
    if missing:
        files = ", ".join(f"{s}.json" for s in missing)
        if upload_hint:
            raise UsageError(f"{query} needs the inventory ({files}) in Athena: run "
                             "`flowsql inventory sync --out DIR --upload` first")
        if directory is None:
            raise UsageError(f"{query} needs the inventory ({files}): pass --inventory DIR; "
                             + how_to_get(missing))
        raise UsageError(f"{query} needs {', '.join(str(Path(directory) / f'{s}.json') for s in missing)}, "
                         f"which is missing; " + how_to_get(missing, directory))
    notes = []
    for name, note in needs.without:
        if name + ".json" not in FILES:
            continue
        if name not in present:
            notes.append(f"no {name}.json in the inventory: {note}")
            continue
        lacking = [str(f) for f, stems in folders if name not in stems]
        if lacking:
            notes.append(f"no {name}.json in {', '.join(lacking)} (a snapshot this window is attributed with): "
                         f"{note}")
    return notes
