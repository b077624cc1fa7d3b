"""Not evaluated: everything the report could not answer, and why, in one list (each also stands
where its figure would have been). Nothing is left out in silence."""

from __future__ import annotations

KEY = "not_evaluated"
TITLE = "Not evaluated"
ORDER = 80


def plan(ctx) -> list:
    return []


def build(ctx) -> list:
    return list(ctx.not_evaluated)


def html(part: list, report: dict) -> str:
    from ..render_html import table

    if not part:
        return "<p>Everything was evaluated.</p>"
    return ("<p>What this report could not answer, and why:</p>"
            + table(["section", "name", "reason"], part))


def markdown(part: list, report: dict) -> str:
    from ..render_md import table

    if not part:
        return "Everything was evaluated."
    return "What this report could not answer, and why:\n\n" + table(["section", "name", "reason"], part)
