"""The canned queries as Athena named queries: what `flowsql setup` saves in the workgroup.

Each query is rendered against the default table of a setup (with its account/region filters,
which an injected projection requires) for a 7-day window ending today, and must pass the lint gate.
Only the window's days differ from one day's run to the next; setup does not count that as a
change (provision._without_window).
"""

from __future__ import annotations

from ..engines.athena.config import Config, athena_target
from ..errors import FlowsqlError


def canned_named_queries(cfg: Config) -> list[tuple[str, str, str]]:
    """(name, description, SQL) of every query in the pack, for the tables `cfg` names."""
    from ..pack.lint.gate import lint_sql
    from ..pack.queries import load_pack
    from ..pack.params import Window
    from ..pack.render import render

    target = athena_target(cfg)
    table = cfg.table()
    accounts, regions = table.partition_filters()
    window = Window.from_options(None, None)
    day_words = table.day_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    tgw = cfg.tgw_table()
    out = []
    for q in load_pack():
        if q.table == "tgw" and tgw is None:  # no Transit Gateway flow-log table to read
            continue
        # a required parameter (an address, an ENI) takes the query's example value: edit it in the console
        given = q.required_example()
        if q.table == "tgw":  # rendered for the Transit Gateway table's own layout and projection
            t_accounts, t_regions = tgw.partition_filters()
            sql = render(q, given, athena_target(cfg, tgw.name), window, accounts=t_accounts, regions=t_regions).sql
        else:
            sql = render(q, given, target, window, accounts=accounts, regions=regions).sql
        findings = lint_sql(sql, str(q.path), flow_log_table=target.flow_log_tables)
        if findings:  # never save a query the gate would refuse to run; a broken pack is an error
            raise FlowsqlError(f"canned query {q.name} rendered for {target.flow_logs} fails lint "
                               f"({findings[0]}); nothing was changed")
        description = " ".join(q.description.split())
        header = (f"-- {q.title}: {description}\n"
                  f"-- window: edit the day BETWEEN bounds (UTC days, written {day_words})\n")
        if given:
            header += ("-- parameters: example values, edit them: "
                       + ", ".join(f"{k}={v}" for k, v in given.items()) + "\n")
        out.append((f"flowsql-{q.name}", description[:1024], header + sql))
    return out
