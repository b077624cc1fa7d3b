"""Find where an account's VPC flow logs land in S3, in which format and layout, and check it.

`discover_flow_logs()` is what `flowsql setup` starts from: one `Destination` per distinct S3 location and
format, from DescribeFlowLogs, or — for a central log-archive bucket whose flow logs belong to
other accounts — from `--bucket/--prefix/--log-format` alone. Each destination is checked against
the bucket itself: it must exist and be readable, and one real object's header (or Parquet
schema) must name the same fields as the format, in the same order.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from typing import Iterable

from ..aws import Aws, aws_errors, errors, is_code, map_error
from ..errors import AwsError, FormatError, UsageError
from ..logs.fields import BY_COLUMN, LogFormat, parse_log_format
from ..logs.header import parse_header
from ..logs.layout import parse_key
from ..logs.tgw_fields import is_tgw, parse_tgw_log_format

PLAIN_TEXT = "plain-text"
PARQUET = "parquet"

_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:s3:::(?P<bucket>[^/]+)(?:/(?P<prefix>.*))?$")
_ACCOUNT = re.compile(r"^\d{12}$")
# Bytes read from the start of a text object to find its header line (gzip member start).
HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Destination:
    """One S3 location and format that flow logs publish to: what one Athena table covers."""

    bucket: str
    prefix: str  # key prefix above AWSLogs/, without leading or trailing "/" ("" for none)
    log_format: LogFormat
    file_format: str = PLAIN_TEXT  # "plain-text" | "parquet"
    hive: bool = False  # Hive-compatible S3 prefixes (aws-account-id=…/…)
    per_hour: bool = False  # an hour folder below the day
    flow_log_ids: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()  # accounts the table covers (found under AWSLogs/ and asked for)
    regions: tuple[str, ...] = ()
    verified_against: str | None = None  # s3:// URI of the object whose header matched (setup prints it)
    notes: tuple[str, ...] = ()  # things the user should know (e.g. nothing to verify against)
    kind: str = "vpc"  # "vpc" | "tgw": Transit Gateway flow logs have a table of their own

    @property
    def awslogs_key(self) -> str:
        """Key prefix of the AWSLogs/ folder: `prefix/AWSLogs/` or `AWSLogs/`."""
        return f"{self.prefix}/AWSLogs/" if self.prefix else "AWSLogs/"

    @property
    def location(self) -> str:
        """s3:// URI of the AWSLogs/ folder (the table's LOCATION)."""
        return f"s3://{self.bucket}/{self.awslogs_key}"

    @property
    def key(self) -> str:
        """What makes two destinations different tables (stored on the table as flowsql.destination)."""
        return (f"{self.location}|{self.file_format}|{'hive' if self.hive else 'plain'}|"
                f"{'hourly' if self.per_hour else 'daily'}" + ("|tgw" if self.kind == "tgw" else ""))

    def describe(self) -> str:
        layout = ("Hive-compatible" if self.hive else "plain") + (", per hour" if self.per_hour else "")
        fmt = "default format" if self.log_format.is_default else f"{len(self.log_format.names)}-field format"
        what = "Transit Gateway flow logs, " if self.kind == "tgw" else ""
        return f"{self.location} ({what}{self.file_format}, {layout} prefixes, {fmt})"


def parse_destination_arn(arn: str) -> tuple[str, str]:
    """`arn:aws:s3:::bucket/some/prefix/` -> ("bucket", "some/prefix")."""
    m = _ARN.match(arn or "")
    if not m:
        raise AwsError(f"not an S3 bucket ARN: {arn!r}")
    return m["bucket"], (m["prefix"] or "").strip("/")


def normalise_prefix(prefix: str | None) -> str:
    """A user's `--prefix`: no slashes at the ends; a trailing `AWSLogs` is where we look anyway."""
    p = (prefix or "").strip().strip("/")
    if p == "AWSLogs":
        return ""
    if p.endswith("/AWSLogs"):
        p = p[: -len("/AWSLogs")]
    return p


@dataclass(frozen=True)
class FlowLogGroup:
    """Flow logs publishing to one S3 place in one format, as DescribeFlowLogs tells it.

    None means "not said" (DestinationOptions missing, or no flow log at all for a log archive):
    discovery reads it from the objects.
    """

    bucket: str
    prefix: str
    log_format: LogFormat | None
    file_format: str | None
    hive: bool | None
    per_hour: bool | None
    flow_log_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # regions of the flow logs (DescribeFlowLogs is per region)
    kind: str = "vpc"  # "vpc" | "tgw"


def _is_s3(fl: dict) -> bool:
    return fl.get("LogDestinationType") == "s3" and bool(fl.get("LogDestination"))


def _is_transit_gateway(fl: dict) -> bool:
    """A Transit Gateway (or attachment) flow log: its records have no `action` and other fields."""
    return str(fl.get("ResourceId", "")).startswith("tgw-") or "${tgw-" in (fl.get("LogFormat") or "") \
        or "${resource-type}" in (fl.get("LogFormat") or "")


def group_flow_logs(items: Iterable[dict], notes: list[str] | None = None) -> list[FlowLogGroup]:
    """DescribeFlowLogs items -> one group per S3 location, format and layout.

    Flow logs that publish elsewhere (CloudWatch Logs, Firehose) are left out. Several flow logs
    (VPCs, subnets, ENIs) publishing with the same format to the same place share one table.
    Transit Gateway flow logs (ResourceId tgw-… or tgw-attach-…) are groups of their own (`kind`
    "tgw"): their records have other fields, and their own table. Flow logs whose format names
    fields flowsql does not know are left out, each with a line in `notes`.
    """
    groups: dict[tuple, dict] = {}
    for fl in items:
        if not _is_s3(fl):
            continue
        bucket, prefix = parse_destination_arn(fl["LogDestination"])
        where = f"s3://{bucket}/{prefix + '/' if prefix else ''}"
        kind = "tgw" if _is_transit_gateway(fl) else "vpc"
        try:
            log_format = (parse_tgw_log_format if kind == "tgw" else parse_log_format)(fl.get("LogFormat"))
        except FormatError as e:
            if notes is not None:
                notes.append(f"left out flow log {fl.get('FlowLogId', '?')} of {fl.get('ResourceId', '?')} "
                             f"({where}): its {e}")
            continue
        opts = fl.get("DestinationOptions") or {}
        # Real AWS always returns DestinationOptions for S3; None means "unknown, look at the objects".
        file_format = opts.get("FileFormat")
        hive = opts.get("HiveCompatiblePartitions")
        per_hour = opts.get("PerHourPartition")
        k = (bucket, prefix, log_format.names, file_format, hive, per_hour, kind)
        g = groups.setdefault(k, {"ids": [], "regions": [], "format": log_format})
        g["ids"].append(fl.get("FlowLogId", ""))
        g["regions"].append(fl.get("Region", ""))  # added by describe_s3_flow_logs
    out = []
    for (bucket, prefix, names, file_format, hive, per_hour, kind), g in groups.items():
        d = FlowLogGroup(bucket, prefix, g["format"], file_format, hive, per_hour,
                         tuple(sorted(set(filter(None, g["ids"])))),
                         tuple(sorted(set(filter(None, g["regions"])))), kind)
        out.append(d)
    out.sort(key=lambda d: (d.kind == "tgw", d.bucket, d.prefix, str(d.file_format), str(d.hive), str(d.per_hour)))
    return out


def describe_s3_flow_logs(aws: Aws, region: str | None = None) -> list[dict]:
    """Every flow log of the account in `region` (paginated DescribeFlowLogs), S3 or not; each
    item gets a "Region" key."""
    region = region or aws.region
    ec2 = aws.client("ec2", region)
    items: list[dict] = []
    with aws_errors(f"listing flow logs in {region} (ec2:DescribeFlowLogs)"):
        for page in ec2.get_paginator("describe_flow_logs").paginate():
            items.extend({**fl, "Region": region} for fl in page.get("FlowLogs", []))
    return items


class Discovered(list):
    """The destinations to make tables for (a list of Destination), plus where every S3 flow log
    DescribeFlowLogs returned writes — including those `--bucket`/`--prefix` left out — so setup
    can refuse a results location over any of them."""

    flow_log_locations: tuple[tuple[str, str], ...]  # (bucket, AWSLogs/ key prefix)
    notes: tuple[str, ...]  # flow logs left out, and why

    def __init__(self, destinations: Iterable[Destination] = (), flow_log_locations=(), notes=()):
        super().__init__(destinations)
        self.flow_log_locations = tuple(flow_log_locations)
        self.notes = tuple(notes)


def check_accounts(accounts: Iterable[str]) -> tuple[str, ...]:
    """`--accounts` values, sorted and unique; a UsageError for one that is no account id."""
    out = tuple(sorted(set(accounts or ())))
    for a in out:
        if not _ACCOUNT.match(a):
            raise UsageError(f"not an AWS account id: {a!r} (12 digits)")
    return out


def discover_flow_logs(
    aws: Aws,
    *,
    bucket: str | None = None,
    prefix: str | None = None,
    log_format: str | None = None,
    use_flow_logs: bool = True,
    accounts: Iterable[str] | None = None,
    regions: Iterable[str] | None = None,
    verify: bool = True,
) -> Discovered:
    """The destinations `flowsql setup` makes tables for.

    - By default, the S3 flow logs of the account in the session's region (and in `regions`, if
      given); `bucket`/`prefix` narrow them (each alone too), `log_format` overrides their format.
    - With `bucket` and no matching flow log (a central log-archive bucket), or with
      `use_flow_logs=False`, discovery is replaced: the destination is `bucket`/`prefix`, its layout
      read from the objects, its format from `log_format` or else an object's header.
    - `accounts` limits a multi-account bucket to those accounts (default: all found under
      `prefix/AWSLogs/`, plus this account when its own flow logs were found).

    Raises AwsError for a missing or unreadable bucket, FormatError when an object's header
    disagrees with the format, UsageError when there is nothing to set up or when flow logs of
    different formats write to one place (one table cannot read both).
    """
    prefix_n = normalise_prefix(prefix) if prefix is not None else None
    override = parse_log_format(log_format) if log_format else None
    wanted_accounts = check_accounts(accounts or ())
    own = False
    scanned_regions: list[str] = []
    partials: list[FlowLogGroup] = []
    locations: set[tuple[str, str]] = set()  # every S3 place a flow log writes: flowsql never writes there
    notes: list[str] = []
    if use_flow_logs:
        scanned_regions = list(dict.fromkeys([aws.region, *(regions or ())]))
        items = [fl for r in scanned_regions for fl in describe_s3_flow_logs(aws, r)]
        s3_items = [fl for fl in items if _is_s3(fl)]
        placed = [(fl, parse_destination_arn(fl["LogDestination"])) for fl in s3_items]
        locations = {(b, p) for _, (b, p) in placed}
        # Narrowed before any format is read: a flow log the options leave out is never parsed.
        wanted = [fl for fl, (b, p) in placed if (not bucket or b == bucket) and (prefix_n is None or p == prefix_n)]
        partials = group_flow_logs(wanted, notes)
        if not s3_items and not bucket:
            others = len(items)
            where = ", ".join(scanned_regions)
            raise UsageError(
                f"no flow log in account {aws.account} ({where}) publishes to S3"
                + (f" ({others} publish elsewhere)" if others else "")
                + "; create one, or pass --bucket [--prefix] to use a log bucket directly"
            )
        if not partials and not bucket:
            if wanted:  # every flow log there was left out
                raise UsageError("no VPC flow log to set up: " + "; ".join(notes))
            # --prefix alone narrows discovery; it cannot name a bucket to use without flow logs
            found = ", ".join(sorted(f"s3://{b}/{p}" for b, p in locations))
            raise UsageError(f"no flow log of account {aws.account} publishes under prefix {prefix_n!r} "
                             f"(found: {found}); pass --bucket too to use a log bucket directly")
        own = bool(partials)
    if not partials:
        if not bucket:
            raise UsageError("pass --bucket (and --prefix) when flow-log discovery is off")
        partials = [FlowLogGroup(bucket, prefix_n or "", None, None, None, None)]
    if override is not None:
        partials = [replace(p, log_format=override) if p.kind == "vpc" else p for p in partials]

    s3 = aws.client("s3")
    for b in sorted({p.bucket for p in partials}):
        check_bucket(s3, b)
    out = []
    for p in partials:
        d = _resolve(s3, p, wanted_accounts, own_account=aws.account if own else None,
                     format_from_flag=override is not None,
                     default_region=aws.region, verify=verify)
        out.append(d)
    where = sorted({(b, f"{p}/AWSLogs/" if p else "AWSLogs/") for b, p in locations})
    return Discovered(_merge(_apart(out, notes)), where, notes)


def _apart(dests: list[Destination], notes: list[str]) -> list[Destination]:
    """Transit Gateway destinations that share a place with VPC flow logs are left out (with a
    note): an Athena table reads every file under its location, so neither table could tell the
    other's files from its own. The local engine tells them apart by their header."""
    vpc = {d.location for d in dests if d.kind == "vpc"}
    out = []
    for d in dests:
        if d.kind == "tgw" and d.location in vpc:
            notes.append(f"left out Transit Gateway flow log(s) {', '.join(d.flow_log_ids) or '?'} ({d.location}): "
                         "they write where VPC flow logs write, and an Athena table reads every file under its "
                         "location; give them a key prefix of their own (a new flow log) for a table of their own")
            continue
        out.append(d)
    return out


def check_bucket(s3, bucket: str, what: str = "bucket") -> None:
    """The bucket exists and we may list it, or an AwsError that says which (`what`: how to name it)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except errors() as e:
        if is_code(e, "404", "NoSuchBucket", "NotFound"):
            raise AwsError(f"{what} {bucket} does not exist") from None
        if is_code(e, "403", "AccessDenied", "Forbidden"):
            raise AwsError(f"{what} {bucket}: access denied (s3:ListBucket); see `flowsql iam-policy`") from None
        raise map_error(e, f"checking {what} {bucket}") from None


def _merge(dests: list[Destination]) -> list[Destination]:
    """One destination per table (per `key`: place and layout).

    Flow logs whose layout was only known from the objects may end up identical: one table. Flow
    logs of different formats in one place cannot share a table (its columns are one format's, and
    the text SerDe reads fields by position), nor have a table each (a table reads every file
    under its location): an error that says which flow logs clash.
    """
    seen: dict[str, Destination] = {}
    for d in dests:
        o = seen.get(d.key)
        if o is None:
            seen[d.key] = d
        elif o.log_format.names == d.log_format.names:
            seen[d.key] = replace(o, flow_log_ids=tuple(sorted(set(o.flow_log_ids + d.flow_log_ids))))
        else:
            ids = ", ".join(sorted(set(o.flow_log_ids + d.flow_log_ids))) or "several flow logs"
            raise UsageError(
                f"flow logs {ids} write to {d.location} ({d.file_format}) in different log formats, which one "
                "table cannot read; give each format its own prefix (a new flow log with a key prefix), or "
                "pass --log-format to say which format the table uses")
    return list(seen.values())


# -- looking at the bucket -------------------------------------------------------------------

def _common_prefixes(s3, bucket: str, prefix: str) -> list[str]:
    """The "folders" directly below `prefix` (paginated, sorted)."""
    out: list[str] = []
    with aws_errors(f"listing s3://{bucket}/{prefix}"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            out.extend(cp["Prefix"] for cp in page.get("CommonPrefixes", []))
    return sorted(out)


def _leaf(name: str) -> str:
    """`a/b/aws-region=eu-west-1/` -> `eu-west-1`; `a/b/2024/` -> `2024`."""
    return name.rstrip("/").rsplit("/", 1)[-1].split("=", 1)[-1]


def list_accounts(s3, bucket: str, awslogs_key: str, *, hive: bool | None = None) -> list[str]:
    """Account ids with a folder under `…/AWSLogs/` (plain or Hive-style, or as `hive` says)."""
    found = []
    for cp in _common_prefixes(s3, bucket, awslogs_key):
        name = cp[len(awslogs_key):].rstrip("/")
        is_hive = name.startswith("aws-account-id=")
        acct = name.split("=", 1)[1] if is_hive else name
        if _ACCOUNT.match(acct) and (hive is None or hive == is_hive):
            found.append(acct)
    return sorted(set(found))


def _service_key(awslogs_key: str, account: str, hive: bool) -> str:
    if hive:
        return f"{awslogs_key}aws-account-id={account}/aws-service=vpcflowlogs/"
    return f"{awslogs_key}{account}/vpcflowlogs/"


def list_regions(s3, bucket: str, awslogs_key: str, account: str, *, hive: bool) -> list[str]:
    """Regions with flow logs of `account` under `…/AWSLogs/`."""
    base = _service_key(awslogs_key, account, hive)
    return sorted({_leaf(cp) for cp in _common_prefixes(s3, bucket, base)})


def _latest_folder(s3, bucket: str, key: str, depth: int) -> str | None:
    """Descend `depth` folder levels, always into the last (newest, as names are dates)."""
    for _ in range(depth):
        subs = _common_prefixes(s3, bucket, key)
        if not subs:
            return None
        key = subs[-1]
    return key


def find_sample(s3, bucket: str, awslogs_key: str, account: str, region: str, *, hive: bool,
                flow_log_ids: tuple[str, ...] = ()) -> str | None:
    """The key of one recent flow-log object of (account, region), preferring our flow logs' files."""
    base = _service_key(awslogs_key, account, hive) + (f"aws-region={region}/" if hive else f"{region}/")
    day = _latest_folder(s3, bucket, base, 3)  # year / month / day
    if day is None:
        return None
    with aws_errors(f"listing s3://{bucket}/{day}"):
        page = s3.list_objects_v2(Bucket=bucket, Prefix=day, MaxKeys=1000)
    keys = [o["Key"] for o in page.get("Contents", [])]
    if not keys:  # hourly: files sit one level further down
        hour = _latest_folder(s3, bucket, day, 1)
        if hour is None:
            return None
        with aws_errors(f"listing s3://{bucket}/{hour}"):
            page = s3.list_objects_v2(Bucket=bucket, Prefix=hour, MaxKeys=1000)
        keys = [o["Key"] for o in page.get("Contents", [])]
    keys = [k for k in keys if k.endswith((".log.gz", ".log", ".parquet"))]
    if flow_log_ids:
        ours = [k for k in keys if any(f"_{i}_" in k.rsplit("/", 1)[-1] for i in flow_log_ids)]
        return ours[-1] if ours else None
    return keys[-1] if keys else None


def read_header(s3, bucket: str, key: str) -> LogFormat:
    """The field names of a text object's first line (reads only the first 64 KiB)."""
    with aws_errors(f"reading s3://{bucket}/{key}"):
        body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{HEADER_BYTES - 1}")["Body"].read()
    if key.endswith(".gz") or body[:2] == b"\x1f\x8b":
        try:
            # wbits 47: gzip or zlib header, whichever; a truncated stream is fine, we need one line.
            text = zlib.decompressobj(47).decompress(body, HEADER_BYTES)
        except zlib.error as e:
            raise FormatError(f"s3://{bucket}/{key}: not a readable gzip file ({e})") from None
    else:
        text = body
    line = text.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    try:
        return parse_header(line)
    except FormatError as e:
        raise FormatError(f"s3://{bucket}/{key}: {e}") from None


_PARQUET_PHYSICAL = {"INT32": "int", "INT64": "bigint", "BYTE_ARRAY": "string"}


def read_parquet_schema(s3, bucket: str, key: str) -> tuple[LogFormat, dict[str, str]]:
    """The flow-log fields (and their kinds) a Parquet object holds, from its footer only."""
    import struct
    import tempfile

    uri = f"s3://{bucket}/{key}"
    with aws_errors(f"reading {uri}"):
        tail = s3.get_object(Bucket=bucket, Key=key, Range="bytes=-8")["Body"].read()
        if len(tail) != 8 or tail[4:] != b"PAR1":
            raise FormatError(f"{uri}: not a Parquet file")
        (n,) = struct.unpack("<I", tail[:4])
        footer = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{n + 8}")["Body"].read()
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a flowsql dependency
        raise FormatError(f"{uri}: reading Parquet schemas needs duckdb; pass --log-format") from None
    # DuckDB reads the schema from the footer alone; the row groups it points to are never read.
    with tempfile.NamedTemporaryFile(suffix=".parquet") as tmp:
        tmp.write(b"PAR1" + footer)
        tmp.flush()
        try:
            rows = duckdb.connect().execute(
                "SELECT name, type FROM parquet_schema(?) WHERE num_children IS NULL OR num_children = 0",
                [tmp.name]).fetchall()
        except duckdb.Error as e:
            raise FormatError(f"{uri}: unreadable Parquet footer ({e})") from None
    unknown = [n for n, _ in rows if n not in BY_COLUMN]
    if unknown:
        raise FormatError(f"{uri}: Parquet columns that are no flow-log field: {', '.join(unknown)}")
    fmt = LogFormat(tuple(BY_COLUMN[n].name for n, _ in rows))
    return fmt, {n: _PARQUET_PHYSICAL.get(t or "", t or "?") for n, t in rows}


def _resolve(s3, p: FlowLogGroup, wanted_accounts: tuple[str, ...], *, own_account: str | None,
             default_region: str, verify: bool, format_from_flag: bool = False) -> Destination:
    """Fill in what DescribeFlowLogs did not say from the objects, and verify the format."""
    awslogs = f"{p.prefix}/AWSLogs/" if p.prefix else "AWSLogs/"
    notes: list[str] = []
    hive = p.hive
    if hive is None:  # only a Hive-style tree there: Hive-style; otherwise the default layout
        plain_accts = list_accounts(s3, p.bucket, awslogs, hive=False)
        hive_accts = list_accounts(s3, p.bucket, awslogs, hive=True)
        hive = bool(hive_accts) and not plain_accts
        found = hive_accts if hive else plain_accts
    else:
        found = list_accounts(s3, p.bucket, awslogs, hive=hive)
    scope = [a for a in found if not wanted_accounts or a in wanted_accounts]
    accounts = set(scope) | set(wanted_accounts) | ({own_account} if own_account else set())
    own_regions = p.regions
    regions: set[str] = set(own_regions)
    for a in scope:
        regions.update(list_regions(s3, p.bucket, awslogs, a, hive=hive))

    sample = None
    if verify or p.file_format is None or p.per_hour is None or p.log_format is None:
        # Our flow logs' files are in our account's folder only: in a shared bucket, listing the
        # other accounts' folders would be wasted calls (and possibly denied).
        if p.flow_log_ids and own_account:
            candidates = [own_account]
        else:
            candidates = ([own_account] if own_account in scope else []) + [a for a in scope if a != own_account]
        for a in candidates:
            for r in sorted(regions, key=lambda r: (r not in own_regions, r)):
                sample = find_sample(s3, p.bucket, awslogs, a, r, hive=hive, flow_log_ids=p.flow_log_ids)
                if sample:
                    break
            if sample:
                break
    file_format, per_hour = p.file_format, p.per_hour
    if sample:
        parsed = parse_key(sample)
        if file_format is None:
            file_format = PARQUET if sample.endswith(".parquet") else PLAIN_TEXT
        if per_hour is None:
            per_hour = bool(parsed and parsed[0].hour is not None)
    file_format = file_format or PLAIN_TEXT
    per_hour = bool(per_hour)

    log_format = p.log_format
    verified = None
    if sample and (verify or log_format is None):
        uri = f"s3://{p.bucket}/{sample}"
        if file_format == PARQUET:
            actual, kinds = read_parquet_schema(s3, p.bucket, sample)
            bad = [f"{c} is {kinds[c]}, expected {BY_COLUMN[c].kind}" for c in kinds
                   if kinds[c] in ("int", "bigint", "string") and kinds[c] != BY_COLUMN[c].kind]
            if bad:
                raise FormatError(f"{uri}: Parquet column types differ from flow-log types: {'; '.join(bad)}")
        else:
            actual = read_header(s3, p.bucket, sample)
        if log_format is None:
            log_format = actual
        elif actual.names != log_format.names or is_tgw(actual) != is_tgw(log_format):
            said = ("--log-format says" if format_from_flag else "the flow log's format is")
            fix = ("fix --log-format" if format_from_flag else "pass --log-format to say which is right")
            raise FormatError(
                f"{uri} has header `{actual.header()}` but {said} `{log_format.header()}`; {fix}"
            )
        verified = uri
    elif not sample:
        whose = f" of {', '.join(p.flow_log_ids)}" if p.flow_log_ids else ""
        notes.append(f"no recent object{whose} under {_where(p.bucket, awslogs)}: format not verified")
    if log_format is None:
        raise UsageError(f"no flow-log object under {_where(p.bucket, awslogs)} to read the format from; "
                         "pass --log-format")
    if not accounts:
        raise UsageError(f"no account folder under {_where(p.bucket, awslogs)}; pass --accounts")
    if not regions:
        regions = {default_region}
        notes.append(f"no region folder under {_where(p.bucket, awslogs)}: assuming {default_region}")
    return Destination(
        bucket=p.bucket, prefix=p.prefix, log_format=log_format, file_format=file_format, hive=hive,
        per_hour=per_hour, flow_log_ids=p.flow_log_ids, accounts=tuple(sorted(accounts)),
        regions=tuple(sorted(regions)), verified_against=verified, notes=tuple(notes), kind=p.kind,
    )


def _where(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"
