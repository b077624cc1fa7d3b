"""The posture snapshot: an inventory folder plus the flow logs' settings, as the AWS CLI prints them.

    DIR/vpcs.json, subnets.json, network-interfaces.json   aws ec2 describe-vpcs / -subnets / -network-interfaces
    DIR/flow-logs.json                                     aws ec2 describe-flow-logs
    DIR/log-groups.json                                    aws logs describe-log-groups
    DIR/transit-gateways.json                              aws ec2 describe-transit-gateways
    DIR/transit-gateway-attachments.json                   aws ec2 describe-transit-gateway-attachments
    DIR/buckets/BUCKET/lifecycle.json                      aws s3api get-bucket-lifecycle-configuration
    DIR/buckets/BUCKET/encryption.json                     aws s3api get-bucket-encryption
    DIR/buckets/BUCKET/public-access-block.json            aws s3api get-public-access-block
                                                           (the bucket settings: flowsql.inventory.catalog)
    DIR/buckets/BUCKET/size-STORAGETYPE.json               aws cloudwatch get-metric-statistics (AWS/S3
                                                           BucketSizeBytes, one storage type per call)

The five top-level files must be there. The two transit-gateway files came later: where they are
absent (a snapshot an older flowsql wrote, or a sync whose describe call failed) the transit
gateways are "not synced" (None), never "none". A bucket's file that is absent means "no such configuration"
(S3 answers NoSuchLifecycleConfiguration and the like). Every file is read only when it is a regular
file (a named pipe would block the reader for ever, a device never ends) of strict, bounded JSON
(files.read_json), and checked against the fields the checks read, every number against the range
AWS gives it, so a malformed one is an error naming the file, the item and the field (exit 2), never
a wrong verdict or a cost that cannot be.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import SourceError
from ..inventory.catalog import BUCKET_SETTINGS
from ..inventory.documents import FILES as INVENTORY_FILES
from ..inventory.shapes import LONG, TAGS as _TAGS, TIME as _TIME, Num, Req

FLOW_LOGS = "flow-logs.json"
LOG_GROUPS = "log-groups.json"
TRANSIT_GATEWAYS = "transit-gateways.json"
TGW_ATTACHMENTS = "transit-gateway-attachments.json"
OPTIONAL_FILES = (TRANSIT_GATEWAYS, TGW_ATTACHMENTS)  # absent: not synced
BUCKETS = "buckets"
SIZE_PREFIX = "size-"  # size-StandardStorage.json, size-GlacierStorage.json, …

# S3's StorageType dimension values are CamelCase words (StandardStorage, GlacierStorage, …).
STORAGE_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,63}$")

# PutRetentionPolicy's retentionInDays: the only values CloudWatch Logs takes (no value: never expire)
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)
# the last millisecond of 9999-12-31 UTC: the latest time Python's datetime (and ISO 8601 text) can hold
LAST_MS = 253402300799999
_RETENTION = Num(f"one of CloudWatch Logs' retentions ({', '.join(map(str, RETENTION_DAYS))} days)",
                 values=RETENTION_DAYS)
_BYTES = Num(f"a byte count (a whole number from 0 to {LONG})", low=0, high=LONG)
_MS = Num(f"milliseconds since 1970-01-01 UTC (a whole number from 0 to {LAST_MS}, the end of year 9999)",
          low=0, high=LAST_MS)
# BucketSizeBytes: bytes, never negative; CloudWatch takes no metric value beyond 2^360
_METRIC_BYTES = Num("a size in bytes (a number from 0 to 2^360, the largest value CloudWatch takes)",
                    whole=False, low=0, high=2**360)

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
    LOG_GROUPS: ("logGroups", {"logGroupName": Req(str), "arn": str, "logGroupArn": str,
                               "retentionInDays": _RETENTION, "storedBytes": _BYTES, "creationTime": _MS,
                               "kmsKeyId": str, "logGroupClass": str}),
    TRANSIT_GATEWAYS: ("TransitGateways", {"TransitGatewayId": Req(str), "TransitGatewayArn": str, "OwnerId": str,
                                           "State": str, "Tags": _TAGS}),
    TGW_ATTACHMENTS: ("TransitGatewayAttachments", {
        "TransitGatewayAttachmentId": Req(str), "TransitGatewayId": Req(str), "TransitGatewayOwnerId": str,
        "ResourceOwnerId": str, "ResourceType": str, "ResourceId": str, "State": str, "Tags": _TAGS}),
}
SIZE_SPEC = {"Label": str, "Datapoints": Req([{"Timestamp": Req(_TIME), "Average": Req(_METRIC_BYTES),
                                               "Unit": str}])}
# the key that names an item of a list, for the messages
_ITEM_NAMES = ("logGroupName", "FlowLogId", "TransitGatewayAttachmentId", "TransitGatewayId", "VpcId", "SubnetId",
               "NetworkInterfaceId", "ID", "Timestamp")


@dataclass(frozen=True)
class Bucket:
    """An S3 destination's settings; None where the configuration does not exist (no file). A
    setting's field is named by its row in flowsql.inventory.catalog."""

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
    transit_gateways: list | None = None  # None: not synced (no transit-gateways.json)
    tgw_attachments: list | None = None  # None: not synced (no transit-gateway-attachments.json)


def has_snapshot(directory) -> bool:
    """Does the folder hold a posture snapshot (at least flow-logs.json)? Anything by that name
    counts (a pipe, a link to nothing): load_snapshot then says what is wrong with it."""
    return os.path.lexists(Path(directory) / FLOW_LOGS)


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
        if not os.path.lexists(path):
            raise SourceError(f"posture snapshot: {path} is missing (`flowsql inventory sync` writes it; "
                              "docs/posture.md shows the AWS CLI command)")
        data = _read_json(path)
        _validate(data, {key: Req([item_spec])}, path, "")
        docs[name] = data[key]
    for name in OPTIONAL_FILES:
        key, item_spec = SPECS[name]
        path = directory / name
        if os.path.lexists(path):  # anything by the name is read (a pipe is named, never "absent")
            data = _read_json(path)
            _validate(data, {key: Req([item_spec])}, path, "")
            docs[name] = data[key]
    buckets = {}
    root = directory / BUCKETS
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if folder.name.startswith("."):  # no bucket name starts with a dot (.DS_Store and the like)
                continue
            if not folder.is_dir():
                raise SourceError(f"{folder}: not a folder (buckets/ holds one folder per bucket: "
                                  f"buckets/BUCKET/{BUCKET_SETTINGS[0].file}, …)")
            buckets[folder.name] = _load_bucket(folder)
    taken = datetime.fromtimestamp((directory / FLOW_LOGS).stat().st_mtime, tz=timezone.utc)
    return Snapshot(directory=directory, taken=taken, vpcs=docs["vpcs.json"], subnets=docs["subnets.json"],
                    enis=docs["network-interfaces.json"], flow_logs=docs[FLOW_LOGS],
                    log_groups=docs[LOG_GROUPS], buckets=buckets, transit_gateways=docs.get(TRANSIT_GATEWAYS),
                    tgw_attachments=docs.get(TGW_ATTACHMENTS))


def _load_bucket(folder: Path) -> Bucket:
    found = {}
    for setting in BUCKET_SETTINGS:
        path = folder / setting.file
        if os.path.lexists(path):  # anything by the name is read (a pipe is named, never "absent")
            data = _read_json(path)
            _validate(data, setting.spec, path, "")
            found[setting.field] = data
    sizes = {}
    for path in sorted(p for p in folder.iterdir() if p.name.startswith(SIZE_PREFIX) and p.name.endswith(".json")):
        storage_type = path.name[len(SIZE_PREFIX):-len(".json")]
        if not STORAGE_TYPE.match(storage_type):
            raise SourceError(f"{path}: not a storage type in the name (size-StandardStorage.json, …)")
        data = _read_json(path)
        _validate(data, SIZE_SPEC, path, "")
        sizes[storage_type] = data
    return Bucket(name=folder.name, sizes=sizes, **found)


def _read_json(path: Path):
    from ..files import DocumentError, error_reason, read_json

    try:
        return read_json(path)
    except FileNotFoundError:
        raise SourceError(f"{path}: a link to nothing (remove it where the configuration does not exist)") from None
    except DocumentError as e:
        if e.empty:
            # `aws … > file` leaves an empty file when the call fails: say what to do about it
            raise SourceError(f"{path}: empty (a failed AWS CLI call? remove the file where the configuration "
                              "does not exist)") from None
        raise SourceError(f"{path}: {error_reason(e)}") from None
    except (OSError, ValueError) as e:
        raise SourceError(f"{path}: not readable ({error_reason(e)})") from None


_KINDS = {str: "a string", bool: "true or false", _TIME: "an ISO 8601 time"}


def _validate(value, spec, path: Path, where: str, item: str = "") -> None:
    """Check `value` against `spec`; `item` names the list item it is in ("logGroupName /g"), for
    the message."""
    if isinstance(spec, Req):
        spec = spec.spec
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            _wrong(path, where, "an object", value, item)
        for key, sub in spec.items():
            if key not in value or (value[key] is None and not isinstance(sub, Req)):
                if isinstance(sub, Req):
                    raise SourceError(f"{path}: {where + '.' if where else ''}{key} is missing{_of(item)}")
                continue
            _validate(value[key], sub, path, f"{where}.{key}" if where else key, item)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            _wrong(path, where, "a list", value, item)
        for i, entry in enumerate(value):
            _validate(entry, spec[0], path, f"{where}[{i}]", _item_name(entry) or item)
    elif isinstance(spec, Num):
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not whole and (spec.whole or not isinstance(value, float)):
            _wrong(path, where, "a whole number" if spec.whole else "a number", value, item)
        if not spec.fits(value):
            raise SourceError(f"{path}: {where} is {_shown(value)}, not {spec.what}{_of(item)}")
    elif spec is _TIME:
        if not isinstance(value, str):
            _wrong(path, where, _KINDS[_TIME], value, item)
        try:
            parse_time(value)
        except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            _wrong(path, where, _KINDS[_TIME], value, item)
    elif not isinstance(value, spec):
        _wrong(path, where, _KINDS.get(spec, spec.__name__), value, item)


def _item_name(entry) -> str:
    if isinstance(entry, dict):
        for key in _ITEM_NAMES:
            if isinstance(entry.get(key), str) and entry[key]:
                return f"{key} {entry[key][:80]}"
    return ""


def _of(item: str) -> str:
    return f", in the item with {item}" if item else ""


def _shown(value) -> str:
    """A value as JSON, at most 40 characters (a deep or huge one by its kind)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a {len(str(abs(value)))}-digit number"
    try:
        shown = json.dumps(value, allow_nan=False)
    except (ValueError, RecursionError):
        shown = f"a JSON {type(value).__name__}"
    return shown if len(shown) <= 40 else shown[:39] + "…"


def _wrong(path: Path, where: str, expected: str, value, item: str = "") -> None:
    raise SourceError(f"{path}: {where or 'the document'} must be {expected}, not {_shown(value)}{_of(item)}"
                      " (not the AWS CLI's output shape)")


def parse_time(text: str) -> datetime:
    """An AWS CLI timestamp (ISO 8601) as an aware UTC datetime."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
