"""The query pack: one `.sql` file per query under `sql/queries/`, its metadata in a header comment.

The id of a query is its file name; queries are found by listing the folder (no registry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import FlowsqlError, UsageError
from ..resources import sql_dir
from .params import ParamSpec

SEVERITIES = ("info", "low", "medium", "high", "critical")
_HEADER = re.compile(r"\A\s*\{#-?(?P<body>.*?)-?#\}", re.S)
_HEADER_KEYS = {"title", "description", "severity", "tags", "compliance", "parameters", "semantics", "example",
                "needs", "without", "why", "remediation", "columns", "table"}
# The flow-log table a query reads (`table:` in the header): VPC flow logs unless it says `tgw`, the
# Transit Gateway flow logs' own table (their records have other fields; the two are never mixed).
TABLES = ("vpc", "tgw")
# What a result column may be declared as (`columns:` in the header), beyond what its SQL type says:
# how a human-readable output shows it (output.as_declared). JSON and CSV keep the value as it is.
COLUMN_TYPES = {"unix_seconds": "a time in Unix seconds, shown as ISO 8601 UTC (2026-11-03T14:00:00Z) in tables "
                                "and the report's HTML and Markdown"}
# A finding (a query whose rows are something to fix) says why it matters and what to do.
FINDING_SEVERITIES = ("low", "medium", "high", "critical")
_PARAM_KEYS = {"type", "description", "default", "required", "min", "max", "values"}


class HeaderError(ValueError):
    """A query file whose metadata header is missing or invalid."""


@dataclass(frozen=True)
class Needs:
    """What a query cannot answer without, as its header declares it:

        needs:
          fields: [log-status, action, dstaddr, bytes]   # flow-log fields its SQL reads
          inventory: [network-interfaces, vpcs]          # inventory files its joins need
        without:                                         # optional inputs: what the answer lacks
          network-interfaces: subnets come only from the records' subnet-id field

    An engine checks them before the query runs: files or a table whose log format lacks a field
    are named (and left out, or the query refused), a missing inventory file is an error that says
    how to get it, and a missing optional input is a note beside the answer.
    """

    fields: tuple[str, ...] = ()
    inventory: tuple[str, ...] = ()
    without: tuple[tuple[str, str], ...] = ()

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(f.replace("-", "_") for f in self.fields)

    def missing_fields(self, fmt_names) -> list[str]:
        have = set(fmt_names)
        return [f for f in self.fields if f not in have]


def _needs(path: Path, meta: dict) -> Needs:
    from ..inventory import FILES

    if meta.get("table") == "tgw":  # a Transit Gateway query names the Transit Gateway fields
        from ..logs.tgw_fields import TGW_BY_COLUMN as BY_COLUMN, TGW_BY_NAME as BY_NAME
    else:
        from ..logs.fields import BY_COLUMN, BY_NAME

    stems = [n.removesuffix(".json") for n in FILES]
    raw = meta.get("needs") or {}
    if not isinstance(raw, dict) or set(raw) - {"fields", "inventory"}:
        raise HeaderError(f"{path}: needs must be a mapping with `fields` and/or `inventory`")
    fields = []
    for f in raw.get("fields") or []:
        name = str(f) if str(f) in BY_NAME else getattr(BY_COLUMN.get(str(f)), "name", None)
        if name is None:
            raise HeaderError(f"{path}: needs.fields: {f!r} is no flow-log field")
        fields.append(name)
    inventory = [str(i).removesuffix(".json") for i in raw.get("inventory") or []]
    bad = [i for i in inventory if i not in stems]
    if bad:
        raise HeaderError(f"{path}: needs.inventory: {bad[0]!r} is none of {', '.join(stems)}")
    without = meta.get("without") or {}
    if not isinstance(without, dict):
        raise HeaderError(f"{path}: without must map an optional field or inventory file to a note")
    for k, v in without.items():
        if str(k).removesuffix(".json") not in stems and str(k) not in BY_NAME:
            raise HeaderError(f"{path}: without: {k!r} is no flow-log field or inventory file")
        if not isinstance(v, str) or not v.strip():
            raise HeaderError(f"{path}: without.{k} needs a note (what the answer lacks without it)")
    return Needs(tuple(dict.fromkeys(fields)), tuple(dict.fromkeys(inventory)),
                 tuple((str(k).removesuffix(".json"), " ".join(v.split())) for k, v in without.items()))


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    title: str
    description: str
    severity: str
    parameters: tuple[ParamSpec, ...]
    tags: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    semantics: str = ""
    example: dict = field(default_factory=dict)  # parameter values the pack test renders with
    needs: Needs = field(default_factory=Needs)
    why: str = ""  # why its rows matter (findings)
    remediation: str = ""  # what to do about them (findings)
    columns: dict = field(default_factory=dict)  # result column -> one of COLUMN_TYPES (`columns:` in the header)
    table: str = "vpc"  # one of TABLES: the flow-log table it reads

    def required_example(self) -> dict:
        """The example's values of the required parameters only: the query with its defaults."""
        return {p.name: self.example[p.name] for p in self.parameters if p.required and p.name in self.example}

    @property
    def is_finding(self) -> bool:
        return self.severity in FINDING_SEVERITIES

    @property
    def body(self) -> str:
        """The template without its header (what Jinja renders)."""
        return split_header(self.path.read_text(encoding="utf-8"))[1]

    def describe(self) -> dict:
        """The query as `flowsql queries --output json` lists it."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "severity": self.severity,
            "finding": self.is_finding,
            **({"why": self.why, "remediation": self.remediation} if self.is_finding else {}),
            "tags": list(self.tags),
            "compliance": list(self.compliance),
            "needs": {"fields": list(self.needs.fields), "inventory": list(self.needs.inventory)},
            "columns": dict(self.columns),
            "table": self.table,
            "parameters": [
                {
                    "name": p.name,
                    "type": p.type,
                    "default": p.default,
                    "required": p.required,
                    "description": p.description,
                    **({"min": p.min} if p.min is not None else {}),
                    **({"max": p.max} if p.max is not None else {}),
                    **({"values": list(p.values)} if p.values else {}),
                }
                for p in self.parameters
            ],
        }


def split_header(text: str) -> tuple[str | None, str]:
    """(header body or None, rest of the file)."""
    m = _HEADER.match(text)
    if not m:
        return None, text
    return m["body"], text[m.end():].lstrip("\n")


def parse_query(path: Path) -> Query:
    """Read and validate one query file; HeaderError says what is wrong and where."""
    from ..files import read_regular_text

    try:
        text = read_regular_text(path, limit=1 << 20)
    except OSError as e:
        raise HeaderError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise HeaderError(f"{path}: not UTF-8 text") from None
    header, _ = split_header(text)
    if header is None:
        raise HeaderError(f"{path}: no metadata header ({{# title: … #}}) at the top")
    meta = _yaml(path, header)
    if not isinstance(meta, dict):
        raise HeaderError(f"{path}: header must be a YAML mapping")
    extra = set(meta) - _HEADER_KEYS
    if extra:
        raise HeaderError(f"{path}: unknown header key(s): {', '.join(sorted(extra))}")
    for key in ("title", "description", "severity"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise HeaderError(f"{path}: header needs a non-empty {key!r}")
    if meta["severity"] not in SEVERITIES:
        raise HeaderError(f"{path}: severity must be one of {', '.join(SEVERITIES)}")
    if meta["severity"] in FINDING_SEVERITIES:
        for key in ("why", "remediation"):
            if not isinstance(meta.get(key), str) or not meta[key].strip():
                raise HeaderError(f"{path}: a finding (severity {meta['severity']}) needs {key!r}: "
                                  + ("why its rows matter" if key == "why" else "what to do about them"))
    params = []
    for name, spec in (meta.get("parameters") or {}).items():
        if not isinstance(spec, dict) or "type" not in spec:
            raise HeaderError(f"{path}: parameter {name} needs a mapping with a type")
        bad = set(spec) - _PARAM_KEYS
        if bad:
            raise HeaderError(f"{path}: parameter {name}: unknown key(s) {', '.join(sorted(bad))}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise HeaderError(f"{path}: parameter name {name!r} must be lower_snake_case")
        p = ParamSpec(
            name=name,
            type=spec["type"],
            description=spec.get("description", ""),
            default=spec.get("default"),
            required=bool(spec.get("required", False)),
            min=spec.get("min"),
            max=spec.get("max"),
            values=tuple(spec.get("values") or ()),
        )
        try:
            p.check()
        except (ValueError, UsageError) as e:
            raise HeaderError(f"{path}: {e}") from None
        params.append(p)
    example = meta.get("example") or {}
    if not isinstance(example, dict):
        raise HeaderError(f"{path}: example must map parameter names to values")
    for p in params:
        if p.required and p.name not in example:
            raise HeaderError(f"{path}: required parameter {p.name} needs a value in `example` (lint renders with it)")
    table = meta.get("table", "vpc")
    if table not in TABLES:
        raise HeaderError(f"{path}: table must be one of {', '.join(TABLES)} (the flow-log table the query reads)")
    columns = meta.get("columns") or {}
    if not isinstance(columns, dict):
        raise HeaderError(f"{path}: columns must map result column names to a type ({', '.join(COLUMN_TYPES)})")
    for column, kind in columns.items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(column)):
            raise HeaderError(f"{path}: columns: {column!r} is no result column name (lower_snake_case)")
        if kind not in COLUMN_TYPES:
            raise HeaderError(f"{path}: columns.{column}: {kind!r} is none of {', '.join(COLUMN_TYPES)}")
    return Query(
        name=path.name[: -len(".sql")],
        path=path,
        title=meta["title"].strip(),
        description=" ".join(meta["description"].split()),
        severity=meta["severity"],
        parameters=tuple(params),
        tags=tuple(meta.get("tags") or ()),
        compliance=tuple(meta.get("compliance") or ()),
        semantics=" ".join(str(meta.get("semantics") or "").split()),
        example={k: (",".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in example.items()},
        needs=_needs(path, meta),
        why=" ".join(str(meta.get("why") or "").split()),
        remediation=" ".join(str(meta.get("remediation") or "").split()),
        columns={str(c): str(k) for c, k in columns.items()},
        table=table,
    )


def _yaml(path: Path, header: str):
    """The header's YAML, cached by its text: a query that ran before does not import PyYAML."""
    import hashlib

    from ..cache import cache_dir, read_cached, write_cached
    from ..files import dumps_json, loads_json

    cached = cache_dir("headers") / f"{hashlib.sha256(header.encode()).hexdigest()}.json"
    meta = read_cached(cached)
    if meta is not None:
        return meta
    import yaml  # a dependency of sqlfluff too; only needed when a header is new

    try:
        # the C loader where PyYAML has it (a few ms a header less), the same safe subset of YAML
        meta = yaml.load(header, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise HeaderError(f"{path}: header is not valid YAML: {e}") from None
    try:
        # only what JSON keeps as it is (no YAML dates, say; a NaN is not kept either)
        if loads_json(dumps_json(meta)) == meta:
            write_cached(cached, meta)
    except (TypeError, ValueError, FlowsqlError):
        pass
    return meta


def load_pack(root: Path | None = None) -> tuple[Query, ...]:
    """Every query under `root/queries` (default: the pack in use), sorted by name."""
    return _load_pack(Path(root or sql_dir()).resolve())


@lru_cache(maxsize=4)
def _load_pack(root: Path) -> tuple[Query, ...]:
    qdir = root / "queries"
    if not qdir.is_dir():
        raise UsageError(f"{root} holds no queries/ folder (FLOWSQL_SQL_DIR must name a query pack)")
    paths = sorted(qdir.glob("*.sql"))
    odd = [p for p in paths if not p.is_file()]
    if odd:  # a folder or a pipe named like a query: one file is one query
        raise UsageError(f"{odd[0]}: not a regular file (each query of a pack is one .sql file)")
    if not paths:  # a gate that finds nothing to lint must not pass
        others = sorted(p.name for p in qdir.iterdir())[:3]
        raise UsageError(f"{qdir} holds no query (*.sql file)" + (f"; it holds {', '.join(others)}" if others else "")
                         + " (FLOWSQL_SQL_DIR must name a query pack)")
    return tuple(_parse_cached(p) for p in paths)


@lru_cache(maxsize=256)
def _parse_cached(path: Path) -> Query:
    return parse_query(path)


_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def get_query(name: str, root: Path | None = None) -> Query:
    """One query of the pack. Only its own file is read (a command runs one query: the pack's other
    headers are not parsed); the whole pack only to say what there is when the name is unknown."""
    folder = Path(root or sql_dir()).resolve()
    path = folder / "queries" / f"{name}.sql"
    if _NAME.fullmatch(name) and path.is_file():
        return _parse_cached(path)
    queries = {q.name: q for q in load_pack(root)}
    if name not in queries:
        near = [n for n in queries if name in n or n in name]
        hint = f"; did you mean {near[0]}?" if near else "; `flowsql queries` lists them"
        raise UsageError(f"unknown query {name!r}{hint}")
    return queries[name]
