"""Running every check over a snapshot: the rows, checked for shape and sorted."""

from __future__ import annotations

from ..errors import FlowsqlError
from .model import NOT_EVALUATED, STATUSES, CheckResult
from .checks import discover
from .facts import Facts


def sort_key(r: CheckResult) -> tuple:
    return (r.check, r.account or "", r.region or "", r.vpc or "", r.resource)


def evaluate(snapshot, policy) -> list[CheckResult]:
    """Every check's rows, sorted by check, account, region, VPC and resource."""
    facts = Facts(snapshot, policy)
    rows: list[CheckResult] = []
    for check in discover():
        for r in check.run(facts):
            # "not evaluated" is the tree's word for what the sync could not read, never a check's
            if not isinstance(r, CheckResult) or r.check != check.meta.id or r.status not in STATUSES \
                    or r.status == NOT_EVALUATED or not r.resource or not isinstance(r.reason, str):
                raise FlowsqlError(f"posture check {check.meta.id}: a malformed row {r!r}")
            rows.append(r)
    return sorted(rows, key=sort_key)
