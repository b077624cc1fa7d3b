"""`flowsql investigate` on Athena (the moto server, its results queued): one query, one read of the
table, the case file says what it scanned and cost, and `iam-policy --for investigate` allows every call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_athena_engine import queue_result, setup_done  # noqa: F401 - a fixture
from test_cli_aws import _allowed, _needs
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.engines.athena.engine import cost_usd
from flowsql.investigate import SCHEMA_PATH

ENI = "eni-0a1b2c3d4e5f60718"
COLUMNS = [("part", "varchar"), ("direction", "varchar"), ("address", "varchar"), ("destination", "varchar"),
           ("interface_id", "varchar"), ("hour", "bigint"), ("port", "integer"), ("protocol", "integer"),
           ("action", "varchar"), ("ecs_cluster", "varchar"), ("ecs_service", "varchar"), ("ecs_task", "varchar"),
           *((c, "bigint") for c in ("flows", "packets", "bytes", "accepted_flows", "rejected_flows",
                                     "accepted_packets", "accepted_bytes", "flows_sent", "flows_received",
                                     "bytes_sent", "bytes_received", "first_seen", "last_seen")),
           ("ports", "varchar"), ("protocols", "varchar"), ("interfaces", "varchar")]
H = 1709596800  # 2024-03-05T00:00:00Z
TASK = "arn:aws:ecs:us-east-1:123456789012:task/prod/0f0e0d0c"
BIG = 5_000_000_000


def row(part, counts, *, direction=None, address=None, interface_id=None, hour=None, port=None, protocol=None,
        ecs=(None, None, None), lists=(None, None, None)):
    return [part, direction, address, None, interface_id, hour, port, protocol, None, *ecs, *counts, *lists]


# what Athena answers for 10.0.1.23: 3 accepted records sent to 198.51.100.7:443, 2 rejected from 203.0.113.9:22
SENT = [3, 30, BIG, 3, 0, 30, BIG, 3, 0, BIG, None, H + 5, H + 65]
REJECTED = [2, 4, 200, 0, 2, None, None, 0, 2, None, 200, H + 3605, H + 3660]
TOTAL = [5, 34, BIG + 200, 3, 2, 30, BIG, 3, 2, BIG, 200, H + 5, H + 3660]
ROWS = [
    row("ecs", TOTAL, ecs=("prod", "api", TASK), lists=(None, None, ENI)),
    row("hour", SENT, hour=H),
    row("hour", REJECTED, hour=H + 3600),
    row("interface", TOTAL, interface_id=ENI),
    row("peer", REJECTED, direction="inbound", address="203.0.113.9", lists=("22", "6", ENI)),
    row("peer", SENT, direction="outbound", address="198.51.100.7", lists=("443", "6", ENI)),
    row("rejected", REJECTED, direction="inbound", address="203.0.113.9", port=22, protocol=6, lists=(None, None, ENI)),
]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def inventory(tmp_path) -> Path:
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "network-interfaces.json").write_text(json.dumps({"NetworkInterfaces": [{
        "NetworkInterfaceId": ENI, "SubnetId": "subnet-0a1b2c3d4e5f60718", "VpcId": "vpc-0a1b2c3d4e5f60718",
        "InterfaceType": "interface", "Description": "", "PrivateIpAddress": "10.0.1.23",
        "Attachment": {"InstanceId": "i-0a1b2c3d4e5f60718"}}]}))
    (inv / "vpcs.json").write_text(json.dumps({"Vpcs": [{"VpcId": "vpc-0a1b2c3d4e5f60718",
                                                         "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}]}]}))
    return inv


def _flow_log_reads(sql: str) -> int:
    from test_pack import _flow_log_reads as reads

    return reads(sql)


def test_a_case_on_athena_is_one_query_and_says_what_it_scanned_and_cost(setup_done, proxy, moto, boto, inventory,  # noqa: F811
                                                                         tmp_path):
    import jsonschema

    queue_result(moto, COLUMNS, ROWS)
    scanned = 987_654_321
    proxy.scanned["FROM flowsql.vpc_flow_logs"] = scanned
    out = tmp_path / "case"
    r = invoke("investigate", "10.0.1.23", "--engine", "athena", "--inventory", inventory, "--since", "2024-03-05",
               "--until", "2024-03-05", "--out", out, "-o", "json")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    case = json.loads(r.stdout)
    assert case == json.loads((out / "case.json").read_text())
    jsonschema.validate(case, json.loads(SCHEMA_PATH.read_text()))
    assert proxy.invocations("StartQueryExecution") == 1  # the whole case: one query
    [e] = case["evidence"]["queries"]
    assert e["query"] == "case-address" and e["engine"] == "athena" and e["workgroup"] == "flowsql"
    assert _flow_log_reads(e["sql"]) == 1  # which reads the table once
    qe = boto.athena.get_query_execution(QueryExecutionId=e["execution_id"])["QueryExecution"]
    assert qe["Query"] == e["sql"].strip()  # the SQL shown is the SQL Athena ran
    assert e["data_scanned_bytes"] == scanned and e["cost_usd"] == cost_usd(scanned)
    assert case["summary"]["data_scanned_bytes"] == scanned and case["summary"]["cost_usd"] == cost_usd(scanned)
    assert case["scope"] == {"engine": "athena", "source": None, "table": "flowsql.vpc_flow_logs",
                             "inventory": str(inventory), "inventory_folders": ["latest"], "accounts": [],
                             "regions": []}
    # the sections, from the rows Athena gave
    assert (case["first_seen"], case["last_seen"]) == ("2024-03-05T00:00:05Z", "2024-03-05T01:01:00Z")
    assert case["internet"]["bytes_sent"] == BIG and case["summary"]["bytes_to_internet"] == BIG
    assert case["summary"]["records"] == 5 and case["internet"]["destinations"] == 1
    assert case["rejected"]["flows_inbound"] == 2 and case["rejected"]["rows"][0]["port"] == 22
    [iface] = case["interfaces"]["rows"]
    assert iface["inventory"]["attached_to"] == "EC2 instance i-0a1b2c3d4e5f60718" and iface["inventory"]["in_latest"]
    assert [(t["cluster"], t["service"], t["task_arn"]) for t in case["ecs_tasks"]["rows"]] == [("prod", "api", TASK)]
    assert [h["hour"] for h in case["timeline"]["rows"]] == ["2024-03-05T00:00:00Z", "2024-03-05T01:00:00Z"]
    assert case["evidence"]["inputs"] and {i["root"] for i in case["evidence"]["inputs"]} == {"inventory"}
    html = (out / "case.html").read_text()
    md = (out / "case.md").read_text()
    for text in (html, md):
        assert e["execution_id"] in text and f"{scanned:,} bytes" in text and "Athena cost" in text
    assert "--engine athena" in case["evidence"]["command"] and "--source" not in case["evidence"]["command"]
    assert f"data scanned: {scanned / 1e6:,.1f} MB" in r.stderr


def test_nothing_scanned_on_athena_is_not_evaluated(setup_done, moto, tmp_path):  # noqa: F811
    queue_result(moto, COLUMNS, [])
    out = tmp_path / "case"
    r = invoke("investigate", "eni-0a1b2c3d4e5f60718", "--engine", "athena", "--since", "2024-03-05", "--until",
               "2024-03-05", "--out", out)
    assert r.exit_code == 1, (r.stdout, r.stderr)
    case = json.loads((out / "case.json").read_text())
    assert not case["summary"]["evaluated"] and "Athena scanned nothing" in case["summary"]["reason"]
    assert case["evidence"]["queries"][0]["query"] == "case-eni"
    assert "addresses" not in case["evidence"]["queries"][0]["command"]  # no inventory: no addresses known


def test_iam_policy_for_investigate_allows_every_call_it_makes(setup_done, proxy, moto, inventory, tmp_path):  # noqa: F811
    queue_result(moto, COLUMNS, ROWS)
    proxy.scanned["FROM flowsql.vpc_flow_logs"] = 1_000_000
    proxy.requests.clear()
    r = invoke("investigate", "10.0.1.0/24", "--engine", "athena", "--inventory", inventory, "--since", "2024-03-05",
               "--until", "2024-03-05", "--out", tmp_path / "case")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    calls = {_needs(*x) for x in proxy.requests if x[1] != "GetCallerIdentity"}
    assert {a for a, _ in calls} >= {"athena:StartQueryExecution", "athena:GetQueryExecution",
                                     "athena:GetQueryResults"}
    for scope in ("investigate", "all"):
        policy = json.loads(invoke("iam-policy", "--for", scope).stdout)
        denied = sorted(f"{a} on {res}" if res else a for a, res in calls if not _allowed(policy, a, res))
        assert not denied, f"--for {scope}: {denied}"
    policy = json.loads(invoke("iam-policy", "--for", "investigate").stdout)
    assert policy["Statement"] and all(s["Sid"].startswith("FlowsqlInvestigate") for s in policy["Statement"])
    # no more than a query needs: the inventory tables in S3 are not read (the inventory is local)
    query = json.loads(invoke("iam-policy", "--for", "query").stdout)
    assert {a for s in policy["Statement"] for a in s["Action"]} <= {a for s in query["Statement"] for a in s["Action"]}
    assert not any(s["Sid"] == "FlowsqlInvestigateInventory" for s in policy["Statement"])
