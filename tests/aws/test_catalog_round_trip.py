"""Every bucket setting of the posture snapshot (flowsql.inventory.catalog) goes round: `inventory
sync` against the moto server writes its file as the AWS CLI prints S3's answer, and the posture
loader reads it back into its Bucket field; a bucket without the configuration gets no file and
None. A row added without its arrangement here fails the first test."""

from __future__ import annotations

import json

from flowsql.account.inventory_sync import sync
from flowsql.inventory.catalog import BUCKET_SETTINGS
from flowsql.posture.snapshot import load_snapshot

# how each setting is put on a bucket: file -> (boto3 method, its arguments beside Bucket)
ARRANGE = {
    "lifecycle.json": ("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": {"Rules": [{
        "ID": "flow-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
        "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 400}}]}}),
    "encryption.json": ("put_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]}}),
    "public-access-block.json": ("put_public_access_block", {"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False}}),
}


def _flow_log_to(boto, bucket: str, cidr: str) -> None:
    boto.s3.create_bucket(Bucket=bucket)
    vpc = boto.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    r = boto.ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                  LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}")
    assert not r["Unsuccessful"], r


def _as_cli_prints(answer: dict) -> dict:
    doc = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    return json.loads(json.dumps(doc, default=lambda v: v.isoformat()))


def test_every_setting_is_synced_and_read_back(boto, aws, tmp_path):
    assert set(ARRANGE) == {r.file for r in BUCKET_SETTINGS}
    _flow_log_to(boto, "logs-set", "10.1.0.0/16")
    _flow_log_to(boto, "logs-bare", "10.2.0.0/16")
    for method, args in ARRANGE.values():
        getattr(boto.s3, method)(Bucket="logs-set", **args)

    synced = sync(aws, tmp_path)
    assert synced.warnings == []
    buckets = load_snapshot(tmp_path).buckets
    for r in BUCKET_SETTINGS:
        want = _as_cli_prints(getattr(boto.s3, r.method)(**r.args("logs-set")))
        assert want, r.file
        assert getattr(buckets["logs-set"], r.field) == want, r.file
        assert f"buckets/logs-set/{r.file}" in synced.written
        # moto's new bucket has none of these configurations: S3's not-found code, no file, None
        assert f"buckets/logs-bare/{r.file}" in synced.absent
        assert not (tmp_path / "buckets" / "logs-bare" / r.file).exists()
        assert getattr(buckets["logs-bare"], r.field) is None, r.file
