"""Discovery of flow-log destinations against the moto server."""

from __future__ import annotations

from datetime import date

import pytest
from awsfixtures import (ACCOUNT, CUSTOM_FORMAT, REGION, log_key, make_flow_log, make_vpc, parquet_bytes,
                         put_text_log)

from flowsql.account.discovery import Destination, discover_flow_logs, group_flow_logs, parse_destination_arn
from flowsql.errors import AwsError, FormatError, UsageError
from flowsql.logs.fields import DEFAULT_FIELDS, parse_log_format

DAY = date(2024, 3, 5)


def test_custom_text_format(proxy, boto, aws):
    fl = make_flow_log(boto, "logs-b", "p/q", CUSTOM_FORMAT)
    fmt = parse_log_format(CUSTOM_FORMAT)
    put_text_log(boto, "logs-b", log_key("p/q", ACCOUNT, REGION, DAY, fl), fmt.header(),
                 ["5 vpc-1 subnet-1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK ingress"])

    [d] = discover_flow_logs(aws)

    assert (d.bucket, d.prefix, d.file_format, d.hive, d.per_hour) == ("logs-b", "p/q", "plain-text", False, False)
    assert d.log_format.names == fmt.names
    assert d.location == "s3://logs-b/p/q/AWSLogs/"
    assert d.flow_log_ids == (fl,)
    assert d.accounts == (ACCOUNT,) and d.regions == (REGION,)
    assert d.verified_against.startswith("s3://logs-b/p/q/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/05/")


def test_default_format_without_objects(boto, aws):
    make_flow_log(boto, "logs-d")

    [d] = discover_flow_logs(aws)

    assert d.log_format.names == DEFAULT_FIELDS and d.prefix == ""
    assert d.location == "s3://logs-d/AWSLogs/"
    assert d.verified_against is None and "not verified" in d.notes[0]
    assert d.accounts == (ACCOUNT,) and d.regions == (REGION,)


def test_parquet_hive_per_hour_from_destination_options(proxy, boto, aws, tmp_path):
    fl = make_flow_log(boto, "logs-h", "x/y", "${version} ${account-id} ${srcaddr} ${bytes} ${action}",
                       options={"FileFormat": "parquet", "HiveCompatiblePartitions": True, "PerHourPartition": True})
    key = log_key("x/y", ACCOUNT, REGION, DAY, fl, hive=True, hour=23, parquet=True)
    body = parquet_bytes({"version": "INTEGER", "account_id": "VARCHAR", "srcaddr": "VARCHAR",
                          "bytes": "BIGINT", "action": "VARCHAR"}, tmp_path)
    boto.s3.put_object(Bucket="logs-h", Key=key, Body=body)
    # a plain-text tree of another flow log at the same prefix is not this table's
    put_text_log(boto, "logs-h", log_key("x/y", ACCOUNT, REGION, DAY, "fl-other"), " ".join(DEFAULT_FIELDS))

    [d] = discover_flow_logs(aws)

    assert (d.bucket, d.prefix, d.file_format, d.hive, d.per_hour) == ("logs-h", "x/y", "parquet", True, True)
    assert d.log_format.names == ("version", "account-id", "srcaddr", "bytes", "action")
    assert d.verified_against == f"s3://logs-h/{key}"


def test_parquet_types_must_match(proxy, boto, aws, tmp_path):
    fl = make_flow_log(boto, "logs-t", "", "${version} ${bytes}",
                       options={"FileFormat": "parquet", "HiveCompatiblePartitions": False, "PerHourPartition": False})
    key = log_key("", ACCOUNT, REGION, DAY, fl, parquet=True)
    boto.s3.put_object(Bucket="logs-t", Key=key,
                       Body=parquet_bytes({"version": "INTEGER", "bytes": "INTEGER"}, tmp_path))
    with pytest.raises(FormatError, match="bytes is int, expected bigint"):
        discover_flow_logs(aws)


def test_parquet_hive_per_hour_read_from_the_objects(boto, aws, tmp_path):
    # No DestinationOptions (moto, or a log archive): the layout is read from the objects.
    fl = make_flow_log(boto, "logs-p", "", "${version} ${account-id} ${srcaddr} ${bytes} ${action}")
    key = log_key("", ACCOUNT, REGION, DAY, fl, hive=True, hour=7, parquet=True)
    body = parquet_bytes({"version": "INTEGER", "account_id": "VARCHAR", "srcaddr": "VARCHAR",
                          "bytes": "BIGINT", "action": "VARCHAR"}, tmp_path)
    boto.s3.put_object(Bucket="logs-p", Key=key, Body=body)

    [d] = discover_flow_logs(aws)

    assert (d.file_format, d.hive, d.per_hour) == ("parquet", True, True)
    assert d.log_format.names == ("version", "account-id", "srcaddr", "bytes", "action")
    assert d.verified_against == f"s3://logs-p/{key}"
    assert key.startswith("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
                          "year=2024/month=03/day=05/hour=07/")


def test_parquet_schema_mismatch(boto, aws, tmp_path):
    fl = make_flow_log(boto, "logs-p2", "", "${version} ${srcaddr} ${bytes}")
    key = log_key("", ACCOUNT, REGION, DAY, fl, hive=True, parquet=True)
    body = parquet_bytes({"version": "INTEGER", "dstaddr": "VARCHAR", "bytes": "BIGINT"}, tmp_path)
    boto.s3.put_object(Bucket="logs-p2", Key=key, Body=body)
    with pytest.raises(FormatError, match="version dstaddr bytes.*version srcaddr bytes"):
        discover_flow_logs(aws)


def test_destination_options_from_describe_flow_logs():
    # What real AWS returns (moto leaves DestinationOptions out).
    items = [
        {"FlowLogId": "fl-1", "ResourceId": "vpc-1", "TrafficType": "ALL", "LogDestinationType": "s3",
         "LogDestination": "arn:aws:s3:::b/x/", "LogFormat": "${version} ${srcaddr}",
         "DestinationOptions": {"FileFormat": "parquet", "HiveCompatiblePartitions": True,
                                "PerHourPartition": True}},
        {"FlowLogId": "fl-2", "ResourceId": "subnet-1", "TrafficType": "REJECT", "LogDestinationType": "s3",
         "LogDestination": "arn:aws:s3:::b/x", "LogFormat": "${version} ${srcaddr}",
         "DestinationOptions": {"FileFormat": "parquet", "HiveCompatiblePartitions": True,
                                "PerHourPartition": True}},
        {"FlowLogId": "fl-3", "LogDestinationType": "cloud-watch-logs", "LogGroupName": "g"},
        {"FlowLogId": "fl-4", "ResourceId": "vpc-2", "LogDestinationType": "s3",
         "LogDestination": "arn:aws:s3:::b", "LogFormat": "",
         "DestinationOptions": {"FileFormat": "plain-text", "HiveCompatiblePartitions": False,
                                "PerHourPartition": False}},
    ]
    groups = group_flow_logs(items)
    assert [(g.bucket, g.prefix, g.file_format, g.hive, g.per_hour, g.flow_log_ids) for g in groups] == [
        ("b", "", "plain-text", False, False, ("fl-4",)),
        ("b", "x", "parquet", True, True, ("fl-1", "fl-2")),
    ]
    assert groups[0].log_format.names == DEFAULT_FIELDS


def test_destination_arn():
    assert parse_destination_arn("arn:aws:s3:::bucket") == ("bucket", "")
    assert parse_destination_arn("arn:aws-cn:s3:::bucket/a/b/") == ("bucket", "a/b")
    with pytest.raises(AwsError):
        parse_destination_arn("arn:aws:logs:us-east-1:1:log-group:x")


def test_format_mismatch_names_object_and_both_formats(boto, aws):
    fl = make_flow_log(boto, "logs-m", "", CUSTOM_FORMAT)
    key = log_key("", ACCOUNT, REGION, DAY, fl)
    put_text_log(boto, "logs-m", key, " ".join(DEFAULT_FIELDS))
    with pytest.raises(FormatError) as e:
        discover_flow_logs(aws)
    msg = str(e.value)
    assert f"s3://logs-m/{key}" in msg
    assert "version account-id interface-id" in msg and "version vpc-id subnet-id" in msg
    assert "\n" not in msg


def test_log_format_override_is_verified_too(boto, aws):
    fl = make_flow_log(boto, "logs-o", "", CUSTOM_FORMAT)
    put_text_log(boto, "logs-o", log_key("", ACCOUNT, REGION, DAY, fl), " ".join(DEFAULT_FIELDS))
    [d] = discover_flow_logs(aws, log_format=" ".join("${%s}" % f for f in DEFAULT_FIELDS))
    assert d.log_format.names == DEFAULT_FIELDS


def test_missing_bucket(boto, aws):
    make_flow_log(boto, "logs-gone")
    boto.s3.delete_bucket(Bucket="logs-gone")
    with pytest.raises(AwsError, match="bucket logs-gone does not exist"):
        discover_flow_logs(aws)


def test_missing_bucket_given_directly(aws):
    with pytest.raises(AwsError, match="bucket nowhere does not exist"):
        discover_flow_logs(aws, bucket="nowhere", log_format="${version}")


def test_no_flow_logs(boto, aws):
    make_vpc(boto)
    with pytest.raises(UsageError, match="no flow log in account 123456789012 .*publishes to S3.*--bucket"):
        discover_flow_logs(aws)


def test_cloudwatch_only_flow_logs_are_not_enough(boto, aws):
    boto.logs.create_log_group(logGroupName="g")
    boto.ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[make_vpc(boto)], TrafficType="ALL",
                              LogGroupName="g", DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/x")
    with pytest.raises(UsageError, match=r"\(1 publish elsewhere\)"):
        discover_flow_logs(aws)


def test_log_archive_bucket_with_many_accounts(boto, aws):
    """No flow log here: --bucket/--prefix replace discovery; accounts come from AWSLogs/."""
    boto.s3.create_bucket(Bucket="archive")
    header = " ".join(DEFAULT_FIELDS)
    for acct, region in (("111111111111", "eu-west-1"), ("222222222222", "us-east-1"),
                         ("333333333333", "eu-west-1")):
        put_text_log(boto, "archive", log_key("org", acct, region, DAY, "fl-0a1b2c3d"), header)

    [d] = discover_flow_logs(aws, bucket="archive", prefix="/org/")
    assert d.accounts == ("111111111111", "222222222222", "333333333333")
    assert d.regions == ("eu-west-1", "us-east-1")
    assert d.log_format.names == DEFAULT_FIELDS and d.prefix == "org"

    [d2] = discover_flow_logs(aws, bucket="archive", prefix="org", accounts=["222222222222"])
    assert d2.accounts == ("222222222222",) and d2.regions == ("us-east-1",)


def test_log_archive_without_objects_needs_a_format(boto, aws):
    boto.s3.create_bucket(Bucket="empty-archive")
    with pytest.raises(UsageError, match="--log-format"):
        discover_flow_logs(aws, bucket="empty-archive", use_flow_logs=False)


def test_bad_account_id(aws):
    with pytest.raises(UsageError, match="12 digits"):
        discover_flow_logs(aws, bucket="x", accounts=["123"])


def test_destination_key_separates_layouts():
    fmt = parse_log_format("")
    a = Destination("b", "", fmt)
    b = Destination("b", "", fmt, hive=True)
    assert a.key != b.key and a.location == b.location == "s3://b/AWSLogs/"


def test_flow_logs_of_several_regions_share_a_table(boto, aws):
    import boto3

    make_flow_log(boto, "logs-r")
    ec2_eu = boto3.client("ec2", region_name="eu-west-1")
    vpc = ec2_eu.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2_eu.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL", LogDestinationType="s3",
                            LogDestination="arn:aws:s3:::logs-r")

    [only_here] = discover_flow_logs(aws)
    assert only_here.regions == (REGION,) and len(only_here.flow_log_ids) == 1
    [both] = discover_flow_logs(aws, regions=["eu-west-1"])
    assert both.regions == ("eu-west-1", REGION) and len(both.flow_log_ids) == 2


def test_two_formats_in_one_place_is_a_clear_error(boto, aws):
    """Two flow logs, one bucket and layout, different formats: no table can read both."""
    custom = make_flow_log(boto, "logs-2f", "", CUSTOM_FORMAT)
    default = make_flow_log(boto, "logs-2f", "", create_bucket=False)
    put_text_log(boto, "logs-2f", log_key("", ACCOUNT, REGION, DAY, custom), parse_log_format(CUSTOM_FORMAT).header())
    with pytest.raises(UsageError) as e:
        discover_flow_logs(aws)
    msg = str(e.value)
    assert custom in msg and default in msg and "s3://logs-2f/AWSLogs/" in msg
    assert "prefix" in msg and "--log-format" in msg and "\n" not in msg
    # the user says which format the files there have: one table
    [d] = discover_flow_logs(aws, log_format=CUSTOM_FORMAT)
    assert d.flow_log_ids == tuple(sorted((custom, default)))


def test_prefix_alone_narrows_discovery(proxy, boto, aws):
    make_flow_log(boto, "logs-n1", "team-a", CUSTOM_FORMAT)
    make_flow_log(boto, "logs-n2", "team-b")
    [d] = discover_flow_logs(aws, prefix="team-b/")
    assert (d.bucket, d.prefix) == ("logs-n2", "team-b")
    with pytest.raises(UsageError, match=r"no flow log .* under prefix 'team-c' .*s3://logs-n1/team-a.*--bucket"):
        discover_flow_logs(aws, prefix="team-c")


def test_sample_search_stays_in_our_account_folder(proxy, boto, aws):
    """Our flow log writes to a shared bucket that other accounts' logs fill: only our folder is
    searched for a file to verify the format against."""
    make_flow_log(boto, "shared-logs", "org")
    for other in ("111111111111", "222222222222"):
        put_text_log(boto, "shared-logs", log_key("org", other, REGION, DAY, "fl-0a1b2c3d"), " ".join(DEFAULT_FIELDS))
    proxy.clear()

    [d] = discover_flow_logs(aws)

    assert d.accounts == ("111111111111", "123456789012", "222222222222")  # the table covers all
    assert d.verified_against is None and "not verified" in d.notes[0]
    import re
    from urllib.parse import parse_qs, urlsplit

    listed = [parse_qs(urlsplit(path).query).get("prefix", [""])[0]
              for service, _, method, path in proxy.requests if service == "s3" and method == "GET"]
    # listings below a region folder are the sample search (the region folders themselves are
    # listed for every account: the table's region projection needs them)
    searched = [p for p in listed if re.match(r"org/AWSLogs/\d{12}/vpcflowlogs/[a-z0-9-]+/", p)]
    assert searched and all(p.startswith(f"org/AWSLogs/{ACCOUNT}/") for p in searched), searched


TGW_FORMAT = ("${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${srcaddr} ${dstaddr} "
              "${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status}")


def _tgw_flow_log(boto, bucket):
    boto.s3.create_bucket(Bucket=bucket)
    resp = boto.ec2.create_flow_logs(ResourceType="TransitGateway", ResourceIds=["tgw-0123456789abcdef0"],
                                     LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}",
                                     LogFormat=TGW_FORMAT, MaxAggregationInterval=60)
    assert not resp["Unsuccessful"], resp
    return resp["FlowLogIds"][0]


def test_a_flow_log_the_options_leave_out_is_never_parsed(boto, aws):
    fl = make_flow_log(boto, "vpc-logs")
    put_text_log(boto, "vpc-logs", log_key("", ACCOUNT, REGION, date(2024, 3, 5), fl), " ".join(DEFAULT_FIELDS))
    _tgw_flow_log(boto, "tgw-logs")
    found = discover_flow_logs(aws, bucket="vpc-logs")
    assert [d.bucket for d in found] == ["vpc-logs"] and found.notes == ()
