"""The network configuration `diagnose` evaluates: the account's security groups, network ACLs and
route tables, and the prefix lists they name, written by `inventory sync` as the AWS CLI prints them
(security-groups.json, network-acls.json, route-tables.json, prefix-lists/pl-….json), in the latest
inventory and in the dated snapshot, and read back from the snapshot nearest a diagnosis's records.

A describe call that fails (an IAM policy from before these files, say) loses only its own file: it
is removed (the latest and today's copy), so that no older file speaks for a configuration that may
have changed, and the failure is returned as a warning; the rest of the inventory is written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from ..inventory.documents import CONFIGURATION_FILES, PREFIX_LIST_FILE, PREFIX_LISTS, _DATED, read_document

# file -> (EC2 paginator, key, the call's largest MaxResults)
_SYNC = (
    ("security-groups.json", "describe_security_groups", "SecurityGroups", 1000),
    ("network-acls.json", "describe_network_acls", "NetworkAcls", 1000),
    ("route-tables.json", "describe_route_tables", "RouteTables", 100),
)
IAM_ACTIONS = ("ec2:DescribeSecurityGroups", "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables",
               "ec2:GetManagedPrefixListEntries")
_PREFIX_LIST_PAGE = 100  # GetManagedPrefixListEntries' largest MaxResults


@dataclass
class ConfigurationSync:
    counts: dict = field(default_factory=dict)  # file -> items written
    warnings: list = field(default_factory=list)  # files that could not be written, and why


def sync_configuration(aws, tree, day: date, *, page_size: int = 1000) -> ConfigurationSync:
    """Write the three documents and the prefix lists their rules and routes name into the inventory
    folder (`tree`: a files.Tree, so no link below it is followed or replaced) and its DAY/ folder
    (see the module doc). Each page is written as it arrives; each file atomically."""
    from ..aws import errors
    from .inventory_sync import _write_cli_json

    result = ConfigurationSync()
    ec2 = aws.client("ec2")
    named: set[str] = set()  # prefix lists a rule or a route names
    complete = True
    for name, operation, key, most in _SYNC:
        try:
            pages = ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": min(page_size, most)})
            result.counts[name] = _write_cli_json(tree, name, key, _noting_prefix_lists(
                (item for page in pages for item in page.get(key, [])), named))
        except errors() as e:
            complete = False
            for rel in (name, f"{day.isoformat()}/{name}"):
                _remove(tree, rel)
            result.warnings.append(_failed(e, f"ec2:{_camel(operation)}", f"{name} not written"))
    if complete:
        _sync_prefix_lists(ec2, tree, sorted(named), result)
    else:  # without the rules that name them, the lists speak for nothing
        _tidy_prefix_lists(tree, PREFIX_LISTS, keep=())
    _keep_dated(tree, day)
    return result


def _noting_prefix_lists(items, named: set):
    """The items, unchanged, noting the prefix lists a security-group rule or a route names."""
    for item in items:
        for side in ("IpPermissions", "IpPermissionsEgress"):
            for perm in item.get(side) or []:
                named.update(p["PrefixListId"] for p in perm.get("PrefixListIds") or [] if p.get("PrefixListId"))
        named.update(r["DestinationPrefixListId"] for r in item.get("Routes") or [] if r.get("DestinationPrefixListId"))
        yield item


def _sync_prefix_lists(ec2, tree, ids: list[str], result: ConfigurationSync) -> None:
    from ..aws import errors
    from .inventory_sync import _write_cli_json

    written = []
    for pl in ids:
        if not PREFIX_LIST_FILE.fullmatch(f"{pl}.json"):
            result.warnings.append(f"prefix list {pl!r}: not a prefix list id, not written")
            continue
        rel = f"{PREFIX_LISTS}/{pl}.json"
        try:
            pages = ec2.get_paginator("get_managed_prefix_list_entries").paginate(
                PrefixListId=pl, PaginationConfig={"PageSize": _PREFIX_LIST_PAGE})
            _write_cli_json(tree, rel, "Entries", (e for page in pages for e in page.get("Entries", [])))
            written.append(f"{pl}.json")
        except errors() as e:
            _remove(tree, rel)
            result.warnings.append(_failed(e, "ec2:GetManagedPrefixListEntries",
                                           f"{rel} not written (rules naming {pl} are unknown)"))
    if written:
        result.counts[f"{PREFIX_LISTS}/"] = len(written)
    _tidy_prefix_lists(tree, PREFIX_LISTS, keep=written)


def _list_files(tree, folder: str) -> list[str]:
    """The prefix-list files (pl-….json) in `folder`, links included: removing or copying one is then
    refused, never followed. A folder that is a link is refused too."""
    kind = tree.kind(folder)
    if kind == "link":
        raise tree.refusal(folder)
    if kind != "dir":
        return []
    return [n for n, k in tree.entries(folder) if PREFIX_LIST_FILE.fullmatch(n) and k in ("file", "link")]


def _tidy_prefix_lists(tree, folder: str, keep) -> None:
    """Remove the list files no rule or route names any more (only flowsql's own: pl-….json files)."""
    for name in _list_files(tree, folder):
        if name not in keep:
            tree.remove(f"{folder}/{name}")


def _copy(tree, src: str, dst: str) -> None:
    if not tree.is_file(src):
        raise tree.refusal(src)
    with open(tree.path(src), encoding="utf-8") as f, tree.writer(dst) as out:
        shutil.copyfileobj(f, out)


def _keep_dated(tree, day: date) -> None:
    """Copy the configuration files there are into DAY/ (each copy atomic); the prefix lists too."""
    dated = day.isoformat()
    tree.mkdirs(dated)
    for name, _, _, _ in _SYNC:
        kind = tree.kind(name)
        if kind == "file":
            _copy(tree, name, f"{dated}/{name}")
        elif kind is not None:
            raise tree.refusal(name)
    names = _list_files(tree, PREFIX_LISTS)
    for name in names:
        _copy(tree, f"{PREFIX_LISTS}/{name}", f"{dated}/{PREFIX_LISTS}/{name}")
    _tidy_prefix_lists(tree, f"{dated}/{PREFIX_LISTS}", keep=names)


def _camel(operation: str) -> str:
    return "".join(w.capitalize() for w in operation.split("_"))


def _failed(e: BaseException, action: str, what: str) -> str:
    from ..aws import translate

    return f"{what}: {translate(e, action)}"


def _remove(tree, rel: str) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        tree.remove(rel)


# --- reading it back ------------------------------------------------------------------------------

@dataclass
class Snapshot:
    """The configuration of one inventory folder: `day` is the dated snapshot's, or for the latest
    (undated) folder the day its files were written; `configuration` the evaluator's input."""

    folder: Path
    day: date
    dated: bool
    configuration: object  # diagnose_path.Configuration
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


def load_configuration(directory: Path, first: date, last: date) -> Snapshot | None:
    """The configuration nearest the days [first, last], or None where no folder holds one (then
    `diagnose` reads no configuration). A document in the wrong shape is a SourceError naming it."""
    from ..diagnose.path import Configuration
    from ..inventory.documents import FILES

    from ..errors import SourceError

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
    return Snapshot(folder, day, dated, cfg, tuple(entries))


def to_json(snapshot: Snapshot) -> dict:
    return {"folder": str(snapshot.folder), "day": snapshot.day.isoformat(),
            "dated": snapshot.dated, "prefix_lists": list(snapshot.prefix_lists)}

