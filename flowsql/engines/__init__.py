"""Engines run a rendered query. Each describes the tables a template renders against (`Target`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ..fields import FIELDS

ALL_COLUMNS = frozenset(f.column for f in FIELDS)

# Partition columns of the flow-log table on every engine. `region` is a v4 field and
# `account_id` a v2 one, hence the aws_ prefix.
PARTITION_COLUMNS = ("aws_account_id", "aws_region", "day")


@dataclass(frozen=True)
class Target:
    """What a template is rendered against: table names, the columns the table has, partition format."""

    engine: str  # "athena" | "local"
    flow_logs: str = "flow_logs"  # (qualified) name of the flow-log table or view
    columns: frozenset[str] = ALL_COLUMNS  # flow-log columns present in that table
    # strftime pattern of the `day` partition values; lexicographic order must equal date order.
    day_format: str = "%Y/%m/%d"
    # logical inventory table ("enis", "eni_ips", "subnets", "vpc_cidrs") -> (qualified) table name
    inventory: dict[str, str] = field(
        default_factory=lambda: {t: f"inventory_{t}" for t in ("enis", "eni_ips", "subnets", "vpc_cidrs")}
    )


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    # engine facts for stderr: e.g. files_read, files_skipped, data_scanned_bytes, cost_usd, query_id
    stats: dict = field(default_factory=dict)

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


class Engine(Protocol):
    name: str

    def target(self) -> Target: ...

    def execute(self, sql: str) -> Result: ...
