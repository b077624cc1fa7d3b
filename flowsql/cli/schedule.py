"""`flowsql schedule install|list|remove`: the monthly report run on cron, systemd, GitHub Actions or
EventBridge Scheduler. The library (flowsql.schedule) plans and applies; this module parses and prints."""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from ..schedule import targets
from .common import AwsRegionOpt, ListFormat, OutputFormat, ProfileOpt, command, note, out, print_rows, sub_app

schedule_app = sub_app(
    "schedule", "Install, list and remove the monthly report run: cron, systemd, GitHub Actions or EventBridge.")


# The choice is the registry's: a target is its module in flowsql/schedule/ and its name there.
_NAMES = targets.names()
TargetName = Enum("TargetName", [(n, n) for n in _NAMES], type=str)

TargetOpt = typer.Option(..., "--target", "-t", help=f"Where the run lives: {', '.join(_NAMES[:-1])} or {_NAMES[-1]}.")
NameOpt = typer.Option("flowsql-report", "--name", help="The schedule's name: flowsql-report or flowsql-report-SUFFIX.")
DryRunOpt = typer.Option(False, "--dry-run", help="Print what would be written or called; change nothing.")
UnitDirOpt = typer.Option(None, "--unit-dir", metavar="DIR", help="systemd: the units' folder instead of "
                          "~/.config/systemd/user (flowsql then runs no systemctl).")
RepoOpt = typer.Option(None, "--repo", metavar="DIR", help="github: the git repository (default: the current folder).")


def _show(plan, dry_run: bool, summary: str) -> None:
    out(plan.render())
    if dry_run:
        note(f"dry run: {len(plan.changes)} change(s) planned, nothing changed")
    elif not plan.changes:
        note(f"{plan.name} ({plan.target}): already as asked, nothing changed")
    else:
        plan.apply()
        note(f"{plan.name} {plan.verb} ({plan.target}){summary}")
    for n in plan.notes:
        note(f"note: {n}")


@command(schedule_app, "install")
def install_cmd(
    target: TargetName = TargetOpt,
    report_options: Optional[List[str]] = typer.Argument(
        None, metavar="-- REPORT-OPTIONS", help="Options for `flowsql report` (after `--`), e.g. "
        "-- --engine athena --upload s3://bucket/reports/"),
    name: str = NameOpt,
    day: int = typer.Option(1, "--day", help="Day of the month, 1 to 28."),
    at: str = typer.Option("03:00", "--at", metavar="HH:MM", help="Time of day, in --timezone."),
    timezone: str = typer.Option("UTC", "--timezone", metavar="ZONE", help="IANA time zone (e.g. Europe/Paris)."),
    report_arg: Optional[List[str]] = typer.Option(None, "--report-arg", metavar="ARG",
                                                   help="One report option word (repeatable; the same as after --)."),
    dry_run: bool = DryRunOpt,
    flowsql: Optional[str] = typer.Option(None, "--flowsql", metavar="PATH", help="cron/systemd: the flowsql "
                                          "executable to run (default: this Python, -m flowsql)."),
    workdir: Optional[str] = typer.Option(None, "--workdir", metavar="DIR", help="cron/systemd: the folder the "
                                          "report runs in (default: the current one)."),
    log: Optional[str] = typer.Option(None, "--log", metavar="FILE", help="cron: where the run's output goes "
                                      "(default: ~/.local/state/flowsql/NAME.log)."),
    unit_dir: Optional[str] = UnitDirOpt,
    repo: Optional[str] = RepoOpt,
    role_arn: Optional[str] = typer.Option(None, "--role-arn", metavar="ARN", help="github: the IAM role the "
                                           "workflow assumes through GitHub's OIDC provider."),
    region: Optional[str] = AwsRegionOpt,
    profile: Optional[str] = ProfileOpt,
    scheduler_role_arn: Optional[str] = typer.Option(None, "--scheduler-role-arn", metavar="ARN",
                                                     help="eventbridge: use this role to start the build "
                                                          "(default: create NAME-scheduler)."),
    codebuild_role_arn: Optional[str] = typer.Option(None, "--codebuild-role-arn", metavar="ARN",
                                                     help="eventbridge: the build's service role "
                                                          "(default: create NAME-codebuild)."),
    package: Optional[str] = typer.Option(None, "--package", metavar="SPEC", help="github/eventbridge: what pip "
                                          "installs (default: flowsql==this version)."),
    flexible_window: int = typer.Option(0, "--flexible-window", metavar="MINUTES",
                                        help="eventbridge: let the run start up to this late (0: on time)."),
):
    """Install the monthly run of `flowsql report --month previous [REPORT OPTIONS]`: prints what it
    creates, then creates it. Installing again updates it in place (or changes nothing).

    cron: a marked block in your crontab (times converted to the host's zone; no catch-up of a run
    missed while the host was off). systemd: a user timer with Persistent=true (a missed run happens
    at the next boot; needs lingering to run while you are logged out). github: a workflow file
    (commit it to the default branch; GitHub may delay or drop scheduled runs, and switches them
    off after 60 days without activity in a public repository). eventbridge: an EventBridge
    Scheduler schedule starting a CodeBuild project, with its IAM roles: no host at all (needs
    `flowsql setup` and --upload).

    Example: flowsql schedule install --target systemd --timezone Europe/Paris -- --engine athena --out ./reports
    """
    from ..schedule import Schedule

    given = {"--flowsql": flowsql, "--workdir": workdir, "--log": log, "--unit-dir": unit_dir, "--repo": repo,
             "--role-arn": role_arn, "--region": region, "--profile": profile,
             "--scheduler-role-arn": scheduler_role_arn, "--codebuild-role-arn": codebuild_role_arn,
             "--package": package, "--flexible-window": flexible_window}
    spec = targets.check_options(target.value, given)
    schedule = Schedule.parse(name=name, day=day, at=at, timezone=timezone,
                              report_args=[*(report_arg or []), *(report_options or [])])
    plan = spec.build(given, install=True).plan(schedule)
    _show(plan, dry_run, f": {schedule.describe()}")


@command(schedule_app, "list")
def list_cmd(
    target: TargetName = TargetOpt,
    output: ListFormat = typer.Option(ListFormat.table, "--output", "-o", help="table or json."),
    unit_dir: Optional[str] = UnitDirOpt,
    repo: Optional[str] = RepoOpt,
    region: Optional[str] = AwsRegionOpt,
    profile: Optional[str] = ProfileOpt,
):
    """List the flowsql schedules on a target: name, when, where, what runs.

    Example: flowsql schedule list --target cron
    """
    given = {"--unit-dir": unit_dir, "--repo": repo, "--region": region, "--profile": profile}
    found = targets.check_options(target.value, given).build(given).list()
    if output is ListFormat.json:
        from ..files import dumps_json

        out(dumps_json([dict(zip(i.COLUMNS, i.row())) for i in found], indent=2))
        return
    if not found:
        note(f"no flowsql schedule on {target.value}")
        return
    from ..schedule import Installed

    print_rows(list(Installed.COLUMNS), [i.row() for i in found], OutputFormat.table)


@command(schedule_app, "remove")
def remove_cmd(
    target: TargetName = TargetOpt,
    name: str = NameOpt,
    everything: bool = typer.Option(False, "--all", help="eventbridge: also delete the CodeBuild project and the "
                                    "IAM roles flowsql created."),
    dry_run: bool = DryRunOpt,
    unit_dir: Optional[str] = UnitDirOpt,
    repo: Optional[str] = RepoOpt,
    region: Optional[str] = AwsRegionOpt,
    profile: Optional[str] = ProfileOpt,
):
    """Remove a flowsql schedule (only what flowsql created). A schedule that is not there is an
    error (exit 2) naming the schedules that are.

    Example: flowsql schedule remove --target eventbridge --all
    """
    from ..schedule.spec import check_name

    check_name(name)
    given = {"--all": everything, "--unit-dir": unit_dir, "--repo": repo, "--region": region, "--profile": profile}
    spec = targets.check_options(target.value, given)
    plan = spec.removal(spec.build(given), name, given)
    _show(plan, dry_run, "")
