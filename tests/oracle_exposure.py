"""Oracles of the exposure queries (docs/queries.md): plain Python over the generated records.

Imported by oracle.py, whose `@oracle` registers each function in ORACLES.
"""

from __future__ import annotations

from oracle import oracle  # noqa: F401
