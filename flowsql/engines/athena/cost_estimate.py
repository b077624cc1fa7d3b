"""What an Athena query will read, and cost, before it is sent (`flowsql render --explain`).

The partitions come from the window and the account/region filters (else the values the table's
projection lists), laid out as the table's storage template says; the columns from the rendered SQL;
the bytes from an S3 listing of those partitions. A text (gzip) object is read whole by Athena, so
its size is what is scanned; a Parquet object is read column by column, so its size is scaled by the
share of the table's columns the query reads (a rough estimate: columns differ in size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ...aws import aws_errors
from ...logs.layout import day_prefix
from .engine import MAX_PARTITIONS, cost_usd, partitions

MAX_LISTED = 400  # partition prefixes listed; beyond, an evenly spread sample is listed and scaled


@dataclass
class Explanation:
    table: str
    partitions: int
    prefixes: list[str]  # s3:// URIs of the partitions read (all of them, or the listed sample)
    listed: int  # how many of them were listed
    columns: list[str]
    objects: int
    object_bytes: int  # bytes of the objects under the partitions (scaled up from the sample)
    estimated_bytes: int  # what Athena is expected to scan
    estimated_cost_usd: float
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        sample = f" (listed {self.listed} of them, scaled)" if self.listed < self.partitions else ""
        first = self.prefixes[0] if self.prefixes else "-"
        return [
            f"table {self.table}: {self.partitions:,} partition(s) of {MAX_PARTITIONS:,} Athena can plan{sample}",
            f"  first: {first}",
            f"columns read: {', '.join(self.columns) or '-'}",
            f"objects under those partitions: {self.objects:,}, {self.object_bytes:,} bytes",
            f"estimated data scanned: {self.estimated_bytes / 1e6:,.1f} MB, cost ≈ ${self.estimated_cost_usd:,.6f} "
            "($5/TB, rounded up to the MB, 10 MB minimum)",
            *(f"note: {n}" for n in self.notes),
        ]


def _prefixes(table, window, accounts, regions) -> list[str]:
    base = table.location.removeprefix("s3://")
    bucket, _, awslogs = base.partition("/")
    above = awslogs[: -len("AWSLogs/")] if awslogs.endswith("AWSLogs/") else awslogs
    out = []
    for account in sorted(set(accounts) or set(table.accounts)):
        for region in sorted(set(regions) or set(table.regions)):
            day = window.since
            while day <= window.until:
                hours = range(24) if table.per_hour else [None]
                for hour in hours:
                    out.append(f"s3://{bucket}/{above}{day_prefix(account, region, day, hive=table.hive, hour=hour)}")
                day += timedelta(days=1)
    return out


def _columns(sql: str, table) -> list[str]:
    import sqlglot
    from sqlglot import exp

    known = set(table.columns) | {"aws_account_id", "aws_region", "day", "hour"}
    used = {c.name for c in sqlglot.parse_one(sql, read="trino").find_all(exp.Column)}
    return sorted(used & known)


def explain(aws, config, sql: str, window, *, table: str | None = None, accounts=(), regions=()) -> Explanation:
    t = config.table(table)
    accounts, regions = t.partition_filters(accounts, regions)
    n = partitions(t, window, accounts, regions)
    all_prefixes = _prefixes(t, window, accounts, regions)
    notes = []
    if not (set(accounts) or set(t.accounts)) or not (set(regions) or set(t.regions)):
        notes.append("the table lists no accounts or regions (injected projection): pass --account and --region")
    step = max(1, -(-len(all_prefixes) // MAX_LISTED))
    listed = all_prefixes[::step]
    s3 = aws.client("s3")
    objects = size = 0
    for uri in listed:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        with aws_errors(f"listing {uri}"):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for o in page.get("Contents", []):
                    objects += 1
                    size += o["Size"]
    scale = len(all_prefixes) / len(listed) if listed else 0
    objects, size = round(objects * scale), round(size * scale)
    columns = _columns(sql, t)
    if t.file_format == "parquet":
        data_cols = [c for c in columns if c in t.columns]
        estimate = round(size * len(data_cols) / max(len(t.columns), 1))
        notes.append("Parquet: Athena reads only the columns a query uses; the estimate scales the objects' "
                     "size by the share of columns read")
    else:
        estimate = size
        notes.append("text (gzip): Athena reads every object of a partition whole")
    return Explanation(f"{config.database}.{t.name}", n, listed if step > 1 else all_prefixes, len(listed), columns,
                       objects, size, estimate, cost_usd(estimate), notes)
