"""The pack's Athena (Trino) SQL in DuckDB's dialect, for the local engine.

sqlglot does the translation (engine differences it gets wrong, CIDR matching, live in the pack's
macros instead). Translations are cached by the SQL's hash and sqlglot's version, so a query that
ran once neither imports sqlglot nor translates again.
"""

from __future__ import annotations

import hashlib
import os

from ...cache import cache_dir, read_cached, write_cached


def package_version(package: str) -> str:
    """The installed version of `package`, without importing it, for cache keys. Read from the name
    of its `NAME-VERSION.dist-info` folder beside it (importlib.metadata itself costs 17 ms of
    start-up, email and zipfile included); importlib.metadata when that is not one clear answer."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin and spec.submodule_search_locations:
        site = os.path.dirname(os.path.dirname(spec.origin))
        prefix = package.replace("-", "_").lower() + "-"
        try:
            found = [e[len(prefix):-len(".dist-info")] for e in os.listdir(site)
                     if e.endswith(".dist-info") and e.lower().startswith(prefix)]
        except OSError:
            found = []
        if len(found) == 1:
            return found[0]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def to_duckdb(sql: str) -> str:
    key = hashlib.sha256(f"trino>duckdb\0{package_version('sqlglot')}\0{sql}".encode()).hexdigest()
    path = cache_dir("duckdb-sql") / f"{key}.json"
    cached = read_cached(path)
    if isinstance(cached, str):
        return cached
    import sqlglot

    duck = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
    write_cached(path, duck)
    return duck
