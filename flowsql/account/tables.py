"""flowsql's Athena tables, rendered from the one definition in `glue/tables.yaml`.

A `TableSpec` is built from that definition plus what discovery found (columns, location, layout,
accounts, regions); it renders both the Glue `TableInput` setup sends and the equivalent Athena
`CREATE EXTERNAL TABLE` that `--dry-run` prints, so the two cannot drift apart.

Partition projection (no crawler, no MSCK REPAIR):
- `day` is a projected `date` whose format embeds the path text between year, month and day
  (`yyyy/MM/dd`, or `yyyy'/month='MM'/day='dd` for Hive-compatible prefixes), so one string column
  covers the path and `day BETWEEN '…' AND '…'` prunes. The range starts at `day_start`, ends NOW.
- `hour` (flow logs delivered per hour) is an `integer` 0–23 with 2 digits.
- `aws_account_id` and `aws_region` are `enum` (values listed) while there are at most `enum_max`
  (40) values, else `injected`. Why: an enum lets a query leave the column out, but every value
  is stored in the table's metadata, which Glue caps at about 1 MB gzipped, and AWS advises a few
  dozen values at most; a new account also needs `setup --update` before it is seen. `injected`
  accepts any value, but Athena then refuses any query that does not give the column's values in
  WHERE (`aws_account_id IN (…)`) — flowsql's queries always do, from the config's known accounts
  or `--account`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from ..errors import UsageError
from ..inventory import TABLES as INVENTORY_COLUMNS

DEFAULT_DAY_START = date(2018, 1, 1)  # flow logs to S3 exist since 2018; bounded queries cost nothing extra
MANAGED = "flowsql.managed"  # table parameter marking tables flowsql created
DESTINATION = "flowsql.destination"  # table parameter: which destination a flow-log table covers
LAZY_SIMPLE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"


@functools.lru_cache(maxsize=1)
def definition() -> dict:
    """The parsed `glue/tables.yaml` (in the installed package or the source checkout)."""
    import yaml

    from ..resources import glue_definition_path

    with open(glue_definition_path(), encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass(frozen=True)
class TableSpec:
    """Everything about one table, independent of how it is sent (API) or shown (DDL)."""

    database: str
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]
    location: str
    serde: str
    serde_parameters: dict[str, str]
    input_format: str
    output_format: str
    parameters: dict[str, str]
    # DDL only: ROW FORMAT DELIMITED (fields, null) instead of ROW FORMAT SERDE, when the SerDe is
    # LazySimpleSerDe; both create the same Glue table.
    delimited: tuple[str, str] | None = None

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"

    def table_input(self) -> dict[str, Any]:
        """The Glue `TableInput` for CreateTable/UpdateTable."""
        return {
            "Name": self.name,
            "Description": self.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"EXTERNAL": "TRUE", **self.parameters},
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in self.partition_keys],
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in self.columns],
                "Location": self.location,
                "InputFormat": self.input_format,
                "OutputFormat": self.output_format,
                "Compressed": False,
                "SerdeInfo": {"SerializationLibrary": self.serde, "Parameters": dict(self.serde_parameters)},
                "StoredAsSubDirectories": False,
            },
        }

    def ddl(self) -> str:
        """The Athena (Hive) DDL that creates the same table; parses with sqlfluff's athena dialect."""
        cols = ",\n".join(f"  {_ident(n)} {t}" for n, t in self.columns)
        lines = [f"CREATE EXTERNAL TABLE {_ident(self.database)}.{_ident(self.name)} (", cols, ")"]
        if self.description:
            lines.append(f"COMMENT {_literal(self.description)}")
        if self.partition_keys:
            lines.append("PARTITIONED BY (" + ", ".join(f"{_ident(n)} {t}" for n, t in self.partition_keys) + ")")
        if self.delimited:
            fields, null = self.delimited
            lines.append(f"ROW FORMAT DELIMITED FIELDS TERMINATED BY {_literal(fields)} NULL DEFINED AS {_literal(null)}")
        else:
            lines.append(f"ROW FORMAT SERDE {_literal(self.serde)}")
            if self.serde_parameters:
                lines.append("WITH SERDEPROPERTIES (" + ", ".join(
                    f"{_literal(k)} = {_literal(v)}" for k, v in self.serde_parameters.items()) + ")")
        lines.append(f"STORED AS INPUTFORMAT {_literal(self.input_format)}")
        lines.append(f"OUTPUTFORMAT {_literal(self.output_format)}")
        lines.append(f"LOCATION {_literal(self.location)}")
        if self.parameters:
            props = ",\n".join(f"  {_literal(k)} = {_literal(v)}" for k, v in self.parameters.items())
            lines.append("TBLPROPERTIES (\n" + props + "\n)")
        return "\n".join(lines)


def _ident(name: str) -> str:
    if "`" in name:
        raise UsageError(f"invalid identifier {name!r}")
    return f"`{name}`"


def _literal(value: str) -> str:
    """A Hive string literal. Hive has no '' escape (adjacent literals concatenate), so a value
    holding a single quote (the Hive day format) is written in double quotes instead."""
    if "'" not in value:
        return f"'{value}'"
    if '"' in value or "\\" in value:
        raise UsageError(f"cannot quote {value!r} for DDL")
    return f'"{value}"'


# -- flow-log tables -------------------------------------------------------------------------

def day_format(hive: bool) -> str:
    """The strftime format of the `day` partition values (Target.day_format) for a layout."""
    return definition()["flow_logs"]["layouts"]["hive" if hive else "plain"]["day_format"]["strftime"]


def projection_type(values: Iterable[str], enum_max: int | None = None) -> str:
    """`enum` for a few values (listed in the table), `injected` for many (see module docstring)."""
    limit = definition()["flow_logs"]["projection"]["enum_max"] if enum_max is None else enum_max
    n = len(set(values))
    return "enum" if 0 < n <= limit else "injected"


@dataclass(frozen=True)
class FlowLogTable:
    """What a flow-log table is made from (a discovery.Destination gives most of it)."""

    name: str
    location: str  # s3://bucket/prefix/AWSLogs/
    columns: tuple[tuple[str, str], ...]  # (column, athena type) in the log format's order
    file_format: str = "plain-text"
    hive: bool = False
    per_hour: bool = False
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    account_projection: str | None = None  # None: chosen by projection_type()
    region_projection: str | None = None
    day_start: date = DEFAULT_DAY_START
    destination_key: str = ""
    kind: str = "vpc"  # "vpc" | "tgw" (Transit Gateway flow logs: their own fields, same layout)

    @classmethod
    def from_destination(cls, name: str, dest, **kw) -> "FlowLogTable":
        columns = tuple((f.column, f.athena_type) for f in dest.log_format.fields)
        return cls(name=name, location=dest.location, columns=columns, file_format=dest.file_format,
                   hive=dest.hive, per_hour=dest.per_hour, accounts=tuple(dest.accounts),
                   regions=tuple(dest.regions), destination_key=dest.key, kind=getattr(dest, "kind", "vpc"), **kw)

    @property
    def resolved_account_projection(self) -> str:
        return self.account_projection or projection_type(self.accounts)

    @property
    def resolved_region_projection(self) -> str:
        return self.region_projection or projection_type(self.regions)


def flow_log_spec(database: str, t: FlowLogTable) -> TableSpec:
    """The TableSpec of a flow-log table with partition projection over its S3 layout."""
    d = definition()["flow_logs"]
    if not t.location.endswith("/AWSLogs/"):
        raise UsageError(f"flow-log table location must be the AWSLogs/ folder, got {t.location}")
    storage = d["storage"][t.file_format]
    layout = d["layouts"]["hive" if t.hive else "plain"]
    keys = [(k["name"], k["type"]) for k in d["partition_keys"]]
    template = t.location + layout["template"]
    if t.per_hour:
        keys.append((d["hour_key"]["name"], d["hour_key"]["type"]))
        template += layout["hour"]

    params: dict[str, str] = {}
    params.update({k: str(v) for k, v in storage.get("parameters", {}).items()})
    params["projection.enabled"] = "true"
    for col, kind, values in (("aws_account_id", t.resolved_account_projection, t.accounts),
                              ("aws_region", t.resolved_region_projection, t.regions)):
        params[f"projection.{col}.type"] = kind
        if kind == "enum":
            if not values:
                raise UsageError(f"an enum projection of {col} needs at least one value")
            params[f"projection.{col}.values"] = ",".join(sorted(set(values)))
    java = layout["day_format"]["java"]
    start = t.day_start.strftime(layout["day_format"]["strftime"])
    params["projection.day.type"] = d["projection"]["day"]["type"]
    params["projection.day.format"] = java
    params["projection.day.range"] = f"{start},NOW"
    params["projection.day.interval"] = d["projection"]["day"]["interval"]
    params["projection.day.interval.unit"] = d["projection"]["day"]["interval.unit"]
    if t.per_hour:
        for k, v in d["projection"]["hour"].items():
            params[f"projection.hour.{k}"] = str(v)
    params["storage.location.template"] = template
    params[MANAGED] = "true"
    if t.destination_key:
        params[DESTINATION] = t.destination_key

    serde, serde_params, delimited = _row_format(storage)
    return TableSpec(
        database=database, name=t.name,
        description=d["tgw_description" if t.kind == "tgw" else "description"].format(location=t.location),
        columns=t.columns, partition_keys=tuple(keys), location=t.location, serde=serde,
        serde_parameters=serde_params, input_format=storage["input_format"],
        output_format=storage["output_format"], parameters=params, delimited=delimited,
    )


def _row_format(storage: dict) -> tuple[str, dict[str, str], tuple[str, str] | None]:
    if storage["row_format"] == "delimited":
        fields, null = storage["fields_terminated_by"], storage["null_defined_as"]
        # What Athena stores for ROW FORMAT DELIMITED FIELDS TERMINATED BY f NULL DEFINED AS n.
        params = {"field.delim": fields, "serialization.format": fields, "serialization.null.format": null}
        return LAZY_SIMPLE, params, (fields, null)
    return storage["serde"], {k: str(v) for k, v in (storage.get("serde_parameters") or {}).items()}, None


# -- inventory tables ------------------------------------------------------------------------

def inventory_table_names() -> dict[str, str]:
    """Logical inventory table -> Glue table name (`enis` -> `inventory_enis`)."""
    return dict(definition()["inventory"]["tables"])


def inventory_specs(database: str, location: str) -> list[TableSpec]:
    """The four inventory tables (JSON lines, one S3 folder each under `location`)."""
    d = definition()["inventory"]
    if not location.endswith("/"):
        location += "/"
    serde, serde_params, delimited = _row_format(d)
    out = []
    for logical, name in inventory_table_names().items():
        out.append(TableSpec(
            database=database, name=name, description=d["description"].format(table=logical),
            columns=INVENTORY_COLUMNS[logical], partition_keys=(), location=f"{location}{logical}/",
            serde=serde, serde_parameters=serde_params, input_format=d["input_format"],
            output_format=d["output_format"],
            parameters={**{k: str(v) for k, v in d["parameters"].items()}, MANAGED: "true"},
            delimited=delimited,
        ))
    return out


# -- comparing with what is in Glue ----------------------------------------------------------

def diff(existing: dict, wanted: TableSpec) -> list[str]:
    """How a Glue table (GetTable's `Table`) differs from `wanted`: one short phrase each; [] = same."""
    out: list[str] = []
    sd = existing.get("StorageDescriptor") or {}
    have_cols = [(c.get("Name"), (c.get("Type") or "").lower()) for c in sd.get("Columns") or []]
    want_cols = [(n, t.lower()) for n, t in wanted.columns]
    if have_cols != want_cols:
        out.append(_column_diff("columns", have_cols, want_cols))
    have_keys = [(c.get("Name"), (c.get("Type") or "").lower()) for c in existing.get("PartitionKeys") or []]
    want_keys = [(n, t.lower()) for n, t in wanted.partition_keys]
    if have_keys != want_keys:
        out.append(_column_diff("partition keys", have_keys, want_keys))
    if (sd.get("Location") or "").rstrip("/") != wanted.location.rstrip("/"):
        out.append(f"location {sd.get('Location')} -> {wanted.location}")
    serde = sd.get("SerdeInfo") or {}
    if serde.get("SerializationLibrary") != wanted.serde:
        out.append(f"SerDe {serde.get('SerializationLibrary')} -> {wanted.serde}")
    have_sp = serde.get("Parameters") or {}
    for k, v in wanted.serde_parameters.items():
        if have_sp.get(k) != v:
            out.append(f"SerDe property {k} {have_sp.get(k)!r} -> {v!r}")
    if sd.get("InputFormat") != wanted.input_format or sd.get("OutputFormat") != wanted.output_format:
        out.append("input/output format")
    if existing.get("TableType") not in (None, "EXTERNAL_TABLE"):
        out.append(f"table type {existing.get('TableType')} -> EXTERNAL_TABLE")
    have = existing.get("Parameters") or {}
    want = {"EXTERNAL": "TRUE", **wanted.parameters}
    for k, v in want.items():
        if have.get(k) != v and not (k == "EXTERNAL" and str(have.get(k)).upper() == "TRUE"):
            out.append(f"{k} {have.get(k)!r} -> {v!r}" if k in have else f"{k} missing")
    # Parameters Glue or Athena add themselves (transient_lastDdlTime, …) are no difference; stale
    # projection settings (an hour key that went away) are.
    for k in have:
        if k not in want and (k.startswith("projection.") or k in ("storage.location.template",
                                                                    "skip.header.line.count")):
            out.append(f"{k} {have[k]!r} should be removed")
    if (existing.get("Description") or "") != wanted.description:
        out.append("description")
    return out


def _column_diff(what: str, have: list, want: list) -> str:
    hn, wn = [n for n, _ in have], [n for n, _ in want]
    added = [n for n in wn if n not in hn]
    removed = [n for n in hn if n not in wn]
    retyped = [f"{n} {dict(have)[n]}->{t}" for n, t in want if n in dict(have) and dict(have)[n] != t]
    parts = ([f"+{', +'.join(added)}"] if added else []) + ([f"-{', -'.join(removed)}"] if removed else []) \
        + retyped
    if not parts:
        parts = ["order"]
    return f"{what}: {'; '.join(parts)}"
