"""`flowsql diagnose`: each verdict on generated conversations, in both log formats, on the local engine and
through the rendered Athena SQL (parsed as Trino), and the JSON a script reads."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlglot
from typer.testing import CliRunner

import oracle_diagnose
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.diagnose.records import verdict
from flowsql.engines.base import Target
from flowsql.engines.local.engine import LocalEngine
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query
from flowsql.pack.render import render

START = date(2026, 6, 1)
W = Window(START, START + timedelta(days=5))
runner = CliRunner()


def ipaddress_as_text(athena_sql: str) -> str:
    """The Athena SQL with Trino's IPADDRESS (which DuckDB lacks) read as the one text per address
    flowsql_addr gives: two values are the same IPADDRESS exactly when their texts are equal (the
    local functions' test holds flowsql_addr to Python's ipaddress)."""
    from sqlglot import exp

    def swap(node):
        if isinstance(node, exp.TryCast) and node.to.this == exp.DataType.Type.IPADDRESS:
            return exp.Anonymous(this="flowsql_addr", expressions=[node.this])
        return node

    return sqlglot.parse_one(athena_sql, read="trino").transform(swap).sql(dialect="trino")


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("diag"), Scenario(start=START, days=6, flows_per_day=500, seed=21))


def _pick(tree, region, test):
    for r in tree.records:
        if r["aws_region"] == region and r["log_status"] == "OK" and W.since <= r["day"] <= W.until and test(r):
            return r
    raise AssertionError(f"the generated tree has no such conversation in {region}")


def cases(tree, region):
    """(name, src, dst, port, protocol, verdict, direction) from the generator's conversations."""
    recs = [r for r in tree.records if r["aws_region"] == region and r["log_status"] == "OK"]
    by_pair = {}
    for r in recs:
        by_pair.setdefault((r["srcaddr"], r["dstaddr"], r["dstport"]), set()).add(r["action"])
    # a scanner's request rejected at the target (never accepted, never answered)
    scan = _pick(tree, region, lambda r: r["action"] == "REJECT" and r["dstport"] == 22 and r["tcp_flags"] in (2, None)
                 and by_pair.get((r["srcaddr"], r["dstaddr"], 22)) == {"REJECT"}
                 and not any(x["srcaddr"] == r["dstaddr"] and x["dstaddr"] == r["srcaddr"] for x in recs))
    # the bastion's reply blocked by a stateless network ACL
    reply = _pick(tree, region, lambda r: r["action"] == "REJECT" and r["srcport"] == 22 and r["dstport"] >= 32768)
    # a request nobody answers (port 9200 on a data host)
    one_way = _pick(tree, region, lambda r: r["dstport"] == 9200 and r["action"] == "ACCEPT"
                    and not any(x["srcaddr"] == r["dstaddr"] and x["dstaddr"] == r["srcaddr"] for x in recs))
    ok = _pick(tree, region, lambda r: r["dstport"] == 3306 and r["action"] == "ACCEPT" and r["srcaddr"].startswith("10."))
    return [
        ("rejected-request", scan["srcaddr"], scan["dstaddr"], 22, "tcp", "rejected", "request"),
        ("rejected-response", reply["dstaddr"], reply["srcaddr"], 22, "tcp", "rejected", "response"),
        ("one-way", one_way["srcaddr"], one_way["dstaddr"], 9200, "6", "one-way", None),
        ("accepted", ok["srcaddr"], ok["dstaddr"], 3306, None, "accepted", None),
        ("no-records", ok["srcaddr"], ok["dstaddr"], 5432, "tcp", "no-records", None),
    ]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"], ids=["default-format", "custom-format"])
def test_each_verdict_on_the_local_engine_and_through_the_athena_sql(tree, region):
    inv = load_inventory(tree.inventory_dir, window=W)
    q = get_query("conversation")
    for name, src, dst, port, proto, want, direction in cases(tree, region):
        r = runner.invoke(app, ["diagnose", "--src", src, "--dst", dst, "--port", str(port),
                                *(["--protocol", proto] if proto else []), "--source", str(tree.root),
                                "--inventory", str(tree.inventory_dir), "--region", region,
                                "--since", str(W.since), "--until", str(W.until), "-o", "json"])
        assert r.exit_code == 0, (name, r.output)
        doc = json.loads(r.stdout)
        assert (doc["verdict"], doc["direction"]) == (want, direction), (name, doc["explanation"])
        assert set(doc) == {"verdict", "direction", "explanation", "next_steps", "evidence", "sql"}
        assert doc["next_steps"] and doc["explanation"]
        assert f"f.srcaddr = '{src}'" in doc["sql"] and "f.day BETWEEN" in doc["sql"]  # the SQL that ran
        # the evidence is the oracle's, to the row
        params = {"src": src, "dst": dst, "port": str(port), **({"protocol": proto} if proto else {})}
        want_rows = oracle_diagnose.conversation(tree.records, tree.inventory_dir, params, since=W.since,
                                                 until=W.until, accounts=None, regions=[region])
        assert doc["evidence"] == want_rows, name

        # the Athena SQL: parses as Trino, and run (translated) over the same files gives the same verdict
        athena_sql = render(q, params, Target("athena", flow_logs="flow_logs"), W, regions=[region]).sql
        engine = LocalEngine(tree.root, W, inventory=inv, regions=[region])
        try:
            rows = engine.execute(ipaddress_as_text(athena_sql)).records()
        finally:
            engine.close()
        d = verdict(rows, src=src, dst=dst, port=port, inventory=inv)
        assert (d.verdict, d.direction) == (want, direction), name


def test_which_eni_rejected_is_named(tree):
    inv = load_inventory(tree.inventory_dir, window=W)
    name, src, dst, port, proto, *_ = cases(tree, "eu-west-1")[0]
    r = runner.invoke(app, ["diagnose", "--src", src, "--dst", dst, "--port", "22", "--source", str(tree.root),
                            "--inventory", str(tree.inventory_dir), "--since", str(W.since), "--until", str(W.until)])
    assert r.exit_code == 0, r.output
    [eni] = [i["interface_id"] for i in inv.eni_ips if i["private_ip"] == dst]
    assert "verdict: rejected (request)" in r.stdout and "inbound at the destination" in r.stdout
    assert f"{eni} (the destination's)" in r.stdout.replace("\n", " ")


@pytest.mark.parametrize("args,needle", [
    (["--src", "10.0.0.300", "--dst", "10.0.0.1"], "--src"),
    (["--src", "10.0.0.1", "--dst", "nope"], "--dst"),
    (["--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "70000"], "--port"),
    (["--src", "10.0.0.1", "--dst", "10.0.0.2", "--protocol", "tcpx"], "--protocol"),
])
def test_a_malformed_address_or_port_is_a_usage_error_naming_the_value(tmp_path, args, needle):
    r = runner.invoke(app, ["diagnose", *args, "--source", str(tmp_path)])
    assert r.exit_code == 2
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("flowsql: error: ") and needle in line and args[args.index(needle) + 1] in line


# --- the verdict's reading of the evidence, on hand-made rows -------------------------------------------

def row(direction, eni, action, flows=1, packets=10, first=100, fd=None, flags=None):
    return {"direction": direction, "interface_id": eni, "action": action, "protocol": 6, "port": 443,
            "flow_direction": fd, "tcp_flags": flags, "flows": flows, "packets": packets, "bytes": packets * 60,
            "first_seen": first, "last_seen": first + 60}


def test_rejected_outbound_at_the_source_by_flow_direction():
    d = verdict([row("request", "eni-a", "REJECT", fd="egress")], src="10.0.0.1", dst="10.0.0.2", port=443)
    assert (d.verdict, d.direction) == ("rejected", "request") and "outbound at the source" in d.explanation
    # the next steps look at the source's outbound rules toward dst, and its inbound rule for replies
    assert "outbound rules of the security groups on eni-a for" in d.next_steps[0]
    assert "on port 443 to 10.0.0.2" in d.next_steps[0] and "from 10.0.0.1" not in " ".join(d.next_steps)
    assert "inbound rule for the ephemeral ports (1024-65535) from 10.0.0.2" in d.next_steps[1]


def test_rejected_inbound_at_the_destination_names_the_port_and_the_source():
    d = verdict([row("request", "eni-b", "REJECT", fd="ingress")], src="10.0.0.1", dst="10.0.0.2", port=443)
    assert "inbound at the destination" in d.explanation
    assert "inbound rules of the security groups on eni-b for" in d.next_steps[0]
    assert "on port 443 from 10.0.0.1" in d.next_steps[0] and " for on " not in " ".join(d.next_steps)
    assert "outbound rule for the ephemeral ports (1024-65535) to 10.0.0.1" in d.next_steps[1]


def test_accepted_at_the_source_rejected_at_the_destination():
    d = verdict([row("request", "eni-a", "ACCEPT", fd="egress"), row("request", "eni-b", "REJECT", fd="ingress")],
                src="10.0.0.1", dst="10.0.0.2", port=443)
    assert "inbound at the destination" in d.explanation and "left through eni-a" in d.explanation


def test_a_few_late_rejected_packets_are_said_to_be_possibly_harmless():
    rows = [row("request", "eni-a", "ACCEPT", packets=5000), row("reply", "eni-a", "ACCEPT", packets=9000),
            row("reply", "eni-a", "REJECT", packets=2, first=500)]
    d = verdict(rows, src="10.0.0.1", dst="10.0.0.2", port=443)
    assert (d.verdict, d.direction) == ("rejected", "response") and "after their connection was closed" in d.explanation


def test_only_syns_is_said():
    d = verdict([row("request", "eni-a", "ACCEPT", flags=2)], src="10.0.0.1", dst="10.0.0.2", port=443)
    assert d.verdict == "one-way" and "Only SYNs" in d.explanation


def test_never_logged_destinations_are_said():
    d = verdict([], src="10.0.0.1", dst="169.254.169.254", port=80)
    assert d.verdict == "no-records" and "instance metadata" in d.explanation and "never" in d.explanation


# --- ICMP: no ports, rules by type and code ----------------------------------------------------------

def icmp_row(direction, eni, action, proto, fd=None):
    return {**row(direction, eni, action, fd=fd), "protocol": proto, "port": 0}


ICMP_CASES = {
    "rejected-inbound": [("request", "eni-b", "REJECT", "ingress")],
    "rejected-outbound": [("request", "eni-a", "REJECT", "egress")],
    "rejected-reply": [("request", "eni-a", "ACCEPT", None), ("reply", "eni-a", "REJECT", None)],
    "replies-only-rejected": [("reply", "eni-a", "REJECT", None)],
    "one-way": [("request", "eni-a", "ACCEPT", None)],
}


@pytest.mark.parametrize("proto,reply_type", [(1, "type 0"), (58, "type 129")], ids=["icmp", "icmpv6"])
@pytest.mark.parametrize("given", [True, False], ids=["--protocol", "from-the-records"])
@pytest.mark.parametrize("case", ICMP_CASES)
def test_icmp_advice_is_by_type_and_code_never_ephemeral_ports(case, given, proto, reply_type):
    rows = [icmp_row(d, eni, action, proto, fd) for d, eni, action, fd in ICMP_CASES[case]]
    d = verdict(rows, src="10.0.0.1", dst="10.0.0.2", protocol=proto if given else None)
    said = " ".join([d.explanation, *d.next_steps])
    assert "ephemeral" not in said and "1024-65535" not in said and "port" not in said.replace("transport", "")
    assert ("ICMPv6" if proto == 58 else "ICMP") in said
    if case != "one-way":  # what the network ACL must let through
        assert f"protocol {proto}" in said and reply_type in said and "code" in said


def test_tcp_advice_still_names_the_ephemeral_ports():
    d = verdict([row("request", "eni-a", "ACCEPT"), row("reply", "eni-a", "REJECT")], src="10.0.0.1",
                dst="10.0.0.2", port=443, protocol=6)
    assert "ephemeral ports (1024-65535)" in d.explanation and "ICMP" not in " ".join(d.next_steps)


def test_a_rejected_ping_on_the_local_engine_gets_icmp_advice(tmp_path):
    from trees import DAY, record, write_log

    # a ping as AWS logs it: ports 0, protocol 1 (flow logs record no ICMP type)
    write_log(tmp_path, "a.log", [record(src="203.0.113.12", dst="172.31.16.139", sport="0", dport="0", proto="1",
                                         action="REJECT", eni="eni-0a1b2c3d")])
    args = ["diagnose", "--src", "203.0.113.12", "--dst", "172.31.16.139", "--source", str(tmp_path), "--since",
            str(DAY), "--until", str(DAY), "-o", "json"]
    for extra in (["--protocol", "icmp"], []):
        r = runner.invoke(app, args + extra)
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        said = " ".join([doc["explanation"], *doc["next_steps"]])
        assert doc["verdict"] == "rejected" and "ICMP (protocol 1)" in said and "echo reply: type 0" in said
        assert "ephemeral" not in said


@pytest.mark.parametrize("protocol", ["icmp", "1", "icmpv6", "58"])
def test_a_port_with_icmp_is_a_usage_error(tmp_path, protocol):
    r = runner.invoke(app, ["diagnose", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "22", "--protocol",
                            protocol, "--source", str(tmp_path)])
    assert r.exit_code == 2
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("flowsql: error: --port:") and "no ports" in line
