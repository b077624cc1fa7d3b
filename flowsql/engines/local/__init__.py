"""The local engine: DuckDB over an AWSLogs/ tree on disk (and `flowsql convert`)."""

from __future__ import annotations

from ...errors import UsageError
from ..base import EngineOptions, EngineSpec, Target


class Local(EngineSpec):
    name = "local"
    title = "the local engine"
    # the pack is written in Athena's SQL (Trino) and linted so; this engine runs its DuckDB
    # translation (translate.py)
    dialect = "athena"
    needs_aws = False
    lint_flow_logs = "flow_logs"
    lint_tgw_flow_logs = "tgw_flow_logs"  # the views the engine makes (engine.py, tgw.py)
    options = ("source", "inventory", "skip_bad_files")
    selected_by = ("source",)
    evidence_fields = (("files read", "files", ("files_read", "bytes_read")),)
    per_window = True

    def create(self, options: EngineOptions, *, window, accounts=(), regions=()):
        from ...inventory import load_inventory
        from .engine import LocalEngine

        if options.source is None:
            raise UsageError("the local engine needs --source DIR (a folder holding an AWSLogs/ tree); "
                             "for Athena, run `flowsql setup` first")
        return LocalEngine(options.source, window, inventory=load_inventory(options.inventory, window=window),
                           accounts=accounts, regions=regions, skip_bad_files=options.skip_bad_files)

    def render_target(self, options=None) -> Target:
        return Target(self.name)

    def read_summary(self, stats) -> str:
        line = f"read {stats.get('files_read') or 0:,} file(s), {stats.get('bytes_read') or 0:,} bytes"
        return line + (f" in {stats['elapsed_s']:.1f} s" if "elapsed_s" in stats else "")

    def set_up(self) -> bool:
        return False  # it reads the files it is given, nothing it could be set up with

    def unready(self, given, set_up: bool) -> str | None:
        if (given("--source") or "").strip():
            return None
        how = "" if set_up else " (no `flowsql setup` settings here, so the report would run on the local engine)"
        return (f"the local engine needs --source DIR{how}; add `--source DIR` (a folder holding an AWSLogs/ "
                "tree) to the report options, or run `flowsql setup` and report on Athena")


ENGINE = Local()
