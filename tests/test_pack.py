"""One test per query of the pack, found by discovery: the contract every query must keep."""

from datetime import date

import pytest
import sqlglot

from flowsql import engines
from flowsql.engines.base import Target
from flowsql.engines.local.engine import LocalEngine
from flowsql.pack.lint.gate import lint_sql
from flowsql.pack.params import Window
from flowsql.pack.queries import SEVERITIES, load_pack
from flowsql.pack.render import render, used_names

PACK = load_pack()
WINDOW = Window(date(2026, 10, 1), date(2026, 10, 3))


def test_pack_has_the_first_three_queries():
    assert {"top-destinations", "rejects-by-subnet", "lambda-egress"} <= {q.name for q in PACK}


@pytest.mark.parametrize("query", PACK, ids=lambda q: q.name)
def test_query_contract(query, tmp_path):
    # header
    assert query.path.name == f"{query.name}.sql"
    assert query.title and query.description and query.severity in SEVERITIES
    for p in query.parameters:
        p.check()
        assert p.description, f"{query.name}: parameter {p.name} has no description"
    # declared parameters = used parameters
    assert used_names(query) == {p.name for p in query.parameters}
    assert set(query.example) <= {p.name for p in query.parameters}

    for engine in engines.all_engines():  # every registered engine
        target = engine.lint_target()
        for given in (query.example, query.required_example()):
            sql = render(query, given, target, WINDOW, accounts=["123456789012"]).sql
            # lints clean, including the partition-bound rule
            assert lint_sql(sql, query.name, flow_log_table=target.flow_log_tables, dialect=engine.dialect) == []
            # parses as Trino (what Athena engine v3 runs)
            sqlglot.parse_one(sql, read="trino")
            assert "2026/10/01" in sql and "2026/10/03" in sql

    # runs on the local engine (an empty tree: the SQL must bind and execute)
    (tmp_path / "AWSLogs").mkdir()
    engine = LocalEngine(tmp_path, WINDOW)
    result = engine.execute(render(query, query.example, engine.target(), WINDOW).sql)
    assert result.rows == [] and result.columns
    engine.close()


@pytest.mark.parametrize("query", PACK, ids=lambda q: q.name)
def test_the_declared_fields_are_enough(query):
    """The query binds and runs against a table holding only the fields its header declares (plus the
    partition columns): a field it reads without declaring it fails here, not on a user's tree."""
    import duckdb

    from flowsql.engines.base import PARTITION_COLUMNS
    from flowsql.logs.fields import BY_COLUMN
    from flowsql.logs.tgw_fields import TGW_BY_COLUMN
    from flowsql.inventory import TABLES
    from flowsql.resources import local_functions_sql
    from flowsql.engines.local.translate import to_duckdb

    columns = query.needs.columns
    con = duckdb.connect()
    con.execute(local_functions_sql())
    by_column, table = (TGW_BY_COLUMN, "tgw_flow_logs") if query.table == "tgw" else (BY_COLUMN, "flow_logs")
    cols = [f'"{c}" {by_column[c].duckdb_type}' for c in sorted(columns)] + [f"{p} VARCHAR" for p in PARTITION_COLUMNS]
    con.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
    types = {"string": "VARCHAR", "boolean": "BOOLEAN"}
    for table, tcols in TABLES.items():
        con.execute(f"CREATE TABLE inventory_{table} ({', '.join(f'{c} {types[t]}' for c, t in tcols)})")
    target = Target("local", columns=frozenset(columns))
    for given in (query.example, query.required_example()):
        con.execute(to_duckdb(render(query, given, target, WINDOW).sql)).fetchall()


def test_a_required_parameter_needs_an_example(tmp_path):
    """The lint gate and the tests above render the example's required values in place of the
    defaults: a query that cannot be rendered that way is refused when the pack is read."""
    from flowsql.pack.queries import HeaderError, parse_query

    header = ("{#-\ntitle: T\ndescription: D\nseverity: info\nparameters:\n  address:\n    type: ip\n"
              "    required: true\n    description: A.\n")
    p = tmp_path / "q.sql"
    p.write_text(header + "-#}\nSELECT 1\n")
    with pytest.raises(HeaderError, match="required parameter address needs a value in `example`"):
        parse_query(p)
    p.write_text(header + "example:\n  address: 10.0.0.1\n-#}\nSELECT 1\n")
    assert parse_query(p).required_example() == {"address": "10.0.0.1"}


@pytest.mark.parametrize("query", PACK, ids=lambda q: q.name)
def test_compliance_ids_have_the_documented_form(query):
    """docs/queries.md, Findings: `FRAMEWORK:ID`, or `related: FRAMEWORK:ID` for a configuration control."""
    import re

    for c in query.compliance:
        assert re.fullmatch(r"(related: )?[A-Za-z][A-Za-z0-9.-]*:[A-Za-z0-9.]+", c), f"{query.name}: {c!r}"
    assert not query.compliance or query.is_finding, f"{query.name}: compliance ids on a query that is no finding"


def _flow_log_reads(sql: str, table: str = "vpc_flow_logs") -> int:
    """How many times Athena reads the flow-log table for this SQL: Trino does not materialise a WITH
    query, so every reference to a CTE that reads the table reads it again."""
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="trino")
    ctes = {c.alias_or_name: c.this for c in tree.find_all(exp.CTE)}
    memo: dict[str, int] = {}

    def reads(node) -> int:
        n = 0
        for t in node.find_all(exp.Table):
            if t.name == table:
                n += 1
            elif t.name in ctes and not t.db:
                if t.name not in memo:
                    memo[t.name] = reads(ctes[t.name])
                n += memo[t.name]
        return n

    main = tree.copy()
    for cte in main.find_all(exp.With):
        cte.pop()
    return reads(main)


@pytest.mark.parametrize("query", PACK, ids=lambda q: q.name)
def test_athena_reads_the_flow_log_table_once(query):
    """Athena bills every read of the table: a query reads it once (a CTE used twice reads it twice)."""
    target = Target("athena", flow_logs="flowsql.vpc_flow_logs", tgw_flow_logs="flowsql.tgw_flow_logs")
    table, other = ("tgw_flow_logs", "vpc_flow_logs") if query.table == "tgw" else ("vpc_flow_logs", "tgw_flow_logs")
    for given in (query.example, query.required_example()):
        sql = render(query, given, target, WINDOW, accounts=["123456789012"]).sql
        assert _flow_log_reads(sql, table) == 1 and _flow_log_reads(sql, other) == 0, sql


@pytest.mark.parametrize("query", PACK, ids=lambda q: q.name)
def test_every_query_is_documented_in_the_readme_and_docs(query):
    """A user finds each query in the README's table and its semantics and columns in
    docs/queries.md (the oracles follow that text)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert f"| `{query.name}` |" in (root / "README.md").read_text(encoding="utf-8")
    assert f"\n### {query.name}\n" in (root / "docs" / "queries.md").read_text(encoding="utf-8")
