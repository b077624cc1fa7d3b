"""What a run on this host (cron, systemd) needs beyond the schedule: how to start flowsql, the
folder to run in, and the environment a bare job lacks.

A job started by cron or systemd has none of the login shell's environment: no virtualenv on PATH,
no FLOWSQL_CONFIG. So the job names flowsql by absolute path (by default the Python running this
command, `-m flowsql`: the same installation the user just ran), runs in the folder `install` ran
in (relative report options such as `--out ./reports` mean what they meant there), and is given
FLOWSQL_CONFIG, the settings file `flowsql setup` wrote as this command resolves it.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .spec import Schedule


@dataclass(frozen=True)
class HostJob:
    command: tuple[str, ...]  # how to start flowsql: (python, "-m", "flowsql") or (path,)
    workdir: str
    env: tuple[tuple[str, str], ...] = ()

    def argv(self, schedule: Schedule) -> list[str]:
        return [*self.command, *schedule.report_argv()]


def host_job(flowsql: str | None = None, workdir: str | None = None) -> HostJob:
    """The job for this host. `flowsql`: the flowsql executable to run (a path, or a name on PATH);
    `workdir`: the folder to run in (default: the current one)."""
    from ..engines.athena.config import config_path

    if flowsql:
        found = shutil.which(flowsql)
        if not found:
            raise UsageError(f"--flowsql: {flowsql!r} is not an executable file (or a command on PATH)")
        command: tuple[str, ...] = (str(Path(found).absolute()),)
    else:
        command = (str(Path(sys.executable).absolute()), "-m", "flowsql")
    wd = Path(workdir).expanduser() if workdir else Path.cwd()
    if not wd.is_dir():
        raise UsageError(f"--workdir: {str(wd)!r} is not a folder")
    wd = wd.resolve()
    check_text(str(wd), "--workdir")
    cfg = str(config_path().expanduser().absolute())
    check_text(cfg, "FLOWSQL_CONFIG")
    return HostJob(command=command, workdir=str(wd), env=(("FLOWSQL_CONFIG", cfg),))


def check_text(value: str, what: str) -> str:
    """A path or value that goes on one line of a crontab or unit file."""
    if any(c in value for c in "\n\r\0"):
        raise UsageError(f"{what}: {value!r} holds a line break, which cannot be scheduled")
    return value


def state_dir() -> Path:
    """$XDG_STATE_HOME/flowsql, else ~/.local/state/flowsql: where cron jobs write their output."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "flowsql"
