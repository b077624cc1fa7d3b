"""What case.html and case.md both say, in the same words: the tables' columns, cells and sentences.

Each function takes case.json's content (or a part of it) and returns plain text or rows of plain
text; the renderers escape it for HTML or Markdown.
"""

from __future__ import annotations

from ..pack.params import PROTOCOLS
from ..report.charts import human_bytes
from ..report.text import plural, usd

_PROTOCOL_NAMES = {n: name for name, n in PROTOCOLS.items()}
LIST_SHOWN = 12  # items of a list cell (ports, ENIs) shown before "… N in all"

TITLES = {
    "timeline": "Timeline",
    "peers": "Peers",
    "internet": "The internet",
    "rejected": "Rejected traffic",
    "interfaces": "Network interfaces that logged it",
    "ecs_tasks": "ECS tasks",
    "undirected": "Traffic of unknown direction",
    "not_evaluated": "Not evaluated",
    "evidence": "Evidence",
}


def protocol(n) -> str:
    if n is None:
        return "∅"
    name = _PROTOCOL_NAMES.get(n)
    return f"{n} ({name})" if name else str(n)


def listed(values, fmt=str) -> str:
    values = list(values or [])
    if not values:
        return "–"
    shown = ", ".join(fmt(v) for v in values[:LIST_SHOWN])
    return shown + (f", … {len(values):,} in all" if len(values) > LIST_SHOWN else "")


def amount(n) -> str:
    return "–" if n is None else f"{n:,}"


def subject_line(case: dict) -> str:
    s = case["subject"]
    what = {"address": f"IPv{s['ip_version']} address", "cidr": f"IPv{s['ip_version']} block", "eni": "network interface"}
    return f"{what[s['kind']]} {s['value']}"


def scope_line(case: dict) -> str:
    w, scope = case["window"], case["scope"]
    parts = [f"{w['since']} … {w['until']} (UTC days, inclusive)", f"engine {scope['engine']}"]
    if scope.get("source"):
        parts.append(f"source {scope['source']}")
    if scope.get("table"):
        parts.append(f"table {scope['table']}")
    if scope.get("inventory"):
        parts.append(f"inventory {scope['inventory']} ({', '.join(scope['inventory_folders'])})")
    if scope.get("accounts"):
        parts.append("accounts " + ", ".join(scope["accounts"]))
    if scope.get("regions"):
        parts.append("regions " + ", ".join(scope["regions"]))
    parts.append(f"flowsql {case['flowsql_version']}")
    return " · ".join(parts)


def verdict_line(case: dict) -> str | None:
    """The sentence a case without records opens with (None when the subject was seen)."""
    s = case["summary"]
    if not s["evaluated"]:
        return f"NOT EVALUATED: {s['reason']}."
    if s["seen"]:
        return None
    from ..engines import get

    e = case["evidence"]["queries"][0]
    if get(e["engine"]).reads_files:
        read = f"{plural(e['files_read'] or 0, 'log file')} ({human_bytes(e['bytes_read'] or 0)}) were read"
    else:
        read = f"Athena scanned {e['data_scanned_bytes'] or 0:,} bytes of the table"
    return (f"No record of {case['subject']['value']} in the window: {read}, and no record of log-status OK has "
            "it as source or destination" + (" (or as its interface)" if case["subject"]["kind"] == "eni" else "")
            + ". Traffic that never reached a logged interface, and traffic to the Amazon DNS server, instance "
            "metadata or Time Sync, is never logged.")


def kpis(case: dict) -> list[tuple[str, str]]:
    s = case["summary"]
    out = [("first seen", case["first_seen"] or "–"), ("last seen", case["last_seen"] or "–"),
           ("records", amount(s["records"])), ("bytes sent", human_bytes(s["bytes_sent"])),
           ("bytes received", human_bytes(s["bytes_received"])),
           ("bytes to the internet", human_bytes(s["bytes_to_internet"])),
           ("rejected flows", amount(s["rejected_flows"])), ("peers", amount(s["peers"])),
           ("network interfaces", amount(s["interfaces"]))]
    if s.get("cost_usd") is not None:
        out.append(("Athena cost", usd(s["cost_usd"])))
    return out


# -- tables: (columns, rows of text) -----------------------------------------------------------

PEER_COLUMNS = ["address", "direction", "network", "ports", "protocols", "flows", "accepted", "rejected", "bytes",
                "first seen", "last seen", "interfaces"]


def peer_rows(rows: list[dict]) -> list[dict]:
    return [{"address": r["address"] or "∅", "direction": r["direction"],
             "network": (r["network"] or "∅") + (f" {r['vpc_id']}" if r.get("vpc_id") else ""),
             "ports": listed(r["ports"]), "protocols": listed(r["protocols"], protocol),
             "flows": amount(r["flows"]), "accepted": amount(r["accepted_flows"]),
             "rejected": amount(r["rejected_flows"]), "packets": amount(r["packets"]), "bytes": amount(r["bytes"]),
             "first seen": r["first_seen"] or "–", "last seen": r["last_seen"] or "–",
             "interfaces": listed(r["interfaces"])} for r in rows]


REJECTED_COLUMNS = ["address", "direction", "network", "port", "protocol", "flows", "packets", "first seen",
                    "last seen", "interfaces"]


def rejected_rows(rows: list[dict]) -> list[dict]:
    return [{"address": r["address"] or "∅", "direction": r["direction"], "network": r["network"] or "∅",
             "port": "∅" if r["port"] is None else str(r["port"]), "protocol": protocol(r["protocol"]),
             "flows": amount(r["flows"]), "packets": amount(r["packets"]), "first seen": r["first_seen"] or "–",
             "last seen": r["last_seen"] or "–", "interfaces": listed(r["interfaces"])} for r in rows]


INTERFACE_COLUMNS = ["interface", "attached to", "type", "subnet", "vpc", "in inventory", "flows", "sent",
                     "received", "rejected", "bytes", "first seen", "last seen"]


def interface_rows(part: dict, limit: int | None = None) -> list[dict]:
    out = []
    for r in part["rows"][:limit]:
        inv = r["inventory"]
        if not part["evaluated"]:
            where = "not evaluated"
        elif inv is None:
            where = "no: in no folder of the window"
        elif inv["in_latest"]:
            where = "latest"
        else:
            where = f"only in the snapshot {inv['found_in']} (deleted since)"
        out.append({"interface": r["interface_id"] or "∅", "attached to": inv["attached_to"] if inv else "–",
                    "type": (inv["interface_type"] or "–") if inv else "–",
                    "subnet": (inv["subnet_id"] or "–") if inv else "–", "vpc": (inv["vpc_id"] or "–") if inv else "–",
                    "in inventory": where, "flows": amount(r["flows"]), "sent": amount(r["flows_sent"]),
                    "received": amount(r["flows_received"]), "rejected": amount(r["rejected_flows"]),
                    "bytes": amount(r["bytes"]), "first seen": r["first_seen"] or "–",
                    "last seen": r["last_seen"] or "–"})
    return out


TIMELINE_COLUMNS = ["hour", "flows", "accepted", "rejected", "packets", "bytes", "bytes sent", "bytes received"]


def timeline_rows(rows: list[dict]) -> list[dict]:
    return [{"hour": r["hour"] or "∅", "flows": amount(r["flows"]), "accepted": amount(r["accepted_flows"]),
             "rejected": amount(r["rejected_flows"]), "packets": amount(r["packets"]), "bytes": amount(r["bytes"]),
             "bytes sent": amount(r["bytes_sent"]), "bytes received": amount(r["bytes_received"])} for r in rows]


ECS_COLUMNS = ["cluster", "service", "task", "flows", "bytes", "first seen", "last seen", "interfaces"]


def ecs_rows(rows: list[dict]) -> list[dict]:
    return [{"cluster": r["cluster"] or "∅", "service": r["service"] or "∅", "task": r["task_id"] or r["task_arn"] or "∅",
             "flows": amount(r["flows"]), "bytes": amount(r["bytes"]), "first seen": r["first_seen"] or "–",
             "last seen": r["last_seen"] or "–", "interfaces": listed(r["interfaces"])} for r in rows]


UNDIRECTED_COLUMNS = ["source", "destination", "port", "protocol", "action", "flows", "packets", "bytes"]


def undirected_rows(rows: list[dict]) -> list[dict]:
    return [{"source": r["srcaddr"] or "∅", "destination": r["dstaddr"] or "∅",
             "port": "∅" if r["dstport"] is None else str(r["dstport"]), "protocol": protocol(r["protocol"]),
             "action": r["action"] or "∅", "flows": amount(r["flows"]), "packets": amount(r["packets"]),
             "bytes": amount(r["bytes"])} for r in rows]


INPUT_COLUMNS = ["root", "path", "bytes", "sha256"]


def input_rows(rows: list[dict]) -> list[dict]:
    return [{"root": r["root"], "path": r["path"], "bytes": amount(r["bytes"]), "sha256": r["sha256"]} for r in rows]


def internet_lines(part: dict) -> list[str]:
    return [
        f"Sent to the internet (accepted): {human_bytes(part['bytes_sent'])} ({amount(part['bytes_sent'])} bytes) "
        f"in {plural(part['flows_sent'], 'flow')} to {plural(part['destinations'], 'address', 'addresses')}.",
        f"Received from the internet (accepted): {human_bytes(part['bytes_received'])} "
        f"({amount(part['bytes_received'])} bytes) in {plural(part['flows_received'], 'flow')} from "
        f"{plural(part['sources'], 'address', 'addresses')}.",
        f"Rejected: {plural(part['rejected_flows_outbound'], 'flow')} toward the internet, "
        f"{plural(part['rejected_flows_inbound'], 'flow')} from it.",
    ]


def evidence_facts(e: dict) -> list[tuple[str, str]]:
    from ..report.sections.evidence import run_facts

    facts = [("query", e["query"] + " " + " ".join(f"{k}={v}" for k, v in sorted(e["parameters"].items())
                                                    if v is not None)),
             ("days", f"{e['window']['since']} … {e['window']['until']} (UTC)"),
             ("used by", ", ".join(e["used_by"])), ("engine", e["engine"])]
    facts += run_facts(e)
    if e["skipped"]:
        facts.append(("skipped (unreadable)", "; ".join(f"{f['path']}: {f['reason']}" for f in e["skipped"])))
    if e["left_out"]:
        facts.append(("left out", "; ".join(f"{f['path']}: {f['reason']}" for f in e["left_out"])))
    facts += [("note", n) for n in e["notes"]]
    facts += [("rows", f"{e['row_count']:,}"), ("rows SHA-256", e["rows_sha256"]), ("re-run", e["command"])]
    return facts


CODE_FACTS = ("rows SHA-256", "re-run", "execution id")

ABOUT = ("Every figure comes from the rows of one pack query (E1: the subject's records read once and summed "
         "in all, per peer and direction, interface, hour, rejected port and ECS task) and, for the interfaces and "
         "the peers' networks, from the inventory files listed with the inputs. flows = records: a connection "
         "between two logged interfaces is logged, and counted, at each.")
