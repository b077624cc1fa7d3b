"""Oracles of the attribution and logging-health queries (docs/queries.md): plain Python over the
generated records.

Imported by oracle.py, whose `@oracle` registers each function in ORACLES.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from oracle import (PRIVATE_NETWORKS, Refused, _enis, _eni_ips, _inside, _NullsLast, _read, _selected, _sum,
                    oracle)


def _desc(value):
    """Sort key for a count or sum in descending order, NULLs last (both engines' default)."""
    return (value is None, -(value or 0))


def _keys(*values):
    """Ascending sort keys, NULLs last."""
    return tuple(_NullsLast(v) for v in values)


def _all_statuses(records, since, until, accounts, regions):
    """Records of any log-status whose path day, account and region are in the request."""
    for r in records:
        if not since <= r["day"] <= until:
            continue
        if accounts and r["aws_account_id"] not in accounts:
            continue
        if regions and r["aws_region"] not in regions:
            continue
        yield r


@lru_cache(maxsize=None)
def _header(path) -> tuple[str, ...]:
    """The field names in a file's own header line (its first line), read with gzip."""
    with gzip.open(path, "rt", encoding="ascii") as f:
        return tuple(f.readline().split())


def _refuse_without(field, records, since, until, accounts, regions):
    """The engines leave out files whose format lacks a needed field, and refuse a query no file of the
    window can answer: raise Refused when the request has files and none of them has `field`."""
    files = {r["file"] for r in _all_statuses(records, since, until, accounts, regions)}
    if files and not any(field in _header(f) for f in files):
        raise Refused(field)


def _eni_ips_where(inventory_dir, since, until, keep) -> dict[str, set[str]]:
    """interface-id -> its addresses, for the ENIs of the window's inventory that `keep` selects."""
    return {eni_id: _eni_ips(eni) for eni_id, eni in _enis(inventory_dir, since, until).items() if keep(eni)}


# ---------------------------------------------------------------------------------- nat-gateway-egress

@oracle("nat-gateway-egress", {})
def nat_gateway_egress(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    limit = int(params.get("limit", 100))
    nat_ips = _eni_ips_where(inventory_dir, since, until, lambda e: e.get("InterfaceType") == "nat_gateway")
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] != "ACCEPT" or r["dstaddr"] not in nat_ips.get(r["interface_id"], ()):
            continue
        groups[(r["srcaddr"], r["pkt_dstaddr"], r["dstport"], r["protocol"])].append(r)
    rows = [
        {
            "nat_interface_id": min(r["interface_id"] for r in rs),
            "source": src,
            "destination": dst,
            "dstport": port,
            "protocol": proto,
            "flows": len(rs),
            "packets": _sum(r["packets"] for r in rs),
            "bytes": _sum(r["bytes"] for r in rs),
        }
        for (src, dst, port, proto), rs in groups.items()
        if _inside(ipaddress.ip_address(src), PRIVATE_NETWORKS)  # an internal host's packets
    ]
    rows.sort(key=lambda w: (_desc(w["bytes"]), *_keys(w["source"], w["destination"], w["dstport"], w["protocol"])))
    return rows[:limit]


# ------------------------------------------------------------------------------- load-balancer-traffic

@oracle("load-balancer-traffic", {})
def load_balancer_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    limit = int(params.get("limit", 100))
    enis = _enis(inventory_dir, since, until)
    elb = {i: (e["Description"][len("ELB "):], _eni_ips(e)) for i, e in enis.items()
           if (e.get("Description") or "").startswith("ELB ")}
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] != "ACCEPT" or r["interface_id"] not in elb:
            continue
        name, ips = elb[r["interface_id"]]
        if r["dstaddr"] in ips:  # arriving at the load balancer
            groups[(name, r["srcaddr"], r["dstport"])].append(r)
    rows = [
        {"load_balancer": name, "srcaddr": src, "dstport": port, "flows": len(rs),
         "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
        for (name, src, port), rs in groups.items()
    ]
    rows.sort(key=lambda w: (_desc(w["bytes"]), *_keys(w["load_balancer"], w["srcaddr"], w["dstport"])))
    return rows[:limit]


# -------------------------------------------------------------------------------- vpc-endpoint-traffic

_VPCE = re.compile(r"vpce-[0-9a-f]+")


@oracle("vpc-endpoint-traffic", {})
def vpc_endpoint_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    enis = _enis(inventory_dir, since, until)
    endpoints = {}
    for i, e in enis.items():
        if e.get("InterfaceType") == "vpc_endpoint":
            m = _VPCE.search(e.get("Description") or "")
            endpoints[i] = (m.group(0) if m else None, _eni_ips(e))
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["interface_id"] not in endpoints:
            continue
        endpoint, ips = endpoints[r["interface_id"]]
        if r["dstaddr"] in ips:  # accepted and rejected alike
            groups[(endpoint, r["srcaddr"], r["action"])].append(r)
    rows = [
        {"endpoint": ep, "srcaddr": src, "action": action, "flows": len(rs),
         "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
        for (ep, src, action), rs in groups.items()
    ]
    rows.sort(key=lambda w: (_desc(w["bytes"]), *_keys(w["endpoint"], w["srcaddr"], w["action"])))
    return rows


# --------------------------------------------------------------------------------- aws-service-traffic

@oracle("aws-service-traffic", {})
def aws_service_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    _refuse_without("pkt-dst-aws-service", records, since, until, accounts, regions)
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["pkt_dst_aws_service"] is not None:
            groups[(r["pkt_dst_aws_service"], r["action"])].append(r)
    rows = [
        {"service": svc, "action": action, "flows": len(rs), "packets": _sum(r["packets"] for r in rs),
         "bytes": _sum(r["bytes"] for r in rs), "sources": len({r["srcaddr"] for r in rs} - {None})}
        for (svc, action), rs in groups.items()
    ]
    rows.sort(key=lambda w: (_desc(w["bytes"]), *_keys(w["service"], w["action"])))
    return rows


# ------------------------------------------------------------------------------------ database-traffic

def _database_service(eni: dict) -> str | None:
    requester, description = eni.get("RequesterId"), eni.get("Description") or ""
    if requester == "amazon-rds" or description == "RDSNetworkInterface":
        return "rds"
    if requester == "amazon-elasticache" or description.startswith("ElastiCache"):
        return "elasticache"
    return None


@oracle("database-traffic", {})
def database_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    databases = {i: (_database_service(e), _eni_ips(e)) for i, e in _enis(inventory_dir, since, until).items()
                 if _database_service(e)}
    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["interface_id"] not in databases:
            continue
        service, ips = databases[r["interface_id"]]
        if r["dstaddr"] in ips:  # clients connecting
            groups[(service, r["interface_id"], r["srcaddr"], r["dstport"], r["action"])].append(r)
    rows = [
        {"service": svc, "interface_id": eni, "srcaddr": src, "dstport": port, "action": action,
         "flows": len(rs), "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
        for (svc, eni, src, port, action), rs in groups.items()
    ]
    rows.sort(key=lambda w: (_desc(w["bytes"]), *_keys(w["service"], w["interface_id"], w["srcaddr"],
                                                        w["dstport"], w["action"])))
    return rows


# ------------------------------------------------------------------------------------ cross-az-traffic

@oracle("cross-az-traffic", {})
def cross_az_traffic(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    _refuse_without("az-id", records, since, until, accounts, regions)
    enis = _enis(inventory_dir, since, until)
    subnets = {s["SubnetId"]: s for s in _read(inventory_dir, "subnets.json", since, until)}
    ips = {i: _eni_ips(e) for i, e in enis.items()}
    owners: dict = defaultdict(list)  # address -> ENIs that have it
    for i, addresses in ips.items():
        for a in addresses:
            owners[a].append(i)

    @lru_cache(maxsize=None)
    def destination_zone(source_eni, region, dstaddr):
        """docs/queries.md: the other ENIs with the address whose subnet has a zone id and a zone in the
        record's region; those in the sender's VPC preferred; ambiguous (None) unless one zone."""
        found = []
        for i in owners.get(dstaddr, ()):
            subnet = subnets.get(enis[i].get("SubnetId")) or {}
            zone, zone_name = subnet.get("AvailabilityZoneId"), subnet.get("AvailabilityZone")
            if i == source_eni or zone is None or zone_name is None or not zone_name.startswith(region):
                continue
            vpc = enis[source_eni].get("VpcId")
            found.append((vpc is not None and enis[i].get("VpcId") == vpc, zone))
        preferred = [z for same, z in found if same] or [z for _, z in found]
        return preferred[0] if len(set(preferred)) == 1 else None

    groups: dict = defaultdict(list)
    for r in _selected(records, since, until, accounts, regions):
        if r["action"] != "ACCEPT" or r["az_id"] is None or r["srcaddr"] not in ips.get(r["interface_id"], ()):
            continue
        zone = destination_zone(r["interface_id"], r["aws_region"], r["dstaddr"])
        if zone is not None and zone != r["az_id"]:
            groups[(r["az_id"], zone)].append(r)
    rows = [
        {"source_az": a, "destination_az": b, "flows": len(rs), "packets": _sum(r["packets"] for r in rs),
         "bytes": _sum(r["bytes"] for r in rs)}
        for (a, b), rs in groups.items()
    ]
    rows.sort(key=lambda w: (_desc(w["bytes"]), *_keys(w["source_az"], w["destination_az"])))
    return rows


# ------------------------------------------------------------------------------------- logging health

def _hour(start: int) -> int:
    return start - start % 3600


@oracle("nodata-skipdata", {})
def nodata_skipdata(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    counts: dict = defaultdict(int)
    for r in _all_statuses(records, since, until, accounts, regions):
        if r["log_status"] in ("NODATA", "SKIPDATA"):
            counts[(r["interface_id"], _hour(r["start"]), r["log_status"])] += 1
    rows = [{"interface_id": eni, "hour": hour, "log_status": status, "records": n}
            for (eni, hour, status), n in counts.items()]
    rows.sort(key=lambda w: _keys(w["hour"], w["interface_id"], w["log_status"]))
    return rows


def window_hours(since, until) -> list[int]:
    """Every hour of every day from since to until (UTC) before the current hour, as Unix seconds of
    its start (an hour under way or to come is none of the window's hours)."""
    first = datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    count = ((until - since).days + 1) * 24
    current = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return [int(h.timestamp()) for h in (first + timedelta(hours=i) for i in range(count)) if h < current]


@oracle("logging-gaps", {})
def logging_gaps(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    hours = window_hours(since, until)
    inside = set(hours)
    seen: dict = defaultdict(set)  # (account, region) -> hours with a record that started in them
    for r in _all_statuses(records, since, until, accounts, regions):
        hours_of = seen[(r["aws_account_id"], r["aws_region"])]
        if r["start"] is not None and _hour(r["start"]) in inside:
            hours_of.add(_hour(r["start"]))
    return [{"aws_account_id": a, "aws_region": reg, "hour": h}
            for (a, reg) in sorted(seen) for h in hours if h not in seen[(a, reg)]]


@oracle("log-coverage", {})
def log_coverage(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    counts: dict = defaultdict(int)
    for r in _all_statuses(records, since, until, accounts, regions):
        counts[(r["aws_account_id"], r["aws_region"], r["day"].isoformat())] += 1
    return [{"aws_account_id": a, "aws_region": reg, "day": d, "records": n}
            for (a, reg, d), n in sorted(counts.items())]
