"""Engines run a rendered query. Each describes the tables a template renders against (`Target`)
and reports what it did (`Stats`): the evidence behind a figure.
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Protocol

from ..inventory.documents import TABLES as _INVENTORY_COLUMNS
from .options import FLAGS, OPTIONS, EngineOptions
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

    engine: str  # an engine's name (flowsql.engines.names()): whose dispatched macros render
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

    def lines(self, summary: str) -> list[str]:
        """The summary the CLI prints on stderr: what was read or scanned and billed (`summary`: the
        engine's words for it, flowsql.engines.stats_lines), left out, noted."""
        out: list[str] = [summary]
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
    """What runner.py and the features call on a running engine (EngineSpec.create makes one)."""

    name: str

    def target(self) -> Target: ...

    def require(self, query, *, window=None, accounts=(), regions=()) -> None:
        """Check a query's needs against what the engine has before it runs: UsageError when it
        cannot answer; what is left out is named in the next result's stats."""

    def execute(self, sql: str) -> Result: ...

    def close(self) -> None: ...


class EngineSpec:
    """What flowsql knows of an engine without starting it: each engine package's `ENGINE` is a
    subclass. `flowsql.engines.check_engine()` names what a subclass leaves unset."""

    # the engine options of the command line, each with its flag; an engine owns some of them
    OPTIONS = OPTIONS
    FLAGS = FLAGS
    # what every engine sets, and the methods it implements
    REQUIRED = ("name", "title", "dialect", "needs_aws", "lint_flow_logs", "lint_tgw_flow_logs", "evidence_fields")
    METHODS = ("create", "render_target", "read_summary", "set_up", "unready")

    name: str = ""  # the --engine value and its folder's name
    title: str = ""  # how a sentence names it: "the local engine", "Athena"
    dialect: str = ""  # the sqlfluff dialect its rendered SQL is linted in
    needs_aws: bool | None = None  # does a run reach AWS (a schedule then needs credentials)
    needs_setup: bool = False  # does it run on the settings `flowsql setup` saves (set_up())
    lint_flow_logs: str = ""  # the flow-log table a pack template is linted against
    lint_tgw_flow_logs: str = ""  # and the Transit Gateway flow-log table
    options: tuple[str, ...] = ()  # the engine options (OPTIONS) that belong to it
    selected_by: tuple[str, ...] = ()  # options that choose it when --engine is not given
    # what the report's and a case's evidence show of a query's run: (label, kind, keys), kind one
    # of "text", "bytes", "usd", "files" (files read and their bytes)
    evidence_fields: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    # made for one window (it lists that window's files): a query over another window needs another
    per_window: bool = False

    def create(self, options: EngineOptions, *, window, accounts=(), regions=()) -> Engine:
        """The engine, from a command's options; heavy modules are imported here, not before."""
        raise NotImplementedError

    def render_target(self, options: EngineOptions | None = None) -> Target:
        """The tables a query renders against when it is only rendered (no engine is started)."""
        raise NotImplementedError

    estimates_cost = False  # cost_estimate() is implemented (`flowsql render --explain`)

    def cost_estimate(self, options: EngineOptions, sql: str, window, *, accounts=(), regions=()) -> list[str]:
        """What the rendered query would read, scan and cost, as lines (before it is run)."""
        raise NotImplementedError

    def read_summary(self, stats: Mapping) -> str:
        """The first line of what a query did (Stats.to_dict() or an evidence entry: elapsed_s
        only in the former)."""
        raise NotImplementedError

    def set_up(self) -> bool:
        """Is this engine ready without options (Athena once `flowsql setup` saved settings)?"""
        raise NotImplementedError

    def unready(self, given: Callable[[str], str | None], set_up: bool) -> str | None:
        """Why a run with these options (given(flag) -> its value) could only fail, or None."""
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------

    @property
    def reads_files(self) -> bool:
        """Does it read the files of a folder (--source), which the evidence can list and hash?"""
        return "source" in self.options

    @property
    def named_table(self) -> bool:
        """Are its flow logs a table named in the settings (--table), rather than files (--source)?"""
        return "table" in self.options

    @property
    def reads_inventory(self) -> bool:
        """Does the engine join the inventory itself (else a command reads it)?"""
        return "inventory" in self.options

    def lint_target(self) -> Target:
        """The tables a pack template is linted against."""
        return Target(self.name, flow_logs=self.lint_flow_logs, tgw_flow_logs=self.lint_tgw_flow_logs)

    def macros_dir(self) -> Path:
        """The engine's dispatched macros: `<name>__<macro>` in macros/*.sql beside its module."""
        return Path(sys.modules[type(self).__module__].__file__).resolve().parent / "macros"

    def macro_files(self) -> list[Path]:
        d = self.macros_dir()
        return sorted(d.glob("*.sql")) if d.is_dir() else []

    def macros(self) -> set[str]:
        """The dispatched macros the engine implements (`x` for its macro `<name>__x`)."""
        pattern = re.compile(r"\{%-?\s*macro\s+" + re.escape(self.name) + r"__([A-Za-z_][A-Za-z0-9_]*)\s*\(")
        return {m for p in self.macro_files() for m in pattern.findall(p.read_text(encoding="utf-8"))}

    def option_args(self, options: EngineOptions, names) -> list[str]:
        """The command-line arguments of the given options among `names` that belong to this engine,
        in the order of `names` (a command that does the same again)."""
        argv: list[str] = []
        for o in names:
            value = getattr(options, o, None)
            if o not in self.options or value in (None, False):
                continue
            argv += [self.FLAGS[o]] if value is True else [self.FLAGS[o], str(value)]
        return argv

    def foreign(self, options: EngineOptions, shared=()) -> list[str]:
        """The flags given that belong to no option of this engine (another engine's), except `shared`."""
        return [self.FLAGS[o] for o in options.given() if o not in self.options and o not in shared]

    def __repr__(self) -> str:
        return f"<engine {self.name}>"


@dataclass(frozen=True)
class EngineChoice:
    """The engine a command runs on and the engine options it was given (flowsql.engines.choose)."""

    spec: EngineSpec
    options: EngineOptions

    @property
    def name(self) -> str:
        return self.spec.name

    def create(self, *, window, accounts=(), regions=(), **options) -> Engine:
        """The engine; `options` (e.g. the command's own --inventory) reach it where they are its own."""
        from dataclasses import replace

        given = replace(self.options, **{k: v for k, v in options.items() if k in self.spec.options})
        return self.spec.create(given, window=window, accounts=accounts, regions=regions)
