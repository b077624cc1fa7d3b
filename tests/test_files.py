"""Every file under the requested partitions is read in full, or named with the reason it was not.

Hand-made trees (tests/trees.py) for each way a file can be unreadable, and a property test that holds
the local engine against an independent strict reader (tests/strict_reader.py) over mutated files.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strict_reader
from flowsql.engines.local.engine import LocalEngine
from flowsql.errors import DataError
from flowsql.pack.params import Window
from trees import DAY, DEFAULT_HEADER, day_dir, record, write_log

W = Window(DAY, DAY)
SQL = "SELECT dstaddr, count(*) AS n, sum(bytes) AS b FROM flow_logs GROUP BY dstaddr ORDER BY dstaddr"


def run_sql(root, *, skip=False, sql=SQL):
    engine = LocalEngine(root, W, skip_bad_files=skip)
    try:
        return engine.execute(sql)
    finally:
        engine.close()


def cli(*args, env=None, **kw):
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "flowsql", *map(str, args)], capture_output=True, text=True,
                          env=e, **kw)


# --- numbers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1500.7", "0x10", "1_000", "-5", "+5", "1e3", "99999999999999999999", " 5"])
def test_a_number_that_is_no_unsigned_decimal_integer_makes_the_file_corrupt(tmp_path, value):
    write_log(tmp_path, "good.log.gz", [record(nbytes="7")])
    bad = write_log(tmp_path, "bad.log.gz", [record(nbytes="1"), record(nbytes=value)])
    with pytest.raises(DataError, match="bad.log.gz") as e:
        run_sql(tmp_path)
    assert "--skip-bad-files" in str(e.value)
    result = run_sql(tmp_path, skip=True)  # the rest is read, the bad file named and counted
    assert result.rows == [("9.9.9.9", 1, 7)]
    assert [f.path for f in result.stats.skipped] == [str(bad)]


def test_numbers_fit_their_type(tmp_path):
    write_log(tmp_path, "port.log.gz", [record(dport="99999999999")])  # over 32 bits: dstport is an int
    with pytest.raises(DataError, match="dstport"):
        run_sql(tmp_path)


@pytest.mark.parametrize("kw,field", [({"dport": "65536"}, "dstport"), ({"sport": "70000"}, "srcport"),
                                      ({"proto": "256"}, "protocol")])
def test_ports_and_protocols_beyond_their_range_make_the_file_corrupt(tmp_path, kw, field):
    """A port is at most 65535 and an IP protocol number at most 255, whatever their column's type."""
    write_log(tmp_path, "a.log.gz", [record(dport="65535", sport="0", proto="255"), record(**kw)])
    with pytest.raises(DataError, match=f"range \\(e.g. {field} "):
        run_sql(tmp_path)


def test_a_parquet_file_with_a_port_beyond_its_range_is_corrupt(tmp_path):
    from flowsql.engines.local.duck import duckdb

    folder = day_dir(tmp_path)
    path = folder / "111111111111_vpcflowlogs_us-east-1_fl-1_20260301T0000Z_x.parquet"
    con = duckdb().connect()
    con.execute(f"COPY (SELECT 2 AS version, 'eni-1' AS interface_id, '9.9.9.9' AS dstaddr, 70000 AS dstport) "
                f"TO '{path}' (FORMAT parquet)")
    with pytest.raises(DataError, match="dstport up to 70000"):
        run_sql(tmp_path)


def test_a_parquet_column_without_statistics_is_read_and_a_right_file_passes(tmp_path):
    """A column whose footer holds no min/max (here: all NULL) is read to check it, and a file that is
    right passes. (No writer on this machine leaves out the statistics of a column with values, so
    that the scan catches a bad value there is not shown here.)"""
    from flowsql.engines.local.duck import duckdb

    path = day_dir(tmp_path) / "111111111111_vpcflowlogs_us-east-1_fl-1_20260301T0000Z_x.parquet"
    duckdb().connect().execute(
        "COPY (SELECT 2 AS version, 'eni-1' AS interface_id, '9.9.9.9' AS dstaddr, CAST(NULL AS INTEGER) AS dstport, "
        f"CAST(7 AS BIGINT) AS bytes) TO '{path}' (FORMAT parquet)")
    assert run_sql(tmp_path).rows == [("9.9.9.9", 1, 7)]


def test_unsigned_decimal_integers_and_dashes_are_read(tmp_path):
    write_log(tmp_path, "a.log.gz", [record(nbytes="6000000000"), record(nbytes="007"),
                                     "2 111111111111 eni-1 - - - - - - - 1 2 - NODATA"])
    assert run_sql(tmp_path).rows == [("9.9.9.9", 2, 6000000007), (None, 1, None)]


# --- gzip and text ---------------------------------------------------------------------------------

def _gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def _bad_crc(data: bytes) -> bytes:
    return data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:]


BODY = DEFAULT_HEADER + "\n" + record() + "\n"
CORRUPT = {
    "wrong CRC": _bad_crc(_gz(BODY)),
    "wrong CRC in a second member": _gz(BODY) + _bad_crc(_gz(record() + "\n")),
    "truncated": _gz(BODY * 50)[:-30],
    "not gzip": b"this is not gzip at all\n",
    "empty": b"",
    "header only, unknown field": _gz("version nonsense-field\n2 x\n"),
    "too few fields": _gz(BODY + "2 too few fields\n"),
    "too many fields": _gz(BODY + record() + " extra\n"),
    "latin-1 byte": (DEFAULT_HEADER + "\n" + record(eni="eni-\xe9") + "\n").encode("latin-1"),
    "a tab": _gz(BODY.replace(" 443 ", "\t443 ")),
    "a lone carriage return": _gz(BODY.replace("eni-1", "eni\r1")),
    # the record pattern passes no control character: the header's bytes are looked at on their own
    "a control character in the header": _gz(BODY.replace("\n", "\x0b\n", 1)),
    "a lone carriage return in the header": _gz(BODY.replace("version ", "version\r ", 1)),
    "a DEL in a text field": _gz(BODY.replace("eni-1", "eni-\x7f1")),
    "a carriage return ending the file": _gz(BODY.rstrip("\n") + "\r"),
    "garbage after the last member": _gz(BODY) + b"\x00\x00junk",
}


@pytest.mark.parametrize("how", CORRUPT, ids=lambda h: h.replace(" ", "-"))
def test_a_file_that_cannot_be_read_in_full_is_named(tmp_path, how):
    write_log(tmp_path, "good.log.gz", [record(dst="1.1.1.1")])
    bad = write_log(tmp_path, "bad.log.gz", [], raw=CORRUPT[how])
    with pytest.raises(DataError, match="bad.log.gz"):
        run_sql(tmp_path)
    result = run_sql(tmp_path, skip=True)
    assert result.rows == [("1.1.1.1", 1, 60)] and [f.path for f in result.stats.skipped] == [str(bad)]


def test_one_rule_for_utf8_wherever_it_is(tmp_path):
    """Valid UTF-8 is read at the start of a file as later in it; invalid UTF-8 is corrupt anywhere."""
    early = write_log(tmp_path, "early.log.gz", [record(eni="eni-é")])
    late = write_log(tmp_path, "late.log.gz", [record()] * 2000 + [record(eni="eni-é")])
    assert sorted(run_sql(tmp_path).rows) == [("9.9.9.9", 2002, 2002 * 60)]
    assert early.exists() and late.exists()


def test_crlf_line_ends_and_blank_lines_are_read(tmp_path):
    write_log(tmp_path, "a.log", [], raw=(DEFAULT_HEADER + "\r\n" + record() + "\r\n\r\n" + record() + "\r\n").encode())
    assert run_sql(tmp_path).rows == [("9.9.9.9", 2, 120)]


def test_a_huge_line_is_refused_with_bounded_memory_and_a_short_message(tmp_path):
    """A small gzip holding a huge line with no newline: memory stays bounded, the error is one short line."""
    bomb = day_dir(tmp_path) / "bomb.log.gz"
    with gzip.GzipFile(bomb, "wb", compresslevel=9, mtime=0) as gz:  # streamed: this process stays small too
        gz.write(DEFAULT_HEADER.encode() + b"\n")
        for _ in range(300):
            gz.write(b"x" * 1_000_000)
    # VmHWM: this process's peak resident memory (ru_maxrss would carry the forking parent's over exec)
    code = ("import sys\nfrom flowsql.cli import main\nsys.argv = ['flowsql'] + sys.argv[1:]\n"
            "try:\n    main()\nfinally:\n    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
            "    print('maxrss', hwm[0].split()[1], file=sys.stderr)\n")
    r = subprocess.run([sys.executable, "-c", code, "query", "top-destinations", "--source", str(tmp_path),
                        "--since", str(DAY), "--until", str(DAY)], capture_output=True, text=True,
                       env={**os.environ, "FLOWSQL_CONFIG": str(tmp_path / "none.json")})
    assert r.returncode == 1, r.stderr
    error = next(line for line in r.stderr.splitlines() if line.startswith("flowsql: error:"))
    assert "bomb.log.gz" in error and "longer than" in error and len(error) < 400
    maxrss_kb = int(r.stderr.split("maxrss ")[1].split()[0])
    assert maxrss_kb < 400 * 1024, maxrss_kb  # 300 MB of text never sits in memory


# --- what is in the partitions ---------------------------------------------------------------------

def test_every_other_file_in_a_partition_is_named(tmp_path):
    write_log(tmp_path, "a.log.gz", [record()])
    d = day_dir(tmp_path)
    (d / "README.txt").write_text("notes")
    (d / "backup").mkdir()
    (d / "backup" / "old.log.gz").write_bytes(gzip.compress(BODY.encode()))
    (tmp_path / "AWSLogs" / "notes.md").write_text("above the partitions: not part of the request")
    (d.parent / "stray.log.gz").write_bytes(gzip.compress(BODY.encode()))  # beside the month's day folders
    r = cli("query", "top-destinations", "--source", tmp_path, "--since", DAY, "--until", DAY, "-o", "json",
            env={"FLOWSQL_CONFIG": str(tmp_path / "none.json")})
    assert r.returncode == 0, r.stderr
    assert "LEFT OUT 3 file(s)" in r.stderr
    assert "README.txt: not a flow-log file" in r.stderr and "old.log.gz: not in a day or hour folder" in r.stderr
    assert "stray.log.gz: not in a day folder" in r.stderr
    assert "notes.md" not in r.stderr


def test_parquet_files_beside_text_files_are_read(tmp_path):
    import duckdb

    write_log(tmp_path, "a.log.gz", [record(dst="1.1.1.1", nbytes="5")])
    pq = day_dir(tmp_path) / "111111111111_vpcflowlogs_us-east-1_fl-1_20260301T0005Z_abc.parquet"
    duckdb.connect().execute(
        "COPY (SELECT 2::INTEGER AS version, '111111111111' AS account_id, '2.2.2.2' AS dstaddr, "
        f"40::BIGINT AS bytes, 'OK' AS log_status FROM range(3)) TO '{pq}' (FORMAT parquet)")
    assert run_sql(tmp_path).rows == [("1.1.1.1", 1, 5), ("2.2.2.2", 3, 120)]


def test_a_parquet_file_with_negative_numbers_or_foreign_columns_is_corrupt(tmp_path):
    import duckdb

    for name, select in (("neg.parquet", "-5::BIGINT AS bytes"), ("odd.parquet", "1 AS not_a_field")):
        shutil.rmtree(tmp_path / "AWSLogs", ignore_errors=True)
        pq = day_dir(tmp_path) / name
        duckdb.connect().execute(f"COPY (SELECT {select}) TO '{pq}' (FORMAT parquet)")
        with pytest.raises(DataError, match=name):
            run_sql(tmp_path)


def _as_nobody(fn):
    """Run fn() in a child process without root's power to read any folder; its result or exception."""
    import pickle

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        try:
            # what the engine imports only when it needs it, imported while the interpreter's own
            # files (perhaps under /root) can still be read
            import concurrent.futures  # noqa: F401

            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            out = ("ok", fn())
        except BaseException as e:  # noqa: BLE001 - sent to the parent
            out = ("error", f"{type(e).__name__}: {e}")
        os.write(w, pickle.dumps(out))
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return pickle.loads(data)


def test_an_unreadable_day_folder_is_an_error_or_named():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="flowsql-test-", dir="/tmp"))  # reachable by an unprivileged user
    base.chmod(0o755)
    root = base / "tree"
    write_log(root, "a.log.gz", [record()], day=date(2026, 3, 1))
    hidden = write_log(root, "b.log.gz", [record(dst="6.6.6.6")], day=date(2026, 3, 2)).parent
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    hidden.chmod(0o000)
    cache = base / "cache"
    cache.mkdir(mode=0o777)
    os.environ["FLOWSQL_CACHE_DIR"], saved = str(cache), os.environ.get("FLOWSQL_CACHE_DIR")
    try:
        w = Window(date(2026, 3, 1), date(2026, 3, 2))

        def strict():
            return LocalEngine(root, w).execute(SQL).rows

        def skipping():
            res = LocalEngine(root, w, skip_bad_files=True).execute(SQL)
            return res.rows, [str(f) for f in res.stats.skipped]

        kind, error = _as_nobody(strict)
        assert kind == "error" and "DataError" in error and "02" in error and "cannot be listed" in error
        kind, (rows, skipped) = _as_nobody(skipping)
        assert kind == "ok" and rows == [("9.9.9.9", 1, 60)] and "folder cannot be listed" in skipped[0]
    finally:
        hidden.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
        if saved is None:
            os.environ.pop("FLOWSQL_CACHE_DIR")
        else:
            os.environ["FLOWSQL_CACHE_DIR"] = saved


# --- paths that are not patterns ----------------------------------------------------------------------

@pytest.mark.parametrize("tmpdir_name", ["a?b", "x[1]", "star*"])
def test_glob_characters_in_tmpdir_change_nothing(tmp_path, tmpdir_name):
    write_log(tmp_path / "src", "a.log.gz", [record()])
    tmp = tmp_path / tmpdir_name
    tmp.mkdir()
    r = cli("query", "top-destinations", "--source", tmp_path / "src", "--since", DAY, "--until", DAY, "-o", "csv",
            env={"TMPDIR": str(tmp), "FLOWSQL_CONFIG": str(tmp_path / "none.json"),
                 "FLOWSQL_CACHE_DIR": str(tmp_path / "cache?")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1] == '"9.9.9.9",1,10,60'


@pytest.mark.parametrize("folder", ["incident [2024]", "a?b", "star*dir"])
def test_glob_characters_in_the_source_path_read_only_that_tree(tmp_path, folder):
    write_log(tmp_path / folder, "a.log.gz", [record()])
    for sibling in ("incident 2", "aXb", "star-other-dir"):
        write_log(tmp_path / sibling, "a.log.gz", [record(dst="6.6.6.6")])
    bad = write_log(tmp_path / folder, "b.log.gz", [record(nbytes="1.5")])  # checked through its link too
    with pytest.raises(DataError, match="b.log.gz"):
        run_sql(tmp_path / folder)
    bad.unlink()
    assert run_sql(tmp_path / folder).rows == [("9.9.9.9", 1, 60)]


# --- the property --------------------------------------------------------------------------------------

BASE_LINES = [record(dst=f"10.0.0.{i % 5}", nbytes=str(100 + i), packets=str(1 + i % 3)) for i in range(30)]
MUTANT_LINES = ["2 x", record(nbytes="1500.7"), record(nbytes="-3"), record(nbytes="0x10"), record(nbytes="1_0"),
                record() + " ", record().replace(" ", "  ", 1), record(eni="eni-é"), record(eni="eni-\u00e9\u00e9"),
                "", record(status="NODATA"), record(dst="-", nbytes="-")]


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "append-member", "append-bytes", "none"]))
    if kind in ("truncate", "flip"):
        return kind, draw(st.integers(0, 10_000)), draw(st.integers(1, 255))
    if kind == "insert":
        return kind, draw(st.integers(0, len(BASE_LINES))), draw(st.sampled_from(MUTANT_LINES))
    if kind == "append-bytes":
        return kind, draw(st.binary(min_size=1, max_size=20)), 0
    return kind, draw(st.booleans()), 0


def _mutate(path: Path, mutation) -> None:
    kind, a, b = mutation
    data = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(data[: a % max(len(data), 1)])
    elif kind == "flip":
        i = a % len(data)
        path.write_bytes(data[:i] + bytes([data[i] ^ b]) + data[i + 1:])
    elif kind == "insert":
        lines = gzip.decompress(data).decode().split("\n")
        lines.insert(1 + a, b)
        path.write_bytes(gzip.compress("\n".join(lines).encode(), mtime=0))
    elif kind == "append-member":
        member = gzip.compress((record(dst="7.7.7.7") + "\n").encode(), mtime=0)
        path.write_bytes(data + (_bad_crc(member) if a else member))
    elif kind == "append-bytes":
        path.write_bytes(data + a)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(), skip=st.booleans())
def test_a_file_flowsql_cannot_fully_read_is_an_error_or_named(tmp_path, mutation, skip):
    """Whatever happens to a file, the local engine either reads exactly what a strict reader reads in
    it, or stops naming it, or (--skip-bad-files) leaves it out and names it: never a quiet partial read."""
    root = tmp_path / f"t{abs(hash((mutation, skip)))}"
    shutil.rmtree(root, ignore_errors=True)
    other = write_log(root, "other.log.gz", [record(dst="1.1.1.1", nbytes="5")])
    victim = write_log(root, "victim.log.gz", BASE_LINES)
    _mutate(victim, mutation)
    expected_other = strict_reader.read(other, account="111111111111", region="us-east-1", day=DAY)
    try:
        victim_records = strict_reader.read(victim, account="111111111111", region="us-east-1", day=DAY)
    except strict_reader.Unreadable:
        victim_records = None

    def expected(records):
        groups = {}
        for r in records:
            n, b = groups.get(r["dstaddr"], (0, None))
            groups[r["dstaddr"]] = (n + 1, b if r["bytes"] is None else (b or 0) + r["bytes"])
        return sorted(((k, n, b) for k, (n, b) in groups.items()), key=lambda t: (t[0] is None, t[0] or ""))

    try:
        result = run_sql(root, skip=skip)
    except DataError as e:
        assert victim_records is None and not skip, (mutation, str(e))
        assert "victim.log.gz" in str(e)
        return
    if victim_records is None:
        assert skip and [f.path for f in result.stats.skipped] == [str(victim)], mutation
        assert result.rows == expected(expected_other)
    else:
        assert result.stats.skipped == []
        assert result.rows == expected(expected_other + victim_records), mutation


def test_many_bad_files_are_found_in_one_pass_and_all_named(tmp_path):
    """--skip-bad-files: every bad file is found by the one check of the window (none reruns the query)."""
    good = [write_log(tmp_path, f"good{i}.log.gz", [record(dst=f"1.1.1.{i}", nbytes=str(i + 1))]) for i in range(5)]
    bad = [write_log(tmp_path, f"bad{i}.log.gz", [record(nbytes=v)])
           for i, v in enumerate(["1.5", "0x1", "-1", "1e3", "1_0", "x", "+1", "..", "9" * 30, "1 2"])]
    result = run_sql(tmp_path, skip=True)
    assert sorted(f.path for f in result.stats.skipped) == sorted(map(str, bad))
    assert result.rows == [(f"1.1.1.{i}", 1, i + 1) for i in range(5)] and result.stats.files_read == len(good)


@pytest.mark.parametrize("bound", [str(2**31 - 1), str(2**63 - 1), "5", "10", "100"])
def test_the_number_pattern_accepts_exactly_the_digit_strings_that_fit(bound):
    """Records' numbers are tested with one pattern per record (integrity.at_most): it must accept
    exactly what `[0-9]{1,n}` and a cast to the field's type accept together."""
    import random
    import re

    from flowsql.engines.local.integrity import at_most

    pattern, n, rng = re.compile(at_most(bound)), len(bound), random.Random(5)
    values = [str(i) for i in range(300)] + [bound, str(int(bound) + 1), str(int(bound) - 1), "0" * n,
                                              "0" * (n + 1), "9" * n, "1" + "0" * (n - 1), "", "-1", "1.0", "0x1"]
    values += [str(rng.randrange(10 ** n)).zfill(rng.randint(1, n)) for _ in range(5000)]
    for v in values:
        assert bool(pattern.fullmatch(v)) == (1 <= len(v) <= n and v.isdigit() and int(v) <= int(bound)), v


def test_a_named_pipe_in_a_day_folder_is_named_never_opened(tmp_path):
    """Opening a FIFO blocks until someone writes to it: flowsql names it as unreadable instead."""
    write_log(tmp_path / "src", "a.log.gz", [record(dst="5.5.5.5")])
    fifo = day_dir(tmp_path / "src") / "123456789012_vpcflowlogs_us-east-1_fl-0abc_20260301T0900Z_fifo.log.gz"
    os.mkfifo(fifo)
    env = {**os.environ, "FLOWSQL_CONFIG": str(tmp_path / "none.json"), "FLOWSQL_CACHE_DIR": str(tmp_path / "c")}
    base = [sys.executable, "-m", "flowsql", "query", "top-destinations", "--source", str(tmp_path / "src"),
            "--since", str(DAY), "--until", str(DAY), "-o", "csv"]
    strict = subprocess.run(base, capture_output=True, text=True, env=env, timeout=60)
    assert strict.returncode == 1 and "not a regular file (a named pipe)" in strict.stderr and fifo.name in strict.stderr
    skipping = subprocess.run([*base, "--skip-bad-files"], capture_output=True, text=True, env=env, timeout=60)
    assert skipping.returncode == 0 and "5.5.5.5" in skipping.stdout and fifo.name in skipping.stderr


def test_a_file_rewritten_in_place_with_its_old_size_and_mtime_is_checked_again(tmp_path, monkeypatch):
    """The check cache knows a file by size, mtime, inode and change time: rewriting a checked file
    with numbers of the same width and setting its mtime back does not pass the new numbers."""
    monkeypatch.setenv("FLOWSQL_CACHE_DIR", str(tmp_path / "cache"))
    path = write_log(tmp_path / "src", "a.log", [record(nbytes="1000"), record(nbytes="2000")])
    w = Window(DAY, DAY)
    assert sorted(LocalEngine(tmp_path / "src", w).execute(SQL).rows) == [("9.9.9.9", 2, 3000)]
    st = path.stat()
    path.write_text(path.read_text().replace(" 1000 ", " -100 ").replace(" 2000 ", " 99.9 "))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    with pytest.raises(DataError, match="no unsigned decimal integer"):
        LocalEngine(tmp_path / "src", w).execute(SQL)
