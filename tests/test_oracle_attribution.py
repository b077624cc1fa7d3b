"""The attribution and logging-health queries beyond tests/test_oracle.py's grid: what the generated
tree must show, refusals through the CLI, and hand-made trees for the rules the generator never meets."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.engines.local.engine import LocalEngine
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query
from flowsql.runner import run
from test_oracle import ACCOUNTS, SCENARIO, START
from trees import record, write_log

WHOLE = Window(START, START + timedelta(days=8))


@pytest.fixture(scope="module")
def tree(generated_tree):
    """tests/test_oracle.py's tree without its ECS service: the properties below (the logging gap of the
    first account's first region, the default format of us-east-1) are of the generator's base traffic."""
    return generated_tree(dataclasses.replace(SCENARIO, ecs=False))


def _engine_rows(root, inventory_dir, name, window, **narrow):
    engine = LocalEngine(root, window, inventory=load_inventory(inventory_dir, window=window) if inventory_dir else None,
                         **narrow)
    try:
        return run(get_query(name), {}, engine, window, **narrow).result.records()
    finally:
        engine.close()


def _oracle_rows(name, records, inventory_dir, window, params=None, **narrow):
    fn, _ = oracle.ORACLES[name]
    return fn(records, inventory_dir, params or {}, since=window.since, until=window.until, **narrow)


def _epoch(d: date, hour: int = 0) -> int:
    return int(datetime(d.year, d.month, d.day, hour, tzinfo=timezone.utc).timestamp())


def test_the_logging_gap_of_the_generated_tree_is_found(tree):
    """The generator's gap: nothing at all from the first account's first region on the fourth day,
    10:00-13:00 UTC. The engine finds those three hours, and the hours around them only if the oracle
    (the spec over the records) says no record started in them."""
    w = Window(START + timedelta(days=2), START + timedelta(days=5))
    got = _engine_rows(tree.root, None, "logging-gaps", w)
    assert got == _oracle_rows("logging-gaps", tree.records, tree.inventory_dir, w)
    gaps = {r["hour"] for r in got if (r["aws_account_id"], r["aws_region"]) == (ACCOUNTS[0], "us-east-1")}
    day = START + timedelta(days=3)
    assert {_epoch(day, 10), _epoch(day, 11), _epoch(day, 12)} <= gaps
    starts = {r["start"] - r["start"] % 3600 for r in tree.records
              if (r["aws_account_id"], r["aws_region"]) == (ACCOUNTS[0], "us-east-1") and w.since <= r["day"] <= w.until}
    assert gaps == {h for h in range(_epoch(w.since), _epoch(w.until + timedelta(days=1)), 3600)} - starts


def test_the_generated_tree_reaches_every_kind_of_row(tree):
    """The comparisons of tests/test_oracle.py would be weak if the interesting cases were absent."""
    def rows(name, **params):
        return _oracle_rows(name, tree.records, tree.inventory_dir, WHOLE, {k: str(v) for k, v in params.items()})

    nat = rows("nat-gateway-egress", limit=10000)
    assert any(r["destination"] is None for r in nat), "default format: no pkt-dstaddr"
    assert any(r["destination"] and oracle.classify(r["destination"], []) == "internet" for r in nat)
    lbs = rows("load-balancer-traffic", limit=10000)
    assert len({r["load_balancer"] for r in lbs}) == len(ACCOUNTS) * 2
    assert any(":" in r["srcaddr"] for r in lbs), "IPv6 clients of the load balancer"
    assert {r["action"] for r in rows("vpc-endpoint-traffic")} == {"ACCEPT", "REJECT"}
    assert {r["service"] for r in rows("database-traffic")} == {"rds", "elasticache"}
    assert {"S3", "DYNAMODB"} <= {r["service"] for r in rows("aws-service-traffic")}
    cross = rows("cross-az-traffic")
    assert {(r["source_az"], r["destination_az"]) for r in cross} == {("euw1-az1", "euw1-az2"), ("euw1-az2", "euw1-az1")}
    assert {r["log_status"] for r in rows("nodata-skipdata")} == {"NODATA", "SKIPDATA"}


def test_a_query_that_needs_a_v5_field_is_refused_on_a_default_format_region(tree):
    """`flowsql query aws-service-traffic --region us-east-1`: that region's flow log has the default
    format, so no file can answer: exit 2, the field named. The custom-format region answers."""
    args = ["query", "aws-service-traffic", "--engine", "local", "--source", str(tree.root),
            "--since", WHOLE.since.isoformat(), "--until", WHOLE.until.isoformat(), "-o", "json"]
    refused = CliRunner().invoke(app, [*args, "--region", "us-east-1"])
    assert refused.exit_code == 2 and refused.stdout == ""
    [line] = [x for x in refused.stderr.splitlines() if x.startswith("flowsql: error:")]
    assert "no file in the window can answer aws-service-traffic" in line and "pkt-dst-aws-service" in line

    answered = CliRunner().invoke(app, [*args, "--region", "eu-west-1"])
    assert answered.exit_code == 0, answered.output
    want = _oracle_rows("aws-service-traffic", tree.records, tree.inventory_dir, WHOLE, regions=["eu-west-1"])
    assert json.loads(answered.stdout) == want and want


def test_nat_gateway_egress_without_pkt_dstaddr_says_what_is_missing(tree):
    r = CliRunner().invoke(app, ["query", "nat-gateway-egress", "--engine", "local", "--source", str(tree.root),
                                 "--inventory", str(tree.inventory_dir), "--region", "us-east-1", "-o", "json",
                                 "--since", WHOLE.since.isoformat(), "--until", WHOLE.until.isoformat()])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows and all(row["destination"] is None for row in rows)
    assert "have no pkt-dstaddr field: the destination beyond the NAT gateway is unknown" in r.stderr


# --- a hand-made tree: the rules of cross-az-traffic and vpc-endpoint-traffic the generator never meets

HEADER = "version interface-id srcaddr dstaddr packets bytes action log-status az-id"
DAY = date(2026, 3, 1)


def _subnet(sid, vpc, zone, zone_id):
    return {"SubnetId": sid, "VpcId": vpc, "AvailabilityZone": zone, "CidrBlock": "10.0.0.0/16",
            **({"AvailabilityZoneId": zone_id} if zone_id else {})}


def _eni(eid, subnet, vpc, ip, **more):
    return {"NetworkInterfaceId": eid, "SubnetId": subnet, "VpcId": vpc, "PrivateIpAddress": ip,
            "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": True}], "InterfaceType": "interface", **more}


@pytest.fixture()
def small(tmp_path):
    inv = tmp_path / "inventory"
    inv.mkdir()
    subnets = [
        _subnet("subnet-1", "vpc-1", "us-east-1a", "use1-az1"),
        _subnet("subnet-2", "vpc-1", "us-east-1b", "use1-az2"),
        _subnet("subnet-3", "vpc-2", "us-east-1c", "use1-az3"),
        _subnet("subnet-4", "vpc-3", "eu-west-1a", "euw1-az1"),
        _subnet("subnet-5", "vpc-1", "us-east-1c", "use1-az3"),
        _subnet("subnet-6", "vpc-2", "us-east-1a", None),  # an older inventory without zone ids
    ]
    enis = [
        _eni("eni-a", "subnet-1", "vpc-1", "10.0.1.10"),     # the sender, in use1-az1
        _eni("eni-b", "subnet-2", "vpc-1", "10.0.2.20"),     # the sender's VPC: preferred
        _eni("eni-c", "subnet-3", "vpc-2", "10.0.2.20"),     # the same address in an overlapping VPC
        _eni("eni-d", "subnet-4", "vpc-3", "10.9.0.5"),      # another region only
        _eni("eni-e", "subnet-3", "vpc-2", "10.5.0.5"),      # a peered VPC of the region
        _eni("eni-f", "subnet-2", "vpc-1", "10.0.9.9"),      # one address, two ENIs of the sender's VPC
        _eni("eni-g", "subnet-5", "vpc-1", "10.0.9.9"),      #   in two zones: ambiguous
        _eni("eni-h", "subnet-1", "vpc-1", "10.0.1.77"),     # the sender's own zone
        _eni("eni-i", "subnet-6", "vpc-2", "10.6.0.6"),      # a subnet without a zone id
        _eni("eni-v", "subnet-1", "vpc-1", "10.0.3.3", InterfaceType="vpc_endpoint",
             Description="VPC Endpoint Interface"),          # no vpce- id in its description
        _eni("eni-w", "subnet-2", "vpc-1", "10.0.3.4", InterfaceType="vpc_endpoint",
             Description="VPC Endpoint Interface vpce-0abc123def4567890"),
    ]
    (inv / "subnets.json").write_text(json.dumps({"Subnets": subnets}))
    (inv / "network-interfaces.json").write_text(json.dumps({"NetworkInterfaces": enis}))
    lines = [
        "5 eni-a 10.0.1.10 10.0.2.20 1 100 ACCEPT OK use1-az1",   # -> use1-az2 (eni-b, not eni-c)
        "5 eni-a 10.0.1.10 10.9.0.5 1 200 ACCEPT OK use1-az1",    # other region: no
        "5 eni-a 10.0.1.10 10.5.0.5 1 300 ACCEPT OK use1-az1",    # -> use1-az3 (peered)
        "5 eni-a 10.0.1.10 10.0.9.9 1 400 ACCEPT OK use1-az1",    # ambiguous: no
        "5 eni-a 10.0.1.10 10.0.1.77 1 500 ACCEPT OK use1-az1",   # same zone: no
        "5 eni-a 10.0.2.20 10.0.1.10 1 600 ACCEPT OK use1-az1",   # received, not sent: no
        "5 eni-a 10.0.1.10 10.0.2.20 1 700 REJECT OK use1-az1",   # rejected: no
        "5 eni-a 10.0.1.10 10.5.0.5 1 800 ACCEPT OK -",           # no az-id: no
        "5 eni-a 10.0.1.10 10.6.0.6 1 900 ACCEPT OK use1-az1",    # destination without a zone id: no
        "5 eni-b 10.0.2.20 10.0.1.10 1 50 ACCEPT OK use1-az2",    # -> use1-az1
        "5 eni-c 10.0.2.20 10.0.1.10 1 60 ACCEPT OK use1-az3",    # -> use1-az1 (eni-a, another VPC)
        "5 eni-c 10.0.2.20 10.0.1.10 1 7 ACCEPT OK use1-az3",
        "5 eni-v 10.0.1.10 10.0.3.3 2 30 ACCEPT OK use1-az1",
        "5 eni-w 10.0.1.10 10.0.3.4 2 40 REJECT OK use1-az2",
    ]
    path = write_log(tmp_path, "a.log.gz", lines, header=HEADER, day=DAY)
    # the records as the oracle reads them: typed, with their partition
    records = []
    for line in lines:
        v = dict(zip(HEADER.split(), line.split()))
        records.append({"interface_id": v["interface-id"], "srcaddr": v["srcaddr"], "dstaddr": v["dstaddr"],
                        "packets": int(v["packets"]), "bytes": int(v["bytes"]), "action": v["action"],
                        "log_status": v["log-status"], "az_id": None if v["az-id"] == "-" else v["az-id"],
                        "day": DAY, "aws_account_id": "111111111111", "aws_region": "us-east-1", "file": path})
    return tmp_path, inv, records


def test_cross_az_destinations_by_the_rules(small):
    root, inv, records = small
    w = Window(DAY, DAY)
    got = _engine_rows(root, inv, "cross-az-traffic", w)
    # by hand from docs/queries.md
    assert got == [
        {"source_az": "use1-az1", "destination_az": "use1-az3", "flows": 1, "packets": 1, "bytes": 300},
        {"source_az": "use1-az1", "destination_az": "use1-az2", "flows": 1, "packets": 1, "bytes": 100},
        {"source_az": "use1-az3", "destination_az": "use1-az1", "flows": 2, "packets": 2, "bytes": 67},
        {"source_az": "use1-az2", "destination_az": "use1-az1", "flows": 1, "packets": 1, "bytes": 50},
    ]
    assert got == _oracle_rows("cross-az-traffic", records, inv, w)


def test_an_endpoint_without_an_id_in_its_description_is_null_on_both_engines(small):
    """Trino's regexp_extract gives NULL where nothing matches, DuckDB's an empty string."""
    root, inv, records = small
    w = Window(DAY, DAY)
    got = _engine_rows(root, inv, "vpc-endpoint-traffic", w)
    assert got == [
        {"endpoint": "vpce-0abc123def4567890", "srcaddr": "10.0.1.10", "action": "REJECT", "flows": 1,
         "packets": 2, "bytes": 40},
        {"endpoint": None, "srcaddr": "10.0.1.10", "action": "ACCEPT", "flows": 1, "packets": 2, "bytes": 30},
    ]
    assert got == _oracle_rows("vpc-endpoint-traffic", records, inv, w)


def test_logging_gaps_never_counts_an_hour_under_way_or_to_come(tmp_path):
    """A window ending today holds hours that have not happened: no record can have started in
    them, and they are no gap. Only the hours before the current one count."""
    now = datetime.now(timezone.utc)
    today = now.date()
    midnight = _epoch(today)
    first = record().replace(" 1 2 ACCEPT", f" {midnight + 60} {midnight + 120} ACCEPT")
    write_log(tmp_path, "a.log.gz", [first], day=today)
    w = Window(today, today)
    got = _engine_rows(tmp_path, None, "logging-gaps", w)
    current_hour = midnight + now.hour * 3600
    # the run may cross an hour: what it saw lies between the hours before the start and after it
    hours = {r["hour"] for r in got}
    assert all(h < max(current_hour, _epoch(datetime.now(timezone.utc).date()) +
                       datetime.now(timezone.utc).hour * 3600) for h in hours)
    assert set(range(midnight + 3600, current_hour, 3600)) <= hours


def test_logging_gaps_over_a_window_longer_than_trinos_sequence(tmp_path):
    """A gap of 12,000 hours (501 days without a record between two): Trino's sequence() makes at
    most 10,000 elements, so one sequence over the gap would fail on Athena. The Athena SQL, run
    under Trino's limit (tests/trino.py), and the local engine both give every missing hour, as the
    oracle does."""
    import trino
    from flowsql.pack.render import render
    from trees import ACCOUNT, REGION

    first, last = date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=500)
    other = "222222222222"
    records = []
    for account, day in ((ACCOUNT, first), (ACCOUNT, last), (other, first + timedelta(days=250))):
        start = _epoch(day) + 30
        write_log(tmp_path, f"{account}-{day}.log.gz",
                  [record(account=account).replace(" 1 2 ACCEPT", f" {start} {start + 30} ACCEPT")],
                  account=account, day=day)
        records.append({"aws_account_id": account, "aws_region": REGION, "day": day, "start": start,
                        "log_status": "OK"})
    w = Window(first, last)
    expected = _oracle_rows("logging-gaps", records, None, w)
    assert len([r for r in expected if r["aws_account_id"] == ACCOUNT]) == 501 * 24 - 2 > trino.SEQUENCE_MAX

    assert _engine_rows(tmp_path, None, "logging-gaps", w) == expected
    sql = render(get_query("logging-gaps"), {}, trino.TARGET, w).sql
    assert trino.run(sql, records, {"start": "BIGINT", "log_status": "VARCHAR"}) == expected


def test_the_trino_emulation_refuses_a_sequence_over_its_limit():
    """The emulation itself fails as Athena does: otherwise the test above would show nothing."""
    import duckdb

    import trino

    sql = ("SELECT m.x FROM flowsql.vpc_flow_logs AS t CROSS JOIN unnest(sequence(t.start, t.start + 10000)) "
           "AS m (x) WHERE t.day = '2024/01/01'")
    rec = {"aws_account_id": "1", "aws_region": "r", "day": date(2024, 1, 1), "start": 0}
    with pytest.raises(duckdb.Error, match="must not have more than 10000 entries"):
        trino.run(sql, [rec], {"start": "BIGINT"})
    assert len(trino.run(sql.replace("10000", "9999"), [rec], {"start": "BIGINT"})) == 10_000
