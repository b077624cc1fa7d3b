"""Coverage: did the month's logs arrive at all? The pack query `log-coverage` (records per account,
region and day, of any log-status) for the month and for the month before, read before anything else.

An empty source reads like a compliant month ("findings with rows: 0"): a scheduled report after a
failed sync must not. So:

- a month without any record is **not evaluated**: nothing else is run (the gate below), the report
  is written and marked so, and the command exits 1;
- every account and region that should have logged — one with records this month, one the month
  before had records for, one the posture snapshot has an active flow log to S3 for (on Athena, to
  the table's bucket) — and has no record on some day of the month that is over (today is under
  way: not counted) is named: the days without records are left out of every figure, and the
  command exits 1.

Flow logs write nothing for an interface without traffic, so a quiet account can have a day
without records; the report names it all the same (narrow with --account/--region), and says why
each account and region was expected.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..model import Job

KEY = "coverage"
TITLE = "Coverage"
ORDER = 5
QUERY = "log-coverage"
MONTH_JOB = f"{KEY}/month"
PREVIOUS_JOB = f"{KEY}/previous_month"
DAYS_SHOWN = 10  # missing days listed one by one in a reason; past that, a count and the range


def _previous(ctx):
    from ..month import Month

    first = ctx.month.first - timedelta(days=1)
    return Month(first.year, first.month)


def _jobs(ctx) -> tuple[Job, Job]:
    return (Job(QUERY, (), used_by=MONTH_JOB),
            Job(QUERY, (), used_by=PREVIOUS_JOB, window=_previous(ctx).window, tolerant=True))


def plan(ctx) -> list[Job]:
    return list(_jobs(ctx))


def _where(ctx) -> str:
    from ...engines import get

    if get(ctx.engine.name).named_table:
        where = f"in table {ctx.engine.target().flow_logs}"
    else:
        where = f"in {ctx.source}"
    narrowed = [x for x in (", ".join(ctx.accounts), ", ".join(ctx.regions)) if x]
    return where + (f" ({'; '.join(narrowed)})" if narrowed else "")


def gate(ctx) -> str | None:
    """Why the report cannot be evaluated at all: the month's coverage shows no record."""
    month = ctx.outcome(_jobs(ctx)[0])
    if month.evaluated and not month.rows:
        return (f"no flow-log records for {ctx.month} {_where(ctx)}: nothing to evaluate (a failed or partial "
                "sync, logs not delivered, or the wrong source, account or region)")
    return None


def _pairs(rows: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    """(account, region) -> day -> records."""
    out: dict = {}
    for r in rows:
        out.setdefault((r["aws_account_id"], r["aws_region"]), {})[r["day"]] = r["records"]
    return out


def _posture_pairs(ctx) -> dict[tuple[str, str], list[str]]:
    """(account, region) -> the flow logs the posture snapshot says deliver to S3 there (active; on
    Athena, into the table's bucket)."""
    state = ctx.state.get("posture")
    if not isinstance(state, tuple):
        return {}
    from ...posture.facts import S3, Facts
    from ...aws import split_s3_uri

    policy, inv = state[0], state[1]
    bucket = None
    table = getattr(ctx.engine, "table", None)
    if getattr(table, "location", None):  # a table's files (Athena's), in a bucket
        bucket = split_s3_uri(table.location, "table location")[0]
    out: dict = {}
    for part in inv.parts:  # one snapshot, or each of the tree's (its account and region where unnamed)
        facts = Facts(part.snapshot, policy)
        for vpc in facts.vpcs:
            account, region = facts.account(vpc) or part.account, facts.region(vpc) or part.region
            if not account or not region:
                continue
            for fl, _level in facts.flow_logs_of(vpc):
                dest = facts.destination(fl)
                if dest.kind != S3 or fl.get("FlowLogStatus") != "ACTIVE" or (bucket and dest.bucket != bucket):
                    continue
                ids = out.setdefault((account, region), [])
                if fl["FlowLogId"] not in ids:
                    ids.append(fl["FlowLogId"])
    return out


def _in_scope(ctx, account: str, region: str) -> bool:
    return (not ctx.accounts or account in ctx.accounts) and (not ctx.regions or region in ctx.regions)


def _days_over(ctx) -> list[str]:
    """The month's days that are over (today, under way, is not: its logs are still arriving)."""
    from ...pack.params import today_utc

    first, last = ctx.window.since, min(ctx.window.until, today_utc() - timedelta(days=1))
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _ranges(days: list[str]) -> str:
    """2026-11-03, 2026-11-04, 2026-11-05, 2026-11-09 -> 2026-11-03 … 2026-11-05, 2026-11-09."""
    runs: list[list[str]] = []
    for d in days:
        if runs and date.fromisoformat(d) - date.fromisoformat(runs[-1][-1]) == timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    shown = [r[0] if len(r) == 1 else f"{r[0]} … {r[-1]}" for r in runs]
    return ", ".join(shown[:DAYS_SHOWN]) + (f" and {len(shown) - DAYS_SHOWN} more" if len(shown) > DAYS_SHOWN else "")


def build(ctx) -> dict:
    month_job, previous_job = _jobs(ctx)
    month, previous = ctx.outcome(month_job), ctx.outcome(previous_job)
    part: dict = {"query": QUERY, "month": month.part(), "previous_month": {
        **previous.part(), "since": previous_job.window.since.isoformat(),
        "until": previous_job.window.until.isoformat()}}
    if not month.evaluated:
        reason = f"the month's coverage could not be read ({month.reason}): whether its logs arrived is not known"
        ctx.not_evaluated_item(KEY, "month", reason)
        return {"evaluated": False, "reason": reason, "records": None, "days_over": len(_days_over(ctx)),
                "accounts_regions": [], "gaps": 0, **part}
    seen = _pairs(month.rows)
    before = {p for p in _pairs(previous.rows) if _in_scope(ctx, *p)} if previous.evaluated else set()
    posture = {p: ids for p, ids in _posture_pairs(ctx).items() if _in_scope(ctx, *p)}
    days = _days_over(ctx)
    if ctx.halt is not None:
        ctx.not_evaluated_item(KEY, "month", ctx.halt)
    rows = []
    for account, region in sorted(set(seen) | before | set(posture)):
        have = seen.get((account, region), {})
        because = []
        if have:
            because.append("records this month")
        if (account, region) in before:
            because.append(f"records in {_previous(ctx)}")
        if (account, region) in posture:
            because.append("the posture snapshot: an active flow log to S3 (" + ", ".join(posture[(account, region)])
                           + ")")
        missing = [d for d in days if d not in have]
        rows.append({"aws_account_id": account, "aws_region": region, "expected_because": because,
                     "days_with_records": sum(d in have for d in days), "days_over": len(days),
                     "records": sum(have.values()), "missing_days": missing})
        if not missing:
            continue
        name = f"{account} {region}"
        if not have:
            why = "; ".join(b for b in because)
            ctx.not_evaluated_item(KEY, name, f"no record in {ctx.month} (expected: {why}): its traffic is in "
                                              "none of the figures")
        else:
            ctx.not_evaluated_item(KEY, name, f"no record on {len(missing)} of {len(days)} days: {_ranges(missing)}; "
                                              "the figures leave those days out")
    return {"evaluated": True, "records": sum(r["records"] for r in month.rows), "days_over": len(days),
            "accounts_regions": rows, "gaps": sum(bool(r["missing_days"]) for r in rows), **part}


_COLUMNS = ["account", "region", "days with records", "records", "days without records", "expected because"]


def _table_rows(part: dict) -> list[dict]:
    return [{"account": r["aws_account_id"], "region": r["aws_region"],
             "days with records": f"{r['days_with_records']} of {r['days_over']}", "records": r["records"],
             "days without records": _ranges(r["missing_days"]) or "–",
             "expected because": "; ".join(r["expected_because"])} for r in part["accounts_regions"]]


def _lead(part: dict, report: dict) -> str:
    from ..text import plural

    if not part["evaluated"]:
        return f"Not evaluated: {part['reason']}."
    if not report["summary"].get("evaluated", True):
        return f"NOT EVALUATED: {report['summary']['reason']}."
    if part["gaps"]:
        return (f"{plural(part['gaps'], 'account and region', 'accounts and regions')} that should have logged "
                f"have days without any record: those days are in none of the figures.")
    return (f"Every account and region that should have logged has records on each of the month's "
            f"{plural(part['days_over'], 'day')} that are over.")


def html(part: dict, report: dict) -> str:
    from ..render_html import esc, evidence_link, table

    bad = not part["evaluated"] or part["gaps"] or not report["summary"].get("evaluated", True)
    out = [f'<p class="{"ne" if bad else ""}">{esc(_lead(part, report))}</p>']
    if part["month"].get("evaluated"):
        out.append(f'<p class="small muted">{esc(QUERY)}: records of any log-status per account, region and '
                   f"day; evidence {evidence_link(part['month']['evidence'])} (this month), "
                   + (evidence_link(part["previous_month"]["evidence"]) if part["previous_month"].get("evaluated")
                      else esc("the month before: not evaluated, " + part["previous_month"]["reason"]))
                   + " (the month before).</p>")
    if part.get("accounts_regions"):
        out.append(table(_COLUMNS, _table_rows(part)))
    return "\n".join(out)


def markdown(part: dict, report: dict) -> str:
    from ..render_md import table, text

    out = [text(_lead(part, report), starts_line=True), ""]
    if part.get("accounts_regions"):
        out += [table(_COLUMNS, _table_rows(part)), ""]
    return "\n".join(out)
