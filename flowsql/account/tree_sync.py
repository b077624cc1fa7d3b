"""`flowsql inventory sync --regions …/--accounts …/--organization`: one snapshot per account and
region (flowsql.inventory.tree has the layout and the manifest), each written by the single-snapshot
sync (.inventory_sync.sync) as it is.

Accounts: the caller's own, the ones named, or every ACTIVE account of the organization
(organizations:ListAccounts, from the management account or a delegated administrator); each one
but the caller's is entered by sts:AssumeRole into `arn:PARTITION:iam::ACCOUNT:role/ROLE_NAME` (with
the external id when one is given), the way Prowler and Steampipe walk an organization. Regions: the
ones named, or `all`: every region enabled for the account (ec2:DescribeRegions with AllRegions,
OptInStatus `opt-in-not-required` or `opted-in`; an opt-in region not enabled is listed as skipped).

An account that cannot be entered or whose regions cannot be listed, and a region whose snapshot
cannot be read (access denied by an SCP, say), is "not evaluated" with the reason in the manifest;
the others are still written. The options are checked (`check_tree_options`) before any AWS call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import AwsError, SourceError, UsageError
from ..inventory.tree import ACCOUNT, MANIFEST, REGION, manifest_document

# What the tree sync calls beyond a single snapshot's (SYNC_IAM_ACTIONS and the checks' own)
TREE_IAM_ACTIONS = ("ec2:DescribeRegions",)
ORGANIZATION_IAM_ACTIONS = ("organizations:ListAccounts",)
ASSUME_IAM_ACTIONS = ("sts:AssumeRole",)
ENABLED = ("opt-in-not-required", "opted-in")
SESSION_NAME = "flowsql-inventory-sync"
# IAM: a role name is 1-64 of these (a path before it: /a/b/); an external id 2-1224 of these
_ROLE_NAME = re.compile(r"^(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")


@dataclass(frozen=True)
class Plan:
    """The checked options: regions ("all" or names), accounts (names, or None: the caller's or the
    organization's), the role to assume."""

    regions: object  # "all" | tuple of region names | None (the caller's region)
    accounts: tuple[str, ...] | None = None
    organization: bool = False
    role_name: str | None = None
    external_id: str | None = None

    @property
    def is_tree(self) -> bool:
        return self.regions is not None or self.accounts is not None or self.organization


@dataclass
class TreeSync:
    """What the tree sync did: the manifest written, each snapshot's Synced, the entries not evaluated."""

    manifest: dict
    snapshots: dict = field(default_factory=dict)  # (account, region) -> inventory_sync.Synced
    not_evaluated: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def known_regions() -> set[str]:
    """Every region botocore's endpoint data names for EC2, in every partition (no AWS call)."""
    import boto3

    s = boto3.Session(region_name="us-east-1")
    return {r for p in s.get_available_partitions() for r in s.get_available_regions("ec2", partition_name=p)}


def check_role_name(role_name: str | None) -> None:
    if role_name is not None and not _ROLE_NAME.match(role_name):
        raise UsageError(f"--role-name {role_name!r}: not an IAM role name (1-64 letters, digits and +=,.@_-)")


def check_external_id(external_id: str | None) -> None:
    if external_id is not None and not _EXTERNAL_ID.match(external_id):
        raise UsageError("--external-id: 2 to 1224 letters, digits and +=,.@:/_- (IAM's ExternalId)")


def check_tree_options(*, regions: str | None, accounts: str | None, organization: bool, role_name: str | None,
                  external_id: str | None) -> Plan:
    """The options, checked before any AWS call: a UsageError (exit 2) for any that cannot be right."""
    if accounts is not None and organization:
        raise UsageError("--accounts and --organization: give one of them")
    if (accounts is not None or organization) and not role_name:
        raise UsageError(f"{'--organization' if organization else '--accounts'} needs --role-name NAME: the role "
                         "flowsql assumes in each account (e.g. OrganizationAccountAccessRole, or the one "
                         "`flowsql iam-policy --for inventory-role` describes)")
    if role_name is not None and accounts is None and not organization:
        raise UsageError("--role-name: give --accounts A,B or --organization as well")
    if external_id is not None and not role_name:
        raise UsageError("--external-id: give --role-name (and --accounts or --organization) as well")
    check_role_name(role_name)
    check_external_id(external_id)
    names = None
    if accounts is not None:
        names = tuple(dict.fromkeys(a.strip() for a in accounts.split(",") if a.strip()))
        if not names:
            raise UsageError("--accounts: empty value")
        bad = [a for a in names if not ACCOUNT.match(a)]
        if bad:
            raise UsageError(f"--accounts: {bad[0]!r} is not a 12-digit account id")
    wanted: object = None
    if regions is not None:
        if regions.strip() == "all":
            wanted = "all"
        else:
            listed = tuple(dict.fromkeys(r.strip() for r in regions.split(",") if r.strip()))
            if not listed:
                raise UsageError("--regions: empty value (all, or region names: eu-west-1,us-east-1)")
            known = known_regions()
            for r in listed:
                if not REGION.match(r) or r not in known:
                    raise UsageError(f"--regions: {r!r} is not a region name this flowsql knows (e.g. eu-west-1; "
                                     "or all)")
            wanted = listed
    return Plan(regions=wanted, accounts=names, organization=organization, role_name=role_name,
                external_id=external_id)


def _session(aws, account: str, credentials: dict | None):
    """An Aws for one account, as the caller or with an assumed role's credentials (`.at(region)`
    for each region)."""
    import boto3

    from ..aws import Aws

    if credentials is None:
        return aws.at(aws.region, account)
    return Aws(boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                             aws_secret_access_key=credentials["SecretAccessKey"],
                             aws_session_token=credentials["SessionToken"], region_name=aws.region), _account=account)


def organization_accounts(aws) -> list[str]:
    """The organization's ACTIVE accounts (ListAccounts, every page)."""
    from ..aws import aws_errors

    found = []
    with aws_errors("inventory: organizations:ListAccounts (from the management account or a delegated "
                    "administrator)"):
        for page in aws.client("organizations").get_paginator("list_accounts").paginate():
            for a in page.get("Accounts", []):
                status = a.get("Status") or a.get("State")
                if status == "ACTIVE" and ACCOUNT.match(str(a.get("Id") or "")):
                    found.append(a["Id"])
    return sorted(set(found))


def role_arn(partition: str, account: str, role_name: str) -> str:
    path, _, name = role_name.rpartition("/")
    return f"arn:{partition}:iam::{account}:role/{path + '/' if path else ''}{name}"


def assume(aws, arn: str, external_id: str | None) -> dict:
    """The role's temporary credentials (an AwsError saying why it cannot be assumed)."""
    from ..aws import aws_errors

    kw = {"ExternalId": external_id} if external_id else {}
    with aws_errors(f"sts:AssumeRole {arn}"):
        return aws.client("sts").assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME, **kw)["Credentials"]


def enabled_regions(aws, partition: str) -> tuple[list[str], list[dict]]:
    """(the regions enabled for the account, the opt-in ones not enabled with their status), of the
    caller's partition."""
    from ..aws import aws_errors, partition_for_region

    with aws_errors("ec2:DescribeRegions"):
        regions = aws.client("ec2").describe_regions(AllRegions=True).get("Regions", [])
    enabled, skipped = [], []
    for r in regions:
        name = r.get("RegionName") or ""
        if not REGION.match(name) or partition_for_region(name) != partition:
            continue
        status = r.get("OptInStatus") or "opt-in-not-required"
        if status in ENABLED:
            enabled.append(name)
        else:
            skipped.append({"region": name, "opt_in_status": status})
    return sorted(set(enabled)), sorted(skipped, key=lambda s: s["region"])


def _tidy(tree, account: str, region: str) -> None:
    """Remove the folders a region that could not be read left empty (an earlier snapshot stays: the
    manifest no longer lists it, so nothing reads it)."""
    import contextlib

    for rel in (f"{account}/{region}", account):
        with contextlib.suppress(OSError):
            tree.rmdir(rel)


def sync_tree(aws, out_dir: Path, plan: Plan, *, page_size: int | None = None, today: date | None = None,
              progress=lambda text: None) -> TreeSync:
    """Write DIR/ACCOUNT/REGION/ for every account and region of the plan, then DIR/manifest.json
    (atomically, last: an interrupted sync leaves the last manifest, which lists only what it wrote)."""
    from ..aws import partition_for_region
    from ..files import Refused, Tree, dumps_json
    from .inventory_sync import DEFAULT_PAGE_SIZE, sync

    out = Path(out_dir)
    try:
        tree = Tree(out, create=True)
    except OSError as e:
        raise SourceError(f"cannot write the inventory to {out}: {e.strerror or e}") from None
    partition = partition_for_region(aws.region)
    caller = aws.account
    if plan.organization:
        progress("listing the organization's accounts")
        accounts = organization_accounts(aws)
    else:
        accounts = list(plan.accounts or (caller,))
    result = TreeSync(manifest={})
    entries = []
    for account in accounts:
        credentials, access = None, "caller"
        if account != caller:
            arn = role_arn(partition, account, plan.role_name)
            access = arn
            try:
                progress(f"assuming {arn}")
                credentials = assume(aws, arn, plan.external_id)
            except AwsError as e:
                result.not_evaluated.append({"account": account, "region": None,
                                             "reason": f"the role cannot be assumed: {e}"})
                continue
        session = _session(aws, account, credentials)
        if plan.regions == "all":
            try:
                enabled, skipped = enabled_regions(session, partition)
            except AwsError as e:
                result.not_evaluated.append({"account": account, "region": None,
                                             "reason": f"its regions cannot be listed: {e}"})
                continue
        else:
            enabled, skipped = list(plan.regions or (aws.region,)), []
        done = []
        for region in enabled:
            progress(f"reading {account} {region}")
            try:
                synced = sync(session.at(region), out / account / region,
                              page_size=page_size or DEFAULT_PAGE_SIZE, today=today)
            except AwsError as e:
                result.not_evaluated.append({"account": account, "region": region, "reason": str(e)})
                _tidy(tree, account, region)
                continue
            result.snapshots[(account, region)] = synced
            result.warnings += [{"account": account, "region": region, "warning": w} for w in synced.warnings]
            done.append(region)
        result.skipped += [{"account": account, **s} for s in skipped]
        entries.append({"account": account, "access": access, "regions": done, "skipped_regions": skipped})
    result.manifest = manifest_document(plan.regions if plan.regions is not None else [aws.region], entries,
                                        result.not_evaluated, result.warnings)
    try:
        tree.write(MANIFEST, dumps_json(result.manifest, what=str(out / MANIFEST), indent=2) + "\n")
    except (Refused, OSError) as e:
        raise SourceError(f"cannot write {out / MANIFEST}: {e.strerror or e}") from None
    return result
