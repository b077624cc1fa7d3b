"""Times in what people read are ISO 8601 UTC: report.html, report.md and table output (diagnose's
evidence, `flowsql query`) show a time column as `2025-02-03T04:00:00Z`; JSON and CSV keep the Unix
seconds. Which column is a time comes from the query's header (`columns: {hour: unix_seconds}`),
never from its name."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone

import pytest
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.errors import UsageError
from flowsql.pack.queries import load_pack
from trees import DAY, record, write_log

runner = CliRunner()

# docs/queries.md, read independently: the result columns that are times in Unix seconds (the smallest
# start, the largest end, the start of an hour).
TIME_COLUMNS = {
    "address-first-last-seen": {"first_seen", "last_seen"},
    "admin-ports-from-internet": {"first_seen", "last_seen"},
    "conversation": {"first_seen", "last_seen"},
    "db-ports-from-internet": {"first_seen", "last_seen"},
    "eni-timeline": {"hour"},
    "logging-gaps": {"hour"},
    "nodata-skipdata": {"hour"},
    "rejected-inbound-from-internet": {"first_seen", "last_seen"},
    "traffic-from-address": {"first_seen", "last_seen"},
    "traffic-to-address": {"first_seen", "last_seen"},
    "tgw-conversation": {"first_seen", "last_seen"},
}


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("query", load_pack(), ids=lambda q: q.name)
def test_every_time_column_is_declared_in_its_header(query):
    assert query.columns == dict.fromkeys(TIME_COLUMNS.get(query.name, ()), "unix_seconds")


@pytest.mark.parametrize("columns,says", [("[hour]", "must map"), ("{hour: epoch}", "'epoch' is none of"),
                                          ("{Hour: unix_seconds}", "no result column name")])
def test_a_bad_columns_declaration_is_an_error_naming_it(tmp_path, monkeypatch, columns, says):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "q.sql").write_text(
        f"{{#-\ntitle: T\ndescription: D\nseverity: info\ncolumns: {columns}\n-#}}\nSELECT 1 AS hour\n")
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(tmp_path))
    with pytest.raises((ValueError, UsageError), match=says):
        load_pack(tmp_path)


def test_query_table_shows_iso_times_and_json_and_csv_keep_the_seconds(tmp_path):
    start = int(datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc).timestamp())
    line = record(src="10.0.0.7").replace(" 1 2 ACCEPT", f" {start} {start + 60} ACCEPT")
    write_log(tmp_path, "a.log", [line])
    args = ("query", "traffic-from-address", "--engine", "local", "--source", tmp_path, "--since", DAY, "--until",
            DAY, "-p", "address=10.0.0.7")
    table = invoke(*args)
    assert table.exit_code == 0, table.output
    assert "2026-03-01T09:30:00Z" in table.stdout and "2026-03-01T09:31:00Z" in table.stdout
    assert str(start) not in table.stdout
    [row] = json.loads(invoke(*args, "-o", "json").stdout)
    assert (row["first_seen"], row["last_seen"]) == (start, start + 60)
    rows = list(csv.DictReader(io.StringIO(invoke(*args, "-o", "csv").stdout)))
    assert rows[0]["first_seen"] == str(start)


def test_diagnose_evidence_table_shows_iso_times_and_json_keeps_the_seconds(tmp_path):
    start = int(datetime(2026, 3, 1, 23, 59, 1, tzinfo=timezone.utc).timestamp())
    line = record(src="10.0.0.1", dst="10.0.0.2", dport="22", action="REJECT").replace(
        " 1 2 REJECT", f" {start} {start + 30} REJECT")
    write_log(tmp_path, "a.log", [line])
    args = ("diagnose", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--port", "22", "--engine", "local", "--source",
            tmp_path, "--since", DAY, "--until", DAY)
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    evidence = r.stdout.partition("evidence")[2]
    assert iso(start) in evidence and iso(start + 30) in evidence and str(start) not in r.stdout
    doc = json.loads(invoke(*args, "-o", "json").stdout)
    assert doc["evidence"][0]["first_seen"] == start


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("times")
    generate(root, Scenario(start=date(2025, 2, 1), days=28, flows_per_day=30, files_per_day=1, seed=9))
    out = root / "report"
    r = runner.invoke(app, ["report", "--month", "2025-02", "--engine", "local", "--source", str(root),
                            "--inventory", str(root / "inventory"), "--out", str(out)])
    assert (out / "report.json").exists(), r.output
    return out


def test_report_shows_logging_gaps_hours_as_iso_and_json_keeps_the_number(report):
    data = json.loads((report / "report.json").read_text())
    [gaps] = [i for i in data["findings"]["items"] if i["query"] == "logging-gaps"]
    assert gaps["evaluated"] and gaps["row_count"] > 0  # 30 records a day leave hours without any
    assert gaps["column_types"] == {"hour": "unix_seconds"}
    hours = [r["hour"] for r in gaps["rows"]]
    assert all(isinstance(h, int) for h in hours)
    html, md = (report / "report.html").read_text(), (report / "report.md").read_text()
    shown = hours[:25]  # the rows each renderer shows per finding
    for h in shown:
        assert iso(h) in html and iso(h) in md
    section = md.partition("(`logging-gaps`)")[2].partition("### ")[0]
    assert not [h for h in shown if str(h) in section]  # no epoch seconds in the finding's table
