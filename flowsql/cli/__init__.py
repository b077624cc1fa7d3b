"""The `flowsql` command line: a thin layer over the library, one module per command group.

`flowsql query …` imports only the module of `query` (a small query's time is mostly start-up);
`from flowsql.cli import app`, `--help` and anything unknown load every command. The app and what the
commands share: cli/common.py; the console script: cli/main.py.
"""

from __future__ import annotations

from .main import COMMANDS, entry, load_commands, main


def __getattr__(name: str):
    if name == "app":
        load_commands()
        from .common import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMMANDS", "app", "entry", "load_commands", "main"]
