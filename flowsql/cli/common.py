"""The Typer app and what every command shares (options, error handling, output); `main()` is in main.py.

Each command group lives in its own module of this package and registers itself on `app` through
`command()`; heavy modules (duckdb, sqlfluff, sqlglot, boto3, pyathena) are imported inside the
commands that need them, so `flowsql --help` stays fast.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from ..errors import FlowsqlError, LintError, UsageError


class _NoRepeats:
    """An option that takes one value, given twice, is an error, not a silent "last one wins"."""

    def parse_args(self, ctx, args):
        if not ctx.resilient_parsing:
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            seen: set[str] = set()
            for param in order:
                if getattr(param, "multiple", False) or param.param_type_name != "option" or param.count:
                    continue
                if param.name in seen:
                    raise typer.BadParameter("given more than once (it takes one value)", ctx=ctx, param=param)
                seen.add(param.name)
        return super().parse_args(ctx, args)


class Command(_NoRepeats, TyperCommand):
    pass


class Group(_NoRepeats, TyperGroup):
    pass


app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Turn AWS VPC Flow Logs into evidence: canned, linted SQL on Athena or on local files, posture "
         "checks and a monthly report.\n\n"
         "Example: flowsql query top-destinations --engine local --source ./logs --since 2026-11-01",
)


@app.callback()
def _root() -> None:
    # A callback keeps `flowsql` a group when only one command module is loaded (see
    # cli/main.py): a Typer app of one command would otherwise run it without its name.
    pass


def sub_app(name: str, help: str) -> typer.Typer:
    """A command group (`flowsql inventory …`), with the same conventions as the top level."""
    group = typer.Typer(cls=Group, no_args_is_help=True, help=help, rich_markup_mode=None)
    app.add_typer(group, name=name)
    return group


class Terminated(KeyboardInterrupt):
    """SIGTERM, or SIGHUP (the terminal went away), handled like Ctrl-C (temporary files removed)
    but reported as such, with the shell's exit code for the signal (128 + its number)."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(signum)
        self.signum = signum
        self.word = "hangup" if signum == signal.SIGHUP else "terminated"
        self.code = 128 + signum


def _terminal(text, keep: str = "") -> str:
    from ..output import terminal_text

    return terminal_text(text, keep)


def err(message: str) -> None:
    """One error line on stderr (data quoted in it cannot act on the terminal: output.terminal_text)."""
    _write(sys.stderr, f"flowsql: error: {_terminal(message)}\n")


def note(message: str) -> None:
    """A line on stderr for the user (progress, what was left out, what was assumed); a line break
    or control character in it is shown escaped, so one note is one line."""
    _write(sys.stderr, f"{_terminal(message)}\n")


class OutputError(FlowsqlError):
    """Standard output could not be written (a full disk, a closed descriptor)."""


class BrokenPipe(Exception):
    """The reader of our output went away (`| head -1`): not an error, stop quietly."""


def _write(stream, text: str) -> None:
    if stream is None:
        if stream is sys.stderr:
            return
        raise OutputError("cannot write the output: standard output is closed")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise BrokenPipe() from None
    except OSError as e:
        if stream is sys.stderr:
            return  # nowhere left to say it
        raise OutputError(f"cannot write the output: {e.strerror or e}") from None
    except ValueError:  # I/O operation on a closed file
        if stream is not sys.stderr:
            raise OutputError("cannot write the output: standard output is closed") from None


def out(text: str, nl: bool = True, *, raw: bool = False) -> None:
    """Text on stdout; a failed write becomes one error line (exit 1), a closed pipe a quiet stop.
    Control characters are shown escaped (line breaks and tabs kept) unless `raw`: JSON, which
    escapes them itself, and CSV and SQL, which must stay byte for byte what they are."""
    _write(sys.stdout, (text if raw else _terminal(text, "\n\t")) + ("\n" if nl else ""))


def fail(e: FlowsqlError) -> None:
    if isinstance(e, LintError):
        for f in e.findings:
            note(str(f))
        err(f"lint found {len(e.findings)} problem(s) in the rendered query; it was not run")
    else:
        err(_one_line(str(e)))
    raise typer.Exit(e.exit_code)


def _one_line(text: str, limit: int = 2000) -> str:
    """An error fit for one line: whitespace folded, at most `limit` characters (data quoted in an
    error can be anything)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def command(group: typer.Typer, name: str):
    """Register a command whose errors become one line and an exit code: FlowsqlError → its code,
    Ctrl-C → "interrupted" (130), SIGTERM → "terminated" (143), SIGHUP → "hangup" (129). Cleanup
    runs in the command's own `finally` blocks before the message is printed."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except FlowsqlError as e:
                fail(e)
            except Terminated as e:
                err(e.word)
                raise typer.Exit(e.code)
            except KeyboardInterrupt:
                err("interrupted")
                raise typer.Exit(130)

        return group.command(name, cls=Command)(wrapper)

    return decorate


# --- shared options and helpers -----------------------------------------------------------------

class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class ListFormat(str, Enum):
    table = "table"
    json = "json"


ParamOpt = typer.Option(None, "--param", "-p", metavar="NAME=VALUE",
                        help="A query parameter (repeatable); `flowsql queries` lists them.")
SinceOpt = typer.Option(None, "--since", metavar="DAY",
                        help="First UTC day (YYYY-MM-DD, today, yesterday, -Nd); default: 6 days before --until.")
UntilOpt = typer.Option(None, "--until", metavar="DAY", help="Last UTC day, inclusive; default: today.")
AccountOpt = typer.Option(None, "--account", metavar="ID",
                          help="Only this account's logs (repeatable or comma-separated).")
RegionOpt = typer.Option(None, "--region", metavar="REGION",
                         help="Only logs of this region (repeatable or comma-separated).")
ProfileOpt = typer.Option(None, "--profile", help="The AWS CLI profile (default: AWS_PROFILE, then the default chain).")
AwsRegionOpt = typer.Option(None, "--region", help="The AWS region (default: AWS_REGION / the profile's region).")


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector off for a block that makes many objects and keeps them (it would
    walk all of them again and again, finding no cycle); on again after it, as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def out_folder(value: str | None, option: str = "--out") -> Path | None:
    """A folder option's value: empty or blank is a usage error (a Path would read it as `.`, the current
    folder), an existing file is refused before any work. The folder itself may be a link to a folder (the
    user named it, as with `cp` or `aws s3 sync`); nothing below it is ever followed when flowsql removes,
    replaces or tidies."""
    if value is None:
        return None
    if not value.strip():
        raise UsageError(f"{option}: empty value")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {value} is a file, not a folder")
    return path


def split(values: Optional[List[str]]) -> list[str]:
    """Repeated and comma-separated option values, as the AWS CLI accepts lists."""
    items: list[str] = []
    for v in values or []:
        items += [x.strip() for x in v.split(",") if x.strip()]
    return items


def ids(values: Optional[List[str]], option: str, kind: str) -> list[str]:
    """--account/--region values, checked like a typed parameter; an empty value is an error."""
    from ..pack.params import ParamSpec

    items = split(values)
    if values and not items:
        raise UsageError(f"{option}: empty value")
    spec = ParamSpec(option.lstrip("-"), kind)
    for item in items:
        try:
            spec.parse(item)
        except UsageError as e:
            raise UsageError(f"{option}: {str(e).split(': ', 1)[-1]}") from None
    return items


def window(since, until):
    from ..pack.params import Window

    return Window.from_options(since, until)


class Spinner:
    """A spinner on stderr while work runs, only when stderr is a terminal."""

    def __init__(self, text: str):
        self.text = text
        self._status = None

    def __enter__(self):
        if sys.stderr is not None and sys.stderr.isatty():
            from rich.console import Console
            from rich.text import Text

            # the text names data (a query, a month, addresses): printed as text, never as rich markup
            self._status = Console(stderr=True, markup=False, highlight=False, emoji=False).status(
                Text(_terminal(self.text)))
            self._status.__enter__()
        return self

    def update(self, text: str) -> None:
        if self._status is not None:
            from rich.text import Text

            self._status.update(Text(_terminal(text)))

    def __exit__(self, *exc):
        if self._status is not None:
            try:
                self._status.__exit__(*exc)
            except OSError:  # the terminal went away (a hangup): what ends the run is reported instead
                pass
        return False


def print_rows(columns, rows, output: OutputFormat, title=None, types: dict | None = None) -> None:
    """Rows as JSON, CSV or a table; `types` (a query's declared columns, Query.columns) changes how
    a table shows them (a time as ISO 8601), never JSON or CSV."""
    from .. import output as fmt

    if output is OutputFormat.json:
        out(fmt.to_json(columns, rows), raw=True)
    elif output is OutputFormat.csv:
        out(fmt.to_csv(columns, rows), nl=False, raw=True)
    elif sys.stdout is not None and sys.stdout.isatty():
        try:
            fmt.print_rich_table(columns, rows, title=title, file=sys.stdout, types=types)
        except BrokenPipeError:
            raise BrokenPipe() from None
        except OSError as e:
            raise OutputError(f"cannot write the output: {e.strerror or e}") from None
    else:
        out(((title + "\n") if title else "") + fmt.to_text_table(columns, rows, types), nl=False)
