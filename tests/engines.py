"""The engines tests run every engine-wide check for: the registry's names, never a list of our own.

Until flowsql.engines has its registry (flowsql.engines.names()), the names it will answer; point
ENGINES at it then, and a test that walks ENGINES covers a new engine without an edit.
"""

ENGINES: tuple[str, ...] = ("athena", "local")
