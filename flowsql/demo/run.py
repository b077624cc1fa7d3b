"""`flowsql demo`: a generated account's flow logs, queried on the local engine."""

from __future__ import annotations

import contextlib
import os
import sys
from datetime import date, timedelta
from pathlib import Path

from ..engines.local.engine import LocalEngine
from ..errors import UsageError
from ..files import Refused, Tree, dumps_json, sweep_temporary_folders, temporary_folder
from ..inventory import load_inventory
from ..output import to_text_table
from ..pack.params import Window
from ..pack.queries import get_query
from ..runner import run
from .generate import Scenario, demo_scenario, generate
from .generate_posture import SECOND_ACCOUNT, SECOND_REGION, write_inventory_tree

MARKER = ".flowsql-demo.json"


def _echo(message: str = "", err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout)


def _print_rows(columns, rows, title=None) -> None:
    print((title + "\n" if title else "") + to_text_table(columns, rows), end="")


# query -> the parameters the demo shows it with (short enough to read on one screen)
DEMO_QUERIES = {"top-destinations": {}, "rejects-by-subnet": {}, "lambda-egress": {"limit": "15"},
                "ecs-service-traffic": {}}


MIN_DAYS = 30  # the default covers the last whole month, and never less than this


def _month_ending_by(last: date) -> date:
    """The first day of the last calendar month that has ended by the end of `last`."""
    month_end = last if (last + timedelta(days=1)).day == 1 else last.replace(day=1) - timedelta(days=1)
    return month_end.replace(day=1)


def whole_month(start: date, days: int) -> str | None:
    """YYYY-MM of the last calendar month that the days from `start` (`days` of them) cover from
    its first day to its last, or None when they cover no whole month."""
    first = _month_ending_by(start + timedelta(days=days - 1))
    return first.strftime("%Y-%m") if first >= start else None


def default_days(today: date | None = None) -> int:
    """How many days the demo writes by default: from the first day of the last whole month by
    yesterday (UTC) through yesterday, at least 30, so that it always holds a whole month to report
    on (31 to 61 days)."""
    base = demo_scenario(today)
    last = base.start + timedelta(days=base.days - 1)
    return max(MIN_DAYS, (last - _month_ending_by(last)).days + 1)


def demo_month(today: date | None = None) -> str:
    """YYYY-MM of the last whole month the default demo covers: the month `make demo` reports on."""
    base = demo_scenario(today)
    days = default_days(today)
    month = whole_month(base.start + timedelta(days=base.days - days), days)
    assert month is not None  # default_days() reaches back to that month's first day
    return month


def written_month(directory: Path) -> str:
    """The last whole month of the demo tree in `directory`, from the record the demo wrote there
    (not from today's date: a run just after midnight reports on what was generated)."""
    data = _manifest(Path(directory))
    params = (data or {}).get("params") or {}
    try:
        start, days = date.fromisoformat(params["start"]), int(params["days"])
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{directory}: no complete demo tree there (run `flowsql demo --dir {directory}`)") from None
    month = whole_month(start, days)
    if month is None:
        raise UsageError(f"{directory}: the demo's {days} day(s) from {start} cover no whole month "
                         "(run `flowsql demo` without --days)")
    return month


def _manifest(directory: Path) -> dict | None:
    """The demo's record of what it wrote in `directory` (None when there is none or it is unreadable)."""
    from ..files import is_plain_relative_path, loads_json, read_regular_text

    try:
        data = loads_json(read_regular_text(directory / MARKER))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    # The record says which files the demo may replace: one naming anything but a plain path inside
    # the folder (`../x`, `/x`) is not the demo's, and nothing is deleted on its word.
    strange = [f for f in data["files"] if not is_plain_relative_path(f)]
    if strange:
        raise UsageError(f"--dir {directory}: its demo record {MARKER} names {strange[0]!r}, which is no file "
                         "inside the folder; nothing was changed (remove the record to start again)")
    return data


def _contents(directory: Path) -> tuple[list[str], list[str]]:
    """(files, folders) under `directory`, as relative POSIX paths; symlinks count as files."""
    files, folders = [], []
    for root, dirs, names in os.walk(directory):
        rel = Path(root).relative_to(directory)
        for d in list(dirs):
            if (Path(root) / d).is_symlink():
                dirs.remove(d)
                names.append(d)
            else:
                folders.append((rel / d).as_posix())
        files += [(rel / n).as_posix() for n in names]
    return files, folders


def _foreign(directory: Path, manifest: dict | None) -> list[str]:
    """What is in `directory` that the demo did not write: files not in its record, and folders
    that hold none of its files."""
    ours = set(manifest["files"]) | {MARKER} if manifest else set()
    files, folders = _contents(directory)
    ancestors = {p.as_posix() for f in ours for p in Path(f).parents}
    # a link is never the demo's, whatever its record says: writing through it would write elsewhere
    links = [f for f in files if (directory / f).is_symlink()]
    foreign = set([f for f in files if f not in ours] + [d for d in folders if d not in ancestors] + links)
    # name the top of each foreign subtree, not everything inside it
    return sorted(f for f in foreign if not any(p.as_posix() in foreign for p in Path(f).parents))


def prepare_scenario(directory: Path, *, days: int | None = None, seed: int = 7, echo=_echo) -> Scenario:
    """Write the demo tree into `directory` unless the same one is already there.

    The demo never deletes what it did not write: a folder holding anything besides the files its
    record (`.flowsql-demo.json`) lists is refused, untouched. A new tree is generated beside it,
    then moved in file by file over the old one; the record lists every file that may be present
    at each step, so an interrupted run leaves a folder the next run can still replace.
    """
    directory = Path(directory).absolute()
    base = demo_scenario()
    days = days if days is not None else default_days()
    # with the ECS service (generate_ecs.py): its traffic, and the report's posture row for a flow log
    # that cannot read ECS
    scenario = Scenario(start=base.start + timedelta(days=base.days - days), days=days, seed=seed, ecs=True,
                        transit_gateways=base.transit_gateways)
    wanted = {"start": scenario.start.isoformat(), "days": days, "seed": seed, "ecs": True,
              "transit_gateways": scenario.transit_gateways}
    try:
        old = None
        if directory.exists() or directory.is_symlink():
            if not directory.is_dir():
                raise UsageError(f"--dir {directory} exists and is not a folder")
            old = _manifest(directory)
            foreign = _foreign(directory, old)
            if foreign:
                shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
                raise UsageError(f"--dir {directory} holds what `flowsql demo` did not write ({shown}); the demo "
                                 "only replaces its own files: choose another folder")
            if old and old.get("params") == wanted and all(Tree(directory).is_file(f) for f in old["files"]):
                echo(f"using the demo logs already in {directory}", err=True)
                return scenario
        directory.mkdir(parents=True, exist_ok=True)  # an unwritable place fails here, before any work
        echo(f"generating {days} days of flow logs for a demo account in {directory} …", err=True)
        sweep_temporary_folders(directory, "new")  # what a run killed with SIGKILL left
        staging = temporary_folder(directory, "new")
        try:
            g = generate(staging, scenario)
            # the inventory as `inventory sync --organization --regions all` writes it: a tree, with
            # a second account (flowsql.demo.generate_posture)
            write_inventory_tree(staging / "inventory", scenario)
            new_files, _ = _contents(staging)
            _install(staging, directory, new_files, set(old["files"]) if old else set(), wanted)
        finally:
            with contextlib.suppress(OSError):
                Tree(staging.parent).rmtree(staging.name)
    except Refused as e:
        raise UsageError(f"--dir {directory}: {e.strerror}; the demo writes and deletes only its own files") from None
    except OSError as e:
        raise UsageError(f"--dir {directory}: cannot write the demo there ({e.strerror or e})") from None
    echo(f"wrote {len(g.files) + len(g.tgw_files)} files, {len(g.records) + len(g.tgw_records):,} records "
         f"(us-east-1: default format, eu-west-1: custom v5 format, an ECS service in us-east-1: v7 format "
         f"with the ecs-* fields, a transit gateway in each region: its own flow logs) and an inventory tree "
         f"of two accounts "
         f"({SECOND_ACCOUNT} {SECOND_REGION}: a VPC that does not log)", err=True)
    return scenario


def _install(staging: Path, directory: Path, new: list[str], old: set[str], params: dict) -> None:
    # Through a files.Tree: a link in the folder (one made while the demo runs included) is never
    # written, replaced or deleted through, nor replaced.
    tree = Tree(directory, create=True)
    # First record everything that may be present while files move, so no step leaves a file the
    # record does not name (an interrupted run is then replaced by the next one, not refused).
    marker = str(directory / MARKER)
    tree.write(MARKER, dumps_json({"params": None, "files": sorted(old | set(new))}, what=marker))
    for rel in new:
        tree.move_in(staging / rel, rel)
    for rel in sorted(old - set(new)):
        with contextlib.suppress(Refused, NotADirectoryError):  # a link there is not the demo's to delete
            tree.remove(rel)
    _, folders = _contents(directory)
    for d in sorted(folders, key=lambda f: f.count("/"), reverse=True):  # empty ones only
        with contextlib.suppress(OSError):
            tree.rmdir(d)
    tree.write(MARKER, dumps_json({"params": params, "files": sorted(new)}, what=marker))


def run_demo(directory: Path, *, days: int | None = None, seed: int = 7, echo=_echo, print_rows=_print_rows,
             status=contextlib.nullcontext) -> None:
    directory = Path(directory)
    scenario = prepare_scenario(directory, days=days, seed=seed, echo=echo)
    last = scenario.start + timedelta(days=scenario.days - 1)
    window = Window(max(scenario.start, last - timedelta(days=6)), last)
    inventory = directory / "inventory"
    engine = LocalEngine(directory, window, inventory=load_inventory(inventory, window=window))
    try:
        for name, params in DEMO_QUERIES.items():
            query = get_query(name)
            with status(f"running {name} on the local engine"):
                result = run(query, params, engine, window).result
            echo("")
            print_rows(result.columns, result.rows, title=f"{query.title} — {window.since} … {window.until} (UTC)")
    finally:
        engine.close()
    echo("")
    echo("Run one yourself, e.g.:")
    echo(f"  flowsql query lambda-egress --engine local --source {directory} --inventory {inventory} "
         f"--since {window.since} --until {window.until}")
    echo(f"  flowsql render lambda-egress --engine local --since {window.since} --until {window.until}")
    month = whole_month(scenario.start, scenario.days)
    if month is not None:
        echo(f"  flowsql report --month {month} --engine local --source {directory} --inventory {inventory} "
             f"--out {directory.parent / (directory.name + '-reports')}/{month}")
