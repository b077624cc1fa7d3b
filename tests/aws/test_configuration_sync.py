"""`inventory sync` writes the network configuration diagnose evaluates (security groups, network ACLs,
route tables and the prefix lists they name), in the AWS CLI's shapes, over pages, in the dated
snapshot too; a call it may not make loses only its own file. Against the moto server."""

from __future__ import annotations

import json
from datetime import date

import pytest
from awsfixtures import REGION
from typer.testing import CliRunner

from flowsql.diagnose.configuration_snapshot import load_configuration
from flowsql.account.inventory_sync import sync
from flowsql.account.provision import inventory_sync_actions
from flowsql.cli import app
from flowsql.errors import SourceError

DAY = date(2026, 11, 20)
runner = CliRunner()


def _cli_document(boto, operation: str, key: str, **kw) -> str:
    """What `aws ec2 …` prints: the merged pages, timestamps in ISO 8601, indent 4."""
    items = [i for page in boto.ec2.get_paginator(operation).paginate(**kw) for i in page[key]]
    return json.dumps({key: items}, indent=4, ensure_ascii=False, default=lambda v: v.isoformat()) + "\n"


def _arrange(boto, n: int = 11) -> dict:
    ec2 = boto.ec2
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    office = ec2.create_managed_prefix_list(PrefixListName="office", MaxEntries=5, AddressFamily="IPv4",
                                            Entries=[{"Cidr": "192.0.2.0/28"}, {"Cidr": "198.51.100.0/24"}])[
        "PrefixList"]["PrefixListId"]
    groups = []
    for i in range(n):
        gid = ec2.create_security_group(GroupName=f"g{i}", Description="d", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443,
                                                                          "ToPort": 443, "PrefixListIds": [
                                                                              {"PrefixListId": office}]}])
        groups.append(gid)
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow",
                                     Egress=False, CidrBlock="10.0.0.0/8", PortRange={"From": 22, "To": 22})
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(n)]
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", RouteTableIds=tables[:1],
                            VpcEndpointType="Gateway")
    [s3] = [p["PrefixListId"] for p in ec2.describe_managed_prefix_lists()["PrefixLists"]
            if p["PrefixListName"] == f"com.amazonaws.{REGION}.s3"]
    return {"vpc": vpc, "office": office, "s3": s3, "groups": groups}


def test_sync_writes_the_configuration_as_the_cli_prints_it_over_several_pages(proxy, boto, aws, tmp_path):
    ids = _arrange(boto)
    before = len(proxy.calls)
    counts = sync(aws, tmp_path, page_size=5, posture=False, today=DAY)
    calls = proxy.calls[before:]  # sync's own calls
    for name, operation, key in (("security-groups.json", "describe_security_groups", "SecurityGroups"),
                                 ("network-acls.json", "describe_network_acls", "NetworkAcls"),
                                 ("route-tables.json", "describe_route_tables", "RouteTables")):
        text = _cli_document(boto, operation, key)
        assert (tmp_path / name).read_text() == text, name
        assert (tmp_path / DAY.isoformat() / name).read_text() == text  # the dated snapshot
        assert counts[name] == len(json.loads(text)[key]) >= 11
        op = "Describe" + "".join(w.capitalize() for w in operation.split("_")[1:])
        assert calls.count(op) == -(-counts[name] // 5) >= 3, op  # followed NextToken over every page
    # the prefix lists a rule or a route names, as `get-managed-prefix-list-entries` prints them
    assert sorted(p.name for p in (tmp_path / "prefix-lists").iterdir()) == sorted(
        [f"{ids['office']}.json", f"{ids['s3']}.json"])
    for pl in (ids["office"], ids["s3"]):
        text = _cli_document(boto, "get_managed_prefix_list_entries", "Entries", PrefixListId=pl)
        assert (tmp_path / "prefix-lists" / f"{pl}.json").read_text() == text
        assert (tmp_path / DAY.isoformat() / "prefix-lists" / f"{pl}.json").read_text() == text
    assert counts["prefix-lists/"] == 2
    # every call sync made is in `iam-policy --for inventory`
    actions = set(inventory_sync_actions())
    assert {f"ec2:{op}" for op in calls} <= actions
    assert {"ec2:DescribeSecurityGroups", "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables",
            "ec2:GetManagedPrefixListEntries"} <= {f"ec2:{op}" for op in calls}

    # read back: the snapshot's documents, the prefix lists resolved
    snap = load_configuration(tmp_path, DAY, DAY)
    assert snap.folder == tmp_path / DAY.isoformat() and snap.dated and snap.day == DAY
    assert set(snap.configuration.security_groups) >= set(ids["groups"])
    assert sorted(snap.prefix_lists) == sorted([ids["office"], ids["s3"]])
    assert [str(n) for n in snap.configuration.prefix_networks[ids["office"]]] == ["192.0.2.0/28", "198.51.100.0/24"]


def test_a_list_no_rule_names_any_more_is_removed(boto, aws, tmp_path):
    ids = _arrange(boto, n=1)
    sync(aws, tmp_path, posture=False, today=DAY)
    assert (tmp_path / "prefix-lists" / f"{ids['office']}.json").exists()
    boto.ec2.revoke_security_group_ingress(GroupId=ids["groups"][0], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": ids["office"]}]}])
    (tmp_path / "prefix-lists" / "notes.txt").write_text("mine")
    sync(aws, tmp_path, posture=False, today=DAY)
    for folder in (tmp_path, tmp_path / DAY.isoformat()):
        assert not (folder / "prefix-lists" / f"{ids['office']}.json").exists()
        assert (folder / "prefix-lists" / f"{ids['s3']}.json").exists()
    assert (tmp_path / "prefix-lists" / "notes.txt").read_text() == "mine"  # not ours: left alone


def test_a_call_it_may_not_make_loses_only_its_file_and_the_command_says_so(boto, proxy, tmp_path):
    _arrange(boto, n=1)
    inv = tmp_path / "inv"
    r = runner.invoke(app, ["inventory", "sync", "--out", str(inv)])
    assert r.exit_code == 0, r.output
    today = [p for p in inv.iterdir() if p.is_dir() and p.name[:2] == "20"][0]
    assert (inv / "network-acls.json").exists() and (today / "network-acls.json").exists()
    proxy.deny.add("DescribeNetworkAcls")  # an IAM policy from before these files
    r = runner.invoke(app, ["inventory", "sync", "--out", str(inv)])
    assert r.exit_code == 1 and (r.exception is None or isinstance(r.exception, SystemExit)), r.output
    warnings = [line for line in r.stderr.splitlines() if line.startswith("flowsql: warning:")]
    assert len(warnings) == 1 and "network-acls.json not written" in warnings[0]
    assert "ec2:DescribeNetworkAcls" in warnings[0]
    # the old file cannot speak for a configuration that may have changed: gone, the latest and today's
    assert not (inv / "network-acls.json").exists() and not (today / "network-acls.json").exists()
    assert not list((inv / "prefix-lists").glob("pl-*.json"))  # the lists speak for the rules only
    for name in ("security-groups.json", "route-tables.json", "network-interfaces.json", "flow-logs.json"):
        assert (inv / name).exists(), name
    # without a whole configuration, diagnose reads none
    assert load_configuration(inv, date.today(), date.today()) is None


@pytest.mark.parametrize("name,doc,needle", [
    ("network-acls.json", {"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": False,
                                            "Associations": [], "Entries": [{"Egress": False, "Protocol": "6",
                                                                             "RuleAction": "deny"}]}]},
     "Entries[0] has no 'RuleNumber' (a number)"),
    ("network-acls.json", {"NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": False,
                                            "Associations": [], "Entries": [{"RuleNumber": True, "Egress": False,
                                                                             "Protocol": "6", "RuleAction": "deny"}]}]},
     "'RuleNumber' (a number)"),
    ("security-groups.json", {"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [
        {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "10.0.0.0/33"}]}], "IpPermissionsEgress": []}]},
     "IpPermissions[].IpRanges[].CidrIp is '10.0.0.0/33'"),
    ("route-tables.json", {"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Associations": [],
                                            "Routes": ["10.0.0.0/16"]}]}, "Routes[0] is not an object"),
    ("route-tables.json", {"Routes": []}, "expected the top-level key 'RouteTables'"),
    ("prefix-lists/pl-0a1b.json", {"Entries": [{"Description": "x"}]},
     "get-managed-prefix-list-entries --prefix-list-id pl-0a1b"),
])
def test_a_document_in_the_wrong_shape_is_an_error_naming_it(tmp_path, name, doc, needle):
    good = {"network-interfaces.json": {"NetworkInterfaces": []}, "security-groups.json": {"SecurityGroups": []},
            "network-acls.json": {"NetworkAcls": []}, "route-tables.json": {"RouteTables": []}}
    for n, d in {**good, name: doc}.items():
        (tmp_path / n).parent.mkdir(exist_ok=True)
        (tmp_path / n).write_text(json.dumps(d))
    with pytest.raises(SourceError) as e:
        load_configuration(tmp_path, DAY, DAY)
    assert str(tmp_path / name) in str(e.value) and needle in str(e.value), str(e.value)


@pytest.mark.parametrize("link, target", [
    ("prefix-lists", "keep"),  # the folder of the lists: tidied, and written into
    ("security-groups.json", "keep/security-groups.json"),  # a file sync replaces
    ("prefix-lists/pl-0123456789abcdef0.json", "keep/pl-0123456789abcdef0.json"),  # a list no rule names: tidied
    (f"{DAY.isoformat()}/prefix-lists", "keep"),  # the dated copy's lists
])
def test_a_link_where_the_configuration_is_written_or_tidied_is_refused_and_nothing_outside_changes(
        boto, aws, tmp_path, link, target):
    _arrange(boto, n=1)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "keep").mkdir(parents=True)
    for name in ("security-groups.json", "pl-0123456789abcdef0.json", "notes.txt"):
        (elsewhere / "keep" / name).write_text(f"the user's own {name}")
    before = {p: p.read_text() for p in elsewhere.rglob("*") if p.is_file()}
    inv = tmp_path / "inv"
    (inv / link).parent.mkdir(parents=True, exist_ok=True)
    (inv / link).symlink_to(elsewhere / target)
    with pytest.raises(SourceError, match="is a symbolic link"):
        sync(aws, inv, posture=False, today=DAY)
    assert {p: p.read_text() for p in elsewhere.rglob("*") if p.is_file()} == before
    assert (inv / link).is_symlink()
