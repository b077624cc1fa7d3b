"""What the inventory says about a case: whose ENI logged the subject, and where a peer address is.

A window is attributed as every query attributes it (flowsql.inventory, docs/queries.md): the latest
inventory (`DIR/`) and the dated snapshots that cover the window (`DIR/YYYY-MM-DD/`: those dated in
it and the last one before it). An ENI is described by the newest of those folders that holds it;
one that the latest no longer has (Lambda deletes idle ENIs) is described by the snapshot that
still does, and the case says which. Each folder must hold the file an answer comes from (an older
snapshot's copy does not stand in for the latest, nor the latest for a snapshot): otherwise that
answer is not evaluated, with the reason, and the rest of the case is computed.

A peer is `vpc` when it is inside a block of a VPC of those folders, else `private` (the ranges of
sql/macros/is_private.sql) or `internet`: lambda-egress's classification.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..inventory.documents import FILES, check_inventory, read_document, rows_from_documents, snapshot_folders
from ..pack.queries import Needs

# The ranges of sql/macros/is_private.sql (a test checks that the two lists agree).
PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8",
    "fc00::/7", "fe80::/10", "::1/128",
))
_LAMBDA = re.compile(r"AWS Lambda VPC ENI-(?P<name>.+?)(?:-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?")


@dataclass
class Attribution:
    directory: Path | None = None
    folders: list[tuple[str, Path]] = field(default_factory=list)  # (label, folder), oldest first, latest last
    enis: dict[str, dict[str, dict]] = field(default_factory=dict)  # label -> ENI id -> describe item
    blocks: list[tuple] = field(default_factory=list)  # (ip_network, vpc_id), sorted
    eni_reason: str | None = None  # why ENIs are not attributed (None: they are)
    vpc_reason: str | None = None  # why no peer can be classified `vpc` (None: the VPCs are known)
    files: list[Path] = field(default_factory=list)  # every inventory file read

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.folders]

    def describe(self, eni_id: str) -> dict | None:
        """The ENI as the newest folder that holds it describes it, and which folders hold it; None
        when none does (or ENIs are not attributed)."""
        if self.eni_reason is not None:
            return None
        holding = [label for label, _ in self.folders if eni_id in self.enis.get(label, {})]
        if not holding:
            return None
        doc = self.enis[holding[-1]][eni_id]
        return {**describe_eni(doc), "found_in": holding[-1], "in_latest": holding[-1] == "latest",
                "snapshots": holding}

    def addresses(self, eni_id: str) -> list[str]:
        """The ENI's own addresses in every folder that holds it (an address it had in an older
        snapshot still identifies what it sent then)."""
        seen: dict[str, None] = {}
        for label, _ in self.folders:
            doc = self.enis.get(label, {}).get(eni_id)
            if doc is not None:
                seen.update(dict.fromkeys(eni_addresses(doc)))
        return list(seen)

    def network(self, address: str | None) -> tuple[str | None, str | None]:
        """(`vpc` | `private` | `internet`, the VPC's id for `vpc`) of an address; (None, None) for
        none. In a VPC: the most specific block that holds it (then the smallest VPC id) names the VPC."""
        memo = self._memo
        found = memo.get(address)
        if found is None:
            found = memo[address] = self._classify(address)
        return found

    def _classify(self, address) -> tuple[str | None, str | None]:
        parsed = _parse(address)
        if parsed is None:
            return None, None
        version, n = parsed
        if self._ranges is None:
            self._ranges = _by_mask((_block(b), vpc) for b, vpc in self.blocks)
            self._private = _by_mask((_block(b), "") for b in PRIVATE)
        for mask, nets in self._ranges.get(version, ()):  # the most specific block first
            if (n & mask) in nets:
                return "vpc", nets[n & mask]
        if any((n & mask) in nets for mask, nets in self._private.get(version, ())):
            return "private", None
        return "internet", None

    def __post_init__(self):
        self._memo: dict = {}
        self._ranges = None
        self._private: dict = {}


def _parse(address) -> tuple[int, int] | None:
    """(IP version, the address as an integer); None for what is no address. inet_pton: a C parse of
    the forms flow logs write (a tenth of ipaddress's time, once per peer)."""
    import socket

    if not isinstance(address, str):
        return None
    family, version = (socket.AF_INET6, 6) if ":" in address else (socket.AF_INET, 4)
    try:
        return version, int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError:
        return None


def _by_mask(blocks) -> dict[int, list[tuple[int, dict]]]:
    """IP version -> [(mask, {network address: the smallest VPC id of the blocks there})], the longest
    mask first, for `blocks` ((version, network, mask), VPC id or None): an address is looked up once
    per mask length, not tested against every block (a case classifies tens of thousands of peers)."""
    out: dict[int, dict[int, dict]] = {}
    for (version, net, mask), vpc in blocks:
        nets = out.setdefault(version, {}).setdefault(mask, {})
        if net not in nets or vpc < nets[net]:
            nets[net] = vpc
    return {v: sorted(masks.items(), key=lambda m: -m[0]) for v, masks in out.items()}


def _block(net) -> tuple[int, int, int]:
    """(IP version, network address, mask) of an ipaddress network, as integers."""
    return net.version, int(net.network_address), int(net.netmask)


def eni_addresses(doc: dict) -> list[str]:
    """An ENI's addresses, as docs/queries.md counts them: PrivateIpAddress, every
    PrivateIpAddresses[].PrivateIpAddress and every Ipv6Addresses[].Ipv6Address."""
    ips = [doc.get("PrivateIpAddress")]
    ips += [(a or {}).get("PrivateIpAddress") for a in doc.get("PrivateIpAddresses") or []]
    ips += [(a or {}).get("Ipv6Address") for a in doc.get("Ipv6Addresses") or []]
    return [str(ipaddress.ip_address(i)) for i in dict.fromkeys(i for i in ips if i)]


def lambda_function(doc: dict) -> str | None:
    """The function a Lambda ENI serves, from the description Lambda gives it (`AWS Lambda VPC
    ENI-NAME-UUID`); None when the description does not name one."""
    m = _LAMBDA.fullmatch(doc.get("Description") or "")
    return m["name"] if m else None


def describe_eni(doc: dict) -> dict:
    """What a describe-network-interfaces item says about who an ENI belongs to."""
    attachment = doc.get("Attachment") or {}
    association = doc.get("Association") or {}
    kind, description = doc.get("InterfaceType"), doc.get("Description") or ""
    function = lambda_function(doc)
    instance = attachment.get("InstanceId")
    if kind == "lambda" or function is not None:
        attached = f"Lambda function {function}" if function else "a Lambda function (its ENI's description names none)"
    elif description.startswith("arn:aws:ecs:") and ":attachment/" in description:
        # awsvpc network mode: ECS gives each task an ENI whose description is the attachment's ARN
        attached = f"an ECS task (ENI attachment {description.rsplit('/', 1)[1]})" + (
            f" on EC2 instance {instance}" if instance else "")
    elif instance:
        attached = f"EC2 instance {instance}"
    elif kind == "nat_gateway" or description.startswith("Interface for NAT Gateway "):
        attached = "NAT gateway " + description.removeprefix("Interface for NAT Gateway ").strip()
    elif kind == "vpc_endpoint" or description.startswith("VPC Endpoint Interface "):
        attached = "VPC endpoint " + description.removeprefix("VPC Endpoint Interface ").strip()
    elif description.startswith("ELB "):
        attached = "load balancer " + description.removeprefix("ELB ")
    elif doc.get("RequesterId"):
        attached = f"managed by {doc['RequesterId']}" + (f" ({description})" if description else "")
    else:
        attached = description or f"{kind or 'interface'} (no description)"
    return {
        "attached_to": attached,
        "interface_type": kind,
        "description": description or None,
        "instance_id": instance,
        "lambda_function": function,
        "requester_id": doc.get("RequesterId"),
        "subnet_id": doc.get("SubnetId"),
        "vpc_id": doc.get("VpcId"),
        "availability_zone": doc.get("AvailabilityZone"),
        "addresses": eni_addresses(doc),
        "public_ip": association.get("PublicIp"),
        "security_groups": sorted({g.get("GroupId") for g in doc.get("Groups") or [] if g.get("GroupId")}),
    }


def load_attribution(directory: Path | None, window) -> Attribution:
    """Read the inventory folders that cover `window`. A folder that does not exist is bad input
    (UsageError); a file the AWS CLI would not have written is one too (SourceError, naming it)."""
    if directory is None:
        why = "no --inventory was given; " + _how(None)
        return Attribution(eni_reason=why, vpc_reason=why)
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"--inventory {directory}: no such folder")
    att = Attribution(directory=directory)
    vpcs: dict[str, dict] = {}
    present: set[str] = set()
    folders = []
    for folder in snapshot_folders(directory, window):
        label = "latest" if folder == directory else folder.name
        att.folders.append((label, folder))
        here = set()
        for name, key in FILES.items():
            stem = name.removesuffix(".json")
            if stem not in ("network-interfaces", "vpcs"):
                continue
            path = folder / name
            if not os.path.lexists(path):  # a link to nothing is read, and named, not passed over
                continue
            items = read_document(path, key)
            att.files.append(path)
            here.add(stem)
            if stem == "network-interfaces":
                att.enis[label] = {i["NetworkInterfaceId"]: i for i in items}
            else:
                vpcs.update((i["VpcId"], i) for i in items)
        folders.append((folder, frozenset(here)))
        present |= here
    for stem, what in (("network-interfaces", "eni"), ("vpcs", "vpc")):
        try:
            check_inventory(_ANSWERS[stem], Needs(inventory=(stem,)), present, directory, folders=folders)
        except UsageError as e:
            setattr(att, f"{what}_reason", " ".join(str(e).split()))
    if att.vpc_reason is None:
        rows = rows_from_documents([], [], list(vpcs.values())).vpc_cidrs
        att.blocks = sorted({(ipaddress.ip_network(r["cidr"], strict=False), r["vpc_id"]) for r in rows},
                            key=lambda b: (b[0].version, b[0].network_address, b[0].prefixlen, b[1]))
    return att


_ANSWERS = {"network-interfaces": "attributing the ENIs", "vpcs": "telling VPC addresses from other private ones"}


def _how(directory) -> str:
    from ..inventory.documents import how_to_get

    return how_to_get(["network-interfaces", "vpcs"], directory)
