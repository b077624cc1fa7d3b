"""Building the monthly report: every section's queries run once, then each section builds its part.

`build_report()` returns one plain dict, the content of report.json (report.schema.json describes
it); the renderers turn that dict, and only it, into HTML and Markdown. Everything in it is a
function of the month, the data and the options: no clock, no elapsed time, keys sorted when
written, so the same month and data give byte-identical files (on the local engine; Athena's
execution ids differ from run to run).

A section (one module of `flowsql.report.sections`, found by discovery) says which queries it needs
(`plan`), then builds its part from their outcomes (`build`). A query the report cannot run is
never left out in silence: it becomes an outcome with a reason, shown where it would have been and
listed under "not evaluated". The queries run section by section; a section's optional `gate(ctx)`
returns why the report as a whole cannot be evaluated (the coverage section: the month holds no
record at all), and then nothing after it runs: the report is written, marked not evaluated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import FlowsqlError, UsageError
from ..pack.params import Window
from ..pack.queries import Query
from .canonical import row_dicts, rows_sha256
from .model import Job, Outcome
from .month import Month

FORMAT = "flowsql-report/1"


@dataclass
class Context:
    """What the sections share: the month, the engine, the options, and the outcomes so far."""

    month: Month
    engine: object  # flowsql.engines.base.Engine
    pack: dict  # query name -> Query
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    source: Path | None = None  # local engine: the --source folder (file paths are shown relative to it)
    inventory: Path | None = None
    policy: Path | None = None
    table: str | None = None  # Athena: --table, as given
    skip_bad_files: bool = False  # local: --skip-bad-files, as given (the evidence's command repeats both)
    outcomes: dict = field(default_factory=dict)  # Job.key -> Outcome
    evidence: list = field(default_factory=list)  # one entry per query run, in run order
    not_evaluated: list = field(default_factory=list)  # {"section", "name", "reason"}
    state: dict = field(default_factory=dict)  # a section's own data between plan() and build()
    # why the report as a whole is not evaluated (a month without any record): set by a section's
    # gate(); the queries after it are not run, each an outcome with this reason
    halt: str | None = None
    # the engine for other days than the month's (the local engine reads the files of its window):
    # engine_for(window) -> engine; None: `engine` for every window (Athena)
    engine_for: Callable | None = None

    @property
    def window(self):
        return self.month.window

    def outcome(self, job: Job) -> Outcome:
        return self.outcomes[job.key]

    def not_evaluated_item(self, section: str, name: str, reason: str) -> None:
        self.not_evaluated.append({"section": section, "name": name, "reason": reason})

    def run(self, job: Job, used_by: list[str]) -> Outcome:
        from ..runner import run

        query: Query | None = self.pack.get(job.query)
        given = dict(job.params)
        window = job.window or self.window
        if query is None:
            return Outcome(job.query, given, reason=f"the query pack has no query {job.query!r}")
        if self.halt is not None:
            return Outcome(job.query, given, reason=f"not run: {self.halt}")
        missing = [p.name for p in query.parameters if p.required and p.name not in given and p.default is None]
        if missing:
            return Outcome(job.query, given, reason=(
                f"needs parameter(s) {', '.join(missing)}, which have no default (run it yourself: "
                f"flowsql query {job.query} " + " ".join(f"-p {m}=…" for m in missing) + ")"))
        for p in query.parameters:  # a required parameter with a default runs with its default
            if p.required and p.name not in given:
                given[p.name] = _text(p.default)
        parameters = {p.name: given.get(p.name, _text(p.default)) for p in query.parameters}
        engine = self.engine if window == self.window or self.engine_for is None else self.engine_for(window)
        try:
            done = run(query, given, engine, window, accounts=self.accounts, regions=self.regions)
        except UsageError as e:  # the data cannot answer it (fields, inventory): said, not fatal
            return Outcome(job.query, parameters, reason=" ".join(str(e).split()))
        except FlowsqlError as e:
            if not job.tolerant:
                raise
            return Outcome(job.query, parameters, reason=" ".join(str(e).split()))
        records = row_dicts(done.result.columns, done.result.rows)
        eid = f"E{len(self.evidence) + 1}"
        self.evidence.append(self._evidence(eid, query, parameters, done, records, used_by, window))
        return Outcome(job.query, parameters, evidence=eid, columns=list(done.result.columns), rows=records,
                       column_types=dict(query.columns))

    def _evidence(self, eid: str, query: Query, parameters: dict, done, records, used_by, window: Window) -> dict:
        s = done.result.stats
        return {
            "id": eid,
            "query": query.name,
            "title": query.title,
            "parameters": parameters,
            "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
            "used_by": used_by,
            "engine": s.engine,
            "sql": done.rendered.sql,
            "execution_id": s.execution_id,
            "workgroup": s.workgroup,
            "data_scanned_bytes": s.data_scanned_bytes,
            "cost_usd": s.cost_usd,
            "files_read": s.files_read,
            "bytes_read": s.bytes_read,
            "skipped": [self._note(f) for f in s.skipped],
            "left_out": [self._note(f) for f in s.left_out],
            "notes": list(s.notes),
            "row_count": len(records),
            "rows_sha256": rows_sha256(records),
        }

    def _note(self, f) -> dict:
        """A file left out or skipped, its path relative to --source (the same on every machine)."""
        path = f.path
        if self.source is not None:
            try:
                path = Path(path).resolve().relative_to(self.source.resolve()).as_posix()
            except ValueError:
                pass
        return {"path": path, "reason": f.reason}


def _named_table(engine) -> bool:
    from ..engines import get

    return get(engine.name).named_table


def _text(value) -> str | None:
    """A parameter default as `-p` text (lists comma-separated, as the pack's examples)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def build_report(ctx: Context, progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Run every section's queries once (progress(i, n, query) before each) and build the report."""
    from .sections import discover

    sections = discover()
    jobs: dict[tuple, list] = {}  # Job.key -> [Job, used_by...] in first-use order
    first_of: dict[tuple, object] = {}  # Job.key -> the section that planned it first
    for section in sections:
        for job in section.plan(ctx):
            entry = jobs.setdefault(job.key, [job, []])
            first_of.setdefault(job.key, section)
            if job.used_by and job.used_by not in entry[1]:
                entry[1].append(job.used_by)
    # Section by section, in order: after a section's queries ran, its gate() may find that the
    # report cannot be evaluated at all (a month without any record); nothing after it runs.
    done = 0
    for section in sections:
        for key, (job, used_by) in jobs.items():
            if first_of[key] is not section:
                continue
            done += 1
            if progress is not None and ctx.halt is None:
                progress(done, len(jobs), job.query)
            ctx.outcomes[key] = ctx.run(job, used_by)
        if ctx.halt is None and hasattr(section, "gate"):
            ctx.halt = section.gate(ctx)

    target = ctx.engine.target()
    report = {
        "format": FORMAT,
        "flowsql_version": __version__,
        "month": ctx.month.label,
        "window": {"since": ctx.window.since.isoformat(), "until": ctx.window.until.isoformat()},
        "scope": {
            "engine": ctx.engine.name,
            "source": os.fspath(ctx.source) if ctx.source is not None else None,
            "table": target.flow_logs if _named_table(ctx.engine) else None,
            "inventory": os.fspath(ctx.inventory) if ctx.inventory is not None else None,
            "accounts": list(ctx.accounts),
            "regions": list(ctx.regions),
        },
        "sections": [s.KEY for s in sections],
    }
    for section in sections:
        report[section.KEY] = section.build(ctx)
    report["summary"] = _summary(ctx, report)
    return report


def _summary(ctx: Context, report: dict) -> dict:
    scanned = [e["data_scanned_bytes"] for e in ctx.evidence if e["data_scanned_bytes"] is not None]
    costs = [e["cost_usd"] for e in ctx.evidence if e["cost_usd"] is not None]
    counts = (report.get("posture") or {}).get("counts", {})
    alarms, unread = counts.get("alarm", 0), counts.get("not evaluated", 0)
    coverage = report.get("coverage") or {}
    gaps = coverage.get("gaps", 0)
    silent = (report.get("accounts") or {}).get("findings", 0)
    # Exit 1 (after writing) when the report is no clean answer: a posture alarm, an account or
    # region the inventory could not read, a month without any record (not evaluated), or an
    # account, region or day that should have logged and did not (or whose coverage could not be read).
    incomplete = ctx.halt is not None or gaps > 0 or not coverage.get("evaluated", False) or unread > 0 or silent > 0
    return {
        "evaluated": ctx.halt is None,
        "reason": ctx.halt,
        "queries_run": len(ctx.evidence),
        "not_evaluated": len(ctx.not_evaluated),
        "coverage_gaps": gaps,
        "data_scanned_bytes": sum(scanned) if scanned else None,
        "cost_usd": round(sum(costs), 10) if costs else None,
        "posture_alarms": alarms,
        "posture_not_evaluated": unread,
        "accounts_without_records": silent,
        "exit_code": 1 if alarms or incomplete else 0,
    }
