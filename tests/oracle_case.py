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

from oracle import PRIVATE_NETWORKS, _folders, _NullsLast, _selected, _sum, classify, oracle


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


_ORDER = ("part", "interface_id", "sent", "received", "srcaddr", "dstaddr", "dstport", "protocol", "action",
          "ecs_cluster", "ecs_service", "ecs_task", "hour")


def case_rows(records, kind, params, window) -> list[dict]:
    traffic, hours = defaultdict(list), defaultdict(list)
    for r, sent, received in _subject_records(records, kind, params, window):
        traffic[(r["interface_id"], sent, received, r["srcaddr"], r["dstaddr"], r["dstport"], r["protocol"],
                 r["action"], r["ecs_cluster_name"], r["ecs_service_name"], r["ecs_task_arn"])].append(r)
        hours[(sent, received, r["start"] - r["start"] % 3600, r["action"])].append(r)
    rows = []
    for (eni, sent, received, src, dst, port, proto, action, cluster, service, task), rs in traffic.items():
        rows.append({"part": "traffic", "interface_id": eni, "sent": sent, "received": received, "srcaddr": src,
                     "dstaddr": dst, "dstport": port, "protocol": proto, "action": action, "ecs_cluster": cluster,
                     "ecs_service": service, "ecs_task": task, "hour": None, **_counts(rs)})
    for (sent, received, hour, action), rs in hours.items():
        rows.append({"part": "hour", "interface_id": None, "sent": sent, "received": received, "srcaddr": None,
                     "dstaddr": None, "dstport": None, "protocol": None, "action": action, "ecs_cluster": None,
                     "ecs_service": None, "ecs_task": None, "hour": hour, **_counts(rs)})
    for k in reversed(_ORDER):
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


@oracle("case-eni", {"eni": "eni-0a1b2c3d4e5f60718"})  # real ENIs: tests/test_investigate.py
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
    return where, min(v for n, v in nets if n.version == ip.version and ip in n)


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
