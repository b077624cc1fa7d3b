"""The `flowsql` command line: a thin layer over the library.

Heavy modules (duckdb, sqlfluff, sqlglot, boto3, pyathena) are imported inside the commands that
need them, so `flowsql --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .errors import FlowsqlError, LintError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Turn AWS VPC Flow Logs into evidence: canned, linted SQL on Athena or on local files.\n\n"
    "Example: flowsql query top-destinations --engine local --source ./logs --since 2026-11-01",
)


class EngineName(str, Enum):
    athena = "athena"
    local = "local"


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ListFormat(str, Enum):
    table = "table"
    json = "json"


def _err(message: str) -> None:
    typer.echo(f"flowsql: error: {message}", err=True)


def _fail(e: FlowsqlError) -> None:
    if isinstance(e, LintError):
        for f in e.findings:
            typer.echo(str(f), err=True)
        _err(f"lint found {len(e.findings)} problem(s) in the rendered query; it was not run")
    else:
        _err(str(e))
    raise typer.Exit(e.exit_code)


def _split(values: Optional[List[str]]) -> list[str]:
    """Repeated and comma-separated option values, as the AWS CLI accepts lists."""
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _stderr_tty() -> bool:
    return sys.stderr.isatty()


class _Spinner:
    """A spinner on stderr while work runs, only when stderr is a terminal."""

    def __init__(self, text: str):
        self.text = text
        self._status = None

    def __enter__(self):
        if _stderr_tty():
            from rich.console import Console

            self._status = Console(stderr=True).status(self.text)
            self._status.__enter__()
        return self

    def __exit__(self, *exc):
        if self._status is not None:
            self._status.__exit__(*exc)
        return False


# --- options shared by render and query -------------------------------------------------------

ParamOpt = typer.Option(None, "--param", "-p", metavar="NAME=VALUE",
                        help="A query parameter (repeatable); `flowsql queries` lists them.")
SinceOpt = typer.Option(None, "--since", metavar="DAY",
                        help="First UTC day (YYYY-MM-DD, today, yesterday, -Nd); default: 6 days before --until.")
UntilOpt = typer.Option(None, "--until", metavar="DAY", help="Last UTC day, inclusive; default: today.")
AccountOpt = typer.Option(None, "--account", metavar="ID",
                          help="Only this account's logs (repeatable or comma-separated).")
RegionOpt = typer.Option(None, "--region", metavar="REGION",
                         help="Only logs of this region (repeatable or comma-separated).")


def _window(since, until):
    from .params import Window

    return Window.from_options(since, until)


def _load(query: str):
    from .pack import HeaderError, get_query

    try:
        return get_query(query)
    except HeaderError as e:
        raise FlowsqlError(f"the query pack is broken: {e}") from None


@app.command("queries")
def queries_cmd(
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="table or json."),
):
    """List the canned queries and their parameters.

    Example: flowsql queries --output json
    """
    import json

    from .pack import load_pack

    try:
        pack = load_pack()
    except ValueError as e:
        _fail(FlowsqlError(f"the query pack is broken: {e}"))
    if output is ListFormat.json:
        typer.echo(json.dumps([q.describe() for q in pack], indent=2))
        return
    from .output import print_table

    rows = []
    for q in pack:
        params = ", ".join(
            f"{p.name}:{p.type}" + (f"={p.default}" if p.default is not None else "") + ("!" if p.required else "")
            for p in q.parameters
        )
        rows.append((q.name, q.severity, q.title, params or "-"))
    print_table(["name", "severity", "title", "parameters"], rows)


def _target_for(engine: EngineName):
    """The tables a query renders against when only rendering (no engine is started)."""
    from .engines import Target

    if engine is EngineName.local:
        return Target("local")
    from . import config

    return config.athena_target(config.load(required=False))


@app.command("render")
def render_cmd(
    query: str = typer.Argument(..., help="Query name (see `flowsql queries`)."),
    param: Optional[List[str]] = ParamOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine: EngineName = typer.Option(EngineName.athena, "--engine", "-e", help="Render for athena or local."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
):
    """Print a query's rendered SQL, exactly as it would run (it is linted too).

    Example: flowsql render top-destinations -p limit=20 --since 2026-11-01 --until 2026-11-07
    """
    from .lint import lint_sql, locate_in_template
    from .params import parse_assignments
    from .render import render

    try:
        q = _load(query)
        window = _window(since, until)
        target = _target_for(engine)
        rendered = render(q, parse_assignments(param or []), target, window,
                          accounts=_split(account), regions=_split(region))
        typer.echo(rendered.sql, nl=False)
        findings = lint_sql(rendered.sql, str(q.path), flow_log_table=target.flow_logs)
        if findings:
            raise LintError(locate_in_template(findings, q.path, rendered.sql))
    except FlowsqlError as e:
        _fail(e)


def _make_engine(engine: EngineName, source, inventory, window, accounts, regions, skip_bad_files):
    if engine is EngineName.local:
        from .engines.local import LocalEngine
        from .inventory import load

        if source is None:
            raise UsageError("the local engine needs --source DIR (a folder holding an AWSLogs/ tree)")
        return LocalEngine(source, window, inventory=load(inventory), accounts=accounts, regions=regions,
                           skip_bad_files=skip_bad_files)
    if source is not None:
        raise UsageError("--source is for the local engine; add --engine local")
    from . import config
    from .engines.athena import AthenaEngine

    return AthenaEngine.from_config(config.load(required=True))


def _default_engine(source) -> EngineName:
    """local when given files; athena once `flowsql setup` has written its settings; else local."""
    if source is not None:
        return EngineName.local
    from . import config

    return EngineName.athena if config.exists() else EngineName.local


def _report_stats(stats: dict) -> None:
    if stats.get("engine") == "local":
        msg = f"read {stats['files_read']} file(s), {stats['bytes_read']:,} bytes"
        if stats.get("files_skipped"):
            msg += f"; SKIPPED {stats['files_skipped']} unreadable file(s):"
        typer.echo(msg, err=True)
        for s in stats.get("skipped", []):
            typer.echo(f"  skipped {s}", err=True)
    elif stats.get("engine") == "athena":
        scanned = stats.get("data_scanned_bytes") or 0
        typer.echo(
            f"data scanned: {scanned / 1e6:,.1f} MB, cost ≈ ${stats.get('cost_usd', 0):.4f} "
            f"(query {stats.get('query_id', '?')})",
            err=True,
        )


@app.command("query")
def query_cmd(
    query: str = typer.Argument(..., help="Query name (see `flowsql queries`)."),
    param: Optional[List[str]] = ParamOpt,
    since: Optional[str] = SinceOpt,
    until: Optional[str] = UntilOpt,
    engine: Optional[EngineName] = typer.Option(
        None, "--engine", "-e", help="athena (default once `flowsql setup` ran) or local."),
    source: Optional[Path] = typer.Option(
        None, "--source", "-s", metavar="DIR", help="Local engine: a folder holding AWSLogs/ (or AWSLogs itself)."),
    inventory: Optional[Path] = typer.Option(
        None, "--inventory", "-i", metavar="DIR",
        help="Local engine: folder with network-interfaces.json, subnets.json, vpcs.json."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    output: OutputFormat = typer.Option(OutputFormat.table, "--output", "-o", help="table, json or csv."),
    skip_bad_files: bool = typer.Option(
        False, "--skip-bad-files", help="Local engine: leave out corrupt files (counted and listed on stderr)."),
):
    """Run a canned query and print its rows.

    Example: flowsql query rejects-by-subnet --engine local --source ./logs --inventory ./inv --since -30d
    """
    from .params import parse_assignments
    from .runner import prepare

    eng = None
    try:
        q = _load(query)
        given = parse_assignments(param or [])
        window = _window(since, until)
        accounts, regions = _split(account), _split(region)
        engine = engine or _default_engine(source)
        eng = _make_engine(engine, source, inventory, window, accounts, regions, skip_bad_files)
        rendered = prepare(q, given, eng, window, accounts=accounts, regions=regions)
        with _Spinner(f"running {q.name} on {engine.value} ({window.since} … {window.until})"):
            result = eng.execute(rendered.sql)
        _report_stats(result.stats)
    except FlowsqlError as e:
        _fail(e)
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130)
    finally:
        if eng is not None and hasattr(eng, "close"):
            eng.close()
    _print_rows(result.columns, result.rows, output, title=q.title)


def _print_rows(columns, rows, output: OutputFormat, title=None):
    from . import output as out

    if output is OutputFormat.json:
        typer.echo(out.to_json(columns, rows))
    elif output is OutputFormat.csv:
        typer.echo(out.to_csv(columns, rows), nl=False)
    else:
        out.print_table(columns, rows, title=title)


@app.command("lint")
def lint_cmd(
    files: Optional[List[Path]] = typer.Argument(
        None, help="Files to lint: pack templates (with a header) or plain .sql. Default: the whole pack."),
):
    """Lint the query pack (rendered for every engine) or the given files; findings exit 1.

    Example: flowsql lint            (the pack)   flowsql lint my-query.sql
    """
    from .lint import lint_files, lint_pack

    try:
        findings = lint_files(files) if files else lint_pack()
    except FlowsqlError as e:
        _fail(e)
    for f in findings:
        typer.echo(str(f))
    if findings:
        _err(f"{len(findings)} lint finding(s)")
        raise typer.Exit(1)
    typer.echo("lint: no findings", err=True)


@app.command("demo")
def demo_cmd(
    dir: Path = typer.Option(Path("flowsql-demo"), "--dir", "-d", help="Where to write the demo account's logs."),
    days: int = typer.Option(30, "--days", min=1, max=366, help="How many days of logs to generate."),
    seed: int = typer.Option(7, "--seed", help="Generator seed (same seed, same logs)."),
):
    """Generate a realistic account's flow logs and inventory, then run the canned queries locally.

    Example: flowsql demo --dir /tmp/flowsql-demo
    """
    from .demo import run_demo

    try:
        run_demo(dir, days=days, seed=seed, echo=typer.echo, print_rows=_print_rows_table, status=_Spinner)
    except FlowsqlError as e:
        _fail(e)


def _print_rows_table(columns, rows, title):
    _print_rows(columns, rows, OutputFormat.table, title=title)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except FlowsqlError as e:  # raised outside a command's own handling
        _err(str(e))
        sys.exit(e.exit_code)
    except Exception as e:  # a defect: one line, the traceback only on request
        if os.environ.get("FLOWSQL_DEBUG"):
            raise
        _err(f"internal error: {type(e).__name__}: {e} (set FLOWSQL_DEBUG=1 for a traceback)")
        sys.exit(1)


if __name__ == "__main__":
    main()
