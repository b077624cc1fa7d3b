"""The engine options of the command line (each engine owns some of them: EngineSpec.options), light
enough for `flowsql --help` to import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# each option with its flag, in the order a command repeats them
FLAGS = {"source": "--source", "inventory": "--inventory", "skip_bad_files": "--skip-bad-files",
         "table": "--table", "profile": "--profile"}
OPTIONS = tuple(FLAGS)


@dataclass(frozen=True)
class EngineOptions:
    """The engine options a command was given (the `@engine_options` block of the CLI); an option
    not given is None (False for a flag)."""

    source: Path | None = None  # local: a folder holding AWSLogs/
    inventory: Path | None = None  # local (`flowsql query`): the inventory folder the engine joins
    skip_bad_files: bool = False  # local: leave out unreadable files
    table: str | None = None  # Athena: which flow-log table setup made
    profile: str | None = None  # Athena: the AWS CLI profile

    def given(self) -> list[str]:
        """The options given (a value, or a flag set)."""
        return [o for o in OPTIONS if getattr(self, o) not in (None, False)]
