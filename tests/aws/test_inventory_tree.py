"""`flowsql inventory sync --regions/--accounts/--organization` against the moto server: an
organization of several accounts entered through sts:AssumeRole, VPCs and flow logs in two regions,
a role that cannot be assumed and a region denied (the fault proxy), then `posture` and `report`
over the tree the sync wrote."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from awsfixtures import ACCOUNT, REGION

from flowsql import posture
from flowsql.account.tree_sync import check_tree_options, sync_tree
from flowsql.errors import UsageError
from flowsql.inventory.tree import read_manifest

ROLE = "OrganizationAccountAccessRole"
OTHER_REGION = "eu-west-1"


def _clients(account: str, region: str):
    """boto3 clients in `account` (the caller's own, or through the role) and `region`."""
    if account == ACCOUNT:
        return boto3.Session(region_name=region)
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="arrange")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=region)


def _vpc(session, cidr: str, *, logged: bool, bucket: str | None = None) -> str:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"),
                      AvailabilityZone=session.region_name + "a")
    if logged:
        s3 = session.client("s3")
        kw = {} if session.region_name == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": session.region_name}}
        s3.create_bucket(Bucket=bucket, **kw)
        resp = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                    LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}")
        assert not resp["Unsuccessful"]
    return vpc


@pytest.fixture
def org(moto):
    """An organization: the caller (management) and three members; VPCs in two regions of two accounts."""
    o = boto3.client("organizations", region_name=REGION)
    o.create_organization(FeatureSet="ALL")
    members = []
    for i in range(3):
        status = o.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")["CreateAccountStatus"]
        members.append(status["AccountId"])
    vpcs = {
        (ACCOUNT, REGION): [_vpc(_clients(ACCOUNT, REGION), "10.1.0.0/16", logged=True, bucket="logs-mgmt-use1")],
        (members[0], REGION): [_vpc(_clients(members[0], REGION), "10.2.0.0/16", logged=True, bucket="logs-m0")],
        (members[0], OTHER_REGION): [_vpc(_clients(members[0], OTHER_REGION), "10.3.0.0/16", logged=False)],
    }
    return {"members": members, "vpcs": vpcs}


def _plan(**kw):
    options = {"regions": f"{REGION},{OTHER_REGION}", "accounts": None, "organization": False, "role_name": None,
               "external_id": None}
    options.update(kw)
    return check_tree_options(**options)


def _own_vpcs(snapshot) -> set[str]:
    return {v["VpcId"] for v in snapshot.vpcs if not v.get("IsDefault")}


def test_organization_sync_writes_a_snapshot_per_account_and_region(proxy, aws, org, tmp_path):
    m0, m1, m2 = org["members"]
    proxy.deny_roles.add(f"arn:aws:iam::{m1}:role/{ROLE}")  # a role that cannot be assumed
    proxy.deny.add(f"DescribeNetworkInterfaces@{OTHER_REGION}")  # an SCP denying a region, everywhere

    done = sync_tree(aws, tmp_path, _plan(organization=True, role_name=ROLE))

    manifest = read_manifest(tmp_path)
    assert json.loads((tmp_path / "manifest.json").read_text()) == done.manifest
    assert sorted(a["account"] for a in done.manifest["accounts"]) == sorted([ACCOUNT, m0, m2])
    assert {(p.account, p.region) for p in manifest.places} == {(ACCOUNT, REGION), (m0, REGION), (m2, REGION)}
    not_evaluated = {(e["account"], e["region"]): e["reason"] for e in manifest.not_evaluated}
    assert set(not_evaluated) == {(m1, None), (ACCOUNT, OTHER_REGION), (m0, OTHER_REGION), (m2, OTHER_REGION)}
    assert "cannot be assumed" in not_evaluated[(m1, None)] and "AccessDenied" in not_evaluated[(m1, None)] or \
        "access denied" in not_evaluated[(m1, None)]
    assert "access denied" in not_evaluated[(m0, OTHER_REGION)]
    # each account's VPCs are in its own folder, read with its own credentials
    for (account, region), ids in org["vpcs"].items():
        if region == OTHER_REGION:
            continue
        snap = posture.load_snapshot(tmp_path / account / region)
        assert set(ids) <= _own_vpcs(snap)
        assert {v["OwnerId"] for v in snap.vpcs} == {account}
    access = {a["account"]: a["access"] for a in done.manifest["accounts"]}
    assert access[ACCOUNT] == "caller" and access[m0] == f"arn:aws:iam::{m0}:role/{ROLE}"
    # the member's role was assumed, the caller's own account was not
    assumed = [b.decode() for (_, op, _, _), b in zip(proxy.requests, proxy.bodies)
               if op == "AssumeRole" and "flowsql-inventory-sync" in b.decode()]
    assert any(m0 in b for b in assumed) and not any(ACCOUNT in b for b in assumed)


def test_accounts_and_regions_with_an_external_id(proxy, aws, org, tmp_path):
    m0 = org["members"][0]
    done = sync_tree(aws, tmp_path, _plan(accounts=f"{m0},{ACCOUNT}", role_name=ROLE, external_id="ext-123"))
    assert not done.not_evaluated
    places = {(p.account, p.region) for p in read_manifest(tmp_path).places}
    assert places == {(a, r) for a in (ACCOUNT, m0) for r in (REGION, OTHER_REGION)}
    snap = posture.load_snapshot(tmp_path / m0 / OTHER_REGION)
    assert set(org["vpcs"][(m0, OTHER_REGION)]) <= _own_vpcs(snap)
    assert not snap.flow_logs  # that VPC does not log
    bodies = [b.decode() for (_, op, _, _), b in zip(proxy.requests, proxy.bodies)
              if op == "AssumeRole" and "flowsql-inventory-sync" in b.decode()]
    assert bodies and all("ExternalId=ext-123" in b for b in bodies)
    # the same files as a single snapshot, a dated copy inside
    folder = tmp_path / m0 / REGION
    assert {"vpcs.json", "subnets.json", "network-interfaces.json", "flow-logs.json", "log-groups.json"} <= \
        {p.name for p in folder.iterdir()}
    assert [p for p in folder.iterdir() if p.is_dir() and p.name[:2] == "20"]


def test_all_regions_are_the_enabled_ones_and_opt_in_ones_are_skipped(proxy, aws, tmp_path):
    from flowsql.aws import partition_for_region

    listed = boto3.client("ec2", region_name=REGION).describe_regions(AllRegions=True)["Regions"]
    ours = [r for r in listed if partition_for_region(r["RegionName"]) == "aws"]  # moto adds aws-cn, aws-us-gov
    enabled = sorted(r["RegionName"] for r in ours if r["OptInStatus"] in ("opt-in-not-required", "opted-in"))
    skipped = sorted(r["RegionName"] for r in ours if r["OptInStatus"] == "not-opted-in")
    assert skipped and len(enabled) > 2, "moto lists opt-in regions as not opted in"
    # every enabled region is tried; all but two are denied at their first call (a full sync of each
    # would only make the test slow)
    denied = [r for r in enabled if r not in (REGION, OTHER_REGION)]
    proxy.deny.update(f"DescribeNetworkInterfaces@{r}" for r in denied)

    done = sync_tree(aws, tmp_path, _plan(regions="all"))

    assert [a["regions"] for a in done.manifest["accounts"]] == [sorted([REGION, OTHER_REGION])]
    assert sorted(e["region"] for e in done.not_evaluated) == denied
    assert [s["region"] for s in done.manifest["accounts"][0]["skipped_regions"]] == skipped
    assert all(s["opt_in_status"] == "not-opted-in" for s in done.skipped)
    assert done.manifest["regions"] == "all"
    assert sorted(p.name for p in (tmp_path / ACCOUNT).iterdir()) == sorted([REGION, OTHER_REGION])


def test_describe_regions_denied_leaves_the_account_not_evaluated(proxy, aws, tmp_path):
    proxy.deny.add("DescribeRegions")
    done = sync_tree(aws, tmp_path, _plan(regions="all"))
    assert [(e["account"], e["region"]) for e in done.not_evaluated] == [(ACCOUNT, None)]
    assert "DescribeRegions" in done.not_evaluated[0]["reason"]
    assert not read_manifest(tmp_path).places


@pytest.mark.parametrize("options, message", [
    ({"accounts": "111122223333"}, "--role-name"),
    ({"organization": True}, "--role-name"),
    ({"accounts": "12345", "role_name": ROLE}, "12-digit"),
    ({"regions": "us-east-1,mars-north-9"}, "mars-north-9"),
    ({"regions": ","}, "empty"),
    ({"role_name": ROLE}, "--accounts"),
    ({"accounts": "111122223333", "organization": True, "role_name": ROLE}, "one of them"),
    ({"external_id": "abc"}, "--role-name"),
    ({"accounts": "111122223333", "role_name": "bad role!"}, "role name"),
])
def test_bad_options_are_refused_before_any_call(options, message):
    with pytest.raises(UsageError, match=message):
        _plan(**options)


@pytest.mark.parametrize("args", [
    ["--accounts", "111122223333"],
    ["--organization"],
    ["--accounts", "1234", "--role-name", ROLE],
    ["--regions", "us-east-1,nowhere-1"],
])
def test_cli_validation_exits_2_before_any_aws_call(proxy, tmp_path, args):
    proxy.clear()
    r = subprocess.run([sys.executable, "-m", "flowsql", "inventory", "sync", "--out", str(tmp_path / "inv"), *args],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert proxy.operations() == [] and not (tmp_path / "inv").exists()


def test_cli_tree_sync_exits_1_when_something_is_not_evaluated(proxy, org, tmp_path):
    proxy.deny.add(f"DescribeVpcs@{OTHER_REGION}")
    r = subprocess.run([sys.executable, "-m", "flowsql", "inventory", "sync", "--out", str(tmp_path),
                        "--regions", f"{REGION},{OTHER_REGION}"], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert f"NOT EVALUATED: {ACCOUNT} {OTHER_REGION}" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / ACCOUNT / REGION / "vpcs.json").is_file()
    assert [(e["account"], e["region"]) for e in read_manifest(tmp_path).not_evaluated] == [(ACCOUNT, OTHER_REGION)]


def test_cli_without_the_options_writes_one_snapshot_as_before(org, tmp_path):
    r = subprocess.run([sys.executable, "-m", "flowsql", "inventory", "sync", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "flow-logs.json").is_file() and not (tmp_path / "manifest.json").exists()
    assert not (tmp_path / ACCOUNT).exists()


def test_iam_policies_allow_every_call_of_an_organization_sync(proxy, aws, org, tmp_path):
    from test_cli_aws import _allowed, _needs

    from flowsql.account.provision import iam_policy, inventory_role_policy, inventory_trust_policy

    proxy.clear()
    done = sync_tree(aws, tmp_path, _plan(organization=True, role_name=ROLE))
    assert not done.not_evaluated
    calls = {_needs(*x) for x in proxy.requests if x[1] != "GetCallerIdentity"}
    caller = {c for c in calls if c[0] in ("organizations:ListAccounts", "sts:AssumeRole")}
    assert {a for a, _ in caller} == {"organizations:ListAccounts", "sts:AssumeRole"}
    policy = {**iam_policy(role_name=ROLE)}
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"].startswith("FlowsqlInventory")]
    role = inventory_role_policy()
    denied = sorted(a for a, res in calls - caller if not _allowed(role, a, res))
    assert not denied
    assert not sorted(a for a, res in calls - caller if not _allowed(policy, a, res))
    assert _allowed(policy, "sts:AssumeRole", None)
    arns = [s["Resource"] for s in policy["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert arns == [[f"arn:aws:iam::*:role/{ROLE}"]]
    assert not _allowed(role, "sts:AssumeRole", None) and not _allowed(role, "organizations:ListAccounts", None)
    trust = inventory_trust_policy(ACCOUNT, "ext-1")["Statement"][0]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-1"}}


def test_iam_policy_cli_prints_the_role_and_its_trust():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "flowsql", "iam-policy", *args], capture_output=True, text=True)

    r = run("--for", "inventory-trust", "--trusted-account", ACCOUNT, "--external-id", "ops-1")
    assert r.returncode == 0 and json.loads(r.stdout)["Statement"][0]["Condition"]["StringEquals"] == {
        "sts:ExternalId": "ops-1"}
    assert run("--for", "inventory-trust").returncode == 2
    assert run("--for", "inventory-trust", "--trusted-account", "12").returncode == 2
    assert run("--for", "inventory", "--trusted-account", ACCOUNT).returncode == 2
    role = json.loads(run("--for", "inventory-role").stdout)
    assert "ec2:DescribeRegions" in role["Statement"][0]["Action"]
    inv = json.loads(run("--for", "inventory", "--role-name", "Audit").stdout)
    assert any(s["Resource"] == ["arn:aws:iam::*:role/Audit"] for s in inv["Statement"])


# -- posture and report over the tree the sync wrote ------------------------------------------------

def _flowsql(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "flowsql", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def synced_tree(proxy, aws, org, tmp_path):
    """The organization synced in two regions, one member's role refused: (folder, manifest, members)."""
    m0, m1, _ = org["members"]
    proxy.deny_roles.add(f"arn:aws:iam::{m1}:role/{ROLE}")
    sync_tree(aws, tmp_path / "inv", _plan(organization=True, role_name=ROLE))
    return tmp_path / "inv", read_manifest(tmp_path / "inv"), org


def test_posture_over_the_tree_has_every_account_and_region(synced_tree):
    folder, manifest, org = synced_tree
    m0, m1, m2 = org["members"]
    r = _flowsql("posture", "--inventory", str(folder), "-o", "json")
    assert r.returncode == 1, r.stderr  # something is not evaluated (and VPCs that do not log alarm)
    rows = json.loads(r.stdout)
    assert all(row["account"] and row["region"] for row in rows if row["check"] != "inventory_sync")
    places = {(p.account, p.region) for p in manifest.places}
    assert {(row["account"], row["region"]) for row in rows if row["vpc"]} == places
    unread = [row for row in rows if row["status"] == "not evaluated"]
    assert [(u["account"], u["region"]) for u in unread] == [(m1, None)]
    assert "cannot be assumed" in unread[0]["reason"]
    # the VPC that does not log, in its own account and region, alarms
    unlogged = org["vpcs"][(m0, OTHER_REGION)][0]
    logging = [row for row in rows if row["check"] == "vpc_flow_logs_enabled" and row["vpc"] == unlogged]
    assert [(x["status"], x["account"], x["region"]) for x in logging] == [("alarm", m0, OTHER_REGION)]
    # the design sheet covers every VPC of every snapshot
    sheet = json.loads(_flowsql("posture", "--inventory", str(folder), "--design", "-o", "json").stdout)
    every = {(v["VpcId"], p.account, p.region) for p in manifest.places
             for v in posture.load_snapshot(p.directory).vpcs}
    assert {(d["vpc"], d["account"], d["region"]) for d in sheet} == every


def _local_logs(root, account: str, region: str, day) -> None:
    """One day's flow-log file of one account and region, as S3 delivers it (read by the local engine)."""
    import gzip
    from datetime import datetime

    from flowsql.logs.layout import day_prefix, file_name

    path = root / day_prefix(account, region, day) / file_name(account, region, "fl-0123456789abcdef0",
                                                                datetime(day.year, day.month, day.day, 0, 5), "abcd1234")
    path.parent.mkdir(parents=True, exist_ok=True)
    start = int(datetime(day.year, day.month, day.day, 1).timestamp())
    lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
             "log-status"] + [f"2 {account} eni-0a1b2c3d4e5f60718 10.1.1.5 10.1.1.{i} 443 5000{i} 6 3 300 {start} "
                              f"{start + 60} ACCEPT OK" for i in range(1, 4)]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_report_over_the_tree_names_accounts_and_regions_without_records(synced_tree, tmp_path):
    from datetime import date

    folder, manifest, org = synced_tree
    logs = tmp_path / "logs"
    _local_logs(logs, ACCOUNT, REGION, date(2026, 10, 5))  # only the management account's us-east-1 logs
    out = tmp_path / "report"
    r = _flowsql("report", "--month", "2026-10", "--engine", "local", "--source", str(logs), "--inventory", str(folder),
                 "--out", str(out))
    assert r.returncode == 1, r.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["sections"][0] == "accounts"
    rows = {(x["account"], x["region"]): x for x in report["accounts"]["rows"]}
    places = {(p.account, p.region) for p in manifest.places}
    m1 = org["members"][1]
    assert set(rows) == places | {(m1, None)}
    assert rows[(ACCOUNT, REGION)]["records"] == 3 and rows[(ACCOUNT, REGION)]["finding"] is None
    # every other snapshot has VPCs that must log (moto's default VPCs among them) and no record
    silent = {p for p in places if p != (ACCOUNT, REGION)}
    assert {k for k, x in rows.items() if x["finding"]} == silent
    assert report["summary"]["accounts_without_records"] == len(silent)
    for k, x in rows.items():
        if k in places:
            snap = posture.load_snapshot(folder / k[0] / k[1])
            assert x["vpcs"] == len(snap.vpcs)
    assert rows[(m1, None)]["not_evaluated"] and rows[(m1, None)]["vpcs"] is None
    assert report["posture"]["counts"]["not evaluated"] == 1 and report["summary"]["posture_not_evaluated"] == 1
    assert any(i["section"] == "posture" and i["name"] == m1 for i in report["not_evaluated"])
    assert {f["path"] for f in report["posture"]["snapshot"]["files"]} >= {
        "manifest.json", f"{ACCOUNT}/{REGION}/flow-logs.json"}
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert "## Accounts and regions" in md and md.index("## Accounts and regions") < md.index("## Coverage")
    assert "Accounts and regions" in html and m1 in html and m1 in md
