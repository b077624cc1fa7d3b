"""FS01, the partition rule: every read of the flow-log table bounds its partition column `day`.

A query over the flow-log table without a literal bound on `day` scans every file ever delivered
(on Athena, billed per byte). The one implementation of the rule: the lint gate (flowsql/pack/lint/gate.py) and
`sqlfluff lint` (flowsql/pack/lint/sqlfluff_plugin) both run it through the sqlfluff rule that calls
`unbounded_reads`.

What counts as bounded: in the WHERE of the SELECT that reads the table (a bound in an outer query,
in the query that reads a CTE, or in a subquery does not count), a term of the top-level AND chain
(not under OR or NOT) that is `day BETWEEN a AND b`, `day IN (a, …)`, `day = a`, or one lower and one
upper comparison (`day >= a`, `b > day`, …), with literals on the other side. `day` may be qualified
by the table's name or alias. Only reads count: a CREATE, DROP or INSERT target is not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE = "FS01"
NAME = "flowsql.partition_bound"  # sqlfluff's name of the rule: its config section is rules:<NAME>
# the names `flowsql lint FILE` looks for, and the plugin's default (plugin_default_config.cfg):
# `flowsql setup` names further flow-log tables vpc_flow_logs_2, _3, …
DEFAULT_TABLES = ("flow_logs", "vpc_flow_logs", "vpc_flow_logs_*", "tgw_flow_logs", "tgw_flow_logs_*")


@dataclass(frozen=True)
class UnboundedRead:
    offset: int  # where the table reference starts in the SQL text (0-based character offset)
    message: str


def parse_tables(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """Table names from a config value (`flow_logs, x.vpc_flow_logs, logs_*`), lower case, as bare
    names: a name matches a reference to it however the reference is qualified; `*` matches any
    run of name characters."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(dict.fromkeys(i.strip().split(".")[-1].strip('"`').lower() for i in items if i.strip()))


def _name_pattern(tables: tuple[str, ...]) -> re.Pattern:
    """One regex for the bare names (`*` = any name characters), matching a whole name."""
    alts = ["[a-z0-9_]*".join(map(re.escape, t.split("*"))) for t in tables]
    return re.compile(r"(?<![\w$])(?:%s)(?![\w$])" % "|".join(alts), re.I)


def unbounded_reads(sql: str, tables, *, dialect: str = "trino") -> list[UnboundedRead]:
    """The reads of `tables` in `sql` (one or more statements) whose SELECT does not bound `day`.

    SQL that sqlglot cannot parse is reported (at the first mention of a table) when it mentions one of
    the tables: the bound cannot be checked, and an unchecked query is not let through.
    """
    import sqlglot
    from sqlglot import exp

    wanted = parse_tables(tables)
    if not wanted:
        return []
    name = _name_pattern(wanted)
    mention = name.search(sql)
    if mention is None:  # cheap, and keeps unparseable SQL about other tables out of it
        return []
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect or None) if t is not None]
    except sqlglot.errors.SqlglotError as e:
        # the description only: renderings of one template then report one finding, not one per line
        errors = getattr(e, "errors", None) or [{}]
        why = errors[0].get("description") or str(e).splitlines()[0] or type(e).__name__
        return [UnboundedRead(mention.start(), f"cannot check the partition bound: the SQL does not parse "
                                               f"as {dialect or 'SQL'} ({why})")]
    out = []
    for tree in trees:
        for t in tree.find_all(exp.Table):
            if not name.fullmatch(t.name):
                continue
            select = t.find_ancestor(exp.Select)
            if select is None:  # DDL, INSERT's target, DROP, …: not a read
                continue
            where = select.args.get("where")
            if where is not None and _bounds_day(where.this, {t.alias_or_name.lower(), t.name.lower()}):
                continue
            out.append(UnboundedRead(_start(t, sql), f"query over {t.name} does not bound the partition column "
                                                     "day with literals in its WHERE (a full scan)"))
    return out


def _start(table, sql: str) -> int:
    """The offset of a table reference's first part (catalog, db or name) in `sql`."""
    starts = [p.meta["start"] for p in (table.args.get("catalog"), table.args.get("db"), table.this)
              if p is not None and "start" in p.meta]
    if starts:
        return min(starts)
    found = sql.lower().find(table.name.lower())
    return max(found, 0)


def _bounds_day(condition, names: set[str]) -> bool:
    from sqlglot import exp

    def terms(node):
        if isinstance(node, exp.Paren):
            return terms(node.this)
        if isinstance(node, exp.And):
            return terms(node.left) + terms(node.right)
        return [node]

    def is_day(node):
        return isinstance(node, exp.Column) and node.name.lower() == "day" and (
            not node.table or node.table.lower() in names)

    def lit(node):
        return isinstance(node, exp.Literal)

    lower = upper = False
    for term in terms(condition):
        if isinstance(term, exp.Between) and is_day(term.this) and lit(term.args["low"]) and lit(term.args["high"]):
            return True
        if isinstance(term, exp.In) and is_day(term.this) and term.expressions and all(map(lit, term.expressions)):
            return True
        if isinstance(term, exp.EQ) and ((is_day(term.left) and lit(term.right)) or (is_day(term.right) and lit(term.left))):
            return True
        if isinstance(term, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
            day_left = is_day(term.left) and lit(term.right)
            day_right = is_day(term.right) and lit(term.left)
            if not (day_left or day_right):
                continue
            from_below = isinstance(term, (exp.GT, exp.GTE)) == day_left
            lower, upper = lower or from_below, upper or not from_below
    return lower and upper
