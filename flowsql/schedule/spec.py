"""What a schedule is, whatever runs it: a name, a day of the month, a time of day in a time zone, and
the report options the monthly run passes to `flowsql report --month previous`.

Everything here is checked before anything is written or any API is called, so a typo costs
nothing and exits 2. The same `Schedule` is written into what each target installs as one
`flowsql-schedule: {json}` comment line (its *metadata*), which is how `list` tells what a
schedule does without parsing cron lines, unit files, workflows or buildspecs back.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

from ..engines.athena.defaults import SCHEDULE_PREFIX
from ..errors import UsageError
from ..files import dumps_json, loads_json

PREFIX = SCHEDULE_PREFIX  # every name flowsql installs starts with it: list/remove touch nothing else
METADATA = "flowsql-schedule:"
MANAGED_BY = "managed by flowsql schedule"
# A name is used for crontab markers, unit files, workflow files, IAM roles (64 chars with a
# `-codebuild` suffix), CodeBuild projects and schedules: the common subset of all of them.
_NAME = re.compile(r"^flowsql-report(?:-[a-z0-9]+)*$")
_NAME_MAX = 48
_AT = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
MAX_DAY = 28  # every month has it (February included), so a schedule never skips a month


@dataclass(frozen=True)
class Schedule:
    """One monthly report run: on `day` at `hour:minute` in `timezone` (IANA), `flowsql report
    --month previous *report_args`."""

    name: str = PREFIX
    day: int = 1
    hour: int = 3
    minute: int = 0
    timezone: str = "UTC"
    report_args: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, *, name: str = PREFIX, day: int = 1, at: str = "03:00", timezone: str = "UTC",
              report_args: Sequence[str] = ()) -> "Schedule":
        """A Schedule from the command line's values; a UsageError naming the option otherwise."""
        check_name(name)
        if not isinstance(day, int) or not 1 <= day <= MAX_DAY:
            raise UsageError(f"--day: {day} is not a day from 1 to {MAX_DAY} (every month has those)")
        m = _AT.match(at or "")
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            raise UsageError(f"--at: {at!r} is not a time of day as HH:MM (00:00 to 23:59)")
        zone = check_timezone(timezone)
        args = check_report_args(report_args)
        return cls(name=name, day=day, hour=int(m[1]), minute=int(m[2]), timezone=zone, report_args=args)

    @property
    def at(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def zone(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def report_argv(self) -> list[str]:
        """The arguments after `flowsql`: what every target runs."""
        return ["report", "--month", "previous", *self.report_args]

    def command(self) -> str:
        """What runs, for people: `flowsql report --month previous …`, shell-quoted."""
        import shlex

        return shlex.join(["flowsql", *self.report_argv()])

    def describe(self) -> str:
        return f"day {self.day} of every month at {self.at} {self.timezone}"

    def metadata(self) -> str:
        """The one comment line every installed schedule carries (ASCII, no newline)."""
        d = asdict(self)
        d["report_args"] = list(self.report_args)
        return f"{METADATA} {dumps_json(d, sort_keys=True)}"

    @classmethod
    def from_metadata(cls, text: str) -> "Schedule | None":
        """The Schedule in a text holding a metadata line (a comment of any syntax), else None."""
        for line in text.splitlines():
            _, found, rest = line.partition(METADATA)
            if not found:
                continue
            try:
                d = loads_json(rest)
                return cls(name=str(d["name"]), day=int(d["day"]), hour=int(d["hour"]), minute=int(d["minute"]),
                           timezone=str(d["timezone"]), report_args=tuple(str(a) for a in d["report_args"]))
            except (ValueError, KeyError, TypeError):
                return None
        return None


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > _NAME_MAX:
        raise UsageError(f"--name: {name!r} is not a flowsql schedule name: it must be {PREFIX} or "
                         f"{PREFIX}-SUFFIX (lower-case letters, digits and -, at most {_NAME_MAX} characters)")
    return name


def check_timezone(name: str) -> str:
    """An IANA time zone name known to this Python (zoneinfo), as given."""
    import zoneinfo

    if not name or not isinstance(name, str):
        raise UsageError("--timezone: empty time zone name")
    # available_timezones() lists the zoneinfo folder's zone files; on Debian that folder also holds
    # "localtime" (a link to the host's own zone) and "posixrules": no names to schedule by.
    if name not in zoneinfo.available_timezones() or name in ("localtime", "posixrules"):
        hint = " (names are case-sensitive, e.g. Europe/Paris)" if any(
            z.lower() == name.lower() for z in zoneinfo.available_timezones()) else " (e.g. UTC, Europe/Paris)"
        raise UsageError(f"--timezone: unknown IANA time zone {name!r}{hint}")
    return name


def check_report_args(args: Iterable[str]) -> tuple[str, ...]:
    """The report options a schedule passes through, refused where no target could carry them
    faithfully: a line break or NUL (one line of a crontab or unit file), `--month` (the schedule
    sets it), or a first word that is no option (a forgotten `--target`)."""
    args = tuple(args or ())
    for a in args:
        if any(c in a for c in "\n\r\0"):
            raise UsageError(f"report option {a!r}: a line break or NUL cannot be scheduled")
    if args and not args[0].startswith("-"):
        raise UsageError(f"report options start with an option, not {args[0]!r}: put them after `--` "
                         "(e.g. `-- --engine local --source ./logs`)")
    for a in args:
        if a == "--month" or a.startswith("--month="):
            raise UsageError("--month is the schedule's to set (previous: the last full calendar month, UTC); "
                             "leave it out of the report options")
    return args


def option_value(args: Sequence[str], *names: str) -> str | None:
    """The value given to an option among `args` (`--out DIR` or `--out=DIR`; the last one wins, as
    it would for a repeatable option), or None."""
    value = None
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                value = args[i + 1]
            elif n.startswith("--") and a.startswith(n + "="):
                value = a[len(n) + 1:]
    return value


def runnable_engine(args: Sequence[str], config_exists: bool) -> str:
    """The engine the scheduled report runs on, refused (UsageError, before anything is written)
    when the run could only fail, every month: the local engine without --source (there is nothing
    to read), Athena without the settings `flowsql setup` saves, an engine flowsql does not have."""
    from ..engines import get, names

    engine = report_engine(args, config_exists)
    if engine not in names():
        raise UsageError(f"report option --engine {engine!r}: the report runs on {' or '.join(names())}")
    why = get(engine).unready(lambda flag: option_value(args, flag), config_exists)
    if why:
        raise UsageError(f"the scheduled report would fail every month: {why}")
    return engine


def report_engine(args: Sequence[str], config_exists: bool) -> str:
    """The engine the report will run on, as `flowsql report` chooses it (flowsql.engines.default):
    --engine, else the one its options select (local when given --source), else athena once setup has
    saved its settings (`config_exists`), else local."""
    from ..engines import FALLBACK, all_engines

    engine = option_value(args, "--engine", "-e")
    if engine:
        return engine
    for e in all_engines():
        if any(option_value(args, e.FLAGS[o]) is not None for o in e.selected_by):
            return e.name
    for e in all_engines():
        if e.needs_setup and config_exists:
            return e.name
    return FALLBACK
