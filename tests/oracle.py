"""The independent oracle: expected rows of the canned queries, computed in plain Python.

It reads the generator's typed records and the inventory's JSON, and follows docs/queries.md (the
semantics of each canned query) line by line. It shares no code with the query pack or the engines (no SQL,
no DuckDB): when an engine and the oracle agree, two independent readings of the design agree.

ORACLES is the table tests/test_oracle.py walks: query name -> (function, cases). A function takes the
generated records, the inventory folder, the window and the account/region cut, and the query's
parameters (as `flowsql query -p` gives them, text); `cases` are the parameter sets each query is checked
with. A pack query missing here fails tests/test_oracle.py::test_every_pack_query_has_an_oracle.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from functools import lru_cache
from datetime import date
from pathlib import Path

# DESIGN.md's private ranges for lambda-egress, checked after the inventory's VPC CIDRs.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8",
    "fc00::/7", "fe80::/10", "::1/128",
))
# IANA's protocol numbers of the names a `protocol` parameter takes (docs/queries.md).
PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "icmpv6": 58}


class _NullsLast:
    """Sort key for a nullable value in ascending order with NULLs last: the default of both Trino and
    DuckDB (`ORDER BY x` puts NULLs after every value)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __lt__(self, other):
        if self.value is None:
            return False
        if other.value is None:
            return True
        return self.value < other.value

    def __eq__(self, other):
        return self.value == other.value


@lru_cache(maxsize=None)
def address(text: str | None) -> str | None:
    """docs/queries.md: addresses are compared as addresses, whatever their spelling (2001:DB8:0:0:0:0:0:1
    is 2001:db8::1), an IPv4-mapped IPv6 address as its IPv4 address (Athena's IPADDRESS). Here with
    Python's ipaddress: its str() of an IPv6 address is RFC 5952's form."""
    if text is None:
        return None
    ip = ipaddress.ip_address(text)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


ADDRESS_COLUMNS = ("srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr")
_AS_ADDRESSES: dict[int, tuple[list, list]] = {}


def as_addresses(records: list) -> list:
    """The records with their addresses as `address` gives them (once per list of records)."""
    known = _AS_ADDRESSES.get(id(records))
    if known is None or known[0] is not records:
        converted = [r if not any(r.get(c) and ":" in r[c] for c in ADDRESS_COLUMNS)
                     else {**r, **{c: address(r.get(c)) for c in ADDRESS_COLUMNS if c in r}} for r in records]
        known = _AS_ADDRESSES[id(records)] = (records, converted)
    return known[1]


def _selected(records, since: date, until: date, accounts, regions):
    """OK records whose path day is in [since, until] and whose account/region were asked for, their
    addresses compared as addresses (`as_addresses`)."""
    accounts = set(accounts) if accounts else None
    regions = set(regions) if regions else None
    for r in as_addresses(records):
        if r["log_status"] != "OK" or not since <= r["day"] <= until:
            continue
        if accounts is not None and r["aws_account_id"] not in accounts:
            continue
        if regions is not None and r["aws_region"] not in regions:
            continue
        yield r


def _sum(values):
    """SQL SUM: NULLs ignored, NULL when nothing is left."""
    values = [v for v in values if v is not None]
    return sum(values) if values else None


# Each inventory file: the top-level key and the id of its items, as the EC2 API's describe-network-interfaces,
# describe-subnets and describe-vpcs answer (and the AWS CLI writes).
_ID = {"network-interfaces.json": "NetworkInterfaceId", "subnets.json": "SubnetId", "vpcs.json": "VpcId"}
_KEY = {"network-interfaces.json": "NetworkInterfaces", "subnets.json": "Subnets", "vpcs.json": "Vpcs"}


def _folders(inventory_dir: Path, since: date | None, until: date | None) -> list[Path]:
    """docs/queries.md: a window is attributed with the snapshots dated in it, the newest dated before it,
    and the latest (the top folder); later ones win."""
    top = Path(inventory_dir)
    if since is None or not top.is_dir():
        return [top]
    dated = sorted((date.fromisoformat(p.name), p) for p in top.iterdir()
                   if p.is_dir() and len(p.name) == 10 and p.name[4] == "-")
    earlier = [p for d, p in dated if d < since]
    return earlier[-1:] + [p for d, p in dated if since <= d <= until] + [top]


def _read(inventory_dir: Path, name: str, since: date | None = None, until: date | None = None) -> list[dict]:
    items: dict = {}
    for folder in _folders(inventory_dir, since, until):
        path = folder / name
        if path.exists():
            for item in json.loads(path.read_text(encoding="utf-8")).get(_KEY[name], []):
                items[item.get(_ID[name])] = item
    return list(items.values())


def _enis(inventory_dir: Path, since: date | None = None, until: date | None = None) -> dict[str, dict]:
    return {e["NetworkInterfaceId"]: e for e in _read(inventory_dir, "network-interfaces.json", since, until)
            if e.get("NetworkInterfaceId")}


def is_lambda(eni: dict) -> bool:
    """docs/queries.md, lambda-egress: a Lambda ENI has the InterfaceType `lambda`, or (ENIs Lambda created
    before that type existed) a Description starting `AWS Lambda VPC ENI`."""
    return eni.get("InterfaceType") == "lambda" or str(eni.get("Description") or "").startswith("AWS Lambda VPC ENI")


def _eni_ips(eni: dict) -> set[str]:
    ips = {eni.get("PrivateIpAddress")}
    ips.update(a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or [])
    ips.update(a.get("Ipv6Address") for a in eni.get("Ipv6Addresses") or [])
    ips.discard(None)
    return {address(ip) for ip in ips}


def _vpc_networks(inventory_dir: Path, since: date | None = None, until: date | None = None) -> list:
    """Every block of every VPC: the IPv4 associations and the associated IPv6 ones."""
    nets = []
    for vpc in _read(inventory_dir, "vpcs.json", since, until):
        for assoc in vpc.get("CidrBlockAssociationSet") or []:
            if assoc.get("CidrBlock"):
                nets.append(ipaddress.ip_network(assoc["CidrBlock"], strict=False))
        for assoc in vpc.get("Ipv6CidrBlockAssociationSet") or []:
            state = (assoc.get("Ipv6CidrBlockState") or {}).get("State", "associated")
            if assoc.get("Ipv6CidrBlock") and state == "associated":
                nets.append(ipaddress.ip_network(assoc["Ipv6CidrBlock"], strict=False))
    return nets


def _inside(addr, networks) -> bool:
    # An IPv4 address is never inside an IPv6 network nor the reverse (`in` would raise or be False).
    return any(addr.version == n.version and addr in n for n in networks)


def classify(dstaddr: str, vpc_networks) -> str:
    addr = ipaddress.ip_address(dstaddr)
    if _inside(addr, vpc_networks):
        return "vpc"
    if _inside(addr, PRIVATE_NETWORKS):
        return "private"
    return "internet"


ORACLES: dict = {}


class Refused(Exception):
    """Raised by an oracle when the engine must refuse the request (exit 2): no file of the window has
    the field (the exception's argument) that the query needs."""


def oracle(name: str, *cases):
    """Register `fn` as the oracle of query `name`, checked with each parameter set in `cases`: a dict,
    or a `Picked` whose values come from the generated tree."""
    def register(fn):
        ORACLES[name] = (fn, list(cases) or [{}])
        return fn
    return register


class Picked:
    """A case whose values are picked from the generated records (an ENI id is random per tree, and an
    address pair is a conversation only if the records have it): `pick(records, inventory_dir)` gives
    the parameters; `label` names the case in test ids."""

    def __init__(self, label: str, pick):
        self.label, self.pick = label, pick

    def __str__(self) -> str:
        return self.label


def case_params(case, records, inventory_dir) -> dict:
    """The parameters of one case of ORACLES for this tree."""
    return case.pick(records, inventory_dir) if isinstance(case, Picked) else dict(case)


def case_id(case) -> str:
    return str(case) if isinstance(case, Picked) else "-".join(case.values()) or "defaults"


def busiest(records, *columns, where=lambda r: True):
    """The values of `columns` on the most OK records of the whole tree (ties: the smallest), records
    with a NULL in one of them left out."""
    counts: dict = defaultdict(int)
    for r in as_addresses(records):
        key = tuple(r[c] for c in columns)
        if r["log_status"] == "OK" and None not in key and where(r):
            counts[key] += 1
    return min(counts, key=lambda k: (-counts[k], k))


@oracle("top-destinations", {}, {"action": "REJECT", "limit": "25"}, {"action": "ANY", "limit": "1000"})
def top_destinations_case(records, inventory_dir, params, **window):
    return top_destinations(records, limit=int(params.get("limit", 10)), action=params.get("action", "ACCEPT"),
                            **window)


@oracle("rejects-by-subnet", {})  # a real subnet: test_subnet_parameter_against_oracle
def rejects_by_subnet_case(records, inventory_dir, params, **window):
    return rejects_by_subnet(records, inventory_dir, subnet=params.get("subnet"), **window)


@oracle("lambda-egress", {}, {"limit": "5"})
def lambda_egress_case(records, inventory_dir, params, **window):
    return lambda_egress(records, inventory_dir, limit=int(params.get("limit", 100)), **window)


def top_destinations(records, *, since: date, until: date, accounts=None, regions=None, limit=10,
                     action="ACCEPT") -> list[dict]:
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if action != "ANY" and r["action"] != action:
            continue
        groups[r["dstaddr"]].append(r)
    rows = [
        {
            "dstaddr": dst,
            "flows": len(rs),
            "packets": _sum(r["packets"] for r in rs),
            "bytes": _sum(r["bytes"] for r in rs),
        }
        for dst, rs in groups.items()
    ]
    # bytes desc (NULL sums would sort last in a DESC order too), then dstaddr asc.
    rows.sort(key=lambda row: _NullsLast(row["dstaddr"]))
    rows.sort(key=lambda row: (row["bytes"] is None, -(row["bytes"] or 0)))
    return rows[:limit]


def rejects_by_subnet(records, inventory_dir, *, since, until, accounts=None, regions=None,
                      subnet=None) -> list[dict]:
    eni_subnet = {eni_id: eni.get("SubnetId") for eni_id, eni in _enis(inventory_dir, since, until).items()}
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] != "REJECT":
            continue
        # The record's own subnet-id where the format has it (and it is not `-`), else the inventory's.
        resolved = r["subnet_id"] if r["subnet_id"] is not None else eni_subnet.get(r["interface_id"])
        if subnet is not None and resolved != subnet:
            continue
        groups[resolved].append(r)
    rows = [
        {
            "subnet_id": sn,
            "rejected_flows": len(rs),
            "rejected_packets": _sum(r["packets"] for r in rs),
            "rejected_bytes": _sum(r["bytes"] for r in rs),
            "distinct_sources": len({r["srcaddr"] for r in rs if r["srcaddr"] is not None}),
        }
        for sn, rs in groups.items()
    ]
    # rejected_flows desc, then subnet_id asc with the NULL subnet last among equal counts: NULLs sort
    # last in ascending order in both Trino and DuckDB.
    rows.sort(key=lambda row: _NullsLast(row["subnet_id"]))
    rows.sort(key=lambda row: -row["rejected_flows"])
    return rows


def lambda_egress(records, inventory_dir, *, since, until, accounts=None, regions=None,
                  limit=100) -> list[dict]:
    lambda_ips = {eni_id: _eni_ips(eni) for eni_id, eni in _enis(inventory_dir, since, until).items()
                  if is_lambda(eni)}
    vpc_networks = _vpc_networks(inventory_dir, since, until)
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] != "ACCEPT":
            continue
        ips = lambda_ips.get(r["interface_id"])
        # Only what the function sent: replies arriving on the ENI have the peer as srcaddr.
        if ips is None or r["srcaddr"] not in ips:
            continue
        groups[(r["dstaddr"], r["dstport"], r["protocol"])].append(r)
    rows = [
        {
            "dstaddr": dst,
            "dstport": port,
            "protocol": proto,
            "destination": classify(dst, vpc_networks),
            "flows": len(rs),
            "packets": _sum(r["packets"] for r in rs),
            "bytes": _sum(r["bytes"] for r in rs),
        }
        for (dst, port, proto), rs in groups.items()
    ]
    # bytes desc, dstaddr asc, dstport asc (numeric). DESIGN.md stops there; protocol asc makes the
    # oracle's own order total (a tie on all three keys is possible for UDP and TCP on one port).
    rows.sort(key=lambda row: (row["dstaddr"], row["dstport"], row["protocol"]))
    rows.sort(key=lambda row: -(row["bytes"] or 0))
    return rows[:limit]


@oracle("daily-traffic", {})
def daily_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None) -> list[dict]:
    """docs/queries.md, daily-traffic: per partition day (YYYY-MM-DD), all OK records and the accepted
    and rejected ones apart; days without records have no row."""
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        groups[r["day"]].append(r)
    return [
        {
            "day": day.isoformat(),
            "flows": len(rs),
            "packets": _sum(r["packets"] for r in rs),
            "bytes": _sum(r["bytes"] for r in rs),
            "accepted_flows": sum(r["action"] == "ACCEPT" for r in rs),
            "rejected_flows": sum(r["action"] == "REJECT" for r in rs),
            "accepted_bytes": _sum(r["bytes"] for r in rs if r["action"] == "ACCEPT"),
            "rejected_bytes": _sum(r["bytes"] for r in rs if r["action"] == "REJECT"),
        }
        for day, rs in sorted(groups.items())
    ]


# The oracles of the other groups of queries register themselves when imported (one file per group).
import oracle_attribution  # noqa: E402,F401
import oracle_case  # noqa: E402,F401
import oracle_diagnose  # noqa: E402,F401
import oracle_exposure  # noqa: E402,F401
import oracle_traffic  # noqa: E402,F401
import oracle_tgw  # noqa: E402,F401
