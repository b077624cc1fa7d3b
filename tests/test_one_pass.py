"""The first query over files never checked checks them beside its scan (integrity.py, "one pass"):
every record, not only those the query keeps; a bad file is named; a checked file is remembered."""

from __future__ import annotations

import gzip
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsql.engines.local.engine import LocalEngine
from flowsql.errors import DataError
from flowsql.logs.fields import DEFAULT_FIELDS, FIELDS
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


# --- the record pattern beside the query (integrity.record_pattern) --------------------------------

def test_a_good_new_file_is_checked_beside_the_query_not_before(tmp_path):
    from flowsql.engines.local import integrity

    src, _ = _tree(tmp_path, {"a.log.gz": GOOD * 10, "b.log.gz": GOOD})
    full, one = integrity.checks["full"], integrity.checks["one_pass"]
    _, result = _run(src)
    assert [tuple(r) for r in result.rows] == _expected(GOOD * 11)
    assert integrity.checks["full"] == full and integrity.checks["one_pass"] == one + 2


def test_a_bad_file_is_checked_in_full_and_named(tmp_path):
    from flowsql.engines.local import integrity

    src, d = _tree(tmp_path, {"a.log.gz": GOOD, "b.log.gz": [*GOOD, GOOD[0].replace(" 600 ", " +600 ")]})
    full = integrity.checks["full"]
    with pytest.raises(DataError, match="b.log.gz"):
        _run(src)
    assert integrity.checks["full"] > full


@pytest.mark.parametrize("where", ["across the first chunk's end", "the last line, with no newline"])
def test_a_bad_record_anywhere_in_a_big_file_is_found(tmp_path, where):
    from flowsql.engines.local import integrity
    from flowsql.engines.local.integrity import CHUNK

    bad = GOOD[2].replace(" 40 ", " 4e1 ")
    if where == "the last line, with no newline":
        lines = GOOD * 30_000 + [bad]
        text = "\n".join([HEADER, *lines])  # no newline at the end
    else:
        body = "\n".join(GOOD * 30_000)
        cut = CHUNK - len(HEADER) - 1 - 20  # the bad record starts 20 bytes before the chunk's end
        start = body.rfind("\n", 0, cut) + 1
        text = "\n".join([HEADER, body[:start] + bad, body[start:]]) + "\n"
        assert text.index(bad) < CHUNK < text.index(bad) + len(bad)
    src, d = _tree(tmp_path, {})
    (d / "a.log.gz").write_bytes(gzip.compress(text.encode()))
    with pytest.raises(DataError, match="a.log.gz"):
        _run(src)
    good = text.replace(bad, GOOD[2])
    (d / "a.log.gz").write_bytes(gzip.compress(good.encode()))
    full = integrity.checks["full"]
    _, result = _run(src)
    assert integrity.checks["full"] == full  # answered beside the query: the pattern passed every record
    assert [tuple(r) for r in result.rows] == _expected([x for x in good.split("\n")[1:] if x])


NUMBERS = ["0", "7", "65535", "65536", "255", "256", "2147483647", "2147483648", "9223372036854775807",
           "9223372036854775808", "00000000000000000000000000001", "1e3", "1500.7", "0x10", "-5", "+5", "1_000",
           "-0", "٣", "", "-", "--", "5-", " 5"]
ADDRESSES = ["10.0.0.1", "10.0.0.256", "010.0.0.1", "1.2.3", "1.2.3.4.5", "2001:db8::1", "2001:DB8::1",
             "2001:db8:0:0:1::1", "2001:db8::1:0:0:1", "1:0:0:0:0:0:0:1", "0:0:1::", "::", "::1", "::ffff:1.2.3.4",
             "::ffff:a:b", "fe80::1%eth0", "2001:db8:0:1:1:1:1:1", "2001:0db8::1", "1::2::3", "-", "", "1.1.1.1 "]


@st.composite
def _records(draw):
    """A default-format record with one to three of its numbers and addresses drawn from values near
    every edge (or any text of their characters)."""
    text = st.text(alphabet="0123456789abcdefABCDEF:.-+x_e", max_size=12)
    fields = GOOD[draw(st.integers(0, 2))].split(" ")
    for i in draw(st.lists(st.sampled_from([0, 3, 4, 5, 6, 7, 8, 9, 10, 11]), min_size=1, max_size=3)):
        edge = ADDRESSES if i in (3, 4) else NUMBERS  # srcaddr, dstaddr; the rest are numbers
        fields[i] = draw(st.one_of(st.sampled_from(edge), text))
    return " ".join(fields)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_records(), min_size=1, max_size=4))
def test_the_pattern_passes_no_record_the_full_check_finds_bad_or_spelled_otherwise(lines):
    """Sound: whatever integrity.record_pattern passes (with _Records' tests of the whole text),
    check_records — the slow check — finds good and in canonical form. (Not complete: a record it does
    not pass may be good; the slow check then answers.)"""
    import tempfile
    from pathlib import Path

    from flowsql.engines.local import integrity
    from flowsql.engines.local.duck import Session
    from flowsql.logs.header import parse_header

    fmt = parse_header(HEADER)
    text = ("\n".join(lines) + "\n").encode()
    try:
        records = integrity._Records(integrity.record_pattern(fmt))
        records.feed(text, 0)
        records.end()
    except integrity.Unchecked:
        return
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "a.log"
        path.write_bytes(HEADER.encode() + b"\n" + text)
        session = Session()
        try:
            problems, spelled = integrity.check_records(session, fmt, [str(path)])
        finally:
            session.close()
    assert problems == {} and spelled == set(), lines


def test_the_pattern_passes_aws_records_and_refuses_what_the_full_check_refuses():
    """The other half of the property above, so that it cannot pass by refusing everything."""
    from flowsql.engines.local import integrity
    from flowsql.logs.header import parse_header

    pattern = integrity.record_pattern(parse_header(HEADER))
    good = GOOD + [GOOD[0].replace("10.0.0.1", "2001:db8::1").replace("1.1.1.1", "::1"),
                   GOOD[0].replace("10.0.0.1", "-").replace(" 600 ", " - "), GOOD[0].replace(" 443 ", " 65535 ")]
    assert all(pattern.fullmatch((g + "\n").encode()) for g in good)
    for value in ("1e3", "1500.7", "0x10", "-5", "+5", "1_000", "65536"):
        assert pattern.fullmatch((GOOD[0].replace(" 443 ", f" {value} ") + "\n").encode()) is None, value
    for value in ("10.0.0.256", "2001:DB8::1", "2001:0db8::1", "1.2.3"):
        assert pattern.fullmatch((GOOD[0].replace("10.0.0.1", value) + "\n").encode()) is None, value


def test_the_strict_ipv6_pattern_is_the_full_checks_test_in_one_pattern():
    """record_pattern's IPv6 part (_strict_ipv6) passes exactly what _canonical_sql passes (its pattern,
    no `:0:0`, no leading `0:0:`), over every spelling of random addresses rich in zero groups."""
    import random
    import re

    from flowsql.engines.local import integrity

    strict, loose = re.compile(integrity._strict_ipv6()), re.compile(integrity._canonical_ipv6())
    rng, seen, passed = random.Random(7), 0, 0
    for _ in range(4000):
        groups = [rng.choice(["0", "0", "0", "1", "a", "ffff", "10", "fff0", "0a", "FF"]) for _ in range(8)]
        spellings = [":".join(groups)] + [":".join(groups[:i]) + "::" + ":".join(groups[j:])
                                          for i in range(8) for j in range(i + 1, 9)
                                          if all(g == "0" for g in groups[i:j])]
        for a in spellings:
            expected = bool(loose.fullmatch(a)) and ":0:0" not in a and not a.startswith("0:0:")
            assert bool(strict.fullmatch(a)) == expected, a
            seen, passed = seen + 1, passed + expected
    assert seen > 10_000 and 0 < passed < seen



# --- the record pattern compiled (_records.c), the same language as RE2's -----------------------------

def _compiled(fmt):
    """record_pattern's language as _records.c checks it (make install builds it: hatch_build.py)."""
    from flowsql.engines.local import _records, integrity

    return integrity._Compiled(_records.fullmatch, integrity._spec(fmt))


def test_the_engine_checks_records_with_the_compiled_check():
    from flowsql.engines.local import integrity
    from flowsql.logs.header import parse_header

    assert isinstance(integrity.record_checker(parse_header(HEADER)), integrity._Compiled)


ALL_FIELDS = " ".join(f.name for f in FIELDS)
_NUMERIC = {f.name for f in FIELDS if f.kind != "string"}
_ADDRESS = {"srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"}
TEXTS = ["eni-1", "ACCEPT", "OK", "-", "--", "é", "\xff", "a\x01b", "a\x7fb", "a\tb", "a\rb", "x" * 70]


@st.composite
def _lines_of(draw, names: list[str]):
    """A line of records of the fields `names`, each value near an edge of its kind or of another, then
    perhaps cut, doubled or given a stray byte where it would matter most."""
    values = []
    for name in names:
        pool = ADDRESSES if name in _ADDRESS else NUMBERS if name in _NUMERIC else TEXTS
        other = st.sampled_from(ADDRESSES + NUMBERS + TEXTS)
        values.append(draw(st.one_of(st.sampled_from(pool), st.sampled_from(pool), other,
                                     st.text(alphabet="0123456789abcdefF:.- \r", max_size=10))))
    line = " ".join(values)
    mutation = draw(st.sampled_from(["none", "none", "cut", "space", "byte", "crlf", "lf", "many"]))
    at = draw(st.integers(0, len(line)))
    if mutation == "cut":
        line = line[:at]
    elif mutation == "space":
        line = line[:at] + " " + line[at:]
    elif mutation == "byte":
        line = line[:at] + draw(st.sampled_from("\x00\r\n\x7f\x80:.-9af")) + line[at:]
    elif mutation == "crlf":
        line += "\r"
    elif mutation == "lf":
        line += "\n"
    elif mutation == "many":
        line = line + " " + line
    return line


@pytest.mark.parametrize("header", [HEADER, ALL_FIELDS, "version srcaddr", "action"])
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_compiled_check_answers_as_the_re2_pattern(header, data):
    """_records.c passes exactly what record_pattern passes, over lines near every edge of every kind of
    field (numbers and their bounds, IPv4 and IPv6 spellings, text bytes), cut, joined and mutated, and
    within a text at any start and end, as _Records calls it."""
    from flowsql.engines.local import integrity
    from flowsql.logs.header import parse_header

    fmt = parse_header(header)
    names = [f.name for f in fmt.fields]
    lines = data.draw(st.lists(_lines_of(names), min_size=0, max_size=4))
    text = ("\n".join(lines) + data.draw(st.sampled_from(["\n", "\r\n", "", "\r"]))).encode("utf-8", "surrogatepass")
    re2_pattern, compiled = integrity.record_pattern(fmt), _compiled(fmt)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for a, b in ((0, len(text)), (start, end)):
        assert (compiled.fullmatch(text, a, b) is None) == (re2_pattern.fullmatch(text, a, b) is None), (text, a, b)


def test_the_compiled_check_answers_as_the_re2_pattern_on_good_records_and_every_ipv6_spelling():
    """The other half: good records pass both (so the property above cannot hold by both refusing), and
    over every spelling of random addresses rich in zero groups the two agree, in both address positions."""
    import random

    from flowsql.engines.local import integrity
    from flowsql.logs.header import parse_header

    fmt = parse_header(HEADER)
    re2_pattern, compiled = integrity.record_pattern(fmt), _compiled(fmt)
    good = ("\n".join(GOOD) + "\n").encode()
    assert compiled.fullmatch(good) and re2_pattern.fullmatch(good)
    rng, passed, seen = random.Random(11), 0, 0
    for _ in range(1500):
        groups = [rng.choice(["0", "0", "0", "1", "a", "ffff", "10", "fff0", "0a", "FF", "12345"]) for _ in range(8)]
        spellings = [":".join(groups)] + [":".join(groups[:i]) + "::" + ":".join(groups[j:])
                                          for i in range(8) for j in range(i + 1, 9)
                                          if all(g == "0" for g in groups[i:j])]
        spellings += [a + ":" for a in spellings[:1]] + [a.replace("::", ":::") for a in spellings[1:2]]
        for a in spellings:
            for line in (GOOD[0].replace("10.0.0.1", a), GOOD[0].replace("1.1.1.1", a)):
                data = (line + "\n").encode()
                expected = re2_pattern.fullmatch(data) is not None
                assert (compiled.fullmatch(data) is not None) == expected, a
                seen, passed = seen + 1, passed + expected
    assert 0 < passed < seen
    for a in ("1.2.3.4", "255.255.255.255", "0.0.0.0", "256.1.1.1", "01.1.1.1", "1.2.3", "1.2.3.4.", ".1.2.3.4",
              "1..2.3", "1.2.3.4.5", "1234.1.1.1", "::ffff:a:b", "::ffff:a:b:c", "::fffe:a:b", "1::ffff:a:b"):
        data = (GOOD[0].replace("10.0.0.1", a) + "\n").encode()
        assert (compiled.fullmatch(data) is None) == (re2_pattern.fullmatch(data) is None), a


@pytest.mark.parametrize("case", ["good", "a bad number", "an address spelled otherwise", "a control character"])
def test_verify_leaves_to_duckdb_only_the_files_whose_records_the_pattern_refused(tmp_path, case):
    """The slow way (verify: every use but the one pass) checks each record in the read of its bytes;
    DuckDB's check_records reads a file again only when the pattern refused one of its lines, and
    then names what is wrong, or finds the file good with an address spelled otherwise."""
    from flowsql.engines.local import integrity
    from flowsql.engines.local.duck import Session
    from flowsql.logs.layout import local_files

    line = {"good": GOOD[1], "a bad number": GOOD[1].replace(" 400 ", " 4e2 "),
            "an address spelled otherwise": GOOD[1].replace("10.0.0.2", "2001:DB8::1"),
            "a control character": GOOD[1].replace("eni-1", "eni-\x01")}[case]
    src, d = _tree(tmp_path, {"a.log.gz": [GOOD[0], line, GOOD[2]]})
    files = local_files(src, DAY, DAY).files
    records = integrity.checks["records"]
    session = Session()
    try:
        [checked] = integrity.verify(files, session)
    finally:
        session.close()
    refused = integrity.checks["records"] - records
    if case == "good":
        assert checked.ok and checked.canonical and refused == 0
    elif case == "an address spelled otherwise":
        assert checked.ok and not checked.canonical and refused == 1
    elif case == "a bad number":
        assert "4e2" in checked.problem and refused == 1
    else:
        assert "control character" in checked.problem and refused == 0  # a byte fault: no record check


def test_the_compiled_check_refuses_a_bad_spec():
    from flowsql.engines.local import _records

    for spec in (b"", b"a,,t", b"a,", b",a", b"x", b"12a", b",".join([b"t"] * 257)):
        with pytest.raises(ValueError):
            _records.fullmatch(b"a\n", 0, 2, spec)
    with pytest.raises(ValueError):
        _records.fullmatch(b"a\n", 1, 5, b"t")



@pytest.mark.parametrize("cut", [7, len(HEADER) - 3, len(HEADER)])
def test_a_header_that_goes_on_in_the_next_gzip_member_is_read_whole(tmp_path, cut):
    """gzip's members are one stream: a header cut by a member's end is still the file's header, cold
    (read_file_header, then the one pass) as warm."""
    from flowsql.pack.queries import get_query
    from flowsql.runner import run

    src, d = _tree(tmp_path, {"a.log.gz": GOOD[:1]})
    text = ("\n".join([HEADER, *GOOD]) + "\n").encode()
    (d / "b.log.gz").write_bytes(gzip.compress(text[:cut]) + gzip.compress(text[cut:]))
    answers = []
    for _ in ("cold", "warm"):  # a pack query: its needs are checked against the header read first
        engine = LocalEngine(src, Window(DAY, DAY))
        try:
            result = run(get_query("top-destinations"), {}, engine, Window(DAY, DAY)).result
        finally:
            engine.close()
        assert not result.stats.left_out and not result.stats.skipped
        answers.append(result.rows)
    _, plain = _run(src)
    assert answers[0] == answers[1] and [tuple(r) for r in plain.rows] == _expected(GOOD[:1] + GOOD)


def _cr_at_a_chunks_end() -> str:
    """LF lines, then a record whose CRLF begins at the last byte of the first chunk the checks read."""
    from flowsql.engines.local.integrity import CHUNK

    head = "\n".join([HEADER, *(GOOD * 15_000)]) + "\n"
    prefix = head[:head.rfind("\n", 0, CHUNK - 200) + 1]
    record = GOOD[0].replace("eni-1", "eni-1" + "x" * (CHUNK - 1 - len(prefix) - len(GOOD[0])))
    text = prefix + record + "\r\n" + "\n".join(GOOD) + "\n"
    assert text[CHUNK - 1] == "\r"
    return text


MIXED = {"a CRLF header, LF records": lambda: "\r\n".join([HEADER, ""]) + "\n".join(GOOD) + "\n",
         "LF, then CRLF records": lambda: "\n".join([HEADER, GOOD[0], ""]) + "\r\n".join(GOOD[1:]) + "\r\n",
         "CRLF on the last line only": lambda: "\n".join([HEADER, *GOOD]) + "\r\n",
         "CRLF on one record": lambda: "\n".join([HEADER, GOOD[0] + "\r", *GOOD[1:]]) + "\n",
         "a CRLF across a chunk's end": _cr_at_a_chunks_end}


@pytest.mark.parametrize("mixed", MIXED)
def test_a_file_whose_lines_end_both_ways_is_named_and_left_out_with_skip_bad_files(tmp_path, mixed):
    """DuckDB's reader takes a file's first line end for all of them and fails at another: such a file
    is bad (named, exit 1), never read, and --skip-bad-files leaves it out."""
    text = MIXED[mixed]()
    src, d = _tree(tmp_path, {"a.log.gz": GOOD})
    (d / "b.log.gz").write_bytes(gzip.compress(text.encode()))
    for _ in ("cold", "again"):
        with pytest.raises(DataError) as e:
            _run(src)
        assert str(d / "b.log.gz") in str(e.value) and "end both" in str(e.value)
    _, result = _run(src, skip_bad_files=True)
    assert [tuple(r) for r in result.rows] == _expected(GOOD)
    assert [n.path for n in result.stats.skipped] == [str(d / "b.log.gz")]


# --- reading new files through flowsql (stream.py) -------------------------------------------------

def test_a_query_that_stops_early_still_checks_every_file_before_its_answer(tmp_path):
    from flowsql.engines.local import integrity

    lines = GOOD * 2000
    src, d = _tree(tmp_path, {"a.log.gz": lines, "b.log.gz": lines})
    full = integrity.checks["full"]
    _, result = _run(src, "SELECT srcaddr FROM flow_logs LIMIT 1")
    assert len(result.rows) == 1 and result.rows[0][0] in {line.split()[3] for line in GOOD}
    assert integrity.checks["full"] > full  # not every file was read to its end: checked the slow way


def test_a_gzip_file_of_two_members_is_read_whole(tmp_path):
    """The gzip trailer gives the last member's length only: the one pass sees the difference and the
    files are checked the slow way; the answer holds every record of both members."""
    from flowsql.engines.local import integrity

    src, d = _tree(tmp_path, {})
    first = gzip.compress(("\n".join([HEADER, *GOOD]) + "\n").encode())
    second = gzip.compress(("\n".join(GOOD[:2]) + "\n").encode())
    (d / "a.log.gz").write_bytes(first + second)
    full = integrity.checks["full"]
    _, result = _run(src)
    assert [tuple(r) for r in result.rows] == _expected(GOOD + GOOD[:2])
    assert integrity.checks["full"] > full


def test_plain_text_files_and_links_are_read_in_one_pass(tmp_path):
    from flowsql.engines.local import integrity

    src, d = _tree(tmp_path, {"a.log.gz": GOOD})
    (d / "b.log").write_text("\n".join([HEADER, *GOOD]) + "\n")
    elsewhere = tmp_path / "elsewhere [1]"
    elsewhere.mkdir()
    (elsewhere / "c.log.gz").write_bytes(gzip.compress(("\n".join([HEADER, *GOOD[:2]]) + "\n").encode()))
    (d / "c.log.gz").symlink_to(elsewhere / "c.log.gz")
    full, one = integrity.checks["full"], integrity.checks["one_pass"]
    _, result = _run(src)
    assert [tuple(r) for r in result.rows] == _expected(GOOD * 2 + GOOD[:2])
    assert integrity.checks["full"] == full and integrity.checks["one_pass"] == one + 3


@pytest.mark.parametrize("fault", ["a control character", "not UTF-8", "a header line in a second member",
                                   "a record the pattern does not pass"])
def test_a_fault_found_while_duckdb_reads_names_the_file(tmp_path, fault):
    body = {"a control character": GOOD[1].replace("eni-1", "eni-\x01"),
            "not UTF-8": None, "a header line in a second member": None,
            "a record the pattern does not pass": GOOD[1].replace(" 400 ", " 4_00 ")}[fault]
    src, d = _tree(tmp_path, {"a.log.gz": GOOD})
    if fault == "not UTF-8":
        data = ("\n".join([HEADER, *GOOD]) + "\n").encode().replace(b"eni-1", b"eni-\xff")
    elif fault == "a header line in a second member":
        data = ("\n".join([HEADER, *GOOD]) + "\n").encode()
    else:
        data = ("\n".join([HEADER, GOOD[0], body, GOOD[2]]) + "\n").encode()
    (d / "b.log.gz").write_bytes(gzip.compress(data))
    if fault == "a header line in a second member":
        # the second member's text goes on where the first ends: a header line in the middle is a
        # record of the wrong number of fields
        (d / "b.log.gz").write_bytes(gzip.compress(data) + gzip.compress((HEADER + "\n").encode()))
    with pytest.raises(DataError) as e:
        _run(src)
    assert str(d / "b.log.gz") in str(e.value) and "a.log.gz" not in str(e.value)


# every byte fault the full check finds, in a file whose every record line the pattern would otherwise pass:
# with the record pattern, TextCheck looks at the header's bytes only, so the pattern must refuse the rest
BYTE_FAULTS = {
    "a control character in a text field": ("\n".join([HEADER, *GOOD]) + "\n").replace("eni-1", "eni-\x01", 1),
    "a DEL in a text field": ("\n".join([HEADER, *GOOD]) + "\n").replace("eni-1", "eni-\x7f", 1),
    "a tab between fields": ("\n".join([HEADER, *GOOD]) + "\n").replace(" 443 ", "\t443 ", 1),
    "a lone carriage return in a record": ("\n".join([HEADER, *GOOD]) + "\n").replace("eni-1", "eni\r1", 1),
    "a carriage return ending the file": "\n".join([HEADER, *GOOD]) + "\r",
    "a control character in the header": "\n".join([HEADER + "\x0b", *GOOD]) + "\n",
    "a lone carriage return in the header": "\n".join([HEADER.replace(" ", "\r ", 1), *GOOD]) + "\n",
    "a header alone, with a control character": HEADER + "\x0b",
}


CHECKERS = ["RE2", "compiled"]


def _checker(name: str, fmt):
    from flowsql.engines.local.integrity import record_pattern

    return record_pattern(fmt) if name == "RE2" else _compiled(fmt)


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("fault", BYTE_FAULTS)
@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_the_record_pattern_leaves_no_byte_fault_unseen(fault, chunk, checker):
    from flowsql.engines.local.integrity import DataProblem, TextCheck, Unchecked
    from flowsql.logs.header import parse_header

    data = BYTE_FAULTS[fault].encode()
    check = TextCheck(_checker(checker, parse_header(HEADER)))
    with pytest.raises((DataProblem, Unchecked)):
        for i in range(0, len(data), chunk):
            check.feed(data[i:i + chunk])
        check.end()


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_the_record_pattern_passes_a_good_file_whatever_its_chunks(chunk, checker):
    from flowsql.engines.local.integrity import TextCheck
    from flowsql.logs.header import parse_header

    check = TextCheck(_checker(checker, parse_header(HEADER)))
    good = ("\r\n".join([HEADER, *GOOD]) + "\r\n").encode()  # CRLF line ends, the header's too
    for i in range(0, len(good), chunk):
        check.feed(good[i:i + chunk])
    assert check.end() == parse_header(HEADER)
