"""What a posture check is and what it yields: one shape for every check, so that the report and the
CLI treat every check alike (flowsql.posture re-exports these)."""

from __future__ import annotations

from dataclasses import dataclass

NOT_EVALUATED = "not evaluated"  # an account or region of an inventory tree the sync could not read: never ok
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
