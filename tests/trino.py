"""SQL rendered for Athena, run on DuckDB with a limit of Trino's that DuckDB lacks.

Athena (Trino) refuses a `sequence()` of more than 10,000 elements ("result of sequence function
must not have more than 10000 entries"); DuckDB's `generate_series` has no such cap, so the local
engine alone can never show a query that breaks it. Here the Athena SQL is translated by sqlglot
as the local engine translates it, every `sequence()` replaced by a macro that fails as Trino
would, and run over a table `flowsql.vpc_flow_logs` holding the given records (the partition
columns as Athena has them: `day` as `YYYY/MM/DD`).
"""

from __future__ import annotations

from flowsql.engines.base import Target

TABLE = "flowsql.vpc_flow_logs"
TARGET = Target("athena", flow_logs=TABLE)
SEQUENCE_MAX = 10_000

_MACRO = f"""
CREATE MACRO trino_sequence(a, b, s := 1) AS
    CASE WHEN (b - a) // s + 1 > {SEQUENCE_MAX}
         THEN error('result of sequence function must not have more than {SEQUENCE_MAX} entries')
         ELSE generate_series(a, b, s) END
"""


def to_duckdb_with_trino_limits(sql: str) -> str:
    import sqlglot
    from sqlglot import exp

    def swap(node):
        if isinstance(node, exp.GenerateSeries):
            args = [node.args["start"], node.args["end"]] + ([node.args["step"]] if node.args.get("step") else [])
            return exp.Anonymous(this="trino_sequence", expressions=args)
        return node

    return sqlglot.parse_one(sql, read="trino").transform(swap).sql("duckdb")


def run(sql: str, records: list[dict], columns: dict[str, str]) -> list[dict]:
    """Run Athena-rendered `sql` over `records` (each a dict with `columns`' keys plus
    aws_account_id, aws_region and day as a date); rows as dicts."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(_MACRO)
        con.execute("CREATE SCHEMA flowsql")
        cols = {**columns, "aws_account_id": "VARCHAR", "aws_region": "VARCHAR", "day": "VARCHAR"}
        con.execute(f"CREATE TABLE {TABLE} (" + ", ".join(f'"{c}" {t}' for c, t in cols.items()) + ")")
        rows = [tuple(r["day"].strftime("%Y/%m/%d") if c == "day" else r[c] for c in cols) for r in records]
        if rows:
            con.executemany(f"INSERT INTO {TABLE} VALUES ({', '.join('?' for _ in cols)})", rows)
        cur = con.execute(to_duckdb_with_trino_limits(sql))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
