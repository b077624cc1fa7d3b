"""The EventBridge target: the monthly run in AWS, with no host of one's own.

    EventBridge Scheduler schedule NAME ── cron(M H D * ? *), in the schedule's time zone
        └─ starts CodeBuild project NAME (a templated target: the project's ARN, role NAME-scheduler)
              └─ pip install flowsql, write the settings of `flowsql setup`,
                 flowsql report --month previous … --upload s3://…   (role NAME-codebuild)

What it creates, all named after the schedule and marked as flowsql's (schedules cannot be tagged,
so the schedule's description starts with `flowsql:managed=true`; the project and the roles carry
the tag `flowsql:managed=true`): nothing without the mark is ever updated or deleted.

- IAM role `NAME-scheduler`, trusted by scheduler.amazonaws.com for this account only, allowed
  codebuild:StartBuild on the project (unless `--scheduler-role-arn`).
- IAM role `NAME-codebuild`, trusted by codebuild.amazonaws.com, with what the report needs: the
  query statements of `flowsql iam-policy` (Athena in the workgroup, Glue reads, the flow logs and
  the results bucket), s3:PutObject under the --upload location, and CloudWatch Logs for the
  build's own log group (unless `--codebuild-role-arn`).
- CodeBuild project `NAME`: no source, an inline buildspec that installs flowsql from PyPI (the
  version that wrote it, or `--package`), writes the saved settings (the project's
  FLOWSQL_SETTINGS variable) to a file and runs the report. The report must be uploaded
  (`--upload s3://…`): a build's disk does not outlive it.
- The schedule, in the default group: `cron(M H D * ? *)` (six fields; day-of-week `?`),
  ScheduleExpressionTimezone, FlexibleTimeWindow OFF (or FLEXIBLE with `--flexible-window`).

A second install reads all of it back and changes only what differs. A new role takes a few seconds
to be usable by CodeBuild and Scheduler: the calls that name one just created are retried for up to
a minute. `remove` deletes the schedule; `remove --all` the project and the roles too.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from .. import __version__
from ..aws import Aws, aws_errors, error_code, errors, is_code, map_error, partition_for_region, split_s3_uri
from ..engines import get as get_engine
from ..errors import UsageError
from ..files import dumps_json, loads_json
from .plan import Installed, Plan, Step, absent
from .spec import MANAGED_BY, PREFIX, Schedule, option_value, report_engine
from .target_spec import TargetSpec

TAG_KEY, TAG_VALUE = "flowsql:managed", "true"
MARK = f"{TAG_KEY}={TAG_VALUE}"  # how a schedule's description starts
IMAGE = "aws/codebuild/standard:7.0"
PYTHON = "3.11"
COMPUTE = "BUILD_GENERAL1_SMALL"
TIMEOUT_MINUTES = 60
POLICY_NAME = "flowsql-report"
SETTINGS_FILE = "/tmp/flowsql/config.json"
ROLE_WAIT_SECONDS = 60
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")


@dataclass(frozen=True)
class Names:
    schedule: str
    project: str
    scheduler_role: str
    codebuild_role: str

    @classmethod
    def of(cls, name: str) -> "Names":
        return cls(name, name, f"{name}-scheduler", f"{name}-codebuild")


class EventBridgeTarget:
    kind = "eventbridge"

    def __init__(self, aws: Aws, *, scheduler_role_arn: str | None = None, codebuild_role_arn: str | None = None,
                 package: str | None = None, flexible_window: int = 0,
                 sleep: Callable[[float], Any] = time.sleep):
        for arn, option in ((scheduler_role_arn, "--scheduler-role-arn"), (codebuild_role_arn, "--codebuild-role-arn")):
            if arn is not None and not _ROLE_ARN.match(arn):
                raise UsageError(f"{option}: {arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        if not 0 <= flexible_window <= 1440:
            raise UsageError(f"--flexible-window: {flexible_window} is not a number of minutes from 0 (off) to 1440")
        if package is not None and (not package.strip() or any(c in package for c in "\n\r\0")):
            raise UsageError(f"--package: {package!r} is not a pip requirement")
        self.aws = aws
        self.scheduler_role_arn = scheduler_role_arn
        self.codebuild_role_arn = codebuild_role_arn
        self.package = package or f"flowsql=={__version__}"
        self.flexible_window = flexible_window
        self.sleep = sleep

    # -- the interface ------------------------------------------------------------------------

    def plan(self, schedule: Schedule) -> Plan:
        from ..engines.athena import config

        args = schedule.report_args
        upload = option_value(args, "--upload")
        if upload is None:
            raise UsageError("the eventbridge target runs the report in CodeBuild, whose disk does not outlive the "
                             "build: add --upload s3://BUCKET/PREFIX/ to the report options")
        bucket, key = split_s3_uri(upload, "--upload")
        if not get_engine(report_engine(args, config.exists())).needs_aws:
            raise UsageError("the eventbridge target runs the report on Athena (CodeBuild has no local logs): leave "
                             "out --engine local and --source, and run `flowsql setup` first")
        cfg = config.load(required=True)
        names = Names.of(schedule.name)
        aws, p = self.aws, partition_for_region(self.aws.region)
        account = aws.account
        project_arn = f"arn:{p}:codebuild:{aws.region}:{account}:project/{names.project}"
        plan = Plan(self.kind, schedule.name)
        fresh: set[str] = set()  # roles this plan creates: calls naming them wait for IAM to catch up

        codebuild_role = self.codebuild_role_arn or f"arn:{p}:iam::{account}:role/{names.codebuild_role}"
        if not self.codebuild_role_arn:
            policy = codebuild_policy(cfg, names, p, aws.region, account, bucket, key)
            plan.steps += self._role_steps(names.codebuild_role, "codebuild.amazonaws.com", account, policy, fresh)
        scheduler_role = self.scheduler_role_arn or f"arn:{p}:iam::{account}:role/{names.scheduler_role}"
        if not self.scheduler_role_arn:
            policy = _document([_statement("FlowsqlReportStartBuild", ["codebuild:StartBuild"], [project_arn])])
            plan.steps += self._role_steps(names.scheduler_role, "scheduler.amazonaws.com", account, policy, fresh)

        plan.steps.append(self._project_step(schedule, names, codebuild_role, cfg.to_dict(), fresh))
        step, existed = self._schedule_step(schedule, names, project_arn, scheduler_role, fresh)
        plan.steps.append(step)
        plan.existed = existed
        plan.notes.append(f"the report runs in CodeBuild project {names.project} and is uploaded to {upload}; "
                          f"see a run with `aws codebuild list-builds-for-project --project-name {names.project}`")
        return plan

    def removal(self, name: str, everything: bool = False) -> Plan:
        names = Names.of(name)
        plan = Plan(self.kind, name, kind="remove")
        schedule = self._get_schedule(name)
        if schedule is not None:
            self._check_schedule_ours(schedule)
            plan.existed = True
            plan.steps.append(Step("delete", f"EventBridge Scheduler schedule {name}", run=lambda: self._call(
                f"deleting schedule {name}", "scheduler", "delete_schedule", Name=name, GroupName="default")))
        # Only what carries flowsql's tag is flowsql's: a project or role that merely has the name
        # (someone's own, given with --codebuild-role-arn, say) is neither deleted nor mentioned.
        project = self._get_project(names.project)
        kept = []
        if project is not None and _tagged(project.get("tags"), "key", "value"):
            if everything:
                plan.steps.append(Step("delete", f"CodeBuild project {names.project}", run=lambda: self._call(
                    f"deleting CodeBuild project {names.project}", "codebuild", "delete_project", name=names.project)))
            else:
                kept.append(f"CodeBuild project {names.project}")
        for r in (names.scheduler_role, names.codebuild_role):
            role = self._get_role(r)
            if role is None or not _tagged(role.get("Tags")):
                continue
            if everything:
                plan.steps.append(Step("delete", f"IAM role {r} (its policies first)",
                                       run=lambda r=r: self._delete_role(r)))
            else:
                kept.append(f"IAM role {r}")
        if not plan.steps:
            present = sorted(i.name for i in self.list())
            raise UsageError(absent(name, f"EventBridge Scheduler ({self.aws.region})", present)
                             if not kept else f"no flowsql schedule {name} in EventBridge Scheduler "
                             f"({self.aws.region}); left from it: {', '.join(kept)} (`--all` removes them)")
        if kept:
            plan.notes.append(f"kept: {', '.join(kept)} (`flowsql schedule remove --target eventbridge --name {name} "
                              "--all` removes them too)")
        return plan

    def list(self) -> list[Installed]:
        sched = self.aws.client("scheduler")
        found, seen = [], set()
        with aws_errors("listing EventBridge Scheduler schedules"):
            summaries = [s for page in sched.get_paginator("list_schedules").paginate(NamePrefix=PREFIX)
                         for s in page.get("Schedules", [])]
        for summary in summaries:
            s = self._get_schedule(summary["Name"], summary.get("GroupName") or "default")
            if s is None or not (s.get("Description") or "").startswith(MARK):
                continue
            project_name = s["Target"]["Arn"].rsplit("/", 1)[-1] if ":codebuild:" in s["Target"]["Arn"] else None
            project = self._get_project(project_name) if project_name else None
            meta = Schedule.from_metadata(project["source"].get("buildspec", "")) if project else None
            when = meta.describe() if meta else f"{s['ScheduleExpression']} {s.get('ScheduleExpressionTimezone', 'UTC')}"
            found.append(Installed(s["Name"], self.kind, when, s["Arn"], meta.command() if meta else "?",
                                   s.get("State", "")))
            seen.add(s["Name"])
        # a project left by `remove` without --all: listed, so that it is not forgotten
        with aws_errors("listing CodeBuild projects"):
            projects = [n for page in self.aws.client("codebuild").get_paginator("list_projects").paginate()
                        for n in page.get("projects", []) if n.startswith(PREFIX) and n not in seen]
        for n in projects:
            project = self._get_project(n)
            if project is None or not _tagged(project.get("tags"), "key", "value"):
                continue
            meta = Schedule.from_metadata(project["source"].get("buildspec", ""))
            found.append(Installed(n, self.kind, "-", project["arn"], meta.command() if meta else "?",
                                   "no schedule (remove --all deletes the rest)"))
        return found

    # -- the steps ----------------------------------------------------------------------------

    def _role_steps(self, name: str, service: str, account: str, policy: dict, fresh: set) -> list[Step]:
        iam = self.aws.client("iam")
        trust = _document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account}}}])
        role = self._get_role(name)
        if role is None:
            fresh.add(name)
            detail = dumps_json({"AssumeRolePolicyDocument": trust, POLICY_NAME: policy}, indent=2)

            def create():
                self._call(f"creating IAM role {name}", "iam", "create_role", RoleName=name,
                           AssumeRolePolicyDocument=dumps_json(trust), Description=f"flowsql report ({MANAGED_BY})",
                           Tags=[{"Key": TAG_KEY, "Value": TAG_VALUE}])
                self._call(f"putting the policy of IAM role {name}", "iam", "put_role_policy", RoleName=name,
                           PolicyName=POLICY_NAME, PolicyDocument=dumps_json(policy))

            return [Step("create", f"IAM role {name} (trusted by {service})", detail, create)]
        self._check_tagged(role.get("Tags"), f"IAM role {name}",
                           hint=f"pass --{'codebuild' if 'codebuild' in service else 'scheduler'}-role-arn to use it")
        steps = []
        if _normal(role.get("AssumeRolePolicyDocument")) != _normal(trust):
            steps.append(Step("update", f"IAM role {name}: trust policy", dumps_json(trust, indent=2), lambda: self._call(
                f"updating the trust policy of IAM role {name}", "iam", "update_assume_role_policy", RoleName=name,
                PolicyDocument=dumps_json(trust))))
        with aws_errors(f"reading the policy of IAM role {name}"):
            try:
                have = iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"]
            except errors() as e:
                if not is_code(e, "NoSuchEntity"):
                    raise
                have = None
        if _normal(have) != _normal(policy):
            steps.append(Step("update" if have is not None else "create", f"IAM role {name}: policy {POLICY_NAME}",
                              dumps_json(policy, indent=2), lambda: self._call(
                                  f"putting the policy of IAM role {name}", "iam", "put_role_policy", RoleName=name,
                                  PolicyName=POLICY_NAME, PolicyDocument=dumps_json(policy))))
        return steps or [Step("keep", f"IAM role {name}")]

    def _project_step(self, schedule: Schedule, names: Names, role_arn: str, settings: dict, fresh: set) -> Step:
        spec = {
            "name": names.project,
            "description": f"flowsql monthly report ({MANAGED_BY})",
            "source": {"type": "NO_SOURCE", "buildspec": buildspec(schedule, self.package)},
            "artifacts": {"type": "NO_ARTIFACTS"},
            "environment": {"type": "LINUX_CONTAINER", "image": IMAGE, "computeType": COMPUTE,
                            "environmentVariables": [{"name": "FLOWSQL_SETTINGS", "type": "PLAINTEXT",
                                                      "value": dumps_json(settings, sort_keys=True)}]},
            "serviceRole": role_arn,
            "timeoutInMinutes": TIMEOUT_MINUTES,
            "tags": [{"key": TAG_KEY, "value": TAG_VALUE}],
        }
        detail = spec["source"]["buildspec"] + f"(image {IMAGE}, role {role_arn})\n"
        have = self._get_project(names.project)
        what = f"CodeBuild project {names.project}"
        if have is None:
            return Step("create", what, detail, lambda: self._call_new_role(
                fresh & {names.codebuild_role}, f"creating {what}", "codebuild", "create_project", **spec))
        self._check_tagged(have.get("tags"), what, "key", "value")
        if _project_view(have) == _project_view(spec):
            return Step("keep", what, detail)
        return Step("update", what, detail, lambda: self._call_new_role(
            fresh & {names.codebuild_role}, f"updating {what}", "codebuild", "update_project", **spec))

    def _schedule_step(self, schedule: Schedule, names: Names, project_arn: str, role_arn: str,
                       fresh: set) -> tuple[Step, bool]:
        window = ({"Mode": "FLEXIBLE", "MaximumWindowInMinutes": self.flexible_window} if self.flexible_window
                  else {"Mode": "OFF"})
        spec = {
            "Name": names.schedule,
            "GroupName": "default",
            "Description": f"{MARK}: monthly flowsql report, starts CodeBuild project {names.project}",
            "ScheduleExpression": schedule_expression(schedule),
            "ScheduleExpressionTimezone": schedule.timezone,
            "FlexibleTimeWindow": window,
            "Target": {"Arn": project_arn, "RoleArn": role_arn},
            "State": "ENABLED",
        }
        detail = dumps_json(spec, indent=2)
        what = f"EventBridge Scheduler schedule {names.schedule}"
        have = self._get_schedule(names.schedule)
        if have is None:
            return Step("create", what, detail, lambda: self._call_new_role(
                fresh & {names.scheduler_role}, f"creating {what}", "scheduler", "create_schedule", **spec)), False
        self._check_schedule_ours(have)
        if _schedule_view(have) == _schedule_view(spec):
            return Step("keep", what, detail), True
        return Step("update", what, detail, lambda: self._call_new_role(
            fresh & {names.scheduler_role}, f"updating {what}", "scheduler", "update_schedule", **spec)), True

    # -- AWS ----------------------------------------------------------------------------------

    def _call(self, action: str, service: str, operation: str, **params):
        with aws_errors(action):
            return getattr(self.aws.client(service), operation)(**params)

    def _call_new_role(self, new_roles: set, action: str, service: str, operation: str, **params):
        """A call naming a role: when the role was created moments ago, CodeBuild and Scheduler may
        not be able to assume it yet (IAM is eventually consistent); retried for a minute then."""
        deadline = time.monotonic() + ROLE_WAIT_SECONDS
        while True:
            try:
                return getattr(self.aws.client(service), operation)(**params)
            except errors() as e:
                retry = new_roles and error_code(e) in ("InvalidInputException", "ValidationException") \
                    and ("role" in str(e).lower() or "assume" in str(e).lower())
                if not retry or time.monotonic() >= deadline:
                    raise map_error(e, action) from None
                self.sleep(5)

    def _get_role(self, name: str) -> dict | None:
        with aws_errors(f"reading IAM role {name}"):
            try:
                return self.aws.client("iam").get_role(RoleName=name)["Role"]
            except errors() as e:
                if is_code(e, "NoSuchEntity"):
                    return None
                raise

    def _get_project(self, name: str) -> dict | None:
        with aws_errors(f"reading CodeBuild project {name}"):
            projects = self.aws.client("codebuild").batch_get_projects(names=[name]).get("projects") or []
        return next((p for p in projects if p.get("name") == name), None)

    def _get_schedule(self, name: str, group: str = "default") -> dict | None:
        with aws_errors(f"reading schedule {name}"):
            try:
                return self.aws.client("scheduler").get_schedule(Name=name, GroupName=group)
            except errors() as e:
                if is_code(e, "ResourceNotFoundException"):
                    return None
                raise

    def _delete_role(self, name: str) -> None:
        iam = self.aws.client("iam")
        with aws_errors(f"deleting IAM role {name}"):
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
                for policy in page.get("PolicyNames", []):
                    iam.delete_role_policy(RoleName=name, PolicyName=policy)
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
                for policy in page.get("AttachedPolicies", []):
                    iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=name)

    @staticmethod
    def _check_schedule_ours(schedule: dict) -> None:
        if not (schedule.get("Description") or "").startswith(MARK):
            raise UsageError(f"EventBridge Scheduler schedule {schedule.get('Name')} exists and was not created by "
                             "flowsql: flowsql leaves it alone (choose another --name)")

    @staticmethod
    def _check_tagged(tags, what: str, key: str = "Key", value: str = "Value", hint: str = "") -> None:
        if not _tagged(tags, key, value):
            raise UsageError(f"{what} exists and was not created by flowsql (no {MARK} tag): flowsql leaves it alone "
                             f"({hint + ', or ' if hint else ''}choose another --name)")


# -- what is created -------------------------------------------------------------------------------

def schedule_expression(schedule: Schedule) -> str:
    """EventBridge Scheduler's six-field cron; one of day-of-month and day-of-week must be `?`."""
    return f"cron({schedule.minute} {schedule.hour} {schedule.day} * ? *)"


def buildspec(schedule: Schedule, package: str) -> str:
    q = dumps_json  # a JSON string is a YAML double-quoted scalar with the same value
    import shlex

    return "\n".join([
        f"# {schedule.name} buildspec ({MANAGED_BY}): "
        f"`flowsql schedule remove --target eventbridge --name {schedule.name} --all` removes it",
        f"# {schedule.metadata()}",
        "version: 0.2",
        "env:",
        "  shell: bash",
        "  variables:",
        f"    FLOWSQL_CONFIG: {q(SETTINGS_FILE)}",
        "phases:",
        "  install:",
        "    runtime-versions:",
        f"      python: {PYTHON}",
        "    commands:",
        f"      - {q(shlex.join(['python', '-m', 'pip', 'install', '--quiet', package]))}",
        "  build:",
        "    commands:",
        "      - " + q("mkdir -p \"$(dirname \"$FLOWSQL_CONFIG\")\" && printf '%s\\n' \"$FLOWSQL_SETTINGS\" > "
                      "\"$FLOWSQL_CONFIG\""),
        f"      - {q(schedule.command())}",
    ]) + "\n"


def codebuild_policy(cfg, names: Names, partition: str, region: str, account: str, bucket: str, key: str) -> dict:
    """What the report needs in CodeBuild: `flowsql iam-policy --for query` for the saved settings,
    the upload location, and the build's log group."""
    from ..account.provision import iam_policy_for

    query = [s for s in iam_policy_for(cfg)["Statement"] if s["Sid"].startswith("FlowsqlQuery")]
    group = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/codebuild/{names.project}"
    key = key.split("{month}", 1)[0]  # the report puts the month there: every month's keys match
    return _document(query + [
        _statement("FlowsqlReportUpload", ["s3:PutObject"], [f"arn:{partition}:s3:::{bucket}/{key}*"]),
        _statement("FlowsqlReportBuildLogs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                   [group, f"{group}:*"]),
    ])


def _statement(sid: str, actions: list[str], resources: list[str]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def _document(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


def _normal(doc) -> Any:
    """A policy document as comparable data (IAM may hand it back as URL-encoded text)."""
    if isinstance(doc, str):
        from urllib.parse import unquote

        try:
            doc = loads_json(unquote(doc))
        except ValueError:
            return doc
    return loads_json(dumps_json(doc, sort_keys=True)) if doc is not None else None


def _tagged(tags, key: str = "Key", value: str = "Value") -> bool:
    return any(t.get(key) == TAG_KEY and t.get(value) == TAG_VALUE for t in tags or [])


def _project_view(p: dict) -> tuple:
    env = p.get("environment") or {}
    variables = sorted((v.get("name"), v.get("type", "PLAINTEXT"), v.get("value"))
                       for v in env.get("environmentVariables") or [])
    return ((p.get("source") or {}).get("type"), (p.get("source") or {}).get("buildspec"), env.get("image"),
            env.get("computeType"), variables, p.get("serviceRole"), p.get("timeoutInMinutes"))


def _schedule_view(s: dict) -> tuple:
    target = s.get("Target") or {}
    return (s.get("Description"), s.get("ScheduleExpression"), s.get("ScheduleExpressionTimezone") or "UTC",
            _normal(s.get("FlexibleTimeWindow")), target.get("Arn"), target.get("RoleArn"), s.get("State"))


def _target(install: bool = False, region: str | None = None, profile: str | None = None,
            scheduler_role_arn: str | None = None, codebuild_role_arn: str | None = None,
            package: str | None = None, flexible_window: int = 0) -> EventBridgeTarget:
    return EventBridgeTarget(Aws.connect(profile, region), scheduler_role_arn=scheduler_role_arn,
                             codebuild_role_arn=codebuild_role_arn, package=package, flexible_window=flexible_window)


TARGET = TargetSpec("eventbridge", options=("--region", "--profile", "--scheduler-role-arn", "--codebuild-role-arn",
                                            "--package", "--flexible-window"),
                    factory=_target, removal_options={"--all": "everything"})
