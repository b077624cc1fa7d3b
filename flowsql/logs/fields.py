"""Flow-log record fields (versions 2-8) and parsing of log formats and file headers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FormatError


@dataclass(frozen=True)
class Field:
    name: str  # as in a LogFormat: "log-status"
    version: int
    kind: str  # "int" (32-bit), "bigint" or "string"

    @property
    def column(self) -> str:
        """Column name in Athena and DuckDB: dashes become underscores."""
        return self.name.replace("-", "_")

    @property
    def athena_type(self) -> str:
        return self.kind

    @property
    def duckdb_type(self) -> str:
        return {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR"}[self.kind]

    @property
    def parquet_type(self) -> str:
        return {"int": "INT_32", "bigint": "INT_64", "string": "STRING"}[self.kind]


# Order is AWS's "Available fields" table order; the default format is the v2 fields in this order.
# Types follow the Parquet data types AWS documents (INT_32/INT_64/STRING).
FIELDS: tuple[Field, ...] = (
    Field("version", 2, "int"),
    Field("account-id", 2, "string"),
    Field("interface-id", 2, "string"),
    Field("srcaddr", 2, "string"),
    Field("dstaddr", 2, "string"),
    Field("srcport", 2, "int"),
    Field("dstport", 2, "int"),
    Field("protocol", 2, "int"),
    Field("packets", 2, "bigint"),
    Field("bytes", 2, "bigint"),
    Field("start", 2, "bigint"),
    Field("end", 2, "bigint"),
    Field("action", 2, "string"),
    Field("log-status", 2, "string"),
    Field("vpc-id", 3, "string"),
    Field("subnet-id", 3, "string"),
    Field("instance-id", 3, "string"),
    Field("tcp-flags", 3, "int"),
    Field("type", 3, "string"),
    Field("pkt-srcaddr", 3, "string"),
    Field("pkt-dstaddr", 3, "string"),
    Field("region", 4, "string"),
    Field("az-id", 4, "string"),
    Field("sublocation-type", 4, "string"),
    Field("sublocation-id", 4, "string"),
    Field("pkt-src-aws-service", 5, "string"),
    Field("pkt-dst-aws-service", 5, "string"),
    Field("flow-direction", 5, "string"),
    Field("traffic-path", 5, "int"),
    Field("ecs-cluster-arn", 7, "string"),
    Field("ecs-cluster-name", 7, "string"),
    Field("ecs-container-instance-arn", 7, "string"),
    Field("ecs-container-instance-id", 7, "string"),
    Field("ecs-container-id", 7, "string"),
    Field("ecs-second-container-id", 7, "string"),
    Field("ecs-service-name", 7, "string"),
    Field("ecs-task-definition-arn", 7, "string"),
    Field("ecs-task-arn", 7, "string"),
    Field("ecs-task-id", 7, "string"),
    Field("reject-reason", 8, "string"),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
BY_COLUMN: dict[str, Field] = {f.column: f for f in FIELDS}
DEFAULT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.version == 2)
DEFAULT_LOG_FORMAT = " ".join("${%s}" % n for n in DEFAULT_FIELDS)

_TOKEN = re.compile(r"\$\{([a-z0-9-]+)\}")


@dataclass(frozen=True)
class LogFormat:
    """An ordered list of flow-log fields, as a flow log's LogFormat or a file header names them."""

    names: tuple[str, ...]

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(BY_NAME[n] for n in self.names)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.fields)  # a subclass names its own fields (tgw_fields.TgwFormat)

    @property
    def version(self) -> int:
        """The version AWS writes in `version`: the highest version among the fields."""
        return max(f.version for f in self.fields)

    @property
    def is_default(self) -> bool:
        return self.names == DEFAULT_FIELDS

    def header(self) -> str:
        return " ".join(self.names)

    def log_format(self) -> str:
        return " ".join("${%s}" % n for n in self.names)

    def __contains__(self, name: str) -> bool:
        return name in self.names or name.replace("_", "-") in self.names


def _checked(names: list[str], what: str) -> LogFormat:
    if not names:
        raise FormatError(f"{what} names no fields")
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise FormatError(f"{what} has unknown field(s): {', '.join(unknown)}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise FormatError(f"{what} repeats field(s): {', '.join(dup)}")
    return LogFormat(tuple(names))


def parse_log_format(text: str | None) -> LogFormat:
    """Parse a LogFormat string such as `${version} ${vpc-id} ...`; empty means the default format."""
    if text is None or not text.strip():
        return LogFormat(DEFAULT_FIELDS)
    names = _TOKEN.findall(text)
    leftover = _TOKEN.sub("", text).strip()
    if leftover:
        raise FormatError(f"log format has text outside ${{field}} tokens: {leftover[:40]!r}")
    return _checked(names, "log format")
