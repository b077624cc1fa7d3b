"""The generator writes what it says it wrote, deterministically, with every quirk readers must handle."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from flowsql import inventory
from flowsql.demo.generate import CUSTOM_LOG_FORMAT, Scenario, demo_scenario, generate
from flowsql.logs.fields import DEFAULT_LOG_FORMAT, FIELDS, parse_log_format
from flowsql.logs.layout import parse_key

try:  # tests/ as a package or as a plain folder on sys.path (pytest's default import mode)
    from . import oracle
except ImportError:
    import oracle

START = date(2025, 3, 1)
ACCOUNTS = ("123456789012", "210987654321")


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("gen"), Scenario(start=START, days=4, accounts=ACCOUNTS))


@pytest.fixture(scope="module")
def formats():
    return {region: parse_log_format(text) for region, text in Scenario(start=START).regions.items()}


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _portable(records, root):
    return [{**r, "file": r["file"].relative_to(root).as_posix()} for r in records]


def _read_lines(path):
    with gzip.open(path, "rt", encoding="ascii", newline="") as f:
        text = f.read()
    assert text.endswith("\n")
    return text[:-1].split("\n")


# ------------------------------------------------------------------------------------------ determinism

def test_same_seed_same_bytes_and_records(tmp_path):
    s = Scenario(start=START, days=2, flows_per_day=150)
    a, b = generate(tmp_path / "a", s), generate(tmp_path / "b", s)
    assert _tree(a.root) == _tree(b.root)
    assert _portable(a.records, a.root) == _portable(b.records, b.root)


def test_other_seed_other_data(tmp_path):
    a = generate(tmp_path / "a", Scenario(start=START, days=2, flows_per_day=150, seed=1))
    b = generate(tmp_path / "b", Scenario(start=START, days=2, flows_per_day=150, seed=2))
    assert _tree(a.root) != _tree(b.root)
    assert _portable(a.records, a.root) != _portable(b.records, b.root)


def test_keep_records_false_writes_the_same_files(tmp_path):
    s = Scenario(start=START, days=2, flows_per_day=150)
    a = generate(tmp_path / "a", s)
    b = generate(tmp_path / "b", s, keep_records=False)
    assert b.records == []
    assert _tree(a.root) == _tree(b.root)


# ------------------------------------------------------------------------------------- files parse back

def test_files_parse_back_to_the_records(gen, formats):
    by_file = defaultdict(list)
    for r in gen.records:
        by_file[r["file"]].append(r)
    assert set(by_file) <= set(gen.files)
    assert len(set(gen.files)) == len(gen.files)
    for path in gen.files:
        part, name = parse_key(path.relative_to(gen.root).as_posix())
        fmt = formats[part.region]
        lines = _read_lines(path)
        assert lines[0] == fmt.header(), path
        expected = by_file.get(path, [])
        assert len(lines) - 1 == len(expected), path
        for line, rec in zip(lines[1:], expected):
            values = line.split(" ")
            assert len(values) == len(fmt.names)
            parsed = {}
            for f, v in zip(fmt.fields, values):
                parsed[f.column] = None if v == "-" else int(v) if f.kind in ("int", "bigint") else v
            for f in FIELDS:
                assert rec[f.column] == parsed.get(f.column), (path, f.column, line)
            assert (rec["aws_account_id"], rec["aws_region"], rec["day"]) == (part.account, part.region, part.day)


def test_record_shape(gen):
    keys = [f.column for f in FIELDS] + ["aws_account_id", "aws_region", "day", "file"]
    for r in gen.records:
        assert list(r) == keys
        for f in FIELDS:
            v = r[f.column]
            assert v is None or isinstance(v, int if f.kind in ("int", "bigint") else str), (f.column, v)


def test_paths_follow_the_layout(gen):
    name_re = re.compile(r"^(\d{12})_vpcflowlogs_([a-z0-9-]+)_fl-[0-9a-f]{17}_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$")
    for path in gen.files:
        rel = path.relative_to(gen.root).as_posix()
        assert rel.startswith("AWSLogs/")
        part, name = parse_key(rel)
        m = name_re.match(name)
        assert m and m[1] == part.account and m[2] == part.region, name
        delivered = datetime.strptime(m[3], "%Y%m%dT%H%MZ").date()
        assert delivered == part.day  # the folder is the delivery day


@pytest.mark.parametrize("hive,per_hour", [(True, False), (False, True), (True, True)])
def test_hive_and_hourly_layouts(tmp_path, hive, per_hour):
    g = generate(tmp_path, Scenario(start=START, days=2, flows_per_day=50, hive=hive, per_hour=per_hour))
    for path in g.files:
        rel = path.relative_to(g.root).as_posix()
        assert ("aws-account-id=" in rel) == hive
        part, _ = parse_key(rel)
        assert (part.hour is not None) == per_hour
    for r in g.records:
        part, _ = parse_key(r["file"].relative_to(g.root).as_posix())
        assert part.day == r["day"]


# ------------------------------------------------------------------------------------------------ quirks

def test_versions_follow_the_format(gen, formats):
    versions = {(r["aws_region"], r["version"]) for r in gen.records}
    assert versions == {("us-east-1", 2), ("eu-west-1", formats["eu-west-1"].version)}
    assert formats["eu-west-1"].version == 5


def test_custom_format_is_not_in_default_order(formats):
    names = formats["eu-west-1"].names
    assert names.index("bytes") < names.index("packets")
    for field in ("subnet-id", "vpc-id", "flow-direction", "pkt-srcaddr", "pkt-dstaddr", "traffic-path"):
        assert field in names
    assert formats["us-east-1"].is_default
    assert Scenario(start=START).regions == {"us-east-1": DEFAULT_LOG_FORMAT, "eu-west-1": CUSTOM_LOG_FORMAT}


def test_nodata_and_skipdata_have_dashes(gen, formats):
    counts = Counter(r["log_status"] for r in gen.records)
    assert counts["NODATA"] > 0 and counts["SKIPDATA"] > 0
    empty = ("srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "action")
    for r in gen.records:
        if r["log_status"] != "OK":
            assert all(r[c] is None for c in empty)
            assert r["start"] is not None and r["end"] is not None and r["interface_id"]
    lines = [line for p in gen.files for line in _read_lines(p)[1:] if line.endswith("NODATA")]
    assert lines and all(" - - - - - - - " in line for line in lines if line.startswith("2 "))


def test_ipv6_big_bytes_and_protocols(gen):
    ok = [r for r in gen.records if r["log_status"] == "OK"]
    assert sum(":" in r["srcaddr"] for r in ok) > 0
    assert sum(r["type"] == "IPv6" for r in ok) > 0
    assert sum(r["bytes"] > 4_294_967_296 for r in ok) > 0
    assert {1, 6, 17, 58} <= {r["protocol"] for r in ok}


def test_several_accounts_regions_and_files_a_day(gen):
    assert {r["aws_account_id"] for r in gen.records} == set(ACCOUNTS)
    assert {r["aws_region"] for r in gen.records} == {"us-east-1", "eu-west-1"}
    per_partition = Counter(parse_key(p.relative_to(gen.root).as_posix())[0] for p in gen.files)
    assert len(per_partition) == len(ACCOUNTS) * 2 * 4
    assert min(per_partition.values()) >= 3


def test_header_only_files(gen):
    with_records = {r["file"] for r in gen.records}
    header_only = [p for p in gen.files if p not in with_records]
    assert header_only
    for p in header_only:
        assert len(_read_lines(p)) == 1


def test_records_before_midnight_sit_in_the_next_day(gen):
    early = [r for r in gen.records if datetime.fromtimestamp(r["start"], timezone.utc).date() < r["day"]]
    assert early
    # Every partition has some, and none is more than a day early.
    assert {(r["aws_account_id"], r["aws_region"], r["day"]) for r in early} == \
        {(r["aws_account_id"], r["aws_region"], r["day"]) for r in gen.records}
    assert all(datetime.fromtimestamp(r["start"], timezone.utc).date() == r["day"] - timedelta(days=1)
               for r in early)
    # No record is in a folder earlier than its start.
    assert all(datetime.fromtimestamp(r["start"], timezone.utc).date() <= r["day"] for r in gen.records)


def test_unknown_accounts_and_enis_missing_from_inventory(gen):
    inv = inventory.load_inventory(gen.inventory_dir)
    known = {e["interface_id"] for e in inv.enis}
    assert sum(r["account_id"] == "unknown" for r in gen.records) > 0
    missing = [r for r in gen.records if r["interface_id"] not in known]
    assert missing
    assert any(r["action"] == "REJECT" and r["aws_region"] == "us-east-1" for r in missing)


def test_dashes_in_fields_that_do_not_apply(gen):
    eu = [r for r in gen.records if r["aws_region"] == "eu-west-1" and r["log_status"] == "OK"]
    assert sum(r["subnet_id"] is None for r in eu) > 0
    assert sum(r["instance_id"] is None for r in eu) > 0 and sum(r["instance_id"] is not None for r in eu) > 0
    assert sum(r["pkt_src_aws_service"] is None for r in eu) > 0
    assert sum(r["pkt_dst_aws_service"] is not None for r in eu) > 0
    ingress = [r for r in eu if r["flow_direction"] == "ingress"]
    egress = [r for r in eu if r["flow_direction"] == "egress"]
    assert ingress and all(r["traffic_path"] is None for r in ingress)
    assert egress and all(r["traffic_path"] is not None for r in egress)
    assert all(r["sublocation_type"] is None for r in eu)
    # pkt-* differ from srcaddr/dstaddr on the NAT gateway's ENI.
    assert any(r["pkt_dstaddr"] != r["dstaddr"] for r in eu)
    us = [r for r in gen.records if r["aws_region"] == "us-east-1"]
    assert all(r["subnet_id"] is None and r["flow_direction"] is None for r in us)


def test_stateless_nacl_accepts_one_way_and_rejects_the_reply(gen):
    accepted = {(r["interface_id"], r["srcaddr"], r["srcport"], r["dstaddr"], r["dstport"])
                for r in gen.records if r["action"] == "ACCEPT"}
    one_way = [r for r in gen.records
               if r["action"] == "REJECT"
               and (r["interface_id"], r["dstaddr"], r["dstport"], r["srcaddr"], r["srcport"]) in accepted]
    assert one_way


# --------------------------------------------------------------------------------------------- inventory

def test_inventory_shapes_and_lambda_enis(gen):
    for name, key in inventory.FILES.items():
        data = json.loads((gen.inventory_dir / name).read_text())
        assert list(data) == [key] and data[key]
    docs = json.loads((gen.inventory_dir / "network-interfaces.json").read_text())["NetworkInterfaces"]
    for eni in docs:
        for key in ("NetworkInterfaceId", "SubnetId", "VpcId", "OwnerId", "InterfaceType", "Description",
                    "PrivateIpAddress", "PrivateIpAddresses", "Ipv6Addresses", "AvailabilityZone", "Status",
                    "RequesterManaged"):
            assert key in eni
    typed = [e for e in docs if e["InterfaceType"] == "lambda"]
    described = [e for e in docs if e["InterfaceType"] == "interface"
                 and e["Description"].startswith("AWS Lambda VPC ENI-myfunc-")]
    assert typed and described
    assert any(not e["Description"] for e in typed)  # only the type says Lambda
    assert any(e["InterfaceType"] == "nat_gateway" for e in docs)
    assert any(e["Description"] == "RDSNetworkInterface" for e in docs)
    assert any(e["Description"].startswith("ELB app/") and e["RequesterManaged"] for e in docs)

    inv = inventory.load_inventory(gen.inventory_dir)
    assert sum(e["is_lambda"] for e in inv.enis) == len(typed) + len(described)
    # the VPCs with traffic (the posture snapshot adds VPCs without any: generate_posture.py)
    traffic = {e["VpcId"] for e in docs}
    # two IPv4 CIDR associations and an IPv6 one per VPC
    assert len([c for c in inv.vpc_cidrs if c["vpc_id"] in traffic]) == 3 * len(ACCOUNTS) * 2
    vpcs = json.loads((gen.inventory_dir / "vpcs.json").read_text())["Vpcs"]
    assert all(len(v["CidrBlockAssociationSet"]) == 2 and v["Ipv6CidrBlockAssociationSet"] for v in vpcs)
    subnets = json.loads((gen.inventory_dir / "subnets.json").read_text())["Subnets"]
    assert {s["VpcId"] for s in subnets} == {v["VpcId"] for v in vpcs}


# ------------------------------------------------------------------------ the data makes queries interesting

def test_canned_queries_have_something_to_find(gen):
    window = {"since": START, "until": START + timedelta(days=3)}
    top = oracle.top_destinations(gen.records, **window)
    assert len(top) == 10 and top[0]["bytes"] >= top[-1]["bytes"]
    assert oracle.top_destinations(gen.records, **window, action="REJECT")

    rejects = oracle.rejects_by_subnet(gen.records, gen.inventory_dir, **window)
    assert any(row["subnet_id"] is None for row in rejects)
    assert len([row for row in rejects if row["subnet_id"]]) >= 4

    egress = oracle.lambda_egress(gen.records, gen.inventory_dir, **window, limit=1000)
    assert {row["destination"] for row in egress} == {"vpc", "private", "internet"}
    assert any(":" in row["dstaddr"] for row in egress)
    assert any(row["dstaddr"].startswith("203.0.113.") and row["destination"] == "internet" for row in egress)
    assert any(row["dstaddr"].startswith("100.") and row["destination"] == "vpc" for row in egress)
    assert any(row["dstaddr"].startswith("100.") and row["destination"] == "private" for row in egress)
    # Replies arriving on Lambda ENIs exist (dstaddr = the function's IP), and are not egress.
    inv = inventory.load_inventory(gen.inventory_dir)
    lambda_enis = {e["interface_id"] for e in inv.enis if e["is_lambda"]}
    lambda_ips = {row["private_ip"] for row in inv.eni_ips if row["interface_id"] in lambda_enis}
    replies = [r for r in gen.records if r["interface_id"] in lambda_enis and r["action"] == "ACCEPT"
               and r["dstaddr"] in lambda_ips and r["srcaddr"] not in lambda_ips]
    assert replies
    assert not {row["dstaddr"] for row in egress} & lambda_ips
    # A secondary private IP and an IPv6 address of Lambda ENIs both send traffic.
    sources = {r["srcaddr"] for r in gen.records if r["interface_id"] in lambda_enis and r["srcaddr"]}
    secondary = {a["PrivateIpAddress"] for e in json.loads((gen.inventory_dir / "network-interfaces.json")
                                                           .read_text())["NetworkInterfaces"]
                 if e["NetworkInterfaceId"] in lambda_enis
                 for a in e["PrivateIpAddresses"] if not a["Primary"]}
    assert secondary and secondary & sources
    assert any(":" in ip for ip in sources & lambda_ips)


def test_demo_scenario_ends_yesterday():
    s = demo_scenario(date(2025, 3, 31))
    assert s.start + timedelta(days=s.days - 1) == date(2025, 3, 30)
    assert s.days == 30


def test_scenario_validation(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, Scenario(start=START, accounts=("1234",)))
    with pytest.raises(ValueError):
        generate(tmp_path, Scenario(start=START, days=0))


def test_many_files_a_day_deliveries_inside_the_logging_gap_hold_no_record(tmp_path):
    """With 36 deliveries a day, some fall wholly inside the first topology's logging gap (its fourth
    day, 10:00-13:00 UTC): they hold no record, instead of the generator looking for one for ever
    (run in a child process, so that a hang is a failure)."""
    import subprocess
    import sys

    code = ("import sys; from datetime import date; from pathlib import Path\n"
            "from flowsql.demo.generate import Scenario, generate\n"
            "g = generate(Path(sys.argv[1]), Scenario(start=date(2026, 1, 1), days=4, accounts=('111111111111',), "
            "flows_per_day=2000, files_per_day=36, seed=2))\n"
            "gap = [r for r in g.records if r['aws_region'] == 'us-east-1' and r['start'] is not None\n"
            "       and 1767520800 + 60 <= r['start'] < 1767520800 + 3 * 3600 - 60]\n"
            "print(len(g.files), len(gap))\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "g")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    files, in_gap = map(int, r.stdout.split())
    assert files >= 4 * 36 * 2 and in_gap == 0
