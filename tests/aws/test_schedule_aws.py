"""`flowsql schedule --target eventbridge` against the moto server, through the command line.

The proxy stands in front of moto for what moto lacks (CodeBuild's UpdateProject, a NO_SOURCE
project without a location) and records every call, which is how "a dry run changes nothing" and "a
second install changes nothing" are checked. Results are read back with plain boto3.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from datetime import date

import pytest
import yaml
from awsfixtures import ACCOUNT, CUSTOM_FORMAT, REGION, log_key, make_flow_log, put_text_log
from typer.testing import CliRunner

from flowsql.cli import app
from flowsql.engines.athena import config
from flowsql.logs.fields import parse_log_format

runner = CliRunner()
PROJECT_ARN = f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/flowsql-report"
SCHEDULER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/flowsql-report-scheduler"
CODEBUILD_ROLE = f"arn:aws:iam::{ACCOUNT}:role/flowsql-report-codebuild"
UPLOAD = "s3://reports-b/monthly/"
READS = ("Get", "List", "BatchGet", "Describe")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(r):
    assert r.exit_code == 0, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def one_error_line(r, code, *needles):
    assert r.exit_code == code, (r.exit_code, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("flowsql: error: "), r.stderr
    for n in needles:
        assert n in lines[-1], lines[-1]


def install(*more, report=("--upload", UPLOAD)):
    return invoke("schedule", "install", "--target", "eventbridge", *more, "--", *report)


def changes(calls: list[str]) -> list[str]:
    """The calls that change something: every operation that is no read. EventBridge Scheduler is a
    REST API, recorded as `METHOD /schedules/NAME`: named here by its method."""
    rest = {"POST": "CreateSchedule", "PUT": "UpdateSchedule", "DELETE": "DeleteSchedule"}
    named = [rest.get(c.split()[0], c) if c.startswith(("POST /schedules/", "PUT /schedules/", "DELETE /schedules/"))
             else c for c in calls]
    return [c for c in named if c and not c.startswith(READS) and c != "GetCallerIdentity"
            and not c.startswith(("GET ", "HEAD "))]


@pytest.fixture
def set_up(proxy, boto):
    """An account after a real `flowsql setup` (a flow log with a key prefix needs the proxy)."""
    fl = make_flow_log(boto, "flow-logs-b", prefix="p", log_format=CUSTOM_FORMAT)
    put_text_log(boto, "flow-logs-b", log_key("p", ACCOUNT, REGION, date(2024, 3, 5), fl),
                 parse_log_format(CUSTOM_FORMAT).header())
    ok(invoke("setup"))
    proxy.clear()
    return proxy


@pytest.fixture
def saved(proxy):
    """The settings setup would save, written directly (setup itself takes seconds against moto)."""
    config.save(config.Config(region=REGION, account=ACCOUNT, results_location=f"s3://flowsql-results-{ACCOUNT}-"
                              f"{REGION}/results/", tables=[config.TableConfig(
                                  name="vpc_flow_logs", location="s3://flow-logs-b/p/AWSLogs/",
                                  columns=list(parse_log_format(CUSTOM_FORMAT).columns), accounts=[ACCOUNT])]))
    return proxy


def test_install_list_remove(set_up, boto, tmp_path):
    r = ok(install("--timezone", "Europe/Paris", "--day", "2", "--at", "04:30", report=(
        "--upload", UPLOAD, "--title", "Net & flows: 100% 'quoted' $HOME")))
    assert "cron(30 4 2 * ? *)" in r.stdout  # the plan was printed
    assert "flowsql-report installed (eventbridge)" in r.stderr

    s = boto.scheduler.get_schedule(Name="flowsql-report")
    assert s["ScheduleExpression"] == "cron(30 4 2 * ? *)"
    assert s["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert s["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert (s["Target"]["Arn"], s["Target"]["RoleArn"]) == (PROJECT_ARN, SCHEDULER_ROLE)
    assert s["State"] == "ENABLED" and s["Description"].startswith("flowsql:managed=true")

    # the scheduler's role: trusted by EventBridge Scheduler of this account, may start this project only
    role = boto.iam.get_role(RoleName="flowsql-report-scheduler")["Role"]
    assert {"Key": "flowsql:managed", "Value": "true"} in role["Tags"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    policy = boto.iam.get_role_policy(RoleName="flowsql-report-scheduler", PolicyName="flowsql-report")
    assert policy["PolicyDocument"]["Statement"] == [{"Sid": "FlowsqlReportStartBuild", "Effect": "Allow",
                                                      "Action": ["codebuild:StartBuild"], "Resource": [PROJECT_ARN]}]

    # the build's role: the report's reads, the upload, its own logs
    role = boto.iam.get_role(RoleName="flowsql-report-codebuild")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}
    doc = boto.iam.get_role_policy(RoleName="flowsql-report-codebuild", PolicyName="flowsql-report")["PolicyDocument"]
    allowed = {(a, res) for st in doc["Statement"] for a in st["Action"] for res in st["Resource"]}
    assert ("s3:PutObject", "arn:aws:s3:::reports-b/monthly/*") in allowed
    assert ("athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/flowsql") in allowed
    assert ("s3:GetObject", "arn:aws:s3:::flow-logs-b/p/AWSLogs/*") in allowed
    assert ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/codebuild/flowsql-report:*") in allowed
    assert not any(a.endswith("*") or ":Delete" in a for a, _ in allowed)  # named actions only, no deletes

    # the project: tagged, the build's role, a buildspec that installs flowsql and runs the report
    p = boto.codebuild.batch_get_projects(names=["flowsql-report"])["projects"][0]
    assert {"key": "flowsql:managed", "value": "true"} in p["tags"]
    assert p["serviceRole"] == CODEBUILD_ROLE and p["source"]["type"] == "NO_SOURCE"
    spec = yaml.safe_load(p["source"]["buildspec"])
    install_cmd, write_settings, report = spec["phases"]["install"]["commands"] + spec["phases"]["build"]["commands"]
    assert shlex.split(install_cmd)[-1] == "flowsql==" + __import__("flowsql").__version__
    assert shlex.split(report) == ["flowsql", "report", "--month", "previous", "--upload", UPLOAD,
                                   "--title", "Net & flows: 100% 'quoted' $HOME"]
    # the settings line, run by bash as CodeBuild would, writes exactly the settings setup saved
    variables = {v["name"]: v["value"] for v in p["environment"]["environmentVariables"]}
    settings_file = tmp_path / "cfg" / "config.json"
    subprocess.run(["bash", "-c", write_settings], check=True,
                   env={**os.environ, "FLOWSQL_SETTINGS": variables["FLOWSQL_SETTINGS"],
                        "FLOWSQL_CONFIG": str(settings_file)})
    assert config.load(settings_file) == config.load()
    assert spec["env"]["variables"]["FLOWSQL_CONFIG"].startswith("/")

    r = ok(invoke("schedule", "list", "--target", "eventbridge", "-o", "json"))
    [item] = json.loads(r.stdout)
    assert item["name"] == "flowsql-report" and item["state"] == "ENABLED"
    assert item["when"] == "day 2 of every month at 04:30 Europe/Paris"
    assert shlex.split(item["command"])[-2:] == ["--title", "Net & flows: 100% 'quoted' $HOME"]

    # remove: the schedule only; the project and roles are kept and said so, and listed as leftovers
    r = ok(invoke("schedule", "remove", "--target", "eventbridge"))
    assert "kept: CodeBuild project flowsql-report" in r.stderr
    assert not boto.scheduler.list_schedules()["Schedules"]
    assert boto.codebuild.batch_get_projects(names=["flowsql-report"])["projects"]
    [left] = json.loads(ok(invoke("schedule", "list", "-t", "eventbridge", "-o", "json")).stdout)
    assert left["state"].startswith("no schedule")
    # --all: the rest goes too
    ok(invoke("schedule", "remove", "--target", "eventbridge", "--all"))
    assert not boto.codebuild.batch_get_projects(names=["flowsql-report"])["projects"]
    names = {r["RoleName"] for r in boto.iam.list_roles()["Roles"]}
    assert not names & {"flowsql-report-scheduler", "flowsql-report-codebuild"}
    assert json.loads(ok(invoke("schedule", "list", "-t", "eventbridge", "-o", "json")).stdout) == []
    # nothing left: a clear error, exit 2
    one_error_line(invoke("schedule", "remove", "--target", "eventbridge", "--all"), 2,
                   "no flowsql schedule flowsql-report")


def test_second_install_changes_nothing_and_a_change_updates_in_place(saved, boto):
    proxy = saved
    ok(install())
    created = boto.scheduler.get_schedule(Name="flowsql-report")
    proxy.clear()
    r = ok(install())
    assert "already as asked, nothing changed" in r.stderr
    assert changes(proxy.calls) == []

    proxy.clear()
    r = ok(install("--at", "05:15", "--flexible-window", "30", report=("--upload", UPLOAD, "--engine", "athena")))
    assert "flowsql-report updated in place (eventbridge)" in r.stderr
    assert sorted(changes(proxy.operations())) == ["UpdateProject", "UpdateSchedule"]  # the roles were right
    s = boto.scheduler.get_schedule(Name="flowsql-report")
    assert s["ScheduleExpression"] == "cron(15 5 1 * ? *)"
    assert s["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}
    assert s["CreationDate"] == created["CreationDate"]  # the same schedule, updated
    p = boto.codebuild.batch_get_projects(names=["flowsql-report"])["projects"][0]
    report = yaml.safe_load(p["source"]["buildspec"])["phases"]["build"]["commands"][-1]
    assert shlex.split(report)[-2:] == ["--engine", "athena"]

    # a role whose policy was changed by hand is put back
    boto.iam.put_role_policy(RoleName="flowsql-report-scheduler", PolicyName="flowsql-report",
                             PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                 {"Effect": "Allow", "Action": "codebuild:StartBuild", "Resource": "*"}]}))
    proxy.clear()
    ok(install("--at", "05:15", "--flexible-window", "30", report=("--upload", UPLOAD, "--engine", "athena")))
    assert changes(proxy.operations()) == ["PutRolePolicy"]  # one call, however often retried


def test_dry_run_makes_no_change(saved, boto):
    proxy = saved
    r = ok(install("--dry-run"))
    assert "create  EventBridge Scheduler schedule flowsql-report" in r.stdout
    assert "create  IAM role flowsql-report-codebuild" in r.stdout and "dry run" in r.stderr
    assert proxy.calls and changes(proxy.calls) == []
    assert not boto.scheduler.list_schedules()["Schedules"]
    assert not boto.codebuild.list_projects()["projects"]

    ok(install())
    proxy.clear()
    r = ok(invoke("schedule", "remove", "--target", "eventbridge", "--all", "--dry-run"))
    assert "delete  IAM role flowsql-report-scheduler" in r.stdout
    assert changes(proxy.calls) == []
    assert boto.scheduler.get_schedule(Name="flowsql-report")


def test_given_roles_are_used_and_never_created_nor_deleted(saved, boto):
    # the user's own role, even under the name flowsql would give it, is used as it is
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"Service": "codebuild.amazonaws.com"}}]})
    mine = boto.iam.create_role(RoleName="flowsql-report-codebuild", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    ok(install("--codebuild-role-arn", mine, "--scheduler-role-arn", f"arn:aws:iam::{ACCOUNT}:role/my-sched"))
    assert [r["RoleName"] for r in boto.iam.list_roles()["Roles"]] == ["flowsql-report-codebuild"]
    assert boto.iam.list_role_policies(RoleName="flowsql-report-codebuild")["PolicyNames"] == []
    assert boto.codebuild.batch_get_projects(names=["flowsql-report"])["projects"][0]["serviceRole"] == mine
    r = ok(invoke("schedule", "remove", "--target", "eventbridge", "--all"))
    assert "IAM role" not in r.stdout
    assert not boto.codebuild.list_projects()["projects"]
    assert [r["RoleName"] for r in boto.iam.list_roles()["Roles"]] == ["flowsql-report-codebuild"]


def test_what_flowsql_did_not_create_is_left_alone(saved, boto):
    proxy = saved
    target = {"Arn": PROJECT_ARN, "RoleArn": SCHEDULER_ROLE}
    boto.scheduler.create_schedule(Name="flowsql-report", ScheduleExpression="rate(1 day)",
                                   FlexibleTimeWindow={"Mode": "OFF"}, Target=target, Description="someone's")
    proxy.clear()
    one_error_line(install(), 2, "schedule flowsql-report exists and was not created by flowsql")
    one_error_line(invoke("schedule", "remove", "-t", "eventbridge", "--all"), 2, "not created by flowsql")
    assert changes(proxy.calls) == []
    assert boto.scheduler.get_schedule(Name="flowsql-report")["Description"] == "someone's"
    # a flowsql schedule under another name works beside it, and list shows only flowsql's
    ok(install("--name", "flowsql-report-prod"))
    items = json.loads(ok(invoke("schedule", "list", "-t", "eventbridge", "-o", "json")).stdout)
    assert [i["name"] for i in items] == ["flowsql-report-prod"]

    # an untagged role with the name flowsql would use
    boto.iam.create_role(RoleName="flowsql-report-x-codebuild", AssumeRolePolicyDocument="{}")
    one_error_line(install("--name", "flowsql-report-x"), 2, "IAM role flowsql-report-x-codebuild exists",
                   "--codebuild-role-arn")


@pytest.mark.parametrize("args,needles", [
    (("--at", "25:00"), ("--at",)),
    (("--day", "31"), ("--day", "1 to 28")),
    (("--timezone", "Mars/Olympus"), ("--timezone", "Mars/Olympus")),
    (("--name", "backup"), ("--name",)),
    (("--flexible-window", "2000"), ("--flexible-window",)),
    (("--scheduler-role-arn", "my-role"), ("--scheduler-role-arn",)),
    (("--unit-dir", "/tmp"), ("--unit-dir", "systemd")),
])
def test_bad_input_is_refused_before_any_call(saved, args, needles):
    one_error_line(install(*args), 2, *needles)
    assert saved.calls == []


@pytest.mark.parametrize("report,needle", [
    ((), "--upload"),
    (("--upload", "reports-b/x"), "--upload"),
    (("--upload", UPLOAD, "--engine", "local", "--source", "./logs"), "Athena"),
    (("--upload", UPLOAD, "--month", "2024-01"), "--month"),
])
def test_report_options_the_build_cannot_run(saved, report, needle):
    one_error_line(install(report=report), 2, needle)
    assert changes(saved.calls) == []


def test_without_setup_the_build_would_have_no_settings(proxy):
    one_error_line(install(), 2, "flowsql setup")
    assert changes(proxy.calls) == []


def test_a_role_iam_has_not_spread_yet_is_waited_for(saved, boto, aws):
    """CodeBuild and Scheduler refuse a role created moments ago until IAM has spread it: the calls
    naming a role this install created are tried again (the library's own sleep, given here, is
    what it waits with); any other refusal is not."""
    from flowsql.errors import AwsError
    from flowsql.schedule import Schedule
    from flowsql.schedule.eventbridge import EventBridgeTarget

    proxy, slept = saved, []
    proxy.fail_next["CreateProject"] = [
        (400, "InvalidInputException", f"CodeBuild is not authorized to perform: sts:AssumeRole on {CODEBUILD_ROLE}")]
    proxy.fail_next["POST /schedules/flowsql-report"] = [
        (400, "ValidationException", "The execution role you provide must allow AWS EventBridge Scheduler to "
                                     "assume the role.")] * 2
    target = EventBridgeTarget(aws, sleep=slept.append)
    target.plan(Schedule.parse(report_args=["--upload", UPLOAD])).apply()
    assert slept == [5, 5, 5]
    assert boto.scheduler.get_schedule(Name="flowsql-report")["Target"]["Arn"] == PROJECT_ARN

    # a role that was already there is not waited for: the refusal is the answer
    proxy.fail_next["PUT /schedules/flowsql-report"] = [(400, "ValidationException", "Invalid role")]
    with pytest.raises(AwsError, match="updating EventBridge Scheduler schedule flowsql-report: ValidationException"):
        target.plan(Schedule.parse(at="04:00", report_args=["--upload", UPLOAD])).apply()
    assert slept == [5, 5, 5]


# -- the printed IAM policy allows every call the eventbridge target makes -------------------------

def _iam_needs(service: str, op: str, method: str, path: str, body: bytes) -> list[tuple[str, str, dict]]:
    """The IAM actions one recorded request needs: (action, resource ARN, condition context). Some
    are implied by a call's parameters and never sent: creating a role with tags needs iam:TagRole;
    naming a role for CodeBuild or Scheduler to assume needs iam:PassRole on it."""
    from urllib.parse import parse_qs, unquote, urlsplit

    if service == "sts":  # GetCallerIdentity needs no permission
        return []
    if service == "iam":
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        role = f"arn:aws:iam::{ACCOUNT}:role/{form['RoleName']}"
        needs = [(f"iam:{op}", role, {})]
        if op == "CreateRole" and any(k.startswith("Tags.") for k in form):
            needs.append(("iam:TagRole", role, {}))
        return needs
    if service == "codebuild":
        req = json.loads(body or b"{}")
        if op == "ListProjects":
            return [("codebuild:ListProjects", "*", {})]
        names = req.get("names") or [req["name"]]
        needs = [(f"codebuild:{op}", f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/{n}", {}) for n in names]
        if req.get("serviceRole"):
            needs.append(("iam:PassRole", req["serviceRole"], {"iam:PassedToService": "codebuild.amazonaws.com"}))
        return needs
    if service == "scheduler":
        url = urlsplit(path)
        parts = unquote(url.path).strip("/").split("/")
        if parts == ["schedules"]:
            return [("scheduler:ListSchedules", "*", {})]
        req = json.loads(body or b"{}")
        group = req.get("GroupName") or parse_qs(url.query).get("groupName", ["default"])[0]
        op = {"GET": "GetSchedule", "POST": "CreateSchedule", "PUT": "UpdateSchedule", "DELETE": "DeleteSchedule"}[method]
        needs = [(f"scheduler:{op}", f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{parts[1]}", {})]
        if (req.get("Target") or {}).get("RoleArn"):
            needs.append(("iam:PassRole", req["Target"]["RoleArn"], {"iam:PassedToService": "scheduler.amazonaws.com"}))
        return needs
    raise AssertionError(f"a call the test does not know how to map: {service} {op} {method} {path}")


def _allows(policy: dict, action: str, resource: str, context: dict) -> bool:
    from fnmatch import fnmatchcase

    def conditions_hold(statement: dict) -> bool:
        for operator, pairs in (statement.get("Condition") or {}).items():
            assert operator == "StringEquals", operator
            if any(context.get(k) not in ([v] if isinstance(v, str) else v) for k, v in pairs.items()):
                return False
        return True

    return any(s["Effect"] == "Allow" and action in s["Action"] and conditions_hold(s)
               and any(fnmatchcase(resource, r) for r in s["Resource"]) for s in policy["Statement"])


def test_iam_policy_for_schedule_allows_every_call_of_the_eventbridge_target(saved, boto):
    """Every call install (create, keep, update: a changed report, a role's trust and policy changed
    by hand), list and remove (the schedule, then --all, a managed policy attached to a role) make,
    as the proxy recorded them, is allowed by `iam-policy --for schedule`, resources and the
    iam:PassedToService conditions included; and by `--for all`."""
    proxy = saved
    seen: list[tuple[str, str, dict]] = []

    def run(*args):
        proxy.clear()
        ok(invoke(*args))
        for request, body in zip(proxy.requests, proxy.bodies, strict=True):
            seen.extend(_iam_needs(*request, body))

    run("schedule", "install", "--target", "eventbridge", "--", "--upload", UPLOAD)
    run("schedule", "install", "--target", "eventbridge", "--", "--upload", UPLOAD)
    boto.iam.update_assume_role_policy(RoleName="flowsql-report-codebuild", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "codebuild.amazonaws.com"}}]}))
    boto.iam.put_role_policy(RoleName="flowsql-report-scheduler", PolicyName="flowsql-report",
                             PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                 {"Effect": "Allow", "Action": "codebuild:StartBuild", "Resource": "*"}]}))
    run("schedule", "install", "--target", "eventbridge", "--at", "05:15", "--", "--upload", UPLOAD, "--engine",
        "athena")
    run("schedule", "list", "--target", "eventbridge")
    arn = boto.iam.create_policy(PolicyName="extra", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    boto.iam.attach_role_policy(RoleName="flowsql-report-codebuild", PolicyArn=arn["Policy"]["Arn"])
    run("schedule", "remove", "--target", "eventbridge")
    run("schedule", "list", "--target", "eventbridge")
    run("schedule", "remove", "--target", "eventbridge", "--all")
    assert not boto.iam.list_roles()["Roles"] and not boto.codebuild.list_projects()["projects"]

    actions = {a for a, _, _ in seen}
    # the calls were all made (otherwise the check below would prove little)
    assert {"iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
            "iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole", "codebuild:CreateProject",
            "codebuild:UpdateProject", "codebuild:DeleteProject", "codebuild:ListProjects",
            "scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule",
            "scheduler:ListSchedules", "scheduler:GetSchedule"} <= actions
    for scope in ("schedule", "all"):
        policy = json.loads(ok(invoke("iam-policy", "--for", scope)).stdout)
        denied = sorted({f"{a} on {r}" + (f" ({c})" if c else "") for a, r, c in seen if not _allows(policy, a, r, c)})
        assert not denied, f"--for {scope}: {denied}"
    # and no more than that: the roles are handed to their own service only
    policy = json.loads(ok(invoke("iam-policy", "--for", "schedule")).stdout)
    assert not _allows(policy, "iam:PassRole", CODEBUILD_ROLE, {"iam:PassedToService": "scheduler.amazonaws.com"})
    assert not _allows(policy, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {
        "iam:PassedToService": "codebuild.amazonaws.com"})
    assert all(s["Sid"].startswith("FlowsqlSchedule") for s in policy["Statement"])
