"""Oracle of the conversation query (docs/queries.md, "conversation"): plain Python over the records."""

from __future__ import annotations

from collections import defaultdict

from oracle import PROTOCOL_NUMBERS, Picked, _NullsLast, _selected, _sum, address, busiest, oracle


def _direction(r, src, dst, port, protocol):
    proto_ok = protocol is None or r["protocol"] == protocol
    if r["srcaddr"] == src and r["dstaddr"] == dst and (port is None or r["dstport"] == port) and proto_ok:
        return "request"
    if r["srcaddr"] == dst and r["dstaddr"] == src and (port is None or r["srcport"] == port) and proto_ok:
        return "reply"
    if src in (r["srcaddr"], r["dstaddr"]):
        return "other-src"
    return "other-dst"


def _client_ports(direction, rs):
    if direction == "request":
        return [r["srcport"] for r in rs if r["srcport"] is not None]
    if direction == "reply":
        return [r["dstport"] for r in rs if r["dstport"] is not None]
    return []


def _busiest_tcp_conversation(records, inventory_dir) -> dict:
    src, dst, port = busiest(records, "srcaddr", "dstaddr", "dstport", where=lambda r: r["protocol"] == 6)
    return {"src": src, "dst": dst, "port": str(port), "protocol": "tcp"}


def _busiest_ipv6_pair(records, inventory_dir) -> dict:
    src, dst = busiest(records, "srcaddr", "dstaddr", where=lambda r: ":" in r["srcaddr"])
    return {"src": src, "dst": dst}


@oracle("conversation", Picked("busiest-tcp", _busiest_tcp_conversation),
        Picked("busiest-ipv6-pair", _busiest_ipv6_pair))
def conversation(records, inventory_dir, params, **window):
    src, dst = address(params["src"]), address(params["dst"])  # compared as addresses, as the records' are
    port = int(params["port"]) if params.get("port") is not None else None
    p = params.get("protocol")
    protocol = None if p is None else PROTOCOL_NUMBERS.get(p.lower(), int(p) if p.isdigit() else None)
    groups = defaultdict(list)
    for r in _selected(records, **window):
        if src not in (r["srcaddr"], r["dstaddr"]) and dst not in (r["srcaddr"], r["dstaddr"]):
            continue
        d = _direction(r, src, dst, port, protocol)
        conv = d in ("request", "reply")
        server_port = r["srcport"] if r["srcaddr"] == dst else r["dstport"]
        key = (d, r["interface_id"], r["action"], r["protocol"] if conv else None, server_port if conv else None,
               r["flow_direction"] if conv else None)
        groups[key].append(r)
    rows = []
    for (d, eni, action, proto, sport, fdir), rs in groups.items():
        flags = [r["tcp_flags"] for r in rs if r["tcp_flags"] is not None] if d in ("request", "reply") else []
        bits = None
        for f in flags:
            bits = (bits or 0) | f
        rows.append({"direction": d, "interface_id": eni, "action": action, "protocol": proto, "port": sport,
                     "flow_direction": fdir, "tcp_flags": bits, "flows": len(rs), "packets": _sum(r["packets"] for r in rs),
                     "bytes": _sum(r["bytes"] for r in rs), "first_seen": min(r["start"] for r in rs),
                     "last_seen": max(r["end"] for r in rs),
                     # the client's port: the request's source port, the reply's destination port
                     "client_port_min": min(clients) if (clients := _client_ports(d, rs)) else None,
                     "client_port_max": max(clients) if clients else None})
    for key in ("flow_direction", "port", "protocol", "action"):
        rows.sort(key=lambda row: _NullsLast(row[key]))
    rows.sort(key=lambda row: (row["direction"], row["interface_id"]))
    return rows
