"""An inventory tree: one snapshot per account and region, and the manifest that says what is in it.

    DIR/manifest.json                  what the sync read, skipped and could not read (below)
    DIR/ACCOUNT/REGION/…               one snapshot, the same files as a single one (dated ones inside)

`flowsql inventory sync --regions …` or `--accounts …`/`--organization` writes it; without them a
sync writes one snapshot in DIR, as before. The manifest is the only index: a folder it does not
list (left from an earlier sync of an account that has since left the organization, say) is never
read, so it cannot speak for an account that is gone. manifest.json:

    {"format": "flowsql-inventory-tree/1",
     "regions": "all" | ["eu-west-1", …],            what was asked for
     "accounts": [{"account": "111122223333", "access": "caller" | "role ARN",
                   "regions": ["eu-west-1", …],       the snapshots written, DIR/ACCOUNT/REGION/
                   "skipped_regions": [{"region": "ap-east-1", "opt_in_status": "not-opted-in"}]}],
     "not_evaluated": [{"account": "…", "region": "…" | null, "reason": "…"}],
     "warnings": [{"account": "…", "region": "…", "warning": "…"}]}

An account that could not be read at all (a role that cannot be assumed, DescribeRegions denied) is
a not-evaluated entry without a region; a region that could not be read is one with its region.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError

MANIFEST = "manifest.json"
FORMAT = "flowsql-inventory-tree/1"
ACCOUNT = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2,4}(?:-[a-z]+)+-[0-9]{1,2}$")


@dataclass(frozen=True)
class Place:
    """One snapshot of the tree: an account's region and its folder."""

    account: str
    region: str
    directory: Path


@dataclass(frozen=True)
class Manifest:
    directory: Path
    document: dict
    places: tuple[Place, ...]
    not_evaluated: tuple[dict, ...]  # {"account", "region" (None: the whole account), "reason"}
    skipped: tuple[dict, ...]  # {"account", "region", "opt_in_status"}
    warnings: tuple[dict, ...]  # {"account", "region", "warning"}


def is_tree(directory) -> bool:
    """Does the folder hold an inventory tree (a manifest.json; anything by that name counts, for
    read_manifest to say what is wrong with it)?"""
    return os.path.lexists(Path(directory) / MANIFEST)


def read_manifest(directory) -> Manifest:
    """Read and check DIR/manifest.json; a SourceError (exit 2) names what is wrong."""
    from ..files import DocumentError, error_reason, read_json

    directory = Path(directory)
    path = directory / MANIFEST
    try:
        doc = read_json(path)
    except (DocumentError, OSError, ValueError) as e:
        raise SourceError(f"{path}: {error_reason(e)}") from None

    def bad(what: str):
        raise SourceError(f"{path}: {what} (not an inventory tree's manifest: `flowsql inventory sync --regions` "
                          "writes one)")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        bad(f"format is not {FORMAT!r}")
    accounts = doc.get("accounts")
    if not isinstance(accounts, list):
        bad("accounts must be a list")
    places, skipped = [], []
    for a in accounts:
        if not isinstance(a, dict) or not isinstance(a.get("account"), str) or not ACCOUNT.match(a["account"]):
            bad("an account entry without a 12-digit account")
        regions = a.get("regions")
        if not isinstance(regions, list) or not all(isinstance(r, str) and REGION.match(r) for r in regions):
            bad(f"account {a['account']}: regions must be a list of region names")
        for r in regions:
            folder = directory / a["account"] / r
            if not folder.is_dir() or folder.is_symlink():
                raise SourceError(f"{path} lists {a['account']}/{r}, but {folder} is no folder (run the sync again)")
            places.append(Place(a["account"], r, folder))
        for s in a.get("skipped_regions") or []:
            if not isinstance(s, dict) or not isinstance(s.get("region"), str):
                bad(f"account {a['account']}: a skipped region without a name")
            skipped.append({"account": a["account"], "region": s["region"],
                            "opt_in_status": str(s.get("opt_in_status") or "")})
    entries = doc.get("not_evaluated") or []
    warnings = doc.get("warnings") or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("account"), str)
                                                and isinstance(e.get("reason"), str)
                                                and (e.get("region") is None or isinstance(e["region"], str))
                                                for e in entries):
        bad("not_evaluated must be a list of {account, region, reason}")
    if not isinstance(warnings, list) or not all(isinstance(w, dict) and isinstance(w.get("warning"), str)
                                                 for w in warnings):
        bad("warnings must be a list of {account, region, warning}")
    seen = [(p.account, p.region) for p in places]
    if len(set(seen)) != len(seen):
        bad("an account and region listed twice")
    return Manifest(directory=directory, document=doc, places=tuple(sorted(places, key=lambda p: (p.account, p.region))),
                    not_evaluated=tuple({"account": e["account"], "region": e.get("region"), "reason": e["reason"]}
                                        for e in entries),
                    skipped=tuple(skipped),
                    warnings=tuple({"account": w.get("account"), "region": w.get("region"), "warning": w["warning"]}
                                   for w in warnings))


def manifest_document(regions, accounts: list[dict], not_evaluated: list[dict], warnings: list[dict]) -> dict:
    """The manifest as the sync writes it (see the module's doc)."""
    return {"format": FORMAT, "regions": regions if regions == "all" else list(regions),
            "accounts": accounts, "not_evaluated": not_evaluated, "warnings": warnings}
