"""The local engine's own mechanics: CIDR matching, file pruning, mixed formats, no writes to $HOME."""

import gzip
import ipaddress
import os
import subprocess
import sys
from datetime import date

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsql.engines.local.engine import LocalEngine
from flowsql.logs.fields import DEFAULT_FIELDS
from flowsql.logs.layout import local_files
from flowsql.pack.params import Window
from flowsql.resources import local_functions_sql, sql_dir


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(local_functions_sql())
    yield c
    c.close()


def expected(block, ip):
    try:
        net, addr = ipaddress.ip_network(block, strict=False), ipaddress.ip_address(ip)
    except ValueError:
        return False
    return addr.version == net.version and addr in net


ipv4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n)).flatmap(
    lambda a: st.sampled_from([a.compressed, a.exploded]))
blocks = st.one_of(
    st.tuples(ipv4, st.integers(0, 32)).map(lambda t: str(ipaddress.ip_network(f"{t[0]}/{t[1]}", strict=False))),
    st.tuples(ipv6, st.integers(0, 128)).map(lambda t: str(ipaddress.ip_network(f"{t[0]}/{t[1]}", strict=False))),
)


def _near(block, ip, near):
    """An address inside or at the edge of the block, where off-by-one errors live."""
    if not near:
        return ip
    net = ipaddress.ip_network(block)
    return str(net.broadcast_address if ip.startswith("1") else net.network_address)


@settings(max_examples=60, deadline=None)
@given(cases=st.lists(st.tuples(blocks, st.one_of(ipv4, ipv6, st.text(max_size=12)), st.booleans()),
                      min_size=1, max_size=40))
def test_cidr_contains_matches_python_ipaddress(con, cases):
    # One query per batch: the macro is large and planning it dominates a single call.
    pairs = [(block, _near(block, ip, near)) for block, ip, near in cases]
    got = con.execute(
        "SELECT list_transform(?, lambda p: flowsql_cidr_contains(p[1], p[2]))", [[list(p) for p in pairs]]
    ).fetchone()[0]
    assert got == [expected(b, ip) for b, ip in pairs]


def _write(root, account, region, day, name, header, lines):
    d = root / "AWSLogs" / account / "vpcflowlogs" / region / f"{day:%Y/%m/%d}"
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode()))
    return d / name


def test_each_file_is_read_by_its_own_header(tmp_path):
    day = date(2026, 3, 1)
    default = " ".join(DEFAULT_FIELDS)
    _write(tmp_path, "111111111111", "us-east-1", day, "a.log.gz", default,
           ["2 111111111111 eni-1 10.0.0.1 1.1.1.1 1 443 6 10 6000000000 1 2 ACCEPT OK",
            "2 111111111111 eni-1 - - - - - - - 1 2 - NODATA"])
    # same account and day, another region with a reordered custom format
    _write(tmp_path, "111111111111", "eu-west-1", day, "b.log.gz", "bytes dstaddr log-status action subnet-id",
           ["7 1.1.1.1 OK ACCEPT -", "5 2.2.2.2 OK REJECT subnet-1"])
    engine = LocalEngine(tmp_path, Window(day, day))
    rows = engine.execute(
        "SELECT aws_region, dstaddr, bytes, subnet_id, srcport, day FROM flow_logs ORDER BY aws_region, bytes").rows
    assert rows == [
        ("eu-west-1", "2.2.2.2", 5, "subnet-1", None, "2026/03/01"),
        ("eu-west-1", "1.1.1.1", 7, None, None, "2026/03/01"),
        ("us-east-1", "1.1.1.1", 6000000000, None, 1, "2026/03/01"),
        ("us-east-1", None, None, None, None, "2026/03/01"),  # NODATA: `-` is NULL
    ]


def test_only_files_in_the_request_are_read(tmp_path):
    header = " ".join(DEFAULT_FIELDS)
    for d in (date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 1)):
        for acct in ("111111111111", "222222222222"):
            for region in ("us-east-1", "ap-northeast-1"):
                _write(tmp_path, acct, region, d, f"{acct}_{region}_{d}.log.gz", header, [])
    (tmp_path / "AWSLogs" / "111111111111" / "vpcflowlogs" / "us-east-1" / "notes.txt").write_text("x")
    files = local_files(tmp_path, date(2026, 2, 1), date(2026, 2, 28), ["222222222222"], ["ap-northeast-1"]).files
    assert [f.path.name for f in files] == [
        "222222222222_ap-northeast-1_2026-02-01.log.gz", "222222222222_ap-northeast-1_2026-02-28.log.gz"]
    assert len(local_files(tmp_path, date(2026, 1, 1), date(2026, 12, 31)).files) == 16


def test_the_session_is_utc_and_home_stays_empty(tmp_path):
    """DuckDB's extension, secret and spill folders are private: a real `flowsql query` writes nothing
    under $HOME or the working folder; the lint cache goes to $XDG_CACHE_HOME/flowsql."""
    home, work, cache = tmp_path / "home", tmp_path / "work", tmp_path / "cache"
    home.mkdir()
    work.mkdir()
    day = date(2026, 3, 1)
    _write(tmp_path / "src", "111111111111", "us-east-1", day, "a.log.gz", " ".join(DEFAULT_FIELDS),
           ["2 111111111111 eni-1 10.0.0.1 1.1.1.1 1 443 6 10 60 1772323200 1772323260 ACCEPT OK"])
    env = {k: v for k, v in os.environ.items() if k not in ("FLOWSQL_CACHE_DIR", "XDG_CACHE_HOME")}
    # no lint results computed at install (flowsql/pack/lint/shipped.py): the gate lints, and caches
    env.update(HOME=str(home), XDG_CACHE_HOME=str(cache), FLOWSQL_CONFIG=str(tmp_path / "none.json"),
               FLOWSQL_LINT_SHIPPED=str(tmp_path / "no-shipped.json"))
    out = subprocess.run([sys.executable, "-m", "flowsql", "query", "top-destinations", "--source",
                          str(tmp_path / "src"), "--since", "2026-03-01", "--until", "2026-03-01", "-o", "csv"],
                         env=env, cwd=work, capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[1] == '"1.1.1.1",1,10,60'
    assert list(home.rglob("*")) == [] and list(work.rglob("*")) == []
    assert list((cache / "flowsql" / "lint").glob("*.json"))
    engine = LocalEngine(tmp_path / "src", Window(day, day))
    rows = engine.execute("SELECT strftime(to_timestamp(start), '%H:%M'), current_setting('TimeZone') "
                          "FROM flow_logs").rows
    assert rows == [("00:00", "UTC")]


def _one_day_tree(root, name="a.log.gz", line="2 111111111111 eni-1 10.0.0.1 9.9.9.9 1 443 6 10 60 1 2 ACCEPT OK"):
    return _write(root, "111111111111", "us-east-1", date(2026, 3, 1), name, " ".join(DEFAULT_FIELDS), [line])


@pytest.mark.parametrize("folder", ["incident [2024]", "a?b", "star*dir", "it's"])
def test_glob_characters_in_the_source_path_read_only_that_tree(tmp_path, folder):
    _one_day_tree(tmp_path / folder)
    # siblings that a glob would also match
    for sibling in ("incident 2", "aXb", "star-other-dir", "itXs"):
        _one_day_tree(tmp_path / sibling, line="2 111111111111 eni-1 10.0.0.1 6.6.6.6 1 443 6 10 60 1 2 ACCEPT OK")
    day = date(2026, 3, 1)
    engine = LocalEngine(tmp_path / folder, Window(day, day))
    assert engine.execute("SELECT dstaddr, count(*) AS n FROM flow_logs GROUP BY dstaddr").rows == [("9.9.9.9", 1)]


def test_stray_files_in_the_tree_are_passed_over(tmp_path):
    _one_day_tree(tmp_path)
    logs = tmp_path / "AWSLogs"
    (logs / ".DS_Store").write_text("x")
    (logs / "111111111111" / "vpcflowlogs" / ".DS_Store").write_text("x")
    (logs / "111111111111" / "vpcflowlogs" / "us-east-1" / "2026" / "README").write_text("x")
    day = date(2026, 3, 1)
    assert len(LocalEngine(tmp_path, Window(day, day)).files) == 1


def test_uncompressed_log_files_are_read(tmp_path):
    d = _one_day_tree(tmp_path).parent
    (d / "b.log").write_text(" ".join(DEFAULT_FIELDS) + "\n2 111111111111 eni-1 10.0.0.1 9.9.9.9 1 443 6 10 60 1 2 ACCEPT OK\n")
    day = date(2026, 3, 1)
    assert LocalEngine(tmp_path, Window(day, day)).execute("SELECT count(*) FROM flow_logs").rows == [(2,)]


def test_skipped_files_are_counted_once_and_the_rest_is_read(tmp_path):
    d = _one_day_tree(tmp_path).parent
    (d / "bad1.log.gz").write_bytes(b"not gzip")
    (d / "bad2.log.gz").write_bytes(gzip.compress((" ".join(DEFAULT_FIELDS) + "\n2 too few\n").encode()))
    day = date(2026, 3, 1)
    engine = LocalEngine(tmp_path, Window(day, day), skip_bad_files=True)
    result = engine.execute("SELECT count(*) FROM flow_logs")
    assert result.rows == [(1,)]
    assert result.stats.files_read == 1 and len(result.stats.skipped) == 2
    assert sorted(f.path.rsplit("/", 1)[-1] for f in result.stats.skipped) == ["bad1.log.gz", "bad2.log.gz"]


def test_the_inventory_tables_hold_every_row_as_given(tmp_path):
    """The inventory's rows go into DuckDB one list per column (one statement per table): every row,
    in order, NULLs kept, and a text column's value that is no text (an inventory file's number, where
    the AWS CLI prints a string) read as text rather than failing the query."""
    from flowsql.inventory import Inventory
    from flowsql.logs.window import Window

    inv = Inventory()
    for i in range(3000):
        inv.enis.append({"interface_id": f"eni-{i:017x}", "subnet_id": None if i % 7 == 0 else f"subnet-{i}",
                         "vpc_id": "vpc-1", "account_id": 111111111111 if i == 5 else "111111111111",
                         "interface_type": "lambda" if i % 2 else None, "description": {"k": [i]} if i == 11 else f"it's \"{i}\"",
                         "is_lambda": None if i % 5 == 0 else bool(i % 2), "requester_id": 7.5 if i == 9 else None})
    (tmp_path / "AWSLogs").mkdir()
    engine = LocalEngine(tmp_path, Window(date(2026, 1, 1), date(2026, 1, 1)), inventory=inv)
    try:
        result = engine.execute("SELECT interface_id, subnet_id, account_id, interface_type, description, is_lambda, "
                                "requester_id FROM inventory_enis")
    finally:
        engine.close()
    want = [(e["interface_id"], e["subnet_id"], str(e["account_id"]), e["interface_type"], str(e["description"]),
             e["is_lambda"], None if e["requester_id"] is None else str(e["requester_id"])) for e in inv.enis]
    assert result.rows == want
