"""Oracles of the traffic queries (docs/queries.md, "Traffic overview"): plain Python over the generated
records.

Imported by oracle.py, whose `@oracle` registers each function in ORACLES with one parameter case each
(every case costs twenty engine runs in tests/test_oracle.py); tests/test_oracle_traffic.py checks the
other parameter values once, and the addresses and ENIs with values picked from the generated tree.
"""

from __future__ import annotations

from collections import defaultdict

from oracle import Picked, _enis, _NullsLast, _selected, _sum, address, busiest, oracle


def _order(rows: list[dict], *keys: str, desc: str | None = None) -> list[dict]:
    """Sort by `desc` descending with NULLs last, then by each of `keys` ascending with NULLs last
    (stable sorts, least significant key first)."""
    for k in reversed(keys):
        rows.sort(key=lambda row, k=k: _NullsLast(row[k]))
    if desc is not None:
        rows.sort(key=lambda row: (row[desc] is None, -(row[desc] or 0)))
    return rows


def _counts(rs: list[dict]) -> dict:
    return {"flows": len(rs), "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}


def _subnets(records, inventory_dir, since, until):
    """The subnet of each record as rejects-by-subnet has it: its own subnet-id (None where the format
    lacks it or it is `-`), else the inventory's SubnetId of its interface, else None."""
    eni_subnet = {eni_id: eni.get("SubnetId") for eni_id, eni in _enis(inventory_dir, since, until).items()}
    return lambda r: r["subnet_id"] if r["subnet_id"] is not None else eni_subnet.get(r["interface_id"])


def _address(params) -> str:
    # compared as an address, as the records' addresses are (oracle.address)
    return address(params["address"])


@oracle("top-talkers", {})
def top_talkers(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    action, limit = params.get("action", "ANY"), int(params.get("limit", 20))
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if action == "ANY" or r["action"] == action:
            groups[(r["srcaddr"], r["dstaddr"])].append(r)
    rows = [{"srcaddr": s, "dstaddr": d, **_counts(rs)} for (s, d), rs in groups.items()]
    return _order(rows, "srcaddr", "dstaddr", desc="bytes")[:limit]


@oracle("top-sources", {})
def top_sources(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    action, limit = params.get("action", "ANY"), int(params.get("limit", 20))
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if action == "ANY" or r["action"] == action:
            groups[r["srcaddr"]].append(r)
    rows = [{"srcaddr": s, **_counts(rs),
             "destinations": len({r["dstaddr"] for r in rs if r["dstaddr"] is not None})}
            for s, rs in groups.items()]
    return _order(rows, "srcaddr", desc="bytes")[:limit]


@oracle("top-interfaces", {})
def top_interfaces(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    subnet_of = _subnets(records, inventory_dir, since, until)
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        groups[r["interface_id"]].append(r)
    rows = []
    for eni, rs in groups.items():
        subnets = [s for s in map(subnet_of, rs) if s is not None]
        rows.append({"interface_id": eni, "subnet_id": max(subnets) if subnets else None, **_counts(rs),
                     "rejected_flows": sum(r["action"] == "REJECT" for r in rs)})
    return _order(rows, "interface_id", desc="bytes")[:int(params.get("limit", 20))]


@oracle("top-subnets", {})
def top_subnets(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    subnet_of = _subnets(records, inventory_dir, since, until)
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        groups[subnet_of(r)].append(r)
    rows = [{"subnet_id": sn, "interfaces": len({r["interface_id"] for r in rs if r["interface_id"] is not None}),
             **_counts(rs), "rejected_flows": sum(r["action"] == "REJECT" for r in rs)}
            for sn, rs in groups.items()]
    return _order(rows, "subnet_id", desc="bytes")[:int(params.get("limit", 20))]


@oracle("traffic-by-protocol", {})
def traffic_by_protocol(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        groups[(r["protocol"], "IPv6" if ":" in (r["srcaddr"] or "") else "IPv4")].append(r)
    rows = [{"protocol": p, "ip_version": v, **_counts(rs),
             "accepted_flows": sum(r["action"] == "ACCEPT" for r in rs),
             "rejected_flows": sum(r["action"] == "REJECT" for r in rs)}
            for (p, v), rs in groups.items()]
    return _order(rows, "protocol", "ip_version", desc="bytes")


def _seen(rs: list[dict]) -> dict:
    starts = [r["start"] for r in rs if r["start"] is not None]
    ends = [r["end"] for r in rs if r["end"] is not None]
    return {"first_seen": min(starts) if starts else None, "last_seen": max(ends) if ends else None}


def _address_traffic(records, params, window, this: str, other: str) -> list[dict]:
    address = _address(params)
    groups: dict = defaultdict(list)
    for r in _selected(records, *window):
        if r[this] == address:
            groups[(r[other], r["dstport"], r["protocol"], r["action"])].append(r)
    rows = [{other: o, "dstport": port, "protocol": proto, "action": action, **_counts(rs), **_seen(rs)}
            for (o, port, proto, action), rs in groups.items()]
    return _order(rows, other, "dstport", "protocol", "action", desc="bytes")


# Fixed addresses of the generator: 192.168.20.1 is the GRE peer (it sends and receives), 2001:db8:cafe::17
# an IPv6 client of the load balancers (here in a long form: the `ip` type makes it canonical).
@oracle("traffic-from-address", {"address": "192.168.20.1"})
def traffic_from_address(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    return _address_traffic(records, params, (since, until, accounts, regions), "srcaddr", "dstaddr")


@oracle("traffic-to-address", {"address": "2001:DB8:CAFE:0:0:0:0:17"})
def traffic_to_address(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    return _address_traffic(records, params, (since, until, accounts, regions), "dstaddr", "srcaddr")


@oracle("address-first-last-seen", {"address": "192.168.20.1"})
def address_first_last_seen(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    address = _address(params)
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if address in (r["srcaddr"], r["dstaddr"]):
            groups[r["interface_id"]].append(r)
    rows = []
    for eni, rs in groups.items():
        out = [r for r in rs if r["srcaddr"] == address]
        inn = [r for r in rs if r["dstaddr"] == address]
        rows.append({"interface_id": eni, **_seen(rs), "flows_out": len(out), "flows_in": len(inn),
                     "bytes_out": _sum(r["bytes"] for r in out), "bytes_in": _sum(r["bytes"] for r in inn),
                     "rejected_flows": sum(r["action"] == "REJECT" for r in rs)})
    return _order(rows, "first_seen", "interface_id")


@oracle("eni-timeline", Picked("busiest-eni", lambda records, _: {"eni": busiest(records, "interface_id")[0]}))
def eni_timeline(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["interface_id"] == params["eni"]:
            groups[r["start"] - r["start"] % 3600 if r["start"] is not None else None].append(r)
    rows = [{"hour": h, **_counts(rs), "accepted_flows": sum(r["action"] == "ACCEPT" for r in rs),
             "rejected_flows": sum(r["action"] == "REJECT" for r in rs)}
            for h, rs in groups.items()]
    return _order(rows, "hour")
