"""The engines tests run every engine-wide check for: the registry's names, never a list of our own
(a test that walks ENGINES covers a new engine without an edit)."""

from flowsql.engines import names

ENGINES: tuple[str, ...] = names()
