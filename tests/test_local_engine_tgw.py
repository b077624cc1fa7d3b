"""Transit Gateway flow-log files in the local engine: told apart by their header, checked like every
file, read into their own view, never mixed into the VPC flow logs' (a VPC query says it left them out)."""

import gzip
from datetime import date

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.engines.local.engine import LocalEngine
from flowsql.engines.local.integrity import _Cache, _stamp
from flowsql.errors import DataError
from flowsql.logs.fields import DEFAULT_FIELDS
from flowsql.logs.tgw_fields import TGW_DEFAULT_FIELDS, TGW_FIELDS, is_tgw
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query
from flowsql.runner import run

DAY = date(2026, 3, 1)
ACCOUNT = "111111111111"
VPC_LINE = f"2 {ACCOUNT} eni-1 10.0.0.1 9.9.9.9 1 443 6 10 60 1 2 ACCEPT OK"


def _tgw_line(attachment="tgw-attach-a", pair="tgw-attach-b", packets=10, no_route=0, blackhole=0,
              direction="ingress", packets_text=None):
    values = {
        "version": "6", "resource-type": "TransitGateway", "account-id": ACCOUNT, "tgw-id": "tgw-1",
        "tgw-attachment-id": attachment, "tgw-src-vpc-account-id": ACCOUNT,
        "tgw-dst-vpc-account-id": "222222222222" if pair != "-" else "-", "tgw-src-vpc-id": "vpc-a",
        "tgw-dst-vpc-id": "vpc-b" if pair != "-" else "-", "tgw-src-subnet-id": "subnet-a", "tgw-dst-subnet-id": "-",
        "tgw-src-eni": "eni-a", "tgw-dst-eni": "-", "tgw-src-az-id": "use1-az1", "tgw-dst-az-id": "-",
        "tgw-pair-attachment-id": pair, "srcaddr": "10.0.0.1", "dstaddr": "10.1.0.1", "srcport": "40000",
        "dstport": "443", "protocol": "6", "packets": packets_text or str(packets), "bytes": str(packets * 100),
        "start": "1", "end": "2", "log-status": "OK", "type": "IPv4", "packets-lost-no-route": str(no_route),
        "packets-lost-blackhole": str(blackhole), "packets-lost-mtu-exceeded": "0",
        "packets-lost-ttl-expired": "0", "tcp-flags": "3", "region": "us-east-1", "flow-direction": direction,
        "pkt-src-aws-service": "-", "pkt-dst-aws-service": "-",
    }
    return " ".join(values[n] for n in TGW_DEFAULT_FIELDS)


def _write(root, name, header, lines, day=DAY):
    d = root / "AWSLogs" / ACCOUNT / "vpcflowlogs" / "us-east-1" / f"{day:%Y/%m/%d}"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode()))
    return d / name


@pytest.fixture
def tree(tmp_path):
    _write(tmp_path, "vpc.log.gz", " ".join(DEFAULT_FIELDS), [VPC_LINE])
    _write(tmp_path, "tgw.log.gz", " ".join(TGW_DEFAULT_FIELDS),
           [_tgw_line(), _tgw_line("tgw-attach-b", "tgw-attach-a", direction="egress"),
            _tgw_line(pair="-", packets=4, no_route=4), _tgw_line(pair="-", packets=3, blackhole=3)])
    # a custom Transit Gateway format: some fields, in another order
    _write(tmp_path, "tgw-custom.log.gz", "tgw-id packets-lost-blackhole resource-type tgw-attachment-id log-status",
           ["tgw-2 7 TransitGateway tgw-attach-c OK"])
    return tmp_path


def test_the_views_are_apart_and_the_tgw_one_has_its_format_order(tree):
    engine = LocalEngine(tree, Window(DAY, DAY))
    assert engine.execute("SELECT count(*), min(dstaddr) FROM flow_logs").rows == [(1, "9.9.9.9")]
    result = engine.execute("SELECT * FROM tgw_flow_logs ORDER BY tgw_id, packets_lost_blackhole, packets")
    assert result.columns == [f.column for f in TGW_FIELDS] + ["aws_account_id", "aws_region", "day"]
    rows = result.records()
    assert len(rows) == 5
    custom = rows[-1]
    assert (custom["tgw_id"], custom["tgw_attachment_id"], custom["packets_lost_blackhole"], custom["packets"],
            custom["day"]) == ("tgw-2", "tgw-attach-c", 7, None, "2026/03/01")
    assert {r["resource_type"] for r in rows} == {"TransitGateway"}
    engine.close()


def test_a_vpc_query_leaves_the_tgw_files_out_and_says_so_in_one_line(tree):
    w = Window(DAY, DAY)
    engine = LocalEngine(tree, w)
    got = run(get_query("top-talkers"), {}, engine, w)
    assert got.result.records() == [{"srcaddr": "10.0.0.1", "dstaddr": "9.9.9.9", "flows": 1, "packets": 10,
                                     "bytes": 60}]
    assert got.result.stats.files_read == 1
    notes = [n for n in got.result.stats.notes if "Transit Gateway" in n]
    assert notes == ["left out 2 Transit Gateway flow-log file(s): their records are no VPC flow-log records "
                     "(the tgw-* queries read them)"]
    engine.close()
    args = ["query", "top-talkers", "--engine", "local", "--source", str(tree), "--since", "2026-03-01",
            "--until", "2026-03-01", "--output", "json"]
    cli = CliRunner().invoke(app, args)
    assert cli.exit_code == 0, cli.output
    assert [line for line in cli.stderr.splitlines() if "Transit Gateway" in line] == ["note: " + notes[0]]


def test_a_tgw_query_reads_only_the_tgw_files(tree):
    w = Window(DAY, DAY)
    engine = LocalEngine(tree, w)
    got = run(get_query("tgw-packets-lost"), {}, engine, w)
    assert got.result.stats.files_read == 1  # the custom format lacks fields the query needs: left out
    assert [f.path.rsplit("/", 1)[-1] for f in got.result.stats.left_out] == ["tgw-custom.log.gz"]
    assert got.result.records() == [{
        "tgw_id": "tgw-1", "tgw_attachment_id": "tgw-attach-a", "packets_lost_no_route": 4,
        "packets_lost_blackhole": 3, "packets_lost_mtu_exceeded": 0, "packets_lost_ttl_expired": 0,
        "packets_lost": 7, "flows_with_loss": 2}]
    assert not [n for n in got.result.stats.notes if "Transit Gateway" in n]
    engine.close()


def test_a_tgw_query_over_a_tree_without_tgw_files_has_no_rows(tmp_path):
    _write(tmp_path, "vpc.log.gz", " ".join(DEFAULT_FIELDS), [VPC_LINE])
    w = Window(DAY, DAY)
    engine = LocalEngine(tmp_path, w)
    got = run(get_query("tgw-top-attachments"), {}, engine, w)
    assert got.result.rows == [] and got.result.stats.files_read == 0
    engine.close()


@pytest.mark.parametrize("line,reason", [
    (_tgw_line(packets_text="1e3"), "no unsigned decimal integer"),
    (_tgw_line().replace(" 10.0.0.1 ", " 10.0.0.300 "), "neither - nor an IPv4 or IPv6 address"),
    (_tgw_line().rsplit(" ", 2)[0], "malformed record"),
])
def test_tgw_files_are_checked_like_every_file(tmp_path, line, reason):
    _write(tmp_path, "vpc.log.gz", " ".join(DEFAULT_FIELDS), [VPC_LINE])
    bad = _write(tmp_path, "tgw.log.gz", " ".join(TGW_DEFAULT_FIELDS), [_tgw_line(), line])
    w = Window(DAY, DAY)
    for query in ("tgw-top-attachments", "top-talkers"):  # every file of the window is checked
        engine = LocalEngine(tmp_path, w)
        with pytest.raises(DataError, match=reason) as e:
            run(get_query(query), {}, engine, w)
        assert str(bad) in str(e.value)
        engine.close()
    skipping = LocalEngine(tmp_path, w, skip_bad_files=True)
    result = run(get_query("tgw-top-attachments"), {}, skipping, w).result
    assert result.rows == [] and [f.path for f in result.stats.skipped] == [str(bad)]
    skipping.close()


def test_a_tgw_header_with_an_unknown_field_is_named(tmp_path):
    bad = _write(tmp_path, "tgw.log.gz", "version resource-type tgw-id interface-id", ["6 TransitGateway tgw-1 eni-1"])
    w = Window(DAY, DAY)
    with pytest.raises(DataError, match="Transit Gateway flow log's.*unknown field.*interface-id"):
        LocalEngine(tmp_path, w).execute("SELECT count(*) FROM tgw_flow_logs")
    assert bad.exists()


def test_the_check_is_remembered_with_the_tgw_format(tree):
    engine = LocalEngine(tree, Window(DAY, DAY))
    engine.execute("SELECT count(*) FROM tgw_flow_logs")
    engine.close()
    path = next(f.path for f in engine.files if f.path.name == "tgw.log.gz")
    fmt, canonical = _Cache().get(path, _stamp(path))
    assert is_tgw(fmt) and fmt.names == TGW_DEFAULT_FIELDS and canonical
    again = LocalEngine(tree, Window(DAY, DAY))  # read from the cache: still a TGW file
    assert again.execute("SELECT count(*) FROM tgw_flow_logs").rows == [(5,)]
    assert again.execute("SELECT count(*) FROM flow_logs").rows == [(1,)]
    again.close()


def test_converted_to_parquet_the_tgw_files_stay_apart(tree, tmp_path):
    out = tmp_path / "parquet"
    cli = CliRunner().invoke(app, ["convert", "--source", str(tree), "--out", str(out)])
    assert cli.exit_code == 0, cli.output
    w = Window(DAY, DAY)
    for query in ("tgw-top-attachments", "top-talkers"):
        text, parquet = LocalEngine(tree, w), LocalEngine(out, w)
        want = run(get_query(query), {}, text, w).result
        got = run(get_query(query), {}, parquet, w).result
        assert got.rows == want.rows and want.rows
        assert all(f.kind == "parquet" for f in parquet.files)
        text.close()
        parquet.close()
    # a Transit Gateway Parquet file is one by its columns
    engine = LocalEngine(out, w)
    assert engine.execute("SELECT count(*) FROM tgw_flow_logs").rows == [(5,)]
    assert engine.execute("SELECT count(*) FROM flow_logs").rows == [(1,)]
    engine.close()
