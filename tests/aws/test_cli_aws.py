"""Issue 3's acceptance, through the command line, against the moto server (behind the proxy that
keeps the flow log's key prefix, which moto drops)."""

from __future__ import annotations

import json
from datetime import date
from fnmatch import fnmatchcase
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from awsfixtures import ACCOUNT, CUSTOM_FORMAT, REGION, log_key, make_flow_log, put_text_log
from test_athena_engine import queue_result
from typer.testing import CliRunner

from flowsql.account.provision import existing_named_queries
from flowsql.cli import app
from flowsql.engines.athena import config
from flowsql.logs.fields import parse_log_format

DAY = date(2024, 3, 5)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def no_traceback(r) -> bool:
    """CliRunner catches exceptions into r.exception (they never reach r.output): a clean exit
    is none, or the SystemExit of typer.Exit."""
    return r.exception is None or isinstance(r.exception, SystemExit)


@pytest.fixture
def custom_flow_log(proxy, boto):
    fl = make_flow_log(boto, "flow-logs-b", prefix="p", log_format=CUSTOM_FORMAT)
    fmt = parse_log_format(CUSTOM_FORMAT)
    put_text_log(boto, "flow-logs-b", log_key("p", ACCOUNT, REGION, DAY, fl), fmt.header())
    return fmt


def test_setup_query_and_a_second_run(custom_flow_log, boto, moto):
    fmt = custom_flow_log
    r = invoke("setup")
    assert r.exit_code == 0, r.output

    table = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]
    sd = table["StorageDescriptor"]
    assert [c["Name"] for c in sd["Columns"]] == list(fmt.columns)  # the format's own order
    types = {c["Name"]: c["Type"] for c in sd["Columns"]}
    assert types["bytes"] == types["packets"] == "bigint"
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["storage.location.template"].startswith("s3://flow-logs-b/p/AWSLogs/")
    assert "${day}" in params["storage.location.template"]
    assert params["skip.header.line.count"] == "1"

    wg = boto.athena.get_work_group(WorkGroup="flowsql")["WorkGroup"]["Configuration"]
    assert wg["BytesScannedCutoffPerQuery"] == 10 * 10**9
    assert wg["ResultConfiguration"]["OutputLocation"].startswith(f"s3://flowsql-results-{ACCOUNT}-{REGION}/")
    names = {boto.athena.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"]
             for i in boto.athena.list_named_queries(WorkGroup="flowsql")["NamedQueryIds"]}
    assert {"flowsql-top-destinations", "flowsql-rejects-by-subnet", "flowsql-lambda-egress"} <= names

    # a second run changes nothing: no action planned, no duplicate named query
    before = boto.athena.list_named_queries(WorkGroup="flowsql")["NamedQueryIds"]
    r = invoke("setup", "--dry-run")
    assert r.exit_code == 0 and "0 action(s)" in r.stderr, r.output
    r = invoke("setup")
    assert r.exit_code == 0 and "nothing to do" in r.stderr, r.output
    assert sorted(boto.athena.list_named_queries(WorkGroup="flowsql")["NamedQueryIds"]) == sorted(before)

    # the query runs on Athena (the default once setup ran) and prints the rows Athena returned, typed
    queue_result(moto, [("dstaddr", "varchar"), ("flows", "bigint"), ("packets", "bigint"), ("bytes", "bigint")],
                 [["203.0.113.5", 3, 30, 6000000000], ["10.0.0.9", 1, 2, 120]])
    r = invoke("query", "top-destinations", "--since", DAY, "--until", DAY, "--output", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [
        {"dstaddr": "203.0.113.5", "flows": 3, "packets": 30, "bytes": 6000000000},
        {"dstaddr": "10.0.0.9", "flows": 1, "packets": 2, "bytes": 120},
    ]
    assert "data scanned" in r.stderr
    ids = boto.athena.list_query_executions(WorkGroup="flowsql")["QueryExecutionIds"]
    sent = [boto.athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]
    sql = next(s for s in sent if "vpc_flow_logs" in s)
    assert "FROM flowsql.vpc_flow_logs" in sql
    assert "day BETWEEN '2024/03/05' AND '2024/03/05'" in sql  # the partition window is bounded


def test_dry_run_prints_ddl_and_changes_nothing(custom_flow_log, boto):
    r = invoke("setup", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "CREATE EXTERNAL TABLE" in r.stdout and "projection.enabled" in r.stdout
    # the whole output is one script that sqlfluff (athena) parses: every statement, `;` between them
    import sqlfluff

    tree = sqlfluff.parse(r.stdout, dialect="athena")
    assert "unparsable" not in str(tree)
    assert r.stdout.count("CREATE EXTERNAL TABLE") == r.stdout.count(";") - r.stdout.count("CREATE DATABASE")
    assert boto.glue.get_databases()["DatabaseList"] == []
    assert "WorkGroups" not in boto.athena.list_work_groups() or all(
        w["Name"] != "flowsql" for w in boto.athena.list_work_groups()["WorkGroups"])
    assert not config.exists()


def test_setup_without_flow_logs_is_a_clear_error(moto):
    r = invoke("setup")
    assert r.exit_code == 2 and "no flow log" in r.stderr and no_traceback(r)


def test_setup_missing_bucket(moto):
    r = invoke("setup", "--bucket", "no-such-bucket", "--no-discovery")
    assert r.exit_code == 1 and "no-such-bucket" in r.stderr and no_traceback(r)


def test_bad_scan_limit(moto):
    r = invoke("setup", "--scan-limit", "5MB")
    assert r.exit_code == 2 and "10 MB" in r.stderr


def test_query_on_athena_without_setup():
    r = invoke("query", "top-destinations", "--engine", "athena")
    assert r.exit_code == 2 and "flowsql setup" in r.stderr


def test_inventory_sync_writes_the_three_files(boto, tmp_path):
    vpc = boto.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    sn = boto.ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    boto.ec2.create_network_interface(SubnetId=sn, Description="AWS Lambda VPC ENI-fn")
    r = invoke("inventory", "sync", "--out", tmp_path / "inv")
    assert r.exit_code == 0, r.output
    for name, key in (("network-interfaces.json", "NetworkInterfaces"), ("subnets.json", "Subnets"),
                      ("vpcs.json", "Vpcs")):
        doc = json.loads((tmp_path / "inv" / name).read_text())
        assert doc[key], name
    from flowsql.inventory import load_inventory

    assert any(e["is_lambda"] for e in load_inventory(tmp_path / "inv").enis)


def test_iam_policy_is_json_with_scoped_statements():
    r = invoke("iam-policy", "--for", "setup")
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    assert doc["Statement"] and all(s["Sid"].startswith("FlowsqlSetup") for s in doc["Statement"])


def test_a_failed_athena_query_prints_the_reason_and_exits_1(custom_flow_log, proxy):
    assert invoke("setup").exit_code == 0
    proxy.fail_queries["vpc_flow_logs"] = "HIVE_BAD_DATA: Error parsing field value '-x' for field 6"
    r = invoke("query", "top-destinations", "--since", DAY, "--until", DAY)
    assert r.exit_code == 1, r.output
    assert "HIVE_BAD_DATA" in r.stderr and r.stderr.strip().splitlines()[-1].startswith("flowsql: error:")
    assert no_traceback(r)


def test_a_log_archive_bucket_of_many_accounts(boto):
    """`--no-discovery --bucket`: every account found under AWSLogs/, one table, their logs' format."""
    from awsfixtures import CUSTOM_FORMAT as fmt_text

    boto.s3.create_bucket(Bucket="org-log-archive")
    fmt = parse_log_format(fmt_text)
    accounts = ["111111111111", "222222222222", "333333333333"]
    for a in accounts:
        put_text_log(boto, "org-log-archive", log_key("vpc", a, REGION, DAY, "fl-0123456789abcdef0"), fmt.header())
    r = invoke("setup", "--no-discovery", "--bucket", "org-log-archive", "--prefix", "vpc")
    assert r.exit_code == 0, r.output
    params = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]["Parameters"]
    assert params["projection.aws_account_id.type"] == "enum"
    assert sorted(params["projection.aws_account_id.values"].split(",")) == accounts
    # --accounts narrows a multi-account bucket
    r = invoke("setup", "--no-discovery", "--bucket", "org-log-archive", "--prefix", "vpc",
               "--accounts", "111111111111", "--dry-run")
    assert r.exit_code == 2 and "--update" in r.stderr  # the table would change: only with --update


# -- options are checked before any AWS call ----------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--results", "my-bucket/athena"], "--results must be an s3://bucket/prefix/ URI"),
    (["--results", "s3://"], "no bucket"),
    (["--results", "s3://my-results/AWSLogs/athena/"], "inside an AWSLogs/ folder"),
    (["--account-projection", "sometimes"], "enum or injected"),
    (["--accounts", "123,456"], "12 digits"),
    (["--scan-limit", "lots"], "not a size"),
    (["--projection-start", "someday"], "--projection-start"),
    (["--log-format", "${version} ${nope}"], "unknown field(s): nope"),
    (["--table", "Flow-Logs"], "invalid database or table name"),
    (["--profile", "nope"], "profile 'nope' not found"),
])
def test_setup_options_are_usage_errors_before_any_aws_call(proxy, args, message):
    r = invoke("setup", *args)
    assert r.exit_code == 2 and no_traceback(r), r.output
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert proxy.calls == []


def test_no_region_is_a_usage_error(proxy, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for args in (["setup"], ["inventory", "sync", "--out", tmp_path]):
        r = invoke(*args)
        assert r.exit_code == 2 and no_traceback(r) and "no AWS region" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert proxy.calls == []


# -- what setup saves and does ---------------------------------------------------------------

def test_profile_is_saved_only_when_given(custom_flow_log, monkeypatch, tmp_path):
    aws_config = tmp_path / "aws-config"
    # an explicitly chosen profile ignores the AWS_* credential variables: it has its own
    aws_config.write_text(f"[profile ops]\nregion = {REGION}\naws_access_key_id = testing\n"
                          "aws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert invoke("setup").exit_code == 0
    assert config.load().profile is None  # found through AWS_PROFILE: not pinned into the config
    assert invoke("setup", "--profile", "ops").exit_code == 0
    assert config.load().profile == "ops"


def test_setup_plans_once(custom_flow_log, proxy):
    assert invoke("setup").exit_code == 0
    proxy.clear()
    assert invoke("setup").exit_code == 0  # everything exists: every read runs, once (a retry is no second read)
    assert proxy.invocations("GetTables") == proxy.invocations("GetWorkGroup") == 1
    assert proxy.invocations("ListNamedQueries") == 1


def test_named_queries_bound_injected_accounts(custom_flow_log, boto):
    r = invoke("setup", "--account-projection", "injected")
    assert r.exit_code == 0, r.output
    assert boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]["Parameters"][
        "projection.aws_account_id.type"] == "injected"
    saved = existing_named_queries(boto.athena, "flowsql")
    assert {"flowsql-top-destinations", "flowsql-rejects-by-subnet", "flowsql-lambda-egress"} <= set(saved)
    for q in saved.values():  # Athena refuses an injected column without its values
        assert f"aws_account_id IN ('{ACCOUNT}')" in q["QueryString"], q["QueryString"]
        assert "(UTC days, written YYYY/MM/DD)" in q["QueryString"]
    r = invoke("setup", "--account-projection", "injected", "--update")
    assert r.exit_code == 0 and "nothing to do" in r.stderr, r.output


def test_prefix_without_bucket_narrows_discovery(custom_flow_log, proxy):
    r = invoke("setup", "--prefix", "elsewhere", "--dry-run")
    assert r.exit_code == 2 and "under prefix 'elsewhere'" in r.stderr and "s3://flow-logs-b/p" in r.stderr
    r = invoke("setup", "--prefix", "p", "--dry-run")
    assert r.exit_code == 0 and "s3://flow-logs-b/p/AWSLogs/" in r.stderr, r.output


# -- inventory sync ------------------------------------------------------------------------------

def test_inventory_sync_uses_the_region_chain_without_upload(boto, tmp_path):
    config.save(config.Config(region="eu-west-1"))  # setup ran elsewhere
    vpc = boto.ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]  # in REGION, the AWS_REGION
    r = invoke("inventory", "sync", "--out", tmp_path / "inv")
    assert r.exit_code == 0, r.output
    vpcs = json.loads((tmp_path / "inv" / "vpcs.json").read_text())["Vpcs"]
    assert vpc in {v["VpcId"] for v in vpcs}


def test_inventory_sync_to_an_unwritable_place(boto, tmp_path):
    (tmp_path / "a-file").write_text("x")
    r = invoke("inventory", "sync", "--out", tmp_path / "a-file" / "inv")  # below a file: no folder can be made
    assert r.exit_code == 2 and no_traceback(r), r.output
    assert r.stderr.startswith("flowsql: error: cannot write the inventory to") and r.stderr.count("\n") == 1
    r = invoke("inventory", "sync", "--out", tmp_path / "a-file")  # a file in the folder's place: before any call
    assert r.exit_code == 2 and no_traceback(r), r.output
    assert r.stderr.startswith("flowsql: error: --out ") and "is a file, not a folder" in r.stderr


# -- the printed IAM policy allows every call flowsql makes ------------------------------------

_S3_SUBRESOURCES = {"publicAccessBlock": "BucketPublicAccessBlock", "encryption": "EncryptionConfiguration",
                    "lifecycle": "LifecycleConfiguration", "location": "BucketLocation"}


def _needs(service: str, operation: str, method: str, path: str) -> tuple[str, str | None]:
    """The IAM action a recorded request needs, and for S3 the resource ARN it acts on."""
    if service != "s3":  # CloudWatch signs as `monitoring`; its IAM actions are `cloudwatch:`
        return f"{'cloudwatch' if service == 'monitoring' else service}:{operation}", None
    url = urlsplit(path)
    query = parse_qs(url.query, keep_blank_values=True)
    bucket, _, key = unquote(url.path).lstrip("/").partition("/")
    for sub, name in _S3_SUBRESOURCES.items():
        if sub in query:
            return f"s3:{'Get' if method == 'GET' else 'Put'}{name}", f"arn:aws:s3:::{bucket}"
    if not key:  # HeadBucket and ListObjectsV2 need s3:ListBucket
        return ("s3:CreateBucket" if method == "PUT" else "s3:ListBucket"), f"arn:aws:s3:::{bucket}"
    return ("s3:PutObject" if method == "PUT" else "s3:GetObject"), f"arn:aws:s3:::{bucket}/{key}"


def _allowed(policy: dict, action: str, resource: str | None) -> bool:
    return any(action in s["Action"] and (resource is None or any(fnmatchcase(resource, r) for r in s["Resource"]))
               for s in policy["Statement"] if s["Effect"] == "Allow")


def test_iam_policy_allows_every_call(custom_flow_log, proxy, moto, tmp_path):
    def needs(*args) -> set:
        proxy.clear()
        r = invoke(*args)
        assert r.exit_code == 0, r.output
        # sts:GetCallerIdentity needs no permission
        return {_needs(*x) for x in proxy.requests if x[1] != "GetCallerIdentity"}

    setup = needs("setup") | needs("setup") | needs("setup", "--update", "--scan-limit", "20GB")
    assert proxy.workgroup_updates  # the update path ran too
    queue_result(moto, [("dstaddr", "varchar")], [["10.0.0.9"]])
    query = needs("query", "top-destinations", "--since", DAY, "--until", DAY)
    inventory = needs("inventory", "sync", "--out", tmp_path / "inv", "--upload")
    assert {a for a, _ in inventory} >= {"ec2:DescribeNetworkInterfaces", "s3:PutObject", "glue:GetTables"}

    for scope, calls in (("setup", setup), ("query", query), ("inventory", inventory)):
        r = invoke("iam-policy", "--for", scope)
        assert r.exit_code == 0
        policy = json.loads(r.stdout)
        denied = sorted(f"{a} on {res}" if res else a for a, res in calls if not _allowed(policy, a, res))
        assert not denied, f"{scope}: {denied}"


def test_a_named_query_with_a_required_parameter_says_what_to_edit(custom_flow_log, boto):
    """An address or an ENI has no default: setup saves the query with the example value, and says so."""
    assert invoke("setup").exit_code == 0
    saved = existing_named_queries(boto.athena, "flowsql")
    sql = saved["flowsql-eni-timeline"]["QueryString"]
    assert "-- parameters: example values, edit them: eni=eni-0a1b2c3d4e5f60718\n" in sql
    assert "interface_id = 'eni-0a1b2c3d4e5f60718'" in sql
    assert "edit them: address=10.0.1.25\n" in saved["flowsql-traffic-to-address"]["QueryString"]
    assert "example values" not in saved["flowsql-top-talkers"]["QueryString"]
