"""Running a canned query end to end: parameters → render → lint gate → needs → engine → rows."""

from __future__ import annotations

from dataclasses import dataclass

from .engines.base import Engine, Result
from .errors import LintError
from .pack.lint.gate import lint_sql, locate_in_template
from .pack.params import Window
from .pack.queries import Query
from .pack.render import Rendered, render


@dataclass
class Run:
    rendered: Rendered
    result: Result


def prepare(query: Query, given: dict[str, str], engine: Engine, window: Window, *, accounts=(),
            regions=()) -> Rendered:
    """Render for the engine's tables and lint; LintError (with the findings) stops a bad query."""
    target = engine.target()
    rendered = render(query, given, target, window, accounts=accounts, regions=regions)
    findings = lint_sql(rendered.sql, str(query.path), flow_log_table=target.flow_log_tables)
    if findings:
        raise LintError(locate_in_template(findings, query.path, rendered.sql))
    return rendered


def run(query: Query, given: dict[str, str], engine: Engine, window: Window, *, accounts=(),
        regions=()) -> Run:
    """Render, lint, check the query's needs against what the engine has (UsageError when it cannot
    answer; files or inputs left out are named in the result's stats), then execute."""
    rendered = prepare(query, given, engine, window, accounts=accounts, regions=regions)
    engine.require(query, window=window, accounts=accounts, regions=regions)
    return Run(rendered, engine.execute(rendered.sql))
