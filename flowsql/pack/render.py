"""Rendering a query template for an engine: typed parameters in, Athena (Trino) SQL out.

Templates may print only typed values: parameter `Literal`s, identifiers made by `col()`, CIDRs made
by `cidr()`, macro output and numbers. Printing a plain string is a render error, so nothing a user
types can reach SQL except through its type's literal rendering.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from pathlib import Path

from ..engines.base import INVENTORY_TABLES, PARTITION_COLUMNS, Target
from ..errors import RenderError
from ..logs.fields import BY_COLUMN
from ..resources import sql_dir
from .params import Literal, LiteralList, ParamSpec, Window, quote, resolve
from .queries import Query, split_header

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")

# Names a template may use besides its parameters (given by the renderer, not the user).
CONTEXT_NAMES = frozenset({
    "engine", "flow_logs", "tgw_flow_logs", "columns", "window_since", "window_until", "window_start_second", "window_end_second",
    "accounts", "regions", "col",
    "cidr", "column", "dispatch", *(f"inventory_{t}" for t in INVENTORY_TABLES),
})


class Identifier(Literal):
    """A validated (possibly qualified) SQL identifier, printed as is."""

    __slots__ = ()


def col(name) -> Identifier:
    text = str(name)
    if not _IDENT.fullmatch(text):
        raise RenderError(f"not an identifier: {text!r}")
    return Identifier(text, text)


def cidr(text) -> Literal:
    try:
        net = ipaddress.ip_network(str(text), strict=True)
    except ValueError:
        raise RenderError(f"not a CIDR block: {text!r}") from None
    return Literal(str(net), quote(str(net)))


def _finalize(value):
    from markupsafe import Markup

    if isinstance(value, (Literal, Markup)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if value is None:
        raise RenderError("template prints an unset value (guard optional parameters with {% if %})")
    raise RenderError(
        f"template prints a raw {type(value).__name__} {str(value)[:40]!r}: values reach SQL only "
        "as typed literals (parameters, col(), cidr())"
    )


# Filters that cannot make SQL text out of a value; every other filter is removed.
_FILTERS = ("default", "d", "length", "count", "first", "last", "list", "sort", "unique", "select",
            "reject", "batch")


def _environment(root: Path):
    import jinja2
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator
    from jinja2.sandbox import SandboxedEnvironment

    class NoConstantOutput(CodeGenerator):
        # Jinja folds `{{ 'text' }}` at compile time past `finalize`; evaluating every output at
        # render time makes a printed string constant fail like any other raw string.
        def _output_child_to_const(self, node, frame, finalize):
            raise nodes.Impossible()

    class Env(SandboxedEnvironment):
        code_generator_class = NoConstantOutput
        # `'x' * 10**9` would be folded at compile time, before any limit applies: these operators
        # run at render time, through call_binop, which bounds what they make.
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context, operator, left, right):
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SQL_CHARS:
                        raise RenderError(f"template makes a sequence of more than {MAX_SQL_CHARS:,} items")
            if operator == "**" and isinstance(right, int) and abs(right) > 64:
                raise RenderError("template raises a number to a power above 64")
            return super().call_binop(context, operator, left, right)

        def is_safe_attribute(self, obj, attr, value):
            # A literal's raw value and string methods would let a template print text unquoted.
            if isinstance(obj, (Literal, str)):
                return False
            return super().is_safe_attribute(obj, attr, value)

    from .compiled import CodeCache

    env = Env(
        loader=jinja2.FileSystemLoader(str(root)),
        bytecode_cache=CodeCache(),  # compiled once, not at every rendering (compiled.py)
        autoescape=True,  # so that macro output is Markup and plain strings can be told apart
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters = {k: v for k, v in env.filters.items() if k in _FILTERS}
    env.globals.pop("lipsum", None)  # random text: nothing a query needs
    return env


@dataclass(frozen=True)
class Rendered:
    query: str  # query name, or a file path for ad-hoc files
    engine: str
    sql: str


def context_for(target: Target, window: Window, accounts=(), regions=()) -> dict:
    """The non-parameter names a template sees."""
    def day(d):
        return Literal(d, quote(d.strftime(target.day_format)))

    def lits(values, spec_type):
        """--account/--region values as one list literal, checked like a parameter of that type."""
        if not values:
            return None
        return ParamSpec(spec_type.removesuffix("_id"), f"list[{spec_type}]").parse(list(values))

    def column(name, alias=None):
        """A flow-log column, or a typed NULL where this table's log format lacks the field."""
        name = str(name)
        if name in target.columns or name in PARTITION_COLUMNS:
            return col(f"{alias}.{name}" if alias else name)
        field = BY_COLUMN.get(name)
        if field is None:
            raise RenderError(f"unknown flow-log column {name!r}")
        sql_type = {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR"}[field.kind]
        return Identifier(None, f"cast(NULL AS {sql_type})")

    import jinja2

    return {
        "dispatch": jinja2.pass_context(_dispatch),
        "engine": target.engine,
        "flow_logs": col(target.flow_logs),
        "tgw_flow_logs": col(target.tgw_flow_logs),
        **{f"inventory_{k}": col(v) for k, v in target.inventory.items()},
        "columns": sorted(target.columns),
        "window_since": day(window.since),
        "window_until": day(window.until),
        # the window as Unix seconds, for queries over its hours: its first second (since, 00:00
        # UTC) and the second after its last hour, never later than the start of the current hour
        # (an hour still under way, or to come, is no hour without records)
        "window_start_second": _epoch(window.since),
        "window_end_second": window_end_second(window),
        "accounts": lits(accounts, "account_id"),
        "regions": lits(regions, "region"),
        "col": col,
        "cidr": cidr,
        "column": column,
    }


def _dispatch(context, name):
    """`dispatch('m')`: the engine's own macro `<engine>__m` (flowsql/engines/<engine>/macros/), as
    dbt's adapter.dispatch. An engine without it is a render error, never another engine's SQL."""
    engine = context.get("engine")
    macro = context.get(f"{engine}__{name}")
    if macro is None or not callable(macro):
        raise RenderError(f"macro {name!r} has no implementation for engine {engine!r}: no macro "
                          f"{engine}__{name} in flowsql/engines/{engine}/macros/")
    return macro


def window_end_second(window: Window, now: float | None = None) -> int:
    """The second after the window's last hour: the day after `until` at 00:00 UTC, or the start of
    the current hour when that is earlier."""
    import time

    now = time.time() if now is None else now
    return min(_epoch(window.until + timedelta(days=1)), int(now) - int(now) % 3600)


def _epoch(d) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp())


def _macros(env, root: Path, engine_files=()) -> dict:
    """Every macro of sql/macros/*.sql and of the engine's macros folder (`engine_files`: the
    implementations `dispatch()` finds), callable from templates and each other.

    A module sees the globals of the moment it is made, so the macros are made once per file:
    after n passes a chain of n macros calling each other resolves, in any file order.
    """
    from . import compiled

    templates = [env.get_template(f"macros/{p.name}") for p in sorted((root / "macros").glob("*.sql"))]
    templates += [compiled.from_string(env, Path(p).read_text(encoding="utf-8"), str(p)) for p in engine_files]
    out: dict = {}
    for _ in range(max(1, len(templates))):
        env.globals.update(out)
        for template in templates:
            module = template.make_module(dict(env.globals))
            out.update({n: getattr(module, n) for n in dir(module) if not n.startswith("_")})
    return out


def engine_macro_files(engine: str) -> list[Path]:
    """The files of the engine's dispatched macros (UsageError for an engine flowsql does not have)."""
    from ..engines import get

    return get(engine).macro_files()


def render_text(body: str, values: dict, target: Target, window: Window, *, accounts=(), regions=(),
                root: Path | None = None) -> str:
    """Render template text with already-parsed parameter values."""
    import jinja2

    from . import compiled

    root = root or sql_dir()
    env = _environment(root)
    env.globals.update(context_for(target, window, accounts, regions))
    env.globals.update(_macros(env, root, engine_macro_files(target.engine)))
    try:
        sql = _bounded(lambda: compiled.from_string(env, body), values)
    except RenderError:
        raise
    except jinja2.exceptions.SecurityError as e:
        raise RenderError(f"template uses something unsafe: {e}") from None
    except jinja2.TemplateError as e:
        raise RenderError(f"template error: {e}") from None
    except RecursionError:
        raise RenderError("template error: nested or recursive beyond Python's stack (a macro that "
                          "calls itself without end?)") from None
    except MemoryError:
        raise RenderLimit(f"template needs more than {RENDER_MEMORY >> 20:,} MiB to render") from None
    except (OverflowError, ValueError, SyntaxError, TypeError, ArithmeticError) as e:
        # the sandbox's bound on range(), int() of 4,300 digits, Python's limit on nested blocks…
        raise RenderError(f"template error: {' '.join(str(e).split())[:300]}") from None
    return _tidy(sql)


# A template is code from a query pack, perhaps a user's own: its rendering is bounded in time and
# size, so a loop that never ends or prints without end is an error, not a hang.
RENDER_SECONDS = 10
MAX_SQL_CHARS = 1_000_000
RENDER_MEMORY = 1 << 30  # bytes of address space a rendering may add to the process


class RenderLimit(RenderError):
    """A template that reached a bound of the rendering (time, memory): no other rendering of it
    would end sooner."""


class RenderTimeout(RenderLimit):
    """A template that did not finish rendering in RENDER_SECONDS."""


def _bounded(compile_template, values: dict) -> str:
    parts, size = [], 0
    with _time_limit(RENDER_SECONDS), _memory_limit(RENDER_MEMORY):
        template = compile_template()  # compiling is bounded too
        for chunk in template.generate(**values):
            size += len(chunk)
            if size > MAX_SQL_CHARS:
                raise RenderError(f"template renders more than {MAX_SQL_CHARS:,} characters of SQL")
            parts.append(chunk)
    return "".join(parts)


@contextlib.contextmanager
def _memory_limit(extra: int):
    """Let the process's address space grow by at most `extra` bytes while a template renders
    (RLIMIT_AS): an allocation beyond it is a MemoryError, not gigabytes taken from the machine.
    Where the limit cannot be set, only the time and size bounds apply."""
    try:
        import resource

        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft != resource.RLIM_INFINITY and soft <= limit:
            yield  # already bounded more tightly
            return
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise RenderError in the main thread after `seconds` (SIGALRM); elsewhere no limit."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise RenderTimeout(f"template took more than {seconds:g} s to render (a loop that does not end?)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _tidy(sql: str) -> str:
    lines = [line.rstrip() for line in sql.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"


_PACKAGE = Path(__file__).resolve().parent.parent  # flowsql/


def render(query: Query, given: dict[str, str], target: Target, window: Window, *, accounts=(),
           regions=(), root: Path | None = None) -> Rendered:
    """Parse the user's parameters against the query's declaration and render it for `target`.

    Renderings are cached by everything they depend on (the template, the macros, the parameters'
    SQL literals, the target, the window, the filters, the code of the pack, the engines and the
    fields, Jinja's version), so a query rendered once before does not even import Jinja."""
    from ..cache import cache_dir, read_cached, write_cached

    values = resolve(list(query.parameters), given)
    root = root or sql_dir()
    key = _render_key(query, values, target, window, accounts, regions, root)
    path = cache_dir("render") / f"{key}.json"
    sql = read_cached(path)
    if not isinstance(sql, str):
        sql = render_text(query.body, values, target, window, accounts=accounts, regions=regions, root=root)
        write_cached(path, sql)
    return Rendered(query.name, target.engine, sql)


def _render_key(query: Query, values: dict, target: Target, window: Window, accounts, regions, root: Path) -> str:
    import hashlib

    from .. import __version__
    from ..cache import source_digest
    from ..engines.local.translate import package_version

    h = hashlib.sha256()

    def part(text) -> None:
        h.update(str(text).encode())
        h.update(b"\0")

    part(__version__)
    # everything a rendering can depend on, whole folders rather than a list that forgets a new file:
    # this package (the renderer, parameters, headers), the engines' and the fields' code, the macros
    part(source_digest(_PACKAGE / "pack", _PACKAGE / "engines", _PACKAGE / "logs", Path(root, "macros")))
    part(package_version("jinja2"))
    part(query.path.read_bytes())
    for name in sorted(values):
        part(name)
        part(None if values[name] is None else values[name].sql)
    part(repr((target.engine, target.flow_logs, target.tgw_flow_logs, sorted(target.columns), target.day_format,
               sorted(target.inventory.items()), window.since, window.until, window_end_second(window),
               list(accounts), list(regions))))
    return h.hexdigest()


def used_names(query: Query, root: Path | None = None) -> set[str]:
    """The undeclared names a template uses: should be its parameters plus CONTEXT_NAMES and macros."""
    import jinja2
    from jinja2 import meta

    root = root or sql_dir()
    env = _environment(root)
    names = meta.find_undeclared_variables(env.parse(split_header(query.path.read_text())[1]))
    return set(names) - set(_macros(env, root)) - CONTEXT_NAMES
