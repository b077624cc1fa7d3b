"""Making a case file: the subject's one pack query, then every section from its rows.

`build_case()` returns one plain dict, the content of case.json (schema/case.schema.json); the
renderers turn that dict, and only it, into HTML and Markdown. It is a function of the subject, the
window, the data and the options alone — no clock, no elapsed time, rows in a total order, keys
sorted when written — so the same inputs give byte-identical files (on Athena the execution ids
differ from run to run).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import FlowsqlError, UsageError
from ..pack.params import Window
from . import sections
from .attribution import Attribution
from .subject import Subject

FORMAT = "flowsql-case/1"
_PLAIN = (int, str, bool, float, type(None))
SECTIONS = ("peers", "interfaces", "internet", "rejected", "timeline", "ecs_tasks")
# Rows of a table the HTML and Markdown show; case.json has them all.
SHOWN = 200


@dataclass(frozen=True)
class Options:
    """What the command was given, as given: the case's scope and the command that makes it again."""

    engine: str  # the engine's name (flowsql.engines.names())
    source: Path | None = None
    inventory: Path | None = None
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    table: str | None = None  # Athena: --table
    skip_bad_files: bool = False
    out: str | None = None  # --out as given (None: the default)


def build_case(engine, window: Window, subject: Subject, attribution: Attribution, options: Options,
               progress: Callable[[str], None] | None = None) -> dict:
    """Run the subject's case query on `engine` and build the case (case.json's content)."""
    from ..pack.queries import HeaderError, get_query
    from ..report.canonical import row_dicts, rows_sha256
    from ..runner import run
    from .inputs import Hasher

    try:
        query = get_query(subject.query)
    except HeaderError as e:
        raise FlowsqlError(f"the query pack is broken: {e}") from None
    except UsageError:
        raise UsageError(f"the query pack has no query {subject.query!r}, which `flowsql investigate` runs for "
                         f"{'an' if subject.kind != 'cidr' else 'a'} {subject.kind} (FLOWSQL_SQL_DIR names a pack "
                         "without it?)") from None
    given = {subject.parameter: subject.value}
    addresses = attribution.addresses(subject.value) if subject.kind == "eni" else []
    if addresses:
        given["addresses"] = ",".join(addresses)
    local = _spec(engine.name).reads_files  # its files are hashed for the evidence
    # the files' digests are computed while the query runs (the same files, in a thread of their own)
    hasher = Hasher([("source", f.path, options.source) for f in engine.files] if local else [])
    hasher.start()
    try:
        if progress:
            progress(f"running {query.name} on {engine.name} ({window.since} … {window.until})")
        done = run(query, given, engine, window, accounts=options.accounts, regions=options.regions)
        if progress:
            progress("hashing the files read")
        read = set(engine.files_read()) if local else set()
        evidence_inputs = hasher.result(lambda path: path in read)
    finally:
        hasher.stop()
    evidence_inputs = sorted(evidence_inputs + Hasher([("inventory", p, attribution.directory)
                                                       for p in attribution.files]).run(),
                             key=lambda f: (f["root"], f["path"]))
    columns, raw = done.result.columns, done.result.rows
    if _plain(raw, len(columns)):  # DuckDB's and pyathena's values, as a rule
        rows = [dict(zip(columns, r)) for r in raw]
    else:
        rows = row_dicts(columns, raw)
    stats = done.result.stats
    parameters = {p.name: given.get(p.name) for p in query.parameters}

    parts = sections.compute(rows, attribution.network, attribution.describe, eni=subject.kind == "eni")
    totals = parts["totals"]
    peer_rows = parts["peers"]
    not_evaluated: list[dict] = []
    if attribution.eni_reason is not None:
        not_evaluated.append({"section": "interfaces", "name": "inventory", "reason": attribution.eni_reason})
    if attribution.vpc_reason is not None:
        not_evaluated.append({"section": "peers", "name": "vpc", "reason": attribution.vpc_reason + " (without "
                              "it no peer is classified vpc: a VPC's private blocks count as private, a VPC's "
                              "public ones as internet)"})
    reason = _not_evaluated(stats, options)
    entry = _evidence(query, parameters, done, rows, window, options, rows_sha256(rows))
    case = {
        "format": FORMAT,
        "flowsql_version": __version__,
        "subject": subject.to_dict(),
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "scope": {
            "engine": engine.name,
            "source": os.fspath(options.source) if options.source is not None else None,
            "table": engine.target().flow_logs if _spec(engine.name).named_table else None,
            "inventory": os.fspath(options.inventory) if options.inventory is not None else None,
            "inventory_folders": attribution.labels,
            "accounts": list(options.accounts),
            "regions": list(options.regions),
        },
        "first_seen": totals["first_seen"],
        "last_seen": totals["last_seen"],
        "peers": {"evidence": "E1", "vpc_blocks": len(attribution.blocks),
                  "vpc_evaluated": attribution.vpc_reason is None, "rows": peer_rows},
        "interfaces": {"evidence": "E1", "evaluated": attribution.eni_reason is None,
                       "reason": attribution.eni_reason, "rows": parts["interfaces"]},
        "internet": {"evidence": "E1", **parts["internet"]},
        "rejected": {"evidence": "E1", **parts["rejected"]},
        "timeline": {"evidence": "E1", "rows": parts["timeline"]},
        "ecs_tasks": {"evidence": "E1", "rows": parts["ecs_tasks"]},
        "not_evaluated": not_evaluated,
        "evidence": {"rows_sha256": _CANONICAL, "queries": [entry], "inputs": evidence_inputs,
                     "command": _case_command(subject, window, options)},
    }
    if subject.kind == "eni":
        case["undirected"] = {"evidence": "E1", "addresses": addresses,
                              "flows": sum(r["flows"] for r in parts["undirected"]), "rows": parts["undirected"]}
    case["summary"] = {
        "evaluated": reason is None,
        "reason": reason,
        "seen": totals["records"] > 0,
        **{k: totals[k] for k in ("records", "packets", "bytes", "bytes_sent", "bytes_received", "rejected_flows")},
        "bytes_to_internet": case["internet"]["bytes_sent"],
        "peers": len({p["address"] for p in peer_rows}),
        "interfaces": len(case["interfaces"]["rows"]),
        "files_read": stats.files_read,
        "bytes_read": stats.bytes_read,
        "data_scanned_bytes": stats.data_scanned_bytes,
        "cost_usd": stats.cost_usd,
        "not_evaluated": len(not_evaluated),
        "exit_code": 0 if reason is None else 1,
    }
    return case


_CANONICAL = ("SHA-256 (hex) of the query's rows in their canonical form: one line per row in the query's order, "
              "each the row as a JSON object with the column names as keys, sorted, no whitespace (separators ',' "
              "and ':'), UTF-8 text unescaped, integers as JSON integers, NULL as null, each line ending in a line "
              "feed; no rows is zero bytes (as the monthly report's evidence).")


def _plain(rows: list[tuple], width: int) -> bool:
    """Whether every column holds JSON's own types (a column's values are all of one SQL type: its
    first value that is not NULL says which)."""
    unknown = set(range(width))
    for r in rows:
        for i in list(unknown):
            if r[i] is not None:
                if type(r[i]) not in _PLAIN:
                    return False
                unknown.discard(i)
        if not unknown:
            break
    return True


def _spec(name: str):
    from ..engines import get

    return get(name)


def _not_evaluated(stats, options: Options) -> str | None:
    """Why the case could not look at all: no log file of the window was read (local), or Athena
    scanned nothing. A window whose logs were read without a record of the subject is an answer
    (the subject was not seen), not this."""
    spec = _spec(stats.engine)
    if spec.reads_files and not stats.files_read:
        said = [n for n in stats.notes if n.startswith("no log files in ")]
        if said:
            return said[0]
        return (f"no log file of the window in {options.source} could be read"
                + (f" ({len(stats.skipped)} skipped as unreadable)" if stats.skipped else ""))
    if spec.named_table and not stats.data_scanned_bytes:
        return (f"Athena scanned nothing in {options.table or 'the flow-log table'} for the window: its "
                "partitions hold no object (the logs were not delivered, or the table points elsewhere)")
    return None


def _evidence(query, parameters: dict, done, rows: list[dict], window: Window, options: Options,
              digest: str) -> dict:
    s = done.result.stats
    notes = [_relative_note(f, options.source) for f in s.skipped], [_relative_note(f, options.source)
                                                                       for f in s.left_out]
    return {
        "id": "E1",
        "query": query.name,
        "title": query.title,
        "parameters": parameters,
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "used_by": ["first_seen", "last_seen", *SECTIONS],
        "engine": s.engine,
        "sql": done.rendered.sql,
        "execution_id": s.execution_id,
        "workgroup": s.workgroup,
        "data_scanned_bytes": s.data_scanned_bytes,
        "cost_usd": s.cost_usd,
        "files_read": s.files_read,
        "bytes_read": s.bytes_read,
        "skipped": notes[0],
        "left_out": notes[1],
        "notes": list(s.notes),
        "row_count": len(rows),
        "rows_sha256": digest,
        "command": _query_command(query.name, parameters, window, options),
    }


def _relative_note(f, source: Path | None) -> dict:
    from .inputs import relative

    return {"path": relative(f.path, source), "reason": f.reason}


def _scope_args(window: Window, options: Options, *, inventory: bool) -> list[str]:
    argv = ["--engine", options.engine]
    if options.source is not None:
        argv += ["--source", os.fspath(options.source)]
    if inventory and options.inventory is not None:
        argv += ["--inventory", os.fspath(options.inventory)]
    argv += ["--since", window.since.isoformat(), "--until", window.until.isoformat()]
    if options.table is not None:
        argv += ["--table", options.table]
    if options.skip_bad_files:
        argv.append("--skip-bad-files")
    for a in options.accounts:
        argv += ["--account", a]
    for r in options.regions:
        argv += ["--region", r]
    return argv


def _query_command(name: str, parameters: dict, window: Window, options: Options) -> str:
    """The `flowsql query` command that gives the same rows (`-o json`, then hash them)."""
    argv = ["flowsql", "query", name, *_scope_args(window, options, inventory=False)]
    for k, v in sorted(parameters.items()):
        if v is not None:
            argv += ["-p", f"{k}={v}"]
    return shlex.join(argv + ["-o", "json"])


def _case_command(subject: Subject, window: Window, options: Options) -> str:
    """The `flowsql investigate` command that makes this case again."""
    argv = ["flowsql", "investigate", subject.value, *_scope_args(window, options, inventory=True)]
    if options.out is not None:
        argv += ["--out", options.out]
    return shlex.join(argv)
