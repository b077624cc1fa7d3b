"""The settings `flowsql setup` writes and `flowsql query --engine athena` reads.

A small JSON file at `$FLOWSQL_CONFIG`, else `$XDG_CONFIG_HOME/flowsql/config.json`, else
`~/.config/flowsql/config.json`. It records where setup put things (region, database, tables,
workgroup, results location) and what the queries need to know about each flow-log table (its
columns, the format of its `day` values, the accounts and regions it covers and whether they are
projected as `enum` or `injected`), so `query` needs no flags. Written atomically.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import UsageError
from ...files import dumps_json, write_atomic
from . import defaults

VERSION = 1
MAX_CONFIG_BYTES = 16 << 20  # setup's config of hundreds of accounts' tables is kilobytes


def config_path() -> Path:
    env = os.environ.get("FLOWSQL_CONFIG")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "flowsql" / "config.json"


@dataclass
class TableConfig:
    """A flow-log table as queries need to know it."""

    name: str
    location: str  # s3://bucket/prefix/AWSLogs/
    columns: list[str]  # flow-log columns, in the log format's order
    file_format: str = "plain-text"
    hive: bool = False
    per_hour: bool = False
    day_format: str = "%Y/%m/%d"  # strftime of the `day` partition values (Target.day_format)
    accounts: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    account_projection: str = "enum"  # "enum" | "injected" (injected: queries must list accounts)
    region_projection: str = "enum"
    day_start: str = "2018-01-01"
    # The bucket's default encryption as setup read it (AES256, aws:kms, …; "" for none; None: not
    # known, e.g. a config from before flowsql recorded it), and its SSE-KMS key: the query policy
    # grants kms:Decrypt on it.
    sse: str | None = None
    kms_key: str | None = None
    kind: str = "vpc"  # "vpc" | "tgw": a Transit Gateway flow-log table (queries with `table: tgw`)

    def partition_filters(self, accounts=(), regions=()) -> tuple[list[str], list[str]]:
        """The account/region filters a query over this table sends. An `injected` column must be
        given in every query: default to the values setup found, or ask for them."""
        accounts, regions = list(accounts or ()), list(regions or ())
        for kind, given, known, flag in (("account", accounts, self.accounts, "--account"),
                                         ("region", regions, self.regions, "--region")):
            if given or getattr(self, f"{kind}_projection") != "injected":
                continue
            if not known:
                raise UsageError(f"table {self.name} projects {kind} as injected: pass {flag}")
            given.extend(known)
        return accounts, regions


@dataclass
class Config:
    region: str
    database: str = defaults.DATABASE
    workgroup: str = defaults.WORKGROUP
    profile: str | None = None
    account: str | None = None
    results_location: str | None = None  # s3://…/ where the workgroup writes results
    inventory_location: str | None = None  # s3://…/inventory/ (one folder per inventory table)
    tables: list[TableConfig] = field(default_factory=list)  # the first is the default
    inventory: dict[str, str] = field(default_factory=dict)  # logical name -> Glue table name
    inventory_synced: str | None = None  # when `inventory sync --upload` last filled those tables (UTC)
    version: int = VERSION

    def table(self, name: str | None = None) -> TableConfig:
        """The named flow-log table, or the default (first) one."""
        if not self.tables:
            raise UsageError("the flowsql config names no flow-log table; run `flowsql setup`")
        if name is None:  # the first VPC flow-log table (a config of Transit Gateway tables only: the first)
            return next((t for t in self.tables if t.kind != "tgw"), self.tables[0])
        for t in self.tables:
            if t.name == name:
                return t
        raise UsageError(f"no flow-log table {name!r} in the flowsql config "
                         f"(known: {', '.join(t.name for t in self.tables)})")

    def tgw_table(self) -> TableConfig | None:
        """The first Transit Gateway flow-log table, or None when setup made none."""
        return next((t for t in self.tables if t.kind == "tgw"), None)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Config":
        data = dict(data)
        if data.get("version", VERSION) > VERSION:
            raise UsageError(f"the flowsql config was written by a newer flowsql (version {data['version']})")
        tables = [TableConfig(**_known(TableConfig, t)) for t in data.pop("tables", [])]
        cfg = cls(**_known(cls, data))
        cfg.tables = tables
        return cfg


def athena_target(config: Config | None, table: str | None = None):
    """The Target a query renders against on Athena, from the saved settings (no AWS call).

    Without settings (setup not run): flowsql's default names, every column, the plain day format.
    """
    from ..base import Target, default_inventory_names

    if config is None:
        return Target(engine="athena", flow_logs=f"{defaults.DATABASE}.{defaults.TABLE}",
                      tgw_flow_logs=f"{defaults.DATABASE}.{defaults.TGW_TABLE}",
                      inventory=default_inventory_names(f"{defaults.DATABASE}."))
    t = config.table(table)
    db = config.database
    inventory = config.inventory or default_inventory_names()
    tgw = t if t.kind == "tgw" else config.tgw_table()
    return Target(engine="athena", flow_logs=f"{db}.{t.name}", columns=frozenset(t.columns),
                  tgw_flow_logs=f"{db}.{tgw.name if tgw else 'tgw_flow_logs'}",
                  day_format=t.day_format, inventory={k: f"{db}.{v}" for k, v in inventory.items()})


def _known(cls, data: dict) -> dict:
    names = set(cls.__dataclass_fields__)
    return {k: v for k, v in data.items() if k in names}


def exists(path: Path | None = None) -> bool:
    """Has `flowsql setup` saved its settings here? Anything by the name counts (a pipe, a link to
    nothing): load() then says what is wrong with it, rather than the local engine being chosen."""
    return os.path.lexists(Path(path) if path else config_path())


def load(path: Path | None = None, *, required: bool = False) -> Config | None:
    """The saved config; None when setup has not run (no file), or a UsageError if `required`."""
    from ...files import DocumentError, error_reason, read_json

    path = Path(path) if path else config_path()
    try:
        data = read_json(path, limit=MAX_CONFIG_BYTES)
    except FileNotFoundError:
        if required:
            raise UsageError(f"flowsql is not set up for Athena (no settings at {path}): run `flowsql setup` "
                             "first, or use --engine local") from None
        return None
    except OSError as e:
        raise UsageError(f"cannot read the flowsql config {path}: {error_reason(e)}") from None
    except (UnicodeDecodeError, DocumentError) as e:
        raise UsageError(f"the flowsql config {path} is not valid ({error_reason(e)}); run `flowsql setup` "
                         "again") from None
    try:
        if not isinstance(data, dict):
            raise TypeError(f"a JSON {type(data).__name__}, not an object")
        return Config.from_dict(data)
    except (ValueError, TypeError, AttributeError) as e:  # ValueError: JSONDecodeError and the like
        reason = " ".join(str(e).split())
        raise UsageError(f"the flowsql config {path} is not valid ({reason}); run `flowsql setup` again") from None


def save(config: Config, path: Path | None = None) -> Path:
    """Write the config atomically (temp file in the same folder, then rename); returns the path."""
    path = Path(path) if path else config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, dumps_json(config.to_dict(), what=f"the flowsql config {path}", indent=2) + "\n")
    return path
