"""The path evaluator (flowsql.diagnose.path) on configurations built in the moto server and read back
with boto3's describe calls, so every document has the AWS CLI's shape (JSON-round-tripped, as a file
would hold it).

moto keeps two things AWS does differently, and the tests put AWS's back where they need them:
a route whose target is deleted stays `active` in moto (AWS marks it `blackhole`), and a network
ACL entry's IcmpTypeCode is dropped on create (AWS keeps it).
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from flowsql.diagnose.path import (ALL_RULE, ICMP, ICMPV6, TCP, UDP, Configuration, Connection, LINUX_PORTS,
                                   WINDOWS_PORTS, evaluate_path)

INTERNET = "93.184.216.34"
INTERNET6 = "2606:2800:220:1:248:1893:25c8:1946"


def _all(ec2, operation: str, key: str, **kw) -> list:
    return [item for page in ec2.get_paginator(operation).paginate(**kw) for item in page[key]]


def documents(boto, *, resolve_prefix_lists: bool = True) -> dict:
    """What `aws ec2 describe-…` prints for each document, as a file would hold it."""
    ec2 = boto.ec2
    docs = {
        "network_interfaces": _all(ec2, "describe_network_interfaces", "NetworkInterfaces"),
        "subnets": _all(ec2, "describe_subnets", "Subnets"),
        "vpcs": _all(ec2, "describe_vpcs", "Vpcs"),
        "security_groups": _all(ec2, "describe_security_groups", "SecurityGroups"),
        "network_acls": _all(ec2, "describe_network_acls", "NetworkAcls"),
        "route_tables": _all(ec2, "describe_route_tables", "RouteTables"),
        "prefix_lists": _all(ec2, "describe_managed_prefix_lists", "PrefixLists"),
    }
    docs = json.loads(json.dumps(docs, default=str))
    if resolve_prefix_lists:
        docs["prefix_list_entries"] = {
            p["PrefixListId"]: json.loads(json.dumps(_all(ec2, "get_managed_prefix_list_entries", "Entries",
                                                          PrefixListId=p["PrefixListId"]), default=str))
            for p in docs["prefix_lists"]}
    return docs


def configuration(boto, **kw) -> Configuration:
    return Configuration(**documents(boto, **kw))


class Net:
    """A small network in moto: two VPCs, subnets, security groups, network ACLs, route tables, ENIs."""

    def __init__(self, boto, ipv6: bool = False):
        self.ec2 = ec2 = boto.ec2
        kw = {"AmazonProvidedIpv6CidrBlock": True} if ipv6 else {}
        self.vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", **kw)["Vpc"]["VpcId"]
        self.v6 = None
        if ipv6:
            block = ec2.describe_vpcs(VpcIds=[self.vpc])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
            self.v6 = list(ipaddress.ip_network(block).subnets(new_prefix=64))
        self.subnets = {}

    def subnet(self, name: str, cidr: str, v6_index: int | None = None, vpc: str | None = None) -> str:
        kw = {"Ipv6CidrBlock": str(self.v6[v6_index])} if v6_index is not None else {}
        sid = self.ec2.create_subnet(VpcId=vpc or self.vpc, CidrBlock=cidr, **kw)["Subnet"]["SubnetId"]
        self.subnets[name] = sid
        return sid

    def sg(self, name: str, ingress=(), egress=None, vpc: str | None = None) -> str:
        gid = self.ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc or self.vpc)["GroupId"]
        if ingress:
            self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(ingress))
        if egress is not None:  # replace the default allow-all outbound rule
            self.ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[
                {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            if egress:
                self.ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=list(egress))
        return gid

    def eni(self, subnet: str, ip: str, groups, ipv6: str | None = None) -> str:
        kw = {"Ipv6Addresses": [{"Ipv6Address": ipv6}]} if ipv6 else {}
        return self.ec2.create_network_interface(SubnetId=self.subnets[subnet], PrivateIpAddress=ip, Groups=list(groups),
                                                 **kw)["NetworkInterface"]["NetworkInterfaceId"]

    def acl(self, subnet: str, entries, vpc: str | None = None) -> str:
        """A custom network ACL with `entries` (rule, egress, action, protocol, cidr, (from, to) or None) on `subnet`."""
        acl = self.ec2.create_network_acl(VpcId=vpc or self.vpc)["NetworkAcl"]["NetworkAclId"]
        for rule, egress, action, proto, cidr, extra in entries:
            kw = {"Ipv6CidrBlock" if ":" in cidr else "CidrBlock": cidr}
            if isinstance(extra, tuple):
                kw["PortRange"] = {"From": extra[0], "To": extra[1]}
            self.ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=rule, Protocol=proto, RuleAction=action,
                                              Egress=egress, **kw)
        sid = self.subnets[subnet]
        [assoc] = [a for n in self.ec2.describe_network_acls(
            Filters=[{"Name": "association.subnet-id", "Values": [sid]}])["NetworkAcls"]
            for a in n["Associations"] if a["SubnetId"] == sid]
        self.ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl)
        return acl

    def route_table(self, subnet: str, routes=(), vpc: str | None = None) -> str:
        rtb = self.ec2.create_route_table(VpcId=vpc or self.vpc)["RouteTable"]["RouteTableId"]
        for r in routes:
            self.ec2.create_route(RouteTableId=rtb, **r)
        self.ec2.associate_route_table(RouteTableId=rtb, SubnetId=self.subnets[subnet])
        return rtb

    def igw(self) -> str:
        igw = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=self.vpc)
        return igw

    def public_ip(self, eni: str) -> None:
        alloc = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        self.ec2.associate_address(AllocationId=alloc, NetworkInterfaceId=eni)


def tcp(port, cidr=None, group=None, v6=None):
    perm = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port}
    if cidr:
        perm["IpRanges"] = [{"CidrIp": cidr}]
    if v6:
        perm["Ipv6Ranges"] = [{"CidrIpv6": v6}]
    if group:
        perm["UserIdGroupPairs"] = [{"GroupId": group}]
    return perm


@pytest.fixture
def app_db(boto):
    """app (10.0.1.0/24) → db (10.0.2.0/24) in one VPC, the default network ACL and the main route table;
    db's group admits PostgreSQL from app's group."""
    net = Net(boto)
    net.subnet("app", "10.0.1.0/24")
    net.subnet("db", "10.0.2.0/24")
    net.sg_app = net.sg("app")
    net.sg_db = net.sg("db", ingress=[tcp(5432, group=net.sg_app),
                                      {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1,
                                       "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    net.app = net.eni("app", "10.0.1.5", [net.sg_app])
    net.db = net.eni("db", "10.0.2.9", [net.sg_db])
    return net


def _steps(ev):
    return [(s.leg, s.at, s.kind, s.direction, s.verdict) for s in ev.path]


def test_all_allowed_names_no_cause_and_lists_every_step_in_the_packets_order(boto, app_db):
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert ev.cause["kind"] == "none" and ev.cause["resource"] is None and ev.cause["rule"] is None
    assert _steps(ev) == [
        ("request", "source", "security-group", "outbound", "allow"),
        ("request", "source", "network-acl", "outbound", "allow"),
        ("request", "source", "route", None, "allow"),
        ("request", "destination", "network-acl", "inbound", "allow"),
        ("request", "destination", "security-group", "inbound", "allow"),
        ("reply", "destination", "network-acl", "outbound", "allow"),
        ("reply", "destination", "route", None, "allow"),
        ("reply", "source", "network-acl", "inbound", "allow"),
    ]
    by = {(s.leg, s.at, s.kind): s for s in ev.path}
    # the rule or route that gave each verdict
    assert by["request", "destination", "security-group"].resource == app_db.sg_db
    assert by["request", "destination", "security-group"].rule["matched"] == app_db.sg_app  # the group reference
    assert by["request", "source", "network-acl"].rule["RuleNumber"] == 100  # the default ACL's allow
    assert by["request", "source", "route"].rule["GatewayId"] == "local"
    assert ev.ephemeral_ports["basis"] == "aws-documented"
    assert ev.ephemeral_ports["ranges"] == [list(LINUX_PORTS), list(WINDOWS_PORTS)]
    json.dumps(ev.to_dict())  # the whole evaluation is JSON


def test_a_network_acl_deny_rule_inbound_is_named_with_its_number(boto, app_db):
    acl = app_db.acl("db", [(90, False, "deny", "6", "10.0.1.0/24", (5432, 5432)),
                            (100, False, "allow", "-1", "0.0.0.0/0", None),
                            (100, True, "allow", "-1", "0.0.0.0/0", None)])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert {k: ev.cause[k] for k in ("kind", "resource", "rule", "direction")} == {
        "kind": "network-acl", "resource": acl, "rule": 90, "direction": "inbound"}
    assert "rule 90 denies" in ev.cause["detail"]
    # the same ACL lets another port through (rule 100): only 5432 is denied
    assert evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5433)).cause["kind"] == "security-group"


def test_a_custom_network_acl_without_rules_denies_with_the_star_rule(boto, app_db):
    acl = app_db.acl("db", [])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert (ev.cause["kind"], ev.cause["resource"], ev.cause["rule"], ev.cause["direction"]) == (
        "network-acl", acl, ALL_RULE, "inbound")


def test_a_missing_security_group_rule(boto, app_db):
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 6379))
    assert {k: ev.cause[k] for k in ("kind", "resource", "rule", "direction")} == {
        "kind": "security-group", "resource": app_db.sg_db, "rule": None, "direction": "inbound"}
    assert "tcp port 6379" in ev.cause["detail"] and "10.0.1.5" in ev.cause["detail"]
    # the steps after the deny are still evaluated and listed
    assert [s.verdict for s in ev.path].count("deny") == 1 and len(ev.path) == 8


def test_the_source_groups_outbound_rules_decide_first(boto, app_db):
    sg = app_db.sg("locked", egress=[tcp(443, cidr="0.0.0.0/0")])
    client = app_db.eni("app", "10.0.1.6", [sg])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.6", "10.0.2.9", TCP, 5432))
    assert (ev.cause["kind"], ev.cause["resource"], ev.cause["direction"]) == ("security-group", sg, "outbound")
    assert client in ev.cause["detail"]
    # a group reference matches only the referenced group's members: this client is not in app's group
    assert ev.path[4].verdict == "deny"


def test_a_reply_denied_by_a_network_acl(boto, app_db):
    # db's subnet lets requests in but its replies out only to the well-known ports
    acl = app_db.acl("db", [(100, False, "allow", "-1", "0.0.0.0/0", None),
                            (100, True, "allow", "6", "0.0.0.0/0", (0, 1023))])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert {k: ev.cause[k] for k in ("kind", "resource", "rule", "direction")} == {
        "kind": "network-acl", "resource": acl, "rule": ALL_RULE, "direction": "outbound"}
    assert ev.cause["detail"].startswith("the reply: ")
    reply = [s for s in ev.path if s.leg == "reply" and s.kind == "network-acl" and s.at == "destination"][0]
    assert reply.verdict == "deny" and {p["verdict"] for p in reply.ports} == {"deny"}


def test_the_reply_on_the_clients_port_from_the_records_or_the_documented_ranges(boto, app_db):
    # replies allowed to 32768-60999 only: a Linux client's range; a Windows client's 61000-65535 are denied
    acl = app_db.acl("db", [(100, False, "allow", "-1", "0.0.0.0/0", None),
                            (100, True, "allow", "6", "10.0.0.0/16", (32768, 60999))])
    cfg = configuration(boto)
    ev = evaluate_path(cfg, Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert (ev.cause["kind"], ev.cause["resource"], ev.cause["rule"]) == ("network-acl", acl, ALL_RULE)
    step = [s for s in ev.path if s.verdict == "partial"][0]
    assert {(p["client"], p["from"], p["to"], p["verdict"]) for p in step.ports} == {
        ("a Linux client", 32768, 60999, "allow"), ("a Windows client", 49152, 60999, "allow"),
        ("a Windows client", 61000, 65535, "deny")}
    # the records name the client's ports: inside the allowed range, nothing denies
    ev = evaluate_path(cfg, Connection("10.0.1.5", "10.0.2.9", TCP, 5432, client_ports=((40000, 51000),)))
    assert ev.cause["kind"] == "none" and ev.ephemeral_ports["basis"] == "records"
    # one port outside it: denied
    ev = evaluate_path(cfg, Connection("10.0.1.5", "10.0.2.9", TCP, 5432, client_ports=((62011, 62011),)))
    assert ev.cause["kind"] == "network-acl" and ev.cause["direction"] == "outbound"
    assert [s.verdict for s in ev.path if s.leg == "reply"][0] == "deny"


def test_a_nat_gateways_replies_use_awss_range_for_services(boto, app_db):
    acl = app_db.acl("db", [(100, False, "allow", "-1", "0.0.0.0/0", None),
                            (100, True, "allow", "6", "10.0.0.0/16", (32768, 65535))])
    docs = documents(boto)
    for eni in docs["network_interfaces"]:
        if eni["NetworkInterfaceId"] == app_db.app:  # as AWS describes a NAT gateway's ENI
            eni["InterfaceType"] = "nat_gateway"
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert ev.ephemeral_ports["ranges"] == [[1024, 65535]]
    assert (ev.cause["kind"], ev.cause["resource"]) == ("network-acl", acl)
    assert "1024-32767 denied" in ev.cause["detail"]


def test_a_missing_route_to_a_peered_vpc(boto, app_db):
    other = boto.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    app_db.subnet("peer", "10.9.1.0/24", vpc=other)
    sg = app_db.sg("peer", ingress=[tcp(443, cidr="10.0.0.0/8")], vpc=other)
    app_db.eni("peer", "10.9.1.20", [sg])
    pcx = boto.ec2.create_vpc_peering_connection(VpcId=app_db.vpc, PeerVpcId=other)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"]
    # app's subnet has no route to 10.9.0.0/16: only local (the main table)
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.9.1.20", TCP, 443))
    main = [s for s in ev.path if s.kind == "route"][0].resource
    assert {k: ev.cause[k] for k in ("kind", "resource", "rule", "direction")} == {
        "kind": "route", "resource": main, "rule": None, "direction": None}
    assert "no route to 10.9.1.20" in ev.cause["detail"]

    # a default route to an internet gateway does not reach a private address either
    rtb = app_db.route_table("app", [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": app_db.igw()}])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.9.1.20", TCP, 443))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("route", rtb) and "internet gateway" in ev.cause["detail"]

    # the route there, but none back: the reply's route (the peer's main table) drops it
    boto.ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.9.0.0/16", VpcPeeringConnectionId=pcx)
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.9.1.20", TCP, 443))
    assert ev.cause["kind"] == "route" and ev.cause["detail"].startswith("the reply: ")
    assert ev.cause["resource"] != rtb and "no route to 10.0.1.5" in ev.cause["detail"]
    route = [s for s in ev.path if s.kind == "route"][0]
    assert route.verdict == "allow" and route.rule["VpcPeeringConnectionId"] == pcx

    # and both ways: nothing denies (what the peering itself does is not evaluated)
    [peer_main] = [t["RouteTableId"] for t in boto.ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [other]}])["RouteTables"]]
    boto.ec2.create_route(RouteTableId=peer_main, DestinationCidrBlock="10.0.0.0/16", VpcPeeringConnectionId=pcx)
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.9.1.20", TCP, 443))
    assert ev.cause["kind"] == "none", ev.cause


def test_a_blackhole_route_drops(boto, app_db):
    appliance = app_db.eni("app", "10.0.1.99", [app_db.sg_app])
    rtb = app_db.route_table("app", [{"DestinationCidrBlock": "172.16.0.0/12", "NetworkInterfaceId": appliance}])
    boto.ec2.delete_network_interface(NetworkInterfaceId=appliance)
    docs = documents(boto)
    for t in docs["route_tables"]:  # AWS marks a route whose target is deleted `blackhole` (moto keeps it active)
        for r in t["Routes"]:
            if r.get("NetworkInterfaceId") == appliance:
                r["State"] = "blackhole"
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", "172.16.5.5", TCP, 443))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("route", rtb) and "blackhole" in ev.cause["detail"]
    assert ev.path[2].rule["State"] == "blackhole" and ev.path[2].rule["DestinationCidrBlock"] == "172.16.0.0/12"
    # the destination is not an ENI of the inventory: only the source's steps (and no reply's) apply
    assert [s.at for s in ev.path] == ["source"] * 4
    assert any("172.16.5.5" in n and "outside the inventory" in n for n in ev.notes)


def test_the_longest_prefix_wins_and_a_more_specific_route_through_an_appliance_is_named(boto, app_db):
    appliance = app_db.eni("app", "10.0.1.99", [app_db.sg_app])
    rtb = app_db.route_table("app", [{"DestinationCidrBlock": "10.0.2.0/24", "NetworkInterfaceId": appliance}])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    route = ev.path[2]
    assert route.resource == rtb and route.rule["NetworkInterfaceId"] == appliance and route.verdict == "allow"
    assert "more specific than the local one" in route.detail and ev.cause["kind"] == "none"


def test_the_internet_through_an_internet_gateway_needs_a_public_address(boto):
    net = Net(boto)
    net.subnet("web", "10.0.0.0/24")
    sg = net.sg("web", ingress=[tcp(443, cidr="0.0.0.0/0")])
    web = net.eni("web", "10.0.0.10", [sg])
    rtb = net.route_table("web", [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": net.igw()}])
    # no public address: the reply cannot leave through the internet gateway
    ev = evaluate_path(configuration(boto), Connection(INTERNET, "10.0.0.10", TCP, 443))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("route", rtb) and "public IPv4" in ev.cause["detail"]
    assert [s.at for s in ev.path] == ["destination"] * 4  # the client is on the internet: its side is not ours
    net.public_ip(web)
    ev = evaluate_path(configuration(boto), Connection(INTERNET, "10.0.0.10", TCP, 443))
    assert ev.cause["kind"] == "none", ev.cause
    assert any("internet address" in n for n in ev.notes)
    # the group admits 443 only
    assert evaluate_path(configuration(boto), Connection(INTERNET, "10.0.0.10", TCP, 22)).cause["kind"] == "security-group"


def test_icmp_echo_by_security_group_and_network_acl(boto, app_db):
    cfg = configuration(boto)
    ev = evaluate_path(cfg, Connection("10.0.1.5", "10.0.2.9", ICMP))  # ping: db's group admits echo requests
    assert ev.cause["kind"] == "none" and any("echo request" in n for n in ev.notes)
    assert ev.path[4].rule["IpProtocol"] == "icmp" and ev.path[4].rule["FromPort"] == 8
    assert ev.ephemeral_ports is None and all(s.ports is None for s in ev.path)
    # a timestamp request (type 13): db's group admits echo only
    ev = evaluate_path(cfg, Connection("10.0.1.5", "10.0.2.9", ICMP, icmp_type=13))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("security-group", app_db.sg_db)
    # db's network ACL admits the echo request but lets out no echo reply
    acl = app_db.acl("db", [(100, False, "allow", "1", "0.0.0.0/0", None),
                            (100, True, "allow", "1", "0.0.0.0/0", None),
                            (200, True, "allow", "6", "0.0.0.0/0", (1024, 65535))])
    docs = documents(boto)
    for a in docs["network_acls"]:  # moto drops IcmpTypeCode on create; AWS keeps it
        for e in a["Entries"] if a["NetworkAclId"] == acl else ():
            if e["Protocol"] == "1":
                e["IcmpTypeCode"] = {"Type": 8, "Code": -1}  # echo request only, both ways
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", "10.0.2.9", ICMP))
    assert {k: ev.cause[k] for k in ("kind", "resource", "rule", "direction")} == {
        "kind": "network-acl", "resource": acl, "rule": ALL_RULE, "direction": "outbound"}
    assert "type 0 code 0" in ev.cause["detail"] and ev.cause["detail"].startswith("the reply: ")


def test_ipv6_security_groups_network_acls_and_an_egress_only_gateway(boto):
    net = Net(boto, ipv6=True)
    net.subnet("app", "10.0.1.0/24", v6_index=1)
    web6 = str(net.v6[1][10])
    sg = net.sg("web", ingress=[tcp(443, v6="::/0"), {"IpProtocol": "icmpv6", "FromPort": -1, "ToPort": -1,
                                                        "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    net.eni("app", "10.0.1.10", [sg], ipv6=web6)
    eigw = boto.ec2.create_egress_only_internet_gateway(VpcId=net.vpc)["EgressOnlyInternetGateway"][
        "EgressOnlyInternetGatewayId"]
    igw = net.igw()
    rtb = net.route_table("app", [{"DestinationIpv6CidrBlock": "::/0", "GatewayId": igw},
                                  {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": igw}])
    acl = net.acl("app", [(100, False, "allow", "6", "::/0", (443, 443)),
                          (101, False, "deny", "6", "2606:2800::/32", (22, 22)),
                          (110, False, "allow", "58", "::/0", None),
                          (100, True, "allow", "-1", "::/0", None),
                          (120, False, "allow", "-1", "0.0.0.0/0", None)])
    cfg = configuration(boto)
    ev = evaluate_path(cfg, Connection(INTERNET6, web6, TCP, 443))
    assert ev.cause["kind"] == "none", ev.cause
    assert ev.path[0].rule["Ipv6CidrBlock"] == "::/0" and ev.path[1].rule["matched"] == "::/0"
    # the IPv4 rule 120 does not match an IPv6 packet: SSH falls to rule 101's deny
    ev = evaluate_path(cfg, Connection(INTERNET6, web6, TCP, 22))
    assert (ev.cause["kind"], ev.cause["resource"], ev.cause["rule"]) == ("network-acl", acl, 101)
    # the IPv6 address of another network, same port: no rule of the ACL matches a UDP packet
    ev = evaluate_path(cfg, Connection(INTERNET6, web6, UDP, 53))
    assert (ev.cause["kind"], ev.cause["rule"]) == ("network-acl", ALL_RULE)
    # ping over IPv6 (ICMPv6 echo)
    ev = evaluate_path(cfg, Connection(INTERNET6, web6, ICMPV6))
    assert ev.cause["kind"] == "none" and ev.path[0].rule["Protocol"] == "58"
    # ICMP over IPv6 is not a packet that exists
    assert evaluate_path(cfg, Connection(INTERNET6, web6, ICMP)).cause["kind"] == "unknown"
    # an egress-only gateway lets the server out, but no client in
    boto.ec2.replace_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=eigw)
    ev = evaluate_path(configuration(boto), Connection(INTERNET6, web6, TCP, 443))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("route", rtb) and "egress-only" in ev.cause["detail"]
    ev = evaluate_path(configuration(boto), Connection(web6, INTERNET6, TCP, 443))
    assert [s.verdict for s in ev.path if s.kind == "route"] == ["allow"]
    assert ev.path[2].rule["EgressOnlyInternetGatewayId"] == eigw


def test_a_prefix_list_is_resolved_or_the_verdict_is_unknown(boto, app_db):
    pl = boto.ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=5, AddressFamily="IPv4",
                                             Entries=[{"Cidr": "10.0.1.0/28"}])["PrefixList"]["PrefixListId"]
    sg = app_db.sg("via-list", ingress=[{"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
                                         "PrefixListIds": [{"PrefixListId": pl}]}])
    app_db.eni("db", "10.0.2.30", [sg])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.30", TCP, 8443))
    assert ev.cause["kind"] == "none" and ev.path[4].rule["matched"] == pl
    # 10.0.1.5 is in the list; an address that is not is denied
    app_db.eni("app", "10.0.1.77", [app_db.sg_app])
    assert evaluate_path(configuration(boto), Connection("10.0.1.77", "10.0.2.30", TCP, 8443)).cause["kind"] == "security-group"
    # without the list's entries: not known
    ev = evaluate_path(configuration(boto, resolve_prefix_lists=False), Connection("10.0.1.5", "10.0.2.30", TCP, 8443))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("unknown", sg) and pl in ev.cause["detail"]
    assert ev.path[4].verdict == "unknown"


def test_a_gateway_endpoints_prefix_list_route(boto, app_db):
    rtb = app_db.route_table("app", [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": app_db.igw()}])
    vpce = boto.ec2.create_vpc_endpoint(VpcId=app_db.vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[rtb],
                                        VpcEndpointType="Gateway")["VpcEndpoint"]["VpcEndpointId"]
    docs = documents(boto)
    [s3] = [p["PrefixListId"] for p in docs["prefix_lists"] if p["PrefixListName"] == "com.amazonaws.us-east-1.s3"]
    s3_address = str(ipaddress.ip_network(docs["prefix_list_entries"][s3][0]["Cidr"])[7])
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", s3_address, TCP, 443))
    assert ev.path[2].rule["DestinationPrefixListId"] == s3 and ev.path[2].rule["GatewayId"] == vpce
    # an internet address outside the list takes the default route
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", INTERNET, TCP, 443))
    assert ev.path[2].rule["DestinationCidrBlock"] == "0.0.0.0/0"
    # unresolved, the list could hold the address: the route is not known
    del docs["prefix_list_entries"]
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", INTERNET, TCP, 443))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("unknown", rtb) and s3 in ev.cause["detail"]


def test_network_acls_do_not_apply_within_one_subnet(boto, app_db):
    app_db.acl("app", [])  # denies everything that enters or leaves the subnet
    sg = app_db.sg("peer", ingress=[tcp(8080, cidr="10.0.1.0/24")])
    app_db.eni("app", "10.0.1.8", [sg])
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.1.8", TCP, 8080))
    assert ev.cause["kind"] == "none"
    assert [s.verdict for s in ev.path if s.kind == "network-acl"] == ["skip"] * 4
    # across subnets the same ACL denies
    assert evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.9", TCP, 5432)).cause["kind"] == "network-acl"


def test_an_address_of_the_vpc_that_no_eni_holds(boto, app_db):
    ev = evaluate_path(configuration(boto), Connection("10.0.1.5", "10.0.2.200", TCP, 5432))
    assert ev.cause["kind"] == "unknown" and "no ENI of the inventory has 10.0.2.200" in ev.cause["detail"]
    assert [s.at for s in ev.path] == ["source"] * 4


def test_a_referenced_group_the_inventory_lacks_is_unknown(boto, app_db):
    tgw = boto.ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    app_db.route_table("db", [{"DestinationCidrBlock": "172.16.0.0/12", "TransitGatewayId": tgw}])
    docs = documents(boto)
    for g in docs["security_groups"]:
        if g["GroupId"] == app_db.sg_db:  # a rule naming another account's group, reached over a peering
            g["IpPermissions"].append({"IpProtocol": "tcp", "FromPort": 9000, "ToPort": 9000,
                                       "UserIdGroupPairs": [{"GroupId": "sg-0feedfacecafe0001", "UserId": "210987654321"}]})
    cfg = Configuration(**docs)
    ev = evaluate_path(cfg, Connection("172.20.0.4", "10.0.2.9", TCP, 9000))
    assert (ev.cause["kind"], ev.cause["resource"]) == ("unknown", app_db.sg_db) and "sg-0feedfacecafe0001" in ev.cause["detail"]
    # an ENI of the inventory is known not to be in it
    assert evaluate_path(cfg, Connection("10.0.1.5", "10.0.2.9", TCP, 9000)).cause["kind"] == "security-group"


def test_what_cannot_be_evaluated_is_unknown(boto, app_db):
    cfg = configuration(boto)
    for conn, needle in ((Connection("192.0.2.1", "198.51.100.2", TCP, 80), "neither"),
                         (Connection("10.0.1.5", "169.254.169.254", TCP, 80), "instance metadata"),
                         (Connection("10.0.1.5", "10.0.2.9", TCP), "port"),
                         (Connection("10.0.1.5", "2001:db8::1", TCP, 80), "IP version")):
        ev = evaluate_path(cfg, conn)
        assert ev.cause["kind"] == "unknown" and needle in ev.cause["detail"], (conn, ev.cause)
    # the security groups missing from the documents
    docs = documents(boto)
    docs["security_groups"] = []
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert ev.cause["kind"] == "unknown" and ev.path[0].verdict == "unknown"
    # a deny that is certain decides even when an earlier step is unknown
    app_db.acl("db", [])
    docs = documents(boto)
    docs["security_groups"] = []
    ev = evaluate_path(Configuration(**docs), Connection("10.0.1.5", "10.0.2.9", TCP, 5432))
    assert ev.cause["kind"] == "network-acl" and "could not be evaluated" in ev.cause["detail"]
