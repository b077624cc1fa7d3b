"""`flowsql demo`: a generated account's flow logs, queried on the local engine."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from .engines.local import LocalEngine
from .errors import UsageError
from .generate import Scenario, demo_scenario, generate
from .inventory import load
from .output import to_text_table
from .pack import get_query
from .params import Window
from .runner import run

MARKER = ".flowsql-demo.json"


def _echo(message: str = "", err: bool = False) -> None:
    print(message, file=sys.stderr if err else sys.stdout)


def _print_rows(columns, rows, title=None) -> None:
    print((title + "\n" if title else "") + to_text_table(columns, rows), end="")

# query -> the parameters the demo shows it with (short enough to read on one screen)
DEMO_QUERIES = {"top-destinations": {}, "rejects-by-subnet": {}, "lambda-egress": {"limit": "15"}}


def prepare(directory: Path, *, days: int = 30, seed: int = 7, echo=_echo) -> Scenario:
    """Write the demo tree into `directory` unless the same one is already there.

    A folder that is not ours is never touched; a new tree is written beside it and swapped in, so an
    interrupted run leaves the old tree or none, never half of one.
    """
    directory = Path(directory).resolve()
    base = demo_scenario()
    scenario = Scenario(start=base.start + timedelta(days=base.days - days), days=days, seed=seed)
    wanted = {"start": scenario.start.isoformat(), "days": days, "seed": seed}
    marker = directory / MARKER
    if directory.exists():
        if not directory.is_dir():
            raise UsageError(f"--dir {directory} exists and is not a folder")
        if any(directory.iterdir()) and not marker.exists():
            raise UsageError(f"--dir {directory} is not empty and was not made by `flowsql demo`; "
                             "choose another folder")
        try:
            if json.loads(marker.read_text()) == wanted:
                echo(f"using the demo logs already in {directory}", err=True)
                return scenario
        except (OSError, ValueError):
            pass
    echo(f"generating {days} days of flow logs for a demo account in {directory} …", err=True)
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Staged in a fresh folder beside the target and swapped in: only what this run made is removed.
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.new-", dir=directory.parent))
    try:
        g = generate(staging, scenario)
        (staging / MARKER).write_text(json.dumps(wanted))
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
            directory.rename(old / "tree")
            staging.rename(directory)
            shutil.rmtree(old)
        else:
            staging.rename(directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    echo(f"wrote {len(g.files)} files, {len(g.records):,} records "
         f"(us-east-1: default format, eu-west-1: custom v5 format) and an inventory", err=True)
    return scenario


def run_demo(directory: Path, *, days: int = 30, seed: int = 7, echo=_echo, print_rows=_print_rows,
             status=contextlib.nullcontext) -> None:
    directory = Path(directory)
    scenario = prepare(directory, days=days, seed=seed, echo=echo)
    last = scenario.start + timedelta(days=scenario.days - 1)
    window = Window(max(scenario.start, last - timedelta(days=6)), last)
    inventory = directory / "inventory"
    engine = LocalEngine(directory, window, inventory=load(inventory))
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
