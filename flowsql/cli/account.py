"""`flowsql setup` and `flowsql iam-policy`: the account side."""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from ..engines.athena import defaults
from ..errors import UsageError
from .common import AwsRegionOpt, ProfileOpt, app, command, note, out, split


@command(app, "setup")
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
    database: str = typer.Option(defaults.DATABASE, "--database", help="Glue database."),
    table: str = typer.Option(defaults.TABLE, "--table", help="Flow-log table name (more get _2, _3, …)."),
    workgroup: str = typer.Option(defaults.WORKGROUP, "--workgroup", help="Athena workgroup."),
    scan_limit: str = typer.Option("10GB", "--scan-limit", help="Per-query scan cut-off (BytesScannedCutoffPerQuery)."),
    results: Optional[str] = typer.Option(None, "--results", metavar="S3URI",
                                          help="Where Athena writes results (default: a new "
                                               f"{defaults.RESULTS_BUCKET} bucket)."),
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
    from ..engines.athena import config
    from ..aws import Aws
    from ..account.discovery import check_accounts, discover_flow_logs
    from ..logs.fields import parse_log_format
    from ..pack.params import parse_day
    from ..account.provision import SetupOptions, apply, check_setup_options, parse_size, plan_setup

    # Every option is checked before the first AWS call: a typo costs no API call, exits 2.
    limit = parse_size(scan_limit, "--scan-limit")
    try:
        day_start = parse_day(projection_start)
    except UsageError as e:
        raise UsageError(f"--projection-start: {e}") from None
    wanted_accounts = check_accounts(split(accounts))
    if log_format:
        parse_log_format(log_format)
    options = SetupOptions(database=database, workgroup=workgroup, table=table, scan_limit=limit,
                           results_location=results, results_expire_days=results_expire_days,
                           day_start=day_start, account_projection=account_projection, update=update)
    check_setup_options(options)
    aws = Aws.connect(profile, region)
    note(f"account {aws.account}, region {aws.region}: looking for flow logs that publish to S3 …")
    dests = discover_flow_logs(aws, bucket=bucket, prefix=prefix, log_format=log_format,
                     use_flow_logs=not no_discovery, accounts=wanted_accounts)
    for n in dests.notes:
        note(f"  note: {n}")
    for d in dests:
        note(f"  found {d.describe()}")
        if d.verified_against:
            note(f"  format verified against {d.verified_against}")
        for n in d.notes:
            note(f"  note: {n}")
    actions = plan_setup(aws, dests, options)
    if dry_run:
        for a in actions:
            out(f"-- {a.description}")
            if a.ddl:  # `;`-terminated, so the whole output runs (or parses) as one script
                out(a.ddl.rstrip().rstrip(";") + ";\n")
        note(f"dry run: {len(actions)} action(s), nothing changed")
        return
    if not actions:
        note("nothing to do: everything is already set up")
    apply(aws, actions, echo=lambda m: note(f"  {m}"))
    path = config.save(actions.config)
    for t in actions.config.tables:
        out(f"table {actions.config.database}.{t.name} over {t.location}")
    out(f"workgroup {actions.config.workgroup}, results in {actions.config.results_location}")
    note(f"settings saved to {path}; `flowsql query QUERY` now runs on Athena")


class PolicyScope(str, Enum):
    all = "all"
    setup = "setup"
    query = "query"
    inventory = "inventory"
    inventory_role = "inventory-role"
    inventory_trust = "inventory-trust"
    schedule = "schedule"
    pull = "pull"
    investigate = "investigate"


@command(app, "iam-policy")
def iam_policy_cmd(
    scope: PolicyScope = typer.Option(PolicyScope.all, "--for", help="Statements for: all, setup, query (and report "
                                      "on Athena), inventory (sync, --organization and --accounts included), "
                                      "inventory-role (the policy of the role sync assumes in each account), "
                                      "inventory-trust (that role's trust policy, with --trusted-account), "
                                      "schedule (--target eventbridge), pull, investigate (on Athena)."),
    role_name: Optional[str] = typer.Option(None, "--role-name", metavar="NAME",
                                            help="The role `inventory sync --role-name` assumes (default: any)."),
    trusted_account: Optional[str] = typer.Option(None, "--trusted-account", metavar="ID",
                                                  help="inventory-trust: the account flowsql runs from."),
    external_id: Optional[str] = typer.Option(None, "--external-id", metavar="ID",
                                              help="inventory-trust: the external id the role requires."),
):
    """Print the least-privilege IAM policy flowsql needs (for the resources setup recorded, if any).

    Example: flowsql iam-policy --for query > flowsql-query-policy.json

    Example: flowsql iam-policy --for inventory-trust --trusted-account 111122223333 --external-id ops-2026
    """
    from ..files import dumps_json

    from ..engines.athena import config
    from ..account.provision import iam_policy_for, inventory_role_policy, inventory_trust_policy
    from ..account.tree_sync import check_external_id, check_role_name

    check_role_name(role_name)  # as `inventory sync` checks them
    if scope is PolicyScope.inventory_trust:
        if not trusted_account or not (len(trusted_account) == 12 and trusted_account.isdigit()):
            raise UsageError("--for inventory-trust needs --trusted-account ID (12 digits): the account "
                             "`flowsql inventory sync` runs from")
        check_external_id(external_id)
        out(dumps_json(inventory_trust_policy(trusted_account, external_id), indent=2))
        return
    if trusted_account is not None or external_id is not None:
        raise UsageError("--trusted-account and --external-id go with --for inventory-trust")
    if scope is PolicyScope.inventory_role:
        out(dumps_json(inventory_role_policy(), indent=2))
        return
    doc = iam_policy_for(config.load(required=False), role_name=role_name or "*")
    if scope is not PolicyScope.all:
        prefix = "Flowsql" + scope.value.capitalize()
        doc = {**doc, "Statement": [s for s in doc["Statement"] if s["Sid"].startswith(prefix)]}
    out(dumps_json(doc, indent=2))
