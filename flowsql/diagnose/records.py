"""`flowsql diagnose`: the troubleshooting runbook, read from both directions of one conversation.

The pack query `conversation` gathers the evidence (every record of SRC → DST and of the replies,
with the ENI that logged each and what it decided, plus other traffic of either address); this
module reads a verdict from those rows alone, so the verdict is the same on every engine that
returns the same rows:

- `rejected`, direction `request`: a security group or network ACL denied the request, inbound at
  the destination or outbound at the source (the ENI that logged the REJECT says which);
- `rejected`, direction `response`: the request was accepted but the reply was rejected. Security
  groups are stateful (the reply to an allowed request is allowed), so this is a network ACL's rule
  for the ephemeral ports, or, for ICMP and ICMPv6 (which have no ports), its rule for the reply's
  ICMP type and code;
- `one-way`: accepted toward the destination, no reply seen;
- `no-records`: nothing between them in the window; other traffic of either address says what the
  data rules out (an ENI that logged other traffic is logged);
- `accepted`: both directions accepted: the network is not the problem.

A REJECT can also be a packet that arrived after its connection was closed (AWS's definition of
REJECT); when a few rejected packets follow accepted traffic of the same direction, the explanation
says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engines.base import Engine
from ..pack.params import PROTOCOLS, ParamSpec, Window

QUERY = "conversation"
# Never in a flow log (AWS: flow log limitations): instance metadata, Amazon Time Sync, and the
# Amazon DNS server (the VPC's base address + 2, or 169.254.169.253).
NEVER_LOGGED = {"169.254.169.254": "instance metadata", "169.254.169.123": "Amazon Time Sync",
                "169.254.169.253": "the Amazon DNS server", "fd00:ec2::254": "instance metadata",
                "fd00:ec2::123": "Amazon Time Sync", "fd00:ec2::253": "the Amazon DNS server"}
EPHEMERAL = "1024-65535"
# ICMP has no ports (a flow log records 0 for both): a rule allows it by protocol, type and code. A
# network ACL, being stateless, needs a rule for the reply's type too; a security group does not.
ICMP = {1: {"name": "ICMP", "rule": "ICMP (protocol 1)", "request": "echo request: type 8, code 0",
            "reply": "echo reply: type 0, code 0", "all": "All ICMP - IPv4",
            "more": "destination unreachable, type 3 (code 4 carries path MTU discovery); time exceeded, type 11"},
        58: {"name": "ICMPv6", "rule": "ICMPv6 (protocol 58, IPv6-ICMP)", "request": "echo request: type 128, code 0",
             "reply": "echo reply: type 129, code 0", "all": "All ICMP - IPv6",
             "more": "packet too big, type 2 (path MTU discovery, which IPv6 cannot do without); destination "
                     "unreachable, type 1; time exceeded, type 3"}}


@dataclass
class Diagnosis:
    verdict: str  # rejected | one-way | no-records | accepted
    direction: str | None  # request | response (rejected only)
    explanation: str
    next_steps: list[str]
    evidence: list[dict]  # the conversation query's rows
    sql: str
    stats: object = None  # the engine's Stats
    src: str = ""
    dst: str = ""
    port: int | None = None
    protocol: int | None = None
    # with the inventory's network configuration (diagnose_config): what decided, every step, the snapshot
    cause: dict | None = None
    path: list[dict] | None = None
    configuration: dict | None = None
    # the transit gateways' records of the conversation (diagnose/tgw.py): {"evidence": rows, "cause"?}
    transit_gateway: dict | None = None

    def to_dict(self) -> dict:
        doc = {"verdict": self.verdict, "direction": self.direction, "explanation": self.explanation,
               "next_steps": list(self.next_steps), "evidence": self.evidence, "sql": self.sql}
        if self.transit_gateway is not None:
            doc["transit_gateway"] = self.transit_gateway
        if self.configuration is not None:
            doc.update(cause=self.cause, path=self.path, configuration=self.configuration)
        return doc


def parse_target(src: str, dst: str, port=None, protocol=None) -> dict[str, str]:
    """The conversation's parameters, each checked like a typed parameter; a UsageError names the
    option and the value (`--src: expected an IPv4 or IPv6 address, got 'x'`)."""
    from ..errors import UsageError

    given = {}
    if port is not None and _protocol(protocol) in ICMP:
        raise UsageError(f"--port: {ICMP[_protocol(protocol)]['name']} has no ports (a flow log records 0 for "
                         "them; a rule allows it by type and code): leave --port out")
    for option, name, kind, value in (("--src", "src", "ip", src), ("--dst", "dst", "ip", dst),
                                      ("--port", "port", "port", port), ("--protocol", "protocol", "protocol",
                                                                         protocol)):
        if value is None:
            continue
        try:
            parsed = ParamSpec(name, kind).parse(str(value))
        except UsageError as e:
            raise UsageError(f"{option}: {str(e).split(': ', 1)[-1]}") from None
        # an address as flowsql compares it (2001:DB8:0:0::1 is 2001:db8::1), in the verdict's words too
        given[name] = parsed.value if kind == "ip" else str(value)
    return given


def diagnose(engine: Engine, window: Window, *, src: str, dst: str, port=None, protocol=None, accounts=(),
             regions=(), inventory=None) -> Diagnosis:
    """Run the conversation query on `engine` and read the verdict from its rows. `inventory` (an
    inventory.Inventory) tells which ENI holds which address, where flow-direction does not; when
    its folder holds the network configuration (security groups, network ACLs, route tables), the
    connection is evaluated against the snapshot nearest the records (diagnose_config)."""
    from ..pack.queries import get_query
    from ..runner import run

    given = parse_target(src, dst, port, protocol)
    result = run(get_query(QUERY), given, engine, window, accounts=accounts, regions=regions)
    d = verdict(result.result.records(), src=given["src"], dst=given["dst"],
                port=int(port) if port is not None else None, protocol=_protocol(protocol),
                inventory=inventory)
    d.sql, d.stats = result.rendered.sql, result.result.stats
    from . import tgw  # Transit Gateway flow logs: drops that VPC flow logs cannot show

    tgw.explain_losses(d, tgw.evidence(engine, window, given, accounts=accounts, regions=regions))
    if inventory is not None and getattr(inventory, "directory", None) is not None:
        from .configuration import configure

        configure(d, inventory.directory, window)
    return d


def _protocol(protocol) -> int | None:
    if protocol is None:
        return None
    text = str(protocol).strip().lower()
    return PROTOCOLS.get(text, int(text) if text.isascii() and text.isdigit() else None)


@dataclass
class _Sides:
    """Which ENI is on which side: from flow-direction, the inventory, or other traffic."""

    src_enis: set[str] = field(default_factory=set)
    dst_enis: set[str] = field(default_factory=set)

    def of(self, eni: str) -> str | None:
        if eni in self.dst_enis and eni not in self.src_enis:
            return "destination"
        if eni in self.src_enis and eni not in self.dst_enis:
            return "source"
        return None


def _sides(rows: list[dict], src: str, dst: str, inventory) -> _Sides:
    s = _Sides()
    for r in rows:
        fd, eni = r.get("flow_direction"), r["interface_id"]
        if r["direction"] == "request" and fd in ("ingress", "egress"):
            (s.dst_enis if fd == "ingress" else s.src_enis).add(eni)
        elif r["direction"] == "reply" and fd in ("ingress", "egress"):
            (s.src_enis if fd == "ingress" else s.dst_enis).add(eni)
    if inventory is not None:
        for ip in inventory.eni_ips:
            if ip["private_ip"] == src:
                s.src_enis.add(ip["interface_id"])
            elif ip["private_ip"] == dst:
                s.dst_enis.add(ip["interface_id"])
    if not s.src_enis and not s.dst_enis:  # only other traffic can tell: an ENI seen with one address only
        other_src = {r["interface_id"] for r in rows if r["direction"] == "other-src"}
        other_dst = {r["interface_id"] for r in rows if r["direction"] == "other-dst"}
        s.src_enis, s.dst_enis = other_src - other_dst, other_dst - other_src
    return s


def _some(enis, n: int = 3) -> str:
    enis = sorted(enis)
    return ", ".join(enis[:n]) + (f" and {len(enis) - n} more" if len(enis) > n else "")


def _flows(rows) -> int:
    return sum(r["flows"] or 0 for r in rows)


def _packets(rows) -> int:
    return sum(r["packets"] or 0 for r in rows)


def _where(enis, sides: _Sides) -> str:
    parts = []
    for eni in sorted(enis):
        side = sides.of(eni)
        parts.append(f"{eni} (the {side}'s)" if side else eni)
    return ", ".join(parts)


def _late(rejected, accepted) -> str:
    """A few rejected packets after accepted traffic of the same direction may be late packets."""
    if not rejected or not accepted:
        return ""
    if _packets(rejected) <= max(3, _packets(accepted) // 100) and \
            min(r["first_seen"] for r in rejected) >= min(r["first_seen"] for r in accepted):
        return (" The rejected packets are few and came after accepted ones: a REJECT is also logged for "
                "packets that arrive after their connection was closed, so this may be harmless.")
    return ""


def verdict(rows: list[dict], *, src: str, dst: str, port: int | None = None, protocol: int | None = None,
            inventory=None) -> Diagnosis:
    """The verdict from the conversation query's rows (see the module docstring)."""
    req = [r for r in rows if r["direction"] == "request"]
    rep = [r for r in rows if r["direction"] == "reply"]
    sides = _sides(rows, src, dst, inventory)
    on = f" on port {port}" if port is not None else ""
    proto = {v: k for k, v in PROTOCOLS.items()}.get(protocol, str(protocol)) if protocol is not None else ""
    what = f"{src} → {dst}{on}" + (f" ({proto})" if proto else "")
    # ICMP has no ports: its advice is by type and code. Without --protocol, the records say it when
    # the conversation's records are all of one protocol.
    seen = {r.get("protocol") for r in req + rep} - {None}
    icmp = ICMP.get(protocol if protocol is not None else (min(seen) if len(seen) == 1 else None))
    req_rej = [r for r in req if r["action"] == "REJECT"]
    req_acc = [r for r in req if r["action"] == "ACCEPT"]
    rep_rej = [r for r in rep if r["action"] == "REJECT"]
    rep_acc = [r for r in rep if r["action"] == "ACCEPT"]

    def diagnosis(v, direction, explanation, steps):
        return Diagnosis(v, direction, explanation, steps, rows, "", src=src, dst=dst, port=port,
                         protocol=protocol)

    if req_rej:
        enis = {r["interface_id"] for r in req_rej}
        at_dst = all(sides.of(e) == "destination" for e in enis)
        at_src = all(sides.of(e) == "source" for e in enis)
        if at_dst:
            where = "inbound at the destination"
        elif at_src:
            where = "outbound at the source"
        else:
            where = "at an ENI whose side the data does not tell (no flow-direction, no inventory entry)"
        passed = {r["interface_id"] for r in req_acc} - enis
        also = f" It left through {_where(passed, sides)} (accepted there)." if passed else ""
        explanation = (f"The request {what} was rejected {where}: {_flows(req_rej)} rejected record(s) on "
                       f"{_where(enis, sides)}. A security group or a network ACL denied it.{also}"
                       + _late(req_rej, req_acc))
        what_port = f"{proto or 'the protocol'}{on}"
        if icmp:  # no ports: rules by type and code, and the network ACL's rule for the replies' type
            what_port = f"{icmp['rule']} with the type and code sent ({icmp['request']}; or {icmp['all']})"
            replies = f"the replies' type ({icmp['reply']})"
        if at_src:  # the source's own rules let nothing out toward dst
            back = (f"an inbound rule for {icmp['rule']} from {dst} for {replies}" if icmp else
                    f"an inbound rule for the ephemeral ports ({EPHEMERAL}) from {dst} for the replies")
            steps = [f"Check the outbound rules of the security groups on {', '.join(sorted(enis))} for "
                     f"{what_port} to {dst}.",
                     f"Check the network ACL of that ENI's subnet: an outbound rule that allows {what_port} to "
                     f"{dst}, and {back}."]
        else:
            rules = "inbound" if at_dst else "inbound (destination) or outbound (source)"
            back = (f"an outbound rule for {icmp['rule']} to {src} for {replies}" if icmp else
                    f"an outbound rule for the ephemeral ports ({EPHEMERAL}) to {src} for the replies")
            steps = [f"Check the {rules} rules of the security groups on {', '.join(sorted(enis))} for "
                     f"{what_port} from {src}.",
                     f"Check the network ACL of that ENI's subnet: an {rules} rule that allows {what_port} from "
                     f"{src}, and {back}."]
        if icmp:
            steps.append(f"Flow logs do not record ICMP types: other messages a rule may block are {icmp['more']}.")
        return diagnosis("rejected", "request", explanation, steps)

    # what a network ACL must allow for the replies to come back: the ephemeral ports, or ICMP's reply type
    reply_rule = (f"its rule for {icmp['rule']} replies ({icmp['reply']})" if icmp
                  else f"its rule for the ephemeral ports ({EPHEMERAL})")
    if req_acc and rep_rej:
        enis = {r["interface_id"] for r in rep_rej}
        explanation = (f"The request {what} was accepted ({_flows(req_acc)} record(s)), but the reply from "
                       f"{dst} was rejected: {_flows(rep_rej)} rejected record(s) on {_where(enis, sides)}. "
                       "Security groups are stateful (the reply to an allowed request is always allowed), "
                       f"so a network ACL rejected it: {reply_rule}."
                       + _late(rep_rej, rep_acc))
        if icmp:
            first = (f"Check the outbound network ACL rules of {dst}'s subnet for {icmp['rule']} to {src} with "
                     f"the reply's type and code ({icmp['reply']}; or type and code -1, all), and the inbound "
                     f"rules of {src}'s subnet for the same.")
        else:
            first = (f"Check the outbound network ACL rules of {dst}'s subnet for {src} on the ephemeral ports "
                     f"({EPHEMERAL}), and the inbound rules of {src}'s subnet for the same.")
        steps = [first, "Network ACLs are stateless: each direction needs its own allow rule."]
        return diagnosis("rejected", "response", explanation, steps)

    if req_acc and not rep:
        flags = [r["tcp_flags"] for r in req_acc if r.get("tcp_flags") is not None]
        syn_only = bool(flags) and all(f == 2 for f in flags)
        hint = " Only SYNs were seen: no TCP connection was established." if syn_only else ""
        explanation = (f"The request {what} was accepted toward {dst} ({_flows(req_acc)} record(s) on "
                       f"{_where({r['interface_id'] for r in req_acc}, sides)}), and no reply was seen in the "
                       f"window.{hint} Either the application on {dst} did not answer, the return route "
                       "sends the reply elsewhere, or the reply left through another ENI that is not logged.")
        answer = (f"Check that {dst} answers {icmp['name']} ({icmp['request']}): a host firewall may drop it."
                  if icmp else f"Check that something listens on {dst}{on} (and answers {src}).")
        steps = [answer,
                 f"Check the route tables of {dst}'s subnet: the route back to {src} (asymmetric routing "
                 "through another ENI, a NAT or firewall appliance).",
                 f"If {dst} is behind another ENI (a load balancer, a NAT gateway), look at that ENI's records."]
        return diagnosis("one-way", None, explanation, steps)

    if req_acc and rep_acc:
        explanation = (f"Both directions of {what} were accepted: {_flows(req_acc)} request and "
                       f"{_flows(rep_acc)} reply record(s). The network allowed the conversation.")
        steps = ["Look at the application: its logs, TLS and authentication, time-outs and payloads.",
                 "If it still fails intermittently, compare the records' times with the failures."]
        return diagnosis("accepted", None, explanation, steps)

    if rep:  # replies without a request: the request side is not logged in this window
        explanation = (f"Only traffic from {dst} to {src} was seen ({_flows(rep)} record(s)); no request "
                       f"{what} is in the window: the ENI that sent it may not be logged, or it started "
                       "before the window.")
        steps = [f"Widen the window (--since), and check that {src}'s ENI has a flow log."]
        if rep_rej:
            rule = f"{icmp['rule']} replies ({icmp['reply']})" if icmp else f"the ephemeral ports ({EPHEMERAL})"
            return diagnosis("rejected", "response", explanation + " The replies were rejected: check the "
                             f"network ACLs for {rule}.", steps)
        return diagnosis("one-way", None, explanation, steps)

    # no record of the conversation at all
    seen_src = {r["interface_id"] for r in rows if r["direction"] == "other-src"}
    seen_dst = {r["interface_id"] for r in rows if r["direction"] == "other-dst"}
    # an address's own ENI, where the inventory names it, is the one worth naming
    seen_src = (seen_src & sides.src_enis) or seen_src
    seen_dst = (seen_dst & sides.dst_enis) or seen_dst
    reasons = []
    if dst in NEVER_LOGGED or src in NEVER_LOGGED:
        special = NEVER_LOGGED.get(dst) or NEVER_LOGGED.get(src)
        reasons.append(f"Traffic to {special} is never in a flow log (AWS: flow log limitations).")
    if seen_dst:
        reasons.append(f"{dst} had other traffic on {_some(seen_dst)}: its ENI is logged, so the "
                       "request never reached it (routing, DNS resolving to another address, or a wrong "
                       "address or port).")
    if seen_src:
        reasons.append(f"{src} had other traffic on {_some(seen_src)}: its ENI is logged, so it "
                       "never sent this request there (DNS, the application's configuration), or it left "
                       "another way.")
    if not seen_src and not seen_dst:
        reasons.append("Neither address appears in any record in the window: their ENIs may have no flow log "
                       "(`flowsql posture` shows which VPCs log), the window, account or region may be wrong, "
                       "or the traffic never reached a logged ENI.")
    explanation = f"No record of {what} in the window. " + " ".join(reasons)
    steps = [f"Resolve the name the client uses and check it is {dst}.",
             f"Check the route tables between {src}'s and {dst}'s subnets (peering, transit gateway, VPN).",
             "Check that both VPCs (or subnets, ENIs) have flow logs with traffic type ALL."]
    return diagnosis("no-records", None, explanation, steps)
