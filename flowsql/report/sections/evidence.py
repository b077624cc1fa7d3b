"""Evidence: for every figure, the query that made it, its parameters, the SQL as it ran, the
engine and what it read (local: files and bytes) or scanned and billed (Athena: execution id, data
scanned, cost), the files left out and why, the row count and the SHA-256 of the rows in their
canonical form (flowsql.report.canonical), so a reader can re-run the SQL and compare. The posture
snapshot's files are listed with their SHA-256."""

from __future__ import annotations

import shlex

KEY = "evidence"
TITLE = "Evidence"
ORDER = 90

CANONICAL = ("SHA-256 (hex) of the rows in their canonical form: one line per row in the query's order, each "
             "the row as a JSON object with the column names as keys, sorted, no whitespace (separators ',' and "
             "':'), UTF-8 text unescaped, integers as JSON integers, NULL as null, each line ending in a line "
             "feed; no rows is zero bytes.")


def plan(ctx) -> list:
    return []


def _command(ctx, entry: dict) -> str:
    """The `flowsql query` command that gives the same rows (`-o json`, then hash them): the engine's
    own options as the report was given them (the inventory where the engine joins it)."""
    from ...engines import get
    from ...engines.base import EngineOptions

    spec = get(ctx.engine.name)
    options = EngineOptions(source=ctx.source, inventory=ctx.inventory, skip_bad_files=ctx.skip_bad_files,
                            table=ctx.table)
    argv = ["flowsql", "query", entry["query"], "--engine", spec.name, *spec.option_args(options, ("source", "inventory"))]
    argv += ["--since", entry["window"]["since"], "--until", entry["window"]["until"]]
    argv += spec.option_args(options, ("table", "skip_bad_files"))
    for a in ctx.accounts:
        argv += ["--account", a]
    for r in ctx.regions:
        argv += ["--region", r]
    for k, v in sorted(entry["parameters"].items()):
        if v is not None:
            argv += ["-p", f"{k}={v}"]
    return shlex.join(argv + ["-o", "json"])


def build(ctx) -> dict:
    return {"rows_sha256": CANONICAL,
            "queries": [{**e, "command": _command(ctx, e)} for e in ctx.evidence]}


def _facts(e: dict, report: dict) -> list[tuple[str, str]]:
    facts = [("query", e["query"] + (" " + " ".join(f"{k}={v}" for k, v in sorted(e["parameters"].items())
                                                     if v is not None) if e["parameters"] else "")),
             ("used by", ", ".join(e["used_by"]) or "–"), ("engine", e["engine"])]
    if e["window"] != report["window"]:  # the month before's coverage: other days than the report's
        facts.append(("days", f"{e['window']['since']} … {e['window']['until']} (UTC)"))
    facts += run_facts(e)
    if e["skipped"]:
        facts.append(("skipped (unreadable)", "; ".join(f"{f['path']}: {f['reason']}" for f in e["skipped"])))
    if e["left_out"]:
        facts.append(("left out", "; ".join(f"{f['path']}: {f['reason']}" for f in e["left_out"])))
    for n in e["notes"]:
        facts.append(("note", n))
    facts += [("rows", f"{e['row_count']:,}"), ("rows SHA-256", e["rows_sha256"]), ("re-run", e["command"])]
    return facts


def run_facts(e: dict) -> list[tuple[str, str]]:
    """What the engine says of a query's run (EngineSpec.evidence_fields), as the evidence shows it."""
    from ...engines import get
    from ..charts import human_bytes
    from ..text import usd

    facts = []
    for label, kind, keys in get(e["engine"]).evidence_fields:
        values = [e.get(k) for k in keys]
        if kind == "files":
            files, size = (v or 0 for v in values)
            facts.append((label, f"{files:,} ({human_bytes(size)}, {size:,} bytes)"))
        elif kind == "bytes":
            facts.append((label, f"{values[0] or 0:,} bytes"))
        elif kind == "usd":
            facts.append((label, usd(values[0])))
        else:
            facts.append((label, values[0] or "–"))
    return facts


def html(part: dict, report: dict) -> str:
    from ..render_html import esc, fold, kv_table

    out = [f"<p class=\"small\">{esc(part['rows_sha256'])} To check a figure, run the command shown (or the SQL, "
           "on Athena) and hash its rows the same way.</p>"]
    for e in part["queries"]:
        out.append(f'<div class="evidence" id="{esc(e["id"])}"><h3>{esc(e["id"])} · {esc(e["title"])}</h3>')
        out.append(kv_table([(k, f"<code>{esc(v)}</code>" if k in ("rows SHA-256", "re-run", "execution id")
                              else esc(v)) for k, v in _facts(e, report)]))
        out.append(fold("SQL as it ran", f"<pre>{esc(e['sql'])}</pre>") + "</div>")
    posture = report.get("posture") or {}
    if posture.get("evaluated"):
        out.append("<h3>Posture snapshot</h3>"
                   f"<p class=\"small\">Taken {esc(posture['snapshot']['taken'])}; the files the checks read:</p>")
        from ..render_html import table

        out.append(table(["path", "bytes", "sha256"], posture["snapshot"]["files"]))
        out.append(fold("The policy in effect", f"<pre>{esc(posture['policy']['effective'])}</pre>"))
    return "\n".join(out)


def markdown(part: dict, report: dict) -> str:
    from ..render_md import code, kv_table, table, text

    out = [f"{text(part['rows_sha256'], starts_line=True)} To check a figure, run the command shown (or the SQL, "
           "on Athena) and hash its rows the same way.", ""]
    for e in part["queries"]:
        out += [f"### {text(e['id'])} · {text(e['title'])}", "",
                kv_table(_facts(e, report), code=("rows SHA-256", "re-run", "execution id")), "",
                code(e["sql"], "sql"), ""]
    posture = report.get("posture") or {}
    if posture.get("evaluated"):
        out += ["### Posture snapshot", "", f"Taken {text(posture['snapshot']['taken'])}; the files the checks read:",
                "", table(["path", "bytes", "sha256"], posture["snapshot"]["files"]), ""]
    return "\n".join(out)
