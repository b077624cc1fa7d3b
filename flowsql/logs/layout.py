"""Where flow-log files live: the S3 key layouts and the local `AWSLogs/` tree."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from ..errors import SourceError

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
    raise SourceError(f"source {source} holds no AWSLogs/ folder (expected a tree made by `flowsql pull` or `aws s3 sync`)")


LOG_SUFFIXES = {".log.gz": "text", ".log": "text", ".parquet": "parquet"}


def log_kind(name: str) -> str | None:
    """"text" or "parquet" for a flow-log file name, None for anything else."""
    for suffix, kind in LOG_SUFFIXES.items():
        if name.endswith(suffix) and not name.startswith("."):
            return kind
    return None


@dataclass(frozen=True)
class LogFile:
    path: Path
    partition: Partition
    kind: str = "text"  # "text" (.log.gz, .log) or "parquet"


@dataclass
class Listing:
    """What a local tree holds for a request: the log files to read, and every other thing met under
    the requested partitions, with the reason it is not read (nothing is passed over silently)."""

    files: list[LogFile]
    unreadable: list[tuple[Path, str]]  # folders that could not be listed (an error unless skipped)
    ignored: list[tuple[Path, str]]  # files in a partition folder that are no flow-log file


def local_files(source: Path, since: date, until: date, accounts=None, regions=None) -> Listing:
    """The log files under `source` whose path day, account and region fall in the request.

    Walks only the folders that can match, so a year-long tree costs a few directory listings.
    Above the day folders, anything that is not a partition folder (notes, `.DS_Store`, other
    services' logs) is not part of the request and is passed over; inside a requested day folder,
    every file is either a log file or named in `ignored`, and a folder that cannot be listed is
    named in `unreadable`.
    """
    root = awslogs_root(source)
    walk = _Walk(root, since, until, set(accounts or ()), set(regions or ()))
    walk.run()
    walk.files.sort(key=lambda f: (f.partition.account, f.partition.region, f.partition.day, f.path.name))
    return Listing(walk.files, walk.unreadable, walk.ignored)


class _Walk:
    def __init__(self, root: Path, since: date, until: date, accounts: set, regions: set):
        self.root, self.since, self.until = root, since, until
        self.accounts, self.regions = accounts, regions
        self.files: list[LogFile] = []
        self.unreadable: list[tuple[Path, str]] = []
        self.ignored: list[tuple[Path, str]] = []

    def _entries(self, folder: Path, *, required: bool):
        """(name, path, is_dir) of a folder's entries; a folder that cannot be listed is recorded
        when it belongs to the request (`required`), else passed over."""
        try:
            with os.scandir(folder) as it:
                out = []
                for e in it:
                    try:
                        is_dir = e.is_dir()
                    except OSError:
                        is_dir = False
                    out.append((e.name, Path(e.path), is_dir))
                return sorted(out)
        except OSError as e:
            if required:
                self.unreadable.append((folder, f"folder cannot be listed: {e.strerror or e}"))
            return []

    def _dirs(self, folder: Path, required: bool = True):
        return [(n, p) for n, p, d in self._entries(folder, required=required) if d]

    def run(self) -> None:
        for name, acct_dir in self._dirs(self.root):
            account = name.split("=", 1)[1] if name.startswith("aws-account-id=") else name
            if not (len(account) == 12 and account.isdigit()):
                continue
            if self.accounts and account not in self.accounts:
                continue
            for svc, svc_dir in self._dirs(acct_dir):
                if svc not in (SERVICE, f"aws-service={SERVICE}"):
                    continue
                for rname, region_dir in self._dirs(svc_dir):
                    region = rname.split("=", 1)[-1]
                    if self.regions and region not in self.regions:
                        continue
                    self._region(region_dir)

    def _region(self, region_dir: Path) -> None:
        since, until = self.since, self.until
        for yname, year_dir in self._dirs(region_dir):
            y = _num(yname)
            if y is None or not since.year <= y <= until.year:
                continue
            for mname, month_dir in self._dirs(year_dir):
                m = _num(mname)
                if m is None or not (since.year, since.month) <= (y, m) <= (until.year, until.month):
                    continue
                for dname, day_dir, is_dir in self._entries(month_dir, required=True):
                    if not is_dir:  # a file beside the day folders of a month in the request
                        if log_kind(dname):
                            self.ignored.append((day_dir, "not in a day folder of the flow-log layout"))
                        continue
                    d = _num(dname)
                    if d is None:
                        continue
                    try:
                        day = date(y, m, d)
                    except ValueError:
                        continue
                    if since <= day <= until:
                        self._day(day_dir, hour_level=True)

    def _day(self, folder: Path, *, hour_level: bool) -> None:
        for name, path, is_dir in self._entries(folder, required=True):
            if is_dir:
                hour = _num(name)
                if hour_level and hour is not None and 0 <= hour <= 23:
                    self._day(path, hour_level=False)
                else:
                    self._ignore_tree(path)
                continue
            kind = log_kind(name)
            parsed = parse_key(path.relative_to(self.root.parent).as_posix()) if kind else None
            if parsed is None:
                self.ignored.append((path, "not a flow-log file (expected *.log.gz, *.log or *.parquet)"))
                continue
            special = _not_regular(path)
            if special:  # a FIFO would block its reader for ever: it is never opened
                self.unreadable.append((path, f"not a regular file ({special})"))
                continue
            self.files.append(LogFile(path, parsed[0], kind))

    def _ignore_tree(self, folder: Path) -> None:
        """A folder inside a partition that is no hour folder: its files are named, never read."""
        for name, path, is_dir in self._entries(folder, required=True):
            if is_dir:
                self._ignore_tree(path)
            else:
                self.ignored.append((path, "not in a day or hour folder of the flow-log layout"))


def _not_regular(path: Path) -> str | None:
    """What a path is when it is no regular file (through links); None for a regular file, or
    when it cannot be looked at (reading it then says why)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return {stat.S_IFIFO: "a named pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
            stat.S_IFBLK: "a block device"}.get(stat.S_IFMT(mode), "not a file")


def _num(name: str) -> int | None:
    value = name.split("=", 1)[-1]
    return int(value) if value.isdigit() and len(value) <= 4 else None
