"""Transit Gateway flow logs in the local engine: their own view, never mixed into `flow_logs`.

A tree may hold both kinds of file under the same `vpcflowlogs/` folders (AWS delivers them there);
the header tells them apart (flowsql/logs/tgw_fields.py). Both are checked alike before they are read
(integrity.py); then the VPC flow logs make the view `flow_logs`, and the Transit Gateway flow logs
the view `tgw_flow_logs`: every v6 Transit Gateway field in its format's order (NULL where a file's
format lacks it) plus the partition columns. A query reads one table (its header's `table:`), and a
VPC query over a tree with Transit Gateway files says that it left them out.
"""

from __future__ import annotations

from ...logs.tgw_fields import TGW_FIELDS, is_tgw
from .integrity import ADDRESS_FIELDS, sql_path

VIEW = "tgw_flow_logs"


def split_by_kind(checked: list) -> tuple[list, list]:
    """(VPC flow-log files, Transit Gateway flow-log files) of checked files (integrity.Checked)."""
    vpc, tgw = [], []
    for c in checked:
        (tgw if is_tgw(c.fmt) else vpc).append(c)
    return vpc, tgw


def left_out_note(n: int) -> str:
    """The one line a VPC-flow-log query gives when the window holds Transit Gateway files."""
    return (f"left out {n:,} Transit Gateway flow-log file(s): their records are no VPC flow-log records "
            "(the tgw-* queries read them)")


def view_sql(files: list, duck_path, partition_re: str) -> str:
    """CREATE VIEW tgw_flow_logs over the checked Transit Gateway files (`duck_path(path)`: the path
    DuckDB reads; `partition_re`: the regular expression of a file path's partition)."""
    groups: dict[tuple, list[str]] = {}
    for c in files:
        groups.setdefault((c.file.kind, c.fmt, c.canonical), []).append(duck_path(c.file.path))
    selects = []
    for (kind, fmt, canonical), paths in groups.items():
        present = set(fmt.columns)

        def column(f) -> str:
            if f.column not in present:
                return f'CAST(NULL AS {f.duckdb_type}) AS "{f.column}"'
            if not canonical and f.name in ADDRESS_FIELDS:  # one text per address (integrity.py)
                c = f'"{f.column}"'
                return f"CASE WHEN contains({c}, ':') THEN flowsql_addr({c}) ELSE {c} END AS {c}"
            return f'CAST("{f.column}" AS {f.duckdb_type}) AS "{f.column}"'

        projection = ", ".join(column(f) for f in TGW_FIELDS)
        listed = ", ".join(sql_path(p) for p in paths)
        if kind == "parquet":
            reader = f"read_parquet([{listed}], filename=true)"
        else:
            cols = ", ".join(f"'{f.column}': '{f.duckdb_type}'" for f in fmt.fields)
            reader = (f"read_csv([{listed}], delim=' ', header=true, nullstr='-', quote='', escape='', "
                      f"auto_detect=false, compression='auto', filename=true, columns={{{cols}}})")
        selects.append(
            f"SELECT {projection}, p.a AS aws_account_id, p.r AS aws_region, "
            f"p.y || '/' || p.m || '/' || p.d AS day FROM ("
            f"SELECT *, regexp_extract(filename, '{partition_re}', ['a', 'r', 'y', 'm', 'd']) AS p "
            f"FROM {reader})"
        )
    if not selects:
        empty = ", ".join(f'CAST(NULL AS {f.duckdb_type}) AS "{f.column}"' for f in TGW_FIELDS)
        selects.append(f"SELECT {empty}, CAST(NULL AS VARCHAR) AS aws_account_id, "
                       f"CAST(NULL AS VARCHAR) AS aws_region, CAST(NULL AS VARCHAR) AS day WHERE false")
    return f"CREATE OR REPLACE VIEW {VIEW} AS " + "\nUNION ALL\n".join(selects)
