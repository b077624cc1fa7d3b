"""What a schedule target declares about itself, once, in its own module (`TARGET = TargetSpec(…)`):
the command-line options it takes, how it is built from them, and what `remove` passes it. The
CLI's `--target` choice, the refusal of another target's option and the removal call are derived
from these declarations (flowsql.schedule.targets), never from a comparison with a target's name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


def option_keyword(option: str) -> str:
    """The keyword a target's factory takes an option's value by: `--unit-dir` -> `unit_dir`."""
    return option.removeprefix("--").replace("-", "_")


@dataclass(frozen=True)
class TargetSpec:
    """One schedule target.

    `options`: the target's own options (`--unit-dir`, …), passed to `factory` by keyword
    (option_keyword); any of them given to another target is an error, not ignored.
    `factory(install=bool, **options)`: the target object (plan, removal, list); `install` says
    whether it will install (a host target then resolves the job it runs).
    `removal_options`: option -> keyword of the target's `removal(name, **…)`, for what only
    `remove` takes (`--all`)."""

    name: str
    options: tuple[str, ...]
    factory: Callable[..., Any]
    removal_options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        problems = []
        if not isinstance(self.name, str) or not self.name.isidentifier() or not self.name.islower():
            problems.append("a lower-case name")
        if not callable(self.factory):
            problems.append("a factory")
        for option in (*self.options, *self.removal_options):
            if not isinstance(option, str) or not option.startswith("--") or not option_keyword(option).isidentifier():
                problems.append(f"options spelled --word (not {option!r})")
        if set(self.options) & set(self.removal_options):
            problems.append("an option either the factory's or the removal's, not both")
        if problems:
            raise ValueError(f"schedule target {self.name!r} needs {', '.join(problems)}")

    def applies(self, option: str) -> bool:
        return option in self.options or option in self.removal_options

    def build(self, given: Mapping[str, Any], install: bool = False):
        """The target, from the values of the options a command was given (its own only)."""
        return self.factory(install=install, **{option_keyword(o): v for o, v in given.items() if o in self.options})

    def removal(self, target, name: str, given: Mapping[str, Any]):
        return target.removal(name, **{kw: given[o] for o, kw in self.removal_options.items() if o in given})
