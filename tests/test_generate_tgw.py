"""Transit Gateway flow logs of the generator: AWS's layout and header, records that parse back, the
lost-packet reasons and cross-account attachments, and VPC flow logs untouched by them."""

from __future__ import annotations

import gzip
from collections import defaultdict
from datetime import date

import pytest

from flowsql.demo.generate import Scenario, generate
from flowsql.demo.generate_tgw import BLACKHOLE_CIDR, NO_ROUTE_CIDR
from flowsql.logs.header import parse_header
from flowsql.logs.layout import parse_key
from flowsql.logs.tgw_fields import TGW_DEFAULT_FIELDS, TGW_FIELDS, is_tgw

START = date(2025, 3, 1)
ACCOUNTS = ("123456789012", "210987654321")


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("tgw"), Scenario(start=START, days=3, accounts=ACCOUNTS,
                                                             transit_gateways=1))


def _lines(path):
    with gzip.open(path, "rt", encoding="ascii", newline="") as f:
        text = f.read()
    assert text.endswith("\n")
    return text[:-1].split("\n")


def _tree(root, files):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def test_vpc_flow_logs_are_the_same_with_and_without_transit_gateways(tmp_path, gen):
    plain = generate(tmp_path / "plain", Scenario(start=START, days=3, accounts=ACCOUNTS))
    assert plain.tgw_records == [] and plain.tgw_files == []
    assert _tree(plain.root, plain.files) == _tree(gen.root, gen.files)
    strip = [{k: v for k, v in r.items() if k != "file"} for r in plain.records]
    assert strip == [{k: v for k, v in r.items() if k != "file"} for r in gen.records]
    assert set(gen.tgw_files).isdisjoint(gen.files)


def test_files_follow_the_layout_and_parse_back_to_the_records(gen):
    by_file = defaultdict(list)
    for r in gen.tgw_records:
        by_file[r["file"]].append(r)
    assert gen.tgw_files and set(by_file) <= set(gen.tgw_files)
    header_only = 0
    for path in gen.tgw_files:
        part, name = parse_key(path.relative_to(gen.root).as_posix())  # AWS's S3 layout and object name
        assert name.startswith(f"{part.account}_vpcflowlogs_{part.region}_fl-") and name.endswith(".log.gz")
        lines = _lines(path)
        fmt = parse_header(lines[0])
        assert is_tgw(fmt) and fmt.names == TGW_DEFAULT_FIELDS
        expected = by_file.get(path, [])
        header_only += not expected
        assert len(lines) - 1 == len(expected)
        for line, rec in zip(lines[1:], expected):
            values = line.split(" ")
            assert len(values) == len(TGW_FIELDS)
            for f, v in zip(TGW_FIELDS, values):
                assert rec[f.column] == (None if v == "-" else int(v) if f.kind != "string" else v), (f.name, line)
            assert rec["resource_type"] == "TransitGateway" and rec["version"] == 6
            assert (rec["aws_account_id"], rec["aws_region"], rec["day"]) == (part.account, part.region, part.day)
            assert rec["account_id"] == part.account  # the transit gateway's owner
    assert header_only == 2  # one a transit gateway, on its second day


def test_one_transit_gateway_per_region_owned_by_each_account_in_turn(gen):
    owners = {(r["aws_region"], r["tgw_id"], r["account_id"]) for r in gen.tgw_records}
    assert len(owners) == 2 and {o for _, _, o in owners} == set(ACCOUNTS)


def test_lost_packets_of_every_reason(gen):
    recs = gen.tgw_records
    no_route = [r for r in recs if r["packets_lost_no_route"]]
    blackhole = [r for r in recs if r["packets_lost_blackhole"]]
    assert no_route and blackhole
    for rs, cidr in ((no_route, NO_ROUTE_CIDR), (blackhole, BLACKHOLE_CIDR)):
        for r in rs:  # dropped at the gateway: no destination, no pair, all packets lost
            assert r["flow_direction"] == "ingress" and r["tgw_pair_attachment_id"] is None
            assert r["tgw_dst_vpc_id"] is None and r["packets"] == r["packets_lost_no_route"] + r["packets_lost_blackhole"]
            assert r["dstaddr"].startswith(str(cidr.network_address).rsplit(".", 2)[0])
    assert any(r["packets_lost_mtu_exceeded"] for r in recs)
    assert any(r["packets_lost_ttl_expired"] for r in recs)
    assert all(not any(r[c] for c in ("packets_lost_no_route", "packets_lost_blackhole",
                                      "packets_lost_mtu_exceeded", "packets_lost_ttl_expired"))
               for r in recs if r["flow_direction"] == "egress")


def test_crossings_are_recorded_on_both_attachments(gen):
    ingress = [r for r in gen.tgw_records if r["flow_direction"] == "ingress" and r["tgw_pair_attachment_id"]]
    egress = {(r["tgw_attachment_id"], r["tgw_pair_attachment_id"], r["srcaddr"], r["dstaddr"], r["srcport"],
               r["start"]) for r in gen.tgw_records if r["flow_direction"] == "egress"}
    assert ingress
    for r in ingress:
        lost = sum(r[c] for c in ("packets_lost_mtu_exceeded", "packets_lost_ttl_expired"))
        if r["packets"] > lost:
            assert (r["tgw_pair_attachment_id"], r["tgw_attachment_id"], r["srcaddr"], r["dstaddr"], r["srcport"],
                    r["start"]) in egress


def test_cross_account_attachments_and_a_vpn(gen):
    cross = [r for r in gen.tgw_records if r["tgw_src_vpc_account_id"] and r["tgw_dst_vpc_account_id"]
             and r["tgw_src_vpc_account_id"] != r["tgw_dst_vpc_account_id"]]
    assert cross
    assert any(r["tgw_src_vpc_account_id"] != r["account_id"] for r in cross)  # a VPC of another account
    assert any(r["tgw_src_vpc_id"] is None and r["tgw_pair_attachment_id"] for r in gen.tgw_records)  # the VPN
    assert max(r["bytes"] for r in gen.tgw_records) > 2**32


def test_hive_layout(tmp_path):
    g = generate(tmp_path, Scenario(start=START, days=1, flows_per_day=40, hive=True, per_hour=True,
                                    transit_gateways=1))
    assert g.tgw_files and all("aws-service=vpcflowlogs" in p.as_posix() and "/hour=" in p.as_posix()
                               for p in g.tgw_files)
    assert all(parse_key(p.relative_to(g.root).as_posix()) for p in g.tgw_files)


def test_scenario_bounds(tmp_path):
    with pytest.raises(ValueError, match="transit gateways"):
        generate(tmp_path, Scenario(start=START, days=1, transit_gateways=9))
