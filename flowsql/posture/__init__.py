"""Posture: is flow logging designed and working? Checks over a snapshot of an account's settings.

The snapshot is an inventory folder (see `flowsql.inventory`) plus the flow logs, their CloudWatch
Logs groups and their S3 buckets' settings, every file in the AWS CLI's own output shape
(docs/posture.md lists them). A check is one module of `flowsql.posture.checks`, found by discovery:
its `META` (a `CheckMeta`) and a pure function `run(facts)` of the snapshot and the policy that
yields `CheckResult`s, all of one shape, so a report can treat every check alike.

This is the interface the CLI and the monthly report build on:

    load_snapshot(directory) -> Snapshot     UsageError (exit 2) naming the file if missing/malformed
    load_policy(path=None)   -> Policy       the shipped defaults, a user's file merged over them
    checks()                 -> [CheckMeta]
    evaluate(snapshot, policy) -> [CheckResult]   sorted by check, account, region, vpc, resource
    design_sheet(snapshot, policy) -> [dict]      one per VPC: class, destinations, retention, cost
    has_snapshot(directory)  -> bool             does the folder hold posture files (flow-logs.json)?

Over a tree of snapshots, one per account and region (flowsql.inventory.tree), or a single one:

    has_inventory(directory) -> bool             a tree's manifest.json, or a snapshot
    load_inventory(directory) -> PostureInventory
    evaluate_inventory(inv, policy) -> [CheckResult]   with a "not evaluated" row per account or
                                                       region the sync could not read
    design_inventory(inv, policy) -> [dict]      one per VPC of every account and region
"""

from __future__ import annotations

from dataclasses import dataclass

NOT_EVALUATED = "not evaluated"  # an account or region the sync could not read: never ok
STATUSES = ("ok", "alarm", "skip", "info", NOT_EVALUATED)
SEVERITIES = ("low", "medium", "high", "critical")
COLUMNS = ("check", "resource", "status", "reason", "account", "region", "vpc")


@dataclass(frozen=True)
class CheckResult:
    """One row: one check on one resource. `vpc` is the VPC the row is about, when it is about one."""

    check: str
    resource: str
    status: str  # "ok" | "alarm" | "skip" | "info" | "not evaluated"
    reason: str
    account: str | None
    region: str | None
    vpc: str | None

    def as_dict(self) -> dict:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass(frozen=True)
class CheckMeta:
    """What a check is: its id (= its module's name), what it asks, why, how to fix it, which
    compliance requirements it maps to (`FRAMEWORK:ID`), and the IAM actions its facts need."""

    id: str
    title: str
    severity: str  # low | medium | high | critical
    why: str
    remediation: str
    compliance: tuple[str, ...]
    iam_actions: tuple[str, ...]


# The checks live in the subpackage `checks`, whose import would set this package's `checks`
# attribute to the module; importing it first lets the function below take the name for good.
from . import checks as _checks_package  # noqa: E402  (nothing heavy: discovery is lazy)


def load_snapshot(directory):
    from .snapshot import load_snapshot as _load

    return _load(directory)


def has_snapshot(directory) -> bool:
    from .snapshot import has_snapshot as _has

    return _has(directory)


def has_inventory(directory) -> bool:
    from .tree import has_inventory as _has

    return _has(directory)


def load_inventory(directory):
    from .tree import load_inventory as _load

    return _load(directory)


def evaluate_inventory(inv, policy) -> list[CheckResult]:
    from .tree import evaluate_inventory as _evaluate

    return _evaluate(inv, policy)


def design_inventory(inv, policy) -> list[dict]:
    from .tree import design_inventory as _design

    return _design(inv, policy)


def load_policy(path=None):
    from .policy import load_policy as _load

    return _load(path)


def checks() -> list[CheckMeta]:
    from .checks import discover

    return [c.meta for c in discover()]


def evaluate(snapshot, policy) -> list[CheckResult]:
    from .evaluation import evaluate as _evaluate

    return _evaluate(snapshot, policy)


def design_sheet(snapshot, policy) -> list[dict]:
    from .design import design_sheet as _design_sheet

    return _design_sheet(snapshot, policy)


__all__ = ["COLUMNS", "NOT_EVALUATED", "STATUSES", "SEVERITIES", "CheckMeta", "CheckResult", "checks",
           "design_inventory", "design_sheet", "evaluate", "evaluate_inventory", "has_inventory", "has_snapshot",
           "load_inventory", "load_policy", "load_snapshot"]
