"""The report's sections: one module per section, found by discovery, shown in `ORDER`.

A section module holds:

    KEY = "trends"            # its key in report.json (and the HTML anchor)
    TITLE = "Trends"          # its heading
    ORDER = 30                # where it stands in the report
    def plan(ctx) -> [Job]    # the queries it needs; it may read its own inputs here (errors early)
    def build(ctx) -> dict    # its part of report.json, from ctx.outcome(job)
    def html(part, report) -> str       # its HTML (flowsql.report.render_html has the pieces)
    def markdown(part, report) -> str   # its Markdown (flowsql.report.render_md has the pieces; every
                                        # value from the data through its text() or code_span())
    def gate(ctx) -> str | None         # optional: after its queries ran, why the report cannot be
                                        # evaluated at all (then no later query runs)

Adding a section is adding a file here (its part in report.schema.json, and its test); there is no
list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from ...errors import FlowsqlError

_API = ("KEY", "TITLE", "ORDER", "plan", "build", "html", "markdown")


@lru_cache(maxsize=1)
def discover() -> tuple:
    """Every section module of this package, checked, in ORDER."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        missing = [a for a in _API if not hasattr(module, a)]
        if missing:
            raise FlowsqlError(f"report section {info.name}: missing {', '.join(missing)}")
        found.append(module)
    keys = [m.KEY for m in found]
    if len(set(keys)) != len(keys):
        raise FlowsqlError(f"report sections share a KEY: {sorted(keys)}")
    return tuple(sorted(found, key=lambda m: (m.ORDER, m.KEY)))
