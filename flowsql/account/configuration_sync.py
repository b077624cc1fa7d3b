"""The network configuration `diagnose` evaluates: the account's security groups, network ACLs and
route tables, and the prefix lists they name, written by `inventory sync` as the AWS CLI prints them
(security-groups.json, network-acls.json, route-tables.json, prefix-lists/pl-….json), in the latest
inventory and in the dated snapshot (read back by flowsql/diagnose/configuration_snapshot.py).

A describe call that fails (an IAM policy from before these files, say) loses only its own file: it
is removed (the latest and today's copy), so that no older file speaks for a configuration that may
have changed, and the failure is returned as a warning; the rest of the inventory is written.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from datetime import date

from ..inventory.documents import PREFIX_LIST_FILE, PREFIX_LISTS

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
    from .cli_json import cli_operation, write_cli_json

    result = ConfigurationSync()
    ec2 = aws.client("ec2")
    named: set[str] = set()  # prefix lists a rule or a route names
    complete = True
    for name, operation, key, most in _SYNC:
        try:
            pages = ec2.get_paginator(operation).paginate(PaginationConfig={"PageSize": min(page_size, most)})
            result.counts[name] = write_cli_json(tree, name, key, _noting_prefix_lists(
                (item for page in pages for item in page.get(key, [])), named))
        except errors() as e:
            complete = False
            for rel in (name, f"{day.isoformat()}/{name}"):
                _remove(tree, rel)
            result.warnings.append(_failed(e, f"ec2:{cli_operation(operation)}", f"{name} not written"))
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
    from .cli_json import write_cli_json

    written = []
    for pl in ids:
        if not PREFIX_LIST_FILE.fullmatch(f"{pl}.json"):
            result.warnings.append(f"prefix list {pl!r}: not a prefix list id, not written")
            continue
        rel = f"{PREFIX_LISTS}/{pl}.json"
        try:
            pages = ec2.get_paginator("get_managed_prefix_list_entries").paginate(
                PrefixListId=pl, PaginationConfig={"PageSize": _PREFIX_LIST_PAGE})
            write_cli_json(tree, rel, "Entries", (e for page in pages for e in page.get("Entries", [])))
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


def _failed(e: BaseException, action: str, what: str) -> str:
    from ..aws import map_error

    return f"{what}: {map_error(e, action)}"


def _remove(tree, rel: str) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        tree.remove(rel)

