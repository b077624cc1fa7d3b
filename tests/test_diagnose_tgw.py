"""`flowsql diagnose` with Transit Gateway flow logs: their drops are the evidence VPC flow logs lack
(no route, blackhole: a route-table cause on the transit gateway), their forwarding says the gateway
is not the cause; the rows are the tgw-conversation query's, checked against the oracle."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

import oracle_tgw
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.diagnose.records import diagnose
from flowsql.engines.local.engine import LocalEngine
from flowsql.pack.params import Window

START = date(2026, 6, 1)
W = Window(START, START + timedelta(days=2))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("diag-tgw"), Scenario(
        start=START, days=3, accounts=("111122223333", "444455556666"), flows_per_day=300, seed=5,
        transit_gateways=1))


def _pick(tree, test):
    return next(r for r in tree.tgw_records if W.since <= r["day"] <= W.until and test(r))


def _diagnose(tree, r):
    engine = LocalEngine(tree.root, W)
    try:
        return diagnose(engine, W, src=r["srcaddr"], dst=r["dstaddr"], port=r["dstport"], protocol="tcp")
    finally:
        engine.close()


def _oracle(tree, r):
    return oracle_tgw.tgw_conversation(tree.tgw_records, None, {"src": r["srcaddr"], "dst": r["dstaddr"],
                                       "port": str(r["dstport"]), "protocol": "tcp"}, since=W.since, until=W.until)


@pytest.mark.parametrize("reason,words", [("packets_lost_blackhole", "to a blackhole route"),
                                          ("packets_lost_no_route", "with no route to the destination")])
def test_a_drop_for_routing_is_a_route_table_cause_on_the_transit_gateway(tree, reason, words):
    r = _pick(tree, lambda r: r[reason] and r["protocol"] == 6)
    d = _diagnose(tree, r)
    want = _oracle(tree, r)
    assert want and d.transit_gateway["evidence"] == want
    assert d.transit_gateway["cause"] == "route-table"
    assert words in d.explanation and r["tgw_attachment_id"] in d.explanation
    assert d.next_steps[0].startswith("A route-table cause on the transit gateway")
    assert r["tgw_attachment_id"] in d.next_steps[0] and r["dstaddr"] in d.next_steps[0]
    assert d.verdict == "no-records"  # the VPC flow logs' own verdict: the addresses are in none of them


def test_a_forwarded_conversation_says_the_gateway_lost_nothing(tree):
    r = _pick(tree, lambda r: r["flow_direction"] == "ingress" and r["tgw_pair_attachment_id"]
              and r["protocol"] == 6 and not any(r[c] for c in oracle_tgw.LOST))
    d = _diagnose(tree, r)
    rows = d.transit_gateway["evidence"]
    assert rows == _oracle(tree, r) and {x["direction"] for x in rows} >= {"request"}
    assert {x["flow_direction"] for x in rows if x["direction"] == "request"} == {"ingress", "egress"}
    if not any(x[c] for x in rows for c in oracle_tgw.LOST):
        assert "cause" not in d.transit_gateway and "recorded no packet lost" in d.explanation


def test_without_transit_gateway_records_nothing_is_added(tree):
    engine = LocalEngine(tree.root, W)
    try:
        d = diagnose(engine, W, src="10.99.0.1", dst="10.99.0.2", port=443, protocol="tcp")
    finally:
        engine.close()
    assert d.transit_gateway is None and "transit_gateway" not in d.to_dict()
    assert "transit gateway dropped" not in d.explanation


def test_the_json_and_the_table_show_the_transit_gateways_evidence(tree):
    r = _pick(tree, lambda r: r["packets_lost_blackhole"] and r["protocol"] == 6)
    args = ["diagnose", "--src", r["srcaddr"], "--dst", r["dstaddr"], "--port", str(r["dstport"]), "--protocol",
            "tcp", "--engine", "local", "--source", str(tree.root), "--since", W.since.isoformat(),
            "--until", W.until.isoformat()]
    result = CliRunner().invoke(app, args + ["-o", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["transit_gateway"]["cause"] == "route-table"
    assert doc["transit_gateway"]["evidence"] == _oracle(tree, r)
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "transit gateways (the tgw-conversation query)" in table.stdout and r["tgw_attachment_id"] in table.stdout
