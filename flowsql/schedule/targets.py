"""The schedule targets: one module each in flowsql/schedule/, which declares `TARGET` (a
TargetSpec). Adding a target is its module plus its name here; tests/test_registries.py fails when
a declaration is incomplete or the CLI's choice differs from `names()`.

A target's name is its module's name, so `names()` imports nothing (the CLI builds its
`--target` choice from it at start-up); `get(name)` imports the one module asked for."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import UsageError
from .target_spec import TargetSpec

BUILT_IN = ("cron", "systemd", "github", "eventbridge")  # the modules, in the order help lists them


def names() -> tuple[str, ...]:
    return BUILT_IN


def get(name: str) -> TargetSpec:
    """The target `name` declares; a UsageError (exit 2) for a name that is none."""
    import importlib

    if name not in BUILT_IN:
        raise UsageError(f"--target: no schedule target {name!r} (targets: {', '.join(BUILT_IN)})")
    spec = getattr(importlib.import_module(f"{__package__}.{name}"), "TARGET", None)
    if not isinstance(spec, TargetSpec) or spec.name != name:
        raise ValueError(f"flowsql/schedule/{name}.py must declare TARGET = TargetSpec({name!r}, …)")
    return spec


def check_options(name: str, given: Mapping[str, Any]) -> TargetSpec:
    """The target `name`, once every option given a value (not None, False or 0) is one of its own;
    another target's option is a UsageError naming the targets it is for."""
    spec = get(name)
    for option, value in given.items():
        if value not in (None, False, 0) and not spec.applies(option):
            takers = [n for n in BUILT_IN if get(n).applies(option)]
            raise UsageError(f"{option} is for --target {' or '.join(takers)}, not {name}")
    return spec
