"""Engines run a rendered query. Each describes the tables a template renders against (`Target`)
and reports what it did (`Stats`): the evidence behind a figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from ..inventory.documents import TABLES as _INVENTORY_COLUMNS
from ..logs.fields import FIELDS

ALL_COLUMNS = frozenset(f.column for f in FIELDS)

# Partition columns of the flow-log table on every engine. `region` is a v4 field and
# `account_id` a v2 one, hence the aws_ prefix.
PARTITION_COLUMNS = ("aws_account_id", "aws_region", "day")

# the logical inventory tables (flowsql.inventory.TABLES has their columns)
INVENTORY_TABLES = tuple(_INVENTORY_COLUMNS)


def default_inventory_names(prefix: str = "") -> dict[str, str]:
    return {t: f"{prefix}inventory_{t}" for t in INVENTORY_TABLES}


@dataclass(frozen=True)
class Target:
    """What a template is rendered against: table names, the columns the table has, partition format."""

    engine: str  # "athena" | "local"
    flow_logs: str = "flow_logs"  # (qualified) name of the flow-log table or view
    # (qualified) name of the Transit Gateway flow-log table or view (queries with `table: tgw`)
    tgw_flow_logs: str = "tgw_flow_logs"
    columns: frozenset[str] = ALL_COLUMNS  # flow-log columns present in that table
    # strftime pattern of the `day` partition values; lexicographic order must equal date order.
    day_format: str = "%Y/%m/%d"
    # logical inventory table ("enis", "eni_ips", "subnets", "vpc_cidrs") -> (qualified) table name
    inventory: dict[str, str] = field(default_factory=default_inventory_names)

    @property
    def flow_log_tables(self) -> tuple[str, str]:
        """Every flow-log table a template may read: the partition rule bounds each of them."""
        return (self.flow_logs, self.tgw_flow_logs)


@dataclass(frozen=True)
class FileNote:
    """A file that was not read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Stats:
    """What an engine did for one query: the figures the CLI prints on stderr and the report's
    evidence appendix records."""

    engine: str
    elapsed_s: float = 0.0
    # local engine
    files_read: int | None = None
    bytes_read: int | None = None
    skipped: list[FileNote] = field(default_factory=list)  # unreadable, left out by --skip-bad-files
    left_out: list[FileNote] = field(default_factory=list)  # readable, but cannot answer this query
    # Athena
    data_scanned_bytes: int | None = None
    cost_usd: float | None = None
    execution_id: str | None = None
    workgroup: str | None = None
    notes: list[str] = field(default_factory=list)  # what the user must know about this answer

    def to_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [str(f) for f in self.skipped]
        d["left_out"] = [str(f) for f in self.left_out]
        return d

    def lines(self) -> list[str]:
        """The summary the CLI prints on stderr: what was read, left out, scanned, billed."""
        out: list[str] = []
        if self.engine == "local":
            out.append(f"read {self.files_read or 0:,} file(s), {self.bytes_read or 0:,} bytes "
                       f"in {self.elapsed_s:.1f} s")
        elif self.engine == "athena":
            scanned = self.data_scanned_bytes or 0
            out.append(f"data scanned: {scanned / 1e6:,.1f} MB, cost ≈ ${self.cost_usd or 0:,.6f} "
                       f"($5/TB, 10 MB minimum; query {self.execution_id or '?'})")
        if self.skipped:
            out.append(f"SKIPPED {len(self.skipped)} unreadable file(s):")
            out += [f"  skipped {f}" for f in self.skipped]
        if self.left_out:
            out.append(f"LEFT OUT {len(self.left_out)} file(s) that cannot answer this query:")
            out += [f"  left out {f}" for f in self.left_out]
        out += [f"note: {n}" for n in self.notes]
        return out


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    stats: Stats

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]


class Engine(Protocol):
    name: str

    def target(self) -> Target: ...

    def execute(self, sql: str) -> Result: ...

    def close(self) -> None: ...
