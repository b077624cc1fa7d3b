"""Where flow-log files live: the S3 key layouts and the local `AWSLogs/` tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from .errors import SourceError

SERVICE = "vpcflowlogs"

# AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{MM}/{dd}/[{HH}/]file
_PLAIN = re.compile(
    r"(?:^|/)AWSLogs/(?P<account>\d{12})/vpcflowlogs/(?P<region>[a-z0-9-]+)/"
    r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?:(?P<h>\d{2})/)?(?P<file>[^/]+)$"
)
# AWSLogs/aws-account-id=../aws-service=vpcflowlogs/aws-region=../year=../month=../day=../[hour=../]file
_HIVE = re.compile(
    r"(?:^|/)AWSLogs/aws-account-id=(?P<account>\d{12})/aws-service=vpcflowlogs/"
    r"aws-region=(?P<region>[a-z0-9-]+)/year=(?P<y>\d{4})/month=(?P<m>\d{2})/day=(?P<d>\d{2})/"
    r"(?:hour=(?P<h>\d{2})/)?(?P<file>[^/]+)$"
)


@dataclass(frozen=True)
class Partition:
    """The partition a file belongs to, read from its path (the delivery time, not the flows' time)."""

    account: str
    region: str
    day: date
    hour: int | None = None

    @property
    def day_key(self) -> str:
        """The day as the projected `day` partition value: yyyy/MM/dd."""
        return self.day.strftime("%Y/%m/%d")


def parse_key(key: str) -> tuple[Partition, str] | None:
    """Return (partition, file name) of a flow-log key or path, or None if it is not one."""
    key = key.replace("\\", "/")
    m = _PLAIN.search(key) or _HIVE.search(key)
    if not m:
        return None
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    hour = int(m["h"]) if m["h"] is not None else None
    if hour is not None and hour > 23:
        return None
    return Partition(m["account"], m["region"], day, hour), m["file"]


def day_prefix(account: str, region: str, day: date, *, hive: bool = False, hour: int | None = None) -> str:
    """The key prefix (below the bucket prefix) of one day's (or hour's) files."""
    if hive:
        p = (
            f"AWSLogs/aws-account-id={account}/aws-service={SERVICE}/aws-region={region}/"
            f"year={day:%Y}/month={day:%m}/day={day:%d}/"
        )
        return p + (f"hour={hour:02d}/" if hour is not None else "")
    p = f"AWSLogs/{account}/{SERVICE}/{region}/{day:%Y/%m/%d}/"
    return p + (f"{hour:02d}/" if hour is not None else "")


def file_name(account: str, region: str, flow_log_id: str, delivered: datetime, digest: str,
              *, parquet: bool = False) -> str:
    """AWS's object name: {account}_vpcflowlogs_{region}_{flow-log-id}_{yyyyMMddTHHmmZ}_{hash}.log.gz"""
    ext = "parquet" if parquet else "log.gz"
    return f"{account}_{SERVICE}_{region}_{flow_log_id}_{delivered:%Y%m%dT%H%MZ}_{digest}.{ext}"


def awslogs_root(source: Path) -> Path:
    """The `AWSLogs` folder of a `--source`: the folder itself or its `AWSLogs/` child."""
    source = Path(source)
    if not source.exists():
        raise SourceError(f"source {source} does not exist")
    if not source.is_dir():
        raise SourceError(f"source {source} is not a folder")
    if source.name == "AWSLogs":
        return source
    if (source / "AWSLogs").is_dir():
        return source / "AWSLogs"
    raise SourceError(f"source {source} holds no AWSLogs/ folder (expected an `aws s3 sync` of the log bucket)")


@dataclass(frozen=True)
class LogFile:
    path: Path
    partition: Partition


def local_files(source: Path, since: date, until: date, accounts=None, regions=None) -> list[LogFile]:
    """The log files under `source` whose path day, account and region fall in the request.

    Walks only the folders that can match, so a year-long tree costs a few directory listings.
    Anything else in the tree (notes, `.DS_Store`, other services' logs) is passed over.
    """
    root = awslogs_root(source)
    accounts = set(accounts or ())
    regions = set(regions or ())
    out: list[LogFile] = []
    try:
        for acct_dir in sorted(_dirs(root)):
            for path in _candidate_files(acct_dir, since, until, accounts, regions):
                parsed = parse_key(path.relative_to(root.parent).as_posix())
                if parsed is None:
                    continue
                part, _ = parsed
                if since <= part.day <= until and (not accounts or part.account in accounts) \
                        and (not regions or part.region in regions):
                    out.append(LogFile(path, part))
    except OSError as e:
        raise SourceError(f"cannot read {e.filename or source}: {e.strerror}") from None
    out.sort(key=lambda f: (f.partition.account, f.partition.region, f.partition.day, f.path.name))
    return out


def _dirs(folder: Path):
    return (p for p in folder.iterdir() if p.is_dir())


def _candidate_files(acct_dir: Path, since, until, accounts, regions):
    name = acct_dir.name
    account = name.split("=", 1)[1] if name.startswith("aws-account-id=") else name
    if accounts and account not in accounts:
        return
    for svc_dir in _dirs(acct_dir):
        if svc_dir.name not in (SERVICE, f"aws-service={SERVICE}"):
            continue
        for region_dir in _dirs(svc_dir):
            region = region_dir.name.split("=", 1)[-1]
            if regions and region not in regions:
                continue
            for year_dir in _dirs(region_dir):
                y = _num(year_dir.name)
                if y is None or not since.year <= y <= until.year:
                    continue
                for month_dir in _dirs(year_dir):
                    m = _num(month_dir.name)
                    if m is None or not (since.year, since.month) <= (y, m) <= (until.year, until.month):
                        continue
                    for day_dir in _dirs(month_dir):
                        d = _num(day_dir.name)
                        if d is None:
                            continue
                        try:
                            day = date(y, m, d)
                        except ValueError:
                            continue
                        if since <= day <= until:
                            yield from (p for p in day_dir.rglob("*") if p.is_file() and _is_log(p))


def _num(name: str) -> int | None:
    value = name.split("=", 1)[-1]
    return int(value) if value.isdigit() else None


def _is_log(path: Path) -> bool:
    return path.name.endswith((".log.gz", ".log"))
