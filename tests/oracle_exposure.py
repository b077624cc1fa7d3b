"""Oracles of the exposure queries (docs/queries.md): plain Python over the generated records.

Imported by oracle.py, whose `@oracle` registers each function in ORACLES. Each query has one case
there (tests/test_oracle.py runs every case for 20 windows and cuts); the other parameter values are
checked once each in tests/test_oracle_exposure.py (EXTRA_CASES).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict

# PROTOCOL_NUMBERS: the protocol names a `list[protocol]` parameter takes (IANA numbers), read in the
# oracle on their own so it does not reuse the parser it checks.
from oracle import PRIVATE_NETWORKS, PROTOCOL_NUMBERS, _inside, _NullsLast, _selected, _sum, oracle


def _ints(text: str, names=None) -> set[int]:
    return {names[t.lower()] if names and t.lower() in names else int(t) for t in (x.strip() for x in text.split(","))}


def _public(addr: str | None) -> bool:
    """docs/queries.md: public = none of the private ranges (documentation ranges included)."""
    return addr is not None and not _inside(ipaddress.ip_address(addr), PRIVATE_NETWORKS)


def _private(addr: str | None) -> bool:
    return addr is not None and _inside(ipaddress.ip_address(addr), PRIVATE_NETWORKS)


def _order(rows: list[dict], keys) -> list[dict]:
    """Sort by (column, descending) pairs, the first the most significant; NULLs last in either
    direction, as in Trino and DuckDB by default."""
    for key, desc in reversed(keys):
        if desc:
            rows.sort(key=lambda r: (r[key] is not None, r[key] if r[key] is not None else 0), reverse=True)
        else:
            rows.sort(key=lambda r: _NullsLast(r[key]))
    return rows


def _distinct(values) -> int:
    return len({v for v in values if v is not None})


@oracle("rejected-traffic", {})
def rejected_traffic_case(records, inventory_dir, params, **window):
    return rejected_traffic(records, limit=int(params.get("limit", 50)), **window)


@oracle("rejected-inbound-from-internet", {})
def rejected_inbound_case(records, inventory_dir, params, **window):
    return rejected_inbound_from_internet(records, limit=int(params.get("limit", 50)), **window)


@oracle("admin-ports-from-internet", {})
def admin_ports_case(records, inventory_dir, params, **window):
    return ports_from_internet(records, ports=_ints(params.get("ports", "22,3389")), **window)


@oracle("db-ports-from-internet", {})
def db_ports_case(records, inventory_dir, params, **window):
    return ports_from_internet(records, ports=_ints(params.get("ports", "3306,5432,1433,1521,6379,9200,27017")),
                               **window)


@oracle("port-scan-suspects", {"min_ports": "3", "min_hosts": "3"})
def port_scan_case(records, inventory_dir, params, **window):
    return port_scan_suspects(records, min_ports=int(params.get("min_ports", 10)),
                              min_hosts=int(params.get("min_hosts", 10)), **window)


@oracle("large-egress-to-internet", {"min_bytes": "1"})
def large_egress_case(records, inventory_dir, params, **window):
    return large_egress_to_internet(records, min_bytes=int(params.get("min_bytes", 1_000_000_000)), **window)


@oracle("unusual-protocols", {})
def unusual_protocols_case(records, inventory_dir, params, **window):
    return unusual_protocols(records, expected=_ints(params.get("expected", "1,6,17,58"), PROTOCOL_NUMBERS),
                             **window)


def rejected_traffic(records, *, since, until, accounts=None, regions=None, limit=50) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] == "REJECT":
            groups[(r["srcaddr"], r["dstaddr"], r["dstport"], r["protocol"])].append(r)
    rows = [
        {"srcaddr": s, "dstaddr": d, "dstport": p, "protocol": proto, "flows": len(rs),
         "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
        for (s, d, p, proto), rs in groups.items()
    ]
    keys = [("flows", True), ("srcaddr", False), ("dstaddr", False), ("dstport", False), ("protocol", False)]
    return _order(rows, keys)[:limit]


def rejected_inbound_from_internet(records, *, since, until, accounts=None, regions=None, limit=50) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] == "REJECT" and _public(r["srcaddr"]):
            groups[r["srcaddr"]].append(r)
    rows = [
        {"srcaddr": s, "flows": len(rs), "packets": _sum(r["packets"] for r in rs),
         "destinations": _distinct(r["dstaddr"] for r in rs), "ports": _distinct(r["dstport"] for r in rs),
         "first_seen": min(r["start"] for r in rs), "last_seen": max(r["end"] for r in rs)}
        for s, rs in groups.items()
    ]
    return _order(rows, [("flows", True), ("srcaddr", False)])[:limit]


def ports_from_internet(records, *, ports: set[int], since, until, accounts=None, regions=None) -> list[dict]:
    """admin-ports-from-internet and db-ports-from-internet: accepted, to one of `ports`, from public."""
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] == "ACCEPT" and r["dstport"] in ports and _public(r["srcaddr"]):
            groups[(r["srcaddr"], r["dstaddr"], r["dstport"])].append(r)
    rows = [
        {"srcaddr": s, "dstaddr": d, "dstport": p, "flows": len(rs), "packets": _sum(r["packets"] for r in rs),
         "bytes": _sum(r["bytes"] for r in rs), "first_seen": min(r["start"] for r in rs),
         "last_seen": max(r["end"] for r in rs)}
        for (s, d, p), rs in groups.items()
    ]
    return _order(rows, [("flows", True), ("srcaddr", False), ("dstaddr", False), ("dstport", False)])


def _probe(r) -> bool:
    """docs/queries.md: a rejected record that runs from a port at or above its destination port (a
    reply runs from the service's port down to the client's ephemeral one)."""
    return (r["action"] == "REJECT" and r["srcport"] is not None and r["dstport"] is not None
            and r["srcport"] >= r["dstport"])


def port_scan_suspects(records, *, since, until, accounts=None, regions=None, min_ports=10,
                       min_hosts=10) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        groups[r["srcaddr"]].append(r)
    rows = []
    for s, rs in groups.items():
        probes = [r for r in rs if _probe(r)]
        row = {"srcaddr": s, "ports": _distinct(r["dstport"] for r in probes),
               "hosts": _distinct(r["dstaddr"] for r in probes), "flows": len(rs),
               "rejected_flows": sum(1 for r in rs if r["action"] == "REJECT")}
        if row["ports"] >= min_ports or row["hosts"] >= min_hosts:
            rows.append(row)
    for row in rows:
        row["_rank"] = row["ports"] + row["hosts"]
    _order(rows, [("_rank", True), ("srcaddr", False)])
    for row in rows:
        del row["_rank"]
    return rows


def large_egress_to_internet(records, *, since, until, accounts=None, regions=None,
                             min_bytes=1_000_000_000) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] == "ACCEPT" and _private(r["srcaddr"]) and _public(r["dstaddr"]):
            groups[(r["interface_id"], r["srcaddr"], r["dstaddr"])].append(r)
    rows = [
        {"interface_id": eni, "srcaddr": s, "dstaddr": d, "flows": len(rs),
         "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
        for (eni, s, d), rs in groups.items()
    ]
    rows = [row for row in rows if row["bytes"] is not None and row["bytes"] >= min_bytes]
    keys = [("bytes", True), ("interface_id", False), ("srcaddr", False), ("dstaddr", False)]
    return _order(rows, keys)


def unusual_protocols(records, *, expected: set[int], since, until, accounts=None, regions=None) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["protocol"] is not None and r["protocol"] not in expected:
            groups[(r["protocol"], r["srcaddr"], r["dstaddr"], r["action"])].append(r)
    rows = [
        {"protocol": p, "srcaddr": s, "dstaddr": d, "action": a, "flows": len(rs),
         "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
        for (p, s, d, a), rs in groups.items()
    ]
    keys = [("flows", True), ("protocol", False), ("srcaddr", False), ("dstaddr", False), ("action", False)]
    return _order(rows, keys)
