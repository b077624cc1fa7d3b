"""Transit Gateway flow logs as evidence of a conversation: what VPC flow logs cannot show.

A packet that left its ENI accepted and was dropped at a transit gateway is, in VPC flow logs, a
request with no reply (`one-way`) or no record at the destination. The transit gateway's own flow
log says why: `packets-lost-no-route` (no route to the destination in the route table associated
with the attachment it came in by), `packets-lost-blackhole` (a blackhole route: a deleted
attachment, or one made to drop), `packets-lost-mtu-exceeded` and `packets-lost-ttl-expired`.
`explain_losses()` adds that cause to a Diagnosis read from the VPC flow logs; the verdict stays the VPC
flow logs' own.
"""

from __future__ import annotations

QUERY = "tgw-conversation"
REASONS = {
    "packets_lost_no_route": "with no route to the destination",
    "packets_lost_blackhole": "to a blackhole route",
    "packets_lost_mtu_exceeded": "over the path's MTU (don't-fragment set)",
    "packets_lost_ttl_expired": "whose TTL expired",
}


def evidence(engine, window, given: dict, *, accounts=(), regions=()) -> list[dict]:
    """The tgw-conversation rows of the conversation; [] when the engine has no Transit Gateway
    flow logs (a local tree without them, an Athena setup without their table)."""
    from ..errors import UsageError
    from ..pack.queries import get_query
    from ..runner import run

    try:
        return run(get_query(QUERY), given, engine, window, accounts=accounts, regions=regions).result.records()
    except UsageError:  # no Transit Gateway flow-log table (Athena): nothing to add
        return []


def _lost(rows, reason) -> int:
    return sum(r.get(reason) or 0 for r in rows)


def explain_losses(d, rows: list[dict]) -> None:
    """Add the transit gateways' records of the conversation to `d` (a records.Diagnosis): their
    drops as the cause, with what to check; their forwarding as evidence that the gateway is not it."""
    if not rows:
        return
    d.transit_gateway = {"evidence": rows}
    request = [r for r in rows if r["direction"] == "request"]
    reply = [r for r in rows if r["direction"] == "reply"]
    found = []
    for direction, rs, to in (("request", request, d.dst), ("reply", reply, d.src)):
        lost = {k: _lost(rs, k) for k in REASONS}
        dropped = [r for r in rs if any(r.get(k) for k in REASONS)]
        if not dropped:
            continue
        where = ", ".join(sorted({f"{r['tgw_attachment_id']} of {r['tgw_id']}" for r in dropped}))
        parts = [f"{n:,} {REASONS[k]}" for k, n in lost.items() if n]
        found.append((direction, to, lost, where))
        d.explanation += (f" The transit gateway dropped packets of the {direction} (its flow log, on attachment "
                          f"{where}): {', '.join(parts)}.")
    routing = [(direction, to, where) for direction, to, lost, where in found
               if lost["packets_lost_no_route"] or lost["packets_lost_blackhole"]]
    steps = []
    for direction, to, where in routing:
        steps.append(f"A route-table cause on the transit gateway: check the transit gateway route table associated "
                     f"with attachment {where} for a route to {to} (`aws ec2 search-transit-gateway-routes "
                     f"--transit-gateway-route-table-id … --filters Name=route-search.longest-prefix-match,"
                     f"Values={to}`): none means no route (add one, or propagate the destination VPC's "
                     "attachment); a blackhole route drops by design or points at a deleted attachment.")
    for direction, to, lost, where in found:
        if lost["packets_lost_mtu_exceeded"]:
            steps.append(f"Packets of the {direction} exceeded the transit gateway's MTU (8500 bytes; 1500 over a "
                         "VPN): lower the sender's MTU or clear don't-fragment, and allow ICMP 'fragmentation "
                         "needed' back to it (path MTU discovery).")
        if lost["packets_lost_ttl_expired"]:
            steps.append(f"Packets of the {direction} expired at the transit gateway: a routing loop between "
                         "route tables, or a traceroute.")
    if routing:
        d.transit_gateway["cause"] = "route-table"
    if steps:
        d.next_steps[:0] = steps
    elif request:
        tgws = ", ".join(sorted({r["tgw_id"] for r in rows}))
        d.explanation += (f" The transit gateway ({tgws}) forwarded it and recorded no packet lost: "
                          f"{sum(r['flows'] or 0 for r in request)} request record(s) in its flow log.")
