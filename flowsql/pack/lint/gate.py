"""The lint gate: sqlfluff (dialect athena) on rendered SQL, with flowsql's own partition rule FS01
(flowsql/pack/lint/partition_bound.py, run as the sqlfluff rule of flowsql/pack/lint/sqlfluff_plugin).

Findings are cached by the hash of the SQL, the sqlfluff version and the rule set, so a query that
ran once lints in microseconds the next time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ...cache import cache_dir, read_cached, write_cached
from .partition_bound import DEFAULT_TABLES
from .settings import LINT_ACCOUNTS, engine_names, lint_target, lint_window

DIALECT = "athena"  # the pack's SQL; each engine says the dialect its rendered SQL is linted in
# Rules left out, and why:
#   LT05 line length: macro output (CIDR lists, the window) is one line by design.
#   AM04 "unknown number of result columns": never true of our explicit selects, noisy on CTEs.
#   ST06 column order in SELECT: the DESIGN column order is a contract, not wildcards-first style.
EXCLUDED_RULES = ("LT05", "AM04", "ST06")
# the code whose change must not be answered from an old cache: this folder, whole (the gate, the rule,
# the sqlfluff plugin and its configuration), a file added to it included
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.code} {self.message}"


def _cache_dir() -> Path:
    return cache_dir("lint")


def _key(sql: str, table: str | None, dialect: str = DIALECT) -> str:
    """The cache key of a lint result. The installed versions come from package metadata, so a warm
    query imports neither sqlfluff nor sqlglot (0.4 s and 0.2 s of start-up)."""
    from ... import __version__
    from ...cache import source_digest
    from ...engines.local.translate import package_version

    h = hashlib.sha256()
    rules = source_digest(_HERE)
    for part in (__version__, package_version("sqlfluff"), package_version("sqlglot"), rules, dialect,
                 ",".join(EXCLUDED_RULES), table or "", sql):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _cached(key: str) -> list[dict] | None:
    return read_cached(_cache_dir() / f"{key}.json")


def _store(key: str, findings: list[dict]) -> None:
    write_cached(_cache_dir() / f"{key}.json", findings)


_linters: dict = {}  # flow-log table names -> a Linter whose FS01 looks for them


def _get_linter(tables: tuple[str, ...], dialect: str = DIALECT):
    if (tables, dialect) not in _linters:
        from sqlfluff.core import FluffConfig, Linter

        from .partition_bound import CODE, NAME
        from .sqlfluff_plugin import ensure_registered

        ensure_registered()
        excluded = EXCLUDED_RULES if tables else (*EXCLUDED_RULES, CODE)
        overrides = {"dialect": dialect, "templater": "raw", "exclude_rules": ",".join(excluded)}
        configs = {"rules": {NAME: {"flow_log_tables": ",".join(tables)}}}
        # `-- noqa` silences any rule but FS01: the gate never lets a full scan through
        codes = [r.code for r in Linter(config=FluffConfig(configs=configs, overrides=overrides)).rule_tuples()]
        overrides["disable_noqa_except"] = ",".join([c for c in codes if c != CODE] + ["PRS", "LXR", "TMP"])
        _linters[tables, dialect] = Linter(config=FluffConfig(configs=configs, overrides=overrides))
    return _linters[tables, dialect]


def lint_sql(sql: str, file: str, *, flow_log_table: str | tuple[str, ...] | None = None,
             dialect: str = DIALECT) -> list[Finding]:
    """Lint one rendered SQL text. `flow_log_table`: the name(s) the partition rule looks for;
    `dialect`: the engine's (EngineSpec.dialect)."""
    tables = (flow_log_table,) if isinstance(flow_log_table, str) else tuple(flow_log_table or ())
    key = _key(sql, ",".join(tables), dialect)
    found = _cached(key)
    if found is None and _shipped_clean(sql, file, tables, dialect):
        runs["shipped"] += 1
        return []
    if found is None:
        runs["sqlfluff"] += 1
        found = _sqlfluff(sql, tables, dialect)
        _store(key, found)
    return [Finding(file=file, **f) for f in found]


# What the gate did in this process (for tests and the bench): SQL linted by sqlfluff, or known clean
# from the lint results computed at install (flowsql/pack/lint/shipped.py).
runs = {"sqlfluff": 0, "shipped": 0}


def _shipped_clean(sql: str, file: str, tables: tuple[str, ...], dialect: str = DIALECT) -> bool:
    """Whether this text's shape was linted clean at install, for this very template."""
    from . import shipped

    return shipped.known_clean(file, _key(shipped.shape(sql), ",".join(tables), dialect))


def _line_pattern(line: str):
    """A template line as a regex over rendered lines: `{{ … }}` matches anything. None for lines
    with no literal SQL of their own (they could match any rendered line)."""
    import re

    parts = re.split(r"\{\{.*?\}\}", line.strip())
    if "{%" in line or "{#" in line or not "".join(parts).strip():
        return None
    return re.compile(".*?".join(re.escape(p) for p in parts) + r"\Z")


def locate_in_template(findings: list[Finding], template: Path, sql: str) -> list[Finding]:
    """Point findings at the template's own lines where the rendered line comes from one of them.

    Most lines of a template are SQL as written, perhaps with `{{ … }}` in them, so a rendered line
    that matches exactly one template line comes from it. Lines made by macros or loops keep their
    rendered position, and say so.
    """
    try:
        source = template.read_text(encoding="utf-8").splitlines()
    except OSError:
        return findings
    patterns = [_line_pattern(line) for line in source]
    rendered = sql.splitlines()
    out = []
    for f in findings:
        text = rendered[f.line - 1] if 0 < f.line <= len(rendered) else ""
        hits = [i for i, pat in enumerate(patterns) if text.strip() and pat and pat.match(text.strip())]
        if len(hits) == 1:
            line = source[hits[0]]
            shift = (len(line) - len(line.lstrip())) - (len(text) - len(text.lstrip()))
            out.append(Finding(f.file, hits[0] + 1, max(1, f.col + shift), f.code, f.message))
        else:
            out.append(Finding(f.file, f.line, f.col, f.code,
                               f"{f.message} [line {f.line} of the rendered SQL: see `flowsql render`]"))
    return out


def _sqlfluff(sql: str, tables: tuple[str, ...], dialect: str = DIALECT) -> list[dict]:
    result = _get_linter(tables, dialect).lint_string(sql)
    out = []
    for v in result.get_violations():
        d = v.to_dict() if hasattr(v, "to_dict") else {}
        out.append({
            "line": d.get("start_line_no") or getattr(v, "line_no", 0),
            "col": d.get("start_line_pos") or getattr(v, "line_pos", 0),
            "code": v.rule_code(),
            "message": v.desc(),
        })
    return out


# --- linting the pack and files ---------------------------------------------------------------

# Table names that the partition rule looks for in plain .sql files.
PLAIN_FLOW_LOG_TABLES = DEFAULT_TABLES


def lint_template(path: Path, *, root: Path | None = None) -> list[Finding]:
    """A pack template: validate its header, then lint it rendered for every engine, with its
    example parameters and with its defaults (an optional block must lint both ways)."""
    from ...errors import FlowsqlError
    from ...engines import get
    from ..queries import HeaderError, parse_query
    from ..render import RenderLimit, render

    try:
        query = parse_query(path)
    except HeaderError as e:
        return [Finding(str(path), 1, 1, "FS00", str(e).split(": ", 1)[-1])]
    engines_of: dict[tuple, list[str]] = {}  # a finding -> the engines it was found for
    findings: list[Finding] = []
    for engine in engine_names():
        target = lint_target(engine)
        dialect = get(engine).dialect
        for given in (query.example, query.required_example()):
            try:
                sql = render(query, given, target, lint_window(), accounts=LINT_ACCOUNTS, root=root).sql
            except RenderLimit as e:  # no other rendering would end sooner
                return [Finding(str(path), 1, 1, "FS02", f"does not render: {e}")]
            except FlowsqlError as e:
                findings.append(Finding(str(path), 1, 1, "FS02", f"does not render for {engine}: {e}"))
                continue
            found = lint_sql(sql, str(path), flow_log_table=target.flow_log_tables, dialect=dialect)
            for f in locate_in_template(found, path, sql):
                engines = engines_of.setdefault((f.file, f.line, f.col, f.code, f.message), [])
                if engine not in engines:
                    engines.append(engine)
    findings += [Finding(file, line, col, code, f"{msg} (rendered for {', '.join(engines)})")
                 for (file, line, col, code, msg), engines in engines_of.items()]
    return findings


def lint_pack(root: Path | None = None) -> list[Finding]:
    from ..queries import load_pack
    from ...resources import sql_dir

    root = root or sql_dir()
    out: list[Finding] = []
    # the pack's own list: a path that holds no pack is an error (exit 2), never "no findings"
    for query in load_pack(root):
        out += lint_template(query.path, root=root)
    return out


def lint_files(files) -> list[Finding]:
    """Pack templates (a `{#` header first) are rendered then linted; plain SQL is linted as is."""
    from ...errors import SourceError
    from ..queries import split_header

    out: list[Finding] = []
    for path in map(Path, files):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SourceError(f"cannot read {path}: {e}") from None
        if split_header(text)[0] is not None:
            out += lint_template(path)
            continue
        out += lint_sql(text, str(path), flow_log_table=PLAIN_FLOW_LOG_TABLES)
    return out
