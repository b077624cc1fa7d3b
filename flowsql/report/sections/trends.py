"""Trends: the month's traffic day by day, accepted against rejected, and who stood out: pack
queries named in TRENDS (data: a trend whose query the pack lacks is shown as not evaluated)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Job

KEY = "trends"
TITLE = "Trends"
ORDER = 15


@dataclass(frozen=True)
class Trend:
    key: str  # its key under "trends" in report.json
    title: str
    query: str
    params: tuple[tuple[str, str], ...]
    chart: str  # "daily" | "bars"
    label: str = ""  # bars: the column naming a bar
    value: str = "bytes"  # bars: the column a bar measures

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the chart draws from (a pack of one's own may change a query)."""
        if self.chart == "daily":
            return ("day", "flows", "bytes", "accepted_flows", "rejected_flows", "accepted_bytes", "rejected_bytes")
        return (self.label, self.value)


TRENDS = (
    Trend("daily_traffic", "Traffic per day", "daily-traffic", (), "daily"),
    Trend("top_destinations", "Top destinations (accepted bytes)", "top-destinations", (), "bars", label="dstaddr"),
    Trend("top_rejected_sources", "Top rejected sources (rejected bytes)", "top-sources",
          (("action", "REJECT"),), "bars", label="srcaddr"),
)


def _job(t: Trend) -> Job:
    return Job(t.query, t.params, used_by=f"{KEY}/{t.key}")


def plan(ctx) -> list[Job]:
    return [_job(t) for t in TRENDS]


def build(ctx) -> dict:
    part = {}
    for t in TRENDS:
        outcome = ctx.outcome(_job(t))
        item = outcome.part()
        lacking = [c for c in t.columns if c not in outcome.columns]
        if outcome.evaluated and lacking:
            item = {"query": t.query, "parameters": outcome.parameters, "evaluated": False,
                    "reason": f"its rows (evidence {outcome.evidence}) lack the column(s) {', '.join(lacking)} "
                              "the chart needs"}
        if not item["evaluated"]:
            ctx.not_evaluated_item(KEY, t.key, f"{t.query}: {item['reason']}")
        part[t.key] = {"title": t.title, "chart": t.chart, **item}
    return part


def _daily(item: dict, window: dict) -> tuple[str, str]:
    """Two charts over every day of the month (a day without records is a gap, not left out)."""
    from datetime import date, timedelta

    from .. import charts

    first, last = date.fromisoformat(window["since"]), date.fromisoformat(window["until"])
    by_day = {r["day"]: r for r in item["rows"]}
    empty = dict.fromkeys(item["columns"], None)
    all_days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    rows = [by_day.get(d, empty) for d in all_days]
    days = [d[-2:] for d in all_days]  # the day of the month under its bar
    bytes_chart = charts.columns(days, [("accepted bytes", charts.ACCEPTED, [r["accepted_bytes"] for r in rows]),
                                        ("rejected bytes", charts.REJECTED, [r["rejected_bytes"] for r in rows])],
                                 title="Bytes per day", fmt=charts.human_bytes)
    flows_chart = charts.columns(days, [("accepted flows", charts.ACCEPTED, [r["accepted_flows"] for r in rows]),
                                        ("rejected flows", charts.REJECTED, [r["rejected_flows"] for r in rows])],
                                 title="Flows per day, accepted and rejected", fmt=charts.human_count)
    return bytes_chart, flows_chart


def _totals(rows: list[dict]) -> dict:
    def total(c):
        return sum(r[c] or 0 for r in rows)

    return {c: total(c) for c in ("flows", "packets", "bytes", "accepted_flows", "rejected_flows", "accepted_bytes",
                                  "rejected_bytes")}


def html(part: dict, report: dict) -> str:
    from .. import charts
    from ..render_html import esc, evidence_link, fold, table
    from ..text import plural

    out = []
    for t in TRENDS:
        item = part.get(t.key)
        if item is None:
            continue
        out.append(f'<h3 id="trend-{esc(t.key)}">{esc(item["title"])}</h3>')
        if not item["evaluated"]:
            out.append(f'<p class="ne">Not evaluated ({esc(t.query)}): {esc(item["reason"])}</p>')
            continue
        out.append(f'<p class="small muted">{esc(t.query)}'
                   + (" " + esc(" ".join(f"{k}={v}" for k, v in t.params)) if t.params else "")
                   + f"; {plural(item['row_count'], 'row')}; evidence {evidence_link(item['evidence'])}</p>")
        if t.chart == "daily":
            tot = _totals(item["rows"])
            out.append(f"<p>{plural(tot['flows'], 'flow')} ({tot['rejected_flows']:,} rejected), "
                       f"{charts.human_bytes(tot['bytes'])} on {plural(item['row_count'], 'day')} with records.</p>")
            out.extend(_daily(item, report["window"]))
            out.append(fold("The numbers per day",
                            table(item["columns"], item["rows"], types=item.get("column_types"))))
        else:
            out.append(charts.bars([(r[t.label], r[t.value]) for r in item["rows"]], title=item["title"],
                                   color=charts.REJECTED if "REJECT" in dict(t.params).values() else charts.BAR))
            out.append(table(item["columns"], item["rows"], types=item.get("column_types")))
    return "\n".join(out)


def markdown(part: dict, report: dict) -> str:
    from ..render_md import code_span, table, text
    from ..text import outcome_line

    out = []
    for t in TRENDS:
        item = part.get(t.key)
        if item is None:
            continue
        out += [f"### {text(item['title'])}", ""]
        if not item["evaluated"]:
            out += [f"Not evaluated ({code_span(t.query)}): {text(item['reason'])}", ""]
            continue
        out += [code_span(t.query) + (" " + text(" ".join(f"{k}={v}" for k, v in t.params)) if t.params else "")
                + f"; {text(outcome_line(item))}", "",
                table(item["columns"], item["rows"], types=item.get("column_types")), ""]
    return "\n".join(out)
