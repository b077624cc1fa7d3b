"""The SQL of a local view over checked files (`flow_logs`, engine.py; `tgw_flow_logs`, tgw.py): one
SELECT per group of files read alike (kind, format, spelling of addresses), every field of the table in
its order (NULL where a group's format lacks it), and the partition columns read from each file's path."""

from __future__ import annotations

from .integrity import ADDRESS_FIELDS, sql_path


def column(f, present: set[str], canonical: bool) -> str:
    """Field `f` of a group whose format has the columns `present`; addresses of a file not known to
    spell them as AWS does are given one text each (integrity.py)."""
    if f.column not in present:
        return f'CAST(NULL AS {f.duckdb_type}) AS "{f.column}"'
    if not canonical and f.name in ADDRESS_FIELDS:
        c = f'"{f.column}"'
        return f"CASE WHEN contains({c}, ':') THEN flowsql_addr({c}) ELSE {c} END AS {c}"
    return f'CAST("{f.column}" AS {f.duckdb_type}) AS "{f.column}"'


def reader(kind: str, fmt, paths: list[str]) -> str:
    """DuckDB's reader of a group's files (Parquet, or the text format's fields typed)."""
    listed = ", ".join(sql_path(p) for p in paths)
    if kind == "parquet":
        return f"read_parquet([{listed}], filename=true)"
    cols = ", ".join(f"'{f.column}': '{f.duckdb_type}'" for f in fmt.fields)
    return (f"read_csv([{listed}], delim=' ', header=true, nullstr='-', quote='', escape='', "
            f"auto_detect=false, compression='auto', filename=true, columns={{{cols}}})")


def select(fields, fmt, canonical: bool, source: str, partition_re: str) -> str:
    """One group's SELECT of `fields` from `source` (a reader), with its partition columns."""
    present = set(fmt.columns)
    projection = ", ".join(column(f, present, canonical) for f in fields)
    return (f"SELECT {projection}, p.a AS aws_account_id, p.r AS aws_region, "
            f"p.y || '/' || p.m || '/' || p.d AS day FROM ("
            f"SELECT *, regexp_extract(filename, '{partition_re}', ['a', 'r', 'y', 'm', 'd']) AS p "
            f"FROM {source})")


def create_view(name: str, fields, selects: list[str]) -> str:
    """CREATE VIEW `name` as the union of `selects`; with none, an empty view of the same columns."""
    if not selects:
        empty = ", ".join(f'CAST(NULL AS {f.duckdb_type}) AS "{f.column}"' for f in fields)
        selects = [f"SELECT {empty}, CAST(NULL AS VARCHAR) AS aws_account_id, "
                   f"CAST(NULL AS VARCHAR) AS aws_region, CAST(NULL AS VARCHAR) AS day WHERE false"]
    return f"CREATE OR REPLACE VIEW {name} AS " + "\nUNION ALL\n".join(selects)
