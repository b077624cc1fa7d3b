"""`@engine_options`: the engine option block of `query`, `render`, `diagnose`, `report` and
`investigate` (--engine and the options each engine owns), declared once.

The decorated command declares a parameter `engine`; it receives the EngineChoice
(flowsql.engines.choose): the engine named by --engine, or the default one, and the engine options
given. An option of another engine than the one the command runs on is exit 2, never ignored.
"""

from __future__ import annotations

import functools
import inspect
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..engines import OPTIONS, EngineOptions, names

EngineName = Enum("EngineName", {n: n for n in names()}, type=str)

_HELP = {
    "engine": f"{' or '.join(names())} (default: athena once `flowsql setup` ran, else local; local when "
              "given --source).",
    "source": "Local engine: a folder holding AWSLogs/ (or AWSLogs itself).",
    "inventory": "Local engine: folder with network-interfaces.json, subnets.json, vpcs.json (and dated snapshots).",
    "skip_bad_files": "Local engine: leave out unreadable files (counted and listed on stderr).",
    "table": "Athena: which flow-log table setup made (default: the first).",
    "profile": "Athena: the AWS CLI profile to use.",
}


def _option(name: str, help: str):
    if name == "engine":
        return Optional[EngineName], typer.Option(None, "--engine", "-e", help=help)
    if name == "source":
        return Optional[Path], typer.Option(None, "--source", "-s", metavar="DIR", help=help)
    if name == "inventory":
        return Optional[Path], typer.Option(None, "--inventory", "-i", metavar="DIR", help=help)
    if name == "skip_bad_files":
        return bool, typer.Option(False, "--skip-bad-files", help=help)
    return Optional[str], typer.Option(None, f"--{name}", help=help)


def engine_options(*, exclude: tuple[str, ...] = (), shared: dict[str, str] | None = None):
    """Add --engine and the engine options (all of EngineSpec.OPTIONS but `exclude`) to a command
    and give it `engine`, an EngineChoice. `shared`: option -> help, options the command uses
    whatever the engine (report's --profile is for --upload too): given with any engine."""
    shared = dict(shared or {})
    own = [o for o in OPTIONS if o not in exclude]

    def decorate(fn):
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        at = [p.name for p in params].index("engine")
        added = []
        for name in ("engine", *own):
            annotation, default = _option(name, shared.get(name, _HELP[name]))
            added.append(inspect.Parameter(name, params[at].kind, default=default, annotation=annotation))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            from ..engines import choose

            chosen = kwargs.pop("engine")
            options = EngineOptions(**{o: kwargs.pop(o) for o in own})
            kwargs["engine"] = choose(chosen.value if chosen is not None else None, options, shared=tuple(shared))
            return fn(*args, **kwargs)

        wrapper.__signature__ = sig.replace(parameters=params[:at] + added + params[at + 1:])
        wrapper.__annotations__ = {**{k: v for k, v in fn.__annotations__.items() if k != "engine"},
                                   **{p.name: p.annotation for p in added}}
        return wrapper

    return decorate
