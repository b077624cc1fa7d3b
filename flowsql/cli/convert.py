"""`flowsql convert`: a text tree as Parquet, laid out as AWS delivers Parquet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .common import AccountOpt, RegionOpt, app, command, ids, note, out, out_folder


@command(app, "convert")
def convert_cmd(
    source: Path = typer.Option(..., "--source", "-s", metavar="DIR", help="A folder holding AWSLogs/ (text logs)."),
    out_dir: str = typer.Option(..., "--out", "-o", metavar="DIR", help="Where the Parquet tree goes (its own folder)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="DAY", help="First UTC day (default: all)."),
    until: Optional[str] = typer.Option(None, "--until", metavar="DAY", help="Last UTC day (default: today)."),
    account: Optional[List[str]] = AccountOpt,
    region: Optional[List[str]] = RegionOpt,
    skip_bad_files: bool = typer.Option(False, "--skip-bad-files", help="Leave out unreadable files (listed)."),
):
    """Convert text flow logs to Parquet (one file per day and log format, Hive-compatible prefixes, as AWS
    delivers Parquet), so queries read a fraction of the bytes. Incremental: a day whose input files did not
    change is skipped; an interrupted run resumes. Query the result like any tree: --source OUT. A day whose
    converted files became unreadable or went away keeps its old Parquet and is named (exit 1).

    Example: flowsql convert --source ./logs --out ./logs-parquet && flowsql query top-talkers --source ./logs-parquet
    """
    from ..engines.local.convert import FIRST_DAY, convert
    from ..pack.params import Window, parse_day, today_utc

    def day(option, text, default):
        if text is None:
            return default
        from ..errors import UsageError

        try:
            return parse_day(text)
        except UsageError as e:
            raise UsageError(f"{option}: {e}") from None

    out_dir = out_folder(out_dir)
    w = Window(day("--since", since, FIRST_DAY), day("--until", until, today_utc()))
    if w.since > w.until:
        from ..errors import UsageError

        raise UsageError(f"--since {w.since} is after --until {w.until}: the window is reversed")
    bar = _Progress()
    try:
        result = convert(source, out_dir, window=w, accounts=ids(account, "--account", "account_id"),
                         regions=ids(region, "--region", "region"), skip_bad_files=skip_bad_files,
                         progress=bar.update)
    finally:
        bar.close()
    for path, reason in result.bad_files:
        note(f"  skipped {path}: {reason}")
    out(f"converted {result.days_converted} day(s) ({result.files_read:,} file(s), {result.records:,} records) "
        f"into {out_dir}; {result.days_skipped} day(s) unchanged since the last run")
    if result.kept:
        from ..errors import DataError
        from ..logs.layout import day_prefix

        for account, region, day, lost in result.kept:
            more = f" and {len(lost) - 1} more" if len(lost) > 1 else ""
            note(f"  KEPT the old Parquet of {account} {region} {day}: it holds {lost[0]}{more}, now unreadable or "
                 f"gone; restore it, or delete {out_dir / day_prefix(account, region, day, hive=True)} to convert "
                 "the day from what is left")
        raise DataError(f"{len(result.kept)} day(s) not converted: their inputs lost files their Parquet holds "
                        "(named above); their old Parquet is kept")


class _Progress:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""

    def __init__(self):
        self._bar = None
        self._task = None

    def update(self, done: int, total: int, what: str) -> None:
        if sys.stderr is None or not sys.stderr.isatty():
            return
        if self._bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("converting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 TextColumn("{task.description}", markup=False), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("", total=total)
        from ..output import terminal_text

        self._bar.update(self._task, completed=done, description=terminal_text(what))

    def close(self) -> None:
        if self._bar is not None:
            try:
                self._bar.stop()
            except OSError:  # the terminal went away (a hangup): what ends the run is reported instead
                pass
