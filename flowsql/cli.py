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


def _ids(values: Optional[List[str]], option: str, kind: str) -> list[str]:
    """--account/--region values, checked like a typed parameter; an empty value is an error."""
    from .params import ParamSpec

    items = _split(values)
    if values and not items:
        raise UsageError(f"{option}: empty value")
    spec = ParamSpec(option.lstrip("-"), kind)
    for item in items:
        try:
            spec.parse(item)
        except UsageError as e:
            raise UsageError(f"{option}: {str(e).split(': ', 1)[-1]}") from None
    return items


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
    engine: Optional[EngineName] = typer.Option(
        None, "--engine", "-e", help="athena or local (default: athena once `flowsql setup` ran, else local)."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
):
    """Print a query's rendered SQL as the lint gate passes it (the local engine runs its DuckDB
    translation); a query with lint findings is not printed, the findings are (exit 1).

    Example: flowsql render top-destinations -p limit=20 --since 2026-11-01 --until 2026-11-07
    """
    from .lint import lint_sql, locate_in_template
    from .params import parse_assignments
    from .render import render

    try:
        q = _load(query)
        window = _window(since, until)
        target = _target_for(engine or _default_engine(None))
        rendered = render(q, parse_assignments(param or []), target, window,
                          accounts=_ids(account, "--account", "account_id"),
                          regions=_ids(region, "--region", "region"))
        findings = lint_sql(rendered.sql, str(q.path), flow_log_table=target.flow_logs)
        if findings:
            raise LintError(locate_in_template(findings, q.path, rendered.sql))
        typer.echo(rendered.sql, nl=False)
    except FlowsqlError as e:
        _fail(e)


def _make_engine(engine: EngineName, source, inventory, window, accounts, regions, skip_bad_files,
                 table=None, profile=None):
    if engine is EngineName.local:
        from .engines.local import LocalEngine
        from .inventory import load

        if source is None:
            raise UsageError("the local engine needs --source DIR (a folder holding an AWSLogs/ tree); "
                             "for Athena, run `flowsql setup` first")
        return LocalEngine(source, window, inventory=load(inventory), accounts=accounts, regions=regions,
                           skip_bad_files=skip_bad_files)
    if source is not None or inventory is not None:
        raise UsageError("--source and --inventory are for the local engine; add --engine local")
    from . import config
    from .engines.athena import AthenaEngine

    return AthenaEngine.from_config(config.load(required=True), table=table, profile=profile)


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
            f"data scanned: {scanned / 1e6:,.1f} MB, cost ≈ ${stats.get('cost_usd', 0):,.6f} "
            f"($5/TB, 10 MB minimum; query {stats.get('query_id', '?')})",
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
    table: Optional[str] = typer.Option(
        None, "--table", help="Athena: which flow-log table setup made (default: the first)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="Athena: the AWS CLI profile to use."),
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
        accounts = _ids(account, "--account", "account_id")
        regions = _ids(region, "--region", "region")
        engine = engine or _default_engine(source)
        eng = _make_engine(engine, source, inventory, window, accounts, regions, skip_bad_files, table, profile)
        if engine is EngineName.athena:
            accounts, regions = eng.table.partition_filters(accounts, regions)
        elif not eng.files:
            what = " ".join(x for x in (", ".join(accounts), ", ".join(regions)) if x)
            typer.echo(f"note: no log files in {source} for {window.since} … {window.until}"
                       + (f" ({what})" if what else ""), err=True)
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
        run_demo(dir, days=days, seed=seed, echo=typer.echo, status=_Spinner)
    except FlowsqlError as e:
        _fail(e)


# --- the account side ----------------------------------------------------------------------------

_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def _parse_size(text: str) -> int:
    import re

    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    unit = m[2].upper() if m else None
    if not m or unit not in _SIZE_UNITS:
        raise UsageError(f"--scan-limit: not a size: {text!r} (e.g. 10GB, 500MB)")
    n = int(float(m[1]) * _SIZE_UNITS[unit])
    if n < 10_000_000:
        raise UsageError(f"--scan-limit: {text} is below Athena's minimum cut-off of 10 MB")
    return n


ProfileOpt = typer.Option(None, "--profile", help="The AWS CLI profile (default: AWS_PROFILE, then the default chain).")
AwsRegionOpt = typer.Option(None, "--region", help="The AWS region (default: AWS_REGION / the profile's region).")


@app.command("setup")
def setup_cmd(
    profile: Optional[str] = ProfileOpt,
    region: Optional[str] = AwsRegionOpt,
    bucket: Optional[str] = typer.Option(None, "--bucket", help="Use this log bucket (narrows discovery, or replaces it "
                                         "for a central log-archive bucket)."),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="The key prefix above AWSLogs/ in --bucket."),
    log_format: Optional[str] = typer.Option(None, "--log-format", metavar="FORMAT",
                                             help="The LogFormat (${version} ${vpc-id} …), overriding discovery."),
    no_discovery: bool = typer.Option(False, "--no-discovery", help="Do not read DescribeFlowLogs; needs --bucket."),
    accounts: Optional[List[str]] = typer.Option(None, "--accounts", metavar="IDS",
                                                 help="Accounts of a multi-account bucket (default: all found)."),
    database: str = typer.Option("flowsql", "--database", help="Glue database."),
    table: str = typer.Option("vpc_flow_logs", "--table", help="Flow-log table name (more get _2, _3, …)."),
    workgroup: str = typer.Option("flowsql", "--workgroup", help="Athena workgroup."),
    scan_limit: str = typer.Option("10GB", "--scan-limit", help="Per-query scan cut-off (BytesScannedCutoffPerQuery)."),
    results: Optional[str] = typer.Option(None, "--results", metavar="S3URI",
                                          help="Where Athena writes results (default: a new "
                                               "flowsql-results-{account}-{region} bucket)."),
    results_expire_days: int = typer.Option(30, "--results-expire-days", min=1, help="Expire query results after N days."),
    projection_start: str = typer.Option("2018-01-01", "--projection-start", metavar="DAY",
                                         help="First day of the day partition projection."),
    account_projection: Optional[str] = typer.Option(None, "--account-projection",
                                                     help="enum or injected (default: enum up to 40 accounts)."),
    update: bool = typer.Option(False, "--update", help="Also update tables and named queries whose definition changed."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the DDL and every API action; change nothing."),
):
    """Make this account's flow logs queryable in Athena: Glue table(s) with partition projection, a
    workgroup with a scan cut-off, the canned queries as named queries. Safe to run again.

    Example: flowsql setup --region eu-west-1 --dry-run
    """
    from . import config
    from .aws import Aws
    from .discovery import check_accounts, discover
    from .fields import parse_log_format
    from .params import parse_day
    from .provision import SetupOptions, apply, check_options, plan

    try:
        # Every option is checked before the first AWS call: a typo costs no API call, exits 2.
        limit = _parse_size(scan_limit)
        try:
            day_start = parse_day(projection_start)
        except UsageError as e:
            raise UsageError(f"--projection-start: {e}") from None
        wanted_accounts = check_accounts(_split(accounts))
        if log_format:
            parse_log_format(log_format)
        options = SetupOptions(database=database, workgroup=workgroup, table=table, scan_limit=limit,
                               results_location=results, results_expire_days=results_expire_days,
                               day_start=day_start, account_projection=account_projection, update=update,
                               named_queries=_named_queries)  # rendered for the tables the plan names
        check_options(options)
        aws = Aws.connect(profile, region)
        typer.echo(f"account {aws.account}, region {aws.region}: looking for flow logs that publish to S3 …", err=True)
        dests = discover(aws, bucket=bucket, prefix=prefix, log_format=log_format,
                         use_flow_logs=not no_discovery, accounts=wanted_accounts)
        for d in dests:
            typer.echo(f"  found {d.describe()}", err=True)
            if d.verified_against:
                typer.echo(f"  format verified against {d.verified_against}", err=True)
            for n in d.notes:
                typer.echo(f"  note: {n}", err=True)
        actions = plan(aws, dests, options)
        if dry_run:
            for a in actions:
                typer.echo(f"-- {a.description}")
                if a.ddl:  # `;`-terminated, so the whole output runs (or parses) as one script
                    typer.echo(a.ddl.rstrip().rstrip(";") + ";\n")
            typer.echo(f"dry run: {len(actions)} action(s), nothing changed", err=True)
            return
        if not actions:
            typer.echo("nothing to do: everything is already set up", err=True)
        apply(aws, actions, echo=lambda m: typer.echo(f"  {m}", err=True))
        path = config.save(actions.config)
        for t in actions.config.tables:
            typer.echo(f"table {actions.config.database}.{t.name} over {t.location}")
        typer.echo(f"workgroup {actions.config.workgroup}, results in {actions.config.results_location}")
        typer.echo(f"settings saved to {path}; `flowsql query QUERY` now runs on Athena", err=True)
    except FlowsqlError as e:
        _fail(e)


def _named_queries(cfg) -> list[tuple[str, str, str]]:
    """Every canned query for the Athena console, rendered against the default table of the setup
    `cfg` (with its account/region filters, which an injected projection requires) for a 7-day
    window ending today. Only the window's days differ from one day's run to the next; setup
    does not count that as a change (provision._without_window)."""
    from .config import athena_target
    from .lint import lint_sql
    from .pack import load_pack
    from .params import Window
    from .render import render

    target = athena_target(cfg)
    table = cfg.table()
    accounts, regions = table.partition_filters()
    window = Window.from_options(None, None)
    day_words = table.day_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    out = []
    for q in load_pack():
        sql = render(q, {}, target, window, accounts=accounts, regions=regions).sql
        findings = lint_sql(sql, str(q.path), flow_log_table=target.flow_logs)
        if findings:  # never save a query the gate would refuse to run; a broken pack is an error
            raise FlowsqlError(f"canned query {q.name} rendered for {target.flow_logs} fails lint "
                               f"({findings[0]}); nothing was changed")
        description = " ".join(q.description.split())
        header = (f"-- {q.title}: {description}\n"
                  f"-- window: edit the day BETWEEN bounds (UTC days, written {day_words})\n")
        out.append((f"flowsql-{q.name}", description[:1024], header + sql))
    return out


class PolicyScope(str, Enum):
    all = "all"
    setup = "setup"
    query = "query"
    inventory = "inventory"


@app.command("iam-policy")
def iam_policy_cmd(
    scope: PolicyScope = typer.Option(PolicyScope.all, "--for", help="Statements for: all, setup, query, inventory."),
):
    """Print the least-privilege IAM policy flowsql needs (for the resources setup recorded, if any).

    Example: flowsql iam-policy --for query > flowsql-query-policy.json
    """
    import json

    from . import config
    from .provision import iam_policy_for

    try:
        doc = iam_policy_for(config.load(required=False))
    except FlowsqlError as e:
        _fail(e)
    if scope is not PolicyScope.all:
        prefix = "Flowsql" + scope.value.capitalize()
        doc = {**doc, "Statement": [s for s in doc["Statement"] if s["Sid"].startswith(prefix)]}
    typer.echo(json.dumps(doc, indent=2))


inventory_app = typer.Typer(no_args_is_help=True, help="The ENI, subnet and VPC inventory that attributes traffic.")
app.add_typer(inventory_app, name="inventory")


@inventory_app.command("sync")
def inventory_sync_cmd(
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR", help="Folder for network-interfaces.json, "
                             "subnets.json, vpcs.json."),
    upload: bool = typer.Option(False, "--upload", help="Also put the rows in S3 and register the inventory "
                                "Glue tables (needs `flowsql setup`)."),
    profile: Optional[str] = ProfileOpt,
    region: Optional[str] = AwsRegionOpt,
):
    """Write the account's ENIs, subnets and VPCs in the AWS CLI's JSON shapes (for --inventory).

    Example: flowsql inventory sync --out ./inv && flowsql query lambda-egress --engine local --source ./logs --inventory ./inv
    """
    from . import config
    from . import inventory as inv
    from .aws import Aws

    try:
        # Only --upload needs setup's settings (and its region, where the Glue tables are); a plain
        # sync follows the AWS CLI's region chain like any describe call.
        cfg = config.load(required=True) if upload else None
        if cfg is not None and not cfg.inventory_location:
            raise UsageError("the flowsql config names no inventory location; run `flowsql setup` again")
        aws = Aws.connect(profile, region or (cfg.region if cfg else None))
        with _Spinner(f"reading ENIs, subnets and VPCs of {aws.region}"):
            counts = inv.sync(aws, out)
        for name, n in counts.items():
            typer.echo(f"{out / name}: {n:,} item(s)")
        if cfg is not None:
            with _Spinner("uploading the inventory and registering its Glue tables"):
                rows = inv.upload(aws, out, location=cfg.inventory_location, database=cfg.database)
            for table, n in rows.items():
                name = cfg.inventory.get(table, f"inventory_{table}")
                typer.echo(f"{cfg.database}.{name}: {n:,} row(s) from this account and region")
    except FlowsqlError as e:
        _fail(e)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _is_usage_error(e: Exception) -> bool:
    # typer's argument errors (click's UsageError family, vendored by typer): exit code 2 and a message
    return getattr(e, "exit_code", None) == 2 and callable(getattr(e, "format_message", None))


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        _err("interrupted")
        code = 130
    except FlowsqlError as e:  # raised outside a command's own handling
        _err(_one_line(e))
        code = e.exit_code
    except Exception as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # `flowsql` or a group alone: its help
            ctx = getattr(e, "ctx", None)
            typer.echo(ctx.get_help() if ctx else e.format_message())
            code = 2
        elif _is_usage_error(e):
            ctx = getattr(e, "ctx", None)
            _err(_one_line(e.format_message()) + (f" (see `{ctx.command_path} --help`)" if ctx else ""))
            code = 2
        elif os.environ.get("FLOWSQL_DEBUG"):
            raise
        else:  # a defect: one line, the traceback only on request
            _err(_one_line(f"internal error: {type(e).__name__}: {e} (set FLOWSQL_DEBUG=1 for a traceback)"))
            code = 1
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
