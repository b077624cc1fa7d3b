"""The README's Performance tables, made from bench/results.json: `python bench/readme.py` rewrites
them in place (between the `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` markers); `--check`
exits 1 when the README differs from what results.json gives. tests/test_bench_readme.py checks it.

The prose around the tables (what a miss means, why) is written by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
RESULTS = HERE / "results.json"

# Rows of bench/pull.py, shown in a table of their own (they run against a moto server, not the dataset)
_PULL = ("aws s3 sync", "flowsql pull", "boto3 listing", "the same, from the sparse", "FilterLogEvents")
_COLD = ("flowsql cold:", "(cold rows' run")


def section(name: str) -> str:
    if any(p in name for p in _PULL):
        return "pull"
    if any(p in name for p in _COLD):
        return "cold"
    return "main"


def _ratio(r) -> str:
    if r is None:
        return ""
    return f"{r:,.0f}" if abs(r) >= 1000 else f"{r:.2f}"


def table(results: dict, which: str) -> str:
    lines = ["| measurement | median | min–max | peak MB | ratio | target | met |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        if section(name) != which:
            continue
        med, lo, hi, mb = r.get("median_s"), r.get("min_s"), r.get("max_s"), r.get("peak_mb")
        met = r.get("met")
        lines.append("| " + " | ".join((
            name.strip(),
            "" if med is None else f"{med:.3f} s",
            "" if lo is None or hi is None or lo == hi else f"{lo:.2f}–{hi:.2f}",
            "" if mb is None else f"{mb:.0f}",
            _ratio(r.get("ratio")),
            r.get("target") or "",
            "" if met is None else ("yes" if met else "**no**"),
        )) + " |")
    return "\n".join(lines)


def runs_line(machine: dict, which: str) -> str:
    """What the table's figures come from: the dataset, the date, the runs."""
    if which == "cold":
        run = machine.get("cold_rows") or {}
        return (f"_{run.get('records', 0):,} records, {run.get('date', '?')}, median of {run.get('runs', '?')} runs "
                "(`bench/run.py --only cold`)_")
    if which == "pull":
        return f"_{machine.get('pull_rows_date', '?')}, median of {machine.get('runs', '?')} runs (`bench/run.py --only pull`)_"
    return (f"_{machine.get('records', 0):,} records in {machine.get('files', 0):,} files, "
            f"{machine.get('gzip_bytes', 0) / 1e6:,.0f} MB gzip; {machine.get('cpus', '?')} CPUs, Python "
            f"{machine.get('python', '?')}; {machine.get('date', '?')}, median of {machine.get('runs', '?')} runs "
            "after one warm-up_")


def render(readme: str, doc: dict) -> str:
    results, machine = doc.get("results", {}), doc.get("machine", {})

    def block(m: re.Match) -> str:
        which = m.group(1)
        return (f"<!-- bench:{which} -->\n{runs_line(machine, which)}\n\n{table(results, which)}\n"
                f"<!-- /bench:{which} -->")

    return re.sub(r"<!-- bench:(\w+) -->.*?<!-- /bench:\1 -->", block, readme, flags=re.S)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if the README's tables differ from results.json")
    args = ap.parse_args()
    doc = json.loads(RESULTS.read_text(encoding="utf-8"))
    text = README.read_text(encoding="utf-8")
    new = render(text, doc)
    if args.check:
        if new != text:
            print("README.md's Performance tables differ from bench/results.json: run bench/readme.py",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
