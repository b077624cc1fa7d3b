"""The path evaluator's rules against plain-Python references written from AWS's documented semantics:
network ACLs (numbered rules, lowest first, the first match decides, no match denies), security
groups (any rule that allows, allows) and routes (longest prefix; then static, prefix list, propagated).
The moto-built configurations are in tests/aws/test_diagnose_path_aws.py."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from flowsql.diagnose.path import ALL_RULE, Configuration, Connection, evaluate_path, route_lookup

SRC, DST = "10.0.1.5", "10.0.2.9"
CIDRS = ["0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.0.1.0/24", "10.0.1.5/32", "10.0.2.0/24", "10.0.1.0/25",
         "10.0.1.128/25", "192.168.0.0/16", "::/0"]
PROTOCOLS = ["-1", "6", "17", "1"]


def _config(*, dst_acl_entries=None, dst_ingress=None) -> Configuration:
    """Two ENIs in two subnets of one VPC; everything allows but what the test gives."""
    allow_all = [{"RuleNumber": 100, "Egress": e, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"}
                 for e in (True, False)]
    return Configuration(
        network_interfaces=[
            {"NetworkInterfaceId": "eni-src", "SubnetId": "subnet-src", "VpcId": "vpc-1", "PrivateIpAddress": SRC,
             "Groups": [{"GroupId": "sg-src"}]},
            {"NetworkInterfaceId": "eni-dst", "SubnetId": "subnet-dst", "VpcId": "vpc-1", "PrivateIpAddress": DST,
             "Groups": [{"GroupId": "sg-dst"}]}],
        vpcs=[{"VpcId": "vpc-1", "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}]}],
        security_groups=[
            {"GroupId": "sg-src", "IpPermissions": [], "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
            {"GroupId": "sg-dst", "IpPermissions": dst_ingress if dst_ingress is not None else
             [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}], "IpPermissionsEgress": []}],
        network_acls=[
            {"NetworkAclId": "acl-src", "VpcId": "vpc-1", "IsDefault": True, "Associations": [{"SubnetId": "subnet-src"}],
             "Entries": allow_all},
            {"NetworkAclId": "acl-dst", "VpcId": "vpc-1", "IsDefault": False, "Associations": [{"SubnetId": "subnet-dst"}],
             "Entries": dst_acl_entries if dst_acl_entries is not None else allow_all}],
        route_tables=[{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Associations": [{"Main": True}],
                       "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}]}])


# --- network ACLs ---------------------------------------------------------------------------------

@st.composite
def acl_entries(draw):
    numbers = draw(st.lists(st.integers(1, 32766), min_size=0, max_size=8, unique=True))
    entries = []
    for n in numbers:
        proto = draw(st.sampled_from(PROTOCOLS))
        cidr = draw(st.sampled_from(CIDRS))
        e = {"RuleNumber": n, "Egress": draw(st.booleans()), "Protocol": proto,
             "RuleAction": draw(st.sampled_from(["allow", "deny"])),
             "Ipv6CidrBlock" if ":" in cidr else "CidrBlock": cidr}
        if proto in ("6", "17"):
            lo = draw(st.integers(0, 65535))
            e["PortRange"] = {"From": lo, "To": draw(st.integers(lo, min(65535, lo + draw(st.sampled_from([0, 10, 40000])))))}
        if proto == "1":
            e["IcmpTypeCode"] = {"Type": draw(st.sampled_from([-1, 0, 8])), "Code": -1}
        entries.append(e)
    return entries


def reference_acl(entries, egress: bool, peer: str, protocol: int, port: int | None, icmp_type: int | None):
    """AWS's network ACL, plainly: (action, rule number)."""
    for e in sorted(entries, key=lambda e: e["RuleNumber"]):
        if e["Egress"] != egress:
            continue
        block = e.get("CidrBlock") or e.get("Ipv6CidrBlock")
        net = ipaddress.ip_network(block)
        addr = ipaddress.ip_address(peer)
        if net.version != addr.version or addr not in net:
            continue
        if e["Protocol"] != "-1":
            if int(e["Protocol"]) != protocol:
                continue
            if protocol in (6, 17) and not e["PortRange"]["From"] <= port <= e["PortRange"]["To"]:
                continue
            if protocol == 1 and e["IcmpTypeCode"]["Type"] not in (-1, icmp_type):
                continue
        return e["RuleAction"], e["RuleNumber"]
    return "deny", ALL_RULE


@settings(max_examples=300, deadline=None)
@given(entries=acl_entries(), protocol=st.sampled_from([6, 17, 1]), port=st.integers(0, 65535),
       icmp_type=st.sampled_from([8, 13]))
def test_the_inbound_network_acl_is_first_match_as_aws_documents(entries, protocol, port, icmp_type):
    conn = Connection(SRC, DST, protocol, port if protocol in (6, 17) else None,
                      icmp_type=icmp_type if protocol == 1 else None)
    ev = evaluate_path(_config(dst_acl_entries=entries), conn)
    [step] = [s for s in ev.path if (s.leg, s.at, s.kind) == ("request", "destination", "network-acl")]
    action, number = reference_acl(entries, False, SRC, protocol, port, icmp_type)
    assert (step.verdict, step.rule["RuleNumber"]) == (action, number)
    if action == "deny":
        assert (ev.cause["kind"], ev.cause["rule"], ev.cause["direction"]) == ("network-acl", number, "inbound")


@settings(max_examples=200, deadline=None)
@given(entries=acl_entries(), width=st.integers(0, 300), protocol=st.sampled_from([6, 17]), data=st.data())
def test_the_replys_network_acl_decides_every_client_port_as_aws_would(entries, width, protocol, data):
    # the client's ports start anywhere, or next to a rule's edge, where an off-by-one would show
    edges = [p for e in entries if "PortRange" in e for p in (e["PortRange"]["From"] - 1, e["PortRange"]["To"] + 1)]
    lo = data.draw(st.integers(1024, 65535) | st.sampled_from([p for p in edges if 1024 <= p <= 65535] or [1024]))
    hi = min(65535, lo + width)
    entries = [e for e in entries if e["RuleNumber"]]
    ev = evaluate_path(_config(dst_acl_entries=entries),
                  Connection(SRC, DST, protocol, 443, client_ports=((lo, hi),)))
    [step] = [s for s in ev.path if (s.leg, s.at, s.kind) == ("reply", "destination", "network-acl")]
    covered = []
    for seg in step.ports:
        assert seg["from"] <= seg["to"]
        for p in range(seg["from"], seg["to"] + 1):
            want = reference_acl(entries, True, SRC, protocol, p, None)
            assert (seg["verdict"], seg["rule"]) == want, p
            covered.append(p)
    assert covered == list(range(lo, hi + 1))  # every port once, in order
    verdicts = {seg["verdict"] for seg in step.ports}
    assert step.verdict == ("allow" if verdicts == {"allow"} else "deny" if verdicts == {"deny"} else "partial")


def test_a_reply_with_every_port_denied_names_the_first_denying_rule():
    entries = [{"RuleNumber": 50, "Egress": True, "Protocol": "6", "RuleAction": "deny", "CidrBlock": "10.0.1.0/24",
                "PortRange": {"From": 1024, "To": 65535}},
               {"RuleNumber": 60, "Egress": False, "Protocol": "6", "RuleAction": "allow", "CidrBlock": "10.0.0.0/16",
                "PortRange": {"From": 443, "To": 443}}]
    ev = evaluate_path(_config(dst_acl_entries=entries), Connection(SRC, DST, 6, 443))
    assert (ev.cause["kind"], ev.cause["resource"], ev.cause["rule"], ev.cause["direction"]) == (
        "network-acl", "acl-dst", 50, "outbound")
    # the request itself went in (rule 60); the reply's every port is denied
    assert [s.verdict for s in ev.path] == ["allow"] * 5 + ["deny", "allow", "allow"]
    assert ev.path[3].rule["RuleNumber"] == 60


# --- security groups --------------------------------------------------------------------------------

@st.composite
def permissions(draw):
    perms = []
    for _ in range(draw(st.integers(0, 5))):
        proto = draw(st.sampled_from(["-1", "tcp", "udp", "icmp", "6", "50"]))
        p = {"IpProtocol": proto, "IpRanges": [{"CidrIp": draw(st.sampled_from(CIDRS[:-1]))}]}
        if proto in ("tcp", "udp", "6"):
            lo = draw(st.integers(0, 65535))
            p["FromPort"], p["ToPort"] = lo, draw(st.integers(lo, 65535))
        elif proto == "icmp":
            p["FromPort"], p["ToPort"] = draw(st.sampled_from([-1, 0, 8])), -1
        perms.append(p)
    return perms


def reference_sg(perms, peer, protocol, port, icmp_type) -> bool:
    names = {"tcp": 6, "udp": 17, "icmp": 1}
    for p in perms:
        proto = p["IpProtocol"]
        if proto != "-1":
            if names.get(proto, None if not proto.isdigit() else int(proto)) != protocol:
                continue
            if protocol in (6, 17) and not p["FromPort"] <= port <= p["ToPort"]:
                continue
            if protocol == 1 and p["FromPort"] not in (-1, icmp_type):
                continue
        if any(ipaddress.ip_address(peer) in ipaddress.ip_network(r["CidrIp"]) for r in p["IpRanges"]):
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(perms=permissions(), protocol=st.sampled_from([6, 17, 1, 50]), port=st.integers(0, 65535),
       icmp_type=st.sampled_from([8, 13]))
def test_a_security_group_allows_when_any_rule_does(perms, protocol, port, icmp_type):
    conn = Connection(SRC, DST, protocol, port if protocol in (6, 17) else None,
                      icmp_type=icmp_type if protocol == 1 else None)
    ev = evaluate_path(_config(dst_ingress=perms), conn)
    [step] = [s for s in ev.path if (s.at, s.kind) == ("destination", "security-group")]
    allowed = reference_sg(perms, SRC, protocol, port, icmp_type)
    assert step.verdict == ("allow" if allowed else "deny")
    assert ev.cause["kind"] == ("none" if allowed else "security-group")


# --- routes -----------------------------------------------------------------------------------------

@st.composite
def route_tables(draw):
    blocks = st.builds(lambda a, b, n: str(ipaddress.ip_network(f"10.{a}.{b}.0/{n}", strict=False)),
                       st.integers(0, 3), st.integers(0, 255), st.integers(8, 32))
    static = draw(st.lists(blocks, max_size=6, unique=True))
    routes = [{"DestinationCidrBlock": c, "TransitGatewayId": f"tgw-{i}", "Origin": "CreateRoute",
               "State": draw(st.sampled_from(["active", "blackhole"]))} for i, c in enumerate(static)]
    propagated = draw(st.lists(blocks, max_size=3, unique=True))
    routes += [{"DestinationCidrBlock": c, "GatewayId": f"vgw-{i}", "Origin": "EnableVgwRoutePropagation",
                "State": "active"} for i, c in enumerate(propagated)]
    entries = draw(st.lists(blocks, max_size=3, unique=True))
    if entries:
        routes.append({"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-1", "Origin": "CreateRoute",
                       "State": "active"})
    return {"RouteTableId": "rtb-x", "Routes": draw(st.permutations(routes))}, entries


def reference_route(routes, entries, dst):
    """Longest prefix; at the same length static, then prefix list, then propagated."""
    addr = ipaddress.ip_address(dst)
    best = None
    for r in routes:
        if "DestinationPrefixListId" in r:
            lengths = [ipaddress.ip_network(c).prefixlen for c in entries if addr in ipaddress.ip_network(c)]
            key = (max(lengths), 1) if lengths else None
        else:
            net = ipaddress.ip_network(r["DestinationCidrBlock"])
            key = (net.prefixlen, 0 if r["Origin"] == "EnableVgwRoutePropagation" else 2) if addr in net else None
        if key is not None and (best is None or key > best[0]):
            best = (key, r)
    return best[1] if best else None


@settings(max_examples=300, deadline=None)
@given(table=route_tables(), a=st.integers(0, 3), b=st.integers(0, 255), c=st.integers(0, 255))
def test_the_route_is_the_longest_prefix_then_static_prefix_list_propagated(table, a, b, c):
    table, entries = table
    dst = f"10.{a}.{b}.{c}"
    cfg = Configuration(prefix_list_entries={"pl-1": [{"Cidr": e} for e in entries]})
    route, unknown = route_lookup(cfg, table, ipaddress.ip_address(dst))
    want = reference_route(table["Routes"], entries, dst)
    assert unknown == "" and route == want


def test_an_unresolved_prefix_list_route_leaves_the_route_unknown_unless_a_host_route_wins():
    table = {"RouteTableId": "rtb-x", "Routes": [
        {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
        {"DestinationPrefixListId": "pl-9", "GatewayId": "vpce-1", "State": "active"}]}
    route, unknown = route_lookup(Configuration(), table, ipaddress.ip_address("10.0.0.5"))
    assert route["GatewayId"] == "local" and "pl-9" in unknown
    table["Routes"].append({"DestinationCidrBlock": "10.0.0.5/32", "NetworkInterfaceId": "eni-1", "State": "active"})
    route, unknown = route_lookup(Configuration(), table, ipaddress.ip_address("10.0.0.5"))
    assert route["NetworkInterfaceId"] == "eni-1" and unknown == ""
    # a list of the other address family cannot hold the address
    cfg = Configuration(prefix_lists=[{"PrefixListId": "pl-9", "AddressFamily": "IPv6"}])
    assert route_lookup(cfg, table, ipaddress.ip_address("10.0.0.6"))[1] == ""
