"""The traffic queries against the oracle with addresses and ENIs picked from the generated tree.

tests/test_oracle.py checks every traffic query with one value of a required address or ENI; here more
values come from the records, in both log formats (us-east-1: default, eu-west-1: custom v5), IPv4 and
IPv6.
"""

import ipaddress
import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.engines.local.engine import LocalEngine
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query
from flowsql.runner import run
from test_oracle import PLAIN_SCENARIO, START

WINDOW = Window(START + timedelta(days=2), START + timedelta(days=5))
REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def tree(generated_tree):
    # the traffic of tests/test_oracle.py in AWS's spelling, one tree per session
    return generated_tree(PLAIN_SCENARIO)


def _run(tree, name, params, w=WINDOW, accounts=(), regions=()):
    engine = LocalEngine(tree.root, w, inventory=load_inventory(tree.inventory_dir, window=w), accounts=accounts,
                         regions=regions)
    try:
        return run(get_query(name), params, engine, w, accounts=accounts, regions=regions).result
    finally:
        engine.close()


def _expected(tree, name, params, w=WINDOW, accounts=(), regions=()):
    fn, _ = oracle.ORACLES[name]
    return fn(tree.records, tree.inventory_dir, params, since=w.since, until=w.until,
              accounts=accounts or None, regions=regions or None)


def _busiest(tree, column, region, ipv6=False):
    """The value of `column` on the most OK records of `region` in the window (ties: the smallest)."""
    counts = Counter(r[column] for r in oracle._selected(tree.records, WINDOW.since, WINDOW.until, None, [region])
                     if r[column] is not None and (":" in r[column]) == ipv6)
    return min(counts, key=lambda v: (-counts[v], v))


COLUMNS = {  # docs/queries.md, "Traffic overview"
    "top-talkers": ["srcaddr", "dstaddr", "flows", "packets", "bytes"],
    "top-sources": ["srcaddr", "flows", "packets", "bytes", "destinations"],
    "top-interfaces": ["interface_id", "subnet_id", "flows", "packets", "bytes", "rejected_flows"],
    "top-subnets": ["subnet_id", "interfaces", "flows", "packets", "bytes", "rejected_flows"],
    "traffic-by-protocol": ["protocol", "ip_version", "flows", "packets", "bytes", "accepted_flows",
                            "rejected_flows"],
    "traffic-from-address": ["dstaddr", "dstport", "protocol", "action", "flows", "packets", "bytes",
                             "first_seen", "last_seen"],
    "traffic-to-address": ["srcaddr", "dstport", "protocol", "action", "flows", "packets", "bytes",
                           "first_seen", "last_seen"],
    "address-first-last-seen": ["interface_id", "first_seen", "last_seen", "flows_out", "flows_in", "bytes_out",
                                "bytes_in", "rejected_flows"],
    "eni-timeline": ["hour", "flows", "packets", "bytes", "accepted_flows", "rejected_flows"],
}


PICKS = [  # query, the column its value is picked from, IPv6
    ("traffic-from-address", "srcaddr", False),
    ("traffic-from-address", "srcaddr", True),
    ("traffic-to-address", "dstaddr", False),
    ("traffic-to-address", "dstaddr", True),
    ("address-first-last-seen", "dstaddr", False),
    ("address-first-last-seen", "srcaddr", True),
    ("eni-timeline", "interface_id", False),
]


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("name,column,ipv6", PICKS, ids=[f"{n}-{c}{'-v6' if v6 else ''}" for n, c, v6 in PICKS])
def test_picked_values_against_oracle(tree, name, column, ipv6, region):
    value = _busiest(tree, column, region, ipv6)
    params = {"eni" if name == "eni-timeline" else "address": value}
    result = _run(tree, name, params)
    assert result.columns == COLUMNS[name]
    assert result.records() == _expected(tree, name, params) and result.rows, f"{name} {value}"


VARIANTS = [  # the parameter values tests/test_oracle.py leaves at their defaults
    ("top-talkers", {"action": "ACCEPT", "limit": "7"}),
    ("top-sources", {"action": "REJECT", "limit": "1000"}),
    ("top-interfaces", {"limit": "3"}),
    ("top-subnets", {"limit": "1000"}),
    ("traffic-by-protocol", {}),
]


@pytest.mark.parametrize("name,params", VARIANTS, ids=[n for n, _ in VARIANTS])
def test_other_parameters_against_oracle(tree, name, params):
    result = _run(tree, name, params)
    assert result.columns == COLUMNS[name]
    assert result.records() == _expected(tree, name, params) and result.rows


def test_an_ipv6_address_in_any_spelling(tree):
    """The `ip` type compares the canonical text (compressed, lower case), as flow logs write IPv6."""
    address = _busiest(tree, "srcaddr", "us-east-1", ipv6=True)
    long_form = ipaddress.ip_address(address).exploded.upper()
    assert long_form != address
    got = _run(tree, "traffic-from-address", {"address": long_form}).records()
    assert got == _run(tree, "traffic-from-address", {"address": address}).records() and got


def test_the_quirks_reach_the_results(tree):
    """What would make the comparisons weak if it were absent from the rows."""
    w = {"since": WINDOW.since, "until": WINDOW.until}
    interfaces = oracle.ORACLES["top-interfaces"][0](tree.records, tree.inventory_dir, {"limit": "1000"}, **w)
    assert any(r["subnet_id"] is None for r in interfaces), "an ENI neither its records nor the inventory place"
    assert any(r["bytes"] > 2**32 for r in interfaces) and any(r["rejected_flows"] for r in interfaces)
    subnets = oracle.ORACLES["top-subnets"][0](tree.records, tree.inventory_dir, {"limit": "1000"}, **w)
    assert any(r["subnet_id"] is None for r in subnets)
    assert any(r["interfaces"] > 1 for r in subnets)
    protocols = oracle.ORACLES["traffic-by-protocol"][0](tree.records, tree.inventory_dir, {}, **w)
    assert {(r["protocol"], r["ip_version"]) for r in protocols} >= {(6, "IPv4"), (6, "IPv6"), (1, "IPv4"),
                                                                      (58, "IPv6"), (47, "IPv4"), (17, "IPv4")}
    # the GRE peer both sends and receives on one ENI: flows_out and flows_in on one row
    seen = oracle.ORACLES["address-first-last-seen"][0](tree.records, tree.inventory_dir,
                                                         {"address": "192.168.20.1"}, **w)
    assert seen and all(r["flows_out"] and r["flows_in"] for r in seen)
    # an hour is the hour of `start`: the first day's folder holds records that started the day before
    first = int(datetime(WINDOW.since.year, WINDOW.since.month, WINDOW.since.day, tzinfo=timezone.utc).timestamp())
    eni = min(r["interface_id"] for r in oracle._selected(tree.records, WINDOW.since, WINDOW.until, None, None)
              if r["start"] < first)
    hours = [r["hour"] for r in oracle.ORACLES["eni-timeline"][0](tree.records, tree.inventory_dir, {"eni": eni}, **w)]
    assert min(hours) < first and all(h % 3600 == 0 for h in hours)
    assert _run(tree, "eni-timeline", {"eni": eni}).records() == _expected(tree, "eni-timeline", {"eni": eni})


def test_cli_json_with_an_address(tree):
    address = _busiest(tree, "dstaddr", "eu-west-1")
    r = CliRunner().invoke(app, ["query", "traffic-to-address", "--engine", "local", "--source", str(tree.root),
                                 "--since", WINDOW.since.isoformat(), "--until", WINDOW.until.isoformat(),
                                 "-p", f"address={address}", "-o", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == _expected(tree, "traffic-to-address", {"address": address})


@pytest.mark.parametrize("args,message", [
    ([], "parameter eni: required (give -p eni=VALUE)"),
    (["-p", "eni=i-0123456789abcdef0"], "parameter eni: expected an ENI id"),
])
def test_a_missing_or_bad_eni_is_one_line_and_exit_2(tree, args, message):
    r = CliRunner().invoke(app, ["query", "eni-timeline", "--engine", "local", "--source", str(tree.root),
                                 "--since", WINDOW.since.isoformat(), "--until", WINDOW.until.isoformat(), *args])
    assert r.exit_code == 2
    [line] = r.stderr.strip().splitlines()
    assert line.startswith(f"flowsql: error: {message}")
