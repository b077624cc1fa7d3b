"""Oracles of the case queries (docs/queries.md, "Case files") and of the case file `flowsql investigate`
writes from them (README, "Incident time"): plain Python over the generated records and the inventory's
JSON, sharing no code with flowsql's SQL or its sections.

`case_rows` gives the rows of case-address, case-cidr and case-eni; `case_file` the figures of the case
file itself, straight from the records (not from those rows): first and last seen, peers, interfaces
with their attribution, the internet, rejected traffic, the timeline and the ECS tasks.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

from oracle import (PRIVATE_NETWORKS, Picked, _eni_ips, _enis, _folders, _NullsLast, _selected, _sum, busiest,
                    classify, oracle)


def _matcher(kind: str, params: dict):
    """(sent, received) of a record for the subject, as docs/queries.md defines them."""
    if kind == "address":
        a = str(ipaddress.ip_address(params["address"]))
        return lambda r: (r["srcaddr"] == a, r["dstaddr"] == a)
    if kind == "cidr":
        net = ipaddress.ip_network(params["block"], strict=False)

        def inside(addr):
            if addr is None:
                return False
            ip = ipaddress.ip_address(addr)
            return ip.version == net.version and ip in net
        return lambda r: (inside(r["srcaddr"]), inside(r["dstaddr"]))
    eni = params["eni"]
    own = {str(ipaddress.ip_address(a)) for a in params["addresses"].split(",")} if params.get("addresses") else None

    def sides(r):
        if r["interface_id"] != eni:
            return None
        if r["flow_direction"] is not None:
            return r["flow_direction"] == "egress", r["flow_direction"] == "ingress"
        if own is None:
            return None, None
        return r["srcaddr"] in own, r["dstaddr"] in own
    return sides


def _subject_records(records, kind, params, window):
    match = _matcher(kind, params)
    for r in _selected(records, *window):
        sides = match(r)
        if sides is None:
            continue
        if kind != "eni" and not (sides[0] or sides[1]):
            continue
        yield r, sides[0], sides[1]


def _counts(rs):
    starts = [r["start"] for r in rs if r["start"] is not None]
    ends = [r["end"] for r in rs if r["end"] is not None]
    return {"flows": len(rs), "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs),
            "first_seen": min(starts) if starts else None, "last_seen": max(ends) if ends else None}


_KEYS = ("part", "direction", "address", "destination", "interface_id", "hour", "port", "protocol", "action",
         "ecs_cluster", "ecs_service", "ecs_task")


def _sums(items) -> dict:
    """The counts docs/queries.md lists, over (record, sent, received) items."""
    rs = [r for r, _, _ in items]
    accepted = [r for r in rs if r["action"] == "ACCEPT"]
    c = _counts(rs)
    return {"flows": c["flows"], "packets": c["packets"], "bytes": c["bytes"],
            "accepted_flows": len(accepted), "rejected_flows": sum(r["action"] == "REJECT" for r in rs),
            "accepted_packets": _sum(r["packets"] for r in accepted), "accepted_bytes": _sum(r["bytes"] for r in accepted),
            "flows_sent": sum(1 for _, s, _ in items if s), "flows_received": sum(1 for _, _, v in items if v),
            "bytes_sent": _sum(r["bytes"] for r, s, _ in items if s),
            "bytes_received": _sum(r["bytes"] for r, _, v in items if v),
            "first_seen": c["first_seen"], "last_seen": c["last_seen"]}


def _joined(values) -> str | None:
    values = sorted({v for v in values if v is not None})
    return ",".join(map(str, values)) if values else None


def case_rows(records, kind, params, window) -> list[dict]:
    groups: dict = defaultdict(list)
    for r, sent, received in _subject_records(records, kind, params, window):
        item = (r, sent, received)
        if sent:
            groups[("peer", "outbound", r["dstaddr"])].append(item)
        if received:
            groups[("peer", "inbound", r["srcaddr"])].append(item)
        groups[("interface", r["interface_id"])].append(item)
        groups[("hour", r["start"] - r["start"] % 3600)].append(item)
        if r["action"] == "REJECT":
            if sent:
                groups[("rejected", "outbound", r["dstaddr"], r["dstport"], r["protocol"])].append(item)
            if received:
                groups[("rejected", "inbound", r["srcaddr"], r["dstport"], r["protocol"])].append(item)
        if any(r[f] is not None for f in ("ecs_cluster_name", "ecs_service_name", "ecs_task_arn")):
            groups[("ecs", r["ecs_cluster_name"], r["ecs_service_name"], r["ecs_task_arn"])].append(item)
        if kind == "eni" and not sent and not received:
            groups[("undirected", r["srcaddr"], r["dstaddr"], r["dstport"], r["protocol"], r["action"])].append(item)
    rows = []
    for key, items in groups.items():
        row = dict.fromkeys(_KEYS)
        row["part"] = key[0]
        if key[0] == "peer":
            row["direction"], row["address"] = key[1:]
        elif key[0] == "interface":
            row["interface_id"] = key[1]
        elif key[0] == "hour":
            row["hour"] = key[1]
        elif key[0] == "rejected":
            row["direction"], row["address"], row["port"], row["protocol"] = key[1:]
        elif key[0] == "ecs":
            row["ecs_cluster"], row["ecs_service"], row["ecs_task"] = key[1:]
        elif key[0] == "undirected":
            row["address"], row["destination"], row["port"], row["protocol"], row["action"] = key[1:]
        row.update(_sums(items))
        rs = [r for r, _, _ in items]
        row["ports"] = _joined(r["dstport"] for r in rs) if key[0] == "peer" else None
        row["protocols"] = _joined(r["protocol"] for r in rs) if key[0] == "peer" else None
        row["interfaces"] = _joined(r["interface_id"] for r in rs) if key[0] not in ("interface", "hour") else None
        rows.append(row)
    for k in reversed(_KEYS):
        rows.sort(key=lambda row, k=k: _NullsLast(row[k]))
    return rows


def _window(since, until, accounts, regions):
    return (since, until, accounts, regions)


@oracle("case-address", {"address": "192.168.20.1"})
def case_address(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    return case_rows(records, "address", params, _window(since, until, accounts, regions))


@oracle("case-cidr", {"block": "10.11.10.0/23"})
def case_cidr(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    return case_rows(records, "cidr", params, _window(since, until, accounts, regions))


def _busiest_eni(region: str, with_addresses: bool):
    """The ENI on the most records of `region`, and (as investigate gives them) its addresses from the
    inventory: us-east-1's default format has no flow-direction, so they tell sent from received."""
    def pick(records, inventory_dir) -> dict:
        known = _enis(inventory_dir) if with_addresses else None
        [eni] = busiest(records, "interface_id",
                        where=lambda r: r["aws_region"] == region and (known is None or r["interface_id"] in known))
        return {"eni": eni, "addresses": ",".join(sorted(_eni_ips(known[eni])))} if known else {"eni": eni}
    return Picked(f"busiest-eni-{region}{'-addresses' if with_addresses else ''}", pick)


@oracle("case-eni", _busiest_eni("us-east-1", True), _busiest_eni("eu-west-1", False))  # more: test_investigate.py
def case_eni(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    return case_rows(records, "eni", params, _window(since, until, accounts, regions))


# -- the case file ------------------------------------------------------------------------------------

def iso(seconds):
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _vpc_networks(inventory_dir, since, until):
    """(network, vpc id) of every block of every VPC of the window's folders (later folders win)."""
    vpcs = {}
    for folder in _folders(inventory_dir, since, until):
        path = folder / "vpcs.json"
        if path.exists():
            for v in json.loads(path.read_text())["Vpcs"]:
                vpcs[v["VpcId"]] = v
    nets = []
    for v in vpcs.values():
        for a in v.get("CidrBlockAssociationSet") or []:
            nets.append((ipaddress.ip_network(a["CidrBlock"], strict=False), v["VpcId"]))
        for a in v.get("Ipv6CidrBlockAssociationSet") or []:
            if (a.get("Ipv6CidrBlockState") or {}).get("State", "associated") == "associated":
                nets.append((ipaddress.ip_network(a["Ipv6CidrBlock"], strict=False), v["VpcId"]))
    return nets


def network(address, nets):
    """vpc / private / internet, as lambda-egress classifies (oracle.classify), and the VPC's id."""
    where = classify(address, [n for n, _ in nets]) if nets is not None else (
        "private" if any(ipaddress.ip_address(address) in n for n in PRIVATE_NETWORKS
                         if n.version == ipaddress.ip_address(address).version) else "internet")
    if where != "vpc":
        return where, None
    ip = ipaddress.ip_address(address)
    holding = [(n, v) for n, v in nets if n.version == ip.version and ip in n]
    most = max(n.prefixlen for n, _ in holding)  # the most specific block, then the smallest VPC id
    return where, min(v for n, v in holding if n.prefixlen == most)


def attribution(inventory_dir, since, until) -> dict:
    """ENI id -> (the newest folder label that holds it, its describe item, every label that holds it)."""
    top = Path(inventory_dir)
    found: dict = {}
    for folder in _folders(inventory_dir, since, until):
        label = "latest" if folder == top else folder.name
        path = folder / "network-interfaces.json"
        if not path.exists():
            continue
        for e in json.loads(path.read_text())["NetworkInterfaces"]:
            labels = found.get(e["NetworkInterfaceId"], (None, None, []))[2]
            found[e["NetworkInterfaceId"]] = (label, e, labels + [label])
    return found


def case_file(records, inventory_dir, kind: str, params: dict, since: date, until: date, accounts=None,
              regions=None, with_inventory: bool = True) -> dict:
    """The figures of the case file, from the records."""
    recs = list(_subject_records(records, kind, params, (since, until, accounts, regions)))
    nets = _vpc_networks(inventory_dir, since, until) if with_inventory else None
    starts = [r["start"] for r, _, _ in recs]
    ends = [r["end"] for r, _, _ in recs]
    out = {"first_seen": iso(min(starts)) if starts else None, "last_seen": iso(max(ends)) if ends else None,
           "records": len(recs), "bytes": _sum(r["bytes"] for r, _, _ in recs),
           "bytes_sent": _sum(r["bytes"] for r, s, _ in recs if s), "bytes_received": _sum(r["bytes"] for r, _, v in recs if v),
           "rejected_flows": sum(r["action"] == "REJECT" for r, _, _ in recs)}

    peers = defaultdict(list)
    for r, sent, received in recs:
        if sent:
            peers[(r["dstaddr"], "outbound")].append(r)
        if received:
            peers[(r["srcaddr"], "inbound")].append(r)
    rows = []
    for (address, direction), rs in peers.items():
        where, vpc = network(address, nets)
        c = _counts(rs)
        rows.append({"address": address, "direction": direction, "network": where, "vpc_id": vpc,
                     "ports": sorted({r["dstport"] for r in rs if r["dstport"] is not None}),
                     "protocols": sorted({r["protocol"] for r in rs}), "flows": c["flows"], "packets": c["packets"],
                     "bytes": c["bytes"], "accepted_flows": sum(r["action"] == "ACCEPT" for r in rs),
                     "rejected_flows": sum(r["action"] == "REJECT" for r in rs), "first_seen": iso(c["first_seen"]),
                     "last_seen": iso(c["last_seen"]), "interfaces": sorted({r["interface_id"] for r in rs})})
    rows.sort(key=lambda p: (p["address"], p["direction"]))
    rows.sort(key=lambda p: -(p["bytes"] or 0))
    out["peers"] = rows

    owners = attribution(inventory_dir, since, until) if with_inventory else {}
    enis = defaultdict(list)
    for r, sent, received in recs:
        enis[r["interface_id"]].append((r, sent, received))
    out["interfaces"] = {}
    for eni, items in enis.items():
        rs = [r for r, _, _ in items]
        c = _counts(rs)
        label, doc, labels = owners.get(eni, (None, None, []))
        out["interfaces"][eni] = {"flows": c["flows"], "bytes": c["bytes"], "flows_sent": sum(1 for _, s, _ in items if s),
                                  "flows_received": sum(1 for _, _, v in items if v),
                                  "first_seen": iso(c["first_seen"]), "last_seen": iso(c["last_seen"]),
                                  "found_in": label, "snapshots": labels,
                                  "subnet_id": doc["SubnetId"] if doc else None, "vpc_id": doc["VpcId"] if doc else None,
                                  "interface_type": doc["InterfaceType"] if doc else None,
                                  "instance_id": (doc.get("Attachment") or {}).get("InstanceId") if doc else None}

    internet = {"bytes_sent": None, "bytes_received": None, "destinations": set(), "sources": set(),
                "rejected_flows_outbound": 0, "rejected_flows_inbound": 0}
    for (address, direction), rs in peers.items():
        if network(address, nets)[0] != "internet":
            continue
        accepted = [r for r in rs if r["action"] == "ACCEPT"]
        key = "sent" if direction == "outbound" else "received"
        if accepted:
            internet[f"bytes_{key}"] = _sum([internet[f"bytes_{key}"], _sum(r["bytes"] for r in accepted)])
            internet["destinations" if direction == "outbound" else "sources"].add(address)
        internet[f"rejected_flows_{direction}"] += sum(r["action"] == "REJECT" for r in rs)
    internet["destinations"], internet["sources"] = len(internet["destinations"]), len(internet["sources"])
    out["internet"] = internet

    rejected = defaultdict(int)
    for (address, direction), rs in peers.items():
        for r in rs:
            if r["action"] == "REJECT":
                rejected[(address, direction, r["dstport"], r["protocol"])] += 1
    out["rejected"] = dict(rejected)

    hours = defaultdict(list)
    for r, sent, received in recs:
        hours[r["start"] - r["start"] % 3600].append((r, sent, received))
    out["timeline"] = [{"hour": iso(h), "flows": len(items), "bytes": _sum(r["bytes"] for r, _, _ in items),
                        "bytes_sent": _sum(r["bytes"] for r, s, _ in items if s),
                        "bytes_received": _sum(r["bytes"] for r, _, v in items if v),
                        "accepted_flows": sum(r["action"] == "ACCEPT" for r, _, _ in items),
                        "rejected_flows": sum(r["action"] == "REJECT" for r, _, _ in items)}
                       for h, items in sorted(hours.items())]
    return out
