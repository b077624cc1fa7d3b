"""Where flowsql's data files live: the query pack (`sql/`) and the table definitions (`glue/`).

The one place that knows it. In a wheel they sit inside the package (pyproject's force-include); in
a source checkout, at the top of the repository. `FLOWSQL_SQL_DIR` replaces the query pack with a
team's own copy (queries added), and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resources_dir(name: str) -> Path:
    """`sql`, `glue`, …: inside the installed package (wheel) or at the top of a source checkout."""
    for candidate in (_HERE / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"flowsql's {name}/ folder is missing from the installation")


def shipped_sql_dir() -> Path:
    """The query pack flowsql ships."""
    return resources_dir("sql")


def sql_dir() -> Path:
    """The query pack in use: $FLOWSQL_SQL_DIR (a folder with queries/ and macros/, e.g. a team's own
    copy of the pack with queries added) or the one flowsql ships."""
    own = os.environ.get("FLOWSQL_SQL_DIR")
    return Path(own) if own else shipped_sql_dir()


def local_functions_sql() -> str:
    """The DuckDB functions the local engine creates in each session (always the shipped ones: they
    are the engine's, not the pack's)."""
    return (_HERE / "engines" / "local" / "functions.sql").read_text(encoding="utf-8")


def glue_definition_path() -> Path:
    return resources_dir("glue") / "tables.yaml"
