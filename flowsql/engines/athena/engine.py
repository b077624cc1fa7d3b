"""The Athena engine: run a rendered, linted query in the flowsql workgroup with pyathena.

Reports what Athena bills: data scanned and its cost ($5 per TB, rounded up to the MB, 10 MB
minimum). Ctrl-C stops the running query (StopQueryExecution) before the interrupt propagates,
so an abandoned query does not keep scanning at the user's expense: pyathena's
`kill_on_interrupt` does it, also when the interrupt comes while the query is being started.
Throttling is retried with backoff by botocore's standard retries alone (pyathena's own retry
loop is off: two layers would multiply the attempts, 8 × 8).

pyathena and boto3 are imported when a query runs, not when the CLI starts.
"""

from __future__ import annotations

import logging
import math
import os
from decimal import Decimal
from pathlib import Path

from ...aws import Aws, client_config, map_error
from ...errors import QueryError, UsageError
from ..base import Result, Stats, Target
from .config import Config, athena_target, load

PRICE_PER_TB = 5.0
MB = 1 << 20
TB = 1 << 40
MIN_BILLED_MB = 10


def cost_usd(data_scanned_bytes: int) -> float:
    """What Athena bills for a query that scanned this much: $5/TB, rounded up to the MB, 10 MB minimum."""
    mb = max(math.ceil(max(data_scanned_bytes, 0) / MB), MIN_BILLED_MB)
    return round(mb * MB / TB * PRICE_PER_TB, 10)


class AthenaEngine:
    """Engine protocol over Athena, for the tables and workgroup that `flowsql setup` made."""

    name = "athena"

    def __init__(self, config: Config, *, table: str | None = None, aws: Aws | None = None,
                 poll_interval: float = 0.5):
        self.config = config
        self.table = config.table(table)
        self._aws = aws
        self.poll_interval = poll_interval
        self.notes: list[str] = []  # from require(): what the answer lacks

    @classmethod
    def from_config(cls, config: Config | Path | None = None, *, table: str | None = None,
                    profile: str | None = None, region: str | None = None, **kw) -> "AthenaEngine":
        """The engine for saved settings (a Config, a config file, or the default file);
        `profile`/`region` override them as the CLI's flags do."""
        cfg = config if isinstance(config, Config) else load(config, required=True)
        # The tables live in the region setup used; another region would not find them.
        return cls(cfg, table=table, aws=_connect(cfg, profile, region), **kw)

    @property
    def aws(self) -> Aws:
        if self._aws is None:
            self._aws = _connect(self.config)
        return self._aws

    def target(self) -> Target:
        return athena_target(self.config, self.table.name)

    def require(self, query, *, window=None, accounts=(), regions=()) -> None:
        """Check the query's needs before anything is sent (and billed): the table's columns (its
        log format) must hold every field the query reads, the inventory tables must have been
        uploaded if it joins them, and the window must be one partition projection can plan.
        UsageError otherwise; notes for optional inputs."""
        from ...logs.fields import BY_COLUMN
        from ...logs.tgw_fields import TGW_BY_COLUMN
        from ...inventory.documents import check_inventory

        table, by_column = self.table, BY_COLUMN
        if getattr(query, "table", "vpc") == "tgw":  # the Transit Gateway flow logs' own table
            by_column = TGW_BY_COLUMN
            table = self.table if self.table.kind == "tgw" else self.config.tgw_table()
            if table is None:
                raise UsageError(f"{query.name} reads Transit Gateway flow logs, and the flowsql config names no "
                                 "table of them; `flowsql setup` makes one when it finds a transit gateway's flow "
                                 "log in S3")
        if window is not None:
            check_partitions(table, window, accounts, regions)
        have = {by_column[c].name for c in table.columns if c in by_column}
        missing = query.needs.missing_fields(have)
        if missing:
            raise UsageError(f"{query.name} needs field(s) {', '.join(missing)}, which table "
                             f"{self.config.database}.{table.name} does not have (its flow logs' format "
                             "lacks them); add them to the flow log's format, or query another table with --table")
        present = {"network-interfaces", "subnets", "vpcs"} if self.config.inventory_synced else set()
        self.notes = check_inventory(query.name, query.needs, present, upload_hint=True)

    def execute(self, sql: str) -> Result:
        """Run `sql` as given (no parameters: pyathena's pyformat would treat `%` as a placeholder)."""
        from pyathena import connect
        from pyathena.error import Error as PyAthenaError
        from pyathena.util import RetryConfig

        # pyathena logs a traceback before raising; the error we raise says it in one line.
        logging.getLogger("pyathena").addHandler(logging.NullHandler())
        aws = self.aws
        query_id: list[str] = []
        conn = connect(
            session=aws.session,
            region_name=aws.region,
            work_group=self.config.workgroup,
            schema_name=self.config.database,
            poll_interval=self.poll_interval,
            kill_on_interrupt=True,  # Ctrl-C: StopQueryExecution, then the KeyboardInterrupt goes on
            config=client_config(),  # botocore's retries: the one retry layer
            retry_config=RetryConfig(attempt=1),
        )
        cursor = conn.cursor()
        try:
            cursor.execute(sql, on_start_query_execution=query_id.append)
            columns = [d[0] for d in cursor.description or []]
            rows = [tuple(_plain(v) for v in row) for row in cursor.fetchall()]
        except PyAthenaError as e:
            cause = e.__cause__
            if cause is not None and cause.__class__.__module__.startswith("botocore"):
                raise map_error(cause, "Athena query") from None
            qid = query_id[0] if query_id else cursor.query_id
            scanned = cursor.data_scanned_in_bytes or 0
            billed = f" (scanned {scanned:,} bytes, billed ${cost_usd(scanned):.6f})" if scanned else ""
            reason = " ".join(" ".join(str(a) for a in e.args if a).split()) or e.__class__.__name__
            state = getattr(cursor, "state", None)
            what = f"Athena query {qid}" if qid else "Athena query"
            raise QueryError(f"{what} {(state or 'failed').lower()}: {reason}{billed}") from None
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        scanned = cursor.data_scanned_in_bytes or 0
        stats = Stats("athena", execution_id=cursor.query_id, workgroup=self.config.workgroup,
                      data_scanned_bytes=scanned, cost_usd=cost_usd(scanned),
                      elapsed_s=(cursor.total_execution_time_in_millis or 0) / 1000, notes=list(self.notes))
        return Result(columns, rows, stats)

    def close(self) -> None:
        """Nothing to release: each query opens and closes its own connection."""


# Athena plans at most this many partitions of a projected table for one query.
MAX_PARTITIONS = 1_000_000


def partitions(table, window, accounts=(), regions=()) -> int:
    """How many partitions a query over `window` reads: days x accounts x regions (x 24 hours for a
    table delivered per hour). Accounts and regions are the query's filters, else every value an
    `enum` projection lists."""
    n_accounts = len(set(accounts)) or len(set(table.accounts)) or 1
    n_regions = len(set(regions)) or len(set(table.regions)) or 1
    return window.days * n_accounts * n_regions * (24 if table.per_hour else 1)


def check_partitions(table, window, accounts=(), regions=()) -> None:
    """A window partition projection cannot plan is refused before anything is sent, with the
    largest window that fits."""
    n = partitions(table, window, accounts, regions)
    if n <= MAX_PARTITIONS:
        return
    per_day = n // window.days
    days = MAX_PARTITIONS // per_day
    if days < 1:
        raise UsageError(f"one day over {table.name} is {per_day:,} partitions, more than the {MAX_PARTITIONS:,} "
                         "Athena's partition projection plans for one query: narrow --account/--region")
    from datetime import timedelta

    raise UsageError(f"{window.since} … {window.until} over {table.name} is {n:,} partitions ({window.days} days x "
                     f"{per_day:,} a day); Athena's partition projection plans at most {MAX_PARTITIONS:,} for one "
                     f"query: use at most {days} days (e.g. --since {window.until - timedelta(days=days - 1)}), "
                     "or narrow --account/--region")


def _connect(config: Config, profile: str | None = None, region: str | None = None) -> Aws:
    """The profile: `--profile`, else AWS_PROFILE, else the one setup was given with --profile
    (only such a one is saved), else the default chain. The region: setup's unless `region`."""
    if profile is None and not os.environ.get("AWS_PROFILE"):
        profile = config.profile
    return Aws.connect(profile, region or config.region)


def _plain(value):
    """JSON-friendly values: Athena decimals become int (whole) or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
