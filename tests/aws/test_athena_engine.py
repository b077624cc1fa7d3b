"""The Athena engine through pyathena against the moto server (results queued through moto's API)."""

from __future__ import annotations

import os
import signal
import threading
from datetime import date

import pytest
from awsfixtures import ACCOUNT, REGION, log_key, make_flow_log, put_text_log
from conftest import moto_api

from flowsql.account.discovery import discover_flow_logs
from flowsql.account.provision import apply, plan_setup
from flowsql.engines.athena import config as config_mod
from flowsql.engines.athena.engine import AthenaEngine, cost_usd
from flowsql.errors import AwsError, QueryError, UsageError
from flowsql.logs.fields import DEFAULT_FIELDS

SQL = ("SELECT dstaddr, count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes\n"
       "FROM flowsql.vpc_flow_logs\n"
       "WHERE day BETWEEN '2024/03/05' AND '2024/03/05' AND aws_account_id IN ('123456789012')\n"
       "  AND log_status = 'OK' AND srcaddr LIKE '10.%'\n"
       "GROUP BY dstaddr ORDER BY bytes DESC, dstaddr ASC LIMIT 10")


@pytest.fixture
def setup_done(boto, aws):
    """`flowsql setup` applied for a default-format flow log; returns the config it would save."""
    fl = make_flow_log(boto, "logs")
    put_text_log(boto, "logs", log_key("", ACCOUNT, REGION, date(2024, 3, 5), fl), " ".join(DEFAULT_FIELDS))
    p = plan_setup(aws, discover_flow_logs(aws))
    apply(aws, p)
    config_mod.save(p.config)
    return p.config


def queue_result(endpoint: str, columns: list[tuple[str, str]], rows: list[list]) -> None:
    """Queue one query result in moto, shaped as Athena returns a SELECT (header row first)."""
    def row(values):
        return {"Data": [{} if v is None else {"VarCharValue": str(v)} for v in values]}

    moto_api(endpoint, "static/athena/query-results", {
        "account_id": ACCOUNT, "region": REGION,
        "results": [{"rows": [row([c for c, _ in columns]), *(row(r) for r in rows)],
                     "column_info": [{"Name": c, "Label": c, "Type": t, "Nullable": "UNKNOWN",
                                      "CaseSensitive": t == "varchar", "Precision": 0, "Scale": 0}
                                     for c, t in columns]}],
    })


def engine(config, aws) -> AthenaEngine:
    return AthenaEngine(config, aws=aws, poll_interval=0.01)


COLUMNS = [("dstaddr", "varchar"), ("flows", "bigint"), ("packets", "bigint"), ("bytes", "bigint")]


def test_query_returns_typed_rows_and_cost(setup_done, moto, boto, aws):
    queue_result(moto, COLUMNS, [["10.0.0.9", 3, 30, 5_000_000_000], ["10.0.0.7", 1, 2, 80]])
    e = engine(setup_done, aws)
    assert e.name == "athena" and callable(e.target) and callable(e.execute)  # the Engine protocol
    result = e.execute(SQL)

    assert result.columns == ["dstaddr", "flows", "packets", "bytes"]
    assert result.rows == [("10.0.0.9", 3, 30, 5_000_000_000), ("10.0.0.7", 1, 2, 80)]
    assert result.stats.data_scanned_bytes == 0
    assert result.stats.cost_usd == cost_usd(0) > 0  # the 10 MB minimum
    qe = boto.athena.get_query_execution(QueryExecutionId=result.stats.execution_id)["QueryExecution"]
    assert qe["Query"] == SQL.strip()  # sent as is: the `%` of the LIKE survived
    assert qe["WorkGroup"] == "flowsql"
    assert qe["QueryExecutionContext"]["Database"] == "flowsql"


def test_empty_result(setup_done, aws):
    result = engine(setup_done, aws).execute(SQL)
    assert result.rows == []


def test_data_scanned_and_cost(setup_done, proxy, moto, aws):
    proxy.scanned["FROM flowsql.vpc_flow_logs"] = 3 * (1 << 30) + 1
    queue_result(moto, COLUMNS, [])
    stats = engine(setup_done, aws).execute(SQL).stats
    assert stats.data_scanned_bytes == 3 * (1 << 30) + 1
    assert stats.cost_usd == pytest.approx((3 * 1024 + 1) / (1 << 20) * 5)


def test_cost():
    assert cost_usd(0) == cost_usd(10 << 20) == pytest.approx(10 / (1 << 20) * 5)
    assert cost_usd((10 << 20) + 1) == pytest.approx(11 / (1 << 20) * 5)
    assert cost_usd(1 << 40) == pytest.approx(5.0)


def test_failed_query_raises_athena_reason(setup_done, proxy, aws):
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    proxy.fail_queries["nope"] = reason
    with pytest.raises(QueryError) as e:
        engine(setup_done, aws).execute("SELECT nope FROM flowsql.vpc_flow_logs WHERE day = '2024/03/05'")
    assert reason in str(e.value) and "failed" in str(e.value)
    assert e.value.exit_code == 1 and "\n" not in str(e.value)


def test_throttling_is_retried(setup_done, proxy, moto, aws):
    proxy.throttle["StartQueryExecution"] = 2
    proxy.throttle["GetQueryExecution"] = 1
    queue_result(moto, COLUMNS, [["10.0.0.1", 1, 1, 1]])
    assert engine(setup_done, aws).execute(SQL).rows == [("10.0.0.1", 1, 1, 1)]
    assert proxy.throttle["StartQueryExecution"] == proxy.throttle["GetQueryExecution"] == 0  # both were throttled
    assert proxy.calls.count("StartQueryExecution") >= 3  # and tried again until answered


def test_ctrl_c_stops_the_query(setup_done, moto, boto, aws):
    # pyathena's kill_on_interrupt is the one mechanism: without it the query stays QUEUED here.
    # Keep queries QUEUED until many status checks: the interrupt arrives while the query runs.
    moto_api(moto, "state-manager/set-transition",
             {"model_name": "athena::execution", "transition": {"progression": "manual", "times": 10_000}})
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            engine(setup_done, aws).execute(SQL)
    finally:
        timer.cancel()
        moto_api(moto, "state-manager/unset-transition", {"model_name": "athena::execution"})
    ids = boto.athena.list_query_executions(WorkGroup="flowsql")["QueryExecutionIds"]
    assert len(ids) == 1
    state = boto.athena.get_query_execution(QueryExecutionId=ids[0])["QueryExecution"]["Status"]["State"]
    assert state == "CANCELLED"


def test_missing_workgroup_is_an_aws_error(setup_done, boto, aws):
    boto.athena.delete_work_group(WorkGroup="flowsql")
    with pytest.raises(AwsError, match="WorkGroup does not exist"):
        engine(setup_done, aws).execute(SQL)


def test_target(setup_done, aws):
    t = engine(setup_done, aws).target()
    assert t.engine == "athena"
    assert t.flow_logs == "flowsql.vpc_flow_logs"
    assert t.columns == frozenset(f.replace("-", "_") for f in DEFAULT_FIELDS)
    assert t.day_format == "%Y/%m/%d"
    assert t.inventory == {"enis": "flowsql.inventory_enis", "eni_ips": "flowsql.inventory_eni_ips",
                           "subnets": "flowsql.inventory_subnets", "vpc_cidrs": "flowsql.inventory_vpc_cidrs"}


def test_from_saved_config(setup_done, moto):
    queue_result(moto, COLUMNS, [["10.0.0.2", 1, 1, 1]])
    e = AthenaEngine.from_config(poll_interval=0.01)
    assert e.table.name == "vpc_flow_logs" and e.aws.region == REGION
    result = e.execute(SQL)
    assert result.rows == [("10.0.0.2", 1, 1, 1)] and result.stats.engine == "athena"
    assert AthenaEngine.from_config(config_mod.load(required=True)).target() == e.target()


def test_profile_setup_was_given_else_the_default_chain(setup_done, monkeypatch, tmp_path):
    from dataclasses import replace

    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile ops]\nregion = us-east-1\n[profile audit]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    assert setup_done.profile is None
    assert AthenaEngine.from_config(setup_done).aws.session.profile_name == "default"
    monkeypatch.setenv("AWS_PROFILE", "ops")  # the default chain: AWS_PROFILE
    assert AthenaEngine.from_config(setup_done).aws.session.profile_name == "ops"
    saved = replace(setup_done, profile="audit")  # `setup --profile audit`
    assert AthenaEngine.from_config(saved).aws.session.profile_name == "ops"  # AWS_PROFILE still wins
    monkeypatch.delenv("AWS_PROFILE")
    assert AthenaEngine.from_config(saved).aws.session.profile_name == "audit"
    assert AthenaEngine.from_config(saved, profile="ops").aws.session.profile_name == "ops"


def test_not_set_up():
    assert not config_mod.exists()
    with pytest.raises(UsageError, match="run `flowsql setup`"):
        AthenaEngine.from_config()
    with pytest.raises(UsageError, match="run `flowsql setup`"):
        config_mod.load(required=True)


def test_target_without_settings_is_the_default():
    t = config_mod.athena_target(None)
    assert (t.engine, t.flow_logs, t.day_format) == ("athena", "flowsql.vpc_flow_logs", "%Y/%m/%d")
    assert t.inventory["enis"] == "flowsql.inventory_enis"


# --- what a query needs, checked before anything is sent ---------------------------------------------

def _sent(boto) -> int:
    return len(boto.athena.list_query_executions(WorkGroup="flowsql")["QueryExecutionIds"])


def test_a_table_without_the_fields_is_refused_before_sending(boto, aws):
    from flowsql.pack.queries import get_query
    from flowsql.pack.params import Window
    from flowsql.runner import run

    v3 = "${version} ${interface-id} ${account-id} ${vpc-id} ${srcaddr} ${dstaddr} ${action}"
    fl = make_flow_log(boto, "logs", log_format=v3)
    put_text_log(boto, "logs", log_key("", ACCOUNT, REGION, date(2024, 3, 5), fl),
                 "version interface-id account-id vpc-id srcaddr dstaddr action")
    p = plan_setup(aws, discover_flow_logs(aws))
    apply(aws, p)
    w = Window(date(2024, 3, 5), date(2024, 3, 5))
    with pytest.raises(UsageError, match=r"top-destinations needs field\(s\) log-status, packets, bytes.*"
                                         r"flowsql.vpc_flow_logs"):
        run(get_query("top-destinations"), {}, engine(p.config, aws), w)
    assert _sent(boto) == 0


def test_the_inventory_tables_must_have_been_uploaded(setup_done, moto, boto, aws):
    from flowsql.pack.queries import get_query
    from flowsql.pack.params import Window
    from flowsql.runner import run

    w = Window(date(2024, 3, 5), date(2024, 3, 5))
    with pytest.raises(UsageError, match="lambda-egress needs the inventory .* inventory sync --out DIR --upload"):
        run(get_query("lambda-egress"), {}, engine(setup_done, aws), w)
    assert _sent(boto) == 0
    queue_result(moto, [("subnet_id", "varchar")], [])
    result = run(get_query("rejects-by-subnet"), {}, engine(setup_done, aws), w).result
    assert any("subnets come only from the records' subnet-id field" in n for n in result.stats.notes)
    setup_done.inventory_synced = "2024-03-06T00:00:00+00:00"
    queue_result(moto, COLUMNS, [])
    assert run(get_query("lambda-egress"), {}, engine(setup_done, aws), w).result.stats.notes == []


def test_pyathena_has_the_callback_the_engine_uses():
    """pyproject's floor (pyathena>=3.17) is the first release whose execute() takes it."""
    import inspect

    from pyathena.cursor import Cursor

    assert "on_start_query_execution" in inspect.signature(Cursor.execute).parameters


def test_a_window_partition_projection_cannot_plan_is_refused_with_the_largest_that_fits(boto, aws):
    from datetime import timedelta

    from flowsql.engines.athena.config import Config, TableConfig
    from flowsql.engines.athena.engine import check_partitions, partitions
    from flowsql.pack.queries import get_query
    from flowsql.pack.params import Window
    from flowsql.runner import run

    table = TableConfig("t", "s3://b/AWSLogs/", ["version"], per_hour=True,
                        accounts=[f"{i:012d}" for i in range(40)], regions=[f"us-east-{i}" for i in range(20)])
    per_day = 40 * 20 * 24
    assert partitions(table, Window(date(2026, 1, 1), date(2026, 1, 1))) == per_day
    fits = 1_000_000 // per_day  # 52 days
    check_partitions(table, Window(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=fits - 1)))
    with pytest.raises(UsageError, match=rf"at most {fits} days .*--since 2026-01-0"):
        check_partitions(table, Window(date(2026, 1, 1), date(2026, 3, 1)))
    # the query's own filters count, not the table's values
    check_partitions(table, Window(date(2025, 1, 1), date(2026, 1, 1)), accounts=["000000000001"],
                     regions=["us-east-1"])
    # through the engine: refused before anything is sent
    cfg = Config(region=REGION, tables=[table], inventory_synced="2026-01-01T00:00:00+00:00")
    with pytest.raises(UsageError, match="partition projection plans at most 1,000,000"):
        run(get_query("top-destinations"), {}, engine(cfg, aws), Window(date(2026, 1, 1), date(2026, 6, 1)))
    assert len(boto.athena.list_query_executions()["QueryExecutionIds"]) == 0


def test_render_explain_says_what_athena_would_read_and_cost(setup_done, boto):
    from typer.testing import CliRunner

    from flowsql.cli import app

    for day, n in ((date(2024, 3, 4), 1000), (date(2024, 3, 5), 2_000_000), (date(2024, 3, 6), 3_000_000)):
        boto.s3.put_object(Bucket="logs", Key=log_key("", ACCOUNT, REGION, day, "fl-9"), Body=b"x" * n)
    r = CliRunner().invoke(app, ["render", "top-destinations", "--engine", "athena", "--explain",
                                 "--since", "2024-03-05", "--until", "2024-03-06"])
    assert r.exit_code == 0, r.output
    text = "\n".join(line for line in r.stdout.splitlines() if line.startswith("-- "))
    assert "2 partition(s)" in text and f"s3://logs/AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/03/05/" in text
    # the window's two days: setup's sample object of 03-05 and ours; nothing of 03-04
    inside = [o for o in boto.s3.list_objects_v2(Bucket="logs")["Contents"]
              if "/2024/03/05/" in o["Key"] or "/2024/03/06/" in o["Key"]]
    listed = sum(o["Size"] for o in inside)
    assert len(inside) == 3 and listed > 5_000_000
    assert f"objects under those partitions: 3, {listed:,} bytes" in text
    assert "columns read: action, bytes, day, dstaddr, log_status, packets" in text
    assert f"{listed / 1e6:,.1f} MB" in text and "$" in text
    assert "SELECT" in r.stdout and len(boto.athena.list_query_executions()["QueryExecutionIds"]) == 0
    r = CliRunner().invoke(app, ["render", "top-destinations", "--engine", "local", "--explain"])
    assert r.exit_code == 2 and "--engine athena" in r.stderr
