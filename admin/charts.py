"""Server-side SVG charts (bar, stacked bar, line) for the report pages: no JavaScript, no CDN, no internet.

Each function returns inline SVG as ``Markup``: ``role="img"`` with a
``<title>`` and ``<desc>`` (read by screen readers, shown as a tooltip), axis
labels, y ticks at round numbers, a legend for several series, and a
``<title>`` on every bar or point with its exact value. All text is escaped;
callers pass already-translated labels, so the charts speak zh or en.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#2f6fbf", "#e0892b", "#3a9a5b", "#c8433a", "#7d5ab5", "#8c6d4f", "#d16aa8", "#6b7b8c")
WIDTH, HEIGHT = 720, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 36, 64
_ids = itertools.count(1)

Number = float | int | None


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (about ``count`` steps of 1, 2 or 5 × 10^n)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def _frame(kind: str, title: str, x_label: str, y_label: str, labels: Sequence[str], top: float,
           width: int, height: int, series_names: Sequence[str], description: str) -> tuple[list[str], float, float]:
    """Open the SVG with title, desc, axes, ticks, x labels and legend; (parts, plot width, plot height)."""
    uid = next(_ids)
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = height - MARGIN_TOP - MARGIN_BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart chart-{kind}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" '
        f'aria-labelledby="chart-title-{uid} chart-desc-{uid}">',
        f'<title id="chart-title-{uid}">{escape(title)}</title>',
        f'<desc id="chart-desc-{uid}">{escape(description)}</desc>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    ticks = nice_ticks(top)
    scale_top = ticks[-1] or 1
    for tick in ticks:
        y = MARGIN_TOP + plot_h - plot_h * tick / scale_top
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e3e3e3"/>')
        parts.append(f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'class="y-tick">{_fmt(tick)}</text>')
    parts.append(f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" y2="{MARGIN_TOP + plot_h}" '
                 f'stroke="#555"/>')
    parts.append(f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w}" y1="{MARGIN_TOP + plot_h}" '
                 f'y2="{MARGIN_TOP + plot_h}" stroke="#555"/>')
    n = max(len(labels), 1)
    every = max(1, math.ceil(n / 16))  # at most ~16 x labels
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = MARGIN_LEFT + plot_w * (i + 0.5) / n
        parts.append(f'<text x="{x:.1f}" y="{MARGIN_TOP + plot_h + 14}" text-anchor="middle" font-size="11" '
                     f'class="x-tick">{escape(label)}</text>')
    parts.append(f'<text x="{MARGIN_LEFT + plot_w / 2}" y="{height - 26}" text-anchor="middle" font-size="12" '
                 f'class="x-label">{escape(x_label)}</text>')
    parts.append(f'<text transform="translate(14 {MARGIN_TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
                 f'font-size="12" class="y-label">{escape(y_label)}</text>')
    if len(series_names) > 1:
        x = MARGIN_LEFT
        for i, name in enumerate(series_names):
            color = PALETTE[i % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{color}"/>')
            parts.append(f'<text x="{x + 14}" y="{height - 5}" font-size="11" class="legend">{escape(name)}</text>')
            x += 24 + 8 * len(str(name)) + (6 * sum(1 for ch in str(name) if ord(ch) > 0x2e80))
    return parts, plot_w, plot_h


def _empty(title: str, width: int, height: int, no_data: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart chart-empty" role="img" '
        f'viewBox="0 0 {width} {height // 3}" width="100%" style="max-width:{width}px"><title>{escape(title)}</title>'
        f'<text x="{width / 2}" y="{height // 6}" text-anchor="middle" font-size="13">{escape(title)}: '
        f'{escape(no_data)}</text></svg>')


def stacked_bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], *,
                      x_label: str, y_label: str, width: int = WIDTH, height: int = HEIGHT,
                      no_data: str = "no data") -> Markup:
    """Bars per label, each stacking the series' values (one series: a plain bar chart)."""
    totals = [sum(float(values[i] or 0) for _, values in series) for i in range(len(labels))]
    if not labels or not any(totals):
        return _empty(title, width, height, no_data)
    names = [name for name, _ in series]
    description = "; ".join(f"{label}: " + ", ".join(f"{name} {_fmt(float(values[i] or 0))}" for name, values in series)
                            for i, label in enumerate(labels))
    parts, plot_w, plot_h = _frame("bar", title, x_label, y_label, labels, max(totals), width, height, names,
                                   description)
    scale_top = nice_ticks(max(totals))[-1] or 1
    slot = plot_w / len(labels)
    bar_w = max(1.0, slot * 0.7)
    for i, label in enumerate(labels):
        x = MARGIN_LEFT + slot * i + (slot - bar_w) / 2
        base = MARGIN_TOP + plot_h
        for s, (name, values) in enumerate(series):
            value = float(values[i] or 0)
            if value <= 0:
                continue
            h = plot_h * value / scale_top
            base -= h
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)} · {escape(name)}: '
                         f'{_fmt(value)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(title: str, labels: Sequence[str], values: Sequence[Number], *, x_label: str, y_label: str,
              series_name: str = "", width: int = WIDTH, height: int = HEIGHT, no_data: str = "no data") -> Markup:
    """One bar per label."""
    return stacked_bar_chart(title, labels, [(series_name or y_label, values)], x_label=x_label, y_label=y_label,
                             width=width, height=height, no_data=no_data)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number]]], *,
               x_label: str, y_label: str, width: int = WIDTH, height: int = HEIGHT, no_data: str = "no data",
               top: float | None = None) -> Markup:
    """One line per series over the labels; a None value breaks the line (no data that day)."""
    present = [float(v) for _, values in series for v in values if v is not None]
    if not labels or not present:
        return _empty(title, width, height, no_data)
    names = [name for name, _ in series]
    description = "; ".join(f"{name}: " + ", ".join(f"{labels[i]} {_fmt(float(v))}" for i, v in enumerate(values)
                                                    if v is not None) for name, values in series)
    high = max(top or 0.0, max(present))
    parts, plot_w, plot_h = _frame("line", title, x_label, y_label, labels, high, width, height, names, description)
    scale_top = nice_ticks(high)[-1] or 1
    n = len(labels)
    for s, (name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        segment: list[str] = []
        points = []
        for i, value in enumerate(values):
            if value is None:
                if len(segment) > 1:
                    parts.append(f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" '
                                 f'points="{" ".join(segment)}"/>')
                segment = []
                continue
            x = MARGIN_LEFT + plot_w * (i + 0.5) / n
            y = MARGIN_TOP + plot_h - plot_h * float(value) / scale_top
            segment.append(f"{x:.1f},{y:.1f}")
            points.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>'
                          f'{escape(labels[i])} · {escape(name)}: {_fmt(float(value))}</title></circle>')
        if len(segment) > 1:
            parts.append(f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" '
                         f'points="{" ".join(segment)}"/>')
        parts.extend(points)
    parts.append("</svg>")
    return Markup("".join(parts))
