"""The systemd target: a user service and timer, `NAME.service` + `NAME.timer`.

The units go to `$XDG_CONFIG_HOME/systemd/user/` (`~/.config/systemd/user/`), where the user's
systemd finds them; install then runs `systemctl --user daemon-reload` and `systemctl --user enable
--now NAME.timer` when a user manager is reachable, and prints those commands otherwise. With
`--unit-dir DIR` the units are only written there (for a system-wide /etc/systemd/system, a
container image, a review) and the commands are printed.

The timer fires on `OnCalendar=*-*-DD HH:MM:00 ZONE` (systemd evaluates the zone itself, daylight
saving included) with `Persistent=true`: a run missed while the machine was off happens at the next
boot. A user's timers run while the user has a session, unless lingering is on
(`loginctl enable-linger USER`).

**Quoting.** ExecStart= is no shell line: systemd splits it into words itself, expanding `%`
specifiers and `$VAR` references. A word made only of safe characters is written as is; any other is
double-quoted with `\\` and `"` escaped, `%` doubled and `$` doubled (systemd.service(5), "Command
lines"); a lone `;` (a command separator there) is written `\\;`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ..errors import UsageError
from .host import HostJob, check_text, host_job
from .owned import read_ours, remove_ours, write_ours
from .plan import Installed, Plan, Step, absent
from .spec import MANAGED_BY, PREFIX, Schedule, runnable_engine
from .target_spec import TargetSpec

MAX_UNIT_BYTES = 1 << 20  # a unit flowsql writes is a few hundred bytes
_SAFE = re.compile(r"^[A-Za-z0-9_+=:,./@-]+$")


def default_unit_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "systemd" / "user"


class SystemdTarget:
    kind = "systemd"

    def __init__(self, job: HostJob | None = None, *, unit_dir: str | None = None, systemctl: str = "systemctl",
                 analyze: str = "systemd-analyze"):
        self.job = job
        # Only units in the user's own unit folder are enabled here: units written elsewhere are
        # for someone else to install, and a test's temporary folder must never reach the
        # developer's real systemd.
        self.managed = unit_dir is None
        self.unit_dir = (Path(unit_dir).expanduser() if unit_dir else default_unit_dir()).absolute()
        check_text(str(self.unit_dir), "--unit-dir")
        self.systemctl = systemctl
        self.analyze = analyze

    # -- the interface ------------------------------------------------------------------------

    def plan(self, schedule: Schedule) -> Plan:
        if self.job is None:
            raise ValueError("installing needs a HostJob")
        from ..engines.athena import config

        runnable_engine(schedule.report_args, config.exists())  # a job that could only fail is refused
        self._check_calendar(schedule)
        files = {self._path(schedule.name, "service"): self.service(schedule),
                 self._path(schedule.name, "timer"): self.timer(schedule)}
        existing = {p: self._read_ours(p) for p in files}
        plan = Plan(self.kind, schedule.name, existed=any(t is not None for t in existing.values()))
        for path, text in files.items():
            have = existing[path]
            if have == text:
                plan.steps.append(Step("keep", str(path), text))
            else:
                plan.steps.append(Step("update" if have is not None else "create", str(path), text,
                                       lambda path=path, text=text: self._write(path, text)))
        timer = f"{schedule.name}.timer"
        commands = ["systemctl --user daemon-reload", f"systemctl --user enable --now {timer}"]
        if self.managed and self._reachable():
            if plan.changes:
                plan.steps.append(Step("run", " && ".join(commands), run=lambda: self._systemctl(
                    ["daemon-reload"], ["enable", "--now", timer])))
            elif self._state(timer) != "enabled":
                plan.steps.append(Step("run", commands[1], run=lambda: self._systemctl(["enable", "--now", timer])))
        else:
            where = "" if self.managed else f" (after copying the units to {default_unit_dir()} or a system unit folder)"
            plan.notes.append(f"to start the timer, run{where}: {' && '.join(commands)}")
        plan.notes.append("a user timer runs only while you have a session, unless lingering is on: "
                          f"loginctl enable-linger {_user()}")
        return plan

    def removal(self, name: str) -> Plan:
        paths = [p for p in (self._path(name, "service"), self._path(name, "timer")) if self._read_ours(p) is not None]
        if not paths:
            raise UsageError(absent(name, str(self.unit_dir), sorted(i.name for i in self.list())))
        plan = Plan(self.kind, name, kind="remove", existed=True)
        timer = f"{name}.timer"
        reachable = self.managed and self._reachable()
        if reachable:
            plan.steps.append(Step("run", f"systemctl --user disable --now {timer}",
                                   run=lambda: self._systemctl(["disable", "--now", timer], check=False)))
        for p in paths:
            plan.steps.append(Step("delete", str(p), run=lambda p=p: remove_ours(self.unit_dir, p)))
        if reachable:
            plan.steps.append(Step("run", "systemctl --user daemon-reload",
                                   run=lambda: self._systemctl(["daemon-reload"])))
        elif not self.managed:
            plan.notes.append(f"if the timer was enabled from a copy, run: systemctl --user disable --now {timer}")
        else:
            plan.notes.append(f"no user systemd reachable here: run `systemctl --user disable --now {timer}` "
                              "in your session")
        return plan

    def list(self) -> list[Installed]:
        found = []
        reachable = self.managed and self._reachable()
        for path in sorted(self.unit_dir.glob(f"{PREFIX}*.timer")):
            text = self._read_ours(path)
            if text is None:
                continue
            name = path.name[: -len(".timer")]
            s = Schedule.from_metadata(text)
            calendar = next((ln.split("=", 1)[1] for ln in text.splitlines() if ln.startswith("OnCalendar=")), "?")
            found.append(Installed(name, self.kind, s.describe() if s else calendar, str(path),
                                   s.command() if s else "?",
                                   self._state(path.name) if reachable else ""))
        return found

    # -- what is written ----------------------------------------------------------------------

    def service(self, schedule: Schedule) -> str:
        job = self.job
        env = "".join(f'Environment="{_quoted(f"{k}={v}", dollars=False)}"\n' for k, v in job.env)
        exec_start = " ".join(unit_word(w, first=i == 0) for i, w in enumerate(job.argv(schedule)))
        return (f"# {schedule.name}.service ({MANAGED_BY}): "
                f"`flowsql schedule remove --target systemd --name {schedule.name}` removes it\n"
                f"# {schedule.metadata()}\n"
                "[Unit]\n"
                f"Description=flowsql monthly report ({schedule.name})\n"
                "\n[Service]\n"
                "Type=oneshot\n"
                f"WorkingDirectory={job.workdir.replace('%', '%%')}\n"
                f"{env}"
                f"ExecStart={exec_start}\n")

    def timer(self, schedule: Schedule) -> str:
        return (f"# {schedule.name}.timer ({MANAGED_BY}): "
                f"`flowsql schedule remove --target systemd --name {schedule.name}` removes it\n"
                f"# {schedule.metadata()}\n"
                "[Unit]\n"
                f"Description=Run {schedule.name}.service on {schedule.describe()}\n"
                "\n[Timer]\n"
                f"OnCalendar={on_calendar(schedule)}\n"
                "Persistent=true\n"
                "\n[Install]\n"
                "WantedBy=timers.target\n")

    # -- helpers ------------------------------------------------------------------------------

    def _path(self, name: str, ext: str) -> Path:
        return self.unit_dir / f"{name}.{ext}"

    def _read_ours(self, path: Path) -> str | None:
        """The unit's text if flowsql wrote it; None when absent; a UsageError for someone else's
        (a link or anything but a regular file included)."""
        return read_ours(self.unit_dir, path, "choose another --name, or move it away", MAX_UNIT_BYTES)

    def _write(self, path: Path, text: str) -> None:
        write_ours(self.unit_dir, path, text)

    def _check_calendar(self, schedule: Schedule) -> None:
        """systemd's own reading of the OnCalendar= value, where systemd-analyze is installed: it
        refuses a time zone systemd does not know, which would leave the timer dead."""
        tool = shutil.which(self.analyze)
        if not tool:
            return
        r = subprocess.run([tool, "calendar", on_calendar(schedule)], capture_output=True, text=True)
        if r.returncode != 0:
            raise UsageError(f"systemd cannot read the calendar {on_calendar(schedule)!r}: "
                             f"{' '.join(r.stderr.split()) or 'systemd-analyze failed'}")

    def _reachable(self) -> bool:
        tool = shutil.which(self.systemctl)
        if not tool:
            return False
        r = subprocess.run([tool, "--user", "show-environment"], capture_output=True)
        return r.returncode == 0

    def _state(self, unit: str) -> str:
        r = subprocess.run([shutil.which(self.systemctl) or self.systemctl, "--user", "is-enabled", unit],
                           capture_output=True, text=True)
        return r.stdout.strip() or "unknown"

    def _systemctl(self, *commands: list[str], check: bool = True) -> None:
        from ..errors import FlowsqlError

        for args in commands:
            r = subprocess.run([shutil.which(self.systemctl) or self.systemctl, "--user", *args],
                               capture_output=True, text=True)
            if r.returncode != 0 and check:
                raise FlowsqlError(f"`systemctl --user {' '.join(args)}` failed: {' '.join(r.stderr.split())}")


def on_calendar(schedule: Schedule) -> str:
    return f"*-*-{schedule.day:02d} {schedule.hour:02d}:{schedule.minute:02d}:00 {schedule.timezone}"


def unit_word(word: str, first: bool = False) -> str:
    """One word of an ExecStart= line, as systemd will split and unescape it back to `word` (the
    first word's leading `@-:+!` are prefixes to systemd: quoted there)."""
    if word == ";":
        return "\\;"
    if _SAFE.match(word) and not (first and word[0] in "@-:+!"):
        return word
    return f'"{_quoted(word)}"'


def _quoted(text: str, dollars: bool = True) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return text.replace("$", "$$") if dollars else text


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _target(install: bool = False, flowsql: str | None = None, workdir: str | None = None,
            unit_dir: str | None = None) -> SystemdTarget:
    return SystemdTarget(host_job(flowsql, workdir) if install else None, unit_dir=unit_dir)


TARGET = TargetSpec("systemd", options=("--flowsql", "--workdir", "--unit-dir"), factory=_target)
