"""The web pages' charts as inline SVG, drawn on the server from the same figure JSON.

The figures (reports.presentation) are computed once; this module only draws them, so the page
needs no chart library: nothing to download (plotly.min.js was 4.8 MB), nothing in the Tab
order, no inline style or script for the Content-Security-Policy to allow, and no button that
can send a chart anywhere. Colours and sizes are SVG presentation attributes (allowed under
`style-src 'self'`); the SVG scales to its column through its viewBox (app.css `.chart svg`).
Each chart is one named image; the table beside it carries the exact numbers for everyone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from html import escape
from typing import Any

from django.utils import formats

from reports.presentation import COLOURS

WIDTH = 640
FONT = 'font-family="system-ui, sans-serif"'
INK = "#1a1a1a"
GRID = "#d9dde3"
EMPTY_TEXT = "#595959"


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _number(value: float) -> str:
    """A value as people read it in the page's language (decimal comma in Dutch)."""
    if float(value).is_integer():
        return formats.number_format(int(value), use_l10n=True, force_grouping=True)
    return formats.number_format(round(value, 1), 1, use_l10n=True, force_grouping=True)


def _nice_ticks(largest: float, count: int = 5) -> list[float]:
    """Round axis steps from 0 to at least `largest`."""
    if largest <= 0:
        return [0.0, 1.0]
    raw = largest / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(factor * power for factor in (1, 2, 2.5, 5, 10) if factor * power >= raw)
    ticks, tick = [], 0.0
    while tick < largest + step / 2:
        ticks.append(round(tick, 10))
        tick += step
    return ticks if ticks[-1] >= largest else [*ticks, ticks[-1] + step]


def _open(width: int, height: int, label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(label)}" {FONT} '
        f'font-size="13" fill="{INK}" focusable="false">'
    ]


def _legend(names: Sequence[str], y: int, *, line: bool) -> list[str]:
    """One row of legend entries (wrapped when long) starting at y; returns the parts."""
    parts, x = [], 0
    for number, name in enumerate(names):
        width = 34 + 7 * len(name)
        if x and x + width > WIDTH:
            x, y = 0, y + 22
        colour = COLOURS[number % len(COLOURS)]
        if line:
            parts.append(
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 22}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="3"/><circle cx="{x + 11}" cy="{y - 4}" r="4" fill="{colour}"/>'
            )
        else:
            parts.append(f'<rect x="{x}" y="{y - 12}" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{x + (28 if line else 20)}" y="{y}">{_e(name)}</text>')
        x += width
    return parts


def _legend_height(names: Sequence[str]) -> int:
    rows, x = 1, 0
    for name in names:
        width = 34 + 7 * len(name)
        if x and x + width > WIDTH:
            rows, x = rows + 1, 0
        x += width
    return 22 * rows


def _bar(figure: dict[str, Any], label: str) -> str:
    traces = figure["data"]
    labels = traces[0]["y"]
    series = len(traces)
    label_width, bar, gap, top = 190, 14, 10, 8
    group = series * bar + gap
    values = [value for trace in traces for value in trace["x"] if value is not None]
    ticks = _nice_ticks(max(values or [1.0]))
    room = WIDTH - label_width - 60
    chart_height = top + len(labels) * group
    axis_title = figure["layout"].get("xaxis", {}).get("title", {}).get("text", "")
    legend = [trace["name"] for trace in traces] if series > 1 else []
    height = chart_height + 44 + (_legend_height(legend) + 8 if legend else 0)
    parts = _open(WIDTH, height, label)
    for tick in ticks:
        x = label_width + room * tick / ticks[-1]
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{chart_height}" '
            f'stroke="{GRID}"/><text x="{x:.1f}" y="{chart_height + 16}" text-anchor="middle" '
            f'font-size="12">{_number(tick)}</text>'
        )
    if axis_title:
        parts.append(
            f'<text x="{label_width + room / 2:.1f}" y="{chart_height + 36}" '
            f'text-anchor="middle" font-size="12">{_e(axis_title)}</text>'
        )
    for row, name in enumerate(labels):
        y0 = top + row * group
        parts.append(
            f'<text x="{label_width - 8}" y="{y0 + series * bar / 2 + 4:.1f}" '
            f'text-anchor="end" font-size="12">{_e(name)}</text>'
        )
        for number, trace in enumerate(traces):
            value, y = trace["x"][row], y0 + number * bar
            text = (trace.get("hovertext") or [""] * len(labels))[row]
            length = 0.0 if value is None else room * value / ticks[-1]
            if length:
                colour = trace.get("marker", {}).get("color", COLOURS[0])
                parts.append(
                    f'<rect x="{label_width}" y="{y}" width="{max(length, 1):.1f}" '
                    f'height="{bar - 2}" fill="{colour}"/>'
                )
            # Hidden cells get their mark ("< 5", "x") in grey, never an empty bar read as 0.
            grey = "" if value is not None else f' fill="{EMPTY_TEXT}"'
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 4}" font-size="11"'
                f"{grey}>{_e(text)}</text>"
            )
    parts.append(
        f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" y2="{chart_height}" '
        f'stroke="{INK}"/>'
    )
    if legend:
        parts += _legend(legend, chart_height + 44 + 18, line=False)
    parts.append("</svg>")
    return "".join(parts)


def _trend(figure: dict[str, Any], label: str) -> str:
    traces = figure["data"]
    x_labels = max((trace["x"] for trace in traces), key=len)
    values = [value for trace in traces for value in trace["y"] if value is not None]
    ticks = _nice_ticks(max(values or [1.0]))
    left, top, plot_height = 56, 12, 220
    room = WIDTH - left - 20
    step = room / max(len(x_labels), 1)
    axis_title = figure["layout"].get("yaxis", {}).get("title", {}).get("text", "")
    legend = [trace["name"] for trace in traces]
    height = top + plot_height + 34 + _legend_height(legend) + 8
    parts = _open(WIDTH, height, label)
    bottom = top + plot_height
    for tick in ticks:
        y = bottom - plot_height * tick / ticks[-1]
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 10}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12">'
            f"{_number(tick)}</text>"
        )
    if axis_title:
        parts.append(
            f'<text x="12" y="{top + plot_height / 2:.1f}" text-anchor="middle" font-size="12" '
            f'transform="rotate(-90 12 {top + plot_height / 2:.1f})">{_e(axis_title)}</text>'
        )
    for index, name in enumerate(x_labels):
        parts.append(
            f'<text x="{left + step * (index + 0.5):.1f}" y="{bottom + 18}" '
            f'text-anchor="middle" font-size="12">{_e(name)}</text>'
        )
    for number, trace in enumerate(traces):
        colour = trace.get("line", {}).get("color", COLOURS[number % len(COLOURS)])
        points = [
            None
            if value is None
            else (left + step * (index + 0.5), bottom - plot_height * value / ticks[-1])
            for index, value in enumerate(trace["y"])
        ]
        # Hidden quarters break the line (connectgaps false): a gap, never a dip to zero.
        run: list[tuple[float, float]] = []
        for point in [*points, None]:
            if point is None:
                if len(run) > 1:
                    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                    parts.append(
                        f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="3"/>'
                    )
                run = []
            else:
                run.append(point)
        for point in points:
            if point is not None:
                parts.append(
                    f'<circle cx="{point[0]:.1f}" cy="{point[1]:.1f}" r="4.5" fill="{colour}"/>'
                )
    parts.append(
        f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="{INK}"/>'
    )
    parts += _legend(legend, bottom + 34 + 14, line=True)
    parts.append("</svg>")
    return "".join(parts)


def _blue(share: float) -> str:
    """Light to dark blue: more is darker (as plotly's reversed Blues)."""
    light, dark = (222, 235, 247), (8, 48, 107)
    return "#" + "".join(
        f"{round(a + (b - a) * share):02x}" for a, b in zip(light, dark, strict=True)
    )


def _heatmap(figure: dict[str, Any], label: str) -> str:
    trace = figure["data"][0]
    rows, columns, z, text = trace["y"], trace["x"], trace["z"], trace.get("text") or []
    layout = figure["layout"]
    x_title = layout.get("xaxis", {}).get("title", {}).get("text", "")
    y_title = layout.get("yaxis", {}).get("title", {}).get("text", "")
    label_width, top, cell_height = 190, 70, 30
    cell_width = (WIDTH - label_width) / max(len(columns), 1)
    values = [value for line in z for value in line if value is not None]
    largest = max(values or [1.0]) or 1.0
    height = top + len(rows) * cell_height + 10
    parts = _open(WIDTH, height, label)
    if x_title:
        parts.append(
            f'<text x="{label_width + (WIDTH - label_width) / 2:.1f}" y="14" '
            f'text-anchor="middle" font-size="12">{_e(x_title)}</text>'
        )
    if y_title:
        parts.append(f'<text x="0" y="{top - 8}" font-size="12">{_e(y_title)}</text>')
    for index, name in enumerate(columns):
        x = label_width + cell_width * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{top - 8}" font-size="11" '
            f'transform="rotate(-30 {x:.1f} {top - 8})">{_e(name)}</text>'
        )
    for row, name in enumerate(rows):
        y = top + row * cell_height
        parts.append(
            f'<text x="{label_width - 8}" y="{y + cell_height / 2 + 4:.1f}" '
            f'text-anchor="end" font-size="12">{_e(name)}</text>'
        )
        for column in range(len(columns)):
            value = z[row][column]
            x = label_width + column * cell_width
            shown = text[row][column] if row < len(text) and column < len(text[row]) else ""
            if value is None:
                fill, ink = "#ffffff", EMPTY_TEXT
            else:
                share = value / largest
                fill, ink = _blue(share), "#ffffff" if share > 0.45 else INK
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_width - 2:.1f}" '
                f'height="{cell_height - 2}" fill="{fill}" stroke="{GRID}"/>'
                f'<text x="{x + cell_width / 2 - 1:.1f}" y="{y + cell_height / 2 + 3:.1f}" '
                f'text-anchor="middle" font-size="12" fill="{ink}">{_e(shown)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def svg_of(figure_json: str, *, label: str) -> str | None:
    """The chart as inline SVG, or None when every value is hidden (the page says so)."""
    figure = json.loads(figure_json)
    if figure.get("empty") or not figure.get("data"):
        return None
    kind = figure["data"][0].get("type")
    if kind == "bar":
        return _bar(figure, label)
    if kind == "heatmap":
        return _heatmap(figure, label)
    return _trend(figure, label)
