"""`flowsql inventory sync` writes the posture snapshot against the moto server, and `flowsql posture`
reads it.

The expected files are what the AWS CLI prints: boto3's own answers (paginated, ResponseMetadata
left out, timestamps in ISO 8601, indent 4), fetched here independently of flowsql.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from awsfixtures import ACCOUNT, REGION
from test_cli_aws import invoke, no_traceback

from flowsql.account.inventory_sync import sync

GOOD_RULES = [{"ID": "flow-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled",
               "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 400}}]
SHORT_RULES = [{"ID": "short", "Filter": {"Prefix": ""}, "Status": "Enabled",
                "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}], "Expiration": {"Days": 90}}]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/flow-logs"


def _cli(doc: dict) -> str:
    doc = {k: v for k, v in doc.items() if k != "ResponseMetadata"}
    return json.dumps(doc, indent=4, ensure_ascii=False, default=lambda v: v.isoformat()) + "\n"


def _vpc(boto, cidr: str, data_class: str | None) -> str:
    vpc = boto.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    boto.ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))
    if data_class:
        boto.ec2.create_tags(Resources=[vpc], Tags=[{"Key": "data-class", "Value": data_class}])
    return vpc


def _s3_flow_log(boto, vpc: str, bucket: str, traffic: str = "ALL") -> str:
    r = boto.ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType=traffic,
                                  LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}")
    assert not r["Unsuccessful"], r
    return r["FlowLogIds"][0]


def _cwl_flow_log(boto, vpc: str, group: str) -> str:
    r = boto.ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], TrafficType="ALL",
                                  LogDestinationType="cloud-watch-logs", LogGroupName=group,
                                  DeliverLogsPermissionArn=ROLE)
    assert not r["Unsuccessful"], r
    return r["FlowLogIds"][0]


def _arrange(boto) -> dict:
    """The acceptance mix: a compliant critical VPC, a REJECT-only log, a group that never expires, a
    production VPC logging only to CloudWatch, a critical VPC whose S3 copy expires after 90 days,
    and a VPC without flow logs."""
    ids = {}
    ids["good"] = _vpc(boto, "10.1.0.0/16", "critical")
    boto.s3.create_bucket(Bucket="logs-good")
    key = boto.kms.create_key(Description="flow logs")["KeyMetadata"]["Arn"]
    boto.s3.put_bucket_encryption(Bucket="logs-good", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": True}]})
    boto.s3.put_public_access_block(Bucket="logs-good", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    boto.s3.put_bucket_lifecycle_configuration(Bucket="logs-good", LifecycleConfiguration={"Rules": GOOD_RULES})
    boto.s3.put_object(Bucket="logs-good", Key="AWSLogs/sample.log.gz", Body=b"x" * 12345)
    ids["fl_good"] = _s3_flow_log(boto, ids["good"], "logs-good")
    boto.logs.create_log_group(logGroupName="/flow/good")
    boto.logs.put_retention_policy(logGroupName="/flow/good", retentionInDays=14)
    _cwl_flow_log(boto, ids["good"], "/flow/good")

    ids["reject"] = _vpc(boto, "10.2.0.0/16", "internal")
    boto.s3.create_bucket(Bucket="logs-bare")  # no lifecycle, no encryption, no public access block
    _s3_flow_log(boto, ids["reject"], "logs-bare", traffic="REJECT")

    ids["cwl_only"] = _vpc(boto, "10.3.0.0/16", "production")
    boto.logs.create_log_group(logGroupName="/flow/forever")  # never expires
    _cwl_flow_log(boto, ids["cwl_only"], "/flow/forever")

    ids["short"] = _vpc(boto, "10.4.0.0/16", "critical")
    boto.s3.create_bucket(Bucket="logs-short")
    boto.s3.put_bucket_lifecycle_configuration(Bucket="logs-short", LifecycleConfiguration={"Rules": SHORT_RULES})
    _s3_flow_log(boto, ids["short"], "logs-short")

    ids["none"] = _vpc(boto, "10.5.0.0/16", "production")
    ids["sandbox"] = _vpc(boto, "10.6.0.0/16", "sandbox")
    ids["key"] = key
    return ids


def test_sync_writes_the_snapshot_in_the_cli_shapes(boto, aws, tmp_path):
    ids = _arrange(boto)
    # left from an earlier sync: a bucket no flow log uses any more, and a configuration since deleted
    (tmp_path / "buckets" / "gone").mkdir(parents=True)
    (tmp_path / "buckets" / "gone" / "lifecycle.json").write_text("{}")
    (tmp_path / "buckets" / "logs-bare").mkdir()
    (tmp_path / "buckets" / "logs-bare" / "lifecycle.json").write_text(_cli({"Rules": GOOD_RULES}))
    synced = sync(aws, tmp_path)
    assert synced.warnings == []

    flow_logs = [f for p in boto.ec2.get_paginator("describe_flow_logs").paginate() for f in p["FlowLogs"]]
    assert len(flow_logs) == 5
    assert (tmp_path / "flow-logs.json").read_text() == _cli({"FlowLogs": flow_logs})
    assert synced["flow-logs.json"] == 5 and synced["log-groups.json"] == 2

    groups = {g["logGroupName"]: g for g in json.loads((tmp_path / "log-groups.json").read_text())["logGroups"]}
    assert set(groups) == {"/flow/good", "/flow/forever"}
    assert groups["/flow/good"]["retentionInDays"] == 14 and "retentionInDays" not in groups["/flow/forever"]
    want = boto.logs.describe_log_groups(logGroupNamePrefix="/flow/forever")["logGroups"]
    assert json.loads((tmp_path / "log-groups.json").read_text())["logGroups"][0] == json.loads(
        _cli({"g": want[0]}))["g"]

    good = tmp_path / "buckets" / "logs-good"
    assert (good / "lifecycle.json").read_text() == _cli(boto.s3.get_bucket_lifecycle_configuration(Bucket="logs-good"))
    assert (good / "encryption.json").read_text() == _cli(boto.s3.get_bucket_encryption(Bucket="logs-good"))
    assert (good / "public-access-block.json").read_text() == _cli(
        boto.s3.get_public_access_block(Bucket="logs-good"))
    size = json.loads((good / "size-StandardStorage.json").read_text())
    # (moto's figure is not the objects' bytes, only some size > 0: the file is compared with its answer)
    assert len(size["Datapoints"]) == 1 and size["Datapoints"][0]["Average"] > 0
    assert size["Label"] == "BucketSizeBytes"
    now = datetime.now(timezone.utc)
    expected = boto.cloudwatch.get_metric_statistics(
        Namespace="AWS/S3", MetricName="BucketSizeBytes", Period=86400, Statistics=["Average"],
        Dimensions=[{"Name": "BucketName", "Value": "logs-good"}, {"Name": "StorageType", "Value": "StandardStorage"}],
        StartTime=datetime.combine(now.date(), time(), tzinfo=timezone.utc) - timedelta(days=14), EndTime=now)
    assert (good / "size-StandardStorage.json").read_text() == _cli(expected)

    bare = tmp_path / "buckets" / "logs-bare"
    assert sorted(p.name for p in bare.iterdir()) == ["size-StandardStorage.json"]  # the stale lifecycle is gone
    assert sorted(synced.absent) == [f"buckets/logs-bare/{f}" for f in
                                     ("encryption.json", "lifecycle.json", "public-access-block.json")] + [
        f"buckets/logs-short/{f}" for f in ("encryption.json", "public-access-block.json")]
    assert not (tmp_path / "buckets" / "gone").exists()
    assert sorted(p.name for p in (tmp_path / "buckets").iterdir()) == ["logs-bare", "logs-good", "logs-short"]
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary files left


def test_posture_on_the_synced_folder(boto, tmp_path):
    ids = _arrange(boto)
    r = invoke("inventory", "sync", "--out", tmp_path / "inv")
    assert r.exit_code == 0, r.output
    assert f"{tmp_path / 'inv' / 'buckets' / 'logs-good' / 'lifecycle.json'}: written" in r.stdout
    assert f"{tmp_path / 'inv' / 'buckets' / 'logs-bare' / 'lifecycle.json'}: absent" in r.stdout

    r = invoke("posture", "--inventory", tmp_path / "inv", "-o", "json")
    assert r.exit_code == 1 and no_traceback(r), r.output
    rows = json.loads(r.stdout)
    by = {}
    for row in rows:
        by.setdefault((row["check"], row["vpc"]), []).append(row)
        if row["resource"] != row["vpc"]:
            by.setdefault((row["check"], row["resource"]), []).append(row)

    def status(check, key):
        found = by.get((check, key))
        assert found and len(found) == 1, (check, key, found)
        return found[0]["status"], found[0]["reason"]

    # the compliant VPC: nothing alarms about it or its bucket and group
    assert not [row for row in rows if row["vpc"] == ids["good"] and row["status"] != "ok"]
    assert status("s3_flow_log_bucket_encryption", ids["good"])[0] == "ok"
    assert status("cloudwatch_flow_log_retention", ids["good"]) == ("ok", "kept 14 days (at most 30)")
    # the five acceptance alarms
    s, reason = status("vpc_flow_logs_enabled", ids["reject"])
    assert s == "alarm" and "REJECT traffic only" in reason and "EC2.6" in reason
    s, reason = status("cloudwatch_flow_log_retention", ids["cwl_only"])
    assert s == "alarm" and "never expires" in reason
    s, reason = status("vpc_audit_copy_s3", ids["cwl_only"])
    assert s == "alarm" and "/flow/forever" in reason
    s, reason = status("s3_flow_log_lifecycle", ids["short"])
    assert s == "alarm" and "expire after 90 days" in reason and "at least 365" in reason
    s, reason = status("vpc_flow_logs_enabled", ids["none"])
    assert s == "alarm" and "no flow log" in reason
    assert status("vpc_flow_logs_enabled", ids["sandbox"])[0] == "skip"
    # moto's new buckets have no encryption and no public access block
    assert status("s3_flow_log_bucket_encryption", "s3://logs-bare")[0] == "alarm"
    assert status("s3_flow_log_bucket_public_access", "s3://logs-bare")[0] == "alarm"
    assert all(row["account"] == ACCOUNT for row in rows if row["vpc"])
    assert all(row["region"] == REGION for row in rows if row["vpc"] in (ids["good"], ids["reject"]))

    r = invoke("posture", "--inventory", tmp_path / "inv", "--design", "-o", "json")
    assert r.exit_code == 1 and no_traceback(r), r.output
    sheet = {row["vpc"]: row for row in json.loads(r.stdout)}
    good = sheet[ids["good"]]
    assert good["class"] == "critical" and [d["type"] for d in good["destinations"]] == ["cloud-watch-logs", "s3"]
    assert [d["retention_days"] for d in good["destinations"]] == [14, 400]
    # its bucket's size was in the snapshot (moto's figure is a few bytes: cost rounds to 0)
    assert not [n for n in good["notes"] if "logs-good" in n]


def test_access_denied_on_one_bucket_loses_only_its_file(boto, proxy, tmp_path):
    _arrange(boto)
    inv = tmp_path / "inv"
    assert invoke("inventory", "sync", "--out", inv).exit_code == 0
    assert (inv / "buckets" / "logs-short" / "lifecycle.json").exists()
    proxy.deny.add("logs-short?lifecycle")
    r = invoke("inventory", "sync", "--out", inv)
    assert r.exit_code == 1 and no_traceback(r), r.output
    warnings = [line for line in r.stderr.splitlines() if line.startswith("flowsql: warning:")]
    assert len(warnings) == 1 and "buckets/logs-short/lifecycle.json not written: access denied" in warnings[0]
    assert r.stderr.strip().splitlines()[-1].startswith("flowsql: error: the posture snapshot")
    # the old file cannot speak for a configuration flowsql could not read; the rest is all there
    assert not (inv / "buckets" / "logs-short" / "lifecycle.json").exists()
    assert (inv / "buckets" / "logs-good" / "lifecycle.json").exists()
    assert json.loads((inv / "flow-logs.json").read_text())["FlowLogs"]


def test_describe_flow_logs_denied_keeps_the_inventory(boto, proxy, aws, tmp_path):
    _arrange(boto)
    sync(aws, tmp_path)
    proxy.deny.add("DescribeFlowLogs")
    synced = sync(aws, tmp_path)
    assert synced["vpcs.json"] >= 6 and "flow-logs.json" not in synced
    assert len(synced.warnings) == 1 and "flow-logs.json not written" in synced.warnings[0]
    assert "access denied (DescribeFlowLogs)" in synced.warnings[0]
    assert not (tmp_path / "flow-logs.json").exists()  # posture then names the missing file


def test_a_flow_log_to_a_missing_group_fails_delivery(boto, aws, tmp_path):
    vpc = _vpc(boto, "10.9.0.0/16", "internal")
    _cwl_flow_log(boto, vpc, "/flow/not-there")  # moto, like EC2, reports FAILED delivery
    synced = sync(aws, tmp_path)
    assert synced["log-groups.json"] == 0 and synced.warnings == []
    r = invoke("posture", "--inventory", tmp_path, "-o", "json")
    rows = {(row["check"], row["vpc"]): row for row in json.loads(r.stdout)}
    assert rows[("vpc_flow_logs_enabled", vpc)]["status"] == "alarm"
    assert "delivery FAILED (Access error)" in rows[("vpc_flow_logs_enabled", vpc)]["reason"]
    assert rows[("cloudwatch_flow_log_retention", vpc)]["status"] == "alarm"


def _tree_state(root) -> dict:
    """Every path under `root` with what it is: a link's target, a file's bytes (links not followed)."""
    import os

    state = {}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            state[rel] = ("link", os.readlink(p)) if os.path.islink(p) else \
                ("dir",) if os.path.isdir(p) else ("file", open(p, "rb").read())
    return state


def test_sync_never_follows_a_link_in_its_folder(boto, aws, tmp_path):
    """Links where sync tidies or writes: a stale bucket folder, a live bucket's folder, a bucket
    file, a dated snapshot folder, an inventory file. Nothing outside --out is deleted or written,
    nothing is written or deleted through a link, and the error names the link (exit 2)."""
    _arrange(boto)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "keep").mkdir(parents=True)
    for name in ("lifecycle.json", "encryption.json", "public-access-block.json", "size-StandardStorage.json",
                 "vpcs.json", "notes.txt"):
        (elsewhere / "keep" / name).write_text(f"the user's own {name}")
    today = datetime.now(timezone.utc).date().isoformat()
    cases = {
        "buckets/old": "keep",  # a stale bucket's folder: the case
        "buckets/logs-good": "keep",  # a bucket sync writes into
        "buckets/logs-bare/lifecycle.json": "keep/lifecycle.json",  # a stale bucket file, replaced or removed
        today: "keep",  # today's dated snapshot folder
        "vpcs.json": "keep/vpcs.json",  # a latest inventory file
    }
    for link, target in cases.items():
        inv = tmp_path / f"inv-{len(link)}-{link.replace('/', '_')}"
        (inv / link).parent.mkdir(parents=True, exist_ok=True)
        (inv / link).symlink_to(elsewhere / target)
        outside = _tree_state(elsewhere)
        r = invoke("inventory", "sync", "--out", inv)
        assert r.exit_code == 2 and no_traceback(r), (link, r.output)
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith("flowsql: error: cannot write the inventory to") and \
            f"{inv / link} is a symbolic link" in line, (link, line)
        assert _tree_state(elsewhere) == outside, link  # nothing outside --out touched
        assert (inv / link).is_symlink() and Path(os.readlink(inv / link)) == elsewhere / target, link
        assert not [p for p in inv.rglob(".*.tmp")], link  # no temporary file left


def test_sync_tidies_only_its_own_files(boto, aws, tmp_path):
    """A stale bucket folder loses the files sync writes and nothing else (the folder stays while it
    holds the user's files)."""
    _arrange(boto)
    old = tmp_path / "buckets" / "old"
    old.mkdir(parents=True)
    for name in ("lifecycle.json", "size-StandardStorage.json", "notes.txt"):
        (old / name).write_text("x")
    (old / "size-Glacier.json").mkdir()  # a folder named like a size file is not sync's
    synced = sync(aws, tmp_path)
    assert synced.warnings == []
    assert sorted(p.name for p in old.iterdir()) == ["notes.txt", "size-Glacier.json"]


def test_sync_writes_the_transit_gateways_and_posture_checks_their_flow_logs(boto, proxy, aws, tmp_path):
    vpc = _vpc(boto, "10.7.0.0/16", "internal")
    subnet = boto.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    tgw = boto.ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
    attachment = boto.ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])["TransitGatewayVpcAttachment"]
    synced = sync(aws, tmp_path)
    assert synced.warnings == []
    gateways = [g for p in boto.ec2.get_paginator("describe_transit_gateways").paginate()
                for g in p["TransitGateways"]]
    attachments = [a for p in boto.ec2.get_paginator("describe_transit_gateway_attachments").paginate()
                   for a in p["TransitGatewayAttachments"]]
    assert tgw in {g["TransitGatewayId"] for g in gateways}
    assert attachment["TransitGatewayAttachmentId"] in {a["TransitGatewayAttachmentId"] for a in attachments}
    assert (tmp_path / "transit-gateways.json").read_text() == _cli({"TransitGateways": gateways})
    assert (tmp_path / "transit-gateway-attachments.json").read_text() == _cli(
        {"TransitGatewayAttachments": attachments})
    assert synced["transit-gateways.json"] == len(gateways)

    r = invoke("posture", "--inventory", tmp_path, "-o", "json")
    assert no_traceback(r), r.output
    rows = {row["resource"]: row for row in json.loads(r.stdout) if row["check"] == "tgw_flow_logs_enabled"}
    assert rows[tgw]["status"] == "alarm" and "no flow log on the transit gateway" in rows[tgw]["reason"]
    assert (rows[tgw]["account"], rows[tgw]["region"]) == (ACCOUNT, REGION)

    # a describe call that fails removes its file (an older one would speak for gateways since gone):
    # the transit gateways are then not synced, never ok
    proxy.deny.add("DescribeTransitGatewayAttachments")
    synced = sync(aws, tmp_path)
    assert len(synced.warnings) == 1 and "transit-gateway-attachments.json not written" in synced.warnings[0]
    assert not (tmp_path / "transit-gateway-attachments.json").exists()
    r = invoke("posture", "--inventory", tmp_path, "-o", "json")
    assert no_traceback(r), r.output
    rows = [row for row in json.loads(r.stdout) if row["check"] == "tgw_flow_logs_enabled"]
    assert [row["status"] for row in rows] == ["skip"] and "not synced" in rows[0]["reason"]
