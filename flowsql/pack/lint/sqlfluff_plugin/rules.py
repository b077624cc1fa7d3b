"""Rule FS01 as sqlfluff runs it: the partition bound of flowsql.partition_bound on the templated SQL."""

from __future__ import annotations

from sqlfluff.core.rules import BaseRule, LintResult, RuleContext
from sqlfluff.core.rules.crawlers import RootOnlyCrawler

from ..partition_bound import NAME, parse_tables, unbounded_reads

# sqlfluff dialects that sqlglot knows by another name; others go by their own name, or sqlglot's
# generic SQL when it has no such dialect
_SQLGLOT_NAMES = {"ansi": "", "sparksql": "spark", "greenplum": "postgres"}


def _sqlglot_dialect(name: str) -> str:
    from sqlglot.dialects.dialect import Dialect

    name = _SQLGLOT_NAMES.get(name, name)
    try:
        Dialect.get_or_raise(name or None)
    except ValueError:
        return ""
    return name


class Rule_FS01(BaseRule):
    """Reads of the flow-log table must bound the partition column ``day`` with literals.

    A query over the flow-log table without a bound on ``day`` reads every file ever delivered: on
    Athena a full scan, billed per byte. The bound must be in the ``WHERE`` of the ``SELECT`` that
    reads the table, in its top-level ``AND`` chain (not under ``OR`` or ``NOT``; a bound in an outer
    query or a subquery does not count): ``day BETWEEN a AND b``, ``day IN (a, …)``, ``day = a``, or a
    lower and an upper comparison, with literals on the other side. Which tables are flow-log tables:
    ``flow_log_tables`` (a name matches however it is qualified).

    **Anti-pattern**

    Reading the table with no bound on ``day``, or only one side of it.

    .. code-block:: sql

        SELECT dstaddr, sum(bytes) AS bytes
        FROM vpc_flow_logs
        WHERE action = 'REJECT' AND day >= '2026/11/01'
        GROUP BY dstaddr

    **Best practice**

    Bound ``day`` on both sides, in the ``WHERE`` of the query that reads the table.

    .. code-block:: sql

        SELECT dstaddr, sum(bytes) AS bytes
        FROM vpc_flow_logs
        WHERE day BETWEEN '2026/11/01' AND '2026/11/07' AND action = 'REJECT'
        GROUP BY dstaddr
    """

    name = NAME
    groups = ("all", "flowsql")
    config_keywords = ["flow_log_tables"]
    crawl_behaviour = RootOnlyCrawler()
    # The table reference may come from a template variable ({{ flow_logs }}): report it there too.
    targets_templated = True

    def _eval(self, context: RuleContext):
        tables = parse_tables(self.flow_log_tables)
        if not tables or context.templated_file is None:
            return None
        sql = context.templated_file.templated_str
        found = unbounded_reads(sql, tables, dialect=_sqlglot_dialect(context.dialect.name))
        if not found:
            return None
        segments = [s for s in context.segment.raw_segments if s.pos_marker and not s.is_meta]
        out = []
        for read in found:
            anchor = next((s for s in segments if s.pos_marker.templated_slice.stop > read.offset), None)
            out.append(LintResult(anchor=anchor or context.segment, description=read.message))
        return out
