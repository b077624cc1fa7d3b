"""The network configuration `diagnose` evaluates, read back from the inventory folder nearest a diagnosis's
records: the latest inventory or a dated snapshot, as `inventory sync` writes them
(flowsql/account/configuration_sync.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from ..inventory.documents import CONFIGURATION_FILES, PREFIX_LIST_FILE, PREFIX_LISTS, _DATED, read_document


@dataclass
class ConfigurationSnapshot:
    """The configuration of one inventory folder: `day` is the dated snapshot's, or for the latest
    (undated) folder the day its files were written; `configuration` the evaluator's input."""

    folder: Path
    day: date
    dated: bool
    configuration: object  # diagnose.path.Configuration
    prefix_lists: tuple[str, ...] = ()


def _complete(folder: Path) -> bool:
    # lexists: a named pipe or a link to nothing there is read, and refused by name, never passed over
    return all(os.path.lexists(folder / name) for name in (*CONFIGURATION_FILES, "network-interfaces.json"))


def candidates(directory: Path) -> list[tuple[date, bool, Path]]:
    """The folders that hold a whole configuration: (day, dated, folder), the dated snapshots by
    their name's day, the latest by the day its files were last written."""
    directory = Path(directory)
    out = []
    for p in sorted(directory.iterdir()) if directory.is_dir() else ():
        if p.is_dir() and not p.is_symlink() and _DATED.fullmatch(p.name) and _complete(p):
            try:
                out.append((date.fromisoformat(p.name), True, p))
            except ValueError:
                continue
    if _complete(directory):
        written = max(os.lstat(directory / n).st_mtime for n in CONFIGURATION_FILES)
        out.append((datetime.fromtimestamp(written, timezone.utc).date(), False, directory))
    return out


def nearest(found: list[tuple[date, bool, Path]], first: date, last: date):
    """The folder nearest the days [first, last] (the records', or the window's): of those dated
    inside them, the latest; else the nearest before or after, the one before on a tie (the
    configuration in force when the records were written). A dated snapshot stands before the
    latest folder of the same day (sync writes the two alike)."""
    if not found:
        return None
    inside = [c for c in found if first <= c[0] <= last]
    if inside:
        return max(inside, key=lambda c: (c[0], c[1]))

    def gap(c):
        return (first - c[0]).days if c[0] < first else (c[0] - last).days

    return min(found, key=lambda c: (gap(c), c[0] > last, not c[1]))


def load_configuration(directory: Path, first: date, last: date) -> ConfigurationSnapshot | None:
    """The configuration nearest the days [first, last], or None where no folder holds one (then
    `diagnose` reads no configuration). A document in the wrong shape is a SourceError naming it."""
    from ..errors import SourceError
    from ..inventory.documents import FILES
    from .path import Configuration

    try:
        found = candidates(directory)
    except OSError as e:
        raise SourceError(f"inventory folder {directory}: {e.strerror or e}") from None
    pick = nearest(found, first, last)
    if pick is None:
        return None
    day, dated, folder = pick
    docs = {}
    for name, key in {**FILES, **CONFIGURATION_FILES}.items():
        path = folder / name
        docs[key] = read_document(path, key) if os.path.lexists(path) else []
    entries = {}
    lists = folder / PREFIX_LISTS
    if lists.is_dir() and not lists.is_symlink():
        for f in sorted(lists.iterdir()):
            if PREFIX_LIST_FILE.fullmatch(f.name):
                entries[f.name.removesuffix(".json")] = read_document(f, "Entries")
    try:
        cfg = Configuration(network_interfaces=docs["NetworkInterfaces"], subnets=docs["Subnets"], vpcs=docs["Vpcs"],
                            security_groups=docs["SecurityGroups"], network_acls=docs["NetworkAcls"],
                            route_tables=docs["RouteTables"], prefix_list_entries=entries)
    except (AttributeError, TypeError, KeyError) as e:  # a field of the wrong JSON type somewhere inside
        raise SourceError(f"inventory folder {folder}: not in the AWS CLI's shapes ({e})") from None
    return ConfigurationSnapshot(folder, day, dated, cfg, tuple(entries))


def snapshot_json(snapshot: ConfigurationSnapshot) -> dict:
    return {"folder": str(snapshot.folder), "day": snapshot.day.isoformat(),
            "dated": snapshot.dated, "prefix_lists": list(snapshot.prefix_lists)}

