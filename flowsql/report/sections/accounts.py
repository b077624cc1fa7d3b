"""Accounts and regions: the report opens with one row per account and region of the inventory (its
VPCs, how many of them log, the posture's alarms, what the sync could not read) against the month's
records (the pack query `log-coverage`, the same one the Coverage section reads).

An account and region where the posture has VPCs the policy says must log (not of an exempt class)
and from which the month holds no record at all is a finding (the report exits 1): flow logs that
should be there and never arrived, or a VPC nobody turned them on for. An account and region seen
in the records but in no snapshot of the inventory is named too (not synced: its posture is not
known). On Athena the same query runs over the table, so a central log-archive bucket's accounts are
all compared at once.
"""

from __future__ import annotations

from ..model import Job

KEY = "accounts"
TITLE = "Accounts and regions"
ORDER = 1
QUERY = "log-coverage"


def _job() -> Job:
    # the same job as Coverage's month: it runs once, used by both
    return Job(QUERY, (), used_by=f"{KEY}/records")


def plan(ctx) -> list[Job]:
    return [_job()]


def _in_scope(ctx, account, region) -> bool:
    return (not ctx.accounts or account is None or account in ctx.accounts) and \
        (not ctx.regions or region is None or region in ctx.regions)


def _inventory_rows(ctx) -> dict:
    """(account, region) -> the posture's figures for it, from every snapshot of the inventory."""
    from ...posture import NOT_EVALUATED
    from ...posture.facts import Facts

    state = ctx.state.get("posture")
    if not isinstance(state, tuple):
        return {}
    policy, inv, rows = state[0], state[1], state[2]
    out: dict = {}

    def entry(account, region) -> dict:
        return out.setdefault((account, region), {"vpcs": 0, "logged": 0, "should_log": 0, "alarms": 0,
                                                  "not_evaluated": None})

    for part in inv.parts:
        if part.account is not None:
            entry(part.account, part.region)  # a region without VPCs is still one the sync read
        facts = Facts(part.snapshot, policy)
        for vpc in facts.vpcs:
            e = entry(facts.account(vpc) or part.account, facts.region(vpc) or part.region)
            e["vpcs"] += 1
            e["logged"] += facts.coverage(vpc).covered
            e["should_log"] += not facts.exempt(vpc)
    for r in rows:
        if r.status == "alarm" and (r.account, r.region) in out:
            out[(r.account, r.region)]["alarms"] += 1
        elif r.status == NOT_EVALUATED:  # nothing of it is known: no figures, only why
            out[(r.account, r.region)] = {"vpcs": None, "logged": None, "should_log": None, "alarms": None,
                                          "not_evaluated": r.reason}
    return out


def build(ctx) -> dict:
    outcome = ctx.outcome(_job())
    inventory = {k: v for k, v in _inventory_rows(ctx).items() if _in_scope(ctx, *k)}
    records: dict = {}
    if outcome.evaluated:
        for r in outcome.rows:
            key = (r["aws_account_id"], r["aws_region"])
            records[key] = records.get(key, 0) + r["records"]
    rows = []
    for account, region in sorted(set(inventory) | set(records), key=lambda k: (k[0] or "", k[1] or "")):
        inv = inventory.get((account, region))
        n = records.get((account, region), 0) if outcome.evaluated else None
        finding = None
        if inv is None:
            note = "records, but in no snapshot of the inventory (not synced: its posture is not known)"
        elif inv["not_evaluated"] is not None:
            note = "not evaluated: " + inv["not_evaluated"]
        else:
            note = None
            if inv["should_log"] and n == 0 and region is not None:
                finding = (f"{inv['should_log']} VPC(s) here must log by the policy, and {ctx.month} holds no "
                           "flow-log record from this account and region")
        inv = inv or {}
        rows.append({"account": account, "region": region, "in_inventory": bool(inv),
                     "vpcs": inv.get("vpcs"), "logged": inv.get("logged"), "should_log": inv.get("should_log"),
                     "alarms": inv.get("alarms"),
                     "not_evaluated": inv.get("not_evaluated"), "records": n, "finding": finding,
                     "note": note})
    part = {"query": QUERY, "evidence": outcome.evidence, "records_evaluated": outcome.evaluated,
            "inventory": isinstance(ctx.state.get("posture"), tuple), "rows": rows,
            "findings": sum(r["finding"] is not None for r in rows),
            "not_in_inventory": sum(not r["in_inventory"] for r in rows)}
    if not outcome.evaluated:
        part["reason"] = outcome.reason
    return part


_COLUMNS = ["account", "region", "VPCs", "logged", "alarms", "not evaluated", "records", "finding"]


def _table_rows(part: dict) -> list[dict]:
    return [{"account": r["account"], "region": r["region"] or "–",
             "VPCs": r["vpcs"], "logged": r["logged"], "alarms": r["alarms"],
             "not evaluated": r["not_evaluated"] or "–",
             "records": r["records"], "finding": r["finding"] or (r["note"] if not r["in_inventory"] else "–")}
            for r in part["rows"]]


def _lead(part: dict) -> str:
    from ..text import plural

    if not part["rows"]:
        return "No account or region: the inventory holds no snapshot and the month no record."
    pairs = plural(len(part["rows"]), "account and region", "accounts and regions")
    out = [f"{pairs}: the inventory's against the month's records ({QUERY})."]
    if not part["inventory"]:
        out.append("No posture inventory was given (--inventory): only the records' accounts and regions.")
    if not part["records_evaluated"]:
        out.append(f"The records could not be read ({part.get('reason')}).")
    if part["findings"]:
        out.append(f"{plural(part['findings'], 'account and region')} that must log sent no record this month.")
    if part["not_in_inventory"] and part["inventory"]:
        out.append(f"{plural(part['not_in_inventory'], 'account and region')} in the records is in no snapshot "
                   "(sync it).")
    return " ".join(out)


def html(part: dict, report: dict) -> str:
    from ..render_html import esc, evidence_link, table

    bad = part["findings"] or not part["records_evaluated"]
    out = [f'<p class="{"ne" if bad else ""}">{esc(_lead(part))}</p>']
    if part["rows"]:
        out.append(table(_COLUMNS, _table_rows(part)))
    if part.get("evidence"):
        out.append(f'<p class="small muted">records: {esc(QUERY)}, evidence {evidence_link(part["evidence"])}; '
                   "logged: VPCs whose traffic a qualifying flow log covers (ALL traffic, active, delivering).</p>")
    return "\n".join(out)


def markdown(part: dict, report: dict) -> str:
    from ..render_md import table, text

    out = [text(_lead(part), starts_line=True), ""]
    if part["rows"]:
        out += [table(_COLUMNS, _table_rows(part)), ""]
    return "\n".join(out)
