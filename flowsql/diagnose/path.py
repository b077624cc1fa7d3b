"""One connection evaluated against a VPC's configuration, as AWS evaluates it: offline, from the
AWS CLI's `describe-*` documents (what Reachability Analyzer does, without sending a packet).

The request, from the source to the destination, passes
  1. the source ENI's security groups, outbound (stateful: any rule that allows, allows);
  2. the source subnet's network ACL, outbound (numbered rules, lowest first; the first that matches
     decides; no match is the `*` rule's deny);
  3. the source subnet's route table (its explicit association, else the VPC's main table): the
     longest prefix that matches, a static route before a prefix-list route before a propagated one
     at the same length; a `blackhole` route drops, and so does no route;
  4. the destination subnet's network ACL, inbound;
  5. the destination ENI's security groups, inbound;
and the reply, from the destination back to the client's ephemeral port,
  6. the destination subnet's network ACL, outbound;
  7. the destination subnet's route table, toward the client;
  8. the source subnet's network ACL, inbound.
Security groups are not evaluated for the reply: they are stateful, the reply to an allowed request is
allowed. Network ACLs do not apply between two ENIs of one subnet (they filter what enters and leaves
a subnet). Where an end is not an ENI of the inventory (an internet address, say), only the other
end's steps are evaluated.

What decided is the first step, in the packet's order, that denies (`cause`); when none denies but a
step could not be evaluated (a security group, a network ACL or a prefix list the documents do not
hold), the cause is `unknown`; when every step allows, `none`. The `path` lists every step with its
verdict (`allow`, `deny`, `partial`: some of the client's ephemeral ports denied, `unknown`, `skip`)
and the rule or route that gave it.

The ephemeral ports of the reply are the client's ports seen in the records when the caller knows
them, else AWS's documented ranges: 1024-65535 for a NAT gateway, a load balancer or Lambda, else
Linux's 32768-60999 and Windows's 49152-65535, each evaluated (VPC User Guide, network ACLs,
"Ephemeral ports").

What this cannot know: a rule changed since the documents were written, a firewall on the instance,
the application, and what an appliance, a transit gateway or a peered network does beyond the first
hop.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

TCP, UDP, ICMP, ICMPV6 = 6, 17, 1, 58
PROTOCOL_NUMBERS = {"tcp": TCP, "udp": UDP, "icmp": ICMP, "icmpv6": ICMPV6}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOL_NUMBERS.items()}
# ICMP requests that have a reply, and the reply's type (RFC 792, RFC 4443)
ICMP_REPLIES = {ICMP: {8: 0, 13: 14, 15: 16, 17: 18}, ICMPV6: {128: 129}}
ECHO_REQUEST = {ICMP: 8, ICMPV6: 128}
# AWS's documented ephemeral port ranges (VPC User Guide, "Network ACLs", "Ephemeral ports")
LINUX_PORTS = (32768, 60999)
WINDOWS_PORTS = (49152, 65535)
AWS_SERVICE_PORTS = (1024, 65535)  # NAT gateways, Elastic Load Balancing, Lambda
ALL_RULE = 32767  # the `*` rule every network ACL ends with: deny
# Never filtered by security groups or network ACLs, never in a flow log (AWS: flow log limitations,
# network ACL rules): instance metadata, Amazon Time Sync, the Amazon DNS server's link-local address.
LINK_LOCAL_SERVICES = {"169.254.169.254": "instance metadata", "169.254.169.123": "Amazon Time Sync",
                       "169.254.169.253": "the Amazon DNS server", "fd00:ec2::254": "instance metadata",
                       "fd00:ec2::123": "Amazon Time Sync", "fd00:ec2::253": "the Amazon DNS server"}

KINDS = ("network-acl", "security-group", "route", "none", "unknown")


# --- the input ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Connection:
    """One connection: `src` the client, `dst` the server; `port` the server's (TCP and UDP);
    `icmp_type`/`icmp_code` for ICMP and ICMPv6 (default: echo request, as ping sends);
    `client_ports`: the client's ports seen in the records, as (low, high) ranges, when known."""

    src: str
    dst: str
    protocol: int
    port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    client_ports: tuple[tuple[int, int], ...] | None = None


class Configuration:
    """The documents, indexed. Each argument is the list under the AWS CLI's top-level key:
    `network_interfaces` (describe-network-interfaces → NetworkInterfaces), `subnets`, `vpcs`,
    `security_groups`, `network_acls`, `route_tables`; `prefix_lists` (describe-managed-prefix-lists
    → PrefixLists) and `prefix_list_entries` ({prefix-list id: get-managed-prefix-list-entries →
    Entries}). A prefix list without entries is unresolved: a rule or route naming it is `unknown`
    unless another decides."""

    def __init__(self, *, network_interfaces=(), subnets=(), vpcs=(), security_groups=(), network_acls=(),
                 route_tables=(), prefix_lists=(), prefix_list_entries=None):
        self.enis: dict[str, dict] = {}
        self.eni_of: dict[object, dict] = {}  # private address -> ENI
        self.members: dict[str, set] = {}  # security group -> the private addresses of its ENIs
        for eni in network_interfaces:
            eni_id = eni.get("NetworkInterfaceId")
            if not eni_id:
                continue
            self.enis[eni_id] = eni
            for ip in _eni_addresses(eni):
                self.eni_of[ip] = eni
                for g in eni.get("Groups") or []:
                    self.members.setdefault(g.get("GroupId"), set()).add(ip)
        self.subnets = {s["SubnetId"]: s for s in subnets if s.get("SubnetId")}
        self.vpc_networks: list[tuple[object, str]] = []  # (network, vpc id)
        for vpc in vpcs:
            blocks = [a.get("CidrBlock") for a in vpc.get("CidrBlockAssociationSet") or []
                      if _associated(a.get("CidrBlockState"))]
            blocks += [a.get("Ipv6CidrBlock") for a in vpc.get("Ipv6CidrBlockAssociationSet") or []
                       if _associated(a.get("Ipv6CidrBlockState"))]
            for b in blocks:
                net = _network(b)
                if net is not None:
                    self.vpc_networks.append((net, vpc.get("VpcId")))
        self.security_groups = {g["GroupId"]: g for g in security_groups if g.get("GroupId")}
        self.acl_of_subnet: dict[str, dict] = {}
        self.default_acl: dict[str, dict] = {}
        for acl in network_acls:
            for a in acl.get("Associations") or []:
                if a.get("SubnetId"):
                    self.acl_of_subnet[a["SubnetId"]] = acl
            if acl.get("IsDefault") and acl.get("VpcId"):
                self.default_acl[acl["VpcId"]] = acl
        self.rtb_of_subnet: dict[str, dict] = {}
        self.main_rtb: dict[str, dict] = {}
        for rtb in route_tables:
            for a in rtb.get("Associations") or []:
                if not _associated(a.get("AssociationState")):
                    continue
                if a.get("SubnetId"):
                    self.rtb_of_subnet[a["SubnetId"]] = rtb
                elif a.get("Main") and rtb.get("VpcId"):
                    self.main_rtb[rtb["VpcId"]] = rtb
        self.prefix_lists = {p["PrefixListId"]: p for p in prefix_lists or () if p.get("PrefixListId")}
        self.prefix_networks: dict[str, list] = {}
        for pl_id, entries in (prefix_list_entries or {}).items():
            nets = [_network(e.get("Cidr")) for e in entries or ()]
            self.prefix_networks[pl_id] = [n for n in nets if n is not None]

    def vpc_of_address(self, ip) -> str | None:
        for net, vpc in self.vpc_networks:
            if ip.version == net.version and ip in net:
                return vpc
        return None

    def network_acl(self, subnet_id: str | None, vpc_id: str | None) -> dict | None:
        """The subnet's network ACL: its association, else (a subnet always has one) the VPC's default."""
        return self.acl_of_subnet.get(subnet_id) or self.default_acl.get(vpc_id)

    def route_table(self, subnet_id: str | None, vpc_id: str | None) -> tuple[dict | None, str]:
        if subnet_id in self.rtb_of_subnet:
            return self.rtb_of_subnet[subnet_id], "explicitly associated"
        return self.main_rtb.get(vpc_id), "the VPC's main table"


def _associated(state) -> bool:
    """An association without a state is taken as in force; one whose state says otherwise is not."""
    if not isinstance(state, dict) or "State" not in state:
        return True
    return state.get("State") in ("associated", "associating")


def _network(text):
    try:
        return ipaddress.ip_network(text, strict=False) if isinstance(text, str) else None
    except ValueError:
        return None


def _address(text):
    try:
        return ipaddress.ip_address(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _eni_addresses(eni: dict) -> list:
    texts = [eni.get("PrivateIpAddress")]
    texts += [a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or []]
    texts += [a.get("Ipv6Address") for a in eni.get("Ipv6Addresses") or []]
    return list(dict.fromkeys(a for a in (_address(t) for t in texts) if a is not None))


# --- the output --------------------------------------------------------------------------------

@dataclass
class Step:
    leg: str  # request | reply
    at: str  # source | destination: whose ENI, subnet or route table
    kind: str  # security-group | network-acl | route
    direction: str | None  # outbound | inbound; None for a route
    resource: str | None  # sg-…, acl-…, rtb-…
    verdict: str  # allow | deny | partial | unknown | skip
    rule: object  # the security-group permission, network ACL entry or route that gave the verdict
    detail: str
    ports: list | None = None  # the reply's network ACL steps: the verdict per client port range

    def to_dict(self) -> dict:
        d = {"leg": self.leg, "at": self.at, "step": self.kind, "direction": self.direction,
             "resource": self.resource, "verdict": self.verdict, "rule": self.rule, "detail": self.detail}
        if self.ports is not None:
            d["ports"] = self.ports
        return d


@dataclass
class Evaluation:
    cause: dict
    path: list[Step]
    notes: list[str] = field(default_factory=list)
    ephemeral_ports: dict | None = None
    src_eni: str | None = None  # the ENIs of the inventory that hold the two addresses
    dst_eni: str | None = None

    def to_dict(self) -> dict:
        return {"cause": dict(self.cause), "path": [s.to_dict() for s in self.path], "notes": list(self.notes),
                "ephemeral_ports": self.ephemeral_ports, "src_eni": self.src_eni, "dst_eni": self.dst_eni}


def _cause(kind, resource=None, rule=None, direction=None, detail="") -> dict:
    return {"kind": kind, "resource": resource, "rule": rule, "direction": direction, "detail": detail}


# --- the packet ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Packet:
    src: object
    dst: object
    protocol: int
    ports: tuple[tuple[int, int], ...] | None  # destination port ranges (TCP/UDP); None otherwise
    icmp: tuple[int, int] | None  # (type, code) for ICMP/ICMPv6

    def describe(self) -> str:
        name = PROTOCOL_NAMES.get(self.protocol, f"protocol {self.protocol}")
        if self.ports is not None:
            return f"{name} port {_ranges_text(self.ports)}"
        if self.icmp is not None:
            return f"{name} type {self.icmp[0]} code {self.icmp[1]}"
        return name


def _ranges_text(ranges) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def _protocol_of(value) -> int | None:
    """A rule's protocol: `-1` (all) is None; names and numbers as AWS writes them."""
    text = str(value).strip().lower()
    if text in ("-1", "all"):
        return None
    if text in PROTOCOL_NUMBERS:
        return PROTOCOL_NUMBERS[text]
    return int(text) if text.isdigit() else -2  # -2: nothing matches an unreadable protocol


def _has_ports(protocol: int) -> bool:
    return protocol in (TCP, UDP)


# --- security groups ------------------------------------------------------------------------------

def _sg_protocol_matches(perm: dict, pkt: _Packet) -> bool:
    proto = _protocol_of(perm.get("IpProtocol", "-1"))
    if proto is None:
        return True
    if proto != pkt.protocol:
        return False
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if _has_ports(proto):
        if lo is None or hi is None or lo == -1:
            return True
        port = pkt.ports[0][0]
        return lo <= port <= hi
    if proto in (ICMP, ICMPV6):  # FromPort is the ICMP type, ToPort the code; -1 is any
        t, c = pkt.icmp
        return (lo in (None, -1) or lo == t) and (hi in (None, -1) or hi == c)
    return True  # other protocols: every port (AWS ignores a port range for them)


def _sg_peer_matches(cfg: Configuration, perm: dict, peer) -> tuple[bool | None, str]:
    """Does one permission name the peer address? (True, what), (False, ""), or (None, why unknown)."""
    unknown = ""
    for r in perm.get("IpRanges") or []:
        net = _network(r.get("CidrIp"))
        if net is not None and peer.version == 4 and peer in net:
            return True, r["CidrIp"]
    for r in perm.get("Ipv6Ranges") or []:
        net = _network(r.get("CidrIpv6"))
        if net is not None and peer.version == 6 and peer in net:
            return True, r["CidrIpv6"]
    for r in perm.get("PrefixListIds") or []:
        pl = r.get("PrefixListId")
        m, why = _in_prefix_list(cfg, pl, peer)
        if m:
            return True, pl
        if m is None:
            unknown = why
    for r in perm.get("UserIdGroupPairs") or []:
        gid = r.get("GroupId")
        if peer in cfg.members.get(gid, ()):
            return True, gid
        if peer not in cfg.eni_of and gid not in cfg.security_groups:
            # a group of a VPC or account the documents do not hold: its members are not known
            unknown = f"{gid} is not in the security groups, so whether {peer} is one of its members is not known"
    return (None, unknown) if unknown else (False, "")


def _in_prefix_list(cfg: Configuration, pl_id, ip) -> tuple[bool | None, str]:
    nets = cfg.prefix_networks.get(pl_id)
    if nets is None:
        family = (cfg.prefix_lists.get(pl_id) or {}).get("AddressFamily")
        if family in ("IPv4", "IPv6") and family != f"IPv{ip.version}":
            return False, ""
        return None, f"prefix list {pl_id} could not be resolved (its entries are not in the inventory)"
    return any(ip.version == n.version and ip in n for n in nets), ""


def _sg_step(cfg: Configuration, eni: dict, leg: str, at: str, outbound: bool, peer, pkt: _Packet) -> Step:
    direction = "outbound" if outbound else "inbound"
    groups = [g.get("GroupId") for g in eni.get("Groups") or [] if g.get("GroupId")]
    eni_id = eni.get("NetworkInterfaceId")
    if not groups:
        return Step(leg, at, "security-group", direction, None, "skip", None,
                    f"{eni_id} has no security group (a NAT gateway's or an endpoint's ENI): none applies")
    word = "to" if outbound else "from"
    unknowns = []
    for gid in groups:
        sg = cfg.security_groups.get(gid)
        if sg is None:
            unknowns.append(f"{gid} is not in the inventory's security groups")
            continue
        for perm in sg.get("IpPermissionsEgress" if outbound else "IpPermissions") or []:
            if not _sg_protocol_matches(perm, pkt):
                continue
            m, what = _sg_peer_matches(cfg, perm, peer)
            if m:
                rule = {"GroupId": gid, **{k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in perm},
                        "matched": what}
                return Step(leg, at, "security-group", direction, gid, "allow", rule,
                            f"{gid} allows {direction} {pkt.describe()} {word} {peer} ({what})")
            if m is None:
                unknowns.append(what)
    names = ", ".join(groups)
    if unknowns:
        return Step(leg, at, "security-group", direction, groups[0], "unknown", None,
                    f"no rule of {names} that the inventory resolves allows {direction} {pkt.describe()} {word} "
                    f"{peer}; " + "; ".join(dict.fromkeys(unknowns)))
    return Step(leg, at, "security-group", direction, groups[0], "deny", None,
                f"no rule of {eni_id}'s security group{'s' if len(groups) > 1 else ''} ({names}) allows "
                f"{direction} {pkt.describe()} {word} {peer}")


# --- network ACLs ---------------------------------------------------------------------------------

def _entry_matches(entry: dict, ip, pkt: _Packet) -> tuple[bool, tuple[int, int] | None]:
    """Does an entry match the packet's address, protocol and ICMP type? Returns (matches, the port
    range it covers: None for all ports)."""
    net = _network(entry.get("CidrBlock") if ip.version == 4 else entry.get("Ipv6CidrBlock"))
    if net is None or ip not in net:
        return False, None
    proto = _protocol_of(entry.get("Protocol", "-1"))
    if proto is None:
        return True, None
    if proto != pkt.protocol:
        return False, None
    if _has_ports(proto):
        pr = entry.get("PortRange") or {}
        if pr.get("From") is None or pr.get("To") is None:
            return True, None
        return True, (pr["From"], pr["To"])
    if proto in (ICMP, ICMPV6) and pkt.icmp is not None:
        # AWS always writes IcmpTypeCode for an ICMP entry; without it (moto drops it) any type matches
        tc = entry.get("IcmpTypeCode") or {}
        t, c = tc.get("Type", -1), tc.get("Code", -1)
        return (t in (None, -1) or t == pkt.icmp[0]) and (c in (None, -1) or c == pkt.icmp[1]), None
    return True, None


def nacl_decide(entries: list[dict], egress: bool, ip, pkt: _Packet) -> list[tuple]:
    """First match, lowest rule number first, over the packet's port ranges: a list of (low, high,
    entry) for TCP/UDP (low = high = None otherwise); entry None where no rule matched: the `*`
    rule's deny."""
    rules = sorted((e for e in entries if bool(e.get("Egress")) == egress), key=lambda e: e.get("RuleNumber", 0))
    todo = list(pkt.ports) if pkt.ports is not None else [(None, None)]
    decided = []
    for entry in rules:
        if not todo:
            break
        m, span = _entry_matches(entry, ip, pkt)
        if not m:
            continue
        left = []
        for lo, hi in todo:
            if lo is None or span is None:
                decided.append((lo, hi, entry))
                continue
            a, b = max(lo, span[0]), min(hi, span[1])
            if a > b:
                left.append((lo, hi))
                continue
            decided.append((a, b, entry))
            if lo < a:
                left.append((lo, a - 1))
            if b < hi:
                left.append((b + 1, hi))
        todo = left
    decided += [(lo, hi, None) for lo, hi in todo]
    return sorted(decided, key=lambda d: (d[0] or 0))


def _action(entry) -> str:
    return "deny" if entry is None else ("allow" if str(entry.get("RuleAction")).lower() == "allow" else "deny")


def _rule_number(entry) -> int:
    return ALL_RULE if entry is None else entry.get("RuleNumber")


def _entry_text(entry) -> str:
    if entry is None:
        return f"no rule matches: the `*` rule ({ALL_RULE}) denies"
    return f"rule {entry.get('RuleNumber')} {'allows' if _action(entry) == 'allow' else 'denies'}"


def _nacl_step(cfg: Configuration, eni: dict, leg: str, at: str, egress: bool, peer, pkt: _Packet,
               port_groups=None) -> Step:
    """`port_groups`: for the reply, [(label, ranges)], each evaluated (a Linux and a Windows client)."""
    direction = "outbound" if egress else "inbound"
    subnet, vpc = eni.get("SubnetId"), eni.get("VpcId")
    acl = cfg.network_acl(subnet, vpc)
    word = "to" if egress else "from"
    if acl is None:
        return Step(leg, at, "network-acl", direction, None, "unknown", None,
                    f"the network ACL of {subnet} is not in the inventory")
    acl_id = acl.get("NetworkAclId")
    entries = acl.get("Entries") or []
    if port_groups is None:
        _, _, entry = nacl_decide(entries, egress, peer, pkt)[0]  # one port (or none): one decision
        return Step(leg, at, "network-acl", direction, acl_id, _action(entry), _entry_rule(entry),
                    f"{acl_id} ({subnet}'s), {direction} {pkt.describe()} {word} {peer}: {_entry_text(entry)}")
    # the reply: every client port range, each split where the rules split it
    ports, verdicts, texts, deciding = [], [], [], []
    for label, ranges in port_groups:
        p = _Packet(pkt.src, pkt.dst, pkt.protocol, tuple(ranges), pkt.icmp)
        segments = _merge(nacl_decide(entries, egress, peer, p))
        denied = [(lo, hi, e) for lo, hi, e in segments if _action(e) == "deny"]
        verdicts.append("allow" if not denied else "deny" if len(denied) == len(segments) else "partial")
        deciding += [e for _, _, e in denied] or [segments[0][2]]
        for lo, hi, e in segments:
            ports.append({"client": label, "from": lo, "to": hi, "verdict": _action(e), "rule": _rule_number(e)})
        texts.append(f"{label} ({_ranges_text(ranges)}): " + ("; ".join(
            f"{_ranges_text([(lo, hi)])} denied by " + (f"rule {e.get('RuleNumber')}" if e else
                                                         f"the `*` rule ({ALL_RULE}): no rule matches")
            for lo, hi, e in denied) if denied else "allowed"))
    verdict = ("allow" if all(v == "allow" for v in verdicts) else
               "deny" if all(v == "deny" for v in verdicts) else "partial")
    # the rule named: the first that denies a client port, else the one that allows the first range
    denying = [e for e in deciding if _action(e) == "deny"]
    rule = _entry_rule(denying[0] if denying else deciding[0])
    what = PROTOCOL_NAMES.get(pkt.protocol, f"protocol {pkt.protocol}")
    return Step(leg, at, "network-acl", direction, acl_id, verdict, rule,
                f"{acl_id} ({subnet}'s), {direction} {what} {word} {peer} on the client's ports: " + "; ".join(texts),
                ports=ports)


def _merge(segments):
    """Adjacent port ranges decided by the same entry, as one."""
    out = []
    for lo, hi, e in segments:
        if out and lo is not None and out[-1][2] is e and out[-1][1] is not None and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], hi, e)
        else:
            out.append((lo, hi, e))
    return out


def _entry_rule(entry):
    if entry is None:
        return {"RuleNumber": ALL_RULE, "RuleAction": "deny", "implicit": True}
    return {k: entry[k] for k in ("RuleNumber", "RuleAction", "Protocol", "CidrBlock", "Ipv6CidrBlock", "PortRange",
                                  "IcmpTypeCode", "Egress") if k in entry}


# --- routes ---------------------------------------------------------------------------------------

_TARGETS = ("GatewayId", "NatGatewayId", "TransitGatewayId", "VpcPeeringConnectionId", "NetworkInterfaceId",
            "InstanceId", "EgressOnlyInternetGatewayId", "CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn")


def route_target(route: dict) -> str | None:
    for k in _TARGETS:
        if route.get(k):
            return route[k]
    return None


def _route_rank(route: dict) -> int:
    """At the same prefix length: a static route, then a prefix-list route, then a propagated one."""
    if route.get("Origin") == "EnableVgwRoutePropagation":
        return 0
    return 1 if route.get("DestinationPrefixListId") else 2


def route_lookup(cfg: Configuration, table: dict, dst) -> tuple[dict | None, str]:
    """The route AWS uses for `dst` (longest prefix; then static, prefix list, propagated), or None;
    and why it is not known, when a prefix list the documents do not resolve could hold a better one."""
    best, best_key, tied, unresolved = None, None, False, []
    for route in table.get("Routes") or []:
        if route.get("DestinationPrefixListId"):
            pl = route["DestinationPrefixListId"]
            nets = cfg.prefix_networks.get(pl)
            if nets is None:
                m, _ = _in_prefix_list(cfg, pl, dst)
                if m is None:
                    unresolved.append(pl)
                continue
            lengths = [n.prefixlen for n in nets if n.version == dst.version and dst in n]
            if not lengths:
                continue
            length = max(lengths)
        else:
            key = "DestinationCidrBlock" if dst.version == 4 else "DestinationIpv6CidrBlock"
            net = _network(route.get(key))
            if net is None or dst not in net:
                continue
            length = net.prefixlen
        key = (length, _route_rank(route))
        if best_key is None or key > best_key:
            best, best_key, tied = route, key, False
        elif key == best_key and route_target(route) != route_target(best):
            tied = True
    if unresolved and not (best_key and best_key == (dst.max_prefixlen, 2)):
        return best, (f"prefix list {', '.join(unresolved)} (in a route) could not be resolved: a more specific "
                      "entry in it would take this traffic")
    if tied:
        return best, "two routes of the same priority match (AWS then picks one of them)"
    return best, ""


def _route_text(route: dict) -> str:
    dest = (route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
            or route.get("DestinationPrefixListId"))
    return f"{dest} → {route_target(route)}"


def _route_step(cfg: Configuration, eni: dict, leg: str, at: str, dst, dst_eni: dict | None) -> Step:
    subnet, vpc = eni.get("SubnetId"), eni.get("VpcId")
    table, how = cfg.route_table(subnet, vpc)
    if table is None:
        return Step(leg, at, "route", None, None, "unknown", None,
                    f"the route table of {subnet} ({how}) is not in the inventory")
    rtb = table.get("RouteTableId")
    route, unknown = route_lookup(cfg, table, dst)
    where = f"{rtb} ({how} of {subnet})"
    if unknown:
        return Step(leg, at, "route", None, rtb, "unknown", _route_rule(route), f"{where}: {unknown}")
    if route is None:
        return Step(leg, at, "route", None, rtb, "deny", None, f"{where} has no route to {dst}: the packet is dropped")
    rule = _route_rule(route)
    text = f"{where}: {_route_text(route)}"
    if str(route.get("State", "active")).lower() == "blackhole":
        return Step(leg, at, "route", None, rtb, "deny", rule,
                    f"{text} is a blackhole route (its target no longer exists): the packet is dropped")
    target = route_target(route) or ""
    dst_vpc = dst_eni.get("VpcId") if dst_eni else cfg.vpc_of_address(dst)
    if target == "local":
        if dst_eni is not None and dst_eni.get("VpcId") != vpc:
            return Step(leg, at, "route", None, rtb, "deny", rule,
                        f"{text}: the local route keeps it in {vpc}, but {dst} is {dst_eni.get('NetworkInterfaceId')} "
                        f"in {dst_eni.get('VpcId')} (overlapping address ranges)")
        return Step(leg, at, "route", None, rtb, "allow", rule, f"{text} (within {vpc})")
    if target.startswith(("igw-", "eigw-")):
        if not dst.is_global:
            return Step(leg, at, "route", None, rtb, "deny", rule,
                        f"{text}: an internet gateway does not carry traffic to {dst}, a private address"
                        + (f" of {dst_vpc}" if dst_vpc else "") + ": no route leads there")
        if target.startswith("igw-") and dst.version == 4 and not (eni.get("Association") or {}).get("PublicIp"):
            return Step(leg, at, "route", None, rtb, "deny", rule,
                        f"{text}, but {eni.get('NetworkInterfaceId')} has no public IPv4 address: the internet "
                        "gateway does not carry traffic from a private-only address")
        if target.startswith("eigw-") and leg == "reply":
            return Step(leg, at, "route", None, rtb, "deny", rule,
                        f"{text}: an egress-only internet gateway lets no connection in from the internet, "
                        "so the request could not have arrived this way")
        return Step(leg, at, "route", None, rtb, "allow", rule, f"{text} (the internet)")
    beyond = f"{text}; what happens beyond {target} is not evaluated"
    if dst_eni is not None and dst_eni.get("VpcId") == vpc:
        beyond = f"{text}, a route more specific than the local one (an appliance); what it forwards is not evaluated"
    return Step(leg, at, "route", None, rtb, "allow", rule, beyond)


def _route_rule(route):
    if route is None:
        return None
    return {k: route[k] for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId",
                                  *_TARGETS, "State", "Origin") if k in route}


# --- the whole path ---------------------------------------------------------------------------------

def _ephemeral(conn: Connection, src_eni: dict | None) -> tuple[list, dict]:
    if conn.client_ports:
        ranges = [tuple(r) for r in conn.client_ports]
        return [("the client's ports in the records", ranges)], {
            "basis": "records", "ranges": [list(r) for r in ranges],
            "detail": f"the client's ports seen in the records: {_ranges_text(ranges)}"}
    if src_eni is not None and _is_aws_service(src_eni):
        return [("AWS's range for NAT gateways, load balancers and Lambda", [AWS_SERVICE_PORTS])], {
            "basis": "aws-documented", "ranges": [list(AWS_SERVICE_PORTS)],
            "detail": f"AWS's documented range for NAT gateways, load balancers and Lambda "
                      f"({_ranges_text([AWS_SERVICE_PORTS])}): the client is {src_eni.get('NetworkInterfaceId')}"}
    return [("a Linux client", [LINUX_PORTS]), ("a Windows client", [WINDOWS_PORTS])], {
        "basis": "aws-documented", "ranges": [list(LINUX_PORTS), list(WINDOWS_PORTS)],
        "detail": f"AWS's documented ranges: Linux {_ranges_text([LINUX_PORTS])}, Windows "
                  f"{_ranges_text([WINDOWS_PORTS])} (the records give no client port)"}


def _is_aws_service(eni: dict) -> bool:
    kind = eni.get("InterfaceType") or ""
    desc = eni.get("Description") or ""
    return (kind in ("nat_gateway", "lambda", "network_load_balancer", "gateway_load_balancer")
            or desc.startswith(("AWS Lambda VPC ENI", "ELB ", "Interface for NAT Gateway"))
            or eni.get("RequesterId") == "amazon-elb")


def _invalid(conn: Connection):
    src, dst = _address(conn.src), _address(conn.dst)
    if src is None or dst is None:
        return None, None, f"not an IP address: {(conn.src if src is None else conn.dst)!r}"
    if src.version != dst.version:
        return src, dst, f"{src} and {dst} are not of one IP version: no packet goes between them"
    if conn.protocol == ICMP and src.version == 6 or conn.protocol == ICMPV6 and src.version == 4:
        ping = "icmpv6 (58)" if src.version == 6 else "icmp (1)"
        return src, dst, (f"protocol {conn.protocol} ({PROTOCOL_NAMES[conn.protocol]}) is not carried over "
                          f"IPv{src.version}: ping over IPv{src.version} is {ping}")
    if _has_ports(conn.protocol) and conn.port is None:
        return src, dst, f"the server's port is needed to evaluate {PROTOCOL_NAMES[conn.protocol]} (--port)"
    if not 0 <= conn.protocol <= 255:
        return src, dst, f"protocol {conn.protocol} is not an IP protocol number"
    return src, dst, ""


def evaluate_path(cfg: Configuration, conn: Connection) -> Evaluation:
    """The path of `conn` through `cfg` and what decided (see the module docstring)."""
    src, dst, invalid = _invalid(conn)
    if invalid:
        return Evaluation(_cause("unknown", detail=invalid), [])
    for ip in (dst, src):
        if str(ip) in LINK_LOCAL_SERVICES:
            return Evaluation(_cause("unknown", detail=(
                f"{ip} is {LINK_LOCAL_SERVICES[str(ip)]}: reached from the instance itself, never filtered by a "
                "network ACL and never in a flow log, so the configuration says nothing about it")), [])
    src_eni, dst_eni = cfg.eni_of.get(src), cfg.eni_of.get(dst)
    notes = []
    if src_eni is None and dst_eni is None:
        return Evaluation(_cause("unknown", detail=(
            f"neither {src} nor {dst} is an address of an ENI in the inventory: there is no configuration "
            "to evaluate (is the inventory of this account and region?)")), [])
    if src_eni is not None and src_eni is dst_eni:
        return Evaluation(_cause("none", detail=f"{src} and {dst} are both addresses of "
                                 f"{src_eni.get('NetworkInterfaceId')}: the traffic does not leave it"), [])

    proto = conn.protocol
    icmp_req = icmp_rep = None
    if proto in (ICMP, ICMPV6):
        t = conn.icmp_type if conn.icmp_type is not None else ECHO_REQUEST[proto]
        c = conn.icmp_code if conn.icmp_code is not None else 0
        icmp_req = (t, c)
        if conn.icmp_type is None:
            notes.append(f"ICMP: an echo request (type {t}, code 0, as ping sends) is evaluated, and its echo reply")
        reply_type = ICMP_REPLIES[proto].get(t)
        icmp_rep = (reply_type, 0) if reply_type is not None else None
    req_ports = ((conn.port, conn.port),) if _has_ports(proto) else None
    request = _Packet(src, dst, proto, req_ports, icmp_req)
    same_subnet = (src_eni is not None and dst_eni is not None and src_eni.get("SubnetId") == dst_eni.get("SubnetId"))

    path: list[Step] = []
    if src_eni is not None:
        path.append(_sg_step(cfg, src_eni, "request", "source", True, dst, request))
        path.append(_skip_nacl("request", "source", "outbound", src_eni) if same_subnet else
                    _nacl_step(cfg, src_eni, "request", "source", True, dst, request))
        path.append(_route_step(cfg, src_eni, "request", "source", dst, dst_eni))
    else:
        notes.append(_outside(cfg, src, "source"))
    if dst_eni is not None:
        path.append(_skip_nacl("request", "destination", "inbound", dst_eni) if same_subnet else
                    _nacl_step(cfg, dst_eni, "request", "destination", False, src, request))
        path.append(_sg_step(cfg, dst_eni, "request", "destination", False, src, request))
    else:
        notes.append(_outside(cfg, dst, "destination"))

    ephemeral = None
    has_reply = proto not in (ICMP, ICMPV6) or icmp_rep is not None
    if not has_reply:
        notes.append(f"ICMP type {icmp_req[0]} has no reply: only the request is evaluated")
    else:
        if _has_ports(proto):
            groups, ephemeral = _ephemeral(conn, src_eni)
        else:
            groups = None
        reply = _Packet(dst, src, proto, None, icmp_rep)
        if dst_eni is not None:
            path.append(_skip_nacl("reply", "destination", "outbound", dst_eni) if same_subnet else
                        _nacl_step(cfg, dst_eni, "reply", "destination", True, src, reply, groups))
            path.append(_route_step(cfg, dst_eni, "reply", "destination", src, src_eni))
        if src_eni is not None:
            path.append(_skip_nacl("reply", "source", "inbound", src_eni) if same_subnet else
                        _nacl_step(cfg, src_eni, "reply", "source", False, dst, reply, groups))
    return Evaluation(_decide(path, dst_eni, dst, cfg, notes), path, notes, ephemeral,
                      src_eni.get("NetworkInterfaceId") if src_eni else None,
                      dst_eni.get("NetworkInterfaceId") if dst_eni else None)


def _skip_nacl(leg, at, direction, eni) -> Step:
    return Step(leg, at, "network-acl", direction, None, "skip", None,
                f"both ENIs are in {eni.get('SubnetId')}: network ACLs filter only what enters or leaves a subnet")


def _outside(cfg: Configuration, ip, side: str) -> str:
    vpc = cfg.vpc_of_address(ip)
    if vpc:
        return (f"the {side} {ip} is inside {vpc} but no ENI of the inventory has it: its own rules are not "
                "evaluated" + (" (nothing is there as of the inventory)" if side == "destination" else ""))
    where = "an internet address" if ip.is_global else "a private address outside the inventory's VPCs"
    return f"the {side} {ip} is {where}: only the other end's rules are evaluated"


def _decide(path: list[Step], dst_eni, dst, cfg: Configuration, notes: list[str]) -> dict:
    """The first step that denies decides; else a step that denies some of the client's ports; else an
    unknown step; else nothing denies."""
    def cause_of(step: Step, kind=None):
        rule = step.rule.get("RuleNumber") if step.kind == "network-acl" and isinstance(step.rule, dict) else None
        partly = "partly: " if step.verdict == "partial" else ""
        leg = "the reply: " if step.leg == "reply" else ""
        return _cause(kind or step.kind, step.resource, None if kind else rule, step.direction,
                      partly + leg + step.detail)

    unknown = [s for s in path if s.verdict == "unknown"]
    earlier = ""
    for verdict in ("deny", "partial"):
        for s in path:
            if s.verdict == verdict:
                before = [u for u in unknown if path.index(u) < path.index(s)]
                if before:
                    earlier = f" (an earlier step could not be evaluated: {before[0].detail})"
                c = cause_of(s)
                c["detail"] += earlier
                return c
    if unknown:  # what could not be evaluated is named, as unknown
        return cause_of(unknown[0], "unknown")
    if dst_eni is None and cfg.vpc_of_address(dst) is not None:
        return _cause("unknown", detail=f"every evaluated step allows it, but no ENI of the inventory has {dst} "
                                        f"(inside {cfg.vpc_of_address(dst)}): nothing is there to answer")
    return _cause("none", detail="every step allows it: security groups, network ACLs and routes let the request "
                                 "through and the reply back" + ("; " + "; ".join(notes) if notes else ""))
