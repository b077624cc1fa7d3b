"""Transit Gateway flow logs in discovery and setup, against the moto server: recognised by their
ResourceId (tgw-…, tgw-attach-…) and format, given a Glue table of their own with partition projection
as for VPC flow logs, the TGW queries saved for it; left out (with why) where they share a place
with VPC flow logs, which no Athena table could tell apart."""

from __future__ import annotations

from datetime import date

import pytest
from awsfixtures import ACCOUNT, REGION, log_key, make_flow_log, put_text_log

from flowsql.account.discovery import discover_flow_logs, group_flow_logs
from flowsql.account.provision import SetupOptions, apply, existing_named_queries, plan_setup
from flowsql.engines.athena.config import athena_target
from flowsql.errors import FormatError
from flowsql.logs.fields import DEFAULT_FIELDS
from flowsql.logs.tgw_fields import (TGW_DEFAULT_FIELDS, TGW_DEFAULT_LOG_FORMAT, TGW_FIELDS, is_tgw,
                                    parse_tgw_log_format)

DAY = date(2024, 3, 5)
TGW_FORMAT = ("${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${srcaddr} ${dstaddr} "
              "${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status}")


def _tgw_flow_log(boto, bucket, log_format=TGW_FORMAT, resource_type="TransitGateway",
                  resource="tgw-0123456789abcdef0", create_bucket=True):
    if create_bucket:
        boto.s3.create_bucket(Bucket=bucket)
    kw = {"LogFormat": log_format} if log_format else {}
    resp = boto.ec2.create_flow_logs(ResourceType=resource_type, ResourceIds=[resource], LogDestinationType="s3",
                                     LogDestination=f"arn:aws:s3:::{bucket}", MaxAggregationInterval=60, **kw)
    assert not resp["Unsuccessful"], resp
    return resp["FlowLogIds"][0]


def _vpc_flow_log(boto, bucket="vpc-logs"):
    fl = make_flow_log(boto, bucket)
    put_text_log(boto, bucket, log_key("", ACCOUNT, REGION, DAY, fl), " ".join(DEFAULT_FIELDS))
    return fl


def test_a_transit_gateway_flow_log_gets_a_destination_of_its_own(boto, aws):
    _vpc_flow_log(boto)
    tgw = _tgw_flow_log(boto, "tgw-logs")
    key = log_key("", ACCOUNT, REGION, DAY, tgw)
    put_text_log(boto, "tgw-logs", key, parse_tgw_log_format(TGW_FORMAT).header())
    found = discover_flow_logs(aws)
    assert [(d.bucket, d.kind) for d in found] == [("vpc-logs", "vpc"), ("tgw-logs", "tgw")]
    d = found[1]
    assert is_tgw(d.log_format) and d.log_format.log_format() == TGW_FORMAT
    assert d.flow_log_ids == (tgw,) and d.verified_against == f"s3://tgw-logs/{key}"
    assert d.accounts == (ACCOUNT,) and d.regions == (REGION,)
    assert found.notes == () and "Transit Gateway" in d.describe()


def test_an_attachment_flow_log_in_the_default_format_and_an_object_that_is_no_tgw_file(boto, aws):
    # (AWS describes a TGW flow log created without a format with all the TGW fields; moto would not)
    tgw = _tgw_flow_log(boto, "tgw-logs", log_format=TGW_DEFAULT_LOG_FORMAT, resource_type="TransitGatewayAttachment",
                        resource="tgw-attach-0123456789abcdef0")
    [g] = group_flow_logs([{"FlowLogId": tgw, "ResourceId": "tgw-attach-1", "LogDestinationType": "s3",
                            "LogDestination": "arn:aws:s3:::tgw-logs", "LogFormat": ""}])
    assert (g.kind, g.log_format.names) == ("tgw", TGW_DEFAULT_FIELDS)
    # its files must be Transit Gateway files: a VPC header there is a clear error
    put_text_log(boto, "tgw-logs", log_key("", ACCOUNT, REGION, DAY, tgw), " ".join(DEFAULT_FIELDS))
    with pytest.raises(FormatError, match="has header `version account-id interface-id"):
        discover_flow_logs(aws)


def test_a_tgw_flow_log_beside_vpc_flow_logs_is_left_out_with_why(boto, aws):
    _vpc_flow_log(boto)
    tgw = _tgw_flow_log(boto, "vpc-logs", create_bucket=False)
    found = discover_flow_logs(aws)
    assert [d.kind for d in found] == ["vpc"]
    [note] = found.notes
    assert tgw in note and "Transit Gateway" in note and "key prefix of their own" in note


def test_setup_makes_the_tgw_table_with_projection_and_its_queries(boto, aws):
    _vpc_flow_log(boto)
    tgw = _tgw_flow_log(boto, "tgw-logs", log_format=TGW_DEFAULT_LOG_FORMAT)
    put_text_log(boto, "tgw-logs", log_key("", ACCOUNT, REGION, DAY, tgw), " ".join(TGW_DEFAULT_FIELDS))
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions())
    apply(aws, p)
    t = boto.glue.get_table(DatabaseName="flowsql", Name="tgw_flow_logs")["Table"]
    assert [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]] == \
        [(f.column, f.athena_type) for f in TGW_FIELDS]
    assert t["StorageDescriptor"]["Location"] == "s3://tgw-logs/AWSLogs/"
    assert [k["Name"] for k in t["PartitionKeys"]] == ["aws_account_id", "aws_region", "day"]
    params = t["Parameters"]
    assert params["projection.enabled"] == "true" and params["projection.day.type"] == "date"
    assert params["projection.aws_account_id.values"] == ACCOUNT
    assert params["storage.location.template"] == \
        "s3://tgw-logs/AWSLogs/${aws_account_id}/vpcflowlogs/${aws_region}/${day}/"
    assert t["Description"].startswith("Transit Gateway flow logs")
    vpc = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]
    assert vpc["StorageDescriptor"]["Location"] == "s3://vpc-logs/AWSLogs/"

    cfg = p.config
    assert [(t.name, t.kind) for t in cfg.tables] == [("vpc_flow_logs", "vpc"), ("tgw_flow_logs", "tgw")]
    assert cfg.table().name == "vpc_flow_logs" and cfg.tgw_table().name == "tgw_flow_logs"
    target = athena_target(cfg)
    assert (target.flow_logs, target.tgw_flow_logs) == ("flowsql.vpc_flow_logs", "flowsql.tgw_flow_logs")
    saved = existing_named_queries(boto.athena, "flowsql")
    assert "FROM flowsql.tgw_flow_logs" in saved["flowsql-tgw-packets-lost"]["QueryString"]
    assert "tgw_flow_logs" not in saved["flowsql-top-talkers"]["QueryString"]
    assert list(plan_setup(aws, discover_flow_logs(aws), SetupOptions())) == []  # a second run changes nothing


def test_without_a_tgw_table_no_tgw_query_is_saved(boto, aws):
    _vpc_flow_log(boto)
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions())
    assert p.config.tgw_table() is None
    names = [a.params["Name"] for a in p if a.kind == "create-named-query"]
    assert "flowsql-top-talkers" in names and not [n for n in names if n.startswith("flowsql-tgw-")]
