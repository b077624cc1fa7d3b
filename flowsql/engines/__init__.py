"""The engines a query runs on, one folder each (athena, local); engines.base has what they share.

An engine is a package `flowsql.engines.<name>` whose `ENGINE` (an `EngineSpec`) says everything the
rest of flowsql asks of it: its name, the SQL dialect its rendered SQL is linted in, whether it
needs AWS, its own command-line options, how it describes what it read, its macros (the SQL of each
`dispatch()`ed macro, in `<name>/macros/*.sql`) and a factory that imports its heavy modules (DuckDB,
pyathena) only when an engine is made. Adding an engine is adding its folder and its name to
MODULES; `check_engine()` (and tests/test_engines.py) say what an incomplete one lacks.

Importing this module imports no engine: `names()` is MODULES, and an engine's light module is
imported by `get()` the first time it is asked for.
"""

from __future__ import annotations

import importlib

from ..errors import UsageError
from .options import FLAGS, OPTIONS, EngineOptions  # noqa: F401 (the CLI's engine options, light)

# Every engine, in the order help and lint name them; FALLBACK is the one a command runs on when
# none is chosen and none is selected by its options or set up (see default()).
MODULES = ("athena", "local")
FALLBACK = "local"

_loaded: dict = {}


def names() -> tuple[str, ...]:
    return MODULES


def get(name: str):
    """The EngineSpec of the engine `name`; UsageError naming the known ones for any other name."""
    if name not in MODULES:
        raise UsageError(f"unknown engine {name!r} (known: {', '.join(MODULES)})")
    if name not in _loaded:
        _loaded[name] = load_engine(f"{__name__}.{name}")
    return _loaded[name]


def all_engines() -> list:
    return [get(n) for n in MODULES]


def load_engine(module: str):
    """The ENGINE of an engine package, checked (EngineError when it is incomplete)."""
    spec = getattr(importlib.import_module(module), "ENGINE", None)
    if spec is None:
        raise EngineError(f"engine module {module} has no ENGINE")
    engine = spec() if isinstance(spec, type) else spec
    check_engine(engine, module, macros=False)  # the macros are the tests' to check: no file read at start-up
    return engine


def default(options=None):
    """The engine a command runs on without --engine: the one whose own options select it (the
    local engine when given --source), else the first one that is set up (Athena once `flowsql
    setup` has saved its settings), else FALLBACK."""
    engines = all_engines()
    for e in engines:
        if options is not None and any(getattr(options, o, None) is not None for o in e.selected_by):
            return e
    for e in engines:
        if e.set_up():
            return e
    return get(FALLBACK)


def stats_lines(stats) -> list[str]:
    """What a query did (a Stats), as the CLI says it on stderr: the engine's summary of what it read
    or scanned, then the files skipped or left out and the notes."""
    return stats.lines(get(stats.engine).read_summary(stats.to_dict()))


def choose(name: str | None, options, *, shared=()):
    """The EngineChoice of a command: the engine `name` (--engine), else default(options). An
    option given that belongs to another engine is a UsageError (not silently ignored), except the
    `shared` ones, which the command uses itself whatever the engine."""
    from .base import EngineChoice

    spec = get(name) if name is not None else default(options)
    foreign = spec.foreign(options, shared)
    if foreign:
        owners = [e for e in all_engines() if any(f == e.FLAGS[o] for o in e.options for f in foreign)]
        owner = f"of {owners[0].title} (--engine {owners[0].name}), " if owners else ""
        how = "" if name is not None else " (no --engine given)"
        verb = "is an option" if len(foreign) == 1 else "are options"
        raise UsageError(f"{', '.join(foreign)} {verb} {owner}not of {spec.title}, which this runs on{how}")
    return EngineChoice(spec, options)


class EngineError(Exception):
    """An engine package that lacks something every engine must have (a defect, not a user error)."""


def check_engine(engine, module: str = "", *, macros: bool = True) -> None:
    """Raise EngineError naming what `engine` lacks: an attribute of EngineSpec left unset, a method
    left unimplemented, or a dispatched macro of the shipped pack without `<name>__<macro>` in its
    macros folder."""
    from .base import EngineSpec

    where = module or type(engine).__module__
    if not isinstance(engine, EngineSpec):
        raise EngineError(f"engine {where}: ENGINE is not an EngineSpec")
    missing = [a for a in EngineSpec.REQUIRED if getattr(engine, a, None) in (None, "")]
    missing += [m for m in EngineSpec.METHODS if getattr(type(engine), m) is getattr(EngineSpec, m)]
    if missing:
        raise EngineError(f"engine {where}: missing {', '.join(missing)}")
    if where.startswith(f"{__name__}.") and engine.name != where.rsplit(".", 1)[-1]:
        raise EngineError(f"engine {where}: ENGINE.name is {engine.name!r}, not its folder's name")
    unknown = [o for o in (*engine.options, *engine.selected_by) if o not in EngineSpec.OPTIONS]
    if unknown:
        raise EngineError(f"engine {where}: unknown option(s) {', '.join(unknown)} "
                          f"(the engine options are {', '.join(EngineSpec.OPTIONS)})")
    absent = sorted(dispatched_macros() - engine.macros()) if macros else []
    if absent:
        raise EngineError(f"engine {where}: no {', '.join(f'{engine.name}__{m}' for m in absent)} in "
                          f"{engine.macros_dir()} (the pack dispatches {', '.join(absent)})")


def dispatched_macros(root=None) -> set[str]:
    """The macro names the pack's templates and macros `dispatch()`."""
    import re

    from ..resources import shipped_sql_dir

    root = root or shipped_sql_dir()
    pattern = re.compile(r"""\bdispatch\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)""")
    found: set[str] = set()
    for path in sorted([*root.glob("macros/*.sql"), *root.glob("queries/*.sql")]):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found
