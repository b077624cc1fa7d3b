"""What a target will do, as data: a plan of steps, printed before it runs (and alone with
`--dry-run`), then applied in order.

A plan is read from the current state, so a step is `create`, `update` or `keep` (nothing to do),
and installing twice plans only `keep` steps. A step that changes something carries the function
that does it; printing a plan calls none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

CHANGES = ("create", "update", "delete", "run")


@dataclass(frozen=True)
class Step:
    """One thing a target creates, updates, keeps or deletes: a line saying what, and the text
    that will be written (a crontab block, a unit file, an IAM policy, API parameters)."""

    action: str  # create | update | keep | delete | run
    what: str
    detail: str = ""
    run: Callable[[], Any] | None = field(default=None, compare=False, repr=False)

    @property
    def changes(self) -> bool:
        return self.action in CHANGES


@dataclass
class Plan:
    """The steps of an install or a removal on one target, and what the user still has to do."""

    target: str
    name: str
    kind: str = "install"  # install | remove
    existed: bool = False  # the schedule was there before (an install then updates it in place)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.changes]

    @property
    def verb(self) -> str:
        """What applying the plan does, in a word: installed, updated in place, unchanged, removed."""
        if not self.changes:
            return "unchanged"
        if self.kind == "remove":
            return "removed"
        return "updated in place" if self.existed else "installed"

    def render(self) -> str:
        lines = []
        for s in self.steps:
            lines.append(f"{s.action:<7} {s.what}")
            # a kept step's text is what is there already: only what will be written is shown
            for d in s.detail.rstrip("\n").splitlines() if s.detail and s.changes else ():
                lines.append(f"    {d}".rstrip())
        return "\n".join(lines)

    def apply(self, echo: Callable[[str], Any] | None = None) -> int:
        """Run the steps that change something, in order; `echo` gets each first. Returns how many."""
        n = 0
        for s in self.changes:
            if echo:
                echo(f"{s.action} {s.what}")
            if s.run is not None:
                s.run()
            n += 1
        return n


@dataclass(frozen=True)
class Installed:
    """A flowsql schedule found on a target (`flowsql schedule list`)."""

    name: str
    target: str
    when: str  # "day 1 of every month at 03:00 UTC", or what the target says if its metadata is gone
    where: str  # the crontab, the unit file, the workflow file, the schedule's ARN
    command: str  # what runs: `flowsql report --month previous …`
    state: str = ""

    COLUMNS = ("name", "target", "when", "where", "command", "state")

    def row(self) -> tuple:
        return tuple(getattr(self, c) for c in self.COLUMNS)


def absent(name: str, where: str, present: list[str]) -> str:
    """The message for removing a schedule that is not there (exit 2: a wrong --name or target
    should not pass for a done removal)."""
    others = f"; there: {', '.join(present)}" if present else "; there is no flowsql schedule there"
    return f"no flowsql schedule {name} in {where}{others} (see `flowsql schedule list`)"
