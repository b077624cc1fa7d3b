"""`make bench`: flowsql's speed against baselines measured in the same run, on this machine.

Baselines: gzip itself (Python's zlib reading every file) and DuckDB's bare read_csv count over the
same files — the floor any query on the local engine stands on. Results go to stdout and to
bench/results/latest.json. Nothing here asserts; compare the ratios between runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from flowsql.engines.local import LocalEngine, read_header  # noqa: E402
from flowsql.generate import Scenario, generate  # noqa: E402
from flowsql.inventory import load  # noqa: E402
from flowsql.pack import get_query  # noqa: E402
from flowsql.params import Window  # noqa: E402
from flowsql.runner import run  # noqa: E402

START = date(2026, 1, 1)


def timed(fn, repeat=3):
    """(median seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def tree(days: int, flows: int) -> tuple[Path, int]:
    data = HERE / "data" / f"d{days}-f{flows}"
    marker = data / "records.txt"
    if not marker.exists():
        print(f"generating {days} days × 2 regions × {flows:,} flows/day into {data} …", file=sys.stderr)
        t = time.perf_counter()
        generate(data, Scenario(start=START, days=days, flows_per_day=flows, seed=1), keep_records=False)
        gen_s = time.perf_counter() - t
        n = sum(sum(1 for _ in gzip.open(p, "rt")) - 1 for p in (data / "AWSLogs").rglob("*.log.gz"))
        marker.write_text(f"{n} {gen_s}")
    n, gen_s = marker.read_text().split()
    return data, int(n), float(gen_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--flows", type=int, default=150_000, help="flows per day per region")
    args = ap.parse_args()

    root, records, gen_s = tree(args.days, args.flows)
    files = sorted((root / "AWSLogs").rglob("*.log.gz"))
    size = sum(p.stat().st_size for p in files)
    window = Window(START, START + timedelta(days=args.days - 1))
    results: dict[str, dict] = {}

    def note(name, seconds, per=None, baseline=None, extra=""):
        row = {"seconds": round(seconds, 4)}
        if per:
            row["records_per_s"] = round(per / seconds)
        if baseline:
            row["x_baseline"] = round(seconds / results[baseline]["seconds"], 2)
        results[name] = row
        rate = f"{row['records_per_s']:>12,} rec/s" if per else " " * 18
        ratio = f"  {row['x_baseline']:>5.2f}× {baseline}" if baseline else ""
        print(f"{name:<34} {seconds:>8.3f} s {rate}{ratio} {extra}")

    print(f"tree: {len(files)} files, {size / 1e6:,.1f} MB gzip, {records:,} records "
          f"(generated at {records / gen_s:,.0f} rec/s)\n")

    # -- baselines --
    def gunzip_all():
        for p in files:
            with gzip.open(p, "rb") as fh:
                while fh.read(1 << 20):
                    pass
    note("baseline: gzip read (python zlib)", timed(gunzip_all)[0], records)

    import duckdb

    groups: dict = {}
    for p in files:
        groups.setdefault(read_header(p), []).append(str(p))

    def duck_count():
        con = duckdb.connect()
        total = 0
        for fmt, paths in groups.items():
            cols = ", ".join(f"'{f.column}': '{f.duckdb_type}'" for f in fmt.fields)
            total += con.execute(
                f"SELECT count(*) FROM read_csv({paths!r}, delim=' ', header=true, nullstr='-', quote='', "
                f"escape='', auto_detect=false, compression='gzip', columns={{{cols}}})").fetchone()[0]
        return total
    s, n = timed(duck_count)
    note("baseline: duckdb read_csv count(*)", s, records, extra=f"({n:,} rows)")

    # -- flowsql: the local engine end to end (render, lint gate warm, DuckDB) --
    inv = load(root / "inventory")
    for name in ("top-destinations", "rejects-by-subnet", "lambda-egress"):
        def one():
            engine = LocalEngine(root, window, inventory=inv)
            try:
                return run(get_query(name), {}, engine, window).result
            finally:
                engine.close()
        s, _ = timed(one)
        note(f"local engine: {name}", s, records, baseline="baseline: duckdb read_csv count(*)")

    # -- render + lint, cold (empty cache) and warm --
    from flowsql.engines import Target
    from flowsql.lint import lint_sql
    from flowsql.render import render

    q = get_query("lambda-egress")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FLOWSQL_CACHE_DIR"] = cache
        t = time.perf_counter()
        sql = render(q, {}, Target("athena"), window).sql
        lint_sql(sql, q.name, flow_log_table="flow_logs")
        note("render + lint, cold cache", time.perf_counter() - t)
        s, _ = timed(lambda: lint_sql(render(q, {}, Target("athena"), window).sql, q.name,
                                      flow_log_table="flow_logs"), repeat=5)
        note("render + lint, warm cache", s)

    # -- CLI start-up --
    exe = Path(sys.executable).with_name("flowsql")
    cmd = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "flowsql", "--help"]
    s, _ = timed(lambda: subprocess.run(cmd, capture_output=True, check=True), repeat=7)
    note("cli: flowsql --help", s, extra="(target < 0.5 s)")

    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"records": records, "files": len(files), "results": results},
                                                indent=2))
    print(f"\nwritten to {out / 'latest.json'}")


if __name__ == "__main__":
    main()
