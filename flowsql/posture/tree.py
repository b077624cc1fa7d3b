"""Posture over an inventory: one snapshot (as `inventory sync --out DIR` writes it) or a tree of them,
one per account and region (flowsql.inventory.tree). Each snapshot is evaluated on its own; every row
and every design-sheet entry carries its account and region (the tree's, where the documents name
none), and an account or region the sync could not read is a "not evaluated" row: never ok, and the
run exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .model import NOT_EVALUATED, CheckResult

NOT_EVALUATED_CHECK = "inventory_sync"  # the rows of what the sync could not read


@dataclass(frozen=True)
class Part:
    """One snapshot and where it is from (None, None: a single snapshot, its documents say)."""

    account: str | None
    region: str | None
    snapshot: object  # flowsql.posture.snapshot.Snapshot


@dataclass(frozen=True)
class Snapshots:
    directory: Path
    parts: tuple[Part, ...]
    not_evaluated: tuple[dict, ...] = ()  # {"account", "region" (None: the whole account), "reason"}
    skipped: tuple[dict, ...] = ()  # opt-in regions not enabled: {"account", "region", "opt_in_status"}
    tree: bool = False

    @property
    def taken(self) -> datetime | None:
        """When the oldest snapshot was written (None: the tree holds none)."""
        return min((p.snapshot.taken for p in self.parts), default=None)


def has_snapshots(directory) -> bool:
    from ..inventory.tree import is_tree
    from .snapshot import has_snapshot

    return is_tree(directory) or has_snapshot(directory)


def load_snapshots(directory) -> Snapshots:
    """A single snapshot, or every snapshot the tree's manifest lists (a SourceError, exit 2, names
    a file that is missing or malformed)."""
    from ..inventory.tree import is_tree, read_manifest
    from .snapshot import load_snapshot

    directory = Path(directory)
    if not is_tree(directory):
        return Snapshots(directory, (Part(None, None, load_snapshot(directory)),))
    m = read_manifest(directory)
    parts = tuple(Part(p.account, p.region, load_snapshot(p.directory)) for p in m.places)
    return Snapshots(directory, parts, m.not_evaluated, m.skipped, tree=True)


def _placed(row: CheckResult, part: Part) -> CheckResult:
    if part.account is None or (row.account and row.region):
        return row
    return CheckResult(check=row.check, resource=row.resource, status=row.status, reason=row.reason,
                       account=row.account or part.account, region=row.region or part.region, vpc=row.vpc)


def _not_evaluated_rows(inv: Snapshots) -> list[CheckResult]:
    return [CheckResult(check=NOT_EVALUATED_CHECK, resource=e["account"] + (f"/{e['region']}" if e["region"] else ""),
                        status=NOT_EVALUATED, reason=e["reason"], account=e["account"], region=e["region"], vpc=None)
            for e in inv.not_evaluated]


def evaluate_snapshots(inv: Snapshots, policy) -> list[CheckResult]:
    """Every snapshot's rows (each with its account and region) and a not-evaluated row for each
    account or region the sync could not read, sorted by check, account, region, VPC, resource."""
    from .evaluation import evaluate, sort_key

    rows = [_placed(r, part) for part in inv.parts for r in evaluate(part.snapshot, policy)]
    return sorted(rows + _not_evaluated_rows(inv), key=sort_key)


def design_snapshots(inv: Snapshots, policy) -> list[dict]:
    """Every snapshot's design sheet, one entry per VPC of every account and region. (The vended-logs
    tiers are priced per snapshot: an account's volume across its regions is not added up.)"""
    from .design import design_sheet

    out = []
    for part in inv.parts:
        for entry in design_sheet(part.snapshot, policy):
            if part.account is not None:
                entry = {**entry, "account": entry.get("account") or part.account,
                         "region": entry.get("region") or part.region}
            out.append(entry)
    return sorted(out, key=lambda e: (e.get("account") or "", e.get("region") or "", e["vpc"]))
