"""`flowsql posture`: every check on crafted snapshots (ok, alarm, skip), the policy file, the snapshot's
files, the design sheet's cost against hand-computed figures, and the demo's snapshot.

Snapshots are written here as the AWS CLI prints them (docs/posture.md lists the files); each case
builds the smallest snapshot that shows one verdict.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from flowsql import posture
from flowsql.cli import app
from flowsql.errors import UsageError
from flowsql.posture.design import tiered_cost
from flowsql.posture.policy import Tier

ACCOUNT = "111122223333"
REGION = "eu-central-1"
TAKEN = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


# -- building snapshots ------------------------------------------------------------------------

class Snap:
    """A snapshot folder under construction, in the AWS CLI's shapes."""

    def __init__(self, root):
        self.root = root
        self.vpcs, self.subnets, self.enis, self.flow_logs, self.groups = [], [], [], [], []
        self.buckets: dict[str, dict] = {}
        # as today's sync writes them; None: the transit-gateway files are not written (an older snapshot)
        self.tgws: list | None = []
        self.attachments: list | None = []
        self.n = 0

    def _id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n:017x}"

    def vpc(self, data_class: str | None = None, *, subnets: int = 1, name: str | None = None) -> str:
        vpc = self._id("vpc")
        tags = [{"Key": "Name", "Value": name or vpc}]
        if data_class is not None:
            tags.append({"Key": "data-class", "Value": data_class})
        self.vpcs.append({"VpcId": vpc, "OwnerId": ACCOUNT, "CidrBlock": "10.0.0.0/16", "Tags": tags})
        for _ in range(subnets):
            self.subnet(vpc)
        return vpc

    def subnet(self, vpc: str) -> str:
        sn = self._id("subnet")
        self.subnets.append({"SubnetId": sn, "VpcId": vpc, "OwnerId": ACCOUNT, "AvailabilityZone": REGION + "a",
                             "SubnetArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{sn}"})
        return sn

    def eni(self, subnet: str) -> str:
        eni = self._id("eni")
        vpc = next(s["VpcId"] for s in self.subnets if s["SubnetId"] == subnet)
        self.enis.append({"NetworkInterfaceId": eni, "SubnetId": subnet, "VpcId": vpc,
                          "AvailabilityZone": REGION + "a"})
        return eni

    def subnets_of(self, vpc: str) -> list[str]:
        return [s["SubnetId"] for s in self.subnets if s["VpcId"] == vpc]

    def s3_log(self, resource: str, bucket: str, prefix: str = "", *, traffic: str = "ALL", delivery: str = "SUCCESS",
               created_days_ago: int = 1000, hive: bool = False) -> str:
        fl = self._id("fl")
        self.flow_logs.append({
            "CreationTime": (TAKEN - timedelta(days=created_days_ago)).isoformat(), "DeliverLogsStatus": delivery,
            "FlowLogId": fl, "FlowLogStatus": "ACTIVE", "ResourceId": resource, "TrafficType": traffic,
            "LogDestinationType": "s3", "LogDestination": f"arn:aws:s3:::{bucket}" + (f"/{prefix}" if prefix else ""),
            "LogFormat": "${version} ${srcaddr}", "MaxAggregationInterval": 600,
            "DestinationOptions": {"FileFormat": "plain-text", "HiveCompatiblePartitions": hive,
                                   "PerHourPartition": False}})
        return fl

    def cwl_log(self, resource: str, group: str, *, traffic: str = "ALL", delivery: str = "SUCCESS") -> str:
        fl = self._id("fl")
        doc = {"CreationTime": (TAKEN - timedelta(days=100)).isoformat(), "DeliverLogsStatus": delivery,
               "FlowLogId": fl, "FlowLogStatus": "ACTIVE", "ResourceId": resource, "TrafficType": traffic,
               "LogDestinationType": "cloud-watch-logs", "LogGroupName": group,
               "LogDestination": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}",
               "DeliverLogsPermissionArn": f"arn:aws:iam::{ACCOUNT}:role/fl"}
        if delivery == "FAILED":
            doc["DeliverLogsErrorMessage"] = "Access error"
        self.flow_logs.append(doc)
        return fl

    def tgw(self, *, attachments: int = 2, state: str = "available") -> str:
        tgw = self._id("tgw")
        self.tgws = (self.tgws or []) + [{
            "TransitGatewayId": tgw, "TransitGatewayArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:transit-gateway/{tgw}",
            "State": state, "OwnerId": ACCOUNT, "CreationTime": TAKEN.isoformat(), "Tags": []}]
        for _ in range(attachments):
            vpc = self.vpc("internal")
            self.attachments.append({
                "TransitGatewayAttachmentId": self._id("tgw-attach"), "TransitGatewayId": tgw,
                "TransitGatewayOwnerId": ACCOUNT, "ResourceOwnerId": ACCOUNT, "ResourceType": "vpc",
                "ResourceId": vpc, "State": "available", "Association": {"State": "associated"}, "Tags": []})
        return tgw

    def attachments_of(self, tgw: str) -> list[str]:
        return [a["TransitGatewayAttachmentId"] for a in self.attachments if a["TransitGatewayId"] == tgw]

    def tgw_log(self, resource: str, bucket: str = "tgw-logs", *, delivery: str = "SUCCESS") -> str:
        fl = self.s3_log(resource, bucket, delivery=delivery)
        self.flow_logs[-1].pop("TrafficType")  # a transit gateway's flow log has none
        return fl

    def group(self, name: str, retention: int | None, *, stored: int = 0, age_days: float = 100) -> None:
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        g = {"logGroupName": name, "creationTime": int((TAKEN - timedelta(days=age_days)).timestamp() * 1000),
             "metricFilterCount": 0, "arn": arn + ":*", "storedBytes": stored, "logGroupArn": arn}
        if retention is not None:
            g["retentionInDays"] = retention
        self.groups.append(g)

    def bucket(self, name: str, *, lifecycle=None, encryption=None, pab=None, sizes=None) -> None:
        self.buckets[name] = {"lifecycle.json": lifecycle, "encryption.json": encryption,
                              "public-access-block.json": pab,
                              **{f"size-{t}.json": doc for t, doc in (sizes or {}).items()}}

    def good_bucket(self, name: str, expire: int = 400) -> None:
        self.bucket(name, lifecycle=lifecycle(rule(expire=expire)), encryption=encryption("aws:kms"), pab=pab())

    def write(self):
        docs = {"vpcs.json": {"Vpcs": self.vpcs}, "subnets.json": {"Subnets": self.subnets},
                "network-interfaces.json": {"NetworkInterfaces": self.enis},
                "log-groups.json": {"logGroups": self.groups}}
        if self.tgws is not None:
            docs["transit-gateways.json"] = {"TransitGateways": self.tgws}
            docs["transit-gateway-attachments.json"] = {"TransitGatewayAttachments": self.attachments}
        for name, doc in docs.items():
            (self.root / name).write_text(json.dumps(doc, indent=4))
        for bucket, files in self.buckets.items():
            folder = self.root / "buckets" / bucket
            folder.mkdir(parents=True, exist_ok=True)
            for name, doc in files.items():
                if doc is not None:
                    (folder / name).write_text(json.dumps(doc, indent=4))
        (self.root / "flow-logs.json").write_text(json.dumps({"FlowLogs": self.flow_logs}, indent=4))
        os.utime(self.root / "flow-logs.json", (TAKEN.timestamp(), TAKEN.timestamp()))
        return self.root


def rule(*, expire: int | None = 400, archive: str | None = "GLACIER", archive_days: int = 30, prefix="AWSLogs/",
         status="Enabled", legacy=False, **filter_more) -> dict:
    r = {"ID": "flow-logs", "Status": status}
    if legacy:
        r["Prefix"] = prefix
    else:
        r["Filter"] = {"Prefix": prefix, **filter_more} if not filter_more else filter_more
    if archive:
        r["Transitions"] = [{"Days": archive_days, "StorageClass": archive}]
    if expire is not None:
        r["Expiration"] = {"Days": expire}
    return r


def lifecycle(*rules) -> dict:
    return {"Rules": list(rules)}


def encryption(algorithm: str) -> dict:
    default = {"SSEAlgorithm": algorithm}
    if algorithm == "aws:kms":
        default["KMSMasterKeyID"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abcd"
    return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": default,
                                                              "BucketKeyEnabled": True}]}}


def pab(**off) -> dict:
    flags = {f: True for f in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    flags.update(off)
    return {"PublicAccessBlockConfiguration": flags}


def size(*points: tuple[int, float]) -> dict:
    """A get-metric-statistics answer: (days before TAKEN's day, bytes) datapoints, in the given order."""
    day = datetime(TAKEN.year, TAKEN.month, TAKEN.day, tzinfo=timezone.utc)
    return {"Label": "BucketSizeBytes", "Datapoints": [
        {"Timestamp": (day - timedelta(days=d)).isoformat(), "Average": v, "Unit": "Bytes"} for d, v in points]}


def rows_of(root, check: str, policy=None) -> list:
    snap = posture.load_snapshot(root)
    return [r for r in posture.evaluate(snap, posture.load_policy(policy)) if r.check == check]


def one(rows, key):
    found = [r for r in rows if key in (r.vpc, r.resource)]
    assert len(found) == 1, (key, rows)
    return found[0]


# -- every check: ok, alarm, skip ------------------------------------------------------------------
# Each case: (check, id, arrange(snap) -> the VPC or resource the row is about, policy YAML or None,
# status, words the reason must hold).

def _vpc_level(s):
    vpc = s.vpc("critical")
    s.s3_log(vpc, "b")
    return vpc


def _every_subnet(s):
    vpc = s.vpc("internal", subnets=3)
    for sn in s.subnets_of(vpc):
        s.cwl_log(sn, "/g")
    s.group("/g", 14)
    return vpc


def _every_eni(s):
    vpc = s.vpc("internal", subnets=2)
    a, b = s.subnets_of(vpc)
    s.cwl_log(a, "/g")  # a's ENIs through their subnet, b's one by one
    s.cwl_log(s.eni(b), "/g")
    s.eni(a)
    s.group("/g", 14)
    return vpc


def _some_subnets(s):
    vpc = s.vpc("internal", subnets=3)
    s.s3_log(s.subnets_of(vpc)[0], "b")
    return vpc


def _reject_only(s):
    vpc = s.vpc("critical")
    s.s3_log(vpc, "b", traffic="REJECT")
    return vpc


def _failed_delivery(s):
    vpc = s.vpc("internal")
    s.cwl_log(vpc, "/missing", delivery="FAILED")
    return vpc


def _second_log_failing(s):
    vpc = _vpc_level(s)
    s.cwl_log(vpc, "/missing", delivery="FAILED")
    return vpc


def _no_logs(tag):
    def arrange(s):
        return s.vpc(tag)
    return arrange


def _cwl_only(tag, retention=14):
    def arrange(s):
        vpc = s.vpc(tag)
        s.cwl_log(vpc, "/g")
        s.group("/g", retention)
        return vpc
    return arrange


def _both(tag):
    def arrange(s):
        vpc = _cwl_only(tag)(s)
        s.s3_log(vpc, "b")
        return vpc
    return arrange


def _group(retention, tag="internal", create=True):
    def arrange(s):
        vpc = s.vpc(tag)
        s.cwl_log(vpc, "/flow/x")
        if create:
            s.group("/flow/x", retention)
        return "/flow/x"
    return arrange


def _s3(tag="critical", prefix="", **bucket):
    def arrange(s):
        vpc = s.vpc(tag)
        s.s3_log(vpc, "b", prefix)
        s.bucket("b", **bucket)
        return vpc
    return arrange


def _bucket_resource(tag="internal", **bucket):
    def arrange(s):
        _s3(tag, **bucket)(s)
        return "s3://b"
    return arrange


def _tgw_logged(s):
    tgw = s.tgw()
    s.tgw_log(tgw)
    return tgw


def _tgw_every_attachment(s):
    tgw = s.tgw(attachments=3)
    for a in s.attachments_of(tgw):
        s.tgw_log(a)
    return tgw


def _tgw_some_attachments(s):
    tgw = s.tgw(attachments=3)
    s.tgw_log(s.attachments_of(tgw)[0])
    return tgw


def _tgw_failing(s):
    tgw = s.tgw()
    s.tgw_log(tgw, delivery="FAILED")
    return tgw


def _tgw_attachment(logged: bool):
    def arrange(s):
        tgw = s.tgw()
        s.tgw_log(tgw)  # the transit gateway's own log: not the attachment's
        first = s.attachments_of(tgw)[0]
        if logged:
            s.tgw_log(first)
        return first
    return arrange


def _tgw_shared(s):
    tgw = s.tgw(attachments=1)
    s.tgws[-1]["OwnerId"] = "444455556666"  # shared with this account through AWS RAM
    return tgw


def _tgw_not_synced(s):
    s.vpc("internal")
    s.tgws = s.attachments = None  # an older snapshot: no transit-gateway files at all
    return "transit gateways"


CASES = [
    ("tgw_flow_logs_enabled", "tgw-level", _tgw_logged, None, "ok", "logged on the transit gateway"),
    ("tgw_flow_logs_enabled", "every-attachment", _tgw_every_attachment, None, "ok", "on every attachment (3)"),
    ("tgw_flow_logs_enabled", "none", lambda s: s.tgw(), None, "alarm", "no flow log on the transit gateway"),
    ("tgw_flow_logs_enabled", "some-attachments", _tgw_some_attachments, None, "alarm", "on 1 of 3 attachments"),
    ("tgw_flow_logs_enabled", "failed", _tgw_failing, None, "alarm", "delivery FAILED"),
    ("tgw_flow_logs_enabled", "not-required", lambda s: s.tgw(), "transit_gateways: {require_flow_logs: false}",
     "skip", "does not require"),
    ("tgw_flow_logs_enabled", "not-synced", _tgw_not_synced, None, "skip", "transit gateways not synced"),
    ("tgw_flow_logs_enabled", "shared-from-another-account", _tgw_shared, None, "skip",
     "owned by account 444455556666 and shared"),
    ("tgw_flow_logs_enabled", "attachment-own", _tgw_attachment(True), "transit_gateways: {attachment_flow_logs: true}",
     "ok", "logged on the attachment"),
    ("tgw_flow_logs_enabled", "attachment-tgw-only", _tgw_attachment(False),
     "transit_gateways: {attachment_flow_logs: true}", "alarm", "no flow log on the attachment"),
    ("vpc_flow_logs_enabled", "vpc-level", _vpc_level, None, "ok", "at VPC level"),
    ("vpc_flow_logs_enabled", "every-subnet", _every_subnet, None, "ok", "on every subnet (3)"),
    ("vpc_flow_logs_enabled", "every-eni", _every_eni, None, "ok", "on every ENI (2)"),
    ("vpc_flow_logs_enabled", "none", _no_logs("production"), None, "alarm", "no flow log"),
    ("vpc_flow_logs_enabled", "untagged-none", _no_logs(None), None, "alarm", "no flow log"),
    ("vpc_flow_logs_enabled", "reject-only", _reject_only, None, "alarm", "REJECT traffic only: accepted traffic"),
    ("vpc_flow_logs_enabled", "reject-only-stricter", _reject_only, None, "alarm", "EC2.6 passes"),
    ("vpc_flow_logs_enabled", "some-subnets", _some_subnets, None, "alarm", "on 1 of 3 subnets"),
    ("vpc_flow_logs_enabled", "failed", _failed_delivery, None, "alarm", "delivery FAILED (Access error)"),
    ("vpc_flow_logs_enabled", "second-failing", _second_log_failing, None, "alarm", "but fl-"),
    ("vpc_flow_logs_enabled", "sandbox", _no_logs("sandbox"), None, "skip", "exempt"),
    ("vpc_flow_logs_enabled", "own-exempt-class", _no_logs("lab"), "data_class: {exempt: [lab]}", "skip", "lab"),
    ("vpc_data_class", "tagged", _no_logs("production"), None, "ok", "data-class=production"),
    ("vpc_data_class", "any-case", _no_logs(" Critical"), None, "ok", "Critical"),
    ("vpc_data_class", "untagged", _no_logs(None), None, "info", "treated as internal"),
    ("vpc_data_class", "unknown", _no_logs("prod"), None, "alarm", "prod is no class of the policy"),
    ("vpc_data_class", "own-tag-key", _no_logs(None), "data_class: {tag_key: Tier, default: critical}", "info",
     "no Tier tag: treated as critical"),
    ("vpc_audit_copy_s3", "s3", _both("production"), None, "ok", "ALL traffic to S3 at VPC level: s3://b/"),
    ("vpc_audit_copy_s3", "cwl-only-production", _cwl_only("production"), None, "alarm",
     "production needs an S3 copy"),
    ("vpc_audit_copy_s3", "cwl-only-critical", _cwl_only("critical"), None, "alarm", "go only to cloud-watch-logs /g"),
    ("vpc_audit_copy_s3", "reject-only-s3", _reject_only, None, "alarm", "do not log all of its traffic"),
    ("vpc_audit_copy_s3", "cwl-only-internal", _cwl_only("internal"), None, "ok", "needs no S3 copy"),
    ("vpc_audit_copy_s3", "internal-needs-s3", _cwl_only("internal"),
     "data_class: {classes: {internal: {s3_copy: true}}}", "alarm", "internal needs an S3 copy"),
    ("vpc_audit_copy_s3", "sandbox", _cwl_only("sandbox"), None, "skip", "exempt"),
    ("cloudwatch_flow_log_retention", "14-days", _group(14), None, "ok", "kept 14 days (at most 30)"),
    ("cloudwatch_flow_log_retention", "never", _group(None), None, "alarm", "never expires"),
    ("cloudwatch_flow_log_retention", "never-stricter", _group(None), None, "alarm", "CloudWatch.16 passes"),
    ("cloudwatch_flow_log_retention", "too-long", _group(90), None, "alarm", "kept 90 days, more than the policy's 30"),
    ("cloudwatch_flow_log_retention", "policy-90", _group(90), "cloudwatch_logs: {max_retention_days: 90}", "ok",
     "at most 90"),
    ("cloudwatch_flow_log_retention", "missing", _group(14, create=False), None, "alarm", "not in log-groups.json"),
    ("cloudwatch_flow_log_retention", "sandbox", _group(None, tag="sandbox"), None, "skip", "exempt"),
    ("s3_flow_log_lifecycle", "ok", _s3(lifecycle=lifecycle(rule(expire=400))), None, "ok",
     "to GLACIER after 30 days, expire after 400 days"),
    ("s3_flow_log_lifecycle", "critical-90", _s3(lifecycle=lifecycle(rule(expire=90))), None, "alarm",
     "expire after 90 days; data class critical needs at least 365"),
    ("s3_flow_log_lifecycle", "production-180", _s3("production", lifecycle=lifecycle(rule(expire=180))), None,
     "ok", "at least 180"),
    ("s3_flow_log_lifecycle", "internal-90", _s3("internal", lifecycle=lifecycle(rule(expire=90))), None, "ok",
     "at least 90"),
    ("s3_flow_log_lifecycle", "no-configuration", _s3(), None, "alarm", "no lifecycle configuration"),
    ("s3_flow_log_lifecycle", "no-expiry", _s3(lifecycle=lifecycle(rule(expire=None))), None, "alarm",
     "never expire"),
    ("s3_flow_log_lifecycle", "no-archive", _s3(lifecycle=lifecycle(rule(archive=None))), None, "alarm",
     "not moved to an archive class"),
    ("s3_flow_log_lifecycle", "standard-ia-is-no-archive", _s3(lifecycle=lifecycle(rule(archive="STANDARD_IA"))),
     None, "alarm", "not moved to an archive class"),
    ("s3_flow_log_lifecycle", "deep-archive", _s3(lifecycle=lifecycle(rule(archive="DEEP_ARCHIVE"))), None, "ok",
     "to DEEP_ARCHIVE"),
    ("s3_flow_log_lifecycle", "other-prefix", _s3(lifecycle=lifecycle(rule(prefix="alb/"))), None, "alarm",
     "no enabled lifecycle rule covers AWSLogs/111122223333/vpcflowlogs/eu-central-1/"),
    ("s3_flow_log_lifecycle", "bucket-prefix", _s3(prefix="org/acme", lifecycle=lifecycle(rule(prefix="org/"))),
     None, "ok", "expire after 400 days"),
    ("s3_flow_log_lifecycle", "account-prefix", _s3(lifecycle=lifecycle(rule(prefix=f"AWSLogs/{ACCOUNT}/"))), None,
     "ok", "expire after 400"),
    ("s3_flow_log_lifecycle", "legacy-prefix", _s3(lifecycle=lifecycle(rule(legacy=True, prefix=""))), None, "ok",
     "expire after 400"),
    ("s3_flow_log_lifecycle", "disabled", _s3(lifecycle=lifecycle(rule(status="Disabled"))), None, "alarm",
     "no enabled lifecycle rule"),
    ("s3_flow_log_lifecycle", "tag-filter", _s3(lifecycle=lifecycle(rule(Tag={"Key": "k", "Value": "v"}))), None,
     "alarm", "no enabled lifecycle rule"),
    ("s3_flow_log_lifecycle", "earliest-expiry-wins",
     _s3(lifecycle=lifecycle(rule(expire=400), {"ID": "x", "Status": "Enabled", "Filter": {},
                                                "Expiration": {"Days": 100}})), None, "alarm", "after 100 days"),
    ("s3_flow_log_lifecycle", "archived-after-expiry", _s3(lifecycle=lifecycle(rule(expire=400, archive_days=400))),
     None, "alarm", "not moved to an archive class"),
    ("s3_flow_log_lifecycle", "sandbox", _s3("sandbox"), None, "skip", "exempt"),
    ("s3_flow_log_bucket_encryption", "kms", _bucket_resource(encryption=encryption("aws:kms")), None, "ok",
     "aws:kms"),
    ("s3_flow_log_bucket_encryption", "sse-s3", _bucket_resource(encryption=encryption("AES256")), None, "ok",
     "S3.17 asks for SSE-KMS"),
    ("s3_flow_log_bucket_encryption", "none", _bucket_resource(), None, "alarm", "no default encryption"),
    ("s3_flow_log_bucket_encryption", "kms-required", _bucket_resource(encryption=encryption("AES256")),
     "s3: {require_sse_kms: true}", "alarm", "requires SSE-KMS"),
    ("s3_flow_log_bucket_encryption", "sandbox", _bucket_resource("sandbox"), None, "skip", "exempt"),
    ("s3_flow_log_bucket_public_access", "on", _bucket_resource(pab=pab()), None, "ok", "all four"),
    ("s3_flow_log_bucket_public_access", "none", _bucket_resource(), None, "alarm", "no Block Public Access"),
    ("s3_flow_log_bucket_public_access", "one-off", _bucket_resource(pab=pab(BlockPublicPolicy=False)), None, "alarm",
     "not on: BlockPublicPolicy"),
    ("s3_flow_log_bucket_public_access", "sandbox", _bucket_resource("sandbox"), None, "skip", "exempt"),
]


@pytest.mark.parametrize("check, name, arrange, policy, status, words", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_check(tmp_path, check, name, arrange, policy, status, words):
    s = Snap(tmp_path)
    key = arrange(s)
    policy_file = None
    if policy:
        policy_file = tmp_path / "policy.yaml"
        policy_file.write_text(policy)
    row = one(rows_of(s.write(), check, policy_file), key)
    assert (row.status, row.check) == (status, check), row
    assert words in row.reason, row.reason
    if row.vpc:
        assert (row.account, row.region) == (ACCOUNT, REGION)


def test_every_check_has_ok_alarm_and_skip_cases():
    covered = {}
    for check, _, _, _, status, _ in CASES:
        covered.setdefault(check, set()).add(status)
    assert set(covered) == {c.id for c in posture.all_checks()}  # a new check comes with its cases
    for check, statuses in covered.items():
        assert {"ok", "alarm"} <= statuses, check
        assert "skip" in statuses or check == "vpc_data_class", check


def test_check_metadata():
    metas = posture.all_checks()
    assert [m.id for m in metas] == sorted(m.id for m in metas)
    by = {m.id: m for m in metas}
    assert {"CIS-1.4:3.9", "CIS-3.0:3.7", "CIS-5.0:3.7", "AWS-FSBP:EC2.6"} <= set(by["vpc_flow_logs_enabled"].compliance)
    assert by["cloudwatch_flow_log_retention"].compliance == ("AWS-FSBP:CloudWatch.16",)
    assert by["s3_flow_log_lifecycle"].compliance == ("AWS-FSBP:S3.13",)
    assert by["s3_flow_log_bucket_public_access"].compliance == ("AWS-FSBP:S3.8",)
    assert by["s3_flow_log_bucket_encryption"].compliance == ("AWS-FSBP:S3.17",)
    for m in metas:
        assert m.title and m.why and m.remediation and m.severity in posture.SEVERITIES and m.iam_actions


def test_rows_are_sorted_and_of_one_shape(tmp_path):
    s = Snap(tmp_path)
    for tag in ("critical", "internal", None, "sandbox"):
        _cwl_only(tag)(s) if tag != "sandbox" else s.vpc(tag)
    rows = posture.evaluate(posture.load_snapshot(s.write()), posture.load_policy())
    keys = [(r.check, r.account or "", r.region or "", r.vpc or "", r.resource) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(isinstance(r, posture.CheckResult) and r.status in posture.STATUSES for r in rows)
    assert list(rows[0].as_dict()) == list(posture.COLUMNS)


# -- the acceptance snapshot, through the CLI ------------------------------------------------------

def _acceptance(tmp_path):
    s = Snap(tmp_path)
    ids = {}
    ids["compliant"] = s.vpc("critical", name="compliant")
    s.s3_log(ids["compliant"], "good")
    s.good_bucket("good")
    s.cwl_log(ids["compliant"], "/flow/compliant")
    s.group("/flow/compliant", 14)
    ids["none"] = s.vpc("internal", name="no-flow-logs")
    ids["reject"] = s.vpc("internal", name="reject-only")
    s.s3_log(ids["reject"], "good", traffic="REJECT")
    ids["forever"] = s.vpc("internal", name="never-expires")
    s.cwl_log(ids["forever"], "/flow/forever")
    s.group("/flow/forever", None)
    ids["cwl_prod"] = s.vpc("production", name="prod-cwl-only")
    s.cwl_log(ids["cwl_prod"], "/flow/prod")
    s.group("/flow/prod", 7)
    ids["short"] = s.vpc("critical", name="critical-90-days")
    s.s3_log(ids["short"], "short")
    s.bucket("short", lifecycle=lifecycle(rule(expire=90)), encryption=encryption("aws:kms"), pab=pab())
    ids["sandbox"] = s.vpc("sandbox", name="sandbox")
    return s.write(), ids


def test_acceptance_alarms_and_exit_1(tmp_path):
    root, ids = _acceptance(tmp_path)
    r = invoke("posture", "--inventory", root, "-o", "json")
    assert r.exit_code == 1, r.output
    rows = json.loads(r.stdout)
    assert [list(row) for row in rows] == [list(posture.COLUMNS)] * len(rows)
    alarms = {(row["check"], row["vpc"]) for row in rows if row["status"] == "alarm"}
    assert alarms == {
        ("vpc_flow_logs_enabled", ids["none"]),
        ("vpc_flow_logs_enabled", ids["reject"]),
        ("cloudwatch_flow_log_retention", ids["forever"]),
        ("vpc_audit_copy_s3", ids["cwl_prod"]),
        ("s3_flow_log_lifecycle", ids["short"]),
    }
    assert not [row for row in rows if row["vpc"] == ids["compliant"] and row["status"] != "ok"]
    assert {row["status"] for row in rows if row["vpc"] == ids["sandbox"]} == {"skip", "ok"}  # ok: its tag
    assert "posture: " in r.stderr and "5 alarm" in r.stderr


def test_output_formats(tmp_path):
    root, ids = _acceptance(tmp_path)
    r = invoke("posture", "--inventory", root, "-o", "csv")
    assert r.exit_code == 1 and r.stdout.splitlines()[0] == ",".join(f'"{c}"' for c in posture.COLUMNS)
    r = invoke("posture", "--inventory", root)
    assert r.exit_code == 1
    assert "Posture checks" in r.stdout and "Design sheet" in r.stdout and "critical-90-days" in r.stdout
    r = invoke("posture", "--inventory", root, "--design", "-o", "json")
    sheet = json.loads(r.stdout)
    assert r.exit_code == 1 and {row["vpc"] for row in sheet} == set(ids.values())
    r = invoke("posture", "--inventory", root, "--design", "-o", "csv")
    assert r.stdout.splitlines()[0].startswith('"vpc","name","account","region","class",')


def test_no_alarm_exits_0(tmp_path):
    s = Snap(tmp_path)
    vpc = s.vpc("critical")
    s.s3_log(vpc, "good")
    s.good_bucket("good")
    r = invoke("posture", "--inventory", s.write(), "-o", "json")
    assert r.exit_code == 0, r.output
    assert {row["status"] for row in json.loads(r.stdout)} == {"ok"}


# -- the policy file -------------------------------------------------------------------------------

def test_show_policy_prints_the_defaults_with_their_sources():
    r = invoke("posture", "--show-policy")
    assert r.exit_code == 0
    assert "SECONDARY SOURCES" in r.stdout and "tag_key: data-class" in r.stdout
    p = posture.load_policy()
    assert (p.tag_key, p.default_class, p.exempt_classes) == ("data-class", "internal", ("sandbox",))
    assert {n: (c.s3_copy, c.s3_min_days) for n, c in p.classes.items()} == {
        "internal": (False, 90), "production": (True, 180), "critical": (True, 365)}
    assert p.cloudwatch_max_retention_days == 30


def test_a_policy_file_is_merged_over_the_defaults(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("data_class:\n  classes:\n    critical: {s3_min_days: 730}\n    pci: {s3_copy: true, s3_min_days: 400}\n"
                 "prices:\n  s3_storage_gb_month: {StandardIAStorage: 0.0125}\n")
    p = posture.load_policy(f)
    assert p.classes["critical"].s3_min_days == 730 and p.classes["critical"].s3_copy
    assert p.classes["pci"].s3_min_days == 400 and p.classes["production"].s3_min_days == 180
    assert p.prices.s3_storage_gb_month["StandardIAStorage"] == 0.0125
    assert p.prices.s3_storage_gb_month["StandardStorage"] == 0.023
    r = invoke("posture", "--show-policy", "--policy", f)
    assert r.exit_code == 0 and "s3_min_days: 730" in r.stdout and "pci:" in r.stdout


@pytest.mark.parametrize("text, words", [
    ("data_class: {tag_kye: x}", "unknown key data_class.tag_kye"),
    ("retention: 5", "unknown key retention"),
    ("data_class: {classes: {critical: {s3_min_dayz: 5}}}", "unknown key data_class.classes.critical.s3_min_dayz"),
    ("data_class: {classes: {critical: {s3_min_days: ten}}}", "data_class.classes.critical.s3_min_days must be"),
    ("data_class: {classes: {critical: {s3_min_days: 0}}}", "data_class.classes.critical.s3_min_days must be"),
    ("data_class: {classes: {pci: {s3_copy: true}}}", "data_class.classes.pci.s3_min_days is missing"),
    ("data_class: {classes: {critical: {s3_copy: yes please}}}", "data_class.classes.critical.s3_copy must be true"),
    ("data_class: {default: secret}", "data_class.default 'secret' is no class"),
    ("data_class: {exempt: [critical]}", "data_class.exempt names a class that has rules too: critical"),
    ("data_class: {exempt: sandbox}", "data_class.exempt must be a list"),
    ("cloudwatch_logs: {max_retention_days: -1}", "cloudwatch_logs.max_retention_days must be"),
    ("s3: {archive_storage_classes: []}", "s3.archive_storage_classes must be"),
    ("prices: {cloudwatch_logs_storage_gb_month: -0.1}", "prices.cloudwatch_logs_storage_gb_month must be a price"),
    ("prices: {vended_logs_to_s3: [{up_to_gb: 10, usd_per_gb: 1}, {up_to_gb: 5, usd_per_gb: 1},"
     " {up_to_gb: null, usd_per_gb: 1}]}", "prices.vended_logs_to_s3[1].up_to_gb"),
    ("prices: {vended_logs_to_s3: [{up_to_gb: 10, usd_per_gb: 1}]}", "must be null in the last tier"),
    ("prices: {bytes_per_gb: 1024}", "prices.bytes_per_gb"),
    ("- a list", "expected a mapping"),
    ("data_class: {classes: [", "not valid YAML at line 1"),
    # numbers out of their range: YAML's NaN and infinities, a retention CloudWatch Logs cannot keep, numbers
    # too long for Python to convert or too large for a float
    ("prices: {cloudwatch_logs_storage_gb_month: .nan}", "prices.cloudwatch_logs_storage_gb_month must be a price"),
    ("prices: {cloudwatch_logs_storage_gb_month: .inf}", "prices.cloudwatch_logs_storage_gb_month must be a price"),
    ("prices: {cloudwatch_logs_storage_gb_month: 1.0e+400}", "prices.cloudwatch_logs_storage_gb_month must be"),
    ("prices: {cloudwatch_logs_storage_gb_month: " + "9" * 4000 + "}", "must be a price (a number from 0 to"),
    ("prices: {s3_storage_gb_month: {StandardStorage: -.inf}}", "prices.s3_storage_gb_month.StandardStorage must be"),
    ("prices: {vended_logs_to_s3: [{up_to_gb: .nan, usd_per_gb: 1}, {up_to_gb: null, usd_per_gb: 1}]}",
     "prices.vended_logs_to_s3[0].up_to_gb must be"),
    ("prices: {vended_logs_to_s3: [{up_to_gb: .inf, usd_per_gb: 1}, {up_to_gb: null, usd_per_gb: 1}]}",
     "prices.vended_logs_to_s3[0].up_to_gb must be"),
    ("prices: {vended_logs_to_s3: [{up_to_gb: 10, usd_per_gb: .nan}, {up_to_gb: null, usd_per_gb: 1}]}",
     "prices.vended_logs_to_s3[0].usd_per_gb must be a price"),
    ("prices: {bytes_per_gb: .nan}", "prices.bytes_per_gb"),
    ("cloudwatch_logs: {max_retention_days: 5000}", "cloudwatch_logs.max_retention_days must be a whole number of "
                                                    "days from 1 to 3653"),
    ("cloudwatch_logs: {max_retention_days: " + "9" * 5000 + "}", "a number of more than 4,300 digits"),
    ("data_class: {classes: {critical: {s3_min_days: " + "9" * 5000 + "}}}", "a number of more than 4,300 digits"),
    ("[" * 200_000, "not valid YAML"),
])
def test_bad_policy_files_are_exit_2_naming_the_key(tmp_path, text, words):
    f = tmp_path / "policy.yaml"
    f.write_text(text)
    s = Snap(tmp_path / "snap")
    (tmp_path / "snap").mkdir()
    s.write()
    r = invoke("posture", "--inventory", tmp_path / "snap", "--policy", f)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"flowsql: error: policy {f}: ") and words in lines[0], lines


def test_missing_policy_file(tmp_path):
    r = invoke("posture", "--inventory", tmp_path, "--policy", tmp_path / "nope.yaml")
    assert r.exit_code == 2 and "nope.yaml: no such file" in r.stderr


# -- the snapshot's files ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["flow-logs.json", "log-groups.json", "vpcs.json", "subnets.json",
                                  "network-interfaces.json"])
def test_a_missing_snapshot_file_is_exit_2_naming_it(tmp_path, name):
    s = Snap(tmp_path)
    _vpc_level(s)
    s.write()
    (tmp_path / name).unlink()
    r = invoke("posture", "--inventory", tmp_path)
    assert r.exit_code == 2 and str(tmp_path / name) in r.stderr and "missing" in r.stderr, r.output
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("rel, content, words", [
    ("flow-logs.json", "{not json", "not JSON"),
    ("flow-logs.json", "", "empty"),
    ("flow-logs.json", '{"FlowLogs": {}}', "FlowLogs must be a list"),
    ("flow-logs.json", '{"Flowlogs": []}', "FlowLogs is missing"),
    ("flow-logs.json", '{"FlowLogs": [{"FlowLogId": "fl-1", "ResourceId": "vpc-1", "TrafficType": 3}]}',
     "FlowLogs[0].TrafficType must be a string"),
    ("flow-logs.json", '{"FlowLogs": [{"FlowLogId": "fl-1", "ResourceId": "vpc-1", "CreationTime": "yesterday"}]}',
     "FlowLogs[0].CreationTime must be an ISO 8601 time"),
    ("log-groups.json", '{"logGroups": [{"logGroupName": "/g", "retentionInDays": "30"}]}',
     "logGroups[0].retentionInDays must be a whole number"),
    ("vpcs.json", '{"Vpcs": [{"OwnerId": "1"}]}', "Vpcs[0].VpcId is missing"),
    ("transit-gateways.json", '{"TransitGateways": [{"TransitGatewayId": "tgw-1", "State": 1}]}',
     "TransitGateways[0].State must be a string, not 1, in the item with TransitGatewayId tgw-1"),
    ("transit-gateway-attachments.json",
     '{"TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "tgw-attach-1"}]}',
     "TransitGatewayAttachments[0].TransitGatewayId is missing"),
    ("transit-gateway-attachments.json", '', "empty"),
    ("buckets/b/lifecycle.json", '{"Rules": [{"ID": "x"}]}', "Rules[0].Status is missing"),
    ("buckets/b/encryption.json", '{"ServerSideEncryptionConfiguration": {}}', "Rules is missing"),
    ("buckets/b/public-access-block.json", '{"PublicAccessBlockConfiguration": {"BlockPublicAcls": "yes"}}',
     "BlockPublicAcls must be true or false"),
    ("buckets/b/size-StandardStorage.json", '{"Datapoints": [{"Timestamp": "2026-11-01T00:00:00Z"}]}',
     "Datapoints[0].Average is missing"),
    ("buckets/b/size-Standard Storage.json", '{"Datapoints": []}', "not a storage type"),
])
def test_a_malformed_snapshot_file_is_exit_2_naming_it(tmp_path, rel, content, words):
    s = Snap(tmp_path)
    _vpc_level(s)
    s.write()
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    r = invoke("posture", "--inventory", tmp_path)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0], lines


# -- hostile snapshots: numbers out of AWS's ranges, files that are no regular file, deep or huge JSON ------

def _groups(doc, **values):
    doc["logGroups"][0].update(values)


def _expire(doc, days):
    doc["Rules"][0]["Expiration"]["Days"] = days


def _transition(doc, days):
    doc["Rules"][0]["Transitions"][0]["Days"] = days


def _average(doc, value):
    doc["Datapoints"][0]["Average"] = value


@pytest.mark.parametrize("rel, change, words", [
    # CloudWatch Logs keeps a group 1, 3, 5, … or 3653 days, or for ever (no retentionInDays)
    ("log-groups.json", lambda d: _groups(d, retentionInDays=0), "logGroups[0].retentionInDays is 0, not one of"),
    ("log-groups.json", lambda d: _groups(d, retentionInDays=-7), "logGroups[0].retentionInDays is -7"),
    ("log-groups.json", lambda d: _groups(d, retentionInDays=10), "logGroups[0].retentionInDays is 10"),
    ("log-groups.json", lambda d: _groups(d, retentionInDays=10**30), "retentionInDays is a 31-digit number"),
    ("log-groups.json", lambda d: _groups(d, storedBytes=-1), "logGroups[0].storedBytes is -1, not a byte count"),
    ("log-groups.json", lambda d: _groups(d, storedBytes=2**63), "logGroups[0].storedBytes is 9223372036854775808"),
    ("log-groups.json", lambda d: _groups(d, creationTime=10**30), "logGroups[0].creationTime is a 31-digit number"),
    ("log-groups.json", lambda d: _groups(d, creationTime=-1), "logGroups[0].creationTime is -1, not milliseconds"),
    ("log-groups.json", lambda d: _groups(d, storedBytes=1.5), "logGroups[0].storedBytes must be a whole number"),
    # S3: an expiry is at least 1 day after creation, a transition at least 0; an object size is not negative
    ("buckets/b/lifecycle.json", lambda d: _expire(d, 0), "Rules[0].Expiration.Days is 0, not a number of days"),
    ("buckets/b/lifecycle.json", lambda d: _expire(d, -30), "Rules[0].Expiration.Days is -30"),
    ("buckets/b/lifecycle.json", lambda d: _expire(d, 2**31), "Rules[0].Expiration.Days is 2147483648"),
    ("buckets/b/lifecycle.json", lambda d: _transition(d, -1), "Rules[0].Transitions[0].Days is -1"),
    ("buckets/b/lifecycle.json", lambda d: d["Rules"][0]["Filter"].update(ObjectSizeGreaterThan=-1),
     "Rules[0].Filter.ObjectSizeGreaterThan is -1"),
    # BucketSizeBytes: bytes, never negative, never beyond the 2^360 CloudWatch takes
    ("buckets/b/size-StandardStorage.json", lambda d: _average(d, -5.0), "Datapoints[0].Average is -5.0"),
    ("buckets/b/size-StandardStorage.json", lambda d: _average(d, 1e300), "Datapoints[0].Average is 1e+300"),
    ("buckets/b/size-StandardStorage.json", lambda d: _average(d, 10**200), "Datapoints[0].Average is a 201-digit"),
])
def test_a_snapshot_number_out_of_its_aws_range_is_exit_2_naming_the_file_the_item_and_the_field(
        tmp_path, rel, change, words):
    """Values taken at face value passed a 0-day retention as "kept 0 days" (and --design divided by
    it), priced negative bytes as negative dollars, and failed on 10**30 with an internal error."""
    s = _sized(tmp_path)
    path = tmp_path / rel
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    for args in ((), ("--design", "-o", "json")):
        r = invoke("posture", "--inventory", tmp_path, *args)
        assert r.exit_code == 2 and r.stdout == "", r.output
        [line] = r.stderr.strip().splitlines()
        assert line.startswith(f"flowsql: error: {path}: ") and words in line, line
        assert f"in the item with {_item_of(s, rel)}" in line, line


def _sized(root):
    """A VPC logging to a CloudWatch group and to a bucket with a lifecycle and a size: every number
    the checks and the design sheet read is there."""
    root.mkdir(parents=True, exist_ok=True)
    s = Snap(root)
    vpc = s.vpc("critical")
    s.cwl_log(vpc, "/flow/a")
    s.group("/flow/a", 14, stored=7 * GIB, age_days=100)
    s.s3_log(vpc, "b")
    s.bucket("b", lifecycle=lifecycle(rule(expire=400)), encryption=encryption("aws:kms"), pab=pab(),
             sizes={"StandardStorage": size((1, 10 * GIB))})
    # what the inventory needs too (a report reads the same folder as its inventory)
    for v in s.vpcs:
        v["CidrBlockAssociationSet"] = [{"CidrBlock": v["CidrBlock"]}]
    for sn in s.subnets:
        sn["CidrBlock"] = "10.0.0.0/24"
    s.write()
    return s


def _item_of(s, rel):
    if rel == "log-groups.json":
        return "logGroupName /flow/a"
    if rel.endswith("lifecycle.json"):
        return "ID flow-logs"
    day = datetime(TAKEN.year, TAKEN.month, TAKEN.day, tzinfo=timezone.utc) - timedelta(days=1)
    return f"Timestamp {day.isoformat()}"


@pytest.mark.parametrize("rel, old, new", [
    ("buckets/b/size-StandardStorage.json", '"Average": 10737418240', '"Average": NaN'),
    ("buckets/b/size-StandardStorage.json", '"Average": 10737418240', '"Average": Infinity'),
    ("buckets/b/size-StandardStorage.json", '"Average": 10737418240', '"Average": -Infinity'),
    ("buckets/b/size-StandardStorage.json", '"Average": 10737418240', '"Average": 1e400'),
    ("log-groups.json", '"storedBytes": 7516192768', '"storedBytes": NaN'),
    ("buckets/b/lifecycle.json", '"Days": 400', '"Days": Infinity'),
])
def test_nan_and_infinity_in_a_snapshot_file_are_exit_2_and_never_reach_the_output(tmp_path, rel, old, new):
    """Python's json reads NaN and Infinity, which no JSON parser takes: they reached --design's
    JSON (and report.json) as NaN."""
    _sized(tmp_path)
    path = tmp_path / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    r = invoke("posture", "--inventory", tmp_path, "--design", "-o", "json")
    assert r.exit_code == 2 and r.stdout == "", r.output
    [line] = r.stderr.strip().splitlines()
    assert line.startswith(f"flowsql: error: {path}: ") and ("no JSON number" in line or "beyond" in line), line


def _month_of_logs(root):
    """A flow-log file on each day of March 2026: a month a report can cover."""
    from datetime import date

    from trees import record, write_log

    for day in range(1, 32):
        write_log(root, "a.log.gz", [record()], day=date(2026, 3, day))


def test_a_report_over_a_snapshot_with_nan_is_exit_2_and_writes_nothing(tmp_path):
    _sized(tmp_path / "inv")
    path = tmp_path / "inv" / "buckets" / "b" / "size-StandardStorage.json"
    path.write_text(path.read_text().replace('"Average": 10737418240', '"Average": NaN'))
    _month_of_logs(tmp_path / "logs")
    r = invoke("report", "--month", "2026-03", "--engine", "local", "--source", tmp_path / "logs",
               "--inventory", tmp_path / "inv", "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert str(path) in r.stderr and "NaN is no JSON number" in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_design_sheet_is_strict_json(tmp_path):
    """Every number the sheet prints is finite: a strict parser reads it."""
    _sized(tmp_path)
    r = invoke("posture", "--inventory", tmp_path, "--design", "-o", "json")
    assert r.exit_code == 0, r.output

    def refuse(name):
        raise ValueError(name)

    [row] = json.loads(r.stdout, parse_constant=refuse)
    assert row["est_monthly_usd"] > 0


SNAPSHOT_FILES = ["flow-logs.json", "log-groups.json", "vpcs.json", "subnets.json", "network-interfaces.json",
                  "buckets/b/lifecycle.json", "buckets/b/encryption.json", "buckets/b/public-access-block.json",
                  "buckets/b/size-StandardStorage.json"]


def _special(path, kind):
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:  # a link to nothing
        path.symlink_to(path.parent / "gone.json")


def _flowsql(*args, timeout=60):
    """The CLI in its own process, so that a read that blocks (a pipe) fails the test instead of
    hanging it; the timeout is a hang guard, not a timing assertion."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "flowsql", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("rel", SNAPSHOT_FILES)
def test_a_snapshot_file_that_is_a_named_pipe_is_exit_2_naming_it_at_once(tmp_path, rel):
    """A pipe as size-StandardStorage.json hung posture and report for ever; as lifecycle.json it
    read as "no configuration" (false alarms); as a top-level file it was "missing"."""
    _sized(tmp_path)
    path = tmp_path / rel
    _special(path, "fifo")
    r = _flowsql("posture", "--inventory", tmp_path)
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.strip().splitlines()
    assert line.startswith(f"flowsql: error: {path}: ") and "not a regular file" in line, line


@pytest.mark.parametrize("kind", ["dev-zero", "folder", "dangling"])
@pytest.mark.parametrize("rel", ["flow-logs.json", "buckets/b/lifecycle.json", "buckets/b/size-StandardStorage.json"])
def test_a_snapshot_file_that_is_a_device_a_folder_or_a_link_to_nothing_is_exit_2_naming_it(tmp_path, rel, kind):
    _sized(tmp_path)
    path = tmp_path / rel
    _special(path, kind)
    r = invoke("posture", "--inventory", tmp_path)
    assert r.exit_code == 2, r.output
    [line] = r.stderr.strip().splitlines()
    assert line.startswith(f"flowsql: error: {path}: "), line
    assert ("a link to nothing" if kind == "dangling" else "not a regular file") in line, line


def test_a_report_over_a_snapshot_with_a_named_pipe_is_exit_2_at_once(tmp_path):
    _sized(tmp_path / "inv")
    path = tmp_path / "inv" / "buckets" / "b" / "size-StandardStorage.json"
    _special(path, "fifo")
    _month_of_logs(tmp_path / "logs")
    r = _flowsql("report", "--month", "2026-03", "--engine", "local", "--source", tmp_path / "logs",
                 "--inventory", tmp_path / "inv", "--out", tmp_path / "out")
    assert r.returncode == 2 and str(path) in r.stderr and "not a regular file" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_something_in_buckets_that_is_no_folder_is_exit_2_naming_it(tmp_path):
    _sized(tmp_path)
    odd = tmp_path / "buckets" / "stray.json"
    os.mkfifo(odd)
    (tmp_path / "buckets" / ".DS_Store").write_text("a file manager's, not a bucket")
    r = invoke("posture", "--inventory", tmp_path)
    assert r.exit_code == 2 and f"{odd}: not a folder" in r.stderr, r.output


@pytest.mark.parametrize("content, words", [
    ("[" * 200_000, "nested too deep"),
    ('{"x": ' + "1" * 5000 + "}", "an integer of more than 4,300 digits"),
    ('{"x": 1.' + "1" * 5000 + "e99999}", "beyond the range of a number"),
], ids=["deep", "5000-digit-int", "huge-float"])
@pytest.mark.parametrize("rel", SNAPSHOT_FILES)
def test_deep_or_huge_json_in_a_snapshot_file_is_exit_2_naming_it(tmp_path, rel, content, words):
    _sized(tmp_path)
    path = tmp_path / rel
    path.write_text(content)
    r = invoke("posture", "--inventory", tmp_path)
    assert r.exit_code == 2, r.output
    [line] = r.stderr.strip().splitlines()
    assert line.startswith(f"flowsql: error: {path}: ") and words in line and "internal error" not in line, line


def test_no_inventory_folder(tmp_path):
    r = invoke("posture", "--inventory", tmp_path / "nope")
    assert r.exit_code == 2 and "no such folder" in r.stderr
    r = invoke("posture")
    assert r.exit_code == 2 and "--inventory DIR is required" in r.stderr


def test_has_snapshot_and_a_byte_order_mark(tmp_path):
    assert not posture.has_snapshot(tmp_path)
    s = Snap(tmp_path)
    _vpc_level(s)
    s.write()
    assert posture.has_snapshot(tmp_path)
    text = (tmp_path / "vpcs.json").read_text()
    (tmp_path / "vpcs.json").write_bytes(b"\xef\xbb\xbf" + text.encode())  # PowerShell's `>`
    assert posture.load_snapshot(tmp_path).vpcs
    with pytest.raises(UsageError):
        posture.load_snapshot(tmp_path / "nope")


# -- the design sheet ------------------------------------------------------------------------------

GIB = 2**30
PRICES = """
prices:
  cloudwatch_logs_storage_gb_month: 0.03
  vended_logs_to_cloudwatch_logs: [{up_to_gb: 10240, usd_per_gb: 0.5}, {up_to_gb: null, usd_per_gb: 0.25}]
  vended_logs_to_s3: [{up_to_gb: 10240, usd_per_gb: 0.25}, {up_to_gb: null, usd_per_gb: 0.15}]
  s3_storage_gb_month: {StandardStorage: 0.023, GlacierStorage: 0.0036, DeepArchiveStorage: 0.00099}
"""


def test_design_sheet_costs_by_hand(tmp_path):
    s = Snap(tmp_path)
    a = s.vpc("critical", name="a")
    b = s.vpc("internal", name="b")
    c = s.vpc(None, name="c")
    s.vpc("sandbox", name="d")
    s.s3_log(a, "shared", created_days_ago=1000)
    s.s3_log(b, "shared", created_days_ago=1000)
    s.cwl_log(a, "/flow/a")
    s.group("/flow/a", 14, stored=7 * GIB, age_days=100)
    s.cwl_log(c, "/flow/c")
    s.group("/flow/c", None, stored=5 * GIB, age_days=50)  # never expires: it holds its 50 days
    s.bucket("shared", lifecycle=lifecycle(rule(expire=400)), sizes={
        "StandardStorage": size((2, 9 * GIB), (1, 10 * GIB), (3, 8 * GIB)),  # unordered: the newest counts
        "GlacierStorage": size((1, 100 * GIB)),
        "StandardIAStorage": size((1, 5 * GIB)),  # no price in the policy: named, left out of storage
    })
    policy = tmp_path / "prices.yaml"
    policy.write_text(PRICES)
    sheet = {row["name"]: row for row in posture.design_sheet(posture.load_snapshot(s.write()),
                                                                posture.load_policy(policy))}
    # /flow/a: 7 GiB held for 14 days -> 7/14*30 = 15 GB a month at 0.50; storage 7 GB at 0.03
    # shared: storage 10*0.023 + 100*0.0036 = 0.59; 115 GiB held 400 days -> 115/400*30 = 8.625 GB at 0.25;
    #         shared by a and b: half each
    bucket = (0.59 + 8.625 * 0.25) / 2
    assert sheet["a"]["parts"] == pytest.approx({"cloudwatch_logs_ingestion": 7.5, "cloudwatch_logs_storage": 0.21,
                                                 "s3_delivery": 8.625 * 0.25 / 2, "s3_storage": 0.59 / 2}, abs=1e-6)
    assert sheet["a"]["est_monthly_usd"] == pytest.approx(7.71 + bucket, abs=1e-6)
    assert sheet["b"]["est_monthly_usd"] == pytest.approx(bucket, abs=1e-6)
    # /flow/c: 5 GiB over 50 days -> 3 GB a month at 0.50; storage 5 * 0.03
    assert sheet["c"]["est_monthly_usd"] == pytest.approx(1.5 + 0.15, abs=1e-6)
    assert sheet["d"]["est_monthly_usd"] == 0 and sheet["d"]["exempt"] and sheet["d"]["destinations"] == []
    assert any("StandardIAStorage" in n for n in sheet["a"]["notes"])
    assert any("shared by 2 VPCs" in n for n in sheet["b"]["notes"])
    dest = {d["type"]: d for d in sheet["a"]["destinations"]}
    assert (dest["s3"]["target"], dest["s3"]["retention_days"]) == ("s3://shared/", 400)
    assert dest["s3"]["retention"] == "to GLACIER after 30 days, expire after 400 days"
    assert (dest["cloud-watch-logs"]["target"], dest["cloud-watch-logs"]["retention_days"]) == ("/flow/a", 14)
    assert sheet["c"]["destinations"][0]["retention"] == "never expires"
    assert (sheet["a"]["class"], sheet["c"]["class"], sheet["c"]["class_source"]) == ("critical", "internal", "default")
    assert (sheet["a"]["account"], sheet["a"]["region"]) == (ACCOUNT, REGION)


def test_tiered_prices():
    tiers = (Tier(10240, 0.25), Tier(30720, 0.15), Tier(51200, 0.075), Tier(None, 0.05))
    assert tiered_cost(0, tiers) == 0
    assert tiered_cost(100, tiers) == pytest.approx(25)
    # 40 TB: 10 TB at 0.25, 20 TB at 0.15, 10 TB at 0.075
    assert tiered_cost(40960, tiers) == pytest.approx(10240 * 0.25 + 20480 * 0.15 + 10240 * 0.075)
    assert tiered_cost(61440, tiers) == pytest.approx(2560 + 3072 + 1536 + 10240 * 0.05)


def test_a_big_account_pays_its_average_tier_price(tmp_path):
    s = Snap(tmp_path)
    vpc = s.vpc("internal")
    s.cwl_log(vpc, "/big")
    s.group("/big", 30, stored=20480 * GIB, age_days=400)  # 20 TB held 30 days: 20 TB a month
    policy = tmp_path / "prices.yaml"
    policy.write_text(PRICES)
    row = posture.design_sheet(posture.load_snapshot(s.write()), posture.load_policy(policy))[0]
    assert row["parts"]["cloudwatch_logs_ingestion"] == pytest.approx(10240 * 0.5 + 10240 * 0.25)


# -- the demo's snapshot -------------------------------------------------------------------------

def test_the_demo_writes_a_realistic_mix(tmp_path):
    from datetime import date

    from flowsql.demo.generate import Scenario, generate

    g = generate(tmp_path, Scenario(start=date(2026, 10, 1), days=1, flows_per_day=20))
    snap = posture.load_snapshot(g.inventory_dir)
    rows = posture.evaluate(snap, posture.load_policy())
    assert {r.status for r in rows} == {"ok", "alarm", "skip", "info"}
    vpcs = {v["VpcId"]: {t["Key"]: t["Value"] for t in v["Tags"]} for v in snap.vpcs}
    traffic = {e["VpcId"] for e in snap.enis}
    assert traffic and all(vpcs[v]["data-class"] in ("critical", "production") for v in traffic)
    # the traffic VPCs' flow logs are the ones whose files the generator wrote
    written = {p.name.split("_")[3] for p in g.files}
    assert written <= {f["FlowLogId"] for f in snap.flow_logs if f["ResourceId"] in traffic}
    alarms = {(r.check, vpcs[r.vpc]["Name"]) for r in rows if r.status == "alarm" and r.vpc}
    assert {("vpc_flow_logs_enabled", "legacy-batch"), ("vpc_flow_logs_enabled", "shared-services"),
            ("cloudwatch_flow_log_retention", "payments"), ("vpc_audit_copy_s3", "staging"),
            ("s3_flow_log_lifecycle", "payments")} <= alarms
    assert not [r for r in rows if r.vpc in traffic and r.status != "ok"]
    assert all(r.status == "skip" for r in rows if r.vpc and vpcs[r.vpc]["Name"] == "sandbox-ml"
               and r.check != "vpc_data_class")
    sheet = posture.design_sheet(snap, posture.load_policy())
    assert all(row["est_monthly_usd"] > 0 for row in sheet if row["destinations"])



def test_the_demo_snapshot_holds_its_transit_gateways(tmp_path):
    from datetime import date

    from flowsql.demo.generate import Scenario, generate

    g = generate(tmp_path, Scenario(start=date(2026, 10, 1), days=1, flows_per_day=20, transit_gateways=1))
    snap = posture.load_snapshot(g.inventory_dir)
    rows = [r for r in posture.evaluate(snap, posture.load_policy()) if r.check == "tgw_flow_logs_enabled"]
    # the transit gateways whose records the generator wrote: each logged by the flow log of those files
    seen = {r["tgw_id"] for r in g.tgw_records}
    written = {p.name.split("_")[3] for p in g.tgw_files}
    assert len(seen) == 2 and len(written) == 2
    logs = {f["ResourceId"]: f["FlowLogId"] for f in snap.flow_logs if f["ResourceId"].startswith("tgw-")}
    assert {logs[t] for t in seen} == written
    attached = {a["TransitGatewayAttachmentId"] for a in snap.tgw_attachments if a["TransitGatewayId"] in seen}
    assert attached == {r["tgw_attachment_id"] for r in g.tgw_records}
    by = {r.resource: r for r in rows}
    assert all(by[t].status == "ok" and logs[t] in by[t].reason for t in seen)
    assert {(by[t].account, by[t].region) for t in seen} == {(r["account_id"], r["region"]) for r in g.tgw_records}
    # the posture-only legacy hub: logged on its VPN attachment only
    (legacy,) = [r for r in rows if r.resource not in seen]
    assert legacy.status == "alarm" and "logged on 1 of 2 attachments" in legacy.reason
    # asked for attachment-level logging: every attachment of the generated gateways alarms (their
    # traffic is logged on the transit gateway, not on them), the VPN of the legacy hub is ok
    policy = tmp_path / "policy.yaml"
    policy.write_text("transit_gateways: {attachment_flow_logs: true}\n")
    rows = [r for r in posture.evaluate(snap, posture.load_policy(policy))
            if r.check == "tgw_flow_logs_enabled" and r.resource.startswith("tgw-attach-")]
    assert {r.resource for r in rows if r.status == "alarm"} >= attached
    assert sorted(r.status for r in rows if r.resource not in attached) == ["alarm", "ok"]


def test_a_demo_without_transit_gateways_has_them_synced_and_none(tmp_path):
    from datetime import date

    from flowsql.demo.generate import Scenario, generate

    g = generate(tmp_path, Scenario(start=date(2026, 10, 1), days=1, flows_per_day=20))
    snap = posture.load_snapshot(g.inventory_dir)
    assert snap.transit_gateways == [] and snap.tgw_attachments == []
    assert not [r for r in posture.evaluate(snap, posture.load_policy()) if r.check == "tgw_flow_logs_enabled"]


# -- a tree of snapshots (one per account and region) ------------------------------------------------

def _tree(tmp_path, manifest: dict):
    """A tree whose one snapshot is the acceptance one, placed at ACCOUNT/REGION, and this manifest."""
    import shutil

    (tmp_path / "single").mkdir()
    root, ids = _acceptance(tmp_path / "single")
    tree = tmp_path / "tree"
    shutil.copytree(root, tree / ACCOUNT / REGION)
    (tree / "manifest.json").write_text(json.dumps(manifest))
    return tree, ids


def _manifest(**over) -> dict:
    doc = {"format": "flowsql-inventory-tree/1", "regions": [REGION, "eu-west-1"],
           "accounts": [{"account": ACCOUNT, "access": "caller", "regions": [REGION], "skipped_regions": []}],
           "not_evaluated": [{"account": ACCOUNT, "region": "eu-west-1", "reason": "access denied (DescribeVpcs)"}],
           "warnings": []}
    doc.update(over)
    return doc


def test_a_tree_gives_the_same_rows_plus_a_not_evaluated_row(tmp_path):
    tree, ids = _tree(tmp_path, _manifest())
    single = json.loads(invoke("posture", "--inventory", tmp_path / "single", "-o", "json").stdout)
    r = invoke("posture", "--inventory", tree, "-o", "json")
    assert r.exit_code == 1
    rows = json.loads(r.stdout)
    unread = [row for row in rows if row["status"] == "not evaluated"]
    assert unread == [{"check": "inventory_sync", "resource": f"{ACCOUNT}/eu-west-1", "status": "not evaluated",
                       "reason": "access denied (DescribeVpcs)", "account": ACCOUNT, "region": "eu-west-1",
                       "vpc": None}]
    placed = [{**row, "account": row["account"] or ACCOUNT, "region": row["region"] or REGION} for row in single]
    assert sorted(map(json.dumps, (row for row in rows if row not in unread))) == sorted(map(json.dumps, placed))
    assert "1 not evaluated" in r.stderr


def test_a_tree_with_nothing_unread_and_no_alarm_exits_0(tmp_path):
    (tmp_path / "single").mkdir()
    s = Snap(tmp_path / "single")
    vpc = s.vpc("internal")
    s.s3_log(vpc, "good")
    s.good_bucket("good")
    tree = tmp_path / "tree"
    import shutil

    shutil.copytree(s.write(), tree / ACCOUNT / REGION)
    (tree / "manifest.json").write_text(json.dumps(_manifest(not_evaluated=[])))
    assert invoke("posture", "--inventory", tree).exit_code == 0
    # a folder the manifest does not list is never read (an account that has left, say)
    (tree / "999999999999" / REGION).mkdir(parents=True)
    (tree / "999999999999" / REGION / "flow-logs.json").write_text("not json")
    assert invoke("posture", "--inventory", tree).exit_code == 0


@pytest.mark.parametrize("manifest, words", [
    (_manifest(format="other/1"), "format"),
    (_manifest(accounts=[{"account": "12", "regions": []}]), "12-digit"),
    (_manifest(accounts=[{"account": ACCOUNT, "regions": ["eu-west-1"]}]), "no folder"),
    (_manifest(not_evaluated=[{"account": ACCOUNT}]), "not_evaluated"),
    ([1, 2], "format"),
])
def test_a_malformed_manifest_is_exit_2(tmp_path, manifest, words):
    tree, _ = _tree(tmp_path, manifest)
    r = invoke("posture", "--inventory", tree)
    assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output
