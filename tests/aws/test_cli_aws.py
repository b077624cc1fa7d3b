"""Issue 3's acceptance, through the command line, against the moto server (behind the proxy that
keeps the flow log's key prefix, which moto drops)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from awsfixtures import ACCOUNT, CUSTOM_FORMAT, REGION, log_key, make_flow_log, put_text_log
from test_athena_engine import queue_result
from typer.testing import CliRunner

from flowsql import config
from flowsql.cli import app
from flowsql.fields import parse_log_format

DAY = date(2024, 3, 5)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def custom_flow_log(proxy, boto):
    fl = make_flow_log(boto, "flow-logs-b", prefix="p", log_format=CUSTOM_FORMAT)
    fmt = parse_log_format(CUSTOM_FORMAT)
    put_text_log(boto, "flow-logs-b", log_key("p", ACCOUNT, REGION, DAY, fl), fmt.header())
    return fmt


def test_setup_query_and_a_second_run(custom_flow_log, boto, moto):
    fmt = custom_flow_log
    r = invoke("setup")
    assert r.exit_code == 0, r.output

    table = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]
    sd = table["StorageDescriptor"]
    assert [c["Name"] for c in sd["Columns"]] == list(fmt.columns)  # the format's own order
    types = {c["Name"]: c["Type"] for c in sd["Columns"]}
    assert types["bytes"] == types["packets"] == "bigint"
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["storage.location.template"].startswith("s3://flow-logs-b/p/AWSLogs/")
    assert "${day}" in params["storage.location.template"]
    assert params["skip.header.line.count"] == "1"

    wg = boto.athena.get_work_group(WorkGroup="flowsql")["WorkGroup"]["Configuration"]
    assert wg["BytesScannedCutoffPerQuery"] == 10 * 10**9
    assert wg["ResultConfiguration"]["OutputLocation"].startswith(f"s3://flowsql-results-{ACCOUNT}-{REGION}/")
    names = {boto.athena.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"]
             for i in boto.athena.list_named_queries(WorkGroup="flowsql")["NamedQueryIds"]}
    assert {"flowsql-top-destinations", "flowsql-rejects-by-subnet", "flowsql-lambda-egress"} <= names

    # a second run changes nothing: no action planned, no duplicate named query
    before = boto.athena.list_named_queries(WorkGroup="flowsql")["NamedQueryIds"]
    r = invoke("setup", "--dry-run")
    assert r.exit_code == 0 and "0 action(s)" in r.stderr, r.output
    r = invoke("setup")
    assert r.exit_code == 0 and "nothing to do" in r.stderr, r.output
    assert sorted(boto.athena.list_named_queries(WorkGroup="flowsql")["NamedQueryIds"]) == sorted(before)

    # the query runs on Athena (the default once setup ran) and prints the rows Athena returned, typed
    queue_result(moto, [("dstaddr", "varchar"), ("flows", "bigint"), ("packets", "bigint"), ("bytes", "bigint")],
                 [["203.0.113.5", 3, 30, 6000000000], ["10.0.0.9", 1, 2, 120]])
    r = invoke("query", "top-destinations", "--since", DAY, "--until", DAY, "--output", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [
        {"dstaddr": "203.0.113.5", "flows": 3, "packets": 30, "bytes": 6000000000},
        {"dstaddr": "10.0.0.9", "flows": 1, "packets": 2, "bytes": 120},
    ]
    assert "data scanned" in r.stderr
    ids = boto.athena.list_query_executions(WorkGroup="flowsql")["QueryExecutionIds"]
    sent = [boto.athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    sql = next(s for s in sent if "vpc_flow_logs" in s)
    assert "FROM flowsql.vpc_flow_logs" in sql
    assert "day BETWEEN '2024/03/05' AND '2024/03/05'" in sql  # the partition window is bounded


def test_dry_run_prints_ddl_and_changes_nothing(custom_flow_log, boto):
    r = invoke("setup", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "CREATE EXTERNAL TABLE" in r.stdout and "projection.enabled" in r.stdout
    assert boto.glue.get_databases()["DatabaseList"] == []
    assert "WorkGroups" not in boto.athena.list_work_groups() or all(
        w["Name"] != "flowsql" for w in boto.athena.list_work_groups()["WorkGroups"])
    assert not config.exists()


def test_setup_without_flow_logs_is_a_clear_error(moto):
    r = invoke("setup")
    assert r.exit_code == 2 and "no flow log" in r.stderr and "Traceback" not in r.output


def test_setup_missing_bucket(moto):
    r = invoke("setup", "--bucket", "no-such-bucket", "--no-discovery")
    assert r.exit_code != 0 and "no-such-bucket" in r.stderr and "Traceback" not in r.output


def test_bad_scan_limit(moto):
    r = invoke("setup", "--scan-limit", "5MB")
    assert r.exit_code == 2 and "10 MB" in r.stderr


def test_query_on_athena_without_setup():
    r = invoke("query", "top-destinations", "--engine", "athena")
    assert r.exit_code == 2 and "flowsql setup" in r.stderr


def test_inventory_sync_writes_the_three_files(boto, tmp_path):
    vpc = boto.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sn = boto.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    boto.ec2.create_network_interface(SubnetId=sn, Description="AWS Lambda VPC ENI-fn")
    r = invoke("inventory", "sync", "--out", tmp_path / "inv")
    assert r.exit_code == 0, r.output
    for name, key in (("network-interfaces.json", "NetworkInterfaces"), ("subnets.json", "Subnets"),
                      ("vpcs.json", "Vpcs")):
        doc = json.loads((tmp_path / "inv" / name).read_text())
        assert doc[key], name
    from flowsql.inventory import load

    assert any(e["is_lambda"] for e in load(tmp_path / "inv").enis)


def test_iam_policy_is_json_with_scoped_statements():
    r = invoke("iam-policy", "--for", "setup")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["Statement"] and all(s["Sid"].startswith("FlowsqlSetup") for s in doc["Statement"])


def test_a_failed_athena_query_prints_the_reason_and_exits_1(custom_flow_log, proxy):
    assert invoke("setup").exit_code == 0
    proxy.fail_queries["vpc_flow_logs"] = "HIVE_BAD_DATA: Error parsing field value '-x' for field 6"
    r = invoke("query", "top-destinations", "--since", DAY, "--until", DAY)
    assert r.exit_code == 1, r.output
    assert "HIVE_BAD_DATA" in r.stderr and r.stderr.strip().splitlines()[-1].startswith("flowsql: error:")
    assert "Traceback" not in r.output


def test_a_log_archive_bucket_of_many_accounts(boto):
    """`--no-discovery --bucket`: every account found under AWSLogs/, one table, their logs' format."""
    from awsfixtures import CUSTOM_FORMAT as fmt_text

    boto.s3.create_bucket(Bucket="org-log-archive")
    fmt = parse_log_format(fmt_text)
    accounts = ["111111111111", "222222222222", "333333333333"]
    for a in accounts:
        put_text_log(boto, "org-log-archive", log_key("vpc", a, REGION, DAY, "fl-0123456789abcdef0"), fmt.header())
    r = invoke("setup", "--no-discovery", "--bucket", "org-log-archive", "--prefix", "vpc")
    assert r.exit_code == 0, r.output
    params = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]["Parameters"]
    assert params["projection.aws_account_id.type"] == "enum"
    assert sorted(params["projection.aws_account_id.values"].split(",")) == accounts
    # --accounts narrows a multi-account bucket
    r = invoke("setup", "--no-discovery", "--bucket", "org-log-archive", "--prefix", "vpc",
               "--accounts", "111111111111", "--dry-run")
    assert r.exit_code == 2 and "--update" in r.stderr  # the table would change: only with --update
