"""The local engine against the oracle: plain Python over the generator's records.

The trees carry every quirk of DESIGN.md's Testing section (see tests/test_generate.py); each query is
checked for several windows, accounts, regions, both formats, through the library and the CLI.
"""

import dataclasses
import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.demo.generate import Scenario
from flowsql.engines.local.engine import LocalEngine
from flowsql.errors import UsageError
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query, load_pack
from flowsql.runner import run

START = date(2026, 9, 28)
ACCOUNTS = ("111122223333", "444455556666")


# half of the IPv6 addresses in other spellings than AWS's (2001:DB8:0:0:…): compared as addresses
# Transit Gateway flow logs beside the VPC flow logs: the VPC queries must leave them out;
# an ECS service (v7 records naming their task, and a VPC whose records leave the ecs-* fields `-`)
SCENARIO = Scenario(start=START, days=9, accounts=ACCOUNTS, flows_per_day=260, files_per_day=3, seed=11,
                    ipv6_spellings=True, transit_gateways=1, ecs=True)


# the same traffic in AWS's spelling only (tests/test_oracle_traffic.py, test_oracle_exposure.py, test_investigate.py)
PLAIN_SCENARIO = dataclasses.replace(SCENARIO, ipv6_spellings=False)


@pytest.fixture(scope="module")
def tree(generated_tree):
    """The oracle tests' tree (tests/test_oracle_attribution.py imports this fixture), one per session."""
    return generated_tree(SCENARIO)


WINDOWS = [
    (START, START),                                   # one day, with records from before midnight
    (START + timedelta(days=2), START + timedelta(days=5)),
    (START - timedelta(days=3), START + timedelta(days=20)),  # wider than the data
    (START + timedelta(days=30), START + timedelta(days=31)),  # no data at all
]
NARROWING = [
    ((), ()),
    ((ACCOUNTS[1],), ()),
    ((), ("us-east-1",)),      # default format only
    ((), ("eu-west-1",)),      # custom v5 format only
    ((ACCOUNTS[0],), ("eu-west-1", "us-east-1")),
]


def records_of(g, name):
    """The generated records of the table the query reads (its header's `table:`)."""
    return g.tgw_records if get_query(name).table == "tgw" else g.records


def _expected(name, g, params, window, accounts, regions):
    fn, _ = oracle.ORACLES[name]
    records = records_of(g, name)
    return fn(records, g.inventory_dir, params, since=window.since, until=window.until,
              accounts=accounts or None, regions=regions or None)


PACK_NAMES = [q.name for q in load_pack()]
CASES = [(name, case) for name in PACK_NAMES if name in oracle.ORACLES for case in oracle.ORACLES[name][1]]
CASE_IDS = [f"{name}-{oracle.case_id(case)}" for name, case in CASES]


def test_every_pack_query_has_an_oracle():
    """A query added to the pack without an oracle (and its cases) is not checked at all: that fails here."""
    missing = [n for n in PACK_NAMES if n not in oracle.ORACLES]
    assert not missing, f"pack queries without an oracle in tests/oracle.py: {missing}"
    stale = [n for n in oracle.ORACLES if n not in PACK_NAMES]
    assert not stale, f"oracles of queries the pack no longer has: {stale}"


@pytest.mark.parametrize("name,case", CASES, ids=CASE_IDS)
def test_every_case_has_rows(tree, name, case):
    """A case whose expected rows are empty in every window compares `[] == []` and proves nothing (an
    ENI or an address pair the tree does not have): each has a window with rows, the empty ones stay."""
    fn, _ = oracle.ORACLES[name]
    records = records_of(tree, name)
    params = oracle.case_params(case, records, tree.inventory_dir)
    counts = []
    for since, until in WINDOWS:
        try:
            counts.append(len(fn(records, tree.inventory_dir, params, since=since, until=until,
                                  accounts=None, regions=None)))
        except oracle.Refused:
            counts.append(0)
    assert any(counts), f"{name} {params}: no window of {WINDOWS} has rows"


@pytest.mark.parametrize("name,case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: f"{w[0]:%m%d}-{w[1]:%m%d}")
@pytest.mark.parametrize("accounts,regions", NARROWING, ids=lambda x: ",".join(x) or "all")
def test_local_engine_equals_oracle(tree, name, case, window, accounts, regions):
    params = oracle.case_params(case, records_of(tree, name), tree.inventory_dir)
    w = Window(*window)
    engine = LocalEngine(tree.root, w, inventory=load_inventory(tree.inventory_dir, window=w), accounts=accounts, regions=regions)
    try:
        want = _expected(name, tree, params, w, accounts, regions)
    except oracle.Refused as refused:  # no file of the request has a field the query needs
        with pytest.raises(UsageError, match=f"no file in the window can answer {name}: .*{refused}"):
            run(get_query(name), params, engine, w, accounts=accounts, regions=regions)
        engine.close()
        return
    try:
        got = run(get_query(name), params, engine, w, accounts=accounts, regions=regions).result.records()
    finally:
        engine.close()
    assert got == want
    if window == WINDOWS[1] and not accounts and not regions:
        assert want, "the main window must have rows, or the comparison proves little"


def test_subnet_parameter_against_oracle(tree):
    w = Window(START, START + timedelta(days=8))
    inv = load_inventory(tree.inventory_dir, window=w)
    everything = oracle.rejects_by_subnet(tree.records, tree.inventory_dir, since=w.since, until=w.until)
    subnet = next(r["subnet_id"] for r in everything if r["subnet_id"])
    engine = LocalEngine(tree.root, w, inventory=inv)
    got = run(get_query("rejects-by-subnet"), {"subnet": subnet}, engine, w).result.records()
    assert got == [r for r in everything if r["subnet_id"] == subnet] and len(got) == 1


def test_the_quirks_reach_the_results(tree):
    """The comparisons above would be weak if the interesting cases were absent from the results."""
    w = Window(START, START + timedelta(days=8))
    rejects = oracle.rejects_by_subnet(tree.records, tree.inventory_dir, since=w.since, until=w.until)
    assert any(r["subnet_id"] is None for r in rejects), "ENIs outside the inventory give a null subnet"
    egress = oracle.lambda_egress(tree.records, tree.inventory_dir, since=w.since, until=w.until, limit=10000)
    assert {r["destination"] for r in egress} == {"vpc", "private", "internet"}
    assert any(":" in r["dstaddr"] for r in egress), "IPv6 Lambda egress"
    assert any(":" in r["dstaddr"] and r["destination"] == "vpc" for r in egress), "IPv6 inside the VPC's block"
    # a Lambda ENI deleted half-way: only the older snapshot has it, and it sent traffic in the window
    def ids(folder):
        return {e["NetworkInterfaceId"] for e in
                json.loads((folder / "network-interfaces.json").read_text())["NetworkInterfaces"]}
    [dated] = [p for p in tree.inventory_dir.iterdir() if p.is_dir() and p.name[:2] == "20"]
    retired = ids(dated) - ids(tree.inventory_dir)
    assert retired and any(r["interface_id"] in retired and r["action"] == "ACCEPT" and w.since <= r["day"] <= w.until
                           for r in tree.records)
    top = oracle.top_destinations(tree.records, since=w.since, until=w.until, action="ANY", limit=1000)
    assert max(r["bytes"] for r in top) > 2**32


@pytest.mark.parametrize("accounts,regions", NARROWING, ids=lambda x: ",".join(x) or "all")
def test_cli_json_is_exactly_the_oracle(tree, accounts, regions):
    """`flowsql query top-destinations --engine local --source D --since --until --output json`."""
    since, until = START + timedelta(days=1), START + timedelta(days=3)
    args = ["query", "top-destinations", "--engine", "local", "--source", str(tree.root),
            "--since", since.isoformat(), "--until", until.isoformat(), "--output", "json"]
    for a in accounts:
        args += ["--account", a]
    if regions:
        args += ["--region", ",".join(regions)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    want = oracle.top_destinations(tree.records, since=since, until=until, accounts=accounts or None,
                                   regions=regions or None)
    assert rows == want and rows
    assert all(isinstance(r["bytes"], int) for r in rows)


def test_source_may_be_the_awslogs_folder_itself(tree):
    w = Window(START, START + timedelta(days=2))
    a = LocalEngine(tree.root, w)
    b = LocalEngine(tree.root / "AWSLogs", w)
    assert [f.path for f in a.files] == [f.path for f in b.files] and a.files


def test_ecs_service_traffic_and_traffic_from_an_ecs_task_name_the_task(tree):
    """Records of an ECS task name it in traffic-from-address; ecs-service-traffic sees every destination
    class, the task no service started, and nothing of the VPC whose records leave the fields `-`."""
    w = Window(START, START + timedelta(days=8))
    named = [r for r in tree.records if r["ecs_task_id"] and r["flow_direction"] == "egress"
             and r["ecs_service_name"] == "orders-api" and w.since <= r["day"] <= w.until]
    address = max(sorted({r["srcaddr"] for r in named}), key=lambda a: sum(r["srcaddr"] == a for r in named))
    engine = LocalEngine(tree.root, w, inventory=load_inventory(tree.inventory_dir, window=w))
    try:
        got = run(get_query("traffic-from-address"), {"address": address}, engine, w).result.records()
        services = run(get_query("ecs-service-traffic"), {}, engine, w).result.records()
    finally:
        engine.close()
    assert got == _expected("traffic-from-address", tree, {"address": address}, w, (), ())
    tasks = {(r["ecs_cluster"], r["ecs_service"], r["ecs_task_id"]) for r in got}
    assert ("prod", "orders-api", next(r["ecs_task_id"] for r in named if r["srcaddr"] == address)) in tasks
    assert services == _expected("ecs-service-traffic", tree, {}, w, (), ())
    assert {r["destination"] for r in services} == {"internet", "vpc", "aws-service"}
    assert any(r["ecs_service"] is None and r["ecs_cluster"] == "batch" for r in services)
    assert {r["ecs_cluster"] for r in services} == {"prod", "batch"}, "the unpermitted VPC's records add nothing"
