"""Sessions the AWS CLI way, and AWS failures as one-line AwsErrors."""

from __future__ import annotations

import pytest

from flowsql.aws import Aws, aws_errors, split_s3_uri, translate
from flowsql.errors import AwsError


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


def test_unknown_profile(moto):
    with pytest.raises(AwsError, match="profile 'nope' not found"):
        Aws.connect(profile="nope")


def test_no_region(moto, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(AwsError, match="no AWS region: pass --region"):
        Aws.connect()


def test_missing_bucket_and_access_denied(aws):
    with pytest.raises(AwsError, match=r"^reading s3://gone/k: the bucket does not exist"):
        with aws_errors("reading s3://gone/k"):
            aws.client("s3").get_object(Bucket="gone", Key="k")
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
    assert str(translate(denied, "reading x")) == \
        "reading x: access denied (GetObject): no; see `flowsql iam-policy` for the permissions flowsql needs"


def test_unreachable_endpoint():
    from botocore.exceptions import EndpointConnectionError

    e = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "listing flow logs")
    assert str(e).startswith("listing flow logs: cannot reach the AWS endpoint")
    assert "AWS_ENDPOINT_URL" in str(e)


def test_split_s3_uri():
    assert split_s3_uri("s3://b/k/p/") == ("b", "k/p/")
    assert split_s3_uri("s3://b") == ("b", "")
    with pytest.raises(AwsError):
        split_s3_uri("/tmp/x")


def test_error_messages_stay_on_one_line():
    from botocore.exceptions import ClientError

    html = ClientError({"Error": {"Code": "500", "Message": "<!doctype html>\n<html>\n<p>Internal</p>"}},
                       "UpdateWorkGroup")
    assert str(translate(html, "updating")) == \
        "updating: 500 (UpdateWorkGroup): unexpected response from the endpoint"
    long = ClientError({"Error": {"Code": "X", "Message": "a\nb " * 500}}, "Op")
    msg = str(translate(long, "doing"))
    assert "\n" not in msg and len(msg) < 400
