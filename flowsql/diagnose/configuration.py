"""The configuration's side of `flowsql diagnose`: the inventory snapshot nearest the records, the
connection the records describe, its evaluation against the security groups, network ACLs and route
tables (diagnose_path), and where the records and the configuration disagree.

The snapshot is the inventory folder nearest the days of the conversation's records (the window's
days when there are none): `configuration_snapshot.nearest`. The connection is the one diagnosed:
the protocol and the server's port as given, else the one the records hold; the client's ports are
the records' (each row's smallest to largest), else AWS's documented ranges.

The records disagree with the configuration where a REJECT was logged on an ENI whose path the
rules allow throughout, or an ACCEPT where they deny: at the destination's ENI an accepted request
means every step of the request passed; at the source's ENI, its security groups and network ACL
(routing comes after the ENI); an accepted reply at the client means the whole reply passed, at the
server its network ACL. A step the configuration cannot evaluate, or that denies only some of the
client's ports, contradicts nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from .path import TCP, UDP, Connection, Evaluation, evaluate_path


def configure(d, directory, window) -> None:
    """Evaluate the diagnosis `d` (a diagnose.Diagnosis) against the configuration in the inventory
    `directory` and attach it: d.cause, d.path, d.configuration, and a sentence (and a first next
    step) saying what decided or where the records disagree. Nothing changes when no folder of the
    inventory holds a whole configuration."""
    from ..errors import SourceError
    from .configuration_snapshot import load_configuration, snapshot_json

    conv = [r for r in d.evidence if r.get("direction") in ("request", "reply")]
    first, last = _days(conv, window)
    snap = load_configuration(directory, first, last)
    if snap is None:
        return
    conn, missing = connection(d, conv)
    if conn is None:
        ev = Evaluation({"kind": "unknown", "resource": None, "rule": None, "direction": None, "detail": missing}, [])
    else:
        try:
            ev = evaluate_path(snap.configuration, conn)
        except (AttributeError, TypeError, KeyError) as e:  # a field of the wrong JSON type deep inside
            raise SourceError(f"inventory folder {snap.folder}: not in the AWS CLI's shapes ({e})") from None
    disagreements = compare(conv, ev) if conv else []
    d.cause, d.path = ev.cause, [s.to_dict() for s in ev.path]
    d.configuration = {
        "snapshot": snapshot_json(snap),
        "connection": None if conn is None else {
            "src": conn.src, "dst": conn.dst, "protocol": conn.protocol, "port": conn.port,
            "client_ports": [list(r) for r in conn.client_ports] if conn.client_ports else None},
        "ephemeral_ports": ev.ephemeral_ports, "notes": list(ev.notes),
        "agrees_with_records": None if not conv or conn is None else not disagreements,
        "disagreements": disagreements,
    }
    label = (f"the snapshot of {snap.day.isoformat()} ({snap.folder})" if snap.dated else
             f"the latest inventory ({snap.folder}, written {snap.day.isoformat()})")
    where = f"in {label}"
    cause = ev.cause
    if disagreements:
        d.explanation += (f" The records and the configuration disagree: {'; '.join(disagreements)}. The "
                          f"configuration evaluated is {label}, the one nearest the records: it may have "
                          "changed between the two (or a REJECT is of packets after their connection closed).")
        d.next_steps.insert(0, "Compare the rules in force now with that snapshot (`flowsql inventory sync`, then "
                               "diagnose again), and look for the change in CloudTrail (AuthorizeSecurityGroup*, "
                               "RevokeSecurityGroup*, CreateNetworkAclEntry, ReplaceNetworkAclEntry, "
                               "ReplaceNetworkAclAssociation, CreateRoute, ReplaceRoute, DeleteRoute).")
    elif cause["kind"] == "none":
        d.explanation += f" The configuration {where} allows the whole path: {cause['detail']}."
    elif cause["kind"] == "unknown":
        d.explanation += f" The configuration {where} cannot say what decides: {cause['detail']}."
    else:
        d.explanation += f" The configuration {where} names what decides ({_name(cause)}): {cause['detail']}."
        d.next_steps.insert(0, _step(cause))


def _days(conv: list[dict], window) -> tuple[date, date]:
    seen = [t for r in conv for t in (r.get("first_seen"), r.get("last_seen")) if isinstance(t, (int, float))]
    if not seen:
        return window.since, window.until

    def day(t):
        return datetime.fromtimestamp(t, timezone.utc).date()

    return day(min(seen)), day(max(seen))


def connection(d, conv: list[dict]) -> tuple[Connection | None, str]:
    """The connection diagnosed: what the command was given, else what the records hold."""
    protocol = d.protocol
    if protocol is None:
        seen = sorted({r["protocol"] for r in conv if r.get("protocol") is not None})
        if len(seen) != 1:
            return None, ("the protocol is needed to evaluate the configuration (--protocol): the records "
                          + ("hold none" if not seen else f"hold {len(seen)} ({', '.join(map(str, seen))})"))
        protocol = seen[0]
    port = d.port
    if protocol in (TCP, UDP) and port is None:
        seen = sorted({r["port"] for r in conv if r.get("port") is not None and r.get("protocol") == protocol})
        if len(seen) != 1:
            return None, ("the server's port is needed to evaluate the configuration (--port): the records "
                          + ("hold none" if not seen else f"hold {len(seen)}"))
        port = seen[0]
    ranges = None
    if protocol in (TCP, UDP):
        spans = sorted((r["client_port_min"], r["client_port_max"]) for r in conv
                       if r.get("client_port_min") is not None and r.get("client_port_max") is not None
                       and r.get("protocol") == protocol)
        merged: list[list[int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        ranges = tuple((lo, hi) for lo, hi in merged) or None
    return Connection(d.src, d.dst, protocol, port if protocol in (TCP, UDP) else None, client_ports=ranges), ""


def compare(conv: list[dict], ev: Evaluation) -> list[str]:
    """Where the records contradict the evaluated path (see the module docstring)."""
    if not ev.path:
        return []

    def steps(leg, at=None, kinds=None):
        return [s for s in ev.path
                if s.leg == leg and (at is None or s.at == at) and (kinds is None or s.kind in kinds)]

    def allows(ss):
        return bool(ss) and all(s.verdict in ("allow", "skip") for s in ss)

    def denying(ss):
        return next((s for s in ss if s.verdict == "deny"), None)

    ends = {ev.src_eni: "source", ev.dst_eni: "destination"} if ev.src_eni or ev.dst_eni else {}
    ends.pop(None, None)
    out = []
    for leg, records_leg in (("request", "request"), ("reply", "reply")):
        rows = [r for r in conv if r["direction"] == records_leg and r["interface_id"] in ends]
        rejected = sorted({r["interface_id"] for r in rows if r["action"] == "REJECT"})
        if rejected and allows(steps(leg)):
            out.append(f"the records show the {leg} REJECTed on {', '.join(rejected)}, but every rule of the {leg}'s "
                       "path allows it")
        for eni in sorted({r["interface_id"] for r in rows if r["action"] == "ACCEPT"}):
            side = ends[eni]
            # what the ENI's ACCEPT proves passed: a receiver's, everything before it; a sender's, its own rules
            receiver = (leg == "request") == (side == "destination")
            ss = steps(leg) if receiver else steps(leg, side, ("security-group", "network-acl"))
            deny = denying(ss)
            if deny is not None:
                out.append(f"the records show the {leg} ACCEPTed on {eni} (the {side}'s), but the configuration "
                           f"denies it: {deny.detail}")
    others = sorted({r["interface_id"] for r in conv} - set(ends))
    if others and ends and not any(r["interface_id"] in ends for r in conv):
        out.append(f"the records are of {', '.join(others)}, not of the ENI{'s' if len(ends) > 1 else ''} the snapshot "
                   f"gives these addresses ({', '.join(sorted(ends))}): the ENI was replaced since, or the "
                   "traffic passed another ENI")
    return out


def _name(cause: dict) -> str:
    """`network ACL, rule 90, inbound`: what decided, without the identifiers the detail gives."""
    parts = [{"network-acl": "network ACL", "security-group": "security group"}.get(cause["kind"], cause["kind"])]
    if cause.get("rule") is not None:
        parts.append(f"rule {cause['rule']}")
    if cause.get("direction"):
        parts.append(cause["direction"])
    return ", ".join(parts)


def _step(cause: dict) -> str:
    kind, res, rule, direction = cause["kind"], cause.get("resource"), cause.get("rule"), cause.get("direction")
    if kind == "network-acl":
        from .path import ALL_RULE

        if rule == ALL_RULE:
            return (f"Add an {direction} allow rule to network ACL {res} for this traffic, numbered below the "
                    "rules that should still deny: no rule matches it, and the `*` rule denies.")
        return (f"Change {direction} rule {rule} of network ACL {res}, or add an allow rule with a lower number "
                "(the first matching rule decides).")
    if kind == "security-group":
        return (f"Add an {direction} rule to security group {res} (or another group of the ENI) that allows it; "
                "security groups are stateful, the reply needs no rule.")
    return f"Fix the route in {res}: {cause.get('detail')}."
