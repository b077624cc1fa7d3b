"""`flowsql queries`, `render`, `query`, `lint`: the query pack from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import FlowsqlError, LintError, UsageError
from .common import (AccountOpt, ListFormat, OutputFormat, ParamOpt, RegionOpt, SinceOpt, Spinner, UntilOpt, app,
                     command, ids, note, out, print_rows, window)
from .engine_options import engine_options


def load_query(name: str):
    from ..pack.queries import HeaderError, get_query

    try:
        return get_query(name)
    except HeaderError as e:
        raise FlowsqlError(f"the query pack is broken: {e}") from None


@command(app, "queries")
def queries_cmd(
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="table or json."),
):
    """List the canned queries and their parameters.

    Example: flowsql queries --output json
    """
    from ..files import dumps_json

    from ..pack.queries import HeaderError, load_pack

    try:
        pack = load_pack()
    except HeaderError as e:
        raise FlowsqlError(f"the query pack is broken: {e}") from None
    if output is ListFormat.json:
        out(dumps_json([q.describe() for q in pack], indent=2))
        return
    rows = []
    for q in pack:
        params = ", ".join(
            f"{p.name}:{p.type}" + (f"={p.default}" if p.default is not None else "") + ("!" if p.required else "")
            for p in q.parameters
        )
        rows.append((q.name, q.severity, q.title, params or "-"))
    print_rows(["name", "severity", "title", "parameters"], rows, OutputFormat.table)


@command(app, "render")
@engine_options(exclude=("source", "inventory", "skip_bad_files"))
def render_cmd(
    query: str = typer.Argument(..., help="Query name (see `flowsql queries`)."),
    param: Optional[List[str]] = ParamOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine=None,
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    explain: bool = typer.Option(False, "--explain", help="Athena: first say which partitions and columns the "
                                 "query reads and what it would scan and cost (lists the partitions in S3)."),
):
    """Print a query's rendered SQL as the lint gate passes it (the local engine runs its DuckDB
    translation); a query with lint findings is not printed, the findings are (exit 1). With
    --explain (Athena), the SQL is preceded by comment lines: the partitions and columns it reads and
    an estimate of the bytes it scans and what that costs, from an S3 listing of those partitions.

    Example: flowsql render top-destinations -p limit=20 --since 2026-11-01 --until 2026-11-07
    """
    from ..pack.lint.gate import lint_sql, locate_in_template
    from ..pack.params import parse_assignments
    from ..pack.render import render

    q = load_query(query)
    w = window(since, until)
    spec, options = engine.spec, engine.options
    accounts, regions = ids(account, "--account", "account_id"), ids(region, "--region", "region")
    if explain and not spec.estimates_cost:
        raise UsageError(f"--explain estimates what a query scans and costs, which {spec.title} does not: it is "
                         "for --engine athena (after `flowsql setup`)")
    target = spec.render_target(options)
    rendered = render(q, parse_assignments(param or []), target, w, accounts=accounts, regions=regions)
    findings = lint_sql(rendered.sql, str(q.path), flow_log_table=target.flow_log_tables, dialect=spec.dialect)
    if findings:
        raise LintError(locate_in_template(findings, q.path, rendered.sql))
    if explain:
        lines = spec.cost_estimate(options, rendered.sql, w, accounts=accounts, regions=regions)
        out("".join(f"-- {line}\n" for line in lines), nl=False)
    out(rendered.sql, nl=False, raw=True)  # the SQL byte for byte, as it runs


@command(app, "query")
@engine_options()
def query_cmd(
    query: str = typer.Argument(..., help="Query name (see `flowsql queries`)."),
    param: Optional[List[str]] = ParamOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine=None,
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    output: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o", help="table, json or csv."),
):
    """Run a canned query and print its rows.

    Example: flowsql query rejects-by-subnet --engine local --source ./logs --inventory ./inv --since -30d
    """
    from ..pack.params import parse_assignments
    from ..runner import run

    q = load_query(query)
    given = parse_assignments(param or [])
    w = window(since, until)
    accounts = ids(account, "--account", "account_id")
    regions = ids(region, "--region", "region")
    eng = engine.create(window=w, accounts=accounts, regions=regions)
    try:
        with Spinner(f"running {q.name} on {engine.name} ({w.since} … {w.until})"):
            result = run(q, given, eng, w, accounts=accounts, regions=regions).result
    finally:
        eng.close()
    from ..engines import stats_lines

    for line in stats_lines(result.stats):
        note(line)
    print_rows(result.columns, result.rows, output, title=q.title, types=q.columns)


@command(app, "lint")
def lint_cmd(
    files: Optional[List[Path]] = typer.Argument(
        None, help="Files to lint: pack templates (with a header) or plain .sql. Default: the whole pack."),
):
    """Lint the query pack (rendered for every engine) or the given files; findings exit 1.

    Example: flowsql lint            (the pack)   flowsql lint my-query.sql
    """
    from ..pack.lint.gate import lint_files, lint_pack

    findings = lint_files(files) if files else lint_pack()
    for f in findings:
        out(str(f))
    if findings:
        raise LintFindings(len(findings))
    note("lint: no findings")


class LintFindings(FlowsqlError):
    """Lint found problems (exit 1); they were printed on stdout."""

    def __init__(self, n: int):
        super().__init__(f"{n} lint finding(s)")
