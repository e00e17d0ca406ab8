"""Published tables as people read them: labelled rows, text cells, CSV, XLSX, plotly, SVG.

Everything here starts from a `PublishedTable`, which holds shown values only; hidden cells
arrive as NaN with a status, so no export or chart can carry a suppressed number.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from reports.suppression import TOTAL, Kind, PublishedTable, Status

# Okabe-Ito: distinguishable with colour-blindness, readable on white.
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
MINUTES_PER_HOUR = 60


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    cells: list[str]
    is_total: bool


@dataclass(frozen=True)
class View:
    """A published table ready for a page: a title, labelled rows and column headings."""

    key: str
    title: str
    columns: list[str]
    headings: list[str]
    rows: list[Row]
    table: PublishedTable
    caption: str = ""

    def in_hours(self, row: str, column: str) -> bool:
        return in_hours(self.table, row, column)

    @property
    def has_hidden(self) -> bool:
        return bool((self.table.status != Status.SHOWN).to_numpy().any())


def in_hours(table: PublishedTable, row: str, column: str) -> bool:
    """Minutes are stored (whole numbers) and shown as hours."""
    if table.kind == Kind.COUNT:
        return False
    return "minutes" in (str(row), str(column))


def _scaled(value: float, hours: bool) -> float:
    return round(value / MINUTES_PER_HOUR, 1) if hours else value


def cell_text(table: PublishedTable, row: str, column: str) -> str:
    value, status = table.cell(row, column)
    if status != Status.SHOWN:
        return table.cell_text(row, column)
    value = _scaled(value, in_hours(table, row, column))
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\N{NARROW NO-BREAK SPACE}")
    # Hours: "1 234,8" in Dutch, "1 234.8" in English: the groups as for whole numbers, the
    # active language's decimal separator (counts and hours are never negative).
    whole, tenth = divmod(round(float(value) * 10), 10)
    grouped = f"{whole:,}".replace(",", "\N{NARROW NO-BREAK SPACE}")
    return f"{grouped}{formats.get_format('DECIMAL_SEPARATOR')}{tenth}"


def view_of(
    table: PublishedTable,
    *,
    title: str,
    labels: Mapping[str, str],
    headings: Mapping[str, str] | None = None,
    caption: str = "",
) -> View:
    """Label a published table (minutes shown as hours)."""
    headings = headings or {}
    columns = [str(column) for column in table.values.columns]
    rows = []
    for row in table.values.index:
        code = str(row)
        label = _("Total") if code == TOTAL else labels.get(code, code)
        cells = [cell_text(table, row, column) for column in table.values.columns]
        rows.append(Row(code=code, label=str(label), cells=cells, is_total=code == TOTAL))
    return View(
        key=table.key,
        title=title,
        columns=columns,
        headings=[
            str(headings.get(column, _("Total") if column == TOTAL else column))
            for column in columns
        ],
        rows=rows,
        table=table,
        caption=caption,
    )


def legend_text(k: int) -> str:
    return _(
        "“< %(k)d”: fewer than %(k)d. “x”: hidden, so that small numbers cannot be worked out "
        "from totals. “*”: too few cases to show this table at all. “…”: not released yet "
        "(figures of a quarter are released once, after it has closed)."
    ) % {"k": k}


# --- downloads ---------------------------------------------------------------------------------


def _inert(text: str) -> str:
    """Keep spreadsheet programs from reading a label (a client's name) as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_bytes(view: View) -> bytes:
    """The table as CSV (UTF-8 with BOM, so spreadsheet programs read the accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["", *(_inert(heading) for heading in view.headings)])
    for row in view.rows:
        writer.writerow([_inert(row.label), *row.cells])
    writer.writerow([])
    writer.writerow([legend_text(view.table.k)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(view: View) -> bytes:
    """The table as an XLSX workbook: numbers as numbers, hidden cells as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = view.key[:31]
    sheet.append([view.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["", *(_inert(heading) for heading in view.headings)])
    for row in view.rows:
        values: list[Any] = [_inert(row.label)]
        for column in view.table.values.columns:
            value, status = view.table.cell(row.code, column)
            if status == Status.SHOWN:
                values.append(_scaled(value, view.in_hours(row.code, column)))
            else:
                values.append(view.table.cell_text(row.code, column))
        sheet.append(values)
    sheet.append([])
    sheet.append([legend_text(view.table.k)])
    sheet.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- charts ------------------------------------------------------------------------------------


# Plotly figures are built as plain figure JSON ({"data": [...], "layout": {...}}), which is what
# plotly.js draws; plotly's Python objects validate every property and cost ~100 ms per figure.
_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 50, "b": 40},
    "font": {"family": "system-ui, sans-serif", "size": 13},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
}


# Legends sit at the foot of the whole figure (container coordinates), below the axis title, so
# they never overlap it whatever the figure's height; the bottom margin leaves them room.
_LEGEND_BELOW = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0}


def _figure(data: list[dict[str, Any]], layout: dict[str, Any], *, values: list[Any]) -> str:
    """Figure JSON; `empty` tells the page to say so instead of drawing blank axes when every
    value is hidden (too few contacts)."""
    empty = all(value is None for value in values)
    return json.dumps(
        {"data": data, "layout": {**_LAYOUT, **layout}, "empty": empty}, separators=(",", ":")
    )


def plotly_bar(view: View, *, columns: Sequence[str], names: Sequence[str], axis: str) -> str:
    """A horizontal bar chart (plotly JSON) of the shown cells; hidden ones are named in the
    hover text and left out of the bars."""
    rows = [row for row in view.rows if not row.is_total]
    data, values = [], []
    for number, (column, name) in enumerate(zip(columns, names, strict=True)):
        x, text = [], []
        for row in rows:
            shown = view.table.shown(row.code, column)
            x.append(None if shown is None else _scaled(shown, view.in_hours(row.code, column)))
            text.append(row.cells[view.columns.index(column)])
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": [_short(row.label, 28) for row in rows],
                "x": x,
                "name": str(name),
                "marker": {"color": COLOURS[number % len(COLOURS)]},
                "hovertext": text,
                "hoverinfo": "text+name+y",
            }
        )
        values += x
    return _figure(
        data,
        {
            "title": {"text": view.title},
            "xaxis": {"title": {"text": axis}, "rangemode": "tozero", "automargin": True},
            "yaxis": {"autorange": "reversed", "automargin": True},
            "barmode": "group",
            "height": max(280, 110 + 28 * len(rows) * max(1, len(columns))),
            "margin": {**_LAYOUT["margin"], "b": 90},
            "legend": _LEGEND_BELOW,
        },
        values=values,
    )


def plotly_trend(
    view: View,
    *,
    row: str,
    series: Mapping[str, Sequence[str]],
    axis: str,
    x_labels: Sequence[str],
) -> str:
    """A line chart (plotly JSON) of one row across quarters, one line per series; the series
    are aligned position by position on `x_labels` (this period against a year earlier)."""
    data, values = [], []
    for number, (name, columns) in enumerate(series.items()):
        y = []
        for column in columns:
            shown = view.table.shown(row, column)
            y.append(None if shown is None else _scaled(shown, view.in_hours(row, column)))
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": list(x_labels)[: len(columns)],
                "y": y,
                "name": str(name),
                "line": {"color": COLOURS[number % len(COLOURS)], "width": 3},
                "connectgaps": False,
            }
        )
        values += y
    return _figure(
        data,
        {
            "title": {"text": view.title},
            "xaxis": {"automargin": True},
            "yaxis": {"title": {"text": axis}, "rangemode": "tozero", "automargin": True},
            "height": 340,
            "margin": {**_LAYOUT["margin"], "b": 80},
            "legend": _LEGEND_BELOW,
        },
        values=values,
    )


def svg_bars(view: View, *, column: str, width: int = 640) -> str:
    """A static horizontal bar chart as inline SVG (for print and PDF), shown cells only; a
    hidden cell gets its mark ("< 5", "x") instead of a bar."""
    rows = [row for row in view.rows if not row.is_total]
    label_width, bar_height, gap, top = 250, 16, 8, 30
    height = top + len(rows) * (bar_height + gap) + 10
    values = [view.table.shown(row.code, column) for row in rows]
    values = [
        None if value is None else _scaled(value, view.in_hours(row.code, column))
        for row, value in zip(rows, values, strict=True)
    ]
    largest = max([value for value in values if value is not None] or [1.0]) or 1.0
    room = width - label_width - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(view.title)}">',
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="#1a1a1a">'
        f"{escape(view.title)}</text>",
    ]
    for number, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = top + number * (bar_height + gap)
        text = row.cells[view.columns.index(column)]
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 12}" font-size="11" text-anchor="end" '
            f'fill="#1a1a1a">{escape(_short(row.label, 38))}</text>'
        )
        length = 0 if value is None else max(1, int(room * value / largest))
        if length:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
                f'fill="{COLOURS[0]}"/>'
            )
        parts.append(
            f'<text x="{label_width + length + 6}" y="{y + 12}" font-size="11" '
            f'fill="#1a1a1a">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def json_of(view: View) -> dict[str, Any]:
    """The table as JSON for the charts' data endpoint: labels, text cells, shown numbers."""
    data = view.table.to_json()
    data["values"] = [
        [
            None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else _scaled(value, view.in_hours(row_code, column))
            for value, column in zip(row, data["columns"], strict=True)
        ]
        for row, row_code in zip(data["values"], data["rows"], strict=True)
    ]
    data.update(
        title=view.title,
        labels=[row.label for row in view.rows],
        headings=view.headings,
        text=[row.cells for row in view.rows],
    )
    return json.loads(json.dumps(data))


def _short(label: str, limit: int = 22) -> str:
    """An axis label cut to fit under a narrow column (the table beside it has it in full)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip(" ,(") + "…"


def plotly_heatmap(view: View, *, x_title: str, y_title: str) -> str:
    """A heatmap (plotly JSON) of the shown inner cells; hidden cells stay blank."""
    rows = [row for row in view.rows if not row.is_total]
    columns = [column for column in view.columns if column != TOTAL]
    z, text = [], []
    for row in rows:
        z.append([view.table.shown(row.code, column) for column in columns])
        text.append([row.cells[view.columns.index(column)] for column in columns])
    return _figure(
        [
            {
                "type": "heatmap",
                "z": z,
                "x": [_short(view.headings[view.columns.index(column)]) for column in columns],
                "y": [_short(row.label, 28) for row in rows],
                "text": text,
                "texttemplate": "%{text}",
                "colorscale": "Blues",
                "reversescale": True,  # plotly's Blues runs dark to light: more is darker
                "hoverongaps": False,
            }
        ],
        {
            "title": {"text": view.title},
            "xaxis": {
                "title": {"text": x_title, "standoff": 24},
                "automargin": True,
                "tickangle": -30,
            },
            "yaxis": {"title": {"text": y_title}, "automargin": True, "autorange": "reversed"},
            "height": max(320, 200 + 40 * len(rows)),
        },
        values=[value for line in z for value in line],
    )
