"""The first query over files never checked checks them in its own scan (integrity.py, "one pass"):
every record, not only those the query keeps; a bad file is named; a checked file is remembered."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from flowsql.engines.local.engine import LocalEngine
from flowsql.errors import DataError
from flowsql.logs.fields import DEFAULT_FIELDS
from flowsql.pack.params import Window

DAY = date(2026, 3, 1)
HEADER = " ".join(DEFAULT_FIELDS)
GOOD = ["2 111111111111 eni-1 10.0.0.1 1.1.1.1 1 443 6 10 600 1772323200 1772323260 ACCEPT OK",
        "2 111111111111 eni-1 10.0.0.2 1.1.1.1 1 443 6 10 400 1772323200 1772323260 ACCEPT OK",
        "2 111111111111 eni-1 10.0.0.3 2.2.2.2 1 22 6 1 40 1772323200 1772323260 REJECT OK"]
SUM_ACCEPTED = "SELECT dstaddr, sum(bytes) FROM flow_logs WHERE action = 'ACCEPT' GROUP BY dstaddr ORDER BY dstaddr"


@pytest.fixture(autouse=True)
def cold(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))


def _tree(tmp_path, files: dict[str, list[str]]):
    d = tmp_path / "src" / "AWSLogs" / "111111111111" / "vpcflowlogs" / "us-east-1" / f"{DAY:%Y/%m/%d}"
    d.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (d / name).write_bytes(gzip.compress(("\n".join([HEADER, *lines]) + "\n").encode()))
    return tmp_path / "src", d


def _run(src, sql=SUM_ACCEPTED, **kw):
    engine = LocalEngine(src, Window(DAY, DAY), **kw)
    try:
        return engine, engine.execute(sql)
    finally:
        engine.close()


def _expected(lines):
    """Plain Python over the records: bytes of the accepted ones by destination."""
    out: dict[str, int] = {}
    for line in lines:
        f = line.split()
        if f[12] == "ACCEPT":
            out[f[4]] = out.get(f[4], 0) + int(f[9])
    return sorted(out.items())


def test_a_new_file_is_answered_and_then_known(tmp_path):
    src, _ = _tree(tmp_path, {"a.log.gz": GOOD})
    engine, result = _run(src)
    assert [tuple(r) for r in result.rows] == _expected(GOOD)
    engine = LocalEngine(src, Window(DAY, DAY))
    assert [c.pending for c in engine._check_files()] == [False]  # remembered: the next query is warm
    assert [tuple(r) for r in engine.execute(SUM_ACCEPTED).rows] == _expected(GOOD)
    engine.close()


@pytest.mark.parametrize("bad", ["1e3", "1500.7", "0x10", "-5", "1_000"])
def test_a_bad_number_in_a_record_the_query_drops_still_stops_it(tmp_path, bad):
    # the bad record is rejected traffic: the query's filter drops it, the check must not
    lines = [*GOOD, f"2 111111111111 eni-1 10.0.0.4 3.3.3.3 1 22 6 1 {bad} 1772323200 1772323260 REJECT OK"]
    src, d = _tree(tmp_path, {"a.log.gz": GOOD, "b.log.gz": lines})
    with pytest.raises(DataError) as e:
        _run(src)
    assert str(d / "b.log.gz") in str(e.value) and "bytes" in str(e.value)
    assert "a.log.gz" not in str(e.value)


def test_a_bad_address_or_a_short_record_is_named(tmp_path):
    src, d = _tree(tmp_path, {"a.log.gz": GOOD,
                              "b.log.gz": [*GOOD, GOOD[2].replace("10.0.0.3", "10.0.0.256")],
                              "c.log.gz": [*GOOD, "2 111111111111 eni-1 10.0.0.3 2.2.2.2 1 22"]})
    with pytest.raises(DataError) as e:
        _run(src)
    assert str(d / "b.log.gz") in str(e.value) and "2 more" not in str(e.value)
    engine, result = _run(src, skip_bad_files=True)
    assert sorted(n.path for n in result.stats.skipped) == [str(d / "b.log.gz"), str(d / "c.log.gz")]
    assert [tuple(r) for r in result.rows] == _expected(GOOD)


def test_a_query_that_may_stop_reading_early_checks_the_files_first(tmp_path):
    lines = [*GOOD] * 50 + [GOOD[0].replace(" 600 ", " 6e2 ")]
    src, d = _tree(tmp_path, {"a.log.gz": lines})
    with pytest.raises(DataError) as e:
        _run(src, "SELECT srcaddr FROM flow_logs LIMIT 1")
    assert str(d / "a.log.gz") in str(e.value)


def test_a_corrupt_gzip_member_is_named(tmp_path):
    src, d = _tree(tmp_path, {"a.log.gz": GOOD})
    data = bytearray((d / "a.log.gz").read_bytes())
    data[-6] ^= 0xFF  # the CRC-32: DuckDB itself reads the records as they are
    (d / "a.log.gz").write_bytes(bytes(data))
    with pytest.raises(DataError) as e:
        _run(src)
    assert str(d / "a.log.gz") in str(e.value) and "gzip" in str(e.value)
    with pytest.raises(DataError):  # never remembered: the next query finds it again
        _run(src)


@pytest.mark.parametrize("sql", [
    # a CTE, and a LEFT join that keeps every record
    "WITH r AS (SELECT dstaddr, bytes FROM flow_logs WHERE action = 'ACCEPT') "
    "SELECT r.dstaddr, sum(r.bytes) FROM r LEFT JOIN (SELECT '1.1.1.1' AS a) t ON r.dstaddr = t.a "
    "GROUP BY r.dstaddr ORDER BY 1",
    # an inner join with an empty side: DuckDB may stop reading the records at once
    "SELECT f.dstaddr FROM flow_logs f JOIN (SELECT '9.9.9.9' AS a WHERE false) t ON f.dstaddr = t.a",
])
def test_a_bad_record_is_found_whatever_the_plan(tmp_path, sql):
    lines = [*GOOD, GOOD[2].replace(" 40 ", " 4.0 ")]
    src, d = _tree(tmp_path, {"a.log.gz": lines})
    with pytest.raises(DataError) as e:
        _run(src, sql)
    assert str(d / "a.log.gz") in str(e.value)
