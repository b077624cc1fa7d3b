"""Computing the shipped lint results at install: `python -m flowsql.pack.lint.ship` (`make install`
runs it) lints every pack template's renderings once and writes the clean shapes' keys where
shipped.py reads them (shipped.py says what a shape is and why a shape known clean may skip sqlfluff)."""

from __future__ import annotations

import sys
from pathlib import Path

from . import gate
from ...engines import get
from .settings import LINT_ACCOUNTS, engine_names, lint_target, lint_window
from .shipped import VERSION, _loaded, _own_hash, path, shape, template_hash


def _variants():
    """The renderings a template is linted in besides its parameters: the filters a query may be run
    with (none, accounts, regions). The window's dates and seconds are values: every window has one shape."""
    for accounts in ((), LINT_ACCOUNTS):
        for regions in ((), ("us-east-1",)):
            yield lint_window(), accounts, regions


def build(root: Path | None = None, out: Path | None = None) -> dict:
    """Lint every pack template's renderings (each engine, its example and its defaults, the variants
    above) and write the clean shapes' keys to `out`; for the installed pack (no `root`), the templates'
    compiled code to compiled.SHIPPED. Returns {"templates": n, "shapes": n, "linted": n, "compiled": n}."""
    from ...files import write_atomic, dumps_json
    from ...resources import sql_dir
    from .. import compiled
    from ..queries import load_pack

    installed = root is None  # the installed pack: its compiled templates are shipped too
    root = root or sql_dir()
    templates: dict[str, list[str]] = {}
    linted = 0
    with compiled.recording() as code:  # the templates' compiled code too, for compiled.SHIPPED
        for query in load_pack(root):
            digest = template_hash(query.path)
            if digest is not None:
                keys, n = _clean_shapes(query, root)
                templates[digest], linted = sorted(keys), linted + n
    if installed:
        write_atomic(compiled.SHIPPED, dumps_json(code, separators=(",", ":")))
    out = out or path()
    write_atomic(out, dumps_json({"version": VERSION, "shapes": _own_hash(), "templates": templates}, separators=(",", ":")))
    _loaded.pop(str(out), None)
    return {"templates": len(templates), "shapes": sum(map(len, templates.values())), "linted": linted,
            "compiled": len(code)}


def _clean_shapes(query, root: Path) -> tuple[set[str], int]:
    """The keys of the shapes of one template's renderings that lint clean, and how many were linted."""
    from ...errors import FlowsqlError
    from ..params import resolve
    from ..render import render_text

    keys: set[str] = set()
    seen: set[tuple] = set()
    for engine in engine_names():
        target = lint_target(engine)
        dialect = get(engine).dialect
        for given in (query.example, query.required_example()):
            for window, accounts, regions in _variants():
                try:
                    values = resolve(list(query.parameters), given)
                    sql = render_text(query.body, values, target, window, accounts=accounts,
                                      regions=regions, root=root)
                except FlowsqlError:
                    continue  # the gate lints what renders; `flowsql lint` reports the rest
                s = shape(sql)
                tables = target.flow_log_tables  # as the runner lints a query's SQL
                if (s, tables, dialect) in seen:
                    continue
                seen.add((s, tables, dialect))
                if not gate._sqlfluff(s, tables, dialect):
                    keys.add(gate._key(s, ",".join(tables), dialect))
    return keys, len(seen)


def compute_at_install() -> int:
    from .. import compiled

    try:
        figures = build()
    except Exception as e:  # noqa: BLE001 - an optimisation: install goes on without it
        print(f"flowsql: lint results not computed ({type(e).__name__}: {e}); the first queries lint "
              "their SQL when they run", file=sys.stderr)
        return 0
    print(f"flowsql: lint results of {figures['templates']} pack queries computed ({figures['shapes']} clean "
          f"renderings) into {path()}, their {figures['compiled']} templates compiled into "
          f"{compiled.SHIPPED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(compute_at_install())
