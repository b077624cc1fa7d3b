"""The cron target: a marked block in the user's crontab, through the `crontab` command.

    # BEGIN flowsql-report (managed by flowsql schedule)
    # flowsql-schedule: {"day": 1, "hour": 3, ...}
    0 3 1 * * cd /home/me/audit && FLOWSQL_CONFIG=… /home/me/.venv/bin/python -m flowsql report --month previous … >>… 2>&1
    # END flowsql-report (managed by flowsql schedule)

Every other line of the crontab is kept byte for byte: the block is replaced where it stands, or
appended (after a line break, if the last line had none). `crontab -l` is read again just before
writing, so an edit made between the plan and the install is not lost.

**Time zones.** cron runs entries in the host's time zone, and Debian's and Ubuntu's cron (vixie
cron) ignores `CRON_TZ`/`TZ` in a crontab: a `CRON_TZ=` line would be silently wrong there. So the
entry is written in the host's time: when the wanted wall time maps to one fixed host time every
month (same zone, or fixed offsets), that time alone; otherwise every host minute, hour and day
the wanted time falls on over the next two years (daylight-saving shifts), guarded by a test of the
wanted zone's own clock, `[ "$(TZ=Europe/Paris date +%d%H%M)" = 010300 ] && …`, so the report runs
once, at the wanted time. The host's zone is the one cron uses: /etc/localtime (UTC without it).

**Quoting.** Every word is quoted with shlex.quote, never joined raw. cron itself gives `%` a
meaning (an unescaped `%` ends the command; `\\%` is a literal `%` with the backslash dropped), so a
word is split at its `%` signs, the pieces quoted one by one and joined with `\\%` outside any
quotes: what the shell receives after cron is exactly the word. A command longer than vixie cron's
MAX_COMMAND (1000 characters) would be cut by cron: it is refused.

cron has no catch-up: a run missed because the host was off is not made up (systemd's
`Persistent=true` is).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

from ..errors import FlowsqlError, UsageError
from .host import HostJob, check_text, host_job, state_dir
from .plan import Installed, Plan, Step, absent
from .spec import MANAGED_BY, PREFIX, Schedule, runnable_engine
from .target_spec import TargetSpec

_BEGIN = re.compile(r"^# BEGIN (" + PREFIX + r"[a-z0-9-]*) \(" + MANAGED_BY + r"\)[ \t]*\r?\n?$")
_END = re.compile(r"^# END (" + PREFIX + r"[a-z0-9-]*) \(" + MANAGED_BY + r"\)[ \t]*\r?\n?$")
MAX_COMMAND = 1000  # vixie cron reads at most this many characters of an entry's command
HORIZON_MONTHS = 24  # months over which the host times of a wall time are collected
ZONEINFO_DIR = Path("/usr/share/zoneinfo")  # glibc's tz database, which `date` reads for TZ=


class CronTarget:
    kind = "cron"

    def __init__(self, job: HostJob | None = None, *, crontab: str = "crontab", log: str | None = None,
                 host_zone=None):
        self.job = job
        self.crontab = crontab
        self.log = log
        self._zone = host_zone

    # -- the interface ------------------------------------------------------------------------

    def plan(self, schedule: Schedule) -> Plan:
        if self.job is None:
            raise ValueError("installing needs a HostJob")
        from ..engines.athena import config

        runnable_engine(schedule.report_args, config.exists())  # a job that could only fail is refused
        log = self._log_path(schedule.name)
        block = self.block(schedule, log)
        current = self._read()
        blocks = find_blocks(current)
        where = f"crontab of {self.user}"
        plan = Plan(self.kind, schedule.name, existed=schedule.name in blocks)
        if plan.existed:
            start, end = blocks[schedule.name]
            if "".join(current.splitlines(keepends=True)[start:end + 1]) == block:
                plan.steps.append(Step("keep", f"{where}: block {schedule.name}", block))
                return plan
        action = "update" if plan.existed else "create"

        def run():
            log.parent.mkdir(parents=True, exist_ok=True)
            self._write(with_block(self._read(), schedule.name, block))

        plan.steps.append(Step(action, f"{where}: block {schedule.name}", block, run))
        plan.notes.append(f"the report's output goes to {log}")
        plan.notes.append("cron has no catch-up: a month whose run time found the host off is skipped")
        return plan

    def removal(self, name: str) -> Plan:
        current = self._read()
        blocks = find_blocks(current)
        plan = Plan(self.kind, name, kind="remove", existed=name in blocks)
        if name not in blocks:
            raise UsageError(absent(name, f"the crontab of {self.user}", sorted(blocks)))
        start, end = blocks[name]
        text = "".join(current.splitlines(keepends=True)[start:end + 1])
        plan.steps.append(Step("delete", f"crontab of {self.user}: block {name}", text,
                               lambda: self._write(without_block(self._read(), name))))
        return plan

    def list(self) -> list[Installed]:
        current = self._read()
        lines = current.splitlines(keepends=True)
        found = []
        for name, (start, end) in find_blocks(current).items():
            text = "".join(lines[start:end + 1])
            s = Schedule.from_metadata(text)
            entry = next((ln.strip() for ln in lines[start + 1:end] if not ln.lstrip().startswith("#")), "")
            found.append(Installed(name, self.kind, s.describe() if s else " ".join(entry.split()[:5]),
                                   f"crontab of {self.user}",
                                   s.command() if s else entry))
        return found

    # -- what is written ----------------------------------------------------------------------

    def block(self, schedule: Schedule, log: Path) -> str:
        return (f"# BEGIN {schedule.name} ({MANAGED_BY})\n"
                f"# {schedule.metadata()}\n"
                f"{self.entry(schedule, log)}\n"
                f"# END {schedule.name} ({MANAGED_BY})\n")

    def entry(self, schedule: Schedule, log: Path) -> str:
        """The crontab line: five time fields in the host's time, then the command."""
        fields, guard = cron_fields(schedule, self.host_zone())
        words = []
        if guard:
            _check_zone_on_host(schedule.timezone)
            want = f"{schedule.day:02d}{schedule.hour:02d}{schedule.minute:02d}"
            words.append(f'[ "$(TZ={cron_word(schedule.timezone)} date +\\%d\\%H\\%M)" = {want} ] &&')
        words += ["cd", cron_word(self.job.workdir), "&&"]
        words += [f"{k}={cron_word(v)}" for k, v in self.job.env]
        words += [cron_word(a) for a in self.job.argv(schedule)]
        words += [">>" + cron_word(str(log)), "2>&1"]
        command = " ".join(words)
        if len(command) >= MAX_COMMAND:
            raise UsageError(f"the cron command would be {len(command)} characters; cron cuts commands at "
                             f"{MAX_COMMAND}: shorten the report options or paths, or use --target systemd")
        return f"{fields} {command}"

    def host_zone(self):
        if self._zone is None:
            self._zone = host_zone()
        return self._zone

    # -- the crontab --------------------------------------------------------------------------

    @property
    def user(self) -> str:
        return pwd.getpwuid(os.getuid()).pw_name

    def _command(self) -> str:
        found = shutil.which(self.crontab)
        if not found:
            raise UsageError("the cron target needs the `crontab` command, which is not installed: install "
                             "cron (Debian/Ubuntu: apt-get install cron; Fedora/RHEL: dnf install cronie)")
        return found

    def _read(self) -> str:
        """The crontab as `crontab -l` prints it ('' when there is none). Bytes that are not UTF-8
        survive the round trip (surrogateescape)."""
        r = subprocess.run([self._command(), "-l"], capture_output=True)
        if r.returncode == 0:
            return r.stdout.decode("utf-8", "surrogateescape")
        err = r.stderr.decode("utf-8", "replace").strip()
        if "no crontab for" in err:
            return ""
        raise FlowsqlError(f"`crontab -l` failed: {err or 'exit code ' + str(r.returncode)}")

    def _write(self, text: str) -> None:
        # An emptied crontab is removed rather than installed empty: `crontab -l` then says
        # "no crontab" again, as before the first install.
        args = [self._command(), "-r"] if not text else [self._command(), "-"]
        r = subprocess.run(args, input=text.encode("utf-8", "surrogateescape"), capture_output=True)
        if r.returncode != 0:
            err = r.stderr.decode("utf-8", "replace").strip()
            raise FlowsqlError(f"`crontab {args[1]}` failed: {err or 'exit code ' + str(r.returncode)}")

    def _log_path(self, name: str) -> Path:
        from ..files import Tree

        path = Path(self.log).expanduser().absolute() if self.log else state_dir() / f"{name}.log"
        check_text(str(path), "--log")
        # the job appends to it every month: a link (or a folder, a pipe) there would take the
        # report's output somewhere flowsql was not asked to write
        if Tree(path.parent).kind(path.name) not in (None, "file"):
            raise UsageError(f"--log: {Tree(path.parent).refusal(path.name).strerror}; give the path of a file")
        return path


# -- the crontab's text ----------------------------------------------------------------------------

def find_blocks(text: str) -> dict[str, tuple[int, int]]:
    """name -> (BEGIN line index, END line index) of every flowsql block; an unfinished or nested
    block is an error (the crontab was edited by hand: nothing is touched)."""
    blocks: dict[str, tuple[int, int]] = {}
    open_name, open_at = None, -1
    for i, line in enumerate(text.splitlines(keepends=True)):
        if m := _BEGIN.match(line):
            if open_name is not None:
                raise FlowsqlError(f"the crontab's flowsql block {open_name} has no END line; fix it with "
                                   "`crontab -e` (flowsql changes nothing until then)")
            open_name, open_at = m[1], i
        elif m := _END.match(line):
            if m[1] != open_name:
                raise FlowsqlError(f"the crontab has an END line for {m[1]} without its BEGIN; fix it with "
                                   "`crontab -e` (flowsql changes nothing until then)")
            if open_name in blocks:
                raise FlowsqlError(f"the crontab has two flowsql blocks {open_name}; fix it with `crontab -e`")
            blocks[open_name] = (open_at, i)
            open_name = None
    if open_name is not None:
        raise FlowsqlError(f"the crontab's flowsql block {open_name} has no END line; fix it with `crontab -e` "
                           "(flowsql changes nothing until then)")
    return blocks


def with_block(text: str, name: str, block: str) -> str:
    """`text` with the block `name` replaced by `block` where it stands, or appended."""
    blocks = find_blocks(text)
    lines = text.splitlines(keepends=True)
    if name in blocks:
        start, end = blocks[name]
        return "".join(lines[:start]) + block + "".join(lines[end + 1:])
    if text and not text.endswith("\n"):
        text += "\n"  # cron needs every entry, the last one too, to end with a line break
    return text + block


def without_block(text: str, name: str) -> str:
    blocks = find_blocks(text)
    if name not in blocks:
        return text
    start, end = blocks[name]
    lines = text.splitlines(keepends=True)
    return "".join(lines[:start]) + "".join(lines[end + 1:])


def cron_word(word: str) -> str:
    """One shell word for a crontab command: shlex.quote, with every `%` outside the quotes and
    escaped for cron (`\\%`), so that cron's own `%` handling hands the shell exactly `word`."""
    if word == "":
        return "''"
    return "\\%".join(shlex.quote(part) if part else "" for part in word.split("%"))


# -- time ------------------------------------------------------------------------------------------

def cron_fields(schedule: Schedule, host, start: date | None = None) -> tuple[str, bool]:
    """The five cron fields in the host's zone `host`, and whether the entry needs a guard (the
    wall time falls on more than one host day/hour/minute over the horizon)."""
    want = schedule.zone()
    start = start or date.today()
    times = set()
    for i in range(HORIZON_MONTHS):
        y, m = divmod(start.month - 1 + i, 12)
        # A wall time in a daylight-saving gap does not exist; zoneinfo maps it with the offset
        # before the gap, and the guard then finds no match that month (as cron itself would).
        t = datetime(start.year + y, m + 1, schedule.day, schedule.hour, schedule.minute, tzinfo=want)
        h = t.astimezone(host)
        times.add((h.day, h.hour, h.minute))
    if len(times) == 1:
        d, hh, mm = times.pop()
        return f"{mm} {hh} {d} * *", False
    minutes, hours, days = ({t[k] for t in times} for k in (2, 1, 0))
    return f"{_list(minutes)} {_list(hours)} {_list(days)} * *", True


def _list(values) -> str:
    return ",".join(str(v) for v in sorted(values))


def host_zone():
    """The zone cron's clock runs in: /etc/localtime (glibc's default), UTC without it."""
    from zoneinfo import ZoneInfo

    try:
        with open("/etc/localtime", "rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return ZoneInfo("UTC")


def _check_zone_on_host(name: str) -> None:
    # The guard's `TZ=NAME date` reads the host's own tz database; glibc silently takes an unknown
    # TZ for UTC, and the guard would then never match.
    if not (ZONEINFO_DIR / name).is_file():
        raise UsageError(f"--timezone {name}: this host's time zone database ({ZONEINFO_DIR}) lacks it, so "
                         "cron could not check the time there; install tzdata, or give the time in the "
                         "host's zone")


def _target(install: bool = False, flowsql: str | None = None, workdir: str | None = None,
            log: str | None = None) -> CronTarget:
    return CronTarget(host_job(flowsql, workdir) if install else None, log=log)


TARGET = TargetSpec("cron", options=("--flowsql", "--workdir", "--log"), factory=_target)
