"""The sections of a case file, computed from the rows of its one query (sql/macros/case_records.sql).

The query returns the subject's records aggregated two ways: `traffic` rows (per ENI, direction,
source, destination, destination port, protocol, action and ECS task) and `hour` rows (per hour,
direction and action). Every figure here is a sum over those rows, so each one is as exact as the
query, and all of them come from one read of the records:

- peers: per peer address and direction (`outbound`: the subject sent to it, the row's dstaddr;
  `inbound`: the subject received from it, the row's srcaddr), a row counted in each direction it
  has (a record between two addresses of a block, or from an address to itself, is both);
- interfaces: per ENI that logged the subject, with what the inventory says about it;
- internet: what went to and came from peers classified `internet` (accepted, and rejected);
- rejected: the REJECTed traffic per peer, direction, destination port and protocol;
- timeline: per hour of `start`; ecs_tasks: per ECS task the records name;
- undirected (ENI subjects): records whose direction is not known.

Times are ISO 8601 UTC (`2026-11-03T14:05:09Z`); an hour is the hour `start` fell in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

TOP = 10  # the internet destinations named in the summary


def iso(seconds) -> str | None:
    """Unix seconds as ISO 8601 UTC, or None."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(a, b):
    """SQL SUM of two partial sums: None (no value) is no number."""
    if a is None:
        return b
    return a if b is None else a + b


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


class _Tally:
    """flows, packets, bytes, accepted/rejected flows, first and last seen, summed over rows."""

    __slots__ = ("flows", "packets", "bytes", "accepted_flows", "rejected_flows", "first", "last", "interfaces",
                 "ports", "protocols")

    def __init__(self):
        self.flows = 0
        self.packets = self.bytes = self.first = self.last = None
        self.accepted_flows = self.rejected_flows = 0
        self.interfaces: set = set()
        self.ports: set = set()
        self.protocols: set = set()

    def add(self, r: dict) -> None:
        self.flows += r["flows"]
        self.packets = _add(self.packets, r["packets"])
        self.bytes = _add(self.bytes, r["bytes"])
        if r["action"] == "ACCEPT":
            self.accepted_flows += r["flows"]
        elif r["action"] == "REJECT":
            self.rejected_flows += r["flows"]
        self.first = _min(self.first, r["first_seen"])
        self.last = _max(self.last, r["last_seen"])
        if r.get("interface_id") is not None:
            self.interfaces.add(r["interface_id"])
        if r.get("dstport") is not None:
            self.ports.add(r["dstport"])
        if r.get("protocol") is not None:
            self.protocols.add(r["protocol"])

    def counts(self) -> dict:
        return {"flows": self.flows, "packets": self.packets, "bytes": self.bytes,
                "accepted_flows": self.accepted_flows, "rejected_flows": self.rejected_flows,
                "first_seen": iso(self.first), "last_seen": iso(self.last)}


def _k(value) -> tuple:
    """A sort key of a nullable value, ascending with None last."""
    return (1, 0) if value is None else (0, value)


def _by_bytes(rows: list[dict], *keys: str) -> list[dict]:
    """Bytes descending (None last), then `keys` ascending (None last)."""
    return sorted(rows, key=lambda row: (row["bytes"] is None, -(row["bytes"] or 0), *(_k(row[k]) for k in keys)))


def directions(r: dict):
    """(direction, peer address) of each direction a traffic row has."""
    if r["sent"] is True:
        yield "outbound", r["dstaddr"]
    if r["received"] is True:
        yield "inbound", r["srcaddr"]


def split(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    return [r for r in rows if r["part"] == "traffic"], [r for r in rows if r["part"] == "hour"]


def totals(traffic: list[dict]) -> dict:
    t = _Tally()
    sent = received = None
    for r in traffic:
        t.add(r)
        if r["sent"] is True:
            sent = _add(sent, r["bytes"])
        if r["received"] is True:
            received = _add(received, r["bytes"])
    c = t.counts()
    return {"records": c["flows"], "packets": c["packets"], "bytes": c["bytes"], "bytes_sent": sent,
            "bytes_received": received, "accepted_flows": c["accepted_flows"], "rejected_flows": c["rejected_flows"],
            "first_seen": c["first_seen"], "last_seen": c["last_seen"]}


def peers(traffic: list[dict], network) -> list[dict]:
    """One row per peer address and direction; `network(address)` -> (class, vpc_id)."""
    tallies: dict = defaultdict(_Tally)
    for r in traffic:
        for direction, address in directions(r):
            tallies[(address, direction)].add(r)
    rows = []
    for (address, direction), t in tallies.items():
        where, vpc = network(address)
        rows.append({"address": address, "direction": direction, "network": where, "vpc_id": vpc,
                     "ports": sorted(t.ports), "protocols": sorted(t.protocols), **t.counts(),
                     "interfaces": sorted(t.interfaces)})
    return _by_bytes(rows, "address", "direction")


def interfaces(traffic: list[dict], describe) -> list[dict]:
    """One row per ENI that logged the subject; `describe(eni)` -> what the inventory says, or None."""
    tallies: dict = defaultdict(_Tally)
    sent: dict = defaultdict(int)
    received: dict = defaultdict(int)
    for r in traffic:
        tallies[r["interface_id"]].add(r)
        sent[r["interface_id"]] += r["flows"] if r["sent"] is True else 0
        received[r["interface_id"]] += r["flows"] if r["received"] is True else 0
    rows = []
    for eni, t in tallies.items():
        c = t.counts()
        rows.append({"interface_id": eni, **c, "flows_sent": sent[eni], "flows_received": received[eni],
                     "inventory": describe(eni) if eni is not None else None})
    return sorted(rows, key=lambda row: (-row["flows"], _k(row["interface_id"])))


def internet(peer_rows: list[dict], traffic: list[dict], network) -> dict:
    """What the subject exchanged with the internet: accepted bytes both ways, and the rejected flows."""
    out = {"bytes_sent": None, "packets_sent": None, "flows_sent": 0, "destinations": 0, "bytes_received": None,
           "flows_received": 0, "sources": 0, "rejected_flows_outbound": 0, "rejected_flows_inbound": 0}
    dests, sources = set(), set()
    for r in traffic:
        for direction, address in directions(r):
            if network(address)[0] != "internet":
                continue
            if r["action"] == "REJECT":
                out[f"rejected_flows_{direction}"] += r["flows"]
                continue
            if r["action"] != "ACCEPT":
                continue
            if direction == "outbound":
                out["bytes_sent"] = _add(out["bytes_sent"], r["bytes"])
                out["packets_sent"] = _add(out["packets_sent"], r["packets"])
                out["flows_sent"] += r["flows"]
                dests.add(address)
            else:
                out["bytes_received"] = _add(out["bytes_received"], r["bytes"])
                out["flows_received"] += r["flows"]
                sources.add(address)
    out["destinations"], out["sources"] = len(dests), len(sources)
    # the peers table's rows (accepted and rejected together) of the biggest internet destinations
    out["top_destinations"] = [{k: p[k] for k in ("address", "bytes", "flows", "ports", "protocols")}
                               for p in peer_rows if p["direction"] == "outbound" and p["network"] == "internet"][:TOP]
    return out


def rejected(traffic: list[dict], network) -> dict:
    """The REJECTed traffic per peer, direction, destination port and protocol, most flows first."""
    tallies: dict = defaultdict(_Tally)
    by_direction = {"outbound": 0, "inbound": 0}
    for r in traffic:
        if r["action"] != "REJECT":
            continue
        for direction, address in directions(r):
            tallies[(address, direction, r["dstport"], r["protocol"])].add(r)
            by_direction[direction] += r["flows"]
    rows = []
    for (address, direction, port, protocol), t in tallies.items():
        c = t.counts()
        rows.append({"address": address, "direction": direction, "network": network(address)[0], "port": port,
                     "protocol": protocol, "flows": c["flows"], "packets": c["packets"], "bytes": c["bytes"],
                     "first_seen": c["first_seen"], "last_seen": c["last_seen"], "interfaces": sorted(t.interfaces)})
    rows.sort(key=lambda row: (-row["flows"], _k(row["address"]), row["direction"], _k(row["port"]),
                               _k(row["protocol"])))
    flows = sum(r["flows"] for r in traffic if r["action"] == "REJECT")
    return {"flows": flows, "flows_outbound": by_direction["outbound"], "flows_inbound": by_direction["inbound"],
            "rows": rows}


def timeline(hours: list[dict]) -> list[dict]:
    """Per hour with records: flows, packets, bytes, bytes sent and received, accepted and rejected flows."""
    by_hour: dict = {}
    for r in hours:
        h = by_hour.setdefault(r["hour"], {"hour": iso(r["hour"]), "flows": 0, "packets": None, "bytes": None,
                                           "bytes_sent": None, "bytes_received": None, "accepted_flows": 0,
                                           "rejected_flows": 0})
        h["flows"] += r["flows"]
        h["packets"] = _add(h["packets"], r["packets"])
        h["bytes"] = _add(h["bytes"], r["bytes"])
        if r["sent"] is True:
            h["bytes_sent"] = _add(h["bytes_sent"], r["bytes"])
        if r["received"] is True:
            h["bytes_received"] = _add(h["bytes_received"], r["bytes"])
        if r["action"] == "ACCEPT":
            h["accepted_flows"] += r["flows"]
        elif r["action"] == "REJECT":
            h["rejected_flows"] += r["flows"]
    return [by_hour[k] for k in sorted(by_hour, key=_k)]


def ecs_tasks(traffic: list[dict]) -> list[dict]:
    """Per ECS task the records name (v7 ecs-* fields): its cluster, service and task ARN."""
    tallies: dict = defaultdict(_Tally)
    for r in traffic:
        key = (r["ecs_cluster"], r["ecs_service"], r["ecs_task"])
        if key != (None, None, None):
            tallies[key].add(r)
    rows = []
    for (cluster, service, task), t in tallies.items():
        c = t.counts()
        rows.append({"cluster": cluster, "service": service, "task_arn": task, "flows": c["flows"],
                     "bytes": c["bytes"], "first_seen": c["first_seen"], "last_seen": c["last_seen"],
                     "interfaces": sorted(t.interfaces)})
    return sorted(rows, key=lambda r: tuple(_k(r[k]) for k in ("cluster", "service", "task_arn")))


def undirected(traffic: list[dict]) -> list[dict]:
    """Traffic rows with neither direction (an ENI's records without flow-direction whose addresses
    the inventory does not give, or that it forwarded): per source, destination, port, protocol, action."""
    tallies: dict = defaultdict(_Tally)
    for r in traffic:
        if r["sent"] is not True and r["received"] is not True:
            tallies[(r["srcaddr"], r["dstaddr"], r["dstport"], r["protocol"], r["action"])].add(r)
    rows = []
    for (src, dst, port, protocol, action), t in tallies.items():
        c = t.counts()
        rows.append({"srcaddr": src, "dstaddr": dst, "dstport": port, "protocol": protocol, "action": action,
                     "flows": c["flows"], "packets": c["packets"], "bytes": c["bytes"],
                     "first_seen": c["first_seen"], "last_seen": c["last_seen"]})
    return _by_bytes(rows, "srcaddr", "dstaddr", "dstport", "protocol", "action")
