"""The sections of a case file, from the rows of its one query (sql/macros/case_records.sql).

The query sums the subject's records per part of the case, over one read of them:
`peer` (per direction and peer address: `outbound`, the subject sent to it, the record's dstaddr;
`inbound`, it received from it, the record's srcaddr; a record can be both), `interface`, `hour`,
`rejected` (per direction, peer, destination port and protocol), `ecs` (per ECS task) and
`undirected` (an ENI's records whose direction is not known). So each section is its part's rows,
classified and ordered here; the totals are the sums of the interface rows (every record has one
interface) and the internet's figures the sums of the peers classified internet.

Times are ISO 8601 UTC (`2026-11-03T14:05:09Z`); an hour is the hour `start` fell in.
"""

from __future__ import annotations

from datetime import datetime, timezone

TOP = 10  # the internet destinations named in the summary


_DAYS: dict[int, str] = {}
_TIMES: dict[int, str] = {}


def iso(seconds) -> str | None:
    """Unix seconds as ISO 8601 UTC, or None (a case has tens of thousands: the day's text and the
    time of day's are each made once)."""
    if seconds is None:
        return None
    day, rest = divmod(int(seconds), 86400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = datetime.fromtimestamp(day * 86400, timezone.utc).strftime("%Y-%m-%d")
    time = _TIMES.get(rest)
    if time is None:
        time = _TIMES[rest] = f"T{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}Z"
    return text + time


def _k(value) -> tuple:
    """A sort key of a nullable value, ascending with None last."""
    return (1, 0) if value is None else (0, value)


def task_id(task_arn: str | None) -> str | None:
    """An ECS task's id, the last part of its ARN: arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID (or
    task/ID, the ARN format of before 2021); None for what is no task ARN."""
    if not task_arn or ":task/" not in task_arn:
        return None
    return task_arn.rsplit("/", 1)[1] or None


def _by_bytes(rows: list[dict], *keys: str) -> list[dict]:
    """Bytes descending (None last), then `keys` ascending (None last)."""
    return sorted(rows, key=lambda row: (row["bytes"] is None, -(row["bytes"] or 0), *(_k(row[k]) for k in keys)))


def _list(text) -> list[str]:
    """The query's comma-separated list (array_join of the distinct values) as a list."""
    return text.split(",") if text else []


def _seen(r: dict) -> dict:
    return {"first_seen": iso(r["first_seen"]), "last_seen": iso(r["last_seen"])}


def _counts(r: dict) -> dict:
    return {"flows": r["flows"], "packets": r["packets"], "bytes": r["bytes"], "accepted_flows": r["accepted_flows"],
            "rejected_flows": r["rejected_flows"], **_seen(r)}


def _total(interfaces: list[dict]) -> dict:
    """The case's totals: the sums of the interface rows (every record was logged by one interface)."""
    out = {"flows": 0, "rejected_flows": 0, "packets": None, "bytes": None, "bytes_sent": None,
           "bytes_received": None, "first_seen": None, "last_seen": None}
    for r in interfaces:
        out["flows"] += r["flows"]
        out["rejected_flows"] += r["rejected_flows"]
        for k in ("packets", "bytes", "bytes_sent", "bytes_received"):
            if r[k] is not None:
                out[k] = r[k] if out[k] is None else out[k] + r[k]
        for k, pick in (("first_seen", min), ("last_seen", max)):
            if r[k] is not None:
                out[k] = r[k] if out[k] is None else pick(out[k], r[k])
    return out


def compute(rows: list[dict], network, describe, *, eni: bool = False) -> dict:
    """Every section from the query's rows. `network(address)` -> (class, vpc_id), `describe(eni)`
    -> what the inventory says about an ENI (or None)."""
    parts: dict[str, list[dict]] = {}
    for r in rows:
        parts.setdefault(r["part"], []).append(r)
    total = _total(parts.get("interface", []))

    peer_rows, internet = [], {"bytes_sent": None, "packets_sent": None, "flows_sent": 0, "destinations": 0,
                               "bytes_received": None, "flows_received": 0, "sources": 0,
                               "rejected_flows_outbound": 0, "rejected_flows_inbound": 0}
    for r in parts.get("peer", []):  # a busy block's tens of thousands of rows: _counts, _list inlined
        where, vpc = network(r["address"])
        ports, protocols, interfaces = r["ports"], r["protocols"], r["interfaces"]
        peer_rows.append({"address": r["address"], "direction": r["direction"], "network": where, "vpc_id": vpc,
                          "ports": list(map(int, ports.split(","))) if ports else [],
                          "protocols": list(map(int, protocols.split(","))) if protocols else [],
                          "flows": r["flows"], "packets": r["packets"], "bytes": r["bytes"],
                          "accepted_flows": r["accepted_flows"], "rejected_flows": r["rejected_flows"],
                          "first_seen": iso(r["first_seen"]), "last_seen": iso(r["last_seen"]),
                          "interfaces": interfaces.split(",") if interfaces else []})
        if where != "internet":
            continue
        internet[f"rejected_flows_{r['direction']}"] += r["rejected_flows"]
        if r["accepted_flows"]:
            side = "sent" if r["direction"] == "outbound" else "received"
            internet[f"flows_{side}"] += r["accepted_flows"]
            if r["accepted_bytes"] is not None:
                internet[f"bytes_{side}"] = (internet[f"bytes_{side}"] or 0) + r["accepted_bytes"]
            if side == "sent" and r["accepted_packets"] is not None:
                internet["packets_sent"] = (internet["packets_sent"] or 0) + r["accepted_packets"]
            internet["destinations" if side == "sent" else "sources"] += 1
    # a peer row's address and direction are never null (the query keeps the rows that have one)
    peer_rows.sort(key=lambda p: (p["bytes"] is None, -(p["bytes"] or 0), p["address"], p["direction"]))
    internet["top_destinations"] = [{k: p[k] for k in ("address", "bytes", "flows", "ports", "protocols")}
                                    for p in peer_rows
                                    if p["direction"] == "outbound" and p["network"] == "internet"][:TOP]

    rejected_rows = [{"address": r["address"], "direction": r["direction"], "network": network(r["address"])[0],
                      "port": r["port"], "protocol": r["protocol"], "flows": r["flows"], "packets": r["packets"],
                      "bytes": r["bytes"], **_seen(r), "interfaces": _list(r["interfaces"])}
                     for r in parts.get("rejected", [])]
    rejected_rows.sort(key=lambda row: (-row["flows"], _k(row["address"]), row["direction"], _k(row["port"]),
                                        _k(row["protocol"])))

    interface_rows = [{"interface_id": r["interface_id"], **_counts(r), "flows_sent": r["flows_sent"],
                       "flows_received": r["flows_received"],
                       "inventory": describe(r["interface_id"]) if r["interface_id"] is not None else None}
                      for r in parts.get("interface", [])]
    interface_rows.sort(key=lambda row: (-row["flows"], _k(row["interface_id"])))

    ecs_rows = [{"cluster": r["ecs_cluster"], "service": r["ecs_service"], "task_arn": r["ecs_task"],
                 "task_id": task_id(r["ecs_task"]), "flows": r["flows"], "bytes": r["bytes"], **_seen(r), "interfaces": _list(r["interfaces"])}
                for r in parts.get("ecs", [])]
    ecs_rows.sort(key=lambda r: tuple(_k(r[k]) for k in ("cluster", "service", "task_arn")))

    hour_rows = [{"hour": iso(r["hour"]), "flows": r["flows"], "packets": r["packets"], "bytes": r["bytes"],
                  "bytes_sent": r["bytes_sent"], "bytes_received": r["bytes_received"],
                  "accepted_flows": r["accepted_flows"], "rejected_flows": r["rejected_flows"]}
                 for r in sorted(parts.get("hour", []), key=lambda r: _k(r["hour"]))]

    flows_by = {"outbound": 0, "inbound": 0}
    for r in rejected_rows:
        flows_by[r["direction"]] += r["flows"]
    out = {
        "totals": {"records": total["flows"], "packets": total["packets"], "bytes": total["bytes"],
                   "bytes_sent": total["bytes_sent"], "bytes_received": total["bytes_received"],
                   "rejected_flows": total["rejected_flows"], "first_seen": iso(total["first_seen"]),
                   "last_seen": iso(total["last_seen"])},
        "peers": peer_rows,
        "interfaces": interface_rows,
        "internet": internet,
        "rejected": {"flows": total["rejected_flows"], "flows_outbound": flows_by["outbound"],
                     "flows_inbound": flows_by["inbound"], "rows": rejected_rows},
        "timeline": hour_rows,
        "ecs_tasks": ecs_rows,
    }
    if eni:
        out["undirected"] = _by_bytes([{"srcaddr": r["address"], "dstaddr": r["destination"], "dstport": r["port"],
                                        "protocol": r["protocol"], "action": r["action"], "flows": r["flows"],
                                        "packets": r["packets"], "bytes": r["bytes"], **_seen(r)}
                                       for r in parts.get("undirected", [])],
                                      "srcaddr", "dstaddr", "dstport", "protocol", "action")
    return out
