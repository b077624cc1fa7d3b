"""A query that cannot answer from what it was given says so: missing fields, missing inventory."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.pack.params import Window
from trees import DAY, record, write_log

runner = CliRunner()
# AWS's own v3 example format: no log-status, bytes or packets
V3_EXAMPLE = ("version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr pkt-srcaddr "
              "pkt-dstaddr action")
V3_LINE = "3 eni-1 111111111111 vpc-1 subnet-1 i-1 10.0.0.1 9.9.9.9 10.0.0.1 9.9.9.9 ACCEPT"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def query(name, source, *more):
    return invoke("query", name, "--engine", "local", "--source", source, "--since", DAY, "--until", DAY, *more)


def error_line(r):
    lines = [line for line in r.stderr.splitlines() if line.startswith("flowsql: error:")]
    assert len(lines) == 1, r.stderr
    return lines[0]


# --- fields -----------------------------------------------------------------------------------------

def test_a_format_without_the_fields_is_refused_naming_them(tmp_path):
    write_log(tmp_path, "a.log.gz", [V3_LINE], header=V3_EXAMPLE)
    r = query("top-destinations", tmp_path, "-o", "json")
    assert r.exit_code == 2 and r.stdout == ""
    line = error_line(r)
    assert "no file in the window can answer top-destinations" in line
    assert "log-status" in line and "packets" in line and "bytes" in line and "a.log.gz" in line


def test_without_action_rejects_by_subnet_is_refused(tmp_path):
    write_log(tmp_path, "a.log.gz", ["2 eni-1 10.0.0.1 5 OK"], header="version interface-id srcaddr bytes log-status")
    r = query("rejects-by-subnet", tmp_path)
    assert r.exit_code == 2 and "action" in error_line(r)


def test_a_mixed_tree_runs_on_the_files_that_can_answer_and_names_the_others(tmp_path):
    write_log(tmp_path, "full.log.gz", [record(dst="1.1.1.1", nbytes="70")])
    lacking = write_log(tmp_path, "lacking.log.gz", [V3_LINE], header=V3_EXAMPLE, region="eu-west-1")
    r = query("top-destinations", tmp_path, "-o", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [{"dstaddr": "1.1.1.1", "flows": 1, "packets": 10, "bytes": 70}]
    assert "LEFT OUT 1 file(s)" in r.stderr
    assert f"{lacking}: its log format lacks log-status, packets, bytes" in r.stderr


def test_a_mixed_generated_tree_equals_the_oracle_over_the_files_that_can_answer(tmp_path):
    """Two regions, one in a format without bytes: the answer is the other region's, said so on stderr."""
    regions = {"us-east-1": None, "eu-west-1": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} "
               "${srcport} ${dstport} ${protocol} ${packets} ${start} ${end} ${action} ${log-status}"}
    from flowsql.logs.fields import DEFAULT_LOG_FORMAT

    regions["us-east-1"] = DEFAULT_LOG_FORMAT
    g = generate(tmp_path, Scenario(start=date(2026, 5, 1), days=2, regions=regions, flows_per_day=120, seed=5))
    r = invoke("query", "top-destinations", "--source", tmp_path, "--since", "2026-05-01", "--until", "2026-05-02",
               "-o", "json", "-p", "limit=1000")
    assert r.exit_code == 0, r.output
    want = oracle.top_destinations(g.records, since=date(2026, 5, 1), until=date(2026, 5, 2), regions=["us-east-1"],
                                   limit=1000)
    assert json.loads(r.stdout) == want and want
    left = [f for f in g.files if "eu-west-1" in str(f)]
    assert f"LEFT OUT {len(left)} file(s)" in r.stderr and "lacks bytes" in r.stderr


# --- inventory --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("needs"), Scenario(start=date(2026, 4, 1), days=2, flows_per_day=100,
                                                               seed=9))


def q2(name, tree, *more):
    return invoke("query", name, "--source", tree.root, "--since", "2026-04-01", "--until", "2026-04-02", *more)


def test_lambda_egress_without_an_inventory_says_what_it_needs_and_how(tree):
    r = q2("lambda-egress", tree)
    assert r.exit_code == 2 and r.stdout == ""
    line = error_line(r)
    assert "network-interfaces.json" in line and "vpcs.json" in line and "--inventory" in line
    assert "flowsql inventory sync" in line and "aws ec2 describe-network-interfaces" in line


@pytest.mark.parametrize("missing", ["network-interfaces.json", "vpcs.json"])
def test_a_missing_inventory_file_is_named(tree, tmp_path, missing):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    for p in inv.rglob(missing):  # the latest and the dated snapshots
        p.unlink()
    r = q2("lambda-egress", tree, "--inventory", inv)
    assert r.exit_code == 2
    line = error_line(r)
    assert str(inv / missing) in line and "missing" in line and "aws ec2 describe-" in line


def _dated(inv):
    [dated] = [p for p in inv.iterdir() if p.is_dir() and p.name[:2] == "20"]
    return dated


@pytest.mark.parametrize("missing", ["network-interfaces.json", "vpcs.json"])
def test_a_file_missing_from_the_latest_inventory_is_named_though_a_dated_snapshot_has_it(tree, tmp_path, missing):
    """The latest inventory without vpcs.json, a dated snapshot with it: the union of the folders
    looked complete, and VPCs only the latest knows were classified `private`, exit 0."""
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    (inv / missing).unlink()
    assert (_dated(inv) / missing).is_file()
    r = q2("lambda-egress", tree, "--inventory", inv, "-o", "json")
    assert r.exit_code == 2 and r.stdout == ""
    line = error_line(r)
    assert f"{inv / missing}, which is missing" in line and "aws ec2 describe-" in line


@pytest.mark.parametrize("missing", ["network-interfaces.json", "vpcs.json"])
def test_a_file_missing_from_a_dated_snapshot_the_window_uses_is_named(tree, tmp_path, missing):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    dated = _dated(inv)
    (dated / missing).unlink()
    r = q2("lambda-egress", tree, "--inventory", inv, "-o", "json")
    assert r.exit_code == 2 and r.stdout == ""
    line = error_line(r)
    assert f"{dated / missing}, which is missing" in line and "dated snapshot" in line


def test_a_dated_snapshot_the_window_does_not_use_needs_nothing(tree, tmp_path):
    """A snapshot dated after the window is not read, so what it lacks does not matter: the answer
    is the one of the full inventory (and the oracle's)."""
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    later = inv / "2026-05-20"
    later.mkdir()
    shutil.copy(inv / "subnets.json", later / "subnets.json")
    r = q2("lambda-egress", tree, "--inventory", inv, "-o", "json", "-p", "limit=10000")
    assert r.exit_code == 0, r.output
    want = oracle.lambda_egress(tree.records, tree.inventory_dir, since=date(2026, 4, 1), until=date(2026, 4, 2),
                                limit=10000)
    assert json.loads(r.stdout) == want and want


def test_an_optional_file_missing_from_a_dated_snapshot_is_a_note_naming_it(tree, tmp_path):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    dated = _dated(inv)
    (dated / "network-interfaces.json").unlink()
    r = q2("top-subnets", tree, "--inventory", inv, "-o", "json")
    assert r.exit_code == 0, r.output
    assert f"no network-interfaces.json in {dated}" in r.stderr


def test_an_inventory_file_that_is_a_link_to_nothing_is_named_not_taken_as_absent(tree, tmp_path):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    (inv / "subnets.json").unlink()
    (inv / "subnets.json").symlink_to(tmp_path / "gone.json")
    r = q2("top-subnets", tree, "--inventory", inv, "-o", "json")
    assert r.exit_code == 2 and str(inv / "subnets.json") in error_line(r)


@pytest.mark.parametrize("name,key", [("network-interfaces.json", "NetworkInterfaces"), ("vpcs.json", "Vpcs"),
                                      ("subnets.json", "Subnets")])
def test_an_inventory_file_under_the_wrong_key_is_named_with_the_key_expected(tree, tmp_path, name, key):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    (inv / name).write_text(json.dumps({"Items": []}))
    r = q2("lambda-egress", tree, "--inventory", inv)
    assert r.exit_code == 2
    line = error_line(r)
    assert str(inv / name) in line and repr(key) in line


@pytest.mark.parametrize("name,key,item_key", [("network-interfaces.json", "NetworkInterfaces", "NetworkInterfaceId"),
                                               ("vpcs.json", "Vpcs", "VpcId"),
                                               ("subnets.json", "Subnets", "SubnetId")])
def test_inventory_items_without_their_keys_are_named(tree, tmp_path, name, key, item_key):
    """Items whose keys are not the AWS CLI's (here lower-cased) would drop out of the joins: an ENI
    unattributed, a VPC's blocks unknown. The file, the item and the key are named, exit 2."""
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    doc = json.loads((inv / name).read_text())
    (inv / name).write_text(json.dumps({key: [{k.lower(): v for k, v in item.items()} for item in doc[key]]}))
    r = q2("lambda-egress", tree, "--inventory", inv)
    assert r.exit_code == 2
    line = error_line(r)
    assert str(inv / name) in line and "item 0" in line and repr(item_key) in line


@pytest.mark.parametrize("name,key,change,needle", [
    ("network-interfaces.json", "NetworkInterfaces", lambda i: i.pop("SubnetId"), "'SubnetId'"),
    ("subnets.json", "Subnets", lambda i: i.update(CidrBlock="10.0.0.0/99"), "not an IP block"),
    ("vpcs.json", "Vpcs", lambda i: i["CidrBlockAssociationSet"][0].update(CidrBlock="zzz"), "not an IP block"),
    ("network-interfaces.json", "NetworkInterfaces", lambda i: i.update(PrivateIpAddress=5), "not an IP address"),
])
def test_inventory_items_with_missing_keys_or_bad_addresses_are_named(tree, tmp_path, name, key, change, needle):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    doc = json.loads((inv / name).read_text())
    change(doc[key][0])
    (inv / name).write_text(json.dumps(doc))
    r = q2("lambda-egress", tree, "--inventory", inv)
    assert r.exit_code == 2
    line = error_line(r)
    assert str(inv / name) in line and "item 0" in line and needle in line


def test_an_inventory_document_nested_too_deep_is_named(tree, tmp_path):
    inv = tmp_path / "inv"
    shutil.copytree(tree.inventory_dir, inv)
    (inv / "vpcs.json").write_text("[" * 100_000)
    r = q2("lambda-egress", tree, "--inventory", inv)
    assert r.exit_code == 2 and str(inv / "vpcs.json") in error_line(r) and "internal error" not in r.output


def test_rejects_by_subnet_without_an_inventory_runs_and_says_where_subnets_come_from(tree):
    r = q2("rejects-by-subnet", tree, "-o", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == oracle.rejects_by_subnet(tree.records, tree.root / "no-inventory",
                                                             since=date(2026, 4, 1), until=date(2026, 4, 2))
    assert "subnets come only from the records' subnet-id field" in r.stderr


def test_inventory_pointing_at_a_file(tree):
    r = q2("lambda-egress", tree, "--inventory", tree.inventory_dir / "vpcs.json")
    assert r.exit_code == 2 and "is a file, not a folder" in error_line(r)


# --- the header -------------------------------------------------------------------------------------

def test_every_query_declares_what_it_needs():
    import sqlglot
    from sqlglot import exp

    from flowsql.engines.base import Target
    from flowsql.logs.fields import BY_COLUMN
    from flowsql.pack.queries import load_pack
    from flowsql.pack.render import render

    for q in load_pack():
        if not q.needs.fields:
            # only a query that reads no field of the records (it counts them per partition, as
            # log-coverage does) may declare none: any file can answer it
            sql = render(q, dict(q.example), Target("athena"), Window(date(2026, 3, 1), date(2026, 3, 2))).sql
            read = {c.name for c in sqlglot.parse_one(sql, read="trino").find_all(exp.Column)} & set(BY_COLUMN)
            assert not read, f"{q.name} declares no fields but reads {sorted(read)}"
        if "logging-health" not in q.tags:  # docs/queries.md: only these count records of every status
            assert "log-status" in q.needs.fields, q.name


def test_a_header_naming_an_unknown_field_is_refused(tmp_path):
    from flowsql.pack.queries import HeaderError, parse_query

    p = tmp_path / "q.sql"
    p.write_text("{#-\ntitle: T\ndescription: D\nseverity: info\nneeds:\n  fields: [bytez]\n-#}\nSELECT 1\n")
    with pytest.raises(HeaderError, match="bytez"):
        parse_query(p)
