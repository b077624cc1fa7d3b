"""Addresses are compared as addresses, never as text, on every engine: a record written
`2001:db8:0:0:0:0:0:1` is the address `2001:db8::1` to diagnose and to the address queries, in text
and in Parquet files; the integrity check refuses an address field that is neither `-` nor an IPv4 or
IPv6 address, naming the file; the Athena SQL compares every address through IPADDRESS. The expected
values come from Python's ipaddress (tests/oracle.py's `address`)."""

from __future__ import annotations

import ipaddress
import json
import random
from datetime import date, timedelta

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.engines.base import Target
from flowsql.engines.local.convert import convert
from flowsql.engines.local.engine import LocalEngine
from flowsql.errors import DataError
from flowsql.inventory import load_inventory
from flowsql.pack.params import ParamSpec, Window
from flowsql.pack.queries import get_query, load_pack
from flowsql.pack.render import render
from flowsql.resources import local_functions_sql
from flowsql.runner import run
from trees import DAY, day_dir, record, write_log

runner = CliRunner()
W = Window(DAY, DAY)


# --- flowsql_addr: the one text per address, against Python's ipaddress ------------------------------

@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(local_functions_sql())
    yield c
    c.close()


def expected(text: str):
    """What Athena's IPADDRESS makes of a text, written with ipaddress: the address, or no address."""
    try:
        return oracle.address(text) if "%" not in text else None
    except ValueError:
        return None


def spellings(ip: ipaddress.IPv6Address) -> list[str]:
    groups = ip.exploded.split(":")
    return [str(ip), ip.exploded, ip.exploded.upper(), str(ip).upper(), ":".join(g.lstrip("0") or "0" for g in groups),
            ":".join(groups[:6]) + ":" + str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))]  # RFC 4291 2.2 (3)


EDGES = ["::", "::1", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "::ffff:1.2.3.4",
         "::FFFF:102:304", "0:0:0:0:0:ffff:10.0.0.1", "::ffff:0:0", "::fffe:1:2", "::1.2.3.4", "::ffff:01.2.3.4",
         "2001:db8:0:0:1:0:0:1", "2001:0:0:1:0:0:0:1", "0:0:1::", "1:0:0:2:3:0:0:4", "fe80::1%eth0", ":::",
         "a::b::c", "1:2:3:4:5::6:7:8:9", ":1::", "1::2:", "12345::", "g::1", "10.0.0.1", "010.0.0.1", "256.1.1.1",
         "1.2.3", "1.2.3.4.5", "", "-", " 10.0.0.1", "1.2.3.4:5", "0.0.0.0", "255.255.255.255"]
texts = st.one_of(
    st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address).flatmap(lambda a: st.sampled_from(spellings(a))),
    st.lists(st.sampled_from(["0", "0", "0", "1", "ffff", "FFFF", "00ab", "abcd", "12345", ""]), min_size=1,
             max_size=9).flatmap(lambda gs: st.sampled_from([":".join(gs), ":".join(gs).replace(":", "::", 1)])),
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.text(alphabet="0123456789abcdefABCDEF:.%", max_size=20),
)


def test_flowsql_addr_on_the_edges(con):
    got = con.execute("SELECT list_transform(?, lambda t: flowsql_addr(t))", [EDGES]).fetchone()[0]
    assert dict(zip(EDGES, got)) == {t: expected(t) for t in EDGES}


@settings(max_examples=40, deadline=None)
@given(cases=st.lists(texts, min_size=1, max_size=60))
def test_flowsql_addr_is_ipaddress(con, cases):
    got = con.execute("SELECT list_transform(?, lambda t: flowsql_addr(t))", [cases]).fetchone()[0]
    assert got == [expected(t) for t in cases]


@pytest.mark.parametrize("given_,canonical", [("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::ffff:10.0.0.1", "10.0.0.1"),
                                               ("2001:0db8::0001", "2001:db8::1"), ("10.0.0.1", "10.0.0.1")])
def test_an_address_parameter_is_the_address(given_, canonical):
    assert ParamSpec("a", "ip").parse(given_).sql == f"'{canonical}'"


# --- the example: diagnose and the address queries -----------------------------------------

LONG = "2001:db8:0:0:0:0:0:1"  # 2001:db8::1 as another writer spells it
OTHER = "2001:DB8::0002"  # 2001:db8::2


@pytest.fixture
def spelled(tmp_path):
    write_log(tmp_path, "a.log", [record(src=LONG, dst=OTHER, sport="40000", dport="22", action="REJECT"),
                                  record(src="2001:db8::1", dst="10.0.0.9"),
                                  record(src="10.0.0.9", dst="2001:0DB8:0000:0000:0000:0000:0000:0001")])
    return tmp_path


def test_diagnose_finds_a_record_written_in_another_spelling(spelled):
    r = runner.invoke(app, ["diagnose", "--src", "2001:db8::1", "--dst", "2001:db8::2", "--port", "22", "--source",
                            str(spelled), "--since", str(DAY), "--until", str(DAY), "-o", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert (doc["verdict"], doc["direction"]) == ("rejected", "request")
    assert sum(e["flows"] for e in doc["evidence"] if e["direction"] == "request") == 1


@pytest.mark.parametrize("query,params,want", [
    ("traffic-from-address", {"address": "2001:db8::1"}, {("2001:db8::2", 22), ("10.0.0.9", 443)}),
    ("traffic-from-address", {"address": "2001:DB8:0:0::1"}, {("2001:db8::2", 22), ("10.0.0.9", 443)}),
    ("traffic-to-address", {"address": "2001:db8::1"}, {("10.0.0.9", 443)}),
    ("traffic-to-address", {"address": "2001:db8::2"}, {("2001:db8::1", 22)}),
])
def test_the_address_queries_find_every_spelling(spelled, query, params, want):
    engine = LocalEngine(spelled, W)
    try:
        rows = run(get_query(query), params, engine, W).result.records()
    finally:
        engine.close()
    peer = "dstaddr" if query == "traffic-from-address" else "srcaddr"
    assert {(r[peer], r["dstport"]) for r in rows} == want


def test_address_first_last_seen_counts_every_spelling(spelled):
    engine = LocalEngine(spelled, W)
    try:
        rows = run(get_query("address-first-last-seen"), {"address": "2001:db8::1"}, engine, W).result.records()
    finally:
        engine.close()
    assert (sum(r["flows_out"] for r in rows), sum(r["flows_in"] for r in rows)) == (2, 1)


def test_a_file_that_spells_addresses_otherwise_is_read_so_again_from_the_cache(spelled):
    sql = "SELECT srcaddr, count(*) AS n FROM flow_logs GROUP BY srcaddr ORDER BY srcaddr"
    for _ in range(2):  # the second run knows the file from the cache, and still reads it as addresses
        engine = LocalEngine(spelled, W)
        try:
            assert engine.execute(sql).rows == [("10.0.0.9", 1), ("2001:db8::1", 2)]
        finally:
            engine.close()


# --- the integrity check: an address field holds - or an address ----------------------------------

NOT_ADDRESSES = ["not-an-ip", "10.0.0.256", "010.0.0.1", "1.2.3", "fe80::1%eth0", "2001:db8::1::2",
                 "1:2:3:4:5:6:7:8:9", "12345::1", "::ffff:1.2.3.04", "<script>"]


@pytest.mark.parametrize("value", NOT_ADDRESSES)
def test_a_record_whose_address_is_no_address_makes_the_file_corrupt(tmp_path, value):
    write_log(tmp_path, "good.log", [record(dst="2001:db8::7")])
    bad = write_log(tmp_path, "bad.log", [record(), record(dst=value)])
    with pytest.raises(DataError, match="bad.log: an address field that is neither - nor an IPv4 or IPv6 address "
                                        r"\(e.g. dstaddr ") as e:
        LocalEngine(tmp_path, W).execute("SELECT 1")
    assert "--skip-bad-files" in str(e.value)
    engine = LocalEngine(tmp_path, W, skip_bad_files=True)
    result = engine.execute("SELECT dstaddr FROM flow_logs")
    assert result.rows == [("2001:db8::7",)] and [f.path for f in result.stats.skipped] == [str(bad)]


@pytest.mark.parametrize("field", ["srcaddr", "pkt-srcaddr", "pkt-dstaddr"])
def test_every_address_field_is_checked(tmp_path, field):
    header = "version srcaddr dstaddr pkt-srcaddr pkt-dstaddr bytes log-status"
    values = {"srcaddr": "10.0.0.1", "dstaddr": "10.0.0.2", "pkt-srcaddr": "10.0.0.3", "pkt-dstaddr": "10.0.0.4"}
    values[field] = "x.y"
    line = "5 " + " ".join(values[f] for f in ("srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr")) + " 1 OK"
    write_log(tmp_path, "a.log", [line, "5 - - - - - NODATA"], header=header)
    with pytest.raises(DataError, match=f"e.g. {field} 'x.y'"):
        LocalEngine(tmp_path, W).execute("SELECT 1")


def _parquet(tmp_path, name, dstaddr):
    path = day_dir(tmp_path) / f"111111111111_vpcflowlogs_us-east-1_fl-1_20260301T0000Z_{name}.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT 2 AS version, 'eni-1' AS interface_id, v AS dstaddr, CAST(1 AS BIGINT) AS bytes, "
        f"'OK' AS log_status FROM (VALUES {', '.join(f'({v!r})' for v in dstaddr)}) AS t(v)) "
        f"TO '{path}' (FORMAT parquet)")
    return path


def test_a_parquet_file_whose_address_is_no_address_is_corrupt(tmp_path):
    _parquet(tmp_path, "bad", ["10.0.0.1", "10.0.0.300"])
    with pytest.raises(DataError, match="_bad.parquet: an address that is neither - nor an IPv4 or IPv6 address "
                                        r"\(e.g. dstaddr '10.0.0.300'\)"):
        LocalEngine(tmp_path, W).execute("SELECT 1")


def test_a_parquet_file_that_spells_addresses_otherwise_is_read_as_addresses(tmp_path):
    _parquet(tmp_path, "spelled", ["2001:DB8::1", "2001:db8:0:0:0:0:0:1", "::ffff:10.0.0.1", "10.0.0.1", "-"])
    engine = LocalEngine(tmp_path, W)
    try:
        rows = engine.execute("SELECT dstaddr, count(*) FROM flow_logs GROUP BY dstaddr ORDER BY dstaddr").rows
    finally:
        engine.close()
    assert rows == [("-", 1), ("10.0.0.1", 2), ("2001:db8::1", 2)]


# --- a generated month in other spellings, text and Parquet, against the oracle --------------------

START = date(2026, 7, 1)
GW = Window(START, START + timedelta(days=2))
ADDRESS_QUERIES = ["traffic-from-address", "traffic-to-address", "address-first-last-seen", "conversation",
                   "top-talkers", "lambda-egress", "database-traffic", "load-balancer-traffic", "nat-gateway-egress",
                   "cross-az-traffic", "vpc-endpoint-traffic", "rejected-inbound-from-internet"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    g = generate(tmp_path_factory.mktemp("spelled"),
                 Scenario(start=START, days=3, flows_per_day=300, seed=5, ipv6_spellings=True))
    pq = tmp_path_factory.mktemp("spelled-pq")
    convert(g.root, pq)
    return g, pq


def _params(g, name):
    """The query's cases, and for the one-address queries an IPv6 address the records spell otherwise."""
    cases = [oracle.case_params(case, g.records, g.inventory_dir) for case in oracle.ORACLES[name][1]]
    if name == "top-talkers":  # every pair, IPv6 ones included
        cases.append({"limit": "1000"})
    written = [r["srcaddr"] for r in g.records
               if r["srcaddr"] and ":" in r["srcaddr"] and r["srcaddr"] != oracle.address(r["srcaddr"])]
    assert written, "the generator spelled no address otherwise"
    six = random.Random(1).choice(written)
    if name in ("traffic-from-address", "traffic-to-address", "address-first-last-seen"):
        cases.append({"address": six})
    if name == "conversation":
        peer = next(r["dstaddr"] for r in g.records if r["srcaddr"] == six)
        cases.append({"src": six.lower(), "dst": peer})
    return cases


@pytest.mark.parametrize("name", ADDRESS_QUERIES)
@pytest.mark.parametrize("kind", ["text", "parquet"])
def test_queries_over_other_spellings_equal_the_oracle(trees, name, kind):
    g, pq = trees
    fn, _ = oracle.ORACLES[name]
    for params in _params(g, name):
        want = fn(g.records, g.inventory_dir, params, since=GW.since, until=GW.until, accounts=None, regions=None)
        engine = LocalEngine(g.root if kind == "text" else pq, GW, inventory=load_inventory(g.inventory_dir, window=GW))
        try:
            got = run(get_query(name), params, engine, GW).result.records()
        finally:
            engine.close()
        assert got == want, (name, params)


def test_the_oracle_reads_the_spellings_as_addresses(trees):
    g, _ = trees
    six = [r for r in g.records if r["srcaddr"] and ":" in r["srcaddr"]]
    assert any(r["srcaddr"] != oracle.address(r["srcaddr"]) for r in six)  # the tree does spell them otherwise
    assert any(r["srcaddr"] == oracle.address(r["srcaddr"]) for r in six)  # and AWS's form too


def test_an_inventory_address_spelled_otherwise_is_the_address(tmp_path):
    """EC2 writes RFC 5952 too; an inventory written otherwise joins all the same."""
    write_log(tmp_path / "src", "a.log", [record(src="2600:1f18::5", dst="2600:1f18::9",
                                                 eni="eni-0aaaaaaaaaaaaaaaa")])
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "network-interfaces.json").write_text(json.dumps({"NetworkInterfaces": [{
        "NetworkInterfaceId": "eni-0aaaaaaaaaaaaaaaa", "SubnetId": "subnet-0aaaaaaaaaaaaaaaa",
        "VpcId": "vpc-0aaaaaaaaaaaaaaaa",
        "InterfaceType": "lambda", "Description": "AWS Lambda VPC ENI-f", "PrivateIpAddress": "10.0.0.5",
        "Ipv6Addresses": [{"Ipv6Address": "2600:1F18:0:0:0:0:0:5"}]}]}))
    (inv / "subnets.json").write_text(json.dumps({"Subnets": []}))
    (inv / "vpcs.json").write_text(json.dumps({"Vpcs": []}))
    engine = LocalEngine(tmp_path / "src", W, inventory=load_inventory(inv, window=W))
    try:
        rows = run(get_query("lambda-egress"), {}, engine, W).result.records()
    finally:
        engine.close()
    assert [(r["dstaddr"], r["flows"]) for r in rows] == [("2600:1f18::9", 1)]


# --- the Athena SQL compares addresses as IPADDRESS ---------------------------------------------------

ADDRESS_COLUMNS = {"srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr", "private_ip"}


def _is_address(node) -> bool:
    if isinstance(node, exp.Column):
        return node.name in ADDRESS_COLUMNS
    if isinstance(node, exp.Literal) and node.is_string:
        try:
            ipaddress.ip_address(node.this)
        except ValueError:
            return False
        return True
    return False


def _as_ipaddress(node) -> bool:
    return isinstance(node, exp.TryCast) and node.to.this == exp.DataType.Type.IPADDRESS


@pytest.mark.parametrize("query", load_pack(), ids=lambda q: q.name)
def test_every_address_comparison_on_athena_is_of_ipaddresses(query):
    params = {**query.example, **({"address": "2001:db8::1"} if "address" in query.example else {})}
    sql = render(query, params, Target("athena", flow_logs="flowsql.vpc_flow_logs"), W).sql
    tree = sqlglot.parse_one(sql, read="trino")
    for node in tree.find_all(exp.EQ, exp.NEQ, exp.In):
        sides = [node.this, *(node.expressions if isinstance(node, exp.In) else [node.expression])]
        if any(_is_address(s) for s in sides):
            raise AssertionError(f"{query.name}: an address compared as text: {node.sql(dialect='trino')}")
        if any(_as_ipaddress(s) for s in sides):
            assert all(_as_ipaddress(s) for s in sides), node.sql(dialect="trino")
