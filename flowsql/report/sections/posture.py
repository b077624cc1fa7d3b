"""Posture: is flow logging designed and working? The checks and the design sheet of the inventory's
snapshot, or of every snapshot of its tree (one per account and region: flowsql.posture.tree), when
the inventory holds one; the snapshots' files and their SHA-256 are its evidence. An account or
region the sync could not read is a "not evaluated" row, listed under Not evaluated too."""

from __future__ import annotations

import hashlib
from pathlib import Path

KEY = "posture"
TITLE = "Posture"
ORDER = 10

_STATUSES = ("alarm", "not evaluated", "ok", "info", "skip")


def plan(ctx) -> list:
    """Read and evaluate the snapshot now, so a malformed one stops the report before any query."""
    from ... import posture

    if ctx.inventory is None:
        ctx.state[KEY] = "no --inventory was given, so there is no posture snapshot to check"
    elif not posture.has_snapshots(ctx.inventory):
        ctx.state[KEY] = (f"the inventory {ctx.inventory} holds no posture snapshot (flow-logs.json) nor a tree of "
                          "them (manifest.json): `flowsql inventory sync --out DIR` writes one")
    else:
        policy = posture.load_policy(ctx.policy)
        inv = posture.load_snapshots(ctx.inventory)
        ctx.state[KEY] = (policy, inv, posture.evaluate_snapshots(inv, policy), posture.design_snapshots(inv, policy))
    return []


def build(ctx) -> dict:
    from ... import posture
    from ...posture.policy import policy_yaml

    state = ctx.state[KEY]
    if isinstance(state, str):
        ctx.not_evaluated_item(KEY, "posture checks", state)
        return {"evaluated": False, "reason": state}
    policy, inv, rows, sheet = state
    # --account/--region narrow the posture too (a row about no account or region stays)
    rows = [r for r in rows if _in_scope(r.account, r.region, ctx)]
    sheet = [v for v in sheet if _in_scope(v["account"], v["region"], ctx)]
    counts = {s: sum(r.status == s for r in rows) for s in posture.STATUSES}
    for r in rows:
        if r.status == posture.NOT_EVALUATED:
            ctx.not_evaluated_item(KEY, " ".join(x for x in (r.account, r.region) if x), r.reason)
    return {
        "evaluated": True,
        "counts": counts,
        "checks": [{"id": c.id, "title": c.title, "severity": c.severity, "why": c.why,
                    "remediation": c.remediation, "compliance": list(c.compliance)} for c in posture.all_checks()],
        "rows": [r.as_dict() for r in rows],
        "design_sheet": sheet,
        "snapshot": {
            "taken": inv.taken.strftime("%Y-%m-%dT%H:%M:%SZ") if inv.taken else None,
            "files": _tree_files(inv) if inv.tree else _files(Path(ctx.inventory)),
        },
        "policy": {"source": str(policy.source), "effective": policy_yaml(policy)},
    }


def _in_scope(account, region, ctx) -> bool:
    return (not ctx.accounts or account is None or account in ctx.accounts) and \
        (not ctx.regions or region is None or region in ctx.regions)


def _tree_files(inv) -> list[dict]:
    """The tree's manifest and every snapshot's files, relative to the tree's folder."""
    from ...inventory.tree import MANIFEST

    out = _files(inv.directory, [inv.directory / MANIFEST])
    for part in inv.parts:
        prefix = f"{part.account}/{part.region}/"
        out += [{**f, "path": prefix + f["path"]} for f in _files(part.snapshot.directory)]
    return sorted(out, key=lambda f: f["path"])


def _files(folder: Path, only: list | None = None) -> list[dict]:
    """The snapshot's files (the top folder's JSON and buckets/…), with size and SHA-256."""
    paths = only if only is not None else [p for p in folder.glob("*.json") if p.is_file()]
    buckets = folder / "buckets"
    if only is None and buckets.is_dir():
        paths += [p for p in buckets.rglob("*") if p.is_file()]
    from ...errors import SourceError
    from ...files import error_reason, read_regular_bytes

    out = []
    for p in sorted(paths, key=lambda p: p.relative_to(folder).as_posix()):
        try:
            data = read_regular_bytes(p)  # a file swapped for a pipe since the snapshot was read: named
        except OSError as e:
            raise SourceError(f"{p}: not readable ({error_reason(e)})") from None
        out.append({"path": p.relative_to(folder).as_posix(), "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()})
    return out


def _taken(part: dict) -> str:
    """When the snapshot was taken (a tree's: its oldest), or that none was read."""
    return part["snapshot"]["taken"] or "never (no account or region could be read)"


def _rows_for_display(part: dict) -> list[dict]:
    order = {s: i for i, s in enumerate(_STATUSES)}
    return sorted(part["rows"], key=lambda r: order.get(r["status"], 9))


def _where(row: dict) -> str:
    return " ".join(x for x in (row.get("account"), row.get("region")) if x) or "–"


def _design_rows(part: dict) -> list[dict]:
    return [{"vpc": r["vpc"] + (f" ({r['name']})" if r["name"] else ""), "where": _where(r),
             "class": r["class"] + (" (exempt)" if r["exempt"] else ""),
             "destinations": "; ".join(f"{d['type']} {d['target']} ({d['retention']})" for d in r["destinations"])
             or "none",
             "est_monthly_usd": r["est_monthly_usd"]} for r in part["design_sheet"]]


def _alarm_rows(part: dict) -> list[dict]:
    return [{"check": r["check"], "resource": r["resource"], "reason": r["reason"], "where": _where(r)}
            for r in part["rows"] if r["status"] == "alarm"]


_ROW_COLUMNS = ["status", "check", "resource", "reason", "account", "region", "vpc"]
_ALARM_COLUMNS = ["check", "resource", "reason", "where"]
_DESIGN_COLUMNS = ["vpc", "where", "class", "destinations", "est_monthly_usd"]


def html(part: dict, report: dict) -> str:
    from .. import charts
    from ..render_html import esc, fold, table

    if not part["evaluated"]:
        return f'<p class="ne">Not evaluated: {esc(part["reason"])}.</p>'
    c = part["counts"]
    out = [charts.stacked_bar([(s, charts.STATUS_COLORS[s], c[s]) for s in _STATUSES],
                              title="Posture check rows by status"),
           f"<p>Snapshot taken {esc(_taken(part))}; policy: {esc(part['policy']['source'])}. "
           "A check row is one check on one resource; the run exits 1 when any row alarms.</p>"]
    alarms = _alarm_rows(part)
    if alarms:
        out.append(f"<h3>Alarms ({len(alarms)})</h3>")
        out.append(table(_ALARM_COLUMNS, alarms))
    out.append("<h3>Checks</h3>")
    checks = []
    for chk in part["checks"]:
        n = sum(r["check"] == chk["id"] and r["status"] == "alarm" for r in part["rows"])
        checks.append({"check": chk["id"], "severity": chk["severity"], "alarms": n, "what it asks": chk["title"],
                       "compliance": ", ".join(chk["compliance"]) or "–"})
    out.append(table(["check", "severity", "alarms", "what it asks", "compliance"], checks))
    alarming = [chk for chk in part["checks"] if any(r["check"] == chk["id"] and r["status"] == "alarm"
                                                     for r in part["rows"])]
    if alarming:
        out.append("<h4>What to do</h4><ul>" + "".join(
            f"<li><code>{esc(chk['id'])}</code>: {esc(chk['why'])} <i>Fix:</i> {esc(chk['remediation'])}</li>"
            for chk in alarming) + "</ul>")
    rows = _rows_for_display(part)
    out.append(fold(f"Every check row ({len(rows)})", table(_ROW_COLUMNS, rows)))
    out.append("<h3>Design sheet</h3><p class=\"small muted\">Per VPC: its data class, where its flow logs go and "
               "for how long, and an estimated monthly cost in USD at the policy's list prices.</p>")
    out.append(table(_DESIGN_COLUMNS, _design_rows(part)))
    notes = [f"{r['vpc']}: {n}" for r in part["design_sheet"] for n in r.get("notes", [])]
    if notes:
        out.append("<ul class=\"small muted\">" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out)


def markdown(part: dict, report: dict) -> str:
    from ..render_md import code_span, table, text

    if not part["evaluated"]:
        return f"Not evaluated: {text(part['reason'])}."
    c = part["counts"]
    out = [" · ".join(f"{s}: {c[s]}" for s in _STATUSES) + f" (snapshot taken {text(_taken(part))}; "
           f"policy: {text(part['policy']['source'])})", ""]
    alarms = _alarm_rows(part)
    if alarms:
        out += [f"### Alarms ({len(alarms)})", "", table(_ALARM_COLUMNS, alarms), "", "What to do:", ""]
        for chk in part["checks"]:
            if any(r["check"] == chk["id"] for r in alarms):
                out.append(f"- {code_span(chk['id'])}: {text(chk['why'])} Fix: {text(chk['remediation'])}")
        out.append("")
    out += ["### Every check row", "", table(_ROW_COLUMNS, _rows_for_display(part)), "",
            "### Design sheet", "", table(_DESIGN_COLUMNS, _design_rows(part))]
    return "\n".join(out)
