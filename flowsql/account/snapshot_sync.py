"""The posture part of `flowsql inventory sync`: flow logs, their CloudWatch Logs groups and their S3
buckets' settings, each written as the AWS CLI prints it (the files are listed in
flowsql/posture/snapshot.py and docs/posture.md).

A configuration that does not exist (NoSuchLifecycleConfiguration and the like) is an absent file,
and a file left from an earlier sync is removed so that it cannot speak for a configuration that
is gone. A call that fails for another reason (access denied on one bucket, say) loses only its own
file: it is removed as well, and the failure is returned as a warning; the rest is written.

Every file is written and removed through a files.Tree on the output folder: a symbolic link in it
(`buckets/old -> /elsewhere`) is never followed, only the file names this module writes are ever
removed, and a link where one of them goes is refused (files.Refused, an OSError naming it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from ..inventory.catalog import BUCKET_SETTINGS
from ..posture.snapshot import (BUCKETS, FLOW_LOGS, LOG_GROUPS, SIZE_PREFIX, STORAGE_TYPE, TGW_ATTACHMENTS,
                                TRANSIT_GATEWAYS)
from .configuration_sync import IAM_ACTIONS as CONFIGURATION_IAM_ACTIONS

# What `inventory sync` itself calls beyond the checks' own facts (flowsql.posture.checks declare
# theirs): the ENI/subnet/VPC describes, DescribeFlowLogs to find the destinations, the bucket
# settings it writes, and the S3 storage metrics the design sheet prices; and the network
# configuration diagnose evaluates.
SYNC_IAM_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                    "ec2:DescribeFlowLogs", "ec2:DescribeTransitGateways", "ec2:DescribeTransitGatewayAttachments",
                    *(s.iam_action for s in BUCKET_SETTINGS),
                    "cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics", *CONFIGURATION_IAM_ACTIONS)
# S3 publishes BucketSizeBytes once a day; two weeks of daily points survive a few missed days.
SIZE_DAYS = 14


@dataclass
class PostureSync:
    counts: dict = field(default_factory=dict)  # flow-logs.json / log-groups.json -> items
    written: list = field(default_factory=list)  # bucket files written (relative paths)
    absent: list = field(default_factory=list)  # bucket files whose configuration does not exist
    warnings: list = field(default_factory=list)  # files that could not be written, and why


def sync_posture(aws, out, *, now: datetime | None = None) -> PostureSync:
    """Write flow-logs.json, log-groups.json, the transit-gateway files and buckets/BUCKET/… into `out`,
    a folder or a files.Tree on one (see the module doc)."""
    from ..aws import errors
    from ..files import Tree

    out = out if isinstance(out, Tree) else Tree(out, create=True)
    result = PostureSync()
    now = now or datetime.now(timezone.utc)
    ec2 = aws.client("ec2")
    try:
        flow_logs = [fl for page in ec2.get_paginator("describe_flow_logs").paginate()
                     for fl in page.get("FlowLogs", [])]
    except errors() as e:
        out.remove(FLOW_LOGS)
        result.warnings.append(_failed(e, f"{FLOW_LOGS} not written (nor log-groups.json and buckets/)"))
        return result
    result.counts[FLOW_LOGS] = _write_doc(out, FLOW_LOGS, {"FlowLogs": flow_logs})
    result.counts[LOG_GROUPS] = _sync_log_groups(aws, out, flow_logs, result)
    _sync_transit_gateways(ec2, out, result)
    _sync_buckets(aws, out, flow_logs, result, now)
    return result


def _sync_log_groups(aws, out, flow_logs: list, result: PostureSync) -> int:
    from ..aws import errors
    from ..posture.facts import account_of_arn, region_of_arn

    wanted: dict[tuple, str] = {}  # (region, name) -> the flow log's destination ARN
    for fl in flow_logs:
        if fl.get("LogDestinationType", "cloud-watch-logs") != "cloud-watch-logs" or not fl.get("LogGroupName"):
            continue
        arn = fl.get("LogDestination") or ""
        account = account_of_arn(arn)
        if account and account != aws.account:
            result.warnings.append(f"log group {arn} belongs to account {account}: not described from here")
            continue
        wanted.setdefault((region_of_arn(arn) or aws.region, fl["LogGroupName"]), arn)
    groups = []
    for region, name in sorted(wanted):
        logs = aws.client("logs", region)
        try:
            for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
                groups += [g for g in page.get("logGroups", []) if g.get("logGroupName") == name]
        except errors() as e:
            result.warnings.append(_failed(e, f"log group {name} ({region}) left out of {LOG_GROUPS}"))
    groups.sort(key=lambda g: (g.get("logGroupName", ""), g.get("logGroupArn") or g.get("arn") or ""))
    return _write_doc(out, LOG_GROUPS, {"logGroups": groups})


def _sync_transit_gateways(ec2, out, result: PostureSync) -> None:
    """transit-gateways.json and transit-gateway-attachments.json. A call that fails removes its file
    (an older one would speak for gateways that may be gone): posture then says "not synced"."""
    from ..aws import errors

    for rel, method, key in ((TRANSIT_GATEWAYS, "describe_transit_gateways", "TransitGateways"),
                             (TGW_ATTACHMENTS, "describe_transit_gateway_attachments", "TransitGatewayAttachments")):
        try:
            items = [item for page in ec2.get_paginator(method).paginate() for item in page.get(key, [])]
        except errors() as e:
            out.remove(rel)
            result.warnings.append(_failed(e, f"{rel} not written (posture: transit gateways not synced)"))
            continue
        result.counts[rel] = _write_doc(out, rel, {key: items})


def _sync_buckets(aws, out, flow_logs: list, result: PostureSync, now: datetime) -> None:
    from ..aws import errors, is_code
    from .discovery import parse_destination_arn
    from ..errors import AwsError

    names = set()
    for fl in flow_logs:
        if fl.get("LogDestinationType") == "s3" and fl.get("LogDestination"):
            try:
                names.add(parse_destination_arn(fl["LogDestination"])[0])
            except AwsError as e:
                result.warnings.append(f"flow log {fl.get('FlowLogId')}: {e}")
    # buckets no flow log delivers to any more: their files would speak for nothing. Only the
    # files sync writes go, then the folder if that left it empty; a link is refused, not followed.
    for folder, kind in out.entries(BUCKETS) if out.kind(BUCKETS) == "dir" else ():
        if folder in names:
            continue
        if kind == "link":
            raise out.refusal(f"{BUCKETS}/{folder}")
        if kind == "dir":
            for f in _ours(out, f"{BUCKETS}/{folder}"):
                out.remove(f)
            out.rmdir(f"{BUCKETS}/{folder}")
    cloudwatch = aws.client("cloudwatch")
    for name in sorted(names):
        folder = f"{BUCKETS}/{name}"
        out.mkdirs(folder)
        for setting in BUCKET_SETTINGS:
            rel = f"{folder}/{setting.file}"
            try:
                doc = getattr(aws.client(setting.client), setting.method)(**setting.args(name))
            except errors() as e:
                out.remove(rel)
                if is_code(e, *setting.not_found):
                    result.absent.append(rel)
                else:
                    result.warnings.append(_failed(e, f"{rel} not written"))
                continue
            doc.pop("ResponseMetadata", None)
            _write_doc(out, rel, doc)
            result.written.append(rel)
        _sync_sizes(cloudwatch, out, folder, name, result, now)


def _sync_sizes(cloudwatch, out, folder: str, bucket: str, result: PostureSync, now: datetime) -> None:
    """size-STORAGETYPE.json: one `get-metric-statistics` of daily BucketSizeBytes per storage type
    the bucket has (ListMetrics names them). The newest point is stamped 00:00 UTC of its day, so the
    window starts at a midnight."""
    from ..aws import errors

    rel = f"{BUCKETS}/{bucket}/{SIZE_PREFIX}*.json"
    dims = [{"Name": "BucketName", "Value": bucket}]
    try:
        types = sorted({d["Value"] for page in cloudwatch.get_paginator("list_metrics").paginate(
            Namespace="AWS/S3", MetricName="BucketSizeBytes", Dimensions=dims)
            for m in page.get("Metrics", []) for d in m.get("Dimensions", []) if d.get("Name") == "StorageType"})
    except errors() as e:
        for f in _sizes(out, folder):
            out.remove(f)
        result.warnings.append(_failed(e, f"{rel} not written"))
        return
    types = [t for t in types if STORAGE_TYPE.match(t)]
    for f in _sizes(out, folder):
        if f.rsplit("/", 1)[-1][len(SIZE_PREFIX):-len(".json")] not in types:
            out.remove(f)
    start = datetime.combine(now.date(), time(), tzinfo=timezone.utc) - timedelta(days=SIZE_DAYS)
    for storage_type in types:
        path = f"{folder}/{SIZE_PREFIX}{storage_type}.json"
        try:
            doc = cloudwatch.get_metric_statistics(
                Namespace="AWS/S3", MetricName="BucketSizeBytes",
                Dimensions=dims + [{"Name": "StorageType", "Value": storage_type}],
                StartTime=start, EndTime=now, Period=86400, Statistics=["Average"])
        except errors() as e:
            out.remove(path)
            result.warnings.append(_failed(e, f"{path} not written"))
            continue
        doc.pop("ResponseMetadata", None)
        _write_doc(out, path, doc)
        result.written.append(path)


def _sizes(out, folder: str) -> list[str]:
    """The size-*.json files in a bucket folder, links included (removing one is refused: a link is
    never followed, nor taken for sync's own file); a folder of that name is not sync's."""
    return [f"{folder}/{n}" for n, kind in out.entries(folder)
            if n.startswith(SIZE_PREFIX) and n.endswith(".json") and kind in ("file", "link")]


def _ours(out, folder: str) -> list[str]:
    kinds = dict(out.entries(folder))
    ours = [f"{folder}/{s.file}" for s in BUCKET_SETTINGS if kinds.get(s.file) in ("file", "link")]
    return ours + _sizes(out, folder)


def _failed(e: BaseException, what: str) -> str:
    from ..aws import map_error

    return str(map_error(e, what))


def _write_doc(out, rel: str, doc: dict) -> int:
    """One document as `aws … --output json` prints it (indent 4, ISO timestamps), atomically; returns
    the number of items of its list, if it is one list."""
    from ..files import dumps_json
    from .cli_json import cli_default

    out.write(rel, dumps_json(doc, what=rel, indent=4, ensure_ascii=False, default=cli_default) + "\n")
    lists = [v for v in doc.values() if isinstance(v, list)]
    return len(lists[0]) if len(lists) == 1 else 1
