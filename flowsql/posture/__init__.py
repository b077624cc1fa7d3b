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

Over one snapshot or a tree of them, one per account and region (flowsql.inventory.tree):

    has_snapshots(directory) -> bool             a tree's manifest.json, or a snapshot
    load_snapshots(directory) -> Snapshots       every snapshot, with its account and region
    evaluate_snapshots(snaps, policy) -> [CheckResult]   with a "not evaluated" row per account or
                                                         region the sync could not read
    design_snapshots(snaps, policy) -> [dict]    one per VPC of every account and region
"""

from __future__ import annotations

from .model import COLUMNS, NOT_EVALUATED, SEVERITIES, STATUSES, CheckMeta, CheckResult


def load_snapshot(directory):
    from .snapshot import load_snapshot as _load

    return _load(directory)


def has_snapshot(directory) -> bool:
    from .snapshot import has_snapshot as _has

    return _has(directory)


def has_snapshots(directory) -> bool:
    from .tree import has_snapshots as _has

    return _has(directory)


def load_snapshots(directory):
    from .tree import load_snapshots as _load

    return _load(directory)


def evaluate_snapshots(snaps, policy) -> list[CheckResult]:
    from .tree import evaluate_snapshots as _evaluate

    return _evaluate(snaps, policy)


def design_snapshots(snaps, policy) -> list[dict]:
    from .tree import design_snapshots as _design

    return _design(snaps, policy)


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


__all__ = ["COLUMNS", "NOT_EVALUATED", "STATUSES", "SEVERITIES", "CheckMeta", "CheckResult", "all_checks",
           "design_sheet", "design_snapshots", "evaluate", "evaluate_snapshots", "has_snapshot", "has_snapshots",
           "load_policy", "load_snapshot", "load_snapshots"]
