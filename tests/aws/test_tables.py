"""Table definitions: Glue TableInput and Athena DDL from glue/tables.yaml."""

from __future__ import annotations

from datetime import date

import pytest
from awsfixtures import CUSTOM_FORMAT

from flowsql.account.discovery import Destination
from flowsql.account.tables import (FlowLogTable, day_format, diff, flow_log_spec, inventory_specs,
                                    projection_type)
from flowsql.inventory import TABLES
from flowsql.logs.fields import parse_log_format


def _dest(**kw) -> Destination:
    base = dict(bucket="b", prefix="p", log_format=parse_log_format(CUSTOM_FORMAT), accounts=("123456789012",),
                regions=("eu-west-1", "us-east-1"))
    base.update(kw)
    return Destination(**base)


def _spec(dest=None, **kw):
    return flow_log_spec("flowsql", FlowLogTable.from_destination("vpc_flow_logs", dest or _dest(), **kw))


def _sqlfluff_parses(sql: str) -> None:
    from sqlfluff.core import Linter

    parsed = Linter(dialect="athena").parse_string(sql)
    assert not parsed.violations, parsed.violations
    assert "unparsable" not in parsed.tree.stringify()


def test_text_table_input():
    ti = _spec().table_input()
    sd = ti["StorageDescriptor"]
    fmt = parse_log_format(CUSTOM_FORMAT)
    assert [c["Name"] for c in sd["Columns"]] == [n.replace("-", "_") for n in fmt.names]
    types = {c["Name"]: c["Type"] for c in sd["Columns"]}
    assert types["bytes"] == types["packets"] == types["start"] == types["end"] == "bigint"
    assert types["srcport"] == "int" and types["srcaddr"] == "string" and types["flow_direction"] == "string"
    assert [k["Name"] for k in ti["PartitionKeys"]] == ["aws_account_id", "aws_region", "day"]
    assert all(k["Type"] == "string" for k in ti["PartitionKeys"])
    assert sd["Location"] == "s3://b/p/AWSLogs/"
    assert sd["SerdeInfo"] == {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                               "Parameters": {"field.delim": " ", "serialization.format": " ",
                                              "serialization.null.format": "-"}}
    assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    p = ti["Parameters"]
    assert ti["TableType"] == "EXTERNAL_TABLE" and p["EXTERNAL"] == "TRUE"
    assert p["skip.header.line.count"] == "1"
    assert p["projection.enabled"] == "true"
    assert p["projection.aws_account_id.type"] == "enum"
    assert p["projection.aws_account_id.values"] == "123456789012"
    assert p["projection.aws_region.values"] == "eu-west-1,us-east-1"
    assert p["projection.day.type"] == "date"
    assert p["projection.day.format"] == "yyyy/MM/dd"
    assert p["projection.day.range"] == "2018/01/01,NOW"
    assert p["projection.day.interval.unit"] == "DAYS"
    assert "projection.hour.type" not in p
    assert p["storage.location.template"] == \
        "s3://b/p/AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${day}/"


def test_parquet_hive_per_hour_table_input():
    d = _dest(file_format="parquet", hive=True, per_hour=True, prefix="")
    ti = _spec(d, day_start=date(2024, 1, 1)).table_input()
    sd, p = ti["StorageDescriptor"], ti["Parameters"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert "skip.header.line.count" not in p
    assert [k["Name"] for k in ti["PartitionKeys"]] == ["aws_account_id", "aws_region", "day", "hour"]
    assert p["projection.day.format"] == "yyyy'/month='MM'/day='dd"
    assert p["projection.day.range"] == "2024/month=01/day=01,NOW"
    assert (p["projection.hour.type"], p["projection.hour.range"], p["projection.hour.digits"]) == \
        ("integer", "0,23", "2")
    assert p["storage.location.template"] == (
        "s3://b/AWSLogs/aws-account-id=${aws_account_id}/aws-service=vpcflowlogs/"
        "aws-region=${aws_region}/year=${day}/hour=${hour}/")


def test_day_formats_render_the_path_text():
    d = date(2024, 3, 5)
    assert d.strftime(day_format(False)) == "2024/03/05"
    # with year=${day} in the template this is the Hive path year=2024/month=03/day=05
    assert d.strftime(day_format(True)) == "2024/month=03/day=05"


def test_many_accounts_are_injected():
    accounts = tuple(f"{i:012d}" for i in range(1, 42))
    p = _spec(_dest(accounts=accounts)).table_input()["Parameters"]
    assert p["projection.aws_account_id.type"] == "injected"
    assert "projection.aws_account_id.values" not in p
    assert p["projection.aws_region.type"] == "enum"
    assert projection_type(accounts[:40]) == "enum"
    p = _spec(_dest(), account_projection="injected").table_input()["Parameters"]
    assert p["projection.aws_account_id.type"] == "injected"


@pytest.mark.parametrize("kw", [
    {},
    {"file_format": "parquet", "hive": True, "per_hour": True},
    {"hive": True},
])
def test_ddl_parses_with_sqlfluff_athena(kw):
    spec = _spec(_dest(**kw))
    ddl = spec.ddl()
    _sqlfluff_parses(ddl)
    assert ddl.startswith("CREATE EXTERNAL TABLE `flowsql`.`vpc_flow_logs` (")
    assert "`end` bigint" in ddl and "`log_status` string" in ddl
    for k, v in spec.parameters.items():  # every table property, and the same value
        quoted = f"'{v}'" if "'" not in v else f'"{v}"'
        assert f"'{k}' = {quoted}" in ddl
    cols = [line.strip().split(" ")[0].strip("`") for line in ddl.split("\n")[1:] if line.startswith("  `")]
    assert cols[: len(spec.columns)] == [c for c, _ in spec.columns]
    if kw.get("file_format") != "parquet":
        assert "ROW FORMAT DELIMITED FIELDS TERMINATED BY ' ' NULL DEFINED AS '-'" in ddl
    else:
        assert "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'" in ddl


def test_inventory_tables():
    specs = inventory_specs("flowsql", "s3://r/inventory/")
    assert [s.name for s in specs] == ["inventory_enis", "inventory_eni_ips", "inventory_subnets",
                                       "inventory_vpc_cidrs"]
    for s, (logical, cols) in zip(specs, TABLES.items()):
        ti = s.table_input()
        assert ti["StorageDescriptor"]["Location"] == f"s3://r/inventory/{logical}/"
        assert ti["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        assert [(c["Name"], c["Type"]) for c in ti["StorageDescriptor"]["Columns"]] == list(cols)
        assert ti["PartitionKeys"] == []
        _sqlfluff_parses(s.ddl())


def test_diff_with_glue(boto):
    spec = _spec()
    boto.glue.create_database(DatabaseInput={"Name": "flowsql"})
    boto.glue.create_table(DatabaseName="flowsql", TableInput=spec.table_input())
    table = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]
    assert diff(table, spec) == []

    other = _spec(_dest(log_format=parse_log_format("${version} ${srcaddr} ${bytes}"), regions=("us-east-1",)))
    changes = diff(table, other)
    assert any(c.startswith("columns: -vpc_id") for c in changes)
    assert "projection.aws_region.values 'eu-west-1,us-east-1' -> 'us-east-1'" in changes
    hourly = _spec(_dest(per_hour=True))
    assert any(c.startswith("partition keys: +hour") for c in diff(table, hourly))
