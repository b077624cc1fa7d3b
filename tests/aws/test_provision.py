"""`flowsql setup` as plan + apply against the moto server."""

from __future__ import annotations

import json
from datetime import date

import pytest
from awsfixtures import ACCOUNT, CUSTOM_FORMAT, REGION, log_key, make_flow_log, put_text_log

from flowsql.account.discovery import discover_flow_logs
from flowsql.account.provision import SetupOptions, apply, existing_named_queries, iam_policy, plan_setup
from flowsql.engines.athena import config as config_mod
from flowsql.errors import AwsError, UsageError
from flowsql.logs.fields import DEFAULT_FIELDS, parse_log_format

RESULTS = f"flowsql-results-{ACCOUNT}-{REGION}"
QUERIES = [("flowsql-top-destinations", "Top destinations", "SELECT dstaddr FROM flowsql.vpc_flow_logs "
            "WHERE day BETWEEN '2024/03/01' AND '2024/03/07' AND srcaddr LIKE '10.%'"),
           ("flowsql-rejects-by-subnet", "Rejects by subnet", "SELECT 1")]


@pytest.fixture
def flow_log(proxy, boto):
    """A VPC flow log to s3://logs/org/acme in a custom format, with one delivered file."""
    fl = make_flow_log(boto, "logs", "org/acme", CUSTOM_FORMAT)
    put_text_log(boto, "logs", log_key("org/acme", ACCOUNT, REGION, date(2024, 3, 5), fl),
                 parse_log_format(CUSTOM_FORMAT).header())
    return fl


def _log_objects(boto) -> dict:
    return {o["Key"]: o["ETag"] for o in boto.s3.list_objects_v2(Bucket="logs").get("Contents", [])}


def test_setup_creates_everything_and_a_second_run_is_a_no_op(flow_log, boto, aws):
    before = _log_objects(boto)
    dests = discover_flow_logs(aws)
    options = SetupOptions(named_queries=QUERIES)
    p = plan_setup(aws, dests, options)
    kinds = [a.kind for a in p]
    assert kinds == ["create-bucket", "put-public-access-block", "put-bucket-encryption", "put-bucket-lifecycle",
                     "create-database", "create-table", "create-table", "create-table", "create-table",
                     "create-table", "create-workgroup", "create-named-query", "create-named-query"]
    assert all(a.description and "\n" not in a.description for a in p)
    assert all(a.ddl.startswith("CREATE EXTERNAL TABLE") for a in p if a.kind == "create-table")

    assert apply(aws, p) == len(p)

    t = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]
    fmt = parse_log_format(CUSTOM_FORMAT)
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == list(fmt.columns)
    assert t["StorageDescriptor"]["Location"] == "s3://logs/org/acme/AWSLogs/"
    assert t["Parameters"]["storage.location.template"].startswith("s3://logs/org/acme/AWSLogs/${aws_account_id}/")
    assert t["Parameters"]["projection.aws_account_id.values"] == ACCOUNT
    names = {x["Name"] for x in boto.glue.get_tables(DatabaseName="flowsql")["TableList"]}
    assert names == {"vpc_flow_logs", "inventory_enis", "inventory_eni_ips", "inventory_subnets",
                     "inventory_vpc_cidrs"}

    wg = boto.athena.get_work_group(WorkGroup="flowsql")["WorkGroup"]["Configuration"]
    assert wg["BytesScannedCutoffPerQuery"] == 10 * 1000**3
    assert wg["EnforceWorkGroupConfiguration"] is True and wg["PublishCloudWatchMetricsEnabled"] is True
    assert wg["ResultConfiguration"] == {"OutputLocation": f"s3://{RESULTS}/results/",
                                         "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
    assert wg["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"

    pab = boto.s3.get_public_access_block(Bucket=RESULTS)["PublicAccessBlockConfiguration"]
    assert all(pab.values()) and len(pab) == 4
    rules = boto.s3.get_bucket_encryption(Bucket=RESULTS)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    [rule] = boto.s3.get_bucket_lifecycle_configuration(Bucket=RESULTS)["Rules"]
    assert rule["Expiration"]["Days"] == 30 and rule["Filter"]["Prefix"] == "results/"

    saved = existing_named_queries(boto.athena, "flowsql")
    assert {n: (q["QueryString"], q["Database"]) for n, q in saved.items()} == \
        {n: (sql, "flowsql") for n, _, sql in QUERIES}
    assert "LIKE '10.%'" in saved["flowsql-top-destinations"]["QueryString"]

    again = plan_setup(aws, discover_flow_logs(aws), options)
    assert list(again) == []
    assert len(existing_named_queries(boto.athena, "flowsql")) == 2
    assert _log_objects(boto) == before  # nothing written under the flow-log prefix

    cfg = p.config
    assert (cfg.database, cfg.workgroup, cfg.region, cfg.account) == ("flowsql", "flowsql", REGION, ACCOUNT)
    assert cfg.results_location == f"s3://{RESULTS}/results/"
    assert cfg.inventory_location == f"s3://{RESULTS}/inventory/"
    [tc] = cfg.tables
    assert (tc.name, tc.day_format, tc.columns) == ("vpc_flow_logs", "%Y/%m/%d", list(fmt.columns))
    assert (tc.account_projection, tc.accounts, tc.regions) == ("enum", [ACCOUNT], [REGION])


def test_dry_run_changes_nothing(flow_log, boto, aws):
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=QUERIES))
    assert p
    assert RESULTS not in [b["Name"] for b in boto.s3.list_buckets()["Buckets"]]
    assert boto.glue.get_databases()["DatabaseList"] == []
    assert [w["Name"] for w in boto.athena.list_work_groups()["WorkGroups"]] == ["primary"]
    assert boto.athena.list_named_queries(WorkGroup="primary")["NamedQueryIds"] == []


def test_schema_change_needs_update(flow_log, boto, aws):
    apply(aws, plan_setup(aws, discover_flow_logs(aws)))
    default = " ".join("${%s}" % f for f in DEFAULT_FIELDS)
    changed = discover_flow_logs(aws, log_format=default, verify=False)
    with pytest.raises(UsageError, match=r"table flowsql.vpc_flow_logs differs .*columns: .*pass --update"):
        plan_setup(aws, changed)

    p = plan_setup(aws, changed, SetupOptions(update=True))
    [a] = [a for a in p if a.kind == "update-table"]
    assert "columns" in a.description and a.ddl
    # the named queries follow the table: those that read subnet_id render it for the new columns
    assert {a.kind for a in p} == {"update-table", "update-named-query"}
    apply(aws, [a])  # moto lacks UpdateNamedQuery
    t = boto.glue.get_table(DatabaseName="flowsql", Name="vpc_flow_logs")["Table"]
    assert [c["Name"] for c in t["StorageDescriptor"]["Columns"]] == [f.replace("-", "_") for f in DEFAULT_FIELDS]
    assert list(plan_setup(aws, changed)) == []


def test_workgroup_with_other_settings_is_updated(flow_log, proxy, boto, aws):
    boto.athena.create_work_group(Name="flowsql", Configuration={
        "ResultConfiguration": {"OutputLocation": "s3://elsewhere/"}, "EnforceWorkGroupConfiguration": False,
        "BytesScannedCutoffPerQuery": 10_000_000})
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(scan_limit=2 * 10**9))
    [a] = [a for a in p if a.kind.endswith("workgroup")]
    assert a.kind == "update-workgroup"
    assert "BytesScannedCutoffPerQuery 10000000 -> 2000000000" in a.description
    assert "results s3://elsewhere/ ->" in a.description and "result encryption -> SSE_S3" in a.description

    apply(aws, p)  # UpdateWorkGroup answered by the proxy (moto lacks it)
    [sent] = proxy.workgroup_updates
    assert sent["WorkGroup"] == "flowsql"
    assert sent["ConfigurationUpdates"]["ResultConfigurationUpdates"] == {
        "OutputLocation": f"s3://{RESULTS}/results/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
    assert sent["ConfigurationUpdates"]["BytesScannedCutoffPerQuery"] == 2 * 10**9
    assert sent["ConfigurationUpdates"]["EnforceWorkGroupConfiguration"] is True
    assert list(plan_setup(aws, discover_flow_logs(aws), SetupOptions(scan_limit=2 * 10**9))) == []


def test_workgroup_update_keeps_its_kms_encryption(flow_log, proxy, boto, aws):
    kms = {"EncryptionOption": "SSE_KMS", "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/k-1"}
    boto.athena.create_work_group(Name="flowsql", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/results/", "EncryptionConfiguration": kms},
        "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": 10_000_000,
        "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"}})
    p = plan_setup(aws, discover_flow_logs(aws))
    [a] = [a for a in p if a.kind.endswith("workgroup")]
    assert a.kind == "update-workgroup" and "encryption" not in a.description

    apply(aws, p)
    [sent] = proxy.workgroup_updates
    assert "EncryptionConfiguration" not in sent["ConfigurationUpdates"]["ResultConfigurationUpdates"]
    wg = boto.athena.get_work_group(WorkGroup="flowsql")["WorkGroup"]["Configuration"]
    assert wg["ResultConfiguration"]["EncryptionConfiguration"] == kms  # not downgraded to SSE-S3
    assert wg["BytesScannedCutoffPerQuery"] == 10 * 1000**3
    assert list(plan_setup(aws, discover_flow_logs(aws))) == []


def test_named_queries_are_not_duplicated_and_updated_only_on_request(flow_log, boto, aws):
    apply(aws, plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=QUERIES)))
    changed = [(n, d, sql + " LIMIT 5") for n, d, sql in QUERIES] + [("flowsql-new", "New", "SELECT 2")]
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=changed))
    assert [(a.kind, a.params["Name"]) for a in p] == [("create-named-query", "flowsql-new")]
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=changed, update=True))
    assert sorted(a.kind for a in p) == ["create-named-query", "update-named-query", "update-named-query"]


def test_a_later_window_is_no_change_even_with_update(flow_log, boto, aws):
    """Named queries render for the 7 days ending on the day setup runs: a run on a later day
    (only the window's days differ) changes nothing, with --update too."""
    apply(aws, plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=QUERIES)))
    later = [(n, d, sql.replace("'2024/03/01' AND '2024/03/07'", "'2024/04/10' AND '2024/04/16'"))
             for n, d, sql in QUERIES]
    assert later != QUERIES
    assert list(plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=later, update=True))) == []
    # a change besides the window is still seen
    edited = [(n, d, sql.replace("srcaddr", "dstaddr")) for n, d, sql in later]
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(named_queries=edited, update=True))
    assert [(a.kind, a.params["Name"]) for a in p] == [("update-named-query", "flowsql-top-destinations")]


def test_existing_results_bucket_keeps_its_other_lifecycle_rules(flow_log, boto, aws):
    boto.s3.create_bucket(Bucket=RESULTS)
    boto.s3.put_public_access_block(Bucket=RESULTS, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    other = {"ID": "keep-me", "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 9}}
    boto.s3.put_bucket_lifecycle_configuration(Bucket=RESULTS, LifecycleConfiguration={"Rules": [other]})
    p = plan_setup(aws, discover_flow_logs(aws))
    bucket_actions = [a for a in p if a.service == "s3"]
    assert [a.kind for a in bucket_actions] == ["put-bucket-encryption", "put-bucket-lifecycle"]
    apply(aws, p)
    ids = [r["ID"] for r in boto.s3.get_bucket_lifecycle_configuration(Bucket=RESULTS)["Rules"]]
    assert ids == ["keep-me", "flowsql-expire-results"]


def test_results_location_must_not_be_under_the_flow_logs(flow_log, aws):
    with pytest.raises(UsageError, match="never writes there"):
        plan_setup(aws, discover_flow_logs(aws), SetupOptions(results_location="s3://logs/org/acme/AWSLogs/athena/"))


def test_results_location_keeps_clear_of_every_flow_log(proxy, boto, aws):
    """No AWSLogs/ folder anywhere, and no place above or below a flow log's folder, even one
    of a flow log this setup does not make a table for."""
    make_flow_log(boto, "logs-a", "", CUSTOM_FORMAT)
    make_flow_log(boto, "logs-b", "x")
    boto.s3.create_bucket(Bucket="elsewhere")
    dests = discover_flow_logs(aws, bucket="logs-a")
    assert [d.bucket for d in dests] == ["logs-a"]
    for results in ("s3://elsewhere/AWSLogs/", "s3://elsewhere/a/AWSLogs/b/", "s3://logs-b/",
                    "s3://logs-b/x/AWSLogs/123456789012/", "s3://logs-a/"):
        with pytest.raises(UsageError, match="never writes there"):
            plan_setup(aws, dests, SetupOptions(results_location=results))
    assert plan_setup(aws, dests, SetupOptions(results_location="s3://logs-b/athena/")).config.results_location == \
        "s3://logs-b/athena/"


def test_two_tables_with_one_name_are_refused(flow_log, aws):
    [d] = discover_flow_logs(aws)
    from dataclasses import replace

    other = replace(d, log_format=parse_log_format(""))  # same place and layout, another format
    with pytest.raises(UsageError, match="two tables named flowsql.vpc_flow_logs"):
        plan_setup(aws, [d, other])
    with pytest.raises(UsageError, match="two tables named flowsql.inventory_enis"):
        plan_setup(aws, [d], SetupOptions(table="inventory_enis"))


def test_new_results_location_moves_the_inventory_tables(flow_log, boto, aws):
    """The inventory tables are flowsql's own: they follow --results without --update, as
    `inventory sync --upload` would update them."""
    apply(aws, plan_setup(aws, discover_flow_logs(aws)))
    boto.s3.create_bucket(Bucket="my-results")
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(results_location="s3://my-results/athena/"))
    tables = [a for a in p if a.service == "glue"]
    assert {a.kind for a in tables} == {"update-table"} and len(tables) == 4
    assert all("inventory_" in a.params["TableInput"]["Name"] for a in tables)
    apply(aws, p)
    t = boto.glue.get_table(DatabaseName="flowsql", Name="inventory_enis")["Table"]
    assert t["StorageDescriptor"]["Location"] == "s3://my-results/flowsql-inventory/enis/"
    assert p.config.inventory_location == "s3://my-results/flowsql-inventory/"


def test_given_results_location_must_exist(flow_log, aws):
    with pytest.raises(AwsError, match="results bucket my-results does not exist"):
        plan_setup(aws, discover_flow_logs(aws), SetupOptions(results_location="s3://my-results/athena/"))


def test_given_results_location_is_not_managed(flow_log, boto, aws):
    boto.s3.create_bucket(Bucket="my-results")
    p = plan_setup(aws, discover_flow_logs(aws), SetupOptions(results_location="s3://my-results/athena"))
    assert not [a for a in p if a.service == "s3"]
    assert p.config.results_location == "s3://my-results/athena/"


def test_several_destinations_get_suffixed_tables_that_stay_put(proxy, boto, aws):
    make_flow_log(boto, "logs-a", "", CUSTOM_FORMAT)
    make_flow_log(boto, "logs-b", "x")
    first = plan_setup(aws, discover_flow_logs(aws))
    tables = {a.params["TableInput"]["Name"]: a.params["TableInput"]["StorageDescriptor"]["Location"]
              for a in first if a.kind == "create-table" and "vpc_flow" in a.params["TableInput"]["Name"]}
    assert tables == {"vpc_flow_logs": "s3://logs-a/AWSLogs/", "vpc_flow_logs_2": "s3://logs-b/x/AWSLogs/"}
    assert [t.name for t in first.config.tables] == ["vpc_flow_logs", "vpc_flow_logs_2"]
    apply(aws, first)
    assert list(plan_setup(aws, discover_flow_logs(aws))) == []


def test_bad_options(flow_log, aws):
    dests = discover_flow_logs(aws)
    with pytest.raises(UsageError, match="at least 10,000,000 bytes"):
        plan_setup(aws, dests, SetupOptions(scan_limit=1000))
    with pytest.raises(UsageError, match="invalid database"):
        plan_setup(aws, dests, SetupOptions(database="Bad-Name"))


def test_config_is_saved_and_loaded(flow_log, aws, tmp_path):
    p = plan_setup(aws, discover_flow_logs(aws))
    assert p.config.profile is None  # no --profile: the default chain finds it again
    path = config_mod.save(p.config)
    assert path == config_mod.config_path()
    loaded = config_mod.load()
    assert loaded == p.config
    assert loaded.table().name == "vpc_flow_logs"
    with pytest.raises(UsageError, match="no flow-log table 'nope'"):
        loaded.table("nope")


def test_iam_policy():
    policy = iam_policy(account=ACCOUNT, region=REGION, log_locations=["s3://logs/org/acme/"])
    json.dumps(policy)
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids))
    assert {s.split("Setup")[0] for s in sids if "Setup" in s} == {"Flowsql"}
    setup = [s for s in policy["Statement"] if s["Sid"].startswith("FlowsqlSetup")]
    query = [s for s in policy["Statement"] if s["Sid"].startswith("FlowsqlQuery")]
    assert setup and query
    query_actions = {a for s in query for a in s["Action"]}
    assert "athena:StartQueryExecution" in query_actions and "athena:StopQueryExecution" in query_actions
    assert not any(a.startswith(("glue:Create", "glue:Update", "s3:Create", "athena:Create")) for a in query_actions)
    reads = next(s for s in query if s["Sid"] == "FlowsqlQueryReadFlowLogs")
    assert reads["Resource"] == ["arn:aws:s3:::logs/org/acme/AWSLogs/*"]
    assert all("*" != s["Action"] and not any(a.endswith(":*") for a in s["Action"]) for s in policy["Statement"])
    wg = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/flowsql"
    assert next(s for s in query if s["Sid"] == "FlowsqlQueryAthena")["Resource"] == [wg]


def test_iam_policy_for_a_saved_setup(flow_log, boto, aws):
    from dataclasses import replace

    from flowsql.account.provision import iam_policy_for

    cfg = plan_setup(aws, discover_flow_logs(aws)).config
    policy = iam_policy_for(cfg)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["FlowsqlQueryReadFlowLogs"]["Resource"] == ["arn:aws:s3:::logs/org/acme/AWSLogs/*"]
    assert statements["FlowsqlQueryResults"]["Resource"] == [f"arn:aws:s3:::{RESULTS}/results/*"]
    assert statements["FlowsqlInventoryUpload"]["Resource"] == [f"arn:aws:s3:::{RESULTS}/inventory/*"]
    assert {"glue:GetTables", "glue:CreateDatabase"} <= set(statements["FlowsqlInventoryTables"]["Action"])
    assert iam_policy_for(None)["Statement"][2]["Resource"] == ["arn:aws:s3:::*/AWSLogs/*"]

    # the locations setup recorded, wherever they are; the region's partition
    boto.s3.create_bucket(Bucket="my-results")
    cfg = plan_setup(aws, discover_flow_logs(aws), SetupOptions(results_location="s3://my-results/athena")).config
    statements = {s["Sid"]: s for s in iam_policy_for(cfg)["Statement"]}
    assert statements["FlowsqlQueryResults"]["Resource"] == ["arn:aws:s3:::my-results/athena/*"]
    assert statements["FlowsqlInventoryUpload"]["Resource"] == ["arn:aws:s3:::my-results/flowsql-inventory/*"]
    cn = {s["Sid"]: s for s in iam_policy_for(replace(cfg, region="cn-north-1"))["Statement"]}
    assert cn["FlowsqlQueryAthena"]["Resource"] == [f"arn:aws-cn:athena:cn-north-1:{ACCOUNT}:workgroup/flowsql"]
    assert all(r.startswith("arn:aws-cn:") or r == "*" for s in cn.values() for r in s["Resource"])


def test_setup_records_the_buckets_kms_key_and_the_query_policy_grants_decrypt(flow_log, boto, aws):
    """Athena cannot read SSE-KMS flow logs without kms:Decrypt on the bucket's key."""
    from dataclasses import replace

    from test_cli_aws import invoke

    from flowsql.account.provision import iam_policy_for

    key = boto.kms.create_key(Description="flow logs")["KeyMetadata"]["Arn"]
    boto.s3.put_bucket_encryption(Bucket="logs", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    cfg = plan_setup(aws, discover_flow_logs(aws)).config
    assert (cfg.tables[0].sse, cfg.tables[0].kms_key) == ("aws:kms", key)
    config_mod.save(cfg)
    assert config_mod.load() == cfg
    r = invoke("iam-policy", "--for", "query")
    assert r.exit_code == 0, r.output
    decrypt = [s for s in json.loads(r.stdout)["Statement"] if "kms:Decrypt" in s["Action"]]
    assert decrypt == [{"Sid": "FlowsqlQueryDecryptFlowLogs", "Effect": "Allow", "Action": ["kms:Decrypt"],
                        "Resource": [key]}]

    # SSE-S3: nothing to grant
    boto.s3.put_bucket_encryption(Bucket="logs", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    cfg = plan_setup(aws, discover_flow_logs(aws)).config
    assert (cfg.tables[0].sse, cfg.tables[0].kms_key) == ("AES256", None)
    assert not [s for s in iam_policy_for(cfg)["Statement"] if "kms:Decrypt" in s["Action"]]
    # not known (a config from before flowsql recorded it, or no setup): any key, but only through S3
    old = replace(cfg, tables=[replace(cfg.tables[0], sse=None)])
    for doc in (iam_policy_for(old), iam_policy_for(None)):
        query = [s for s in doc["Statement"] if s["Sid"] == "FlowsqlQueryDecryptFlowLogs"]
        assert len(query) == 1 and query[0]["Resource"] == ["*"]
        assert query[0]["Condition"]["StringLike"]["kms:ViaService"].startswith("s3.")
    # a bare key id and an alias, as a bucket's encryption may name them
    keys = {s["Sid"]: s for s in iam_policy(account=ACCOUNT, region=REGION, kms_keys=["1234abcd-12ab", "alias/logs"])[
        "Statement"] if "kms:Decrypt" in s["Action"]}
    assert keys["FlowsqlQueryDecryptFlowLogs"]["Resource"] == [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab"]
    assert keys["FlowsqlQueryDecryptFlowLogsByAlias"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/logs"]}}


def test_the_inventory_sync_policy_is_what_the_checks_declare():
    from flowsql.account.snapshot_sync import SYNC_IAM_ACTIONS
    from flowsql.account.tree_sync import TREE_IAM_ACTIONS
    from flowsql.posture import all_checks

    policy = iam_policy(account=ACCOUNT, region=REGION, log_locations=["s3://logs/org/acme/"])
    sync = {s["Sid"]: s for s in policy["Statement"] if s["Sid"].startswith("FlowsqlInventorySync")}
    # DescribeRegions: `inventory sync --regions all`
    declared = {a for c in all_checks() for a in c.iam_actions} | set(SYNC_IAM_ACTIONS) | set(TREE_IAM_ACTIONS)
    assert {a for s in sync.values() for a in s["Action"]} == declared
    assert {"logs:DescribeLogGroups", "s3:GetLifecycleConfiguration", "cloudwatch:GetMetricStatistics"} <= declared
    assert sync["FlowsqlInventorySyncBuckets"]["Resource"] == ["arn:aws:s3:::logs"]
    assert all(a.startswith("s3:") for a in sync["FlowsqlInventorySyncBuckets"]["Action"])


def test_plan_as_a_library_saves_the_canned_queries_as_setup_does(flow_log, boto, aws):
    """provision.plan() with default options saves every query of the pack, rendered for the tables it
    names and passing the lint gate: the same named queries `flowsql setup` saves (the Transit Gateway
    queries only where setup made a Transit Gateway table: tests/aws/test_tgw_setup.py)."""
    from flowsql.account.named_queries import canned_named_queries
    from flowsql.pack.queries import load_pack

    p = plan_setup(aws, discover_flow_logs(aws))
    saved = {a.params["Name"]: a.params["QueryString"] for a in p if a.kind == "create-named-query"}
    assert set(saved) == {f"flowsql-{q.name}" for q in load_pack() if q.table == "vpc"}
    assert saved == {name: sql for name, _, sql in canned_named_queries(p.config)}
    assert all("FROM flowsql.vpc_flow_logs" in sql for sql in saved.values())
