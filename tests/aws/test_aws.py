"""Sessions the AWS CLI way, and AWS failures as one-line AwsErrors."""

from __future__ import annotations

import pytest

from flowsql.aws import Aws, aws_errors, map_error, partition_for_region, split_s3_uri
from flowsql.errors import AwsError, UsageError


def test_endpoint_and_region_come_from_the_environment(moto):
    aws = Aws.connect()
    assert aws.region == "us-east-1"
    assert aws.client("s3").meta.endpoint_url == moto  # botocore honours AWS_ENDPOINT_URL itself
    assert aws.account == "123456789012"
    assert Aws.connect(region="eu-west-1").client("glue").meta.region_name == "eu-west-1"


def test_retries_for_throttling(aws):
    config = aws.client("athena").meta.config
    assert config.retries["mode"] == "standard" and config.retries["total_max_attempts"] == 8


def test_no_credentials(moto, monkeypatch):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(AwsError, match="no AWS credentials found.*--profile"):
        Aws.connect().account


def test_unknown_profile(moto, monkeypatch):
    with pytest.raises(UsageError, match="profile 'nope' not found"):  # the user's to fix: exit 2
        Aws.connect(profile="nope")
    monkeypatch.setenv("AWS_PROFILE", "gone")
    with pytest.raises(UsageError, match="profile 'gone' not found"):
        Aws.connect()


def test_no_region(moto, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(UsageError, match="no AWS region: pass --region"):
        Aws.connect()


def test_only_an_explicit_profile_is_remembered(moto, monkeypatch, tmp_path):
    cfg = tmp_path / "aws-config"
    cfg.write_text("[profile ops]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert Aws.connect().session.profile_name == "ops" and Aws.connect().profile is None
    assert Aws.connect(profile="ops").profile == "ops"


def test_invalid_parameters_are_a_usage_error_on_one_line(aws):
    with pytest.raises(UsageError) as e:
        with aws_errors("reading the results bucket"):
            aws.client("s3").get_object(Bucket="not a bucket", Key="k")
    assert str(e.value).startswith("reading the results bucket: invalid value:") and "\n" not in str(e.value)
    assert e.value.exit_code == 2


def test_an_unparsable_answer_is_one_line(proxy, aws):
    proxy.garble["DescribeFlowLogs"] = 1
    with pytest.raises(AwsError) as e:
        with aws_errors("listing flow logs"):
            aws.client("ec2").describe_flow_logs()
    assert str(e.value).startswith("listing flow logs: unreadable response from the AWS endpoint")
    assert "\n" not in str(e.value)


def test_botocore_errors_become_one_line():
    from botocore.exceptions import ParamValidationError, PartialCredentialsError

    e = map_error(ParamValidationError(report="Invalid length for parameter Name\nInvalid type for X"), "doing")
    assert isinstance(e, UsageError) and "\n" not in str(e)
    e = map_error(PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY\n"), "doing")
    assert isinstance(e, AwsError) and "\n" not in str(e)


def test_partition_for_arns():
    assert partition_for_region("eu-west-1") == "aws"
    assert partition_for_region("cn-north-1") == "aws-cn"
    assert partition_for_region("us-gov-west-1") == "aws-us-gov"


def test_missing_bucket_and_access_denied(aws):
    with pytest.raises(AwsError, match=r"^reading s3://gone/k: the bucket does not exist"):
        with aws_errors("reading s3://gone/k"):
            aws.client("s3").get_object(Bucket="gone", Key="k")
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
    assert str(map_error(denied, "reading x")) == \
        "reading x: access denied (GetObject): no; see `flowsql iam-policy` for the permissions flowsql needs"


def test_unreachable_endpoint():
    from botocore.exceptions import EndpointConnectionError

    e = map_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "listing flow logs")
    assert str(e).startswith("listing flow logs: cannot reach the AWS endpoint")
    assert "AWS_ENDPOINT_URL" in str(e)


def test_split_s3_uri():
    assert split_s3_uri("s3://b12/k/p/") == ("b12", "k/p/")
    assert split_s3_uri("s3://b12") == ("b12", "")
    for bad in ("/tmp/x", "bucket/x", "s3://", "s3:///k", "s3://a b/k", "s3://b12/k//x"):
        with pytest.raises(UsageError):
            split_s3_uri(bad)


def test_error_messages_stay_on_one_line():
    from botocore.exceptions import ClientError

    html = ClientError({"Error": {"Code": "500", "Message": "<!doctype html>\n<html>\n<p>Internal</p>"}},
                       "UpdateWorkGroup")
    assert str(map_error(html, "updating")) == \
        "updating: 500 (UpdateWorkGroup): unexpected response from the endpoint"
    long = ClientError({"Error": {"Code": "X", "Message": "a\nb " * 500}}, "Op")
    msg = str(map_error(long, "doing"))
    assert "\n" not in msg and len(msg) < 400
