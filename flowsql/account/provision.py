"""`flowsql setup` as a plan: the actions that bring an account to the wanted state, then applying them.

`plan_setup()` reads the current state (Glue database and tables, Athena workgroup and named queries,
the results bucket) and returns only what is missing or different, each action with a one-line
description (and, for tables, the DDL) — so a second run plans nothing and `--dry-run` is "print
the plan". `apply()` makes the calls. Nothing is ever deleted, and nothing is written under a
flow-log location: the only S3 writes go to the results bucket.

A flow-log table whose definition changed is only updated with `update=True` (`--update`): an
unexpected schema change could hide evidence, so it is an error that says what differs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, Sequence

from ..aws import Aws, aws_errors, errors, is_code, map_error, partition_for_region, split_s3_uri
from ..engines.athena import defaults
from ..engines.athena.config import Config, TableConfig
from ..errors import AwsError, UsageError
from .discovery import check_bucket
from .named_queries import canned_named_queries
from .tables import (DEFAULT_DAY_START, DESTINATION, MANAGED, FlowLogTable, TableSpec, day_format, diff,
                     flow_log_spec, inventory_specs, inventory_table_names)

ENGINE_V3 = "Athena engine version 3"
DEFAULT_SCAN_LIMIT = 10 * 1000**3  # 10 GB
MIN_SCAN_LIMIT = 10_000_000  # Athena's minimum BytesScannedCutoffPerQuery
LIFECYCLE_RULE_ID = "flowsql-expire-results"
RESULTS_PREFIX = "results/"
INVENTORY_PREFIX = "inventory/"
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,200}$")
_WORKGROUP_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")


@dataclass(frozen=True)
class Action:
    """One API call of a setup: what it does (one line), and for a table its DDL."""

    kind: str  # create-bucket, put-public-access-block, …, create-table, update-table, create-workgroup, …
    description: str
    service: str  # boto3 service name
    operation: str  # boto3 client method
    params: dict = field(default_factory=dict, hash=False, compare=False)
    ddl: str | None = None

    def __str__(self) -> str:
        return self.description


class Plan(list):
    """The actions of a setup (a list of Action, empty when all is in place) and the config to save."""

    config: Config

    def __init__(self, actions: Iterable[Action] = (), *, config: Config):
        super().__init__(actions)
        self.config = config


NamedQueries = Sequence[tuple[str, str, str]]


@dataclass
class SetupOptions:
    database: str = defaults.DATABASE
    workgroup: str = defaults.WORKGROUP
    table: str = defaults.TABLE  # further flow-log tables get _2, _3, …
    tgw_table: str = defaults.TGW_TABLE  # Transit Gateway flow logs' tables, likewise
    scan_limit: int = DEFAULT_SCAN_LIMIT  # bytes; BytesScannedCutoffPerQuery
    results_location: str | None = None  # default s3://flowsql-results-{account}-{region}/results/
    inventory_location: str | None = None  # default: the results bucket's inventory/ folder
    results_expire_days: int = 30
    day_start: date = DEFAULT_DAY_START
    account_projection: str | None = None  # "enum" | "injected"; None: by the number of accounts
    region_projection: str | None = None
    update: bool = False
    # (name, description, sql) saved as Athena named queries, or a function of the Config this plan
    # resolves that returns them (by default the canned queries of the pack, rendered against the
    # tables the plan names). An existing query of the same name is left alone unless update=True,
    # and then rewritten only if it differs in more than its window's days.
    named_queries: NamedQueries | Callable[[Config], NamedQueries] = canned_named_queries


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str, option: str = "--scan-limit") -> int:
    """A scan cut-off as people write it (10GB, 500 MB, 1.5TiB) in bytes, at least Athena's minimum."""
    m = re.fullmatch(r"\s*([0-9]{1,15}(?:\.[0-9]{1,9})?)\s*([A-Za-z]*)\s*", text)
    unit = m[2].upper() if m else None
    if not m or unit not in _SIZE_UNITS:
        raise UsageError(f"{option}: not a size: {text!r} (e.g. 10GB, 500MB)")
    n = int(float(m[1]) * _SIZE_UNITS[unit])
    if n < MIN_SCAN_LIMIT:
        raise UsageError(f"{option}: {text} is below Athena's minimum cut-off of 10 MB")
    return n


def results_bucket_name(account: str, region: str) -> str:
    return defaults.RESULTS_BUCKET.format(account=account, region=region)


def plan_setup(aws: Aws, destinations: Sequence, options: SetupOptions | None = None) -> Plan:
    """The actions that make `destinations` (from discovery) queryable; [] when all is in place.

    `destinations` may carry `flow_log_locations` (discovery.Discovered): every place the
    account's flow logs write, which the results and inventory locations must keep clear of.
    """
    o = options or SetupOptions()
    check_setup_options(o)
    if not destinations:
        raise UsageError("nothing to set up: no flow-log destination")
    account, region = aws.account, aws.region
    actions: list[Action] = []

    managed_bucket = o.results_location is None
    results = o.results_location or f"s3://{results_bucket_name(account, region)}/{RESULTS_PREFIX}"
    if not results.endswith("/"):
        results += "/"
    rbucket, _ = split_s3_uri(results, "--results")
    inventory = o.inventory_location or (f"s3://{rbucket}/{INVENTORY_PREFIX}" if managed_bucket
                                         else f"s3://{rbucket}/flowsql-{INVENTORY_PREFIX}")
    if not inventory.endswith("/"):
        inventory += "/"
    flow_logs = {(d.bucket, d.awslogs_key) for d in destinations}
    flow_logs.update(getattr(destinations, "flow_log_locations", ()))
    for loc in (results, inventory):
        _refuse_flow_log_location(loc, sorted(flow_logs))

    s3 = aws.client("s3")
    if managed_bucket:
        actions += _bucket_actions(s3, rbucket, region, o.results_expire_days)
    else:
        check_bucket(s3, rbucket, "results bucket")

    glue = aws.client("glue")
    db_exists = _database_exists(glue, o.database)
    if not db_exists:
        actions.append(Action("create-database", f"create Glue database {o.database}", "glue", "create_database",
                              {"DatabaseInput": {"Name": o.database,
                                                 "Description": "flowsql: VPC flow logs and inventory"}},
                              ddl=f"CREATE DATABASE IF NOT EXISTS `{o.database}`"))
    existing = _existing_tables(glue, o.database) if db_exists else {}

    names = _table_names(destinations, existing, o.table, o.tgw_table)
    flow_tables = [FlowLogTable.from_destination(names[d.key], d, day_start=o.day_start,
                                                 account_projection=o.account_projection,
                                                 region_projection=o.region_projection)
                   for d in destinations]
    specs = [flow_log_spec(o.database, t) for t in flow_tables]
    inv_specs = inventory_specs(o.database, inventory)
    _check_unique([*specs, *inv_specs], destinations)
    for spec in specs:
        actions += _table_actions(spec, existing.get(spec.name), o.update)
    for spec in inv_specs:
        # flowsql's own tables, fixed schema (a new --results moves them): brought up to date
        # without --update, as ensure_inventory_tables does
        actions += _table_actions(spec, existing.get(spec.name), update=True)

    athena = aws.client("athena")
    wg_config = {
        "ResultConfiguration": {"OutputLocation": results,
                                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}},
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": o.scan_limit,
        "RequesterPaysEnabled": False,
        "EngineVersion": {"SelectedEngineVersion": ENGINE_V3},
    }
    wg = _get_workgroup(athena, o.workgroup)
    if wg is None:
        actions.append(Action(
            "create-workgroup",
            f"create Athena workgroup {o.workgroup} (engine v3, scan limit {_size(o.scan_limit)}, "
            f"results {results}, SSE-S3, enforced)",
            "athena", "create_work_group",
            {"Name": o.workgroup, "Configuration": wg_config,
             "Description": "flowsql: VPC flow log queries (settings enforced)"}))
    else:
        actions += _workgroup_update(o.workgroup, wg, wg_config)

    encryption = {b: bucket_default_encryption(s3, b) for b in sorted({d.bucket for d in destinations})}
    cfg = Config(
        region=region, database=o.database, workgroup=o.workgroup, profile=aws.profile, account=account,
        results_location=results, inventory_location=inventory,
        tables=[_table_config(t, encryption[d.bucket]) for t, d in zip(flow_tables, destinations)],
        inventory={k: v for k, v in inventory_table_names().items()},
    )
    queries = o.named_queries(cfg) if callable(o.named_queries) else o.named_queries
    actions += _named_query_actions(athena, o, queries, exists=wg is not None)
    return Plan(actions, config=cfg)


def apply(aws: Aws, actions: Iterable[Action], echo: Callable[[str], Any] | None = None) -> int:
    """Make the calls of a plan, in order; `echo` gets each description first. Returns how many."""
    n = 0
    for a in actions:
        if echo:
            echo(a.description)
        client = aws.client(a.service)
        try:
            getattr(client, a.operation)(**a.params)
        except errors() as e:
            if not (a.kind == "create-bucket" and is_code(e, "BucketAlreadyOwnedByYou")):
                raise map_error(e, a.description) from None
        n += 1
    return n


# -- checks ----------------------------------------------------------------------------------

def check_setup_options(o: SetupOptions) -> None:
    """Everything about the options that can be checked without AWS (the CLI calls it first)."""
    if o.scan_limit < MIN_SCAN_LIMIT:
        raise UsageError(f"the scan limit must be at least {MIN_SCAN_LIMIT:,} bytes (Athena's minimum)")
    if o.results_expire_days < 1:
        raise UsageError("results must be kept at least one day")
    for p in (o.account_projection, o.region_projection):
        if p not in (None, "enum", "injected"):
            raise UsageError(f"projection must be enum or injected, not {p!r}")
    if not _GLUE_NAME.match(o.database) or not _GLUE_NAME.match(o.table):
        raise UsageError(f"invalid database or table name {o.database!r}/{o.table!r} "
                         "(lower-case letters, digits and _)")
    if not _WORKGROUP_NAME.match(o.workgroup):
        raise UsageError(f"invalid workgroup name {o.workgroup!r} (letters, digits, '.', '_', '-')")
    for loc, what in ((o.results_location, "--results"), (o.inventory_location, "the inventory location")):
        if loc is not None:
            _refuse_flow_log_location(loc, (), what)


def _refuse_flow_log_location(location: str, flow_logs: Iterable[tuple[str, str]], what: str = "") -> None:
    """flowsql writes (results, inventory, a lifecycle rule on its prefix) only where no flow log
    delivers: never in an AWSLogs/ folder, nor above or below any known flow-log folder
    (`flow_logs`: (bucket, AWSLogs/ key prefix) pairs)."""
    bucket, key = split_s3_uri(location, what or "location")
    if "AWSLogs" in key.split("/"):
        raise UsageError(f"{what + ' ' if what else ''}{location} is inside an AWSLogs/ folder, where flow logs "
                         "are delivered; flowsql never writes there")
    for b, awslogs in flow_logs:
        if bucket == b and (key.startswith(awslogs) or awslogs.startswith(key)):
            raise UsageError(f"{what + ' ' if what else ''}{location} overlaps the flow-log location "
                             f"s3://{b}/{awslogs}; flowsql never writes there")


def _check_unique(specs: Sequence[TableSpec], destinations: Sequence) -> None:
    """Two specs with one name would be a CreateTable that fails half-way through a setup."""
    keys = [d.key for d in destinations]
    for d in destinations:
        if keys.count(d.key) > 1:  # discovery merges such flow logs, or refuses different formats
            raise UsageError(f"setup would make two tables named {specs[keys.index(d.key)].qualified} for "
                             f"{d.location} ({d.file_format}): one table per location and layout")
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise UsageError(f"setup would make two tables named {spec.qualified}; pass another --table name")
        seen.add(spec.name)


# -- results bucket --------------------------------------------------------------------------

def _bucket_actions(s3, bucket: str, region: str, days: int) -> list[Action]:
    out: list[Action] = []
    exists = True
    try:
        s3.head_bucket(Bucket=bucket)
    except errors() as e:
        if is_code(e, "404", "NoSuchBucket", "NotFound"):
            exists = False
        elif is_code(e, "403", "AccessDenied"):
            raise AwsError(f"bucket {bucket} exists but is not readable (another account's?); "
                           "pass --results s3://BUCKET/PREFIX/") from None
        else:
            raise map_error(e, f"checking results bucket {bucket}") from None
    pab = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
           "RestrictPublicBuckets": True}
    encryption = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                             "BucketKeyEnabled": True}]}
    rule = {"ID": LIFECYCLE_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": RESULTS_PREFIX},
            "Expiration": {"Days": days}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
    if not exists:
        create: dict = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        out.append(Action("create-bucket", f"create results bucket s3://{bucket}", "s3", "create_bucket", create))
    have_pab = _get(s3.get_public_access_block, bucket, "PublicAccessBlockConfiguration",
                    ("NoSuchPublicAccessBlockConfiguration",)) if exists else None
    if have_pab != pab:
        out.append(Action("put-public-access-block", f"block all public access to s3://{bucket}", "s3",
                          "put_public_access_block",
                          {"Bucket": bucket, "PublicAccessBlockConfiguration": pab}))
    have_enc = _get(s3.get_bucket_encryption, bucket, "ServerSideEncryptionConfiguration",
                    ("ServerSideEncryptionConfigurationNotFoundError",)) if exists else None
    if not (have_enc and have_enc.get("Rules")):
        out.append(Action("put-bucket-encryption", f"encrypt s3://{bucket} by default (SSE-S3)", "s3",
                          "put_bucket_encryption",
                          {"Bucket": bucket, "ServerSideEncryptionConfiguration": encryption}))
    rules = (_get(s3.get_bucket_lifecycle_configuration, bucket, "Rules", ("NoSuchLifecycleConfiguration",))
             if exists else None) or []
    ours = [r for r in rules if r.get("ID") == LIFECYCLE_RULE_ID]
    if not ours or not _same_rule(ours[0], rule):
        # PutBucketLifecycleConfiguration replaces every rule: keep the others.
        keep = [r for r in rules if r.get("ID") != LIFECYCLE_RULE_ID]
        out.append(Action("put-bucket-lifecycle",
                          f"expire query results under s3://{bucket}/{RESULTS_PREFIX} after {days} days",
                          "s3", "put_bucket_lifecycle_configuration",
                          {"Bucket": bucket, "LifecycleConfiguration": {"Rules": [*keep, rule]}}))
    return out


def _get(call, bucket: str, key: str, missing: tuple[str, ...]):
    try:
        return call(Bucket=bucket).get(key)
    except errors() as e:
        if is_code(e, *missing):
            return None
        raise map_error(e, f"reading the settings of s3://{bucket}") from None


def _same_rule(have: dict, want: dict) -> bool:
    prefix = (have.get("Filter") or {}).get("Prefix", have.get("Prefix"))
    return (have.get("Status") == "Enabled" and prefix == want["Filter"]["Prefix"]
            and (have.get("Expiration") or {}).get("Days") == want["Expiration"]["Days"])


# -- Glue ------------------------------------------------------------------------------------

def _database_exists(glue, name: str) -> bool:
    try:
        glue.get_database(Name=name)
        return True
    except errors() as e:
        if is_code(e, "EntityNotFoundException"):
            return False
        raise map_error(e, f"reading Glue database {name}") from None


def _existing_tables(glue, database: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    with aws_errors(f"listing the tables of Glue database {database}"):
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
            for t in page.get("TableList", []):
                out[t["Name"]] = t
    return out


def _table_names(destinations: Sequence, existing: dict[str, dict], base: str,
                 tgw_base: str = "tgw_flow_logs") -> dict[str, str]:
    """Destination key -> table name: the table already made for it, else the first free name
    (`tgw_base`, `tgw_base_2`, … for Transit Gateway flow logs)."""
    by_key = {(t.get("Parameters") or {}).get(DESTINATION): n for n, t in existing.items()
              if (t.get("Parameters") or {}).get(MANAGED) == "true"}
    taken = set(existing)
    out: dict[str, str] = {}
    for d in destinations:
        if d.key in by_key and by_key[d.key] not in out.values():
            out[d.key] = by_key[d.key]
    counters = {"vpc": 1, "tgw": 1}
    for d in destinations:
        if d.key in out:
            continue
        kind = getattr(d, "kind", "vpc")
        stem = tgw_base if kind == "tgw" else base
        while True:
            n = counters[kind]
            name = stem if n == 1 else f"{stem}_{n}"
            counters[kind] += 1
            if name not in taken and name not in out.values():
                break
        out[d.key] = name
    return out


def _table_actions(spec: TableSpec, existing: dict | None, update: bool) -> list[Action]:
    ti = spec.table_input()
    if existing is None:
        return [Action("create-table", f"create table {spec.qualified} over {spec.location}", "glue",
                       "create_table", {"DatabaseName": spec.database, "TableInput": ti}, ddl=spec.ddl())]
    changes = diff(existing, spec)
    if not changes:
        return []
    summary = "; ".join(changes)
    if len(summary) > 300:
        summary = summary[:297] + "..."
    if not update:
        raise UsageError(f"table {spec.qualified} differs from what setup would create ({summary}); "
                         "pass --update to update it")
    return [Action("update-table", f"update table {spec.qualified}: {summary}", "glue", "update_table",
                   {"DatabaseName": spec.database, "TableInput": ti}, ddl=spec.ddl())]


def _table_config(t: FlowLogTable, encryption: tuple[str | None, str | None] = (None, None)) -> TableConfig:
    return TableConfig(
        name=t.name, location=t.location, columns=[c for c, _ in t.columns], file_format=t.file_format,
        hive=t.hive, per_hour=t.per_hour, day_format=day_format(t.hive), accounts=list(t.accounts),
        regions=list(t.regions), account_projection=t.resolved_account_projection,
        region_projection=t.resolved_region_projection, day_start=t.day_start.isoformat(),
        sse=encryption[0], kms_key=encryption[1], kind=t.kind,
    )


def bucket_default_encryption(s3, bucket: str) -> tuple[str | None, str | None]:
    """(SSEAlgorithm, KMSMasterKeyID) of a flow-log bucket's default encryption, read so that the
    query policy can grant kms:Decrypt on its key (Athena cannot read SSE-KMS objects without it).
    ("", None) when the bucket has none; (None, None) when it cannot be read (a log archive of
    another account may refuse GetBucketEncryption): unknown, and the policy then stays general."""
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"].get("Rules") or []
    except errors() as e:
        if is_code(e, "ServerSideEncryptionConfigurationNotFoundError"):
            return "", None
        return None, None
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            return default["SSEAlgorithm"], default.get("KMSMasterKeyID")
    return "", None


def ensure_inventory_tables(aws: Aws, database: str, location: str) -> list[Action]:
    """Create (or bring up to date) the Glue database and the inventory tables; returns what was done.

    For `inventory sync --upload`: the inventory tables are flowsql's own, fixed schema, so a
    difference is simply updated (no `--update` needed, unlike flow-log tables), as setup does.
    """
    glue = aws.client("glue")
    actions: list[Action] = []
    db_exists = _database_exists(glue, database)
    if not db_exists:
        actions.append(Action("create-database", f"create Glue database {database}", "glue", "create_database",
                              {"DatabaseInput": {"Name": database,
                                                 "Description": "flowsql: VPC flow logs and inventory"}}))
    existing = _existing_tables(glue, database) if db_exists else {}
    for spec in inventory_specs(database, location):
        actions += _table_actions(spec, existing.get(spec.name), update=True)
    apply(aws, actions)
    return actions


# -- Athena ----------------------------------------------------------------------------------

def _get_workgroup(athena, name: str) -> dict | None:
    try:
        return athena.get_work_group(WorkGroup=name).get("WorkGroup")  # moto: None when missing
    except errors() as e:
        if is_code(e, "InvalidRequestException", "ResourceNotFoundException"):
            return None
        raise map_error(e, f"reading Athena workgroup {name}") from None


def _workgroup_update(name: str, wg: dict, want: dict) -> list[Action]:
    have = wg.get("Configuration") or {}
    rc_have = have.get("ResultConfiguration") or {}
    rc_want = want["ResultConfiguration"]
    changes = []
    if rc_have.get("OutputLocation") != rc_want["OutputLocation"]:
        changes.append(f"results {rc_have.get('OutputLocation')} -> {rc_want['OutputLocation']}")
    # Any encryption the owner chose (SSE_KMS with their key, …) is kept: SSE-S3 only where there is none.
    encrypted = (rc_have.get("EncryptionConfiguration") or {}).get("EncryptionOption") in ("SSE_S3", "SSE_KMS",
                                                                                          "CSE_KMS")
    if not encrypted:
        changes.append("result encryption -> SSE_S3")
    for k in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "BytesScannedCutoffPerQuery"):
        if have.get(k) != want[k]:
            changes.append(f"{k} {have.get(k)} -> {want[k]}")
    engine = (have.get("EngineVersion") or {})
    if ENGINE_V3 not in (engine.get("SelectedEngineVersion"), engine.get("EffectiveEngineVersion")):
        changes.append(f"engine -> {ENGINE_V3}")
    if wg.get("State", "ENABLED") != "ENABLED":
        changes.append("state -> ENABLED")
    if not changes:
        return []
    result_updates = {"OutputLocation": rc_want["OutputLocation"]}
    if not encrypted:
        result_updates["EncryptionConfiguration"] = rc_want["EncryptionConfiguration"]
    updates = {
        "EnforceWorkGroupConfiguration": want["EnforceWorkGroupConfiguration"],
        "PublishCloudWatchMetricsEnabled": want["PublishCloudWatchMetricsEnabled"],
        "BytesScannedCutoffPerQuery": want["BytesScannedCutoffPerQuery"],
        "ResultConfigurationUpdates": result_updates,
        "EngineVersion": want["EngineVersion"],
    }
    params = {"WorkGroup": name, "ConfigurationUpdates": updates}
    if wg.get("State", "ENABLED") != "ENABLED":
        params["State"] = "ENABLED"
    return [Action("update-workgroup", f"update Athena workgroup {name}: {'; '.join(changes)}", "athena",
                   "update_work_group", params)]


def existing_named_queries(athena, workgroup: str) -> dict[str, dict]:
    """Name -> NamedQuery of the workgroup. ListNamedQueries + GetNamedQuery (no BatchGet: moto)."""
    ids: list[str] = []
    with aws_errors(f"listing the named queries of workgroup {workgroup}"):
        for page in athena.get_paginator("list_named_queries").paginate(WorkGroup=workgroup):
            ids.extend(page.get("NamedQueryIds", []))
        out: dict[str, dict] = {}
        for i in ids:
            q = athena.get_named_query(NamedQueryId=i)["NamedQuery"]
            out.setdefault(q["Name"], q)
    return out


# The window of a saved query (`day BETWEEN 'a' AND 'b'`): its days move with the day setup runs.
_WINDOW_DAYS = re.compile(r"(\bday\s+BETWEEN\s+)'[^']*'(\s+AND\s+)'[^']*'", re.IGNORECASE)


def _without_window(sql: str) -> str:
    return _WINDOW_DAYS.sub(r"\1'…'\2'…'", sql)


def _named_query_actions(athena, o: SetupOptions, queries: NamedQueries, *, exists: bool) -> list[Action]:
    """Named queries are matched by name. An existing one is rewritten only with --update, and only
    when it differs in more than its window's days (a later run renders a later window)."""
    if not queries:
        return []
    have = existing_named_queries(athena, o.workgroup) if exists else {}
    out: list[Action] = []
    seen = set()
    for name, description, sql in queries:
        if name in seen:
            raise UsageError(f"named query {name!r} given twice")
        seen.add(name)
        description = (description or "")[:1024]
        q = have.get(name)
        if q is None:
            token = hashlib.sha256(f"{o.workgroup}\0{name}\0{sql}".encode()).hexdigest()
            out.append(Action("create-named-query", f"save named query {name!r} in workgroup {o.workgroup}",
                              "athena", "create_named_query",
                              {"Name": name, "Description": description, "Database": o.database,
                               "QueryString": sql, "WorkGroup": o.workgroup, "ClientRequestToken": token}))
        elif o.update and (_without_window(q.get("QueryString") or "") != _without_window(sql)
                           or (q.get("Description") or "") != description):
            out.append(Action("update-named-query", f"update named query {name!r} in workgroup {o.workgroup}",
                              "athena", "update_named_query",
                              {"NamedQueryId": q["NamedQueryId"], "Name": name, "Description": description,
                               "QueryString": sql}))
    return out


def _size(n: int) -> str:
    for unit, k in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if n >= k:
            return f"{n / k:g} {unit}"
    return f"{n} bytes"


# -- IAM -------------------------------------------------------------------------------------

def _s3_parts(uri: str) -> tuple[str, str]:
    """`s3://bucket/key/` -> (bucket, key/), wildcards allowed (a policy's `s3://*/`)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key if not key or key.endswith("/") else key + "/"


def inventory_sync_actions() -> list[str]:
    """What `inventory sync` needs: its own describe calls (DescribeRegions for `--regions all`) and
    every posture check's facts (each check declares its IAM actions; a new check adds to the policy
    by itself)."""
    from .snapshot_sync import SYNC_IAM_ACTIONS
    from .tree_sync import TREE_IAM_ACTIONS
    from ..posture import all_checks

    return sorted({*SYNC_IAM_ACTIONS, *TREE_IAM_ACTIONS, *(a for c in all_checks() for a in c.iam_actions)})


def inventory_role_policy(region: str = "*") -> dict:
    """The policy of the role `inventory sync --accounts/--organization --role-name` assumes in each
    account: what one snapshot reads (every region's, so no region in the ARNs), nothing else."""
    p = partition_for_region(region) if region != "*" else "aws"
    actions = inventory_sync_actions()
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "FlowsqlInventoryRoleRead", "Effect": "Allow",
         "Action": sorted(a for a in actions if not a.startswith("s3:")), "Resource": ["*"]},
        {"Sid": "FlowsqlInventoryRoleBuckets", "Effect": "Allow",
         "Action": sorted(a for a in actions if a.startswith("s3:")), "Resource": [f"arn:{p}:s3:::*"]},
    ]}


def inventory_trust_policy(trusted_account: str, external_id: str | None = None, region: str = "*") -> dict:
    """The role's trust policy: the account flowsql runs from (its administrators decide, with IAM,
    who there may assume it) may assume it, with the external id when one is given."""
    p = partition_for_region(region) if region != "*" else "aws"
    statement = {"Sid": "FlowsqlInventoryTrust", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:{p}:iam::{trusted_account}:root"}, "Action": "sts:AssumeRole"}
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _kms_statements(sid: str, p: str, account: str, region: str, kms_keys: Sequence[str] | None) -> list[dict]:
    """kms:Decrypt for reading SSE-KMS flow-log objects through S3 (setup reads a header, Athena reads
    them all). `kms_keys` None: not known (no setup yet, or a bucket that refused GetBucketEncryption),
    so any key, but only through S3; [] : no SSE-KMS bucket, no statement."""
    if kms_keys is None:
        return [{"Sid": sid, "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["*"],
                 "Condition": {"StringLike": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}}]
    arns, aliases = set(), set()
    for key in kms_keys:
        if key.startswith("arn:") and ":key/" in key:
            arns.add(key)
        elif key.startswith("arn:") and ":alias/" in key:
            aliases.add("alias/" + key.split(":alias/", 1)[1])
        elif key.startswith("alias/"):
            aliases.add(key)
        else:  # a bare key id: a key of the bucket's account and region
            arns.add(f"arn:{p}:kms:{region}:{account}:key/{key}")
    out = []
    if arns:
        out.append({"Sid": sid, "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": sorted(arns)})
    if aliases:  # a key named by its alias: IAM matches the key through the alias condition
        out.append({"Sid": sid + "ByAlias", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": ["*"],
                    "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": sorted(aliases)}}})
    return out


def iam_policy(*, account: str = "*", region: str = "*", database: str = defaults.DATABASE,
               workgroup: str = defaults.WORKGROUP,
               log_locations: Sequence[str] = ("s3://*/",), results_location: str | None = None,
               inventory_location: str | None = None, kms_keys: Sequence[str] | None = None,
               role_name: str = "*") -> dict:
    """The least-privilege IAM policy document for flowsql (`flowsql iam-policy`).

    Statements are grouped by what needs them — `FlowsqlSetup…` for `flowsql setup`,
    `FlowsqlQuery…` for `flowsql query --engine athena` (and `report` on Athena), `FlowsqlInventory…`
    for `inventory sync [--upload]`, `FlowsqlSchedule…` for `schedule … --target eventbridge` — so
    an operator can hand the query statements alone to analysts. `log_locations`
    are the flow-log folders (`s3://bucket/prefix/` or its `AWSLogs/`); the results and inventory
    locations default to setup's (the results bucket's `results/` and `inventory/`); unknown values
    stay wildcards. The ARN partition is the region's (`aws-cn`, `aws-us-gov`, …). `kms_keys` are the
    SSE-KMS keys of the flow-log buckets (None: not known; see `_kms_statements`).
    `FlowsqlInventorySync…` is built from what the posture checks declare (`inventory_sync_actions`);
    `FlowsqlPull…` is for `flowsql pull`; `FlowsqlInvestigate…` for `flowsql investigate` on Athena.
    `role_name`: the role `inventory sync --role-name` assumes in each account (any, by default).
    """
    from .tree_sync import ASSUME_IAM_ACTIONS, ORGANIZATION_IAM_ACTIONS

    p = partition_for_region(region) if region != "*" else "aws"
    rb = results_bucket_name(account, region) if "*" not in (account, region) else (
        defaults.RESULTS_BUCKET.split("{", 1)[0] + "*")  # any account's, any region's
    results_bucket, results_key = _s3_parts(results_location or f"s3://{rb}/{RESULTS_PREFIX}")
    inventory_bucket, inventory_key = _s3_parts(inventory_location or f"s3://{rb}/{INVENTORY_PREFIX}")
    catalog = f"arn:{p}:glue:{region}:{account}:catalog"
    db_arn = f"arn:{p}:glue:{region}:{account}:database/{database}"
    tables_arn = f"arn:{p}:glue:{region}:{account}:table/{database}/*"
    wg_arn = f"arn:{p}:athena:{region}:{account}:workgroup/{workgroup}"
    log_buckets, log_objects, log_prefixes = [], [], []
    for loc in log_locations:
        b, k = _s3_parts(loc)
        if not k.endswith("AWSLogs/"):
            k += "AWSLogs/"
        log_buckets.append(f"arn:{p}:s3:::{b}")
        log_objects.append(f"arn:{p}:s3:::{b}/{k}*")
        # before setup (any bucket), pull's --bucket may name any prefix above AWSLogs/
        log_prefixes.append(f"*{k}*" if b == "*" else f"{k}*")
    log_buckets = sorted(set(log_buckets))
    results_arn = f"arn:{p}:s3:::{results_bucket}"
    results_objects = f"{results_arn}/{results_key}*"
    inventory_arn = f"arn:{p}:s3:::{inventory_bucket}"
    inventory_objects = f"{inventory_arn}/{inventory_key}*"

    def stmt(sid: str, actions: list[str], resources: list[str]) -> dict:
        return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}

    sync_actions = inventory_sync_actions()

    statements = [
            stmt("FlowsqlSetupDiscoverFlowLogs", ["ec2:DescribeFlowLogs"], ["*"]),
            stmt("FlowsqlSetupReadFlowLogBuckets", ["s3:ListBucket", "s3:GetBucketLocation",
                                                    "s3:GetEncryptionConfiguration"], log_buckets),
            stmt("FlowsqlSetupReadFlowLogHeaders", ["s3:GetObject"], sorted(set(log_objects))),
            *_kms_statements("FlowsqlSetupDecryptFlowLogs", p, account, region, kms_keys),
            stmt("FlowsqlSetupResultsBucket",
                 ["s3:CreateBucket", "s3:ListBucket", "s3:GetBucketLocation", "s3:PutBucketPublicAccessBlock",
                  "s3:GetBucketPublicAccessBlock", "s3:PutEncryptionConfiguration",
                  "s3:GetEncryptionConfiguration", "s3:PutLifecycleConfiguration",
                  "s3:GetLifecycleConfiguration"], [results_arn]),
            stmt("FlowsqlSetupGlue",
                 ["glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:GetTables",
                  "glue:CreateTable", "glue:UpdateTable"], [catalog, db_arn, tables_arn]),
            stmt("FlowsqlSetupAthena",
                 ["athena:GetWorkGroup", "athena:CreateWorkGroup", "athena:UpdateWorkGroup",
                  "athena:ListNamedQueries", "athena:GetNamedQuery", "athena:CreateNamedQuery",
                  "athena:UpdateNamedQuery"], [wg_arn]),
            stmt("FlowsqlQueryAthena",
                 ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                  "athena:StopQueryExecution", "athena:GetWorkGroup"], [wg_arn]),
            stmt("FlowsqlQueryGlue", ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"],
                 [catalog, db_arn, tables_arn]),
            stmt("FlowsqlQueryReadFlowLogs", ["s3:GetObject"], sorted(set(log_objects))),
            stmt("FlowsqlQueryListFlowLogs", ["s3:ListBucket", "s3:GetBucketLocation"], log_buckets),
            *_kms_statements("FlowsqlQueryDecryptFlowLogs", p, account, region, kms_keys),
            stmt("FlowsqlQueryResultsBucket", ["s3:ListBucket", "s3:GetBucketLocation"],
                 sorted({results_arn, inventory_arn})),
            stmt("FlowsqlQueryResults",
                 ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                 [results_objects]),
            stmt("FlowsqlQueryInventory", ["s3:GetObject"], [inventory_objects]),
            stmt("FlowsqlInventorySync", [a for a in sync_actions if not a.startswith("s3:")], ["*"]),
            # --organization and --accounts: list the organization's accounts, enter each through
            # the role (`--for inventory-role` is that role's policy, `--for inventory-trust` its trust)
            stmt("FlowsqlInventoryOrganization", list(ORGANIZATION_IAM_ACTIONS), ["*"]),
            stmt("FlowsqlInventoryAssumeRole", list(ASSUME_IAM_ACTIONS), [f"arn:{p}:iam::*:role/{role_name}"]),
            # the flow-log buckets' settings (lifecycle, encryption, public access): the buckets
            # setup found, or any bucket before setup (sync finds them through DescribeFlowLogs)
            stmt("FlowsqlInventorySyncBuckets", [a for a in sync_actions if a.startswith("s3:")], log_buckets),
            stmt("FlowsqlInventoryUpload", ["s3:PutObject"], [inventory_objects]),
            stmt("FlowsqlInventoryTables", ["glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable",
                                            "glue:GetTables", "glue:CreateTable", "glue:UpdateTable"],
                 [catalog, db_arn, tables_arn]),
            *_schedule_statements(stmt, p, account, region),
            *_pull_statements(p, account, region, log_buckets, log_objects, log_prefixes, kms_keys),
    ]
    return {"Version": "2012-10-17", "Statement": statements + _investigate_statements(statements)}


def _investigate_statements(statements: list[dict]) -> list[dict]:
    """`flowsql investigate` on Athena runs one pack query (case-address, case-cidr or case-eni) as
    `flowsql query` does, and reads the inventory from local files: the query statements but the
    inventory tables' (`FlowsqlQueryInventory`), named `FlowsqlInvestigate…`."""
    return [{**s, "Sid": "FlowsqlInvestigate" + s["Sid"].removeprefix("FlowsqlQuery")} for s in statements
            if s["Sid"].startswith("FlowsqlQuery") and s["Sid"] != "FlowsqlQueryInventory"]


def _schedule_statements(stmt, p: str, account: str, region: str) -> list[dict]:
    """`flowsql schedule install|list|remove --target eventbridge`: the schedule, the CodeBuild project
    and the two IAM roles it creates, reads, updates and deletes, all named flowsql-report…
    (flowsql.schedule.eventbridge), and the roles it hands to CodeBuild and to Scheduler
    (iam:PassRole, each to its own service only). The other targets call no AWS API."""
    named = defaults.SCHEDULE_PREFIX
    roles = f"arn:{p}:iam::{account}:role/{named}*"
    passed = [("Build", f"{roles}-codebuild", "codebuild.amazonaws.com"),
              ("Scheduler", f"{roles}-scheduler", "scheduler.amazonaws.com")]
    out = [
        stmt("FlowsqlScheduleRoles",
             ["iam:GetRole", "iam:CreateRole", "iam:TagRole", "iam:GetRolePolicy", "iam:PutRolePolicy",
              "iam:UpdateAssumeRolePolicy", "iam:ListRolePolicies", "iam:DeleteRolePolicy",
              "iam:ListAttachedRolePolicies", "iam:DetachRolePolicy", "iam:DeleteRole"], [roles]),
    ]
    for what, role, service in passed:
        out.append({**stmt(f"FlowsqlSchedulePass{what}Role", ["iam:PassRole"], [role]),
                    "Condition": {"StringEquals": {"iam:PassedToService": service}}})
    out += [
        stmt("FlowsqlScheduleProject",
             ["codebuild:BatchGetProjects", "codebuild:CreateProject", "codebuild:UpdateProject",
              "codebuild:DeleteProject"], [f"arn:{p}:codebuild:{region}:{account}:project/{named}*"]),
        stmt("FlowsqlScheduleListProjects", ["codebuild:ListProjects"], ["*"]),
        # list reads a flowsql schedule in any group; install and remove touch the default group's
        stmt("FlowsqlScheduleRead", ["scheduler:GetSchedule"],
             [f"arn:{p}:scheduler:{region}:{account}:schedule/*/{named}*"]),
        stmt("FlowsqlScheduleSchedule",
             ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
             [f"arn:{p}:scheduler:{region}:{account}:schedule/default/{named}*"]),
        stmt("FlowsqlScheduleListSchedules", ["scheduler:ListSchedules"], ["*"]),
    ]
    return out


def _pull_statements(p: str, account: str, region: str, log_buckets: list[str], log_objects: list[str],
                     log_prefixes: list[str], kms_keys: Sequence[str] | None) -> list[dict]:
    """`flowsql pull`: discovery (DescribeFlowLogs), listing only below the flow-log prefixes (the
    `s3:prefix` condition: pull never lists a bucket whole), reading the objects (and their SSE-KMS
    keys through S3), and a log group's streams and events."""
    return [
        {"Sid": "FlowsqlPullDiscoverFlowLogs", "Effect": "Allow", "Action": ["ec2:DescribeFlowLogs"], "Resource": ["*"]},
        {"Sid": "FlowsqlPullListFlowLogs", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": log_buckets,
         "Condition": {"StringLike": {"s3:prefix": sorted(set(log_prefixes))}}},
        {"Sid": "FlowsqlPullReadFlowLogs", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": sorted(set(log_objects))},
        *_kms_statements("FlowsqlPullDecryptFlowLogs", p, account, region, kms_keys),
        {"Sid": "FlowsqlPullCloudWatchLogs", "Effect": "Allow",
         "Action": ["logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:FilterLogEvents"],
         "Resource": [f"arn:{p}:logs:{region}:{account}:log-group:*"]},
    ]


def iam_policy_for(config: Config | None, role_name: str = "*") -> dict:
    """`iam_policy()` for what setup recorded (tables, workgroup, results bucket); wildcards without it."""
    if config is None:
        return iam_policy(role_name=role_name)
    # a table whose bucket's encryption setup could not read (or an older config) leaves the keys unknown
    known = config.tables and all(t.sse is not None for t in config.tables)
    keys = sorted({t.kms_key for t in config.tables if t.kms_key and (t.sse or "").startswith("aws:kms")})
    return iam_policy(account=config.account or "*", region=config.region, database=config.database,
                      workgroup=config.workgroup, log_locations=[t.location for t in config.tables] or ("s3://*/",),
                      results_location=config.results_location, inventory_location=config.inventory_location,
                      kms_keys=keys if known else None, role_name=role_name)
