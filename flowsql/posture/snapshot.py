"""The posture snapshot: an inventory folder plus the flow logs' settings, as the AWS CLI prints them.

    DIR/vpcs.json, subnets.json, network-interfaces.json   aws ec2 describe-vpcs / -subnets / -network-interfaces
    DIR/flow-logs.json                                     aws ec2 describe-flow-logs
    DIR/log-groups.json                                    aws logs describe-log-groups
    DIR/buckets/BUCKET/lifecycle.json                      aws s3api get-bucket-lifecycle-configuration
    DIR/buckets/BUCKET/encryption.json                     aws s3api get-bucket-encryption
    DIR/buckets/BUCKET/public-access-block.json            aws s3api get-public-access-block
    DIR/buckets/BUCKET/size-STORAGETYPE.json               aws cloudwatch get-metric-statistics (AWS/S3
                                                           BucketSizeBytes, one storage type per call)

The five top-level files must be there; a bucket's file that is absent means "no such configuration"
(S3 answers NoSuchLifecycleConfiguration and the like). Every file is checked against the fields the
checks read, so a malformed one is an error naming it (exit 2), never a wrong verdict.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import SourceError
from ..inventory.documents import FILES as INVENTORY_FILES

FLOW_LOGS = "flow-logs.json"
LOG_GROUPS = "log-groups.json"
BUCKETS = "buckets"
LIFECYCLE = "lifecycle.json"
ENCRYPTION = "encryption.json"
PUBLIC_ACCESS_BLOCK = "public-access-block.json"
SIZE_PREFIX = "size-"  # size-StandardStorage.json, size-GlacierStorage.json, …
BUCKET_FILES = (LIFECYCLE, ENCRYPTION, PUBLIC_ACCESS_BLOCK)

# S3's StorageType dimension values are CamelCase words (StandardStorage, GlacierStorage, …).
STORAGE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")


class Req:
    """A field that must be present."""

    def __init__(self, spec):
        self.spec = spec


_TAGS = [{"Key": Req(str), "Value": str}]
_INT = "int"  # a JSON integer (not a boolean)
_NUM = "number"
_TIME = "time"  # ISO 8601 text, as the AWS CLI prints timestamps

# What the checks and the design sheet read from each file; other fields are ignored.
SPECS = {
    "vpcs.json": ("Vpcs", {"VpcId": Req(str), "OwnerId": str, "Tags": _TAGS,
                           "CidrBlockAssociationSet": [{"CidrBlock": str}]}),
    "subnets.json": ("Subnets", {"SubnetId": Req(str), "VpcId": Req(str), "OwnerId": str, "SubnetArn": str,
                                 "AvailabilityZone": str, "Tags": _TAGS}),
    "network-interfaces.json": ("NetworkInterfaces", {"NetworkInterfaceId": Req(str), "SubnetId": str,
                                                      "VpcId": str, "AvailabilityZone": str}),
    FLOW_LOGS: ("FlowLogs", {
        "FlowLogId": Req(str), "ResourceId": Req(str), "TrafficType": str, "FlowLogStatus": str,
        "DeliverLogsStatus": str, "DeliverLogsErrorMessage": str, "LogDestinationType": str,
        "LogDestination": str, "LogGroupName": str, "LogFormat": str, "CreationTime": _TIME,
        "DestinationOptions": {"FileFormat": str, "HiveCompatiblePartitions": bool, "PerHourPartition": bool},
        "Tags": _TAGS,
    }),
    LOG_GROUPS: ("logGroups", {"logGroupName": Req(str), "arn": str, "logGroupArn": str, "retentionInDays": _INT,
                               "storedBytes": _INT, "creationTime": _INT, "kmsKeyId": str, "logGroupClass": str}),
}
_TRANSITION = {"Days": _INT, "Date": _TIME, "StorageClass": str}
_FILTER = {"Prefix": str, "Tag": {"Key": str, "Value": str}, "ObjectSizeGreaterThan": _INT,
           "ObjectSizeLessThan": _INT,
           "And": {"Prefix": str, "Tags": _TAGS, "ObjectSizeGreaterThan": _INT, "ObjectSizeLessThan": _INT}}
BUCKET_SPECS = {
    LIFECYCLE: {"Rules": Req([{"ID": str, "Status": Req(str), "Prefix": str, "Filter": _FILTER,
                                "Transitions": [_TRANSITION], "Transition": _TRANSITION,
                                "Expiration": {"Days": _INT, "Date": _TIME, "ExpiredObjectDeleteMarker": bool}}])},
    ENCRYPTION: {"ServerSideEncryptionConfiguration": Req({"Rules": Req([{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": Req(str), "KMSMasterKeyID": str},
        "BucketKeyEnabled": bool}])})},
    PUBLIC_ACCESS_BLOCK: {"PublicAccessBlockConfiguration": Req({
        "BlockPublicAcls": bool, "IgnorePublicAcls": bool, "BlockPublicPolicy": bool,
        "RestrictPublicBuckets": bool})},
}
SIZE_SPEC = {"Label": str, "Datapoints": Req([{"Timestamp": Req(_TIME), "Average": Req(_NUM), "Unit": str}])}


@dataclass(frozen=True)
class Bucket:
    """An S3 destination's settings; None where the configuration does not exist (no file)."""

    name: str
    lifecycle: dict | None = None
    encryption: dict | None = None
    public_access_block: dict | None = None
    sizes: dict = field(default_factory=dict)  # StorageType -> get-metric-statistics output

    def latest_size(self, storage_type: str) -> float | None:
        """The newest daily BucketSizeBytes average of a storage type (datapoints come unordered)."""
        points = (self.sizes.get(storage_type) or {}).get("Datapoints") or []
        if not points:
            return None
        return float(max(points, key=lambda p: parse_time(p["Timestamp"]))["Average"])


@dataclass(frozen=True)
class Snapshot:
    directory: Path
    taken: datetime  # when the snapshot was written (flow-logs.json's modification time), UTC
    vpcs: list
    subnets: list
    enis: list
    flow_logs: list
    log_groups: list
    buckets: dict  # name -> Bucket, for every folder under buckets/


def has_snapshot(directory) -> bool:
    """Does the folder hold a posture snapshot (at least flow-logs.json)?"""
    return (Path(directory) / FLOW_LOGS).is_file()


def load_snapshot(directory) -> Snapshot:
    """Read and check a snapshot folder; a SourceError (exit 2) names the file that is missing or wrong."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(f"posture snapshot {directory}: no such folder (`flowsql inventory sync --out DIR` "
                          "writes one)")
    docs = {}
    for name in (FLOW_LOGS, LOG_GROUPS, *INVENTORY_FILES):
        key, item_spec = SPECS[name]
        path = directory / name
        if not path.is_file():
            raise SourceError(f"posture snapshot: {path} is missing (`flowsql inventory sync` writes it; "
                              "docs/posture.md shows the AWS CLI command)")
        data = _read_json(path)
        _validate(data, {key: Req([item_spec])}, path, "")
        docs[name] = data[key]
    buckets = {}
    root = directory / BUCKETS
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            buckets[folder.name] = _load_bucket(folder)
    taken = datetime.fromtimestamp((directory / FLOW_LOGS).stat().st_mtime, tz=timezone.utc)
    return Snapshot(directory=directory, taken=taken, vpcs=docs["vpcs.json"], subnets=docs["subnets.json"],
                    enis=docs["network-interfaces.json"], flow_logs=docs[FLOW_LOGS],
                    log_groups=docs[LOG_GROUPS], buckets=buckets)


def _load_bucket(folder: Path) -> Bucket:
    found = {}
    for name, spec in BUCKET_SPECS.items():
        path = folder / name
        if path.is_file():
            data = _read_json(path)
            _validate(data, spec, path, "")
            found[name] = data
    sizes = {}
    for path in sorted(folder.glob(f"{SIZE_PREFIX}*.json")):
        storage_type = path.name[len(SIZE_PREFIX):-len(".json")]
        if not STORAGE_TYPE.match(storage_type):
            raise SourceError(f"{path}: not a storage type in the name (size-StandardStorage.json, …)")
        data = _read_json(path)
        _validate(data, SIZE_SPEC, path, "")
        sizes[storage_type] = data
    return Bucket(name=folder.name, lifecycle=found.get(LIFECYCLE), encryption=found.get(ENCRYPTION),
                  public_access_block=found.get(PUBLIC_ACCESS_BLOCK), sizes=sizes)


def _read_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8-sig")  # PowerShell's `>` writes a byte order mark
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(f"{path}: not readable ({getattr(e, 'strerror', None) or e})") from None
    if not text.strip():
        # `aws … > file` leaves an empty file when the call fails: say what to do about it
        raise SourceError(f"{path}: empty (a failed AWS CLI call? remove the file where the configuration "
                          "does not exist)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(f"{path}: not JSON ({e})") from None


_KINDS = {str: "a string", bool: "true or false", _INT: "a whole number", _NUM: "a number",
          _TIME: "an ISO 8601 time"}


def _validate(value, spec, path: Path, where: str) -> None:
    if isinstance(spec, Req):
        spec = spec.spec
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            _wrong(path, where, "an object", value)
        for key, sub in spec.items():
            if key not in value or (value[key] is None and not isinstance(sub, Req)):
                if isinstance(sub, Req):
                    raise SourceError(f"{path}: {where + '.' if where else ''}{key} is missing")
                continue
            _validate(value[key], sub, path, f"{where}.{key}" if where else key)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            _wrong(path, where, "a list", value)
        for i, item in enumerate(value):
            _validate(item, spec[0], path, f"{where}[{i}]")
    elif spec is _INT:
        if not isinstance(value, int) or isinstance(value, bool):
            _wrong(path, where, _KINDS[_INT], value)
    elif spec is _NUM:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            _wrong(path, where, _KINDS[_NUM], value)
    elif spec is _TIME:
        if not isinstance(value, str):
            _wrong(path, where, _KINDS[_TIME], value)
        try:
            parse_time(value)
        except ValueError:
            _wrong(path, where, _KINDS[_TIME], value)
    elif not isinstance(value, spec):
        _wrong(path, where, _KINDS.get(spec, spec.__name__), value)


def _wrong(path: Path, where: str, expected: str, value) -> None:
    shown = json.dumps(value)
    if len(shown) > 40:
        shown = shown[:39] + "…"
    raise SourceError(f"{path}: {where or 'the document'} must be {expected}, not {shown}"
                      " (not the AWS CLI's output shape)")


def parse_time(text: str) -> datetime:
    """An AWS CLI timestamp (ISO 8601) as an aware UTC datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
