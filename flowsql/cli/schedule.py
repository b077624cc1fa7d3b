"""`flowsql schedule install|list|remove`: the monthly report run on cron, systemd, GitHub Actions or
EventBridge Scheduler. The library (flowsql.schedule) plans and applies; this module parses and prints."""

from __future__ import annotations

from enum import Enum
from typing import List, Optional

import typer

from ..errors import UsageError
from .common import AwsRegionOpt, ListFormat, OutputFormat, ProfileOpt, command, note, out, print_rows, sub_app

schedule_app = sub_app(
    "schedule", "Install, list and remove the monthly report run: cron, systemd, GitHub Actions or EventBridge.")


class TargetName(str, Enum):
    cron = "cron"
    systemd = "systemd"
    github = "github"
    eventbridge = "eventbridge"


TargetOpt = typer.Option(..., "--target", "-t", help="Where the run lives: cron, systemd, github or eventbridge.")
NameOpt = typer.Option("flowsql-report", "--name", help="The schedule's name: flowsql-report or flowsql-report-SUFFIX.")
DryRunOpt = typer.Option(False, "--dry-run", help="Print what would be written or called; change nothing.")
UnitDirOpt = typer.Option(None, "--unit-dir", metavar="DIR", help="systemd: the units' folder instead of "
                          "~/.config/systemd/user (flowsql then runs no systemctl).")
RepoOpt = typer.Option(None, "--repo", metavar="DIR", help="github: the git repository (default: the current folder).")

# Which option belongs to which targets: one given to another target is an error, not ignored.
_APPLIES = {
    "--flowsql": ("cron", "systemd"), "--workdir": ("cron", "systemd"), "--log": ("cron",),
    "--unit-dir": ("systemd",), "--repo": ("github",), "--role-arn": ("github",),
    "--region": ("github", "eventbridge"), "--profile": ("eventbridge",),
    "--scheduler-role-arn": ("eventbridge",), "--codebuild-role-arn": ("eventbridge",),
    "--package": ("github", "eventbridge"), "--flexible-window": ("eventbridge",), "--all": ("eventbridge",),
}


def _check_applies(target: TargetName, given: dict) -> None:
    for option, value in given.items():
        if value not in (None, False, 0) and target.value not in _APPLIES[option]:
            raise UsageError(f"{option} is for --target {' or '.join(_APPLIES[option])}, not {target.value}")


def _target(target: TargetName, *, install: bool = False, flowsql=None, workdir=None, log=None, unit_dir=None,
            repo=None, role_arn=None, region=None, profile=None, scheduler_role_arn=None, codebuild_role_arn=None,
            package=None, flexible_window=0):
    if target is TargetName.cron:
        from ..schedule.cron import CronTarget
        from ..schedule.host import host_job

        return CronTarget(host_job(flowsql, workdir) if install else None, log=log)
    if target is TargetName.systemd:
        from ..schedule.host import host_job
        from ..schedule.systemd import SystemdTarget

        return SystemdTarget(host_job(flowsql, workdir) if install else None, unit_dir=unit_dir)
    if target is TargetName.github:
        from ..schedule.github import GithubTarget

        return GithubTarget(repo, role_arn=role_arn, region=region, package=package)
    from ..aws import Aws
    from ..schedule.eventbridge import EventBridgeTarget

    return EventBridgeTarget(Aws.connect(profile, region), scheduler_role_arn=scheduler_role_arn,
                             codebuild_role_arn=codebuild_role_arn, package=package, flexible_window=flexible_window)


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

    _check_applies(target, {"--flowsql": flowsql, "--workdir": workdir, "--log": log, "--unit-dir": unit_dir,
                            "--repo": repo, "--role-arn": role_arn, "--region": region, "--profile": profile,
                            "--scheduler-role-arn": scheduler_role_arn, "--codebuild-role-arn": codebuild_role_arn,
                            "--package": package, "--flexible-window": flexible_window})
    schedule = Schedule.parse(name=name, day=day, at=at, timezone=timezone,
                              report_args=[*(report_arg or []), *(report_options or [])])
    t = _target(target, install=True, flowsql=flowsql, workdir=workdir, log=log, unit_dir=unit_dir, repo=repo,
                role_arn=role_arn, region=region, profile=profile, scheduler_role_arn=scheduler_role_arn,
                codebuild_role_arn=codebuild_role_arn, package=package, flexible_window=flexible_window)
    plan = t.plan(schedule)
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
    _check_applies(target, {"--unit-dir": unit_dir, "--repo": repo, "--region": region, "--profile": profile})
    found = _target(target, unit_dir=unit_dir, repo=repo, region=region, profile=profile).list()
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
    _check_applies(target, {"--all": everything, "--unit-dir": unit_dir, "--repo": repo, "--region": region,
                            "--profile": profile})
    t = _target(target, unit_dir=unit_dir, repo=repo, region=region, profile=profile)
    plan = t.removal(name, everything=everything) if target is TargetName.eventbridge else t.removal(name)
    _show(plan, dry_run, "")
