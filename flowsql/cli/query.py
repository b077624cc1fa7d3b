"""`flowsql queries`, `render`, `query`, `lint`: the query pack from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import FlowsqlError, LintError, UsageError
from .common import (AccountOpt, EngineName, ListFormat, OutputFormat, ParamOpt, RegionOpt, SinceOpt, Spinner,
                  UntilOpt, app, command, ids, note, out, print_rows, window)

SourceOpt = typer.Option(None, "--source", "-s", metavar="DIR",
                         help="Local engine: a folder holding AWSLogs/ (or AWSLogs itself).")
InventoryOpt = typer.Option(None, "--inventory", "-i", metavar="DIR",
                            help="Local engine: folder with network-interfaces.json, subnets.json, vpcs.json "
                                 "(and dated snapshots).")
SkipOpt = typer.Option(False, "--skip-bad-files",
                       help="Local engine: leave out unreadable files (counted and listed on stderr).")
TableOpt = typer.Option(None, "--table", help="Athena: which flow-log table setup made (default: the first).")
QueryProfileOpt = typer.Option(None, "--profile", help="Athena: the AWS CLI profile to use.")


def engine_option(default_help: str = "athena (default once `flowsql setup` ran) or local."):
    return typer.Option(None, "--engine", "-e", help=default_help)


def load_query(name: str):
    from ..pack.queries import HeaderError, get_query

    try:
        return get_query(name)
    except HeaderError as e:
        raise FlowsqlError(f"the query pack is broken: {e}") from None


def default_engine(source) -> EngineName:
    """local when given files; athena once `flowsql setup` has written its settings; else local."""
    if source is not None:
        return EngineName.local
    from ..engines.athena import config

    return EngineName.athena if config.exists() else EngineName.local


def target_for(engine: EngineName):
    """The tables a query renders against when only rendering (no engine is started)."""
    from ..engines.base import Target

    if engine is EngineName.local:
        return Target("local")
    from ..engines.athena import config

    return config.athena_target(config.load(required=False))


def make_engine(engine: EngineName, *, source, inventory, window, accounts, regions, skip_bad_files=False,
                table=None, profile=None):
    """The engine a command runs on, from its options (nothing is read until it executes)."""
    if engine is EngineName.local:
        from ..engines.local.engine import LocalEngine
        from ..inventory import load_inventory

        if table is not None:
            raise UsageError("--table is for the Athena engine (a Glue table); the local engine reads --source")
        if source is None:
            raise UsageError("the local engine needs --source DIR (a folder holding an AWSLogs/ tree); "
                             "for Athena, run `flowsql setup` first")
        return LocalEngine(source, window, inventory=load_inventory(inventory, window=window), accounts=accounts,
                           regions=regions, skip_bad_files=skip_bad_files)
    if source is not None or inventory is not None:
        raise UsageError("--source and --inventory are for the local engine; add --engine local")
    from ..engines.athena import config
    from ..engines.athena.engine import AthenaEngine

    return AthenaEngine.from_config(config.load(required=True), table=table, profile=profile)


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
def render_cmd(
    query: str = typer.Argument(..., help="Query name (see `flowsql queries`)."),
    param: Optional[List[str]] = ParamOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine: Optional[EngineName] = engine_option(
        "athena or local (default: athena once `flowsql setup` ran, else local)."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    explain: bool = typer.Option(False, "--explain", help="Athena: first say which partitions and columns the "
                                 "query reads and what it would scan and cost (lists the partitions in S3)."),
    table: Optional[str] = TableOpt,
    profile: Optional[str] = QueryProfileOpt,
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
    name = engine or default_engine(None)
    accounts, regions = ids(account, "--account", "account_id"), ids(region, "--region", "region")
    if explain and name is not EngineName.athena:
        raise UsageError("--explain estimates what Athena scans: it is for --engine athena (after `flowsql setup`)")
    if explain or table:
        from ..engines.athena import config

        cfg = config.load(required=True)
        target = config.athena_target(cfg, table)
    else:
        target = target_for(name)
    rendered = render(q, parse_assignments(param or []), target, w, accounts=accounts, regions=regions)
    findings = lint_sql(rendered.sql, str(q.path), flow_log_table=target.flow_logs)
    if findings:
        raise LintError(locate_in_template(findings, q.path, rendered.sql))
    if explain:
        from ..aws import Aws
        from ..engines.athena.engine import check_partitions
        from ..engines.athena.cost_estimate import explain as explain_query

        t = cfg.table(table)
        check_partitions(t, w, *t.partition_filters(accounts, regions))
        e = explain_query(Aws.connect(profile or cfg.profile, cfg.region), cfg, rendered.sql, w, table=table,
                          accounts=accounts, regions=regions)
        out("".join(f"-- {line}\n" for line in e.lines()), nl=False)
    out(rendered.sql, nl=False, raw=True)  # the SQL byte for byte, as it runs


@command(app, "query")
def query_cmd(
    query: str = typer.Argument(..., help="Query name (see `flowsql queries`)."),
    param: Optional[List[str]] = ParamOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine: Optional[EngineName] = engine_option(),
    source: Optional[Path] = SourceOpt,
    inventory: Optional[Path] = InventoryOpt,
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    output: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o", help="table, json or csv."),
    skip_bad_files: bool = SkipOpt,
    table: Optional[str] = TableOpt,
    profile: Optional[str] = QueryProfileOpt,
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
    name = engine or default_engine(source)
    eng = make_engine(name, source=source, inventory=inventory, window=w, accounts=accounts, regions=regions,
                      skip_bad_files=skip_bad_files, table=table, profile=profile)
    try:
        with Spinner(f"running {q.name} on {name.value} ({w.since} … {w.until})"):
            result = run(q, given, eng, w, accounts=accounts, regions=regions).result
    finally:
        eng.close()
    for line in result.stats.lines():
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
