"""`flowsql convert`: the Parquet tree answers every query as the text tree does; incremental; crash-safe."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.engines.local.convert import convert
from flowsql.engines.local.engine import LocalEngine
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import get_query
from flowsql.errors import UsageError
from flowsql.runner import run

START = date(2026, 7, 1)
W = Window(START, START + timedelta(days=3))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("text"), Scenario(start=START, days=4, flows_per_day=200, seed=4))


@pytest.fixture(scope="module")
def parquet(tree, tmp_path_factory):
    out = tmp_path_factory.mktemp("pq")
    result = convert(tree.root, out)
    assert result.days_converted == 8 and result.days_skipped == 0  # 4 days x 2 regions
    return out


def answer(root, name, params, inventory, window=W):
    engine = LocalEngine(root, window, inventory=load_inventory(inventory, window=window))
    try:
        return run(get_query(name), params, engine, window).result
    finally:
        engine.close()


CASES = [(n, c) for n, (_, cases) in sorted(oracle.ORACLES.items()) for c in cases
         if not get_query(n).required_example()]


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}-{oracle.case_id(c)}" for n, c in CASES])
def test_the_parquet_tree_answers_as_the_oracle(tree, parquet, name, case):
    fn, _ = oracle.ORACLES[name]
    records = tree.tgw_records if get_query(name).table == "tgw" else tree.records  # (TGW: test_local_engine_tgw)
    params = oracle.case_params(case, records, tree.inventory_dir)
    try:
        want = fn(records, tree.inventory_dir, params, since=W.since, until=W.until, accounts=None, regions=None)
    except oracle.Refused:  # no file has a field the query needs (ecs-* here): both trees refuse it
        for root in (parquet, tree.root):
            with pytest.raises(UsageError, match=f"no file in the window can answer {name}"):
                answer(root, name, params, tree.inventory_dir)
        return
    try:
        result = answer(parquet, name, params, tree.inventory_dir)
    except Exception as e:  # a query the format cannot answer is refused on both trees alike
        with pytest.raises(type(e)):
            answer(tree.root, name, params, tree.inventory_dir)
        return
    assert result.records() == want


def test_files_are_parquet_in_awss_hive_layout(parquet):
    files = sorted(p.relative_to(parquet).as_posix() for p in parquet.rglob("*.parquet"))
    assert len(files) == 8
    assert files[0].startswith("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
                               "year=2026/month=07/day=01/123456789012_vpcflowlogs_eu-west-1_")
    import duckdb

    schema = duckdb.connect().execute(f"SELECT name, type FROM parquet_schema('{parquet / files[-1]}')").fetchall()
    assert ("bytes", "INT64") in schema and ("srcport", "INT32") in schema and ("srcaddr", "BYTE_ARRAY") in schema


def test_incremental_only_changed_days_are_converted(tree, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(tree.root / "AWSLogs", src / "AWSLogs")
    out = tmp_path / "out"
    assert convert(src, out).days_converted == 8
    again = convert(src, out)
    assert (again.days_converted, again.days_skipped) == (0, 8)
    day_file = next((src / "AWSLogs").rglob("*.log.gz"))
    os.utime(day_file, (1, 1))  # the input changed (as a re-synced file would)
    third = convert(src, out)
    assert (third.days_converted, third.days_skipped) == (1, 7)


def test_an_interrupted_run_leaves_no_half_partition_and_resumes(tree, tmp_path):
    out = tmp_path / "out"

    def stop_after_two(done, total, what):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert(tree.root, out, progress=stop_after_two)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    # days are converted side by side: the one under way when the run stopped is absent, or whole
    # (renamed into place and recorded) when it finished first; never half of one
    kept = len(list(out.rglob("*.parquet")))
    assert 2 <= kept < 8
    resumed = convert(tree.root, out)
    assert (resumed.days_converted, resumed.days_skipped) == (8 - kept, kept)
    assert answer(out, "top-destinations", {"limit": "50"}, tree.inventory_dir).rows == \
        answer(tree.root, "top-destinations", {"limit": "50"}, tree.inventory_dir).rows


def test_a_tree_holding_both_layouts_and_types(tree, parquet, tmp_path):
    """Text (plain layout) for the last two days, Parquet (Hive layout) for the first two: one tree."""
    mixed = tmp_path / "mixed"
    for f in (tree.root / "AWSLogs").rglob("*.log.gz"):
        rel = f.relative_to(tree.root)
        if any(f"/{d:%Y/%m/%d}/" in "/" + rel.as_posix() for d in (START + timedelta(days=2), START + timedelta(days=3))):
            (mixed / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, mixed / rel)
    for f in parquet.rglob("*.parquet"):
        if "day=01" in str(f) or "day=02" in str(f):
            rel = f.relative_to(parquet)
            (mixed / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, mixed / rel)
    want = oracle.top_destinations(tree.records, since=W.since, until=W.until, action="ANY", limit=1000)
    assert answer(mixed, "top-destinations", {"action": "ANY", "limit": "1000"}, tree.inventory_dir).records() == want


def test_out_inside_source_is_refused(tree):
    r = CliRunner().invoke(app, ["convert", "--source", str(tree.root), "--out", str(tree.root / "AWSLogs" / "pq")])
    assert r.exit_code == 2 and "overlaps" in r.stderr


@pytest.mark.parametrize("outputs", [["/ABS/victim.txt"], ["AWSLogs/../../victim.txt"], "xyz", [1, 2],
                                     ["victim.txt"]])
def test_a_day_record_naming_anything_but_its_own_files_is_not_trusted(tree, tmp_path, outputs):
    """A record says which old files a day replaces; one naming a path outside the Parquet tree (or
    not a list of paths) counts as no record: the day is converted again and nothing else deleted."""
    import json

    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(tree.root, src)
    convert(src, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / "victim.txt").write_text("precious too")
    record = next((out / ".flowsql-convert").rglob("*.json"))
    if isinstance(outputs, list):
        outputs = [str(victim) if o == "/ABS/victim.txt" else o for o in outputs]
    record.write_text(json.dumps({"inputs": [], "outputs": outputs}))
    again = convert(src, out)
    assert (again.days_converted, again.days_skipped) == (1, 7)
    assert victim.read_text() == "precious" and (out / "victim.txt").read_text() == "precious too"


def test_a_source_rewritten_with_its_old_size_and_mtime_is_converted_again(tree, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(tree.root, src)
    convert(src, out)
    f = next((src / "AWSLogs").rglob("*.log.gz"))
    st = f.stat()
    f.write_bytes(f.read_bytes())  # same bytes: only its change time tells
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = convert(src, out)
    assert (again.days_converted, again.days_skipped) == (1, 7)



def test_an_output_that_cannot_be_written_is_one_line_naming_it(tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".flowsql-convert").write_text("a file where the records' folder goes")
    r = CliRunner().invoke(app, ["convert", "--source", str(tree.root), "--out", str(out)])
    assert r.exit_code == 1 and "cannot write" in r.stderr and "Not a directory" in r.stderr, r.output
    assert "internal error" not in r.output and not list(out.rglob("*.tmp"))


# --- a day's Parquet is replaced only by one holding at least as much (issue 13) -------------------------

DAY2 = START + timedelta(days=1)


def _day_files(src, day=DAY2, region="us-east-1"):
    return sorted((src / "AWSLogs").glob(f"*/vpcflowlogs/{region}/{day:%Y/%m/%d}/*.log.gz"))


def _snapshot(out):
    """Every file of the Parquet tree and the records, with its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _day_answer(root, tree, day=DAY2):
    return answer(root, "top-destinations", {"action": "ANY", "limit": "1000"}, tree.inventory_dir,
                  window=Window(day, day)).records()


@pytest.mark.parametrize("how", ["truncated", "deleted", "all truncated"])
@pytest.mark.parametrize("skip", [True, False])
def test_a_day_whose_converted_files_went_bad_keeps_its_parquet(tree, tmp_path, how, skip):
    """A truncated re-sync (or a deleted file) of a converted day: the day keeps its old Parquet and
    record, is named on stderr, and the run exits 1; every other day is converted as usual."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(tree.root, src)
    assert convert(src, out).days_converted == 8
    before = _snapshot(out)
    files = _day_files(src)
    assert len(files) >= 2
    for f in files if how == "all truncated" else files[:1]:
        if how == "deleted":
            f.unlink()
        else:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])  # cut mid-member, as a broken copy is
    other = _day_files(src, START + timedelta(days=2), "eu-west-1")[0]
    os.utime(other, (1, 1))  # another day changed meanwhile: it is converted as usual
    r = CliRunner().invoke(app, ["convert", "--source", str(src), "--out", str(out)]
                           + (["--skip-bad-files"] if skip else []))
    assert r.exit_code == 1 and "internal error" not in r.output, r.output
    if skip or how == "deleted":
        assert f"KEPT the old Parquet of 123456789012 us-east-1 {DAY2}" in r.stderr, r.stderr
        assert files[0].name in r.stderr
        assert "converted 1 day(s)" in r.stdout
    else:  # a bad file without --skip-bad-files stops the run before anything is written
        assert files[0].name in r.stderr and "--skip-bad-files" in r.stderr
    after = _snapshot(out)
    changed = {k for k in before if before[k] != after.get(k)}
    assert all("eu-west-1" in k or "day=03" in k or "2026-07-03" in k for k in changed), changed
    assert {k: v for k, v in after.items() if "us-east-1" in k and ("day=02" in k or "2026-07-02" in k)} == \
        {k: v for k, v in before.items() if "us-east-1" in k and ("day=02" in k or "2026-07-02" in k)}
    want = oracle.top_destinations(tree.records, since=DAY2, until=DAY2, action="ANY", limit=1000)
    assert _day_answer(out, tree) == want  # the day still counts every record it held


def test_deleting_a_kept_days_parquet_converts_it_from_what_is_left(tree, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(tree.root, src)
    convert(src, out)
    files = _day_files(src)
    files[0].write_bytes(files[0].read_bytes()[:100])
    assert [k[:3] for k in convert(src, out, skip_bad_files=True).kept] == [("123456789012", "us-east-1", DAY2)]
    for p in out.rglob("*.parquet"):
        if "aws-region=us-east-1" in str(p) and "day=02" in str(p):
            p.unlink()
    again = convert(src, out, skip_bad_files=True)
    assert again.kept == [] and again.days_converted == 1 and [p for p, _ in again.bad_files] == [str(files[0])]
    # later runs keep the new Parquet without complaint while the bad file stays as it is
    files[1].touch()
    third = convert(src, out, skip_bad_files=True)
    assert third.kept == [] and third.days_converted == 1


def test_a_file_bad_from_the_first_conversion_is_no_loss_later(tree, tmp_path):
    """The record says which files the Parquet holds: one that was left out from the start is not
    counted as lost when another file of its day changes, and once repaired it is converted in."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(tree.root, src)
    files = _day_files(src)
    good = files[0].read_bytes()
    files[0].write_bytes(good[:100])
    first = convert(src, out, skip_bad_files=True)
    assert first.kept == [] and first.days_converted == 8
    files[1].touch()
    assert convert(src, out, skip_bad_files=True).kept == []
    files[0].write_bytes(good)  # repaired
    fixed = convert(src, out, skip_bad_files=True)
    assert fixed.kept == [] and fixed.bad_files == [] and fixed.days_converted == 1
    assert _day_answer(out, tree) == oracle.top_destinations(tree.records, since=DAY2, until=DAY2, action="ANY",
                                                             limit=1000)


def test_a_day_whose_files_are_all_gone_keeps_its_parquet_quietly(tree, tmp_path):
    """Converted text may be pruned: the day's Parquet stays and nothing is said."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(tree.root, src)
    convert(src, out)
    before = _snapshot(out)
    for f in _day_files(src):
        f.unlink()
    again = convert(src, out)
    assert again.kept == [] and again.days_converted == 0 and _snapshot(out) == before


def _outside(root):
    return {p.relative_to(root).as_posix(): (os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file()
                                             else None) for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("link", ["AWSLogs", "day folder", "output", ".flowsql-convert", "record"])
def test_convert_never_writes_or_deletes_through_a_link_in_out(tree, tmp_path, link):
    """A link anywhere convert writes, replaces or removes in --out: refused (exit 2) naming it;
    nothing outside --out is written or deleted, and the link stays."""
    src, out, elsewhere = tmp_path / "src", tmp_path / "out", tmp_path / "elsewhere"
    shutil.copytree(tree.root, src)
    convert(src, out)
    day = next(p for p in out.rglob("day=02") if "us-east-1" in str(p))
    parquet = next(day.glob("*.parquet"))
    record = next(p for p in (out / ".flowsql-convert").rglob(f"{DAY2}.json") if "us-east-1" in str(p))
    at = {"AWSLogs": out / "AWSLogs", "day folder": day, "output": parquet, ".flowsql-convert": out / ".flowsql-convert",
          "record": record}[link]
    shutil.copytree(at, elsewhere) if at.is_dir() else (elsewhere.mkdir(), shutil.copy(at, elsewhere / at.name))
    target = elsewhere if at.is_dir() else elsewhere / at.name
    shutil.rmtree(at) if at.is_dir() else at.unlink()
    at.symlink_to(target)
    for f in _day_files(src):
        os.utime(f, (1, 1))  # the day changed: convert rewrites its Parquet and record
    before = _outside(elsewhere)
    r = CliRunner().invoke(app, ["convert", "--source", str(src), "--out", str(out)])
    assert r.exit_code == 2 and "internal error" not in r.output, (link, r.output)
    assert f"{at} is a symbolic link" in r.stderr, r.stderr
    assert _outside(elsewhere) == before and at.is_symlink()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_days_records_are_written_in_conversation_order(tree, parquet):
    """Every record once, each file ordered by (srcaddr, dstaddr): the grouping queries' speed on
    Parquet rests on it (bench), the answers do not (test_the_parquet_tree_answers_as_the_oracle)."""
    import duckdb

    con = duckdb.connect()
    rows = 0
    for f in parquet.rglob("*.parquet"):
        pairs = con.execute(f"SELECT srcaddr, dstaddr FROM read_parquet('{f}', hive_partitioning=false)").fetchall()
        assert len(pairs) > 1
        assert pairs == sorted(pairs, key=lambda p: (p[0] is None, p[0] or "", p[1] is None, p[1] or ""))
        rows += len(pairs)
    assert rows == len(tree.records)


def test_a_format_without_the_conversation_columns_converts_as_read(tmp_path):
    from trees import write_log

    src, out = tmp_path / "src", tmp_path / "out"
    lines = [f"{i} eni-{i % 3} ACCEPT OK" for i in (5, 3, 9, 1)]
    write_log(src, "a.log.gz", lines, header="bytes interface-id action log-status")
    result = convert(src, out)
    assert (result.days_converted, result.records) == (1, 4)
    import duckdb

    (f,) = out.rglob("*.parquet")
    got = duckdb.connect().execute(f"SELECT bytes FROM read_parquet('{f}', hive_partitioning=false)").fetchall()
    assert [b for (b,) in got] == [5, 3, 9, 1]
