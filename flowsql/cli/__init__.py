"""The `flowsql` command line: a thin layer over the library, one module per command group.

`flowsql query …` imports only the module of `query` (a small query's time is mostly start-up);
`from flowsql.cli import app`, `--help` and anything unknown load every command.
"""

from __future__ import annotations

from .common import entry, main

# The module that registers each top-level command (a test checks that this map is complete).
COMMANDS = {
    "queries": "query", "render": "query", "query": "query", "lint": "query",
    "diagnose": "diagnose", "convert": "convert", "demo": "demo",
    "setup": "account", "iam-policy": "account", "inventory": "inventory",
    "posture": "posture", "schedule": "schedule", "report": "report", "pull": "pull",
    "investigate": "investigate",
}
_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def load_commands(first: str | None = None) -> None:
    """Register the command `first` names (every command when it names none); command modules
    import nothing heavy, and register themselves on the app when imported."""
    import importlib

    for name in ((COMMANDS[first],) if first in COMMANDS else _MODULES):
        importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str):
    if name == "app":
        load_commands()
        from .common import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["COMMANDS", "app", "entry", "load_commands", "main"]
