"""The Athena engine: the tables and workgroup `flowsql setup` made, and their settings."""

from __future__ import annotations

from ..base import EngineOptions, EngineSpec, Target
from . import defaults


class Athena(EngineSpec):
    name = "athena"
    title = "Athena"
    dialect = "athena"
    needs_aws = True
    needs_setup = True
    lint_flow_logs = f"{defaults.DATABASE}.{defaults.TABLE}"  # the names setup gives by default
    lint_tgw_flow_logs = f"{defaults.DATABASE}.{defaults.TGW_TABLE}"
    options = ("table", "profile")
    evidence_fields = (("execution id", "text", ("execution_id",)), ("workgroup", "text", ("workgroup",)),
                       ("data scanned", "bytes", ("data_scanned_bytes",)), ("cost", "usd", ("cost_usd",)))

    def create(self, options: EngineOptions, *, window, accounts=(), regions=()):
        from . import config
        from .engine import AthenaEngine

        return AthenaEngine.from_config(config.load(required=True), table=options.table, profile=options.profile)

    def render_target(self, options=None) -> Target:
        """The saved settings' table (setup's names when it has not run); --table needs the settings."""
        from . import config

        table = options.table if options is not None else None
        return config.athena_target(config.load(required=table is not None), table)

    estimates_cost = True

    def cost_estimate(self, options: EngineOptions, sql: str, window, *, accounts=(), regions=()) -> list[str]:
        from ...aws import Aws
        from . import config
        from .cost_estimate import explain
        from .engine import check_partitions

        cfg = config.load(required=True)
        t = cfg.table(options.table)
        check_partitions(t, window, *t.partition_filters(accounts, regions))
        return explain(Aws.connect(options.profile or cfg.profile, cfg.region), cfg, sql, window,
                       table=options.table, accounts=accounts, regions=regions).lines()

    def read_summary(self, stats) -> str:
        scanned = stats.get("data_scanned_bytes") or 0
        return (f"data scanned: {scanned / 1e6:,.1f} MB, cost ≈ ${stats.get('cost_usd') or 0:,.6f} "
                f"($5/TB, 10 MB minimum; query {stats.get('execution_id') or '?'})")

    def set_up(self) -> bool:
        from . import config

        return config.exists()

    def unready(self, given, set_up: bool) -> str | None:
        if set_up:
            return None
        return ("Athena needs the settings `flowsql setup` saves, and there are none here; run `flowsql setup` "
                "first (or report on local files with `--engine local --source DIR`)")


ENGINE = Athena()
