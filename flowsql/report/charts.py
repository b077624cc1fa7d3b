"""Charts as inline SVG, made in Python: no JavaScript, no fonts or files fetched, the same bytes for
the same numbers (coordinates printed with one decimal).

    columns(labels, series, ...)  vertical bars per label (days), the series stacked
    bars(items, ...)              horizontal bars, one per (label, value), largest first as given
    stacked_bar(parts, ...)       one horizontal bar split into parts (posture statuses)
"""

from __future__ import annotations

import math
from html import escape

ACCEPTED = "#2f6fb3"
REJECTED = "#c0392b"
BAR = "#3f7f5f"
GRID = "#d8dde3"
INK = "#1f2933"
MUTED = "#616e7c"
STATUS_COLORS = {"ok": "#2e7d32", "alarm": "#c62828", "skip": "#9e9e9e", "info": "#1565c0",
                 "not evaluated": "#ef6c00"}

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'


def human_bytes(n) -> str:
    """Decimal units, one decimal: 1.5 GB (the units the AWS bill uses)."""
    if n is None:
        return "–"
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover (the loop returns)


def human_count(n) -> str:
    if n is None:
        return "–"
    n = float(n)
    for unit in ("", "k", "M", "G", "T"):
        if abs(n) < 1000 or unit == "T":
            return f"{int(n)}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1000
    return f"{n:.1f}T"  # pragma: no cover


def _n(x: float) -> str:
    return f"{x:.1f}"


def _nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 × 10^k) so that `ticks` steps cover `top`."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag  # pragma: no cover


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _legend(x: float, y: float, series) -> list[str]:
    out = []
    for name, color in series:
        out.append(f'<rect x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{_n(x + 14)}" y="{_n(y)}" font-size="11" fill="{INK}" {_FONT}>{escape(name)}</text>')
        x += 22 + 6.5 * len(name)
    return out


def columns(labels: list[str], series: list[tuple[str, str, list]], *, title: str, fmt=human_count,
            width: int = 760, height: int = 240, ticks: dict[int, str] | None = None,
            empty: str = "no records in the month") -> str:
    """Vertical bars, one per label, each the series stacked (bottom first). `series` is
    [(name, colour, values)]; a None value counts as 0. `ticks` (bar index -> text) says what to
    print under which bars (default: the labels of at most 31 of them); `empty`, what a chart
    without bars says."""
    left, right, top, bottom = 64, 12, 26, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(v[i] or 0 for _, _, v in series) for i in range(len(labels))]
    step = _nice_step(max(totals, default=0))
    top_value = step * max(1, math.ceil(max(totals, default=0) / step))
    body = _legend(left, 14, [(name, color) for name, color, _ in series])
    for k in range(0, int(round(top_value / step)) + 1):
        y = top + plot_h - plot_h * (k * step / top_value)
        body.append(f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}" stroke="{GRID}" '
                    'stroke-width="1"/>')
        body.append(f'<text x="{left - 6}" y="{_n(y + 4)}" font-size="10" text-anchor="end" fill="{MUTED}" '
                    f'{_FONT}>{escape(fmt(k * step))}</text>')
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    every = max(1, math.ceil(n / 31))
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        base = top + plot_h
        for name, color, values in series:
            v = values[i] or 0
            h = plot_h * v / top_value if top_value else 0
            if h > 0:
                body.append(f'<rect x="{_n(x)}" y="{_n(base - h)}" width="{_n(bar_w)}" height="{_n(h)}" '
                            f'fill="{color}"><title>{escape(label)} {escape(name)}: {escape(fmt(v))}</title></rect>')
            base -= h
        tick = (label if i % every == 0 else None) if ticks is None else ticks.get(i)
        if tick is not None:
            body.append(f'<text x="{_n(x + bar_w / 2)}" y="{height - bottom + 14}" font-size="10" '
                        f'text-anchor="middle" fill="{MUTED}" {_FONT}>{escape(tick)}</text>')
    if not labels:
        body.append(f'<text x="{_n(left + plot_w / 2)}" y="{_n(top + plot_h / 2)}" font-size="12" '
                    f'text-anchor="middle" fill="{MUTED}" {_FONT}>{escape(empty)}</text>')
    return _svg(width, height, title, body)


def bars(items: list[tuple[str, float]], *, title: str, color: str = BAR, fmt=human_bytes,
         width: int = 760) -> str:
    """Horizontal bars, one per (label, value), in the order given."""
    label_w, value_w, row_h, top = 250, 90, 22, 8
    height = top * 2 + row_h * max(len(items), 1)
    plot_w = width - label_w - value_w
    biggest = max((v or 0 for _, v in items), default=0)
    body = []
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = plot_w * (value or 0) / biggest if biggest else 0
        body.append(f'<text x="{label_w - 8}" y="{_n(y + 15)}" font-size="12" text-anchor="end" fill="{INK}" '
                    f'{_FONT}>{escape(_short(label))}</text>')
        body.append(f'<rect x="{label_w}" y="{_n(y + 4)}" width="{_n(max(w, 1.0))}" height="{row_h - 8}" '
                    f'fill="{color}"><title>{escape(label)}: {escape(fmt(value))}</title></rect>')
        body.append(f'<text x="{_n(label_w + max(w, 1.0) + 6)}" y="{_n(y + 15)}" font-size="11" fill="{MUTED}" '
                    f'{_FONT}>{escape(fmt(value))}</text>')
    if not items:
        body.append(f'<text x="{label_w}" y="{top + 15}" font-size="12" fill="{MUTED}" {_FONT}>no rows</text>')
    return _svg(width, height, title, body)


def stacked_bar(parts: list[tuple[str, str, int]], *, title: str, width: int = 760) -> str:
    """One bar split into [(name, colour, count)], with a legend of the counts."""
    height, bar_h, top = 48, 18, 4
    total = sum(c for _, _, c in parts)
    body, x = [], 0.0
    for name, color, count in parts:
        if count and total:
            w = width * count / total
            body.append(f'<rect x="{_n(x)}" y="{top}" width="{_n(w)}" height="{bar_h}" fill="{color}">'
                        f"<title>{escape(name)}: {count}</title></rect>")
            x += w
    body += _legend(0, top + bar_h + 20, [(f"{name} {count}", color) for name, color, count in parts])
    return _svg(width, height, title, body)


def _short(label: str, limit: int = 40) -> str:
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"
