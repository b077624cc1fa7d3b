"""`flowsql demo`: a generated account's flow logs and inventory, queried on the local engine."""

from __future__ import annotations

from typing import Optional

import typer

from .common import Spinner, app, command, note, out, out_folder, print_rows, OutputFormat


@command(app, "demo")
def demo_cmd(
    dir: str = typer.Option("flowsql-demo", "--dir", "-d", help="Where to write the demo account's logs."),
    days: Optional[int] = typer.Option(None, "--days", min=1, max=366,
                                       help="How many days of logs to generate, ending yesterday (UTC) "
                                            "(default: from the first of the last whole month, at least 30)."),
    seed: int = typer.Option(7, "--seed", help="Generator seed (same seed, same logs)."),
):
    """Generate a realistic account's flow logs and inventory, then run the canned queries locally.

    Only files the demo wrote are ever replaced: a folder holding anything else is refused.

    Example: flowsql demo --dir /tmp/flowsql-demo
    """
    from ..demo.run import run_demo

    def echo(message: str = "", err: bool = False) -> None:
        (note if err else out)(message)

    def show(columns, rows, title=None):
        print_rows(columns, rows, OutputFormat.table, title=title)

    run_demo(out_folder(dir, "--dir"), days=days, seed=seed, echo=echo, print_rows=show, status=Spinner)
