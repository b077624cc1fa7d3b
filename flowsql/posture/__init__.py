"""Posture: is flow logging designed and working? Checks over a snapshot of an account's settings.

The snapshot is an inventory folder (see `flowsql.inventory`) plus the flow logs, their CloudWatch
Logs groups and their S3 buckets' settings, every file in the AWS CLI's own output shape
(docs/posture.md lists them). A check is one module of `flowsql.posture.checks`, found by discovery:
its `META` (a `CheckMeta`) and a pure function `run(facts)` of the snapshot and the policy that
yields `CheckResult`s, all of one shape, so a report can treat every check alike.

This is the interface the CLI and the monthly report build on:

    load_snapshot(directory) -> Snapshot     UsageError (exit 2) naming the file if missing/malformed
    load_policy(path=None)   -> Policy       the shipped defaults, a user's file merged over them
    all_checks()             -> [CheckMeta]
    evaluate(snapshot, policy) -> [CheckResult]   sorted by check, account, region, vpc, resource
    design_sheet(snapshot, policy) -> [dict]      one per VPC: class, destinations, retention, cost
    has_snapshot(directory)  -> bool             does the folder hold posture files (flow-logs.json)?
"""

from __future__ import annotations

from .model import COLUMNS, SEVERITIES, STATUSES, CheckMeta, CheckResult


def load_snapshot(directory):
    from .snapshot import load_snapshot as _load

    return _load(directory)


def has_snapshot(directory) -> bool:
    from .snapshot import has_snapshot as _has

    return _has(directory)


def load_policy(path=None):
    from .policy import load_policy as _load

    return _load(path)


def all_checks() -> list[CheckMeta]:
    from .checks import discover

    return [c.meta for c in discover()]


def evaluate(snapshot, policy) -> list[CheckResult]:
    from .evaluation import evaluate as _evaluate

    return _evaluate(snapshot, policy)


def design_sheet(snapshot, policy) -> list[dict]:
    from .design import design_sheet as _design_sheet

    return _design_sheet(snapshot, policy)


__all__ = ["COLUMNS", "STATUSES", "SEVERITIES", "CheckMeta", "CheckResult", "all_checks", "design_sheet", "evaluate",
           "has_snapshot", "load_policy", "load_snapshot"]
