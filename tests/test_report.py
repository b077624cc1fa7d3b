"""`flowsql report` on generated data: its figures against the independent oracle, report.json against
its JSON Schema, the evidence re-run, byte-identical runs, the HTML in headless Chromium, exit codes,
and nothing left out in silence."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

import oracle
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.engines.local.engine import LocalEngine
from flowsql.inventory import load_inventory
from flowsql.pack.params import Window
from flowsql.pack.queries import load_pack
from flowsql.report import SCHEMA_PATH
from flowsql.report.model import MAX_ROWS
from flowsql.report.month import parse_month
from flowsql.runner import run

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2025-02"
FIRST, LAST = date(2025, 2, 1), date(2025, 2, 28)
FILES = ("report.html", "report.md", "report.json")


def sha256_rows(rows: list[dict]) -> str:
    """The canonical form as the README and the schema put it, written here independently."""
    text = "".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n" for r in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    # from a day before the month to a day after it: the edges must stay out of the figures
    scenario = Scenario(start=date(2025, 1, 31), days=30, flows_per_day=150, files_per_day=1, seed=23)
    return generate(tmp_path_factory.mktemp("tree"), scenario)


def report(*args: str):
    return CliRunner().invoke(app, ["report", "--month", MONTH, *args])


def local_args(tree, out: Path, *, inventory=True) -> list[str]:
    args = ["--engine", "local", "--source", str(tree.root), "--out", str(out)]
    if inventory:
        args += ["--inventory", str(tree.inventory_dir)]
    return args


@pytest.fixture(scope="module")
def made(tree, tmp_path_factory):
    """The acceptance run: `flowsql report --month 2025-02 --engine local --source DIR --inventory DIR --out OUT`."""
    out = tmp_path_factory.mktemp("reports") / "first"
    r = report(*local_args(tree, out))
    return out, r


def expected(name: str, tree, params: dict) -> list[dict]:
    fn, _ = oracle.ORACLES[name]
    return fn(tree.records, tree.inventory_dir, params, since=FIRST, until=LAST, accounts=None, regions=None)


def test_writes_the_three_files_and_exits_1_on_posture_alarms(made):
    out, r = made
    # the generated snapshot has alarms by design: exit 1, after the files are written
    assert r.exit_code == 1, r.output
    assert r.stdout.splitlines() == [str(out / f) for f in FILES]
    for f in FILES:
        assert (out / f).stat().st_size > 1000
    data = json.loads((out / "report.json").read_text())
    assert data["summary"]["exit_code"] == 1 and data["posture"]["counts"]["alarm"] > 0
    assert data["month"] == MONTH and data["window"] == {"since": "2025-02-01", "until": "2025-02-28"}
    assert "running 1/" in r.stderr and "posture: " in r.stderr and "ALARM" in r.stderr


def test_top_destinations_and_daily_traffic_equal_the_oracle(made, tree):
    data = json.loads((made[0] / "report.json").read_text())
    top = data["trends"]["top_destinations"]
    want = expected("top-destinations", tree, {})
    assert top["evaluated"] and top["rows"] == want and len(want) == 10
    daily = data["trends"]["daily_traffic"]
    want = expected("daily-traffic", tree, {})
    assert daily["rows"] == want
    assert [r["day"] for r in want] == [f"2025-02-{d:02d}" for d in range(1, 29)]  # the edges stayed out
    evidence = {e["id"]: e for e in data["evidence"]["queries"]}
    for item in (top, daily):
        assert evidence[item["evidence"]]["rows_sha256"] == sha256_rows(item["rows"])


def test_top_rejected_sources_equal_the_oracle_or_are_said_missing(made, tree):
    data = json.loads((made[0] / "report.json").read_text())
    item = data["trends"]["top_rejected_sources"]
    if "top-sources" in {q.name for q in load_pack()}:
        want = expected("top-sources", tree, {"action": "REJECT"})
        assert item["evaluated"] and item["rows"] == want and want
    else:
        assert not item["evaluated"] and "top-sources" in item["reason"]
        assert {"section": "trends", "name": "top_rejected_sources",
                "reason": f"top-sources: {item['reason']}"} in data["not_evaluated"]


def test_findings_equal_the_oracle(made, tree):
    data = json.loads((made[0] / "report.json").read_text())
    findings = [q.name for q in load_pack() if q.is_finding]
    items = {i["query"]: i for i in data["findings"]["items"]}
    assert sorted(items) == sorted(findings)  # every finding of the pack, found by discovery
    evidence = {e["id"]: e for e in data["evidence"]["queries"]}
    compared = 0
    for name, item in items.items():
        if not item["evaluated"]:
            assert any(n["name"] == name and n["reason"] == item["reason"] for n in data["not_evaluated"])
            continue
        want = expected(name, tree, {k: v for k, v in item["parameters"].items() if v is not None})
        assert item["rows"] == want[:MAX_ROWS] and item["row_count"] == len(want), name
        assert evidence[item["evidence"]]["rows_sha256"] == sha256_rows(want)
        compared += bool(want)
    assert compared >= 2, "at least two findings with rows compared with the oracle"
    assert items["rejects-by-subnet"]["evaluated"] and items["lambda-egress"]["evaluated"]


def test_json_validates_against_its_schema(made):
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    data = json.loads((made[0] / "report.json").read_text())
    validator.validate(data)
    # the schema is strict enough to notice a stray or a missing field
    bad = json.loads(json.dumps(data))
    bad["trends"]["daily_traffic"]["rows_sha"] = "x"
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(data))
    del bad["evidence"]["queries"][0]["rows_sha256"]
    assert not validator.is_valid(bad)


def test_an_evidence_sql_reruns_to_the_same_rows_and_hash(made, tree):
    data = json.loads((made[0] / "report.json").read_text())
    entries = data["evidence"]["queries"]
    assert {e["query"] for e in entries} >= {"daily-traffic", "top-destinations", "rejects-by-subnet"}
    w = Window(FIRST, LAST)
    engine = LocalEngine(tree.root, w, inventory=load_inventory(tree.inventory_dir, window=w))
    findings = [e for e in entries if any(u.startswith("findings/") for u in e["used_by"])]
    trends = [e for e in entries if any(u.startswith("trends/") for u in e["used_by"])]
    try:
        for e in findings[:2] + trends:
            assert e["engine"] == "local" and e["files_read"] > 0 and e["bytes_read"] > 0
            assert e["execution_id"] is None and e["cost_usd"] is None
            result = engine.execute(e["sql"])  # the SQL exactly as the report shows it
            rows = [dict(zip(result.columns, r)) for r in result.rows]
            assert len(rows) == e["row_count"] and sha256_rows(rows) == e["rows_sha256"], e["query"]
    finally:
        engine.close()
    # and the command the evidence names, through the CLI, with the hash recomputed from its JSON
    e = next(e for e in entries if e["query"] == "top-destinations")
    argv = shlex.split(e["command"])
    assert argv[:3] == ["flowsql", "query", "top-destinations"]
    r = CliRunner().invoke(app, argv[1:])
    assert r.exit_code == 0, r.output
    assert sha256_rows(json.loads(r.stdout)) == e["rows_sha256"]


def test_a_second_run_is_byte_identical(made, tree, tmp_path):
    first, _ = made
    again = report(*local_args(tree, tmp_path / "second"))
    assert again.exit_code == 1, again.output
    for f in FILES:
        assert (tmp_path / "second" / f).read_bytes() == (first / f).read_bytes(), f
    # replacing a report in place: the same bytes, other files kept, no temporary folder left
    (tmp_path / "second" / "notes.txt").write_text("mine")
    (tmp_path / "second" / "report.md").write_text("old")
    assert report(*local_args(tree, tmp_path / "second")).exit_code == 1
    for f in FILES:
        assert (tmp_path / "second" / f).read_bytes() == (first / f).read_bytes(), f
    assert (tmp_path / "second" / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["second"]


# --- the HTML in a browser ---------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("FLOWSQL_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required (CI installs Debian's chromium package) but is missing")
        pytest.skip("no chromium (apt-get install chromium)")
    return found


def open_in_chromium(html: Path, tmp_path: Path, *, height: int = 4800) -> tuple[list[str], bytes]:
    """Load the page in headless Chromium: (console messages, screenshot PNG).

    Chromium logs every console message, errors and Content-Security-Policy violations included, as a
    `CONSOLE` line on stderr with --enable-logging=stderr --v=0; nothing else on that stream matches.
    The screenshot is taken at half scale (a 1100 px wide layout in a 550 px image) so that the
    small PNG reader in tests/png.py decodes it quickly."""
    shot = tmp_path / f"{html.stem}.png"
    profile = tmp_path / f"profile-{html.stem}"
    r = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                        "--v=0", "--force-device-scale-factor=0.5", f"--window-size=1100,{height}",
                        f"--screenshot={shot}", html.resolve().as_uri()],
                       capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return console, shot.read_bytes()


@pytest.mark.slow  # headless Chromium
def test_the_console_check_sees_errors(tmp_path):
    """The check below is only worth something if it sees an error when there is one."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
                    "content=\"default-src 'none'\"><title>x</title></head><body><p>x</p>"
                    '<img src="https://example.invalid/a.png"></body></html>')
    console, _ = open_in_chromium(page, tmp_path, height=400)
    assert any("Content Security Policy" in line for line in console), console


@pytest.mark.slow  # headless Chromium
def test_the_html_opens_in_chromium_without_errors_and_shows_its_charts(made, tmp_path):
    from png import colours, read_png

    from flowsql.report import charts

    html = made[0] / "report.html"
    text = html.read_text()
    # self-contained: no script, no external reference of any kind
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "@import" not in text and "url(" not in text
    assert '<section id="evidence">' in text and 'id="E1"' in text and "rows SHA-256" in text
    console, png = open_in_chromium(html, tmp_path)
    assert console == []
    width, height, _, _ = read_png(png)
    assert (width, height) == (550, 2400)
    seen = colours(png)
    assert len(seen) > 100, "a blank or nearly blank screenshot"

    def rgb(hex_colour: str) -> tuple[int, int, int]:
        return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))

    # the daily charts (accepted and rejected), the top-destination bars and the posture bar are drawn
    for name, colour, least in (("accepted", charts.ACCEPTED, 2000), ("rejected", charts.REJECTED, 100),
                                ("bars", charts.BAR, 1000), ("alarm", charts.STATUS_COLORS["alarm"], 100)):
        assert seen.get(rgb(colour), 0) >= least, (name, seen.get(rgb(colour), 0))


def pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found is None:
        if os.environ.get("FLOWSQL_REQUIRE_CHROMIUM"):
            pytest.fail("pdftotext is required (CI installs Debian's poppler-utils package) but is missing")
        pytest.skip("no pdftotext (apt-get install poppler-utils)")
    return found


def print_to_pdf_text(html: Path, tmp_path: Path) -> str:
    """The page as headless Chromium prints it (to PDF, no header or footer), as poppler reads the
    PDF's text back, in the order it was drawn (-raw: a long line that wraps stays in one piece)."""
    pdf = tmp_path / f"{html.stem}.pdf"
    r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={tmp_path / ('print-profile-' + html.stem)}", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", html.resolve().as_uri()],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), r.stderr[-2000:]
    text = tmp_path / f"{html.stem}.txt"
    subprocess.run([pdftotext(), "-raw", "-enc", "UTF-8", str(pdf), str(text)], check=True, timeout=120)
    return text.read_text(encoding="utf-8")


@pytest.mark.slow  # headless Chromium prints the report to PDF
def test_the_printed_report_shows_the_sql_behind_every_figure(made, tmp_path):
    """Auditors archive the report as a PDF: the SQL of every evidence entry, folded under
    <details> on screen, is in the printed page, and so are the other folded parts (the numbers per
    day, every posture check row, the policy). Compared without white space: the PDF breaks long
    lines and pages where the browser does."""
    import re

    def squeeze(text: str) -> str:
        return re.sub(r"\s+", "", text)

    html = made[0] / "report.html"
    text = html.read_text()
    # every fold of the page is one that print opens (a plain <details> would print closed)
    assert text.count("<details") == text.count('<details class="fold">') > 0
    doc = json.loads((made[0] / "report.json").read_text())
    printed = squeeze(print_to_pdf_text(html, tmp_path))
    assert doc["evidence"]["queries"]
    for e in doc["evidence"]["queries"]:
        assert squeeze(e["sql"]) in printed, f"{e['id']} ({e['query']}): its SQL is not in the printed report"
    assert squeeze(doc["posture"]["policy"]["effective"]) in printed
    # the folded tables, by their header rows (a table's rows may break across pages, its header not)
    assert "".join(doc["trends"]["daily_traffic"]["columns"]) in printed  # the numbers per day
    assert "statuscheckresourcereasonaccountregionvpc" in printed  # every posture check row


# --- exit codes and bad input --------------------------------------------------------------------------

@pytest.fixture
def small_pack(tmp_path, monkeypatch):
    """A copy of the pack with only what these tests need (fewer queries to run), as FLOWSQL_SQL_DIR."""
    root = tmp_path / "pack"
    shutil.copytree(ROOT / "sql", root)
    keep = {"rejects-by-subnet.sql", "lambda-egress.sql", "daily-traffic.sql", "top-destinations.sql",
            "log-coverage.sql"}
    for p in (root / "queries").iterdir():
        if p.name not in keep:
            p.unlink()
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(root))
    return root


def test_exit_0_when_the_inventory_holds_no_snapshot(small_pack, tree, tmp_path):
    inv = tmp_path / "inv"
    inv.mkdir()
    for name in ("network-interfaces.json", "subnets.json", "vpcs.json"):
        shutil.copy(tree.inventory_dir / name, inv / name)
    r = report("--engine", "local", "--source", str(tree.root), "--inventory", str(inv), "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "o" / "report.json").read_text())
    assert data["posture"]["evaluated"] is False and "flow-logs.json" in data["posture"]["reason"]
    assert data["summary"]["exit_code"] == 0
    assert [n["section"] for n in data["not_evaluated"]] == ["posture", "trends"]  # no snapshot; no top-sources
    assert data["findings"]["summary"]["evaluated"] == 2


def test_without_an_inventory_what_needs_one_is_not_evaluated(small_pack, tree, tmp_path):
    r = report("--engine", "local", "--source", str(tree.root), "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "o" / "report.json").read_text())
    items = {i["query"]: i for i in data["findings"]["items"]}
    assert not items["lambda-egress"]["evaluated"] and "network-interfaces" in items["lambda-egress"]["reason"]
    assert items["rejects-by-subnet"]["evaluated"]  # its inventory is optional: a note instead
    evidence = {e["id"]: e for e in data["evidence"]["queries"]}
    assert any("subnet-id" in n for n in evidence[items["rejects-by-subnet"]["evidence"]]["notes"])
    names = {(n["section"], n["name"]) for n in data["not_evaluated"]}
    assert {("posture", "posture checks"), ("findings", "lambda-egress")} <= names
    md = (tmp_path / "o" / "report.md").read_text()
    html = (tmp_path / "o" / "report.html").read_text()
    for n in data["not_evaluated"]:
        assert " ".join(n["reason"].split()[:6]) in md
    assert "network-interfaces" in html and "Not evaluated" in html


# --- coverage: a month whose logs did not arrive is never a clean result -----------------------------

def _validated(out: Path) -> dict:
    import jsonschema

    data = json.loads((out / "report.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    return data


def _copy_tree(tree, dest: Path, *, leave_out=()) -> Path:
    """A copy of the generated tree without the day folders (account, region, day) in `leave_out`,
    as a sync that failed part-way leaves it."""
    shutil.copytree(tree.root / "AWSLogs", dest / "AWSLogs")
    for account, region, day in leave_out:
        shutil.rmtree(dest / "AWSLogs" / account / "vpcflowlogs" / region / f"{day:%Y/%m/%d}")
    return dest


@pytest.mark.parametrize("source", ["empty", "only-other-months", "wrong-account"])
def test_a_month_without_records_is_not_evaluated_and_exits_1(small_pack, tree, tmp_path, source):
    """An empty tree (a failed sync), a tree of other months only, or a narrowing that matches no
    account: no record for the month. The report is written, marked NOT EVALUATED, runs nothing
    past the coverage query, counts no finding as evaluated, names what should have logged, and
    exits 1 — never "findings with rows: 0 of N" and exit 0."""
    root = tmp_path / "logs"
    more: list[str] = []
    if source == "empty":
        (root / "AWSLogs").mkdir(parents=True)
    elif source == "only-other-months":  # January's last day and March's first are in the tree; drop February
        _copy_tree(tree, root, leave_out=[(a, r, FIRST + __import__("datetime").timedelta(days=i))
                                          for a, r in _pairs(tree) for i in range(28)])
    else:
        _copy_tree(tree, root)
        more = ["--account", "999999999999"]
    out = tmp_path / "o"
    r = report("--engine", "local", "--source", str(root), "--inventory", str(tree.inventory_dir), "--out", str(out),
               *more)
    assert r.exit_code == 1, r.output
    data = _validated(out)
    s = data["summary"]
    assert s["evaluated"] is False and s["exit_code"] == 1 and "no flow-log records for 2025-02" in s["reason"]
    assert [e["query"] for e in data["evidence"]["queries"]] == ["log-coverage", "log-coverage"]  # nothing else ran
    assert data["findings"]["summary"]["evaluated"] == 0 and data["findings"]["summary"]["with_rows"] == 0
    assert all(not i["evaluated"] and s["reason"] in i["reason"] for i in data["findings"]["items"])
    assert all(not t["evaluated"] for t in data["trends"].values())
    assert data["coverage"]["records"] == 0
    expected = {(c["aws_account_id"], c["aws_region"]): c for c in data["coverage"]["accounts_regions"]}
    if source == "wrong-account":
        assert expected == {} and "999999999999" in s["reason"]
    else:
        assert set(expected) == set(_pairs(tree))  # the posture snapshot (and January) say they log
        for c in expected.values():
            assert c["days_with_records"] == 0 and len(c["missing_days"]) == 28
            assert any("posture snapshot" in b for b in c["expected_because"])
        if source == "only-other-months":
            assert all("records in 2025-01" in c["expected_because"] for c in expected.values())
    assert f"NOT EVALUATED: {s['reason']}" in r.stderr and "findings with rows: 0 of 0" in r.stderr
    assert "NOT EVALUATED" in (out / "report.html").read_text() and "NOT EVALUATED" in (out / "report.md").read_text()


def _pairs(tree) -> set:
    return {(rec["aws_account_id"], rec["aws_region"]) for rec in tree.records}


def test_a_day_or_a_region_without_records_is_named_and_exits_1(small_pack, tree, tmp_path):
    """A sync that missed two days of one region and the whole month of another: the report is
    evaluated (the rest has records), but each account and region that should have logged and did
    not, and each day, is named (coverage and not evaluated), and the command exits 1."""
    from datetime import timedelta

    (a1, r1), (a2, r2) = sorted(_pairs(tree))
    gone = [FIRST + timedelta(days=9), FIRST + timedelta(days=10)]
    leave_out = [(a1, r1, d) for d in gone] + [(a2, r2, FIRST + timedelta(days=i)) for i in range(28)]
    root = _copy_tree(tree, tmp_path / "logs", leave_out=leave_out)
    out = tmp_path / "o"
    # no inventory: what should log comes from the month itself and the month before alone
    r = report("--engine", "local", "--source", str(root), "--out", str(out))
    assert r.exit_code == 1, r.output
    data = _validated(out)
    assert data["summary"]["evaluated"] is True and data["summary"]["coverage_gaps"] == 2
    assert data["findings"]["summary"]["evaluated"] > 0
    rows = {(c["aws_account_id"], c["aws_region"]): c for c in data["coverage"]["accounts_regions"]}
    assert rows[(a1, r1)]["missing_days"] == [d.isoformat() for d in gone]
    assert rows[(a1, r1)]["days_with_records"] == 26
    assert rows[(a2, r2)]["days_with_records"] == 0 and rows[(a2, r2)]["expected_because"] == ["records in 2025-01"]
    items = {n["name"]: n["reason"] for n in data["not_evaluated"] if n["section"] == "coverage"}
    assert f"no record on 2 of 28 days: {gone[0]} … {gone[1]}" in items[f"{a1} {r1}"]
    assert "no record in 2025-02" in items[f"{a2} {r2}"]
    assert f"{gone[0]} … {gone[1]}" in (out / "report.html").read_text()
    assert "coverage: 2 account(s)/region(s)" in r.stderr

    # the same tree, the days back: a clean month, exit 0 (no inventory, so no posture alarms)
    r = report("--engine", "local", "--source", str(tree.root), "--out", str(tmp_path / "clean"))
    assert r.exit_code == 0, r.output
    data = _validated(tmp_path / "clean")
    assert data["summary"]["coverage_gaps"] == 0 and data["coverage"]["gaps"] == 0
    assert not [n for n in data["not_evaluated"] if n["section"] == "coverage"]


def test_the_month_under_way_counts_only_the_days_that_are_over(small_pack, tmp_path):
    """The current month: today's logs are still arriving, and the days to come have none. Logs up
    to yesterday are a whole month so far."""
    from datetime import timedelta

    from flowsql.pack.params import today_utc

    today = today_utc()
    if today.day == 1:
        pytest.skip("the first of the month: no day of it is over yet")
    first = today.replace(day=1)
    root = tmp_path / "logs"
    generate(root, Scenario(start=first, days=(today - first).days, flows_per_day=20, files_per_day=1, seed=3))
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["report", "--month", f"{today:%Y-%m}", "--engine", "local", "--source", str(root),
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = _validated(out)
    assert data["coverage"]["days_over"] == (today - first).days and data["coverage"]["gaps"] == 0
    assert all(c["missing_days"] == [] for c in data["coverage"]["accounts_regions"])
    assert (today - timedelta(days=1)).isoformat() in {row["day"] for row in data["coverage"]["month"]["rows"]}


@pytest.mark.parametrize("month", ["2025-13", "2025-2", "February", "2025-00", "2099-01", ""])
def test_a_bad_month_is_exit_2_and_writes_nothing(month, tree, tmp_path):
    r = CliRunner().invoke(app, ["report", "--month", month, *local_args(tree, tmp_path / "o")])
    assert r.exit_code == 2, r.output
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("flowsql: error: --month")
    assert not (tmp_path / "o").exists()


def test_bad_options_are_exit_2_before_any_query(small_pack, tree, tmp_path):
    (tmp_path / "file").write_text("x")
    for args, says in (
        (["--out", str(tmp_path / "file")], "is a file"),
        (["--out", str(tmp_path / "o"), "--upload", "https://bucket/x"], "s3://"),
        (["--out", str(tmp_path / "o"), "--inventory", str(tmp_path / "nope")], "no such folder"),
        (["--out", str(tmp_path / "o"), "--policy", str(tmp_path / "nope.yaml")], "nope.yaml"),
        (["--out", str(tmp_path / "o"), "--account", "12"], "--account"),
    ):
        r = report("--engine", "local", "--source", str(tree.root), *args)
        assert r.exit_code == 2, (args, r.output)
        [line] = r.stderr.strip().splitlines()
        assert line.startswith("flowsql: error:") and says in line, line
        assert "running" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_the_month_and_out_placeholder(small_pack, tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = report("--engine", "local", "--source", str(tree.root), "--out", "archive/{month}")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "archive" / MONTH / "report.json").exists()
    r = report("--engine", "local", "--source", str(tree.root))  # default: reports/YYYY-MM
    assert r.stdout.splitlines()[0] == str(Path("reports") / MONTH / "report.html")
    assert (tmp_path / "reports" / MONTH / "report.html").exists()


def test_the_demo_reports_the_last_whole_month_its_logs_cover():
    """`make demo` reports on demo_month(): a month the default demo covers from its first day to
    its last, never the month under way (on 2026-12-02 the logs end on 2026-12-01: one day of
    December, so the report is of November). Every day of two years, leap day included."""
    from datetime import timedelta

    from flowsql.demo.run import default_days, demo_month, whole_month
    from flowsql.report.month import parse_month

    assert demo_month(date(2026, 12, 2)) == "2026-11" and demo_month(date(2026, 3, 2)) == "2026-02"
    assert demo_month(date(2027, 1, 1)) == "2026-12"  # the logs end on December 31: that month is whole
    for i in range(731):
        today = date(2027, 1, 1) + timedelta(days=i)
        days, yesterday = default_days(today), today - timedelta(days=1)
        start = yesterday - timedelta(days=days - 1)
        m = parse_month(demo_month(today), today)
        assert start <= m.first and m.last <= yesterday and m.last + timedelta(days=32) > yesterday, today
        assert 30 <= days <= 61 and whole_month(start, days) == m.label
    assert whole_month(date(2026, 11, 2), 30) is None  # no whole month in it


@pytest.mark.slow  # a whole demo and its report
def test_make_demo_reports_on_the_month_the_demo_wrote(tmp_path):
    """The Makefile's month comes from the demo's own record (written_month): a whole month with a
    record for every one of its days in the report."""
    from datetime import timedelta

    from flowsql.demo.run import demo_month, written_month
    from flowsql.pack.params import today_utc

    demo = tmp_path / "demo"
    r = CliRunner().invoke(app, ["demo", "--dir", str(demo)])
    assert r.exit_code == 0, r.output
    month = written_month(demo)
    assert month in (demo_month(), demo_month(today_utc() - timedelta(days=1)))  # midnight may have passed
    assert f"flowsql report --month {month} " in r.stdout
    out = tmp_path / "r"
    r = CliRunner().invoke(app, ["report", "--month", month, "--engine", "local", "--source", str(demo),
                                 "--inventory", str(demo / "inventory"), "--out", str(out)])
    assert r.exit_code in (0, 1), r.output  # 1: the demo's posture alarms, on purpose
    doc = json.loads((out / "report.json").read_text())
    m = parse_month(month)
    assert len(doc["trends"]["daily_traffic"]["rows"]) == (m.last - m.first).days + 1
    makefile = (ROOT / "Makefile").read_text()
    assert "written_month(\"demo-output\")" in makefile and "demo_month()" not in makefile


def test_parse_month():
    today = date(2026, 3, 15)
    assert parse_month("previous", today).label == "2026-02"
    assert parse_month("previous", date(2026, 1, 1)).label == "2025-12"
    m = parse_month("2024-02", today)
    assert (m.first, m.last) == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_month("2025-12", today).last == date(2025, 12, 31)
    assert parse_month("2026-03", today).label == "2026-03"  # the current month: its days so far


# --- nothing silent ------------------------------------------------------------------------------------

NEEDS_V5 = """{#-
title: Test finding that needs a v5 field
description: Records per AWS service, for a test.
severity: low
why: A test.
remediation: None.
needs:
  fields: [log-status, pkt-dst-aws-service]
-#}
SELECT
    pkt_dst_aws_service,
    count(*) AS flows
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
GROUP BY pkt_dst_aws_service
ORDER BY flows DESC, pkt_dst_aws_service ASC
"""

NEEDS_ADDRESS = """{#-
title: Test finding with a required parameter
description: Records from one address, for a test.
severity: high
why: A test.
remediation: None.
parameters:
  address:
    type: ip
    required: true
    description: The address.
example:
  address: 10.0.0.1
needs:
  fields: [log-status, srcaddr]
-#}
SELECT count(*) AS flows
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
    AND srcaddr = {{ address }}
"""


DAILY_WITHOUT_BYTES = """{#-
title: Daily traffic
description: Flows per day only, for a test.
severity: info
needs:
  fields: [log-status]
-#}
SELECT
    day,  -- noqa: RF04
    count(*) AS flows
FROM {{ flow_logs }}
WHERE
    {{ window() }}
    AND log_status = 'OK'
GROUP BY day
ORDER BY day ASC
"""


def test_what_cannot_be_evaluated_is_listed_with_its_reason(small_pack, tree, tmp_path):
    import jsonschema

    (small_pack / "queries" / "test-needs-v5.sql").write_text(NEEDS_V5)
    (small_pack / "queries" / "test-needs-address.sql").write_text(NEEDS_ADDRESS)
    # a pack of one's own whose daily-traffic lacks columns the chart needs
    (small_pack / "queries" / "daily-traffic.sql").write_text(DAILY_WITHOUT_BYTES)
    out = tmp_path / "o"
    # us-east-1 holds the default format only: no file has pkt-dst-aws-service
    r = report(*local_args(tree, out), "--region", "us-east-1")
    assert r.exit_code == 1, r.output
    data = json.loads((out / "report.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    reasons = {(n["section"], n["name"]): n["reason"] for n in data["not_evaluated"]}
    assert "pkt-dst-aws-service" in reasons[("findings", "test-needs-v5")]
    assert "address" in reasons[("findings", "test-needs-address")]
    assert "no default" in reasons[("findings", "test-needs-address")]
    assert "top-sources" in reasons[("trends", "top_rejected_sources")]
    assert "accepted_bytes" in reasons[("trends", "daily_traffic")]
    assert any(e["query"] == "daily-traffic" for e in data["evidence"]["queries"])  # it ran: its evidence stays
    items = {i["query"]: i for i in data["findings"]["items"]}
    assert [i["query"] for i in data["findings"]["items"]][0] == "test-needs-address"  # high first
    assert not items["test-needs-v5"]["evaluated"] and items["rejects-by-subnet"]["evaluated"]
    assert data["scope"]["regions"] == ["us-east-1"]
    # the posture is narrowed too
    assert {r["region"] for r in data["posture"]["rows"]} <= {"us-east-1", None}
    assert {v["region"] for v in data["posture"]["design_sheet"]} == {"us-east-1"}
    assert all("--region us-east-1" in e["command"] for e in data["evidence"]["queries"])
    for f in ("report.html", "report.md"):
        text = (out / f).read_text()
        assert "test-needs-v5" in text and "pkt-dst-aws-service" in text and "no default" in text
    for line in ("not evaluated: findings/test-needs-v5", "not evaluated: findings/test-needs-address",
                 "not evaluated: trends/top_rejected_sources"):
        assert line in r.stderr


def test_daily_traffic_names_the_day_alike_on_every_layout(tmp_path):
    """Hive-compatible prefixes and per-hour partitions: `day` is still YYYY-MM-DD, as the oracle says."""
    g = generate(tmp_path, Scenario(start=date(2025, 2, 26), days=4, flows_per_day=60, hive=True, per_hour=True))
    w = Window(date(2025, 2, 27), date(2025, 3, 1))
    engine = LocalEngine(g.root, w)
    try:
        got = run(next(q for q in load_pack() if q.name == "daily-traffic"), {}, engine, w).result.records()
    finally:
        engine.close()
    want = oracle.ORACLES["daily-traffic"][0](g.records, g.inventory_dir, {}, since=w.since, until=w.until)
    assert got == want and [r["day"] for r in got] == ["2025-02-27", "2025-02-28", "2025-03-01"]


def test_sections_are_found_by_discovery():
    from flowsql.report.sections import discover

    assert [s.KEY for s in discover()] == ["accounts", "coverage", "posture", "trends", "findings", "not_evaluated", "evidence"]


def test_the_current_month_is_reported_over_its_days_so_far(tmp_path):
    """A report of the month under way covers its first day to today (the note says so); a
    finding over hours (logging-gaps) then never counts the days to come."""
    from flowsql.pack.params import today_utc
    from flowsql.report.month import Month

    today = today_utc()
    assert Month(today.year, today.month).window == Window(today.replace(day=1), today)
    assert Month(2025, 2).window == Window(date(2025, 2, 1), date(2025, 2, 28))
    from trees import record, write_log

    write_log(tmp_path / "src", "a.log.gz", [record()], day=today)
    r = CliRunner().invoke(app, ["report", "--month", today.strftime("%Y-%m"), "--engine", "local",
                                 "--source", str(tmp_path / "src"), "--out", str(tmp_path / "out")])
    assert r.exit_code in (0, 1) and "is not over" in r.stderr, r.output
    doc = json.loads(next((tmp_path / "out").rglob("report.json")).read_text())
    assert doc["window"] == {"since": today.replace(day=1).isoformat(), "until": today.isoformat()}
