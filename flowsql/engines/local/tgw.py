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
from . import view

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
    selects = [view.select(TGW_FIELDS, fmt, canonical, view.reader(kind, fmt, paths), partition_re)
               for (kind, fmt, canonical), paths in groups.items()]
    return view.create_view(VIEW, TGW_FIELDS, selects)
