"""The `flowsql` command line: a thin layer over the library, one module per command group."""

from __future__ import annotations

from .app import app, main

# The command modules register their commands on `app` when imported; they import nothing heavy.
_MODULES = ("query", "diagnose", "convert", "demo", "account", "inventory", "posture", "schedule", "report")


def load_commands() -> None:
    import importlib

    for name in _MODULES:
        importlib.import_module(f"{__name__}.{name}")


load_commands()

__all__ = ["app", "main"]
