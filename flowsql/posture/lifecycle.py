"""What an S3 lifecycle configuration does to the objects under one key prefix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Effective:
    rules: tuple[str, ...]  # ids of the enabled rules that cover the prefix
    expire_days: int | None  # the earliest Expiration.Days of those rules (S3 applies the earliest)
    expire_date: str | None  # an Expiration.Date, if a covering rule has one
    archive: tuple[int, str] | None  # the earliest (Days, StorageClass) transition to an archive class

    def describe(self) -> str:
        parts = []
        if self.archive:
            parts.append(f"to {self.archive[1]} after {self.archive[0]} days")
        if self.expire_days is not None:
            parts.append(f"expire after {self.expire_days} days")
        elif self.expire_date:
            parts.append(f"expire on {self.expire_date}")
        else:
            parts.append("never expire")
        return ", ".join(parts)


def rule_prefix(rule: dict) -> str | None:
    """The key prefix a rule applies to; None when it filters on tags or sizes (flow-log objects carry
    no tags, and their sizes vary, so such a rule does not reliably cover them)."""
    if "Filter" in rule:
        f = rule.get("Filter") or {}
        if f.get("Tag") or "ObjectSizeGreaterThan" in f or "ObjectSizeLessThan" in f:
            return None
        if "And" in f:
            a = f.get("And") or {}
            if a.get("Tags") or "ObjectSizeGreaterThan" in a or "ObjectSizeLessThan" in a:
                return None
            return a.get("Prefix") or ""
        return f.get("Prefix") or ""
    return rule.get("Prefix") or ""  # a legacy rule: a top-level Prefix


def effective_lifecycle(lifecycle: dict, key_prefix: str, archive_classes) -> Effective:
    """The enabled rules whose prefix covers every object under `key_prefix`, combined."""
    ids, expiries, dates, archive = [], [], [], []
    for i, rule in enumerate(lifecycle.get("Rules") or []):
        prefix = rule_prefix(rule)
        if rule.get("Status") != "Enabled" or prefix is None or not key_prefix.startswith(prefix):
            continue
        ids.append(rule.get("ID") or f"rule {i + 1}")
        exp = rule.get("Expiration") or {}
        if exp.get("Days") is not None:
            expiries.append(exp["Days"])
        if exp.get("Date"):
            dates.append(exp["Date"])
        transitions = list(rule.get("Transitions") or []) + ([rule["Transition"]] if rule.get("Transition") else [])
        for t in transitions:
            if (t.get("StorageClass") or "").upper() in archive_classes and t.get("Days") is not None:
                archive.append((t["Days"], t["StorageClass"].upper()))
    expire = min(expiries) if expiries else None
    moved = min(archive) if archive else None
    if moved is not None and expire is not None and moved[0] >= expire:
        moved = None  # expired before it would move
    return Effective(tuple(ids), expire, min(dates) if dates else None, moved)
