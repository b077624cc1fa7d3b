"""Small hand-made AWSLogs trees for tests: one file at a time, exactly as written."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

from flowsql.logs.fields import DEFAULT_FIELDS

DEFAULT_HEADER = " ".join(DEFAULT_FIELDS)
ACCOUNT = "111111111111"
REGION = "us-east-1"
DAY = date(2026, 3, 1)


def day_dir(root: Path, account: str = ACCOUNT, region: str = REGION, day: date = DAY) -> Path:
    d = Path(root) / "AWSLogs" / account / "vpcflowlogs" / region / f"{day:%Y/%m/%d}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_log(root: Path, name: str, lines: list[str], header: str = DEFAULT_HEADER, *, account: str = ACCOUNT,
              region: str = REGION, day: date = DAY, raw: bytes | None = None) -> Path:
    """A `.log.gz` (or `.log`) file in the day folder; `raw` replaces the content entirely."""
    path = day_dir(root, account, region, day) / name
    text = ("\n".join([header, *lines]) + "\n").encode()
    if raw is not None:
        path.write_bytes(raw)
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(text, mtime=0))
    else:
        path.write_bytes(text)
    return path


def record(dst="9.9.9.9", nbytes="60", packets="10", action="ACCEPT", status="OK", src="10.0.0.1",
           eni="eni-1", account=ACCOUNT, sport="1", dport="443", proto="6"):
    """One default-format line."""
    return f"2 {account} {eni} {src} {dst} {sport} {dport} {proto} {packets} {nbytes} 1 2 {action} {status}"
