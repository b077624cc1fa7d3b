"""`make bench`: flowsql's speed at scale, against baselines measured in the same run, on this machine.

Generates once (cached under bench/data/, git-ignored) a deterministic dataset of 10 million records over
30 days (two accounts, us-east-1 in the default format, eu-west-1 in a custom v5 format), converts it to
Parquet, then times whole processes — several runs each, median and spread, peak memory from the kernel
(wait4) — and prints one table with the ratios and the targets of the performance issue:

- `flowsql query` (local) for top-destinations, rejects-by-subnet, lambda-egress and the two heaviest pack
  queries, against the same query hand-written for DuckDB on the same files (bench/baseline/) and against
  the decompression floor (two parallel zcat);
- a small query (one account, one region, 10 days), where start-up dominates;
- the first query over files never checked (top-destinations, the whole dataset and the small query's
  files): with the render and lint caches of earlier use, and with every cache cold;
- start-up alone: the same command over a window with no files, the fixed cost of every query;
- a 1-day window over the 30 days against the full scan (files opened, time), also beyond start-up;
- the Parquet tree against the text tree (also beyond start-up), and the conversion, both after the
  text queries checked the files and on files never checked;
- `flowsql --help`, `flowsql render` with a cold and a warm lint cache;
- plain-Python parsing of the same files.

Nothing here asserts; the table says which targets hold. Results: bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

START = date(2026, 1, 1)
DAYS = 30
ACCOUNTS = ("111111111111", "222222222222")
SMALL_SCOPE = ["--account", ACCOUNTS[0], "--region", "us-east-1"]  # the small query's (small_query)
RECORDS = 10_000_000
HEAVY = ("port-scan-suspects", "top-talkers")  # the two heaviest pack queries (distinct counts, big group-by)


def flowsql_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("flowsql")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "flowsql"]


# The timed command runs under this small launcher, which reports the child's own wall time and peak
# memory. Linux counts a child's peak from the memory of the process that forked it (a fork carries
# its parent's high-water mark across exec), so a child of this script, which holds the dataset's
# listing and more, would show this script's peak instead of its own.
LAUNCHER = """
import os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(p.pid, 0)
seconds = time.perf_counter() - t
with open(sys.argv[1], "w") as out:
    out.write(f"{seconds} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_once(cmd, env=None) -> tuple[float, int, str]:
    """(seconds, peak resident KB, stderr) of one whole process."""
    with tempfile.NamedTemporaryFile("r", prefix="flowsql-bench-", suffix=".txt") as figures:
        p = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, figures.name, *map(str, cmd)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed: {err.strip()[-400:]}")
        seconds, peak_kb = figures.read().split()
    return float(seconds), int(peak_kb), err


def _figures(samples: list, first) -> dict:
    """A measurement's figures from its timed runs (run_once's), `first` the warm-up's (or None)."""
    samples = samples or [first]
    times = [s[0] for s in samples]
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "first_s": first[0] if first else None, "peak_mb": max(s[1] for s in samples) / 1024,
            "stderr": samples[-1][2]}


def measure(cmd, runs: int, env=None, warmup: int = 1) -> dict:
    first = None
    for _ in range(warmup):
        first = run_once(cmd, env)
    return _figures([run_once(cmd, env) for _ in range(runs)], first)


def measure_together(cmds: dict, runs: int, env=None) -> dict[str, dict]:
    """measure() of several commands, their runs interleaved (one warm-up each, then run i of every
    command before run i + 1 of any): a slow spell of a shared machine lands on every command of a
    ratio, not on one of them. A command's first run is its warm-up."""
    first = {name: run_once(cmd, env) for name, cmd in cmds.items()}
    samples: dict[str, list] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            samples[name].append(run_once(cmd, env))
    return {name: _figures(got, first[name]) for name, got in samples.items()}


def dataset(data: Path, records: int) -> Path:
    from flowsql.logs.fields import DEFAULT_LOG_FORMAT
    from flowsql.demo.generate import CUSTOM_LOG_FORMAT, Scenario, generate

    tree = data / f"text-{records}"
    marker = tree / ".bench.json"
    per_day = records // (DAYS * len(ACCOUNTS) * 2)
    wanted = {"days": DAYS, "accounts": ACCOUNTS, "per_day": per_day, "version": 1}
    if marker.exists() and json.loads(marker.read_text()) == json.loads(json.dumps(wanted)):
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    print(f"generating {records:,} records ({DAYS} days, {len(ACCOUNTS)} accounts, 2 regions) into {tree} …",
          file=sys.stderr)
    t = time.perf_counter()
    generate(tree, Scenario(start=START, days=DAYS, accounts=ACCOUNTS, flows_per_day=per_day, files_per_day=6,
                            seed=1, regions={"us-east-1": DEFAULT_LOG_FORMAT, "eu-west-1": CUSTOM_LOG_FORMAT}),
             keep_records=False)
    print(f"  generated in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    marker.write_text(json.dumps(wanted))
    return tree


def files_by_format(tree: Path, since: date, until: date, accounts=(), regions=()) -> dict[str, list[str]]:
    """The files a careful user would list by hand for the window, by their header line."""
    import gzip

    from flowsql.logs.layout import local_files

    groups: dict[str, list[str]] = {}
    for f in local_files(tree, since, until, accounts, regions).files:
        with gzip.open(f.path, "rt") as fh:
            groups.setdefault(fh.readline().strip(), []).append(str(f.path))
    return groups


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each measurement (after one warm-up)")
    ap.add_argument("--data", type=Path, default=HERE / "data", help="where the dataset is cached")
    ap.add_argument("--records", type=int, default=RECORDS, help="dataset size (a smaller one for a quick look)")
    ap.add_argument("--only", choices=("all", "pull", "investigate", "cold"), default="all",
                    help="pull: only the `flowsql pull` rows (bench/pull.py); investigate: only the `flowsql "
                         "investigate` rows; cold: only the first query over files never checked (and its "
                         "hand-written baseline); each merged into bench/results.json")
    args = ap.parse_args()
    if args.only == "pull":
        return pull_only(args)
    if args.only == "cold":
        return cold_only(args)
    if args.only == "investigate":
        return investigate_only(args)

    # flowsql's bytecode, as an installed package has it (pip compiles at install): an editable
    # install run under PYTHONDONTWRITEBYTECODE=1 would compile every module in every process
    import compileall

    compileall.compile_dir(str(ROOT / "flowsql"), quiet=1)

    from flowsql.pack.queries import load_pack

    pack = {q.name for q in load_pack()}
    queries = [q for q in ("top-destinations", "rejects-by-subnet", "lambda-egress", *HEAVY) if q in pack]
    tree = dataset(args.data, args.records)
    inv = tree / "inventory"
    last = START + timedelta(days=DAYS - 1)
    all_files = [str(p) for p in sorted((tree / "AWSLogs").rglob("*.log.gz"))]
    gz_bytes = sum(os.path.getsize(p) for p in all_files)
    work = Path(tempfile.mkdtemp(prefix="flowsql-bench-"))
    cache = work / "cache"
    # every flowsql process of this run: a cache of its own (the first text query checks the files),
    # no user configuration
    os.environ.update({"FLOWSQL_CACHE_DIR": str(cache), "FLOWSQL_CONFIG": str(work / "none.json")})
    env = dict(os.environ)
    fs = flowsql_cmd()
    results: dict[str, dict] = {}
    rows: list[tuple] = []

    def note(name, m, *, ratio=None, target=None, ok=None):
        results[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items() if k != "stderr"}
        if ratio is not None:
            results[name]["ratio"] = round(ratio, 3)
        if target is not None:
            results[name]["target"], results[name]["met"] = target, ok
        rows.append((name, m.get("median_s"), m.get("min_s"), m.get("max_s"), m.get("peak_mb"), ratio, target, ok))
        print(f"  {name}: {m.get('median_s', 0):.3f} s", file=sys.stderr, flush=True)

    def write_files(name, groups):
        path = work / f"{name}.json"
        path.write_text(json.dumps(groups))
        return path

    full = write_files("full", files_by_format(tree, START, last))
    window = ["--since", str(START), "--until", str(last)]

    # -- floors and baselines
    half = len(all_files) // 2
    zcat = ["bash", "-c", "printf '%s\\0' \"$@\" | xargs -0 -P2 -n " + str(half + 1) + " zcat > /dev/null", "zcat",
            *all_files]
    floor = measure(zcat, args.runs)
    note("decompression floor: 2 × zcat", floor)

    base = {}
    for q in queries:
        if (HERE / "baseline" / f"{q}.sql").exists():
            base[q] = measure([sys.executable, str(HERE / "baseline" / "duckdb_query.py"), q, str(full), str(inv)],
                              args.runs)
            note(f"hand-written DuckDB: {q}", base[q])

    # -- flowsql on the text tree
    text = {}
    for q in queries:
        cmd = [*fs, "query", q, "--engine", "local", "--source", str(tree), "--inventory", str(inv), *window,
               "-o", "json"]
        text[q] = measure(cmd, args.runs)
        b = base.get(q)
        note(f"flowsql text: {q}", text[q], ratio=text[q]["median_s"] / b["median_s"] if b else None,
             target="≤ 1.15 × hand-written" if b else None,
             ok=(text[q]["median_s"] <= 1.15 * b["median_s"]) if b else None)
    # -- the first query over files never checked (the query an incident waits for)
    if "top-destinations" in base:
        cold_rows(tree, inv, window, work, fs, note, args.runs, base["top-destinations"])
    if "top-destinations" in text:
        r = text["top-destinations"]["median_s"] / floor["median_s"]
        note("full scan vs decompression floor", {"median_s": text["top-destinations"]["median_s"]}, ratio=r,
             target="≤ 2 × floor", ok=r <= 2)

    # -- a small query: one account, one region, 10 days
    small_w, small_files = small_query(tree, work)
    b = measure([sys.executable, str(HERE / "baseline" / "duckdb_query.py"), "top-destinations", str(small_files),
                 str(inv)], args.runs)
    note("hand-written DuckDB: small top-destinations", b)
    m = measure([*fs, "query", "top-destinations", "--source", str(tree), *SMALL_SCOPE, *small_w, "-o", "json"],
                args.runs)
    note("flowsql text: small top-destinations", m, ratio=m["median_s"] / b["median_s"], target="≤ 1.15 × hand-written",
         ok=m["median_s"] <= 1.15 * b["median_s"])
    cold_rows(tree, inv, small_w, work, fs, note, args.runs, b, SMALL_SCOPE, "small ")

    # -- start-up: the same command over a window with no files (the fixed cost every query pays)
    empty = ["--since", str(START - timedelta(days=400)), "--until", str(START - timedelta(days=400))]
    idle = measure([*fs, "query", "top-destinations", "--source", str(tree), *empty, "-o", "json"], args.runs)
    note("flowsql start-up (a window with no files)", idle)
    fixed = idle["median_s"]

    def above(m):  # time beyond the fixed start-up
        return max(m - fixed, 1e-3)

    # -- a 1-day window over the 30 days
    mid = START + timedelta(days=DAYS // 2)
    one = measure([*fs, "query", "top-destinations", "--source", str(tree), "--since", str(mid), "--until", str(mid),
                   "-o", "json"], args.runs)
    def read(stderr: str) -> tuple[int, int]:  # "read N file(s), B bytes in …" on flowsql's stderr
        files, rest = stderr.split("read ")[1].split(" file(s), ")
        return int(files.replace(",", "")), int(rest.split(" bytes")[0].replace(",", ""))

    (files_one, bytes_one), (files_all, bytes_all) = read(one["stderr"]), read(text["top-destinations"]["stderr"])
    full_s = text["top-destinations"]["median_s"]
    r = one["median_s"] / full_s
    note(f"1-day window ({files_one}/{files_all} files, {bytes_one / 1e6:.0f}/{bytes_all / 1e6:.0f} MB)", one, ratio=r, target="≤ 1/20 of the full scan, 1/30 of files",
         ok=r <= 1 / 20 and files_one * 30 <= files_all * 1.05)
    note("1-day window beyond start-up", {"median_s": above(one["median_s"])},
         ratio=above(one["median_s"]) / above(full_s), target="(same, start-up taken out)",
         ok=above(one["median_s"]) / above(full_s) <= 1 / 20)

    # -- Parquet: the conversion, after the text queries checked the files (as a user converts a tree
    # they have queried), and on files never checked before, against the first (checking) text query
    pq = args.data / f"parquet-{args.records}"
    convert_m = measure([*fs, "convert", "--source", str(tree), "--out", str(work / "converted")], 0, warmup=1,
                        env=env)
    ref = text.get("top-destinations", {}).get("median_s")
    note("convert text → Parquet (whole dataset)", convert_m, ratio=convert_m["median_s"] / ref if ref else None,
         target="≤ 1 text query", ok=(convert_m["median_s"] <= ref) if ref else None)
    cold = {**env, "FLOWSQL_CACHE_DIR": str(work / "cold-convert")}
    cold_m = measure([*fs, "convert", "--source", str(tree), "--out", str(work / "converted-cold")], 0, warmup=1,
                     env=cold)
    first = text.get("top-destinations", {}).get("first_s")
    note("convert, files never checked before", cold_m, ratio=cold_m["median_s"] / first if first else None,
         target="(vs the first text query, which checks them too)", ok=None)
    shutil.rmtree(work / "converted-cold", ignore_errors=True)
    shutil.rmtree(pq, ignore_errors=True)
    shutil.move(str(work / "converted"), str(pq))
    for q in queries:
        m = measure([*fs, "query", q, "--engine", "local", "--source", str(pq), "--inventory", str(inv), *window,
                     "-o", "json"], args.runs)
        r = text[q]["median_s"] / m["median_s"]
        note(f"flowsql Parquet: {q}", m, ratio=r, target="≥ 8 × faster than text", ok=r >= 8)
        r2 = above(text[q]["median_s"]) / above(m["median_s"])
        note(f"  beyond start-up: {q}", {"median_s": above(m["median_s"])}, ratio=r2, target="(same, start-up taken out)",
             ok=r2 >= 8)

    # -- plain Python
    py = measure([sys.executable, str(HERE / "baseline" / "plain_python.py"), str(full)], 1, warmup=0)
    note("plain Python: top-destinations", py)
    if "top-destinations" in text:
        r = py["median_s"] / text["top-destinations"]["median_s"]
        note("text vs plain Python", {"median_s": text["top-destinations"]["median_s"]}, ratio=r,
             target="≥ 3 × faster", ok=r >= 3)
        pq_td = results.get("flowsql Parquet: top-destinations", {}).get("median_s")
        if pq_td:
            r = py["median_s"] / pq_td
            note("Parquet vs plain Python", {"median_s": pq_td}, ratio=r, target="≥ 30 × faster", ok=r >= 30)

    # -- start-up
    m = measure([*fs, "--help"], args.runs * 2)
    note("flowsql --help", m, target="< 0.2 s", ok=m["median_s"] < 0.2)
    cold_env = dict(env)
    colds = []
    for i in range(args.runs):
        cold_env["FLOWSQL_CACHE_DIR"] = str(work / f"cold{i}")
        colds.append(run_once([*fs, "render", "lambda-egress", "--engine", "local"], cold_env))
    note("flowsql render, cold lint cache", {"median_s": statistics.median(c[0] for c in colds),
                                             "min_s": min(c[0] for c in colds), "max_s": max(c[0] for c in colds),
                                             "peak_mb": max(c[1] for c in colds) / 1024})
    m = measure([*fs, "render", "lambda-egress", "--engine", "local"], args.runs, env=env)
    note("flowsql render, warm lint cache", m, target="< 0.3 s", ok=m["median_s"] < 0.3)

    # -- flowsql investigate: a case file against one full-scan query
    investigate_rows(tree, inv, window, work, fs, note, args.runs)

    # -- flowsql pull against a moto server (bench/pull.py)
    _pull_rows().rows(args, work, fs, measure, note)

    peak = max(v.get("peak_mb", 0) for k, v in results.items() if k.startswith("flowsql"))
    results["peak memory of any flowsql process"] = {"peak_mb": round(peak, 1), "target": "< 1 GB",
                                                     "met": peak < 1024}
    rows.append(("peak memory of any flowsql process", None, None, None, peak, None, "< 1 GB", peak < 1024))

    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "system": platform.platform(), "records": args.records, "files": len(all_files), "gzip_bytes": gz_bytes,
               "runs": args.runs, "date": date.today().isoformat()}
    # this run made the cold, investigate and pull rows too: their headers say so
    rows_of_run = {"date": machine["date"], "records": args.records, "runs": args.runs}
    machine.update(cold_rows=rows_of_run, investigate_rows=rows_of_run, pull_rows_date=machine["date"])
    (HERE / "results.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    update_readme()
    print(f"\n{args.records:,} records, {len(all_files)} files, {gz_bytes / 1e6:,.0f} MB gzip; {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; median of {args.runs} runs (min–max)\n")
    print(f"| {'measurement':<46} | {'median':>8} | {'min–max':>15} | {'peak MB':>7} | {'ratio':>6} | target | met |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 17}|{'-' * 9}|{'-' * 8}|--------|-----|")
    for name, med, lo, hi, mb, ratio, target, ok in rows:
        spread = f"{lo:.2f}–{hi:.2f}" if lo is not None else ""
        print(f"| {name:<46} | {'' if med is None else f'{med:.3f}s':>8} | {spread:>15} | "
              f"{'' if mb is None else f'{mb:.0f}':>7} | "
              f"{'' if ratio is None else f'{ratio:.2f}':>6} | {target or ''} | "
              f"{'' if ok is None else ('yes' if ok else 'NO')} |")
    print(f"\nwritten to {HERE / 'results.json'}")
    shutil.rmtree(work, ignore_errors=True)


def investigate_rows(tree: Path, inv: Path, window: list[str], work: Path, fs, note, runs: int) -> None:
    """`flowsql investigate` of an address (the busiest source), a /24 and an ENI over the whole window,
    warm (files checked and hashed before), against one full-scan query (top-destinations) on the same
    files, their runs interleaved with the full scan's (measure_together): target ≤ 1.5 ×. The first
    case, which hashes every file, is shown too."""
    scan = [*fs, "query", "top-destinations", "--engine", "local", "--source", str(tree), *window, "-o", "json"]
    out = subprocess.run([*fs, "query", "top-sources", "--engine", "local", "--source", str(tree), *window,
                          "-p", "limit=1", "-o", "json"], capture_output=True, text=True, check=True).stdout
    address = json.loads(out)[0]["srcaddr"]
    block = ".".join(address.split(".")[:3]) + ".0/24"
    out = subprocess.run([*fs, "query", "top-interfaces", "--engine", "local", "--source", str(tree), *window,
                          "-p", "limit=1", "-o", "json"], capture_output=True, text=True, check=True).stdout
    eni = json.loads(out)[0]["interface_id"]
    subjects = (("an address", address), ("a /24", block), ("an ENI", eni))
    timed = measure_together({"scan": scan, **{label: [*fs, "investigate", subject, "--engine", "local", "--source",
                                                       str(tree), "--inventory", str(inv), *window, "--out",
                                                       str(work / f"case-{i}"), "-o", "json"]
                                               for i, (label, subject) in enumerate(subjects)}}, runs)
    note("flowsql text: top-destinations (beside the cases)", timed["scan"])
    base = timed["scan"]["median_s"]
    for label, subject in subjects:
        m = timed[label]
        r = m["median_s"] / base
        note(f"flowsql investigate {label} ({subject})", m, ratio=r, target="≤ 1.5 × one full-scan query",
             ok=r <= 1.5)
        if label == "an address":
            note("  the first case (hashes every file)", {"median_s": m["first_s"]}, ratio=m["first_s"] / base,
                 target="(same, files never hashed)", ok=None)


def small_query(tree: Path, work: Path) -> tuple[list[str], Path]:
    """The small query's window (with SMALL_SCOPE: one account, one region, 10 days) and its files for
    the hand-written baseline (FILES.json, written into `work`)."""
    last = START + timedelta(days=9)
    files = work / "small.json"
    files.write_text(json.dumps(files_by_format(tree, START, last, [ACCOUNTS[0]], ["us-east-1"])))
    return ["--since", str(START), "--until", str(last)], files


def cold_rows(tree: Path, inv: Path, window: list[str], work: Path, fs, note, runs: int, base: dict,
              scope: list[str] = (), what: str = "") -> None:
    """top-destinations over files flowsql never checked, against the hand-written query (`base`):
    with the render and lint caches of earlier use (the same query's rendering, lint result and DuckDB
    translation; no checked file), and with every cache cold, as the very first query after install.
    Each run starts from a cache folder of its own; no warm-up (a warm-up would check the files).
    `scope`: --account and --region of the small query (`what`: "small ")."""
    cmd = [*fs, "query", "top-destinations", "--engine", "local", "--source", str(tree), "--inventory", str(inv),
           *scope, *window, "-o", "json"]
    warm = Path(os.environ["FLOWSQL_CACHE_DIR"])
    # "any earlier use": the same query run once, in the run's own cache, whose rendering, lint result
    # and DuckDB translation are copied (its checked files are not)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for label, keep, target in (("render and lint caches warm", ("lint", "render", "duckdb-sql"), 1.3),
                                ("every cache cold (the first query after install)", (), 1.6)):
        samples = []
        for i in range(runs):
            own = work / f"cold-{len(keep)}-{i}"
            shutil.rmtree(own, ignore_errors=True)
            own.mkdir(parents=True)
            for kind in keep:
                if (warm / kind).is_dir():
                    shutil.copytree(warm / kind, own / kind)
            samples.append(run_once(cmd, {**os.environ, "FLOWSQL_CACHE_DIR": str(own)}))
            shutil.rmtree(own, ignore_errors=True)
        times = [t for t, _, _ in samples]
        m = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
             "peak_mb": max(kb for _, kb, _ in samples) / 1024}
        r = m["median_s"] / base["median_s"]
        note(f"flowsql cold: {what}top-destinations, files never checked, {label}", m, ratio=r,
             target=f"≤ {target} × hand-written", ok=r <= target)


def cold_only(args) -> None:
    """Only the cold rows and the hand-written query they compare with, on the dataset of --records;
    merged into bench/results.json."""
    tree = dataset(args.data, args.records)
    inv = tree / "inventory"
    last = START + timedelta(days=DAYS - 1)
    window = ["--since", str(START), "--until", str(last)]
    work = Path(tempfile.mkdtemp(prefix="flowsql-bench-"))
    os.environ.update({"FLOWSQL_CACHE_DIR": str(work / "cache"), "FLOWSQL_CONFIG": str(work / "none.json")})
    results: dict[str, dict] = {}
    rows: list[tuple] = []

    def note(name, m, *, ratio=None, target=None, ok=None):
        results[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items() if k != "stderr"}
        if ratio is not None:
            results[name]["ratio"] = round(ratio, 3)
        if target is not None:
            results[name]["target"], results[name]["met"] = target, ok
        rows.append((name, m.get("median_s"), m.get("min_s"), m.get("max_s"), m.get("peak_mb"), ratio, target, ok))
        print(f"  {name}: {m.get('median_s', 0):.3f} s", file=sys.stderr, flush=True)

    try:
        full = work / "full.json"
        full.write_text(json.dumps(files_by_format(tree, START, last)))
        base = measure([sys.executable, str(HERE / "baseline" / "duckdb_query.py"), "top-destinations", str(full),
                        str(inv)], args.runs)
        note("hand-written DuckDB: top-destinations (cold rows' run)", base)
        warm = measure([*flowsql_cmd(), "query", "top-destinations", "--engine", "local", "--source", str(tree),
                        "--inventory", str(inv), *window, "-o", "json"], args.runs)
        r = warm["median_s"] / base["median_s"]
        note("flowsql text: top-destinations (cold rows' run, warm)", warm, ratio=r,
             target="≤ 1.15 × hand-written", ok=r <= 1.15)
        cold_rows(tree, inv, window, work, flowsql_cmd(), note, args.runs, base)
        small_w, small = small_query(tree, work)
        base = measure([sys.executable, str(HERE / "baseline" / "duckdb_query.py"), "top-destinations", str(small),
                        str(inv)], args.runs)
        note("hand-written DuckDB: small top-destinations (cold rows' run)", base)
        cold_rows(tree, inv, small_w, work, flowsql_cmd(), note, args.runs, base, SMALL_SCOPE, "small ")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = HERE / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else {"machine": {}, "results": {}}
    doc["results"] = {k: v for k, v in doc["results"].items() if k not in results} | results
    doc.setdefault("machine", {})["cold_rows"] = {"date": date.today().isoformat(), "records": args.records,
                                                  "runs": args.runs}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    update_readme()
    print(f"| {'measurement':<46} | {'median':>8} | {'min–max':>15} | {'peak MB':>7} | {'ratio':>6} | target | met |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 17}|{'-' * 9}|{'-' * 8}|--------|-----|")
    for name, med, lo, hi, mb, ratio, target, ok in rows:
        spread = f"{lo:.2f}–{hi:.2f}" if lo is not None else ""
        print(f"| {name:<46} | {'' if med is None else f'{med:.3f}s':>8} | {spread:>15} | "
              f"{'' if mb is None else f'{mb:.0f}':>7} | {'' if ratio is None else f'{ratio:.2f}':>6} | "
              f"{target or ''} | {'' if ok is None else ('yes' if ok else 'NO')} |")
    print(f"\nwritten to {path}")


def investigate_only(args) -> None:
    """Only the investigate rows, on the dataset of --records; merged into bench/results.json."""
    tree = dataset(args.data, args.records)
    last = START + timedelta(days=DAYS - 1)
    window = ["--since", str(START), "--until", str(last)]
    work = Path(tempfile.mkdtemp(prefix="flowsql-bench-"))
    os.environ.update({"FLOWSQL_CACHE_DIR": str(work / "cache"), "FLOWSQL_CONFIG": str(work / "none.json")})
    results: dict[str, dict] = {}
    rows: list[tuple] = []

    def note(name, m, *, ratio=None, target=None, ok=None):
        results[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items() if k != "stderr"}
        if ratio is not None:
            results[name]["ratio"] = round(ratio, 3)
        if target is not None:
            results[name]["target"], results[name]["met"] = target, ok
        rows.append((name, m.get("median_s"), m.get("min_s"), m.get("max_s"), m.get("peak_mb"), ratio, target, ok))
        print(f"  {name}: {m.get('median_s', 0):.3f} s", file=sys.stderr, flush=True)

    try:
        investigate_rows(tree, tree / "inventory", window, work, flowsql_cmd(), note, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = HERE / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else {"machine": {}, "results": {}}
    doc["results"] = {k: v for k, v in doc["results"].items() if k not in results} | results
    doc.setdefault("machine", {})["investigate_rows"] = {"date": date.today().isoformat(), "records": args.records,
                                                         "runs": args.runs}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    update_readme()
    print(f"| {'measurement':<46} | {'median':>8} | {'min–max':>15} | {'peak MB':>7} | {'ratio':>6} | target | met |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 17}|{'-' * 9}|{'-' * 8}|--------|-----|")
    for name, med, lo, hi, mb, ratio, target, ok in rows:
        spread = f"{lo:.2f}–{hi:.2f}" if lo is not None else ""
        print(f"| {name:<46} | {'' if med is None else f'{med:.3f}s':>8} | {spread:>15} | "
              f"{'' if mb is None else f'{mb:.0f}':>7} | {'' if ratio is None else f'{ratio:.2f}':>6} | "
              f"{target or ''} | {'' if ok is None else ('yes' if ok else 'NO')} |")
    print(f"\nwritten to {path}")


def update_readme() -> None:
    """The README's Performance tables made again from results.json (bench/readme.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_readme", HERE / "readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = json.loads(module.RESULTS.read_text(encoding="utf-8"))
    module.README.write_text(module.render(module.README.read_text(encoding="utf-8"), doc), encoding="utf-8")


def _pull_rows():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_pull", HERE / "pull.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pull_only(args) -> None:
    """Only the pull rows; their figures replace those of the last run in bench/results.json."""
    work = Path(tempfile.mkdtemp(prefix="flowsql-bench-"))
    os.environ.update({"FLOWSQL_CACHE_DIR": str(work / "cache"), "FLOWSQL_CONFIG": str(work / "none.json")})
    results: dict[str, dict] = {}
    rows: list[tuple] = []

    def note(name, m, *, ratio=None, target=None, ok=None):
        results[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items() if k != "stderr"}
        if ratio is not None:
            results[name]["ratio"] = round(ratio, 3)
        if target is not None:
            results[name]["target"], results[name]["met"] = target, ok
        rows.append((name, m.get("median_s"), m.get("min_s"), m.get("max_s"), m.get("peak_mb"), ratio, target, ok))
        print(f"  {name}: {m.get('median_s', 0):.3f} s", file=sys.stderr, flush=True)

    try:
        _pull_rows().rows(args, work, flowsql_cmd(), measure, note)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    path = HERE / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else {"machine": {}, "results": {}}
    doc["results"] = {k: v for k, v in doc["results"].items() if k not in results} | results
    doc.setdefault("machine", {})["pull_rows_date"] = date.today().isoformat()
    path.write_text(json.dumps(doc, indent=2) + "\n")
    update_readme()
    print(f"| {'measurement':<46} | {'median':>8} | {'min–max':>15} | {'peak MB':>7} | {'ratio':>6} | target | met |")
    print(f"|{'-' * 48}|{'-' * 10}|{'-' * 17}|{'-' * 9}|{'-' * 8}|--------|-----|")
    for name, med, lo, hi, mb, ratio, target, ok in rows:
        spread = f"{lo:.2f}–{hi:.2f}" if lo is not None else ""
        print(f"| {name:<46} | {'' if med is None else f'{med:.3f}s':>8} | {spread:>15} | "
              f"{'' if mb is None else f'{mb:.0f}':>7} | {'' if ratio is None else f'{ratio:.2f}':>6} | "
              f"{target or ''} | {'' if ok is None else ('yes' if ok else 'NO')} |")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
