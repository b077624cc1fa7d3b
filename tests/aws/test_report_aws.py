"""`flowsql report` with AWS: `--upload` to S3 with checksums, and the report on Athena (moto server)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from awsfixtures import ACCOUNT, REGION, log_key, make_flow_log, put_text_log
from test_athena_engine import queue_result
from typer.testing import CliRunner

from flowsql.account.discovery import discover_flow_logs
from flowsql.account.provision import apply, plan_setup
from flowsql.cli import app
from flowsql.demo.generate import Scenario, generate
from flowsql.engines.athena import config as config_mod
from flowsql.engines.athena.engine import cost_usd
from flowsql.logs.fields import DEFAULT_FIELDS
from flowsql.report import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[2]
FILES = ("report.html", "report.md", "report.json")


@pytest.fixture
def small_pack(tmp_path, monkeypatch):
    """Queries in a known order: log-coverage for the month and the month before, the trends
    daily-traffic and top-destinations (top-sources left out, so its trend is not evaluated), then
    the finding rejects-by-subnet."""
    root = tmp_path / "pack"
    shutil.copytree(ROOT / "sql", root)
    for p in (root / "queries").iterdir():
        if p.name not in {"log-coverage.sql", "rejects-by-subnet.sql", "daily-traffic.sql", "top-destinations.sql"}:
            p.unlink()
    monkeypatch.setenv("FLOWSQL_SQL_DIR", str(root))
    return root


@pytest.fixture
def tree(tmp_path):
    # every day of February: a month whose logs all arrived (a day without records would be a gap, exit 1)
    return generate(tmp_path / "tree", Scenario(start=date(2025, 2, 1), days=28, flows_per_day=10, files_per_day=1))


def test_upload_puts_each_file_with_its_sha256(small_pack, tree, boto, tmp_path):
    boto.s3.create_bucket(Bucket="reports")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["report", "--month", "2025-02", "--engine", "local", "--source", str(tree.root),
                                 "--out", str(out), "--upload", "s3://reports/monthly/"])
    assert r.exit_code == 0, r.output
    for name in FILES:
        key = f"monthly/2025-02/{name}"
        data = (out / name).read_bytes()
        assert boto.s3.get_object(Bucket="reports", Key=key)["Body"].read() == data
        head = boto.s3.head_object(Bucket="reports", Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert f"uploaded s3://reports/{key} (sha256 {hashlib.sha256(data).hexdigest()})" in r.stderr
    assert boto.s3.head_object(Bucket="reports", Key="monthly/2025-02/report.html")["ContentType"].startswith(
        "text/html")


def _report(tree, out, *extra):
    return CliRunner().invoke(app, ["report", "--month", "2025-02", "--engine", "local", "--source", str(tree.root),
                                    "--out", str(out), *extra])


@pytest.mark.parametrize("fault", ["no bucket", "access denied"])
def test_a_bucket_that_cannot_be_written_is_found_before_the_queries(small_pack, tree, tmp_path, boto, proxy, fault):
    """A missing bucket, or one that refuses s3:PutObject: one line, exit 1, before any query runs
    and before anything is written."""
    out = tmp_path / "out"
    bucket = "no-such-bucket" if fault == "no bucket" else "reports"
    if fault == "access denied":
        boto.s3.create_bucket(Bucket="reports")
        proxy.fail_next["PUT /reports/x/2025-02/.flowsql-write-check"] = [(403, "AccessDenied", "Access Denied")]
    r = _report(tree, out, "--upload", f"s3://{bucket}/x")
    assert r.exit_code == 1, r.output
    [line] = [ln for ln in r.stderr.strip().splitlines() if ln.startswith("flowsql:")]
    assert line.startswith(f"flowsql: error: --upload s3://{bucket}/x: cannot write there, so no query was run"), line
    assert ("the bucket does not exist" if fault == "no bucket" else "access denied") in line, line
    assert "running" not in r.stderr and not out.exists()


def test_the_write_check_leaves_one_object_that_each_run_overwrites(small_pack, tree, tmp_path, boto):
    boto.s3.create_bucket(Bucket="reports")
    for _ in range(2):
        assert _report(tree, tmp_path / "out", "--upload", "s3://reports/monthly/").exit_code == 0
    keys = sorted(o["Key"] for o in boto.s3.list_objects_v2(Bucket="reports")["Contents"])
    assert keys == ["monthly/2025-02/.flowsql-write-check", *(f"monthly/2025-02/{n}" for n in sorted(FILES))]


def test_an_upload_failing_half_way_says_which_objects_it_left(small_pack, tree, tmp_path, boto, proxy):
    boto.s3.create_bucket(Bucket="reports")
    for name in FILES:  # last month's run, say
        boto.s3.put_object(Bucket="reports", Key=f"m/2025-02/{name}", Body=b"before")
    proxy.fail_next["PUT /reports/m/2025-02/report.md"] = [(403, "AccessDenied", "Access Denied")]
    out = tmp_path / "out"
    r = _report(tree, out, "--upload", "s3://reports/m/")
    assert r.exit_code == 1, r.output
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("flowsql: error: uploading s3://reports/m/2025-02/report.md: access denied"), line
    assert ("the month's objects in S3 are now a mix: s3://reports/m/2025-02/report.html hold this run's files, "
            "s3://reports/m/2025-02/report.md, s3://reports/m/2025-02/report.json do not") in line, line
    body = {n: boto.s3.get_object(Bucket="reports", Key=f"m/2025-02/{n}")["Body"].read() for n in FILES}
    assert body == {"report.html": (out / "report.html").read_bytes(), "report.md": b"before",
                    "report.json": b"before"}  # what the error says
    assert all((out / f).exists() for f in FILES)  # the local report stands


def test_upload_places_the_month_where_the_location_says(small_pack, tree, tmp_path, boto):
    boto.s3.create_bucket(Bucket="reports")
    r = _report(tree, tmp_path / "o-{month}", "--upload", "s3://reports/{month}/evidence/")
    assert r.exit_code == 0, r.output
    keys = {o["Key"] for o in boto.s3.list_objects_v2(Bucket="reports")["Contents"]}
    assert {f"2025-02/evidence/{n}" for n in FILES} <= keys and not [k for k in keys if "{" in k]
    assert all((tmp_path / "o-2025-02" / f).exists() for f in FILES)


@pytest.fixture
def setup_done(boto, aws):
    """`flowsql setup` applied for a default-format flow log (as in test_athena_engine)."""
    fl = make_flow_log(boto, "logs")
    put_text_log(boto, "logs", log_key("", ACCOUNT, REGION, date(2025, 2, 5), fl), " ".join(DEFAULT_FIELDS))
    p = plan_setup(aws, discover_flow_logs(aws))
    apply(aws, p)
    config_mod.save(p.config)
    return p.config


COVERAGE = [("aws_account_id", "varchar"), ("aws_region", "varchar"), ("day", "varchar"), ("records", "bigint")]


def queue_coverage(moto, rows: list[list]) -> None:
    queue_result(moto, COVERAGE, rows)


def test_the_report_on_athena_shows_execution_ids_and_cost(small_pack, setup_done, tree, proxy, moto, boto,
                                                          tmp_path):
    import jsonschema

    # what Athena answers, in the order the report runs its queries: coverage, trends, then findings
    queue_coverage(moto, [[ACCOUNT, REGION, f"2025-02-{d:02d}", 100] for d in range(1, 29)])
    queue_coverage(moto, [[ACCOUNT, REGION, "2025-01-31", 100]])
    subnets = [["subnet-0a1b2c3d4e5f60718", 12, 30, 4000, 3]]
    days = [["2025-02-01", 10, 100, 5000, 9, 1, 4900, 100], ["2025-02-02", 4, 40, 2000, 4, 0, 2000, None]]
    top = [["198.51.100.7", 3, 30, 5_000_000_000], ["10.0.0.7", 1, 2, 80]]
    queue_result(moto, [("day", "varchar"), ("flows", "bigint"), ("packets", "bigint"), ("bytes", "bigint"),
                        ("accepted_flows", "bigint"), ("rejected_flows", "bigint"), ("accepted_bytes", "bigint"),
                        ("rejected_bytes", "bigint")], days)
    queue_result(moto, [("dstaddr", "varchar"), ("flows", "bigint"), ("packets", "bigint"), ("bytes", "bigint")], top)
    queue_result(moto, [("subnet_id", "varchar"), ("rejected_flows", "bigint"), ("rejected_packets", "bigint"),
                        ("rejected_bytes", "bigint"), ("distinct_sources", "bigint")], subnets)
    scanned = 123_456_789
    proxy.scanned["FROM flowsql.vpc_flow_logs"] = scanned

    out = tmp_path / "out"
    # posture on Athena too: the inventory holds a snapshot (a generated one, with alarms)
    r = CliRunner().invoke(app, ["report", "--month", "2025-02", "--engine", "athena", "--inventory",
                                 str(tree.inventory_dir), "--out", str(out)])
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert (out / "report.json").exists(), (r.stderr, repr(r.exception))
    data = json.loads((out / "report.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["scope"]["engine"] == "athena" and data["scope"]["table"] == "flowsql.vpc_flow_logs"
    assert data["posture"]["evaluated"] and data["posture"]["counts"]["alarm"] > 0

    evidence = data["evidence"]["queries"]
    assert [e["query"] for e in evidence] == ["log-coverage", "log-coverage", "daily-traffic", "top-destinations",
                                              "rejects-by-subnet"]
    assert evidence[1]["window"] == {"since": "2025-01-01", "until": "2025-01-31"}  # the month before
    assert "--since 2025-01-01 --until 2025-01-31" in evidence[1]["command"]
    # every id shown is an execution Athena has (a call retried after a timeout may have made one more)
    executions = set(boto.athena.list_query_executions(WorkGroup="flowsql")["QueryExecutionIds"])
    assert {e["execution_id"] for e in evidence} <= executions and len({e["execution_id"] for e in evidence}) == 5
    for e in evidence:
        qe = boto.athena.get_query_execution(QueryExecutionId=e["execution_id"])["QueryExecution"]
        assert qe["Query"] == e["sql"].strip()  # the SQL shown is the SQL Athena ran
        assert e["engine"] == "athena" and e["workgroup"] == "flowsql"
        assert e["data_scanned_bytes"] == scanned and e["cost_usd"] == cost_usd(scanned)
        assert e["files_read"] is None
    assert data["summary"]["data_scanned_bytes"] == 5 * scanned
    assert data["summary"]["cost_usd"] == pytest.approx(5 * cost_usd(scanned))
    assert data["summary"]["evaluated"] and data["coverage"]["gaps"] == 0  # every day of February has records

    trends = data["trends"]
    item = trends["top_destinations"]
    assert [[r[c] for c in item["columns"]] for r in item["rows"]] == top
    assert trends["daily_traffic"]["rows"][1]["rejected_bytes"] is None
    assert [r["day"] for r in trends["daily_traffic"]["rows"]] == ["2025-02-01", "2025-02-02"]
    assert not trends["top_rejected_sources"]["evaluated"]

    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for e in evidence:
        assert e["execution_id"] in html and e["execution_id"] in md
    assert "Athena cost" in html and f"{scanned:,} bytes" in html


@pytest.mark.parametrize("previous", [[], [[ACCOUNT, REGION, "2025-01-20", 7]]])
def test_a_month_without_records_on_athena_is_not_evaluated(small_pack, setup_done, proxy, moto, tmp_path, previous):
    """Athena finds no record for the month (the logs were not delivered, the table points
    elsewhere): the report runs the two coverage queries and nothing else (nothing more is billed),
    is written marked NOT EVALUATED, and exits 1. What logged the month before is named."""
    queue_coverage(moto, [])
    queue_coverage(moto, previous)
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["report", "--month", "2025-02", "--engine", "athena", "--out", str(out)])
    assert r.exit_code == 1, (r.stdout, r.stderr)
    import jsonschema

    data = json.loads((out / "report.json").read_text())
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text()))
    assert data["summary"]["evaluated"] is False and "in table flowsql.vpc_flow_logs" in data["summary"]["reason"]
    assert proxy.invocations("StartQueryExecution") == 2  # the two coverage queries, nothing else billed
    assert [e["query"] for e in data["evidence"]["queries"]] == ["log-coverage", "log-coverage"]
    assert data["findings"]["summary"]["evaluated"] == 0
    named = {(c["aws_account_id"], c["aws_region"]) for c in data["coverage"]["accounts_regions"]}
    assert named == ({(ACCOUNT, REGION)} if previous else set())
    assert "NOT EVALUATED" in r.stderr


def test_a_day_missing_on_athena_is_a_gap(small_pack, setup_done, moto, tmp_path):
    queue_coverage(moto, [[ACCOUNT, REGION, f"2025-02-{d:02d}", 5] for d in range(1, 29) if d != 14])
    queue_coverage(moto, [])
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["report", "--month", "2025-02", "--engine", "athena", "--out", str(out)])
    assert r.exit_code == 1, (r.stdout, r.stderr)
    data = json.loads((out / "report.json").read_text())
    assert data["summary"]["evaluated"] and data["summary"]["coverage_gaps"] == 1
    [row] = data["coverage"]["accounts_regions"]
    assert row["missing_days"] == ["2025-02-14"] and row["days_with_records"] == 27


def test_the_scheduled_builds_upload_permission_covers_a_month_placed_in_the_location():
    from flowsql.report.upload import CHECK_OBJECT, keys_for
    from flowsql.schedule.eventbridge import Names, codebuild_policy

    cfg = config_mod.Config(region=REGION, account=ACCOUNT, results_location="s3://results/r/", tables=[])
    for location, resource in (("s3://reports/{month}/evidence/", "arn:aws:s3:::reports/*"),
                               ("s3://reports/monthly/", "arn:aws:s3:::reports/monthly/*"),
                               ("s3://reports/a-{month}", "arn:aws:s3:::reports/a-*")):
        from flowsql.aws import split_s3_uri

        doc = codebuild_policy(cfg, Names.of("flowsql-report"), "aws", REGION, ACCOUNT,
                               *split_s3_uri(location, "--upload"))
        [upload] = [s for s in doc["Statement"] if s["Sid"] == "FlowsqlReportUpload"]
        assert upload["Resource"] == [resource], location
        prefix = resource.split(":::reports/", 1)[1].rstrip("*")
        bucket, keys = keys_for(location, "2025-02", [*FILES, CHECK_OBJECT])
        assert bucket == "reports" and all(k.startswith(prefix) for k in keys.values()), (location, keys)
