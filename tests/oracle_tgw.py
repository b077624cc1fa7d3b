"""The oracles of the Transit Gateway queries (tgw-*): plain Python over the generator's TGW records.

They read `Generated.tgw_records` (tests/test_oracle.py passes them for a query whose header says
`table: tgw`) and follow docs/queries.md's entries.
"""

from __future__ import annotations

from collections import defaultdict

from oracle import PROTOCOL_NUMBERS, Picked, _NullsLast, _sum, address, busiest, oracle


LOST = ("packets_lost_no_route", "packets_lost_blackhole", "packets_lost_mtu_exceeded", "packets_lost_ttl_expired")


def _tgw_selected(records, since, until, accounts, regions):
    """Records with log-status OK whose path day, account and region are in the request."""
    for r in records:
        if r["log_status"] != "OK" or not since <= r["day"] <= until:
            continue
        if accounts and r["aws_account_id"] not in accounts:
            continue
        if regions and r["aws_region"] not in regions:
            continue
        yield r


@oracle("tgw-packets-lost", {}, {"limit": "2"})
def tgw_packets_lost(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    groups = defaultdict(list)
    for r in _tgw_selected(records, since, until, accounts, regions):
        groups[(r["tgw_id"], r["tgw_attachment_id"])].append(r)
    rows = []
    for (tgw, attachment), rs in groups.items():
        lost = [sum(r[c] or 0 for c in LOST) for r in rs]
        if sum(lost) <= 0:
            continue
        rows.append({"tgw_id": tgw, "tgw_attachment_id": attachment,
                     **{c: _sum(r[c] for r in rs) for c in LOST},
                     "packets_lost": sum(lost), "flows_with_loss": sum(n > 0 for n in lost)})
    rows.sort(key=lambda r: (-r["packets_lost"], r["tgw_id"], r["tgw_attachment_id"]))
    return rows[: int(params.get("limit", 50))]


def _by_pairs(records, key, since, until, accounts, regions):
    groups = defaultdict(list)
    for r in _tgw_selected(records, since, until, accounts, regions):
        k = key(r)
        if r["flow_direction"] == "ingress" and k is not None:
            groups[k].append(r)
    return groups


def _desc_nulls_last(v):
    return (v is None, -(v or 0))


@oracle("tgw-top-attachments", {}, {"limit": "3"})
def tgw_top_attachments(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    def key(r):
        return (r["tgw_id"], r["tgw_attachment_id"], r["tgw_pair_attachment_id"]) if r["tgw_pair_attachment_id"] else None

    groups = _by_pairs(records, key, since, until, accounts, regions)
    rows = [{"tgw_id": t, "from_attachment_id": a, "to_attachment_id": b, "flows": len(rs),
             "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
            for (t, a, b), rs in groups.items()]
    rows.sort(key=lambda r: (_desc_nulls_last(r["bytes"]), r["tgw_id"], r["from_attachment_id"], r["to_attachment_id"]))
    return rows[: int(params.get("limit", 20))]


@oracle("tgw-cross-account", {}, {"limit": "1"})
def tgw_cross_account(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    def key(r):
        a, b = r["tgw_src_vpc_account_id"], r["tgw_dst_vpc_account_id"]
        return (a, r["tgw_src_vpc_id"], b, r["tgw_dst_vpc_id"]) if a and b and a != b else None

    groups = _by_pairs(records, key, since, until, accounts, regions)
    rows = [{"src_account_id": a, "src_vpc_id": v, "dst_account_id": b, "dst_vpc_id": w, "flows": len(rs),
             "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs)}
            for (a, v, b, w), rs in groups.items()]
    rows.sort(key=lambda r: (_desc_nulls_last(r["bytes"]), r["src_account_id"], _NullsLast(r["src_vpc_id"]),
                             r["dst_account_id"], _NullsLast(r["dst_vpc_id"])))
    return rows[: int(params.get("limit", 50))]


def _busiest_tgw_tcp(records, _inventory_dir) -> dict:
    """The TCP conversation with the most Transit Gateway records (its example's addresses are no
    conversation of the generated tree)."""
    src, dst, port = busiest(records, "srcaddr", "dstaddr", "dstport", where=lambda r: r["protocol"] == 6)
    return {"src": src, "dst": dst, "port": str(port), "protocol": "tcp"}


@oracle("tgw-conversation", Picked("busiest-tgw-tcp", _busiest_tgw_tcp))
def tgw_conversation(records, inventory_dir, params, *, since, until, accounts=None, regions=None):
    src, dst = address(params["src"]), address(params["dst"])
    port = int(params["port"]) if params.get("port") is not None else None
    p = params.get("protocol")
    protocol = None if p is None else PROTOCOL_NUMBERS.get(p.lower(), int(p) if p.isdigit() else None)
    groups = defaultdict(list)
    for r in _tgw_selected(records, since, until, accounts, regions):
        if protocol is not None and r["protocol"] != protocol:
            continue
        s, d = address(r["srcaddr"]), address(r["dstaddr"])
        if (s, d) == (src, dst) and (port is None or r["dstport"] == port):
            direction = "request"
        elif (s, d) == (dst, src) and (port is None or r["srcport"] == port):
            direction = "reply"
        else:
            continue
        groups[(direction, r["tgw_id"], r["tgw_attachment_id"], r["flow_direction"])].append(r)
    rows = [{"direction": k[0], "tgw_id": k[1], "tgw_attachment_id": k[2], "flow_direction": k[3],
             "flows": len(rs), "packets": _sum(r["packets"] for r in rs), "bytes": _sum(r["bytes"] for r in rs),
             **{c: _sum(r[c] for r in rs) for c in LOST},
             "first_seen": min(r["start"] for r in rs), "last_seen": max(r["end"] for r in rs)}
            for k, rs in groups.items()]
    rows.sort(key=lambda r: (r["direction"], r["tgw_id"], r["tgw_attachment_id"], _NullsLast(r["flow_direction"])))
    return rows
