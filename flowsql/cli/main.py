"""The console script: `main()` registers the command asked for (every command for `--help` or anything
unknown), runs the app, and turns whatever escapes a command into one line and an exit code."""

from __future__ import annotations

import os
import signal
import sys

import typer

from ..errors import FlowsqlError
from .common import BrokenPipe, OutputError, Terminated, _one_line, app, err, out

# The module that registers each top-level command (a test checks that this map is complete).
COMMANDS = {
    "queries": "query", "render": "query", "query": "query", "lint": "query",
    "diagnose": "diagnose", "convert": "convert", "demo": "demo",
    "setup": "account", "iam-policy": "account", "inventory": "inventory",
    "posture": "posture", "schedule": "schedule", "report": "report", "pull": "pull",
    "investigate": "investigate",
}
_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


def load_commands(first: str | None = None) -> None:
    """Register the command `first` names (every command when it names none); command modules
    import nothing heavy, and register themselves on the app when imported."""
    import importlib

    for name in ((COMMANDS[first],) if first in COMMANDS else _MODULES):
        importlib.import_module(f"{__package__}.{name}")


def _is_usage_error(e: Exception) -> bool:
    # typer's argument errors (click's UsageError family, vendored by typer): exit code 2 and a message
    return getattr(e, "exit_code", None) == 2 and callable(getattr(e, "format_message", None))


def on_sigterm(signum, frame):
    raise Terminated(signum)


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def main() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is signal.SIG_DFL:  # not under nohup, which ignores SIGHUP
            signal.signal(sig, on_sigterm)
    code = 0
    try:
        load_commands(sys.argv[1] if len(sys.argv) > 1 else None)
        code = app(standalone_mode=False) or 0
    except BrokenPipe:
        _quiet_stdout()
        code = 0
    except Terminated as e:
        err(e.word)
        code = e.code
    except (KeyboardInterrupt, typer.Abort) as e:
        cause = getattr(e, "__context__", None)
        terminated = isinstance(cause, Terminated)
        err(cause.word if terminated else "interrupted")
        code = cause.code if terminated else 130
    except FlowsqlError as e:  # raised outside a command's own handling
        err(_one_line(e))
        code = e.exit_code
    except Exception as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # `flowsql` or a group alone: its help
            ctx = getattr(e, "ctx", None)
            try:
                out(ctx.get_help() if ctx else e.format_message())
            except (BrokenPipe, OutputError):
                pass
            code = 2
        elif _is_usage_error(e):
            ctx = getattr(e, "ctx", None)
            err(_one_line(e.format_message()) + (f" (see `{ctx.command_path} --help`)" if ctx else ""))
            code = 2
        elif isinstance(e, BrokenPipeError):
            _quiet_stdout()
            code = 0
        elif isinstance(e.__context__, KeyboardInterrupt):  # failed while stopping (a dead terminal)
            cause = e.__context__
            err(cause.word if isinstance(cause, Terminated) else "interrupted")
            code = cause.code if isinstance(cause, Terminated) else 130
        elif os.environ.get("FLOWSQL_DEBUG"):
            raise
        else:  # a defect: one line, the traceback only on request
            err(_one_line(f"internal error: {type(e).__name__}: {e} (set FLOWSQL_DEBUG=1 for a traceback)", 300))
            code = 1
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except (OSError, ValueError) as e:
        if code == 0:
            err(f"cannot write the output: {getattr(e, 'strerror', None) or e}")
            code = 1
    sys.exit(code)


def entry() -> None:
    """The `flowsql` command (and `python -m flowsql`): main(), then the process ends at once.
    main() has flushed what it wrote, and every command removes what it made in its own `finally`
    blocks; the interpreter's teardown (unloading DuckDB and every module) would only add 20 ms to
    each run."""
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
