"""Chart figures: built from published (suppressed) tables only; a chart whose every value is
hidden says so instead of drawing empty axes; legends never sit on the axis titles."""

from __future__ import annotations

import json

import pandas as pd

from reports.chart_svg import svg_of
from reports.presentation import plotly_bar, plotly_heatmap, plotly_trend, view_of
from reports.suppression import Table, suppress


def _view(counts: dict[str, list[int]]):
    frame = pd.DataFrame(counts, index=["phone", "email", "chat"])
    published = suppress([Table("channels", frame, row_totals=True)], k=5)["channels"]
    return view_of(published, title="Cases by channel", labels={"phone": "Phone"})


def test_a_chart_of_shown_values_is_drawn_and_carries_no_hidden_number():
    view = _view({"q1": [12, 2, 1], "q2": [9, 8, 7]})
    figure = json.loads(plotly_bar(view, columns=["q1", "q2"], names=["Q1", "Q2"], axis="Cases"))
    assert figure["empty"] is False
    values = [value for trace in figure["data"] for value in trace["x"]]
    assert 12 in values and 2 not in values and 1 not in values
    assert figure["layout"]["legend"]["yref"] == "container"  # below the axis title
    assert figure["layout"]["xaxis"]["title"]["text"] == "Cases"


def test_a_chart_whose_every_value_is_hidden_is_marked_empty():
    view = _view({"q1": [1, 2, 1], "q2": [3, 0, 4]})
    bar = json.loads(plotly_bar(view, columns=["q1", "q2"], names=["Q1", "Q2"], axis="Cases"))
    assert bar["empty"] is True
    trend = json.loads(
        plotly_trend(view, row="phone", series={"now": ["q1", "q2"]}, axis="Cases", x_labels=["a"])
    )
    assert trend["empty"] is True
    assert json.loads(plotly_heatmap(view, x_title="Q", y_title="Channel"))["empty"] is True


def test_the_dashboard_page_says_so_for_an_empty_chart(cast, client_for):
    from tests.cast import sign_in

    http = client_for(cast.a1)
    sign_in(http, cast.contact_a1)
    body = http.get("/board/").content.decode()
    assert '<p class="chart-empty">Te weinig meldingen' in body
    assert "plotly" not in body and "data-figure" not in body
    assert body.count("<script") == body.count('<script src="/static/')  # no inline script


def test_the_svg_bar_chart_draws_shown_cells_and_marks_hidden_ones():
    view = _view({"q1": [12, 2, 1], "q2": [9, 8, 7]})
    figure = plotly_bar(view, columns=["q1", "q2"], names=["Q1", "Q2"], axis="Cases")
    svg = svg_of(figure, label="Cases by channel")
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img" aria-label="Cases by channel"' in svg
    # Shown: phone in both quarters; hidden (small, then secondary): the rest, drawn as marks.
    assert svg.count("<rect") == 2 + 2  # two bars, two legend keys
    assert ">12</text>" in svg and ">9</text>" in svg and ">8</text>" not in svg
    assert svg.count(">&lt; 5</text>") == 2 and svg.count(">x</text>") == 2
    assert "<script" not in svg and "style=" not in svg and "<a" not in svg
    assert "Cases</text>" in svg and ">Q1</text>" in svg and ">Q2</text>" in svg


def test_the_svg_trend_breaks_at_a_hidden_quarter_and_heatmap_leaves_it_blank():
    view = _view({"q1": [12, 9, 8], "q2": [1, 8, 7], "q3": [9, 8, 7], "q4": [20, 30, 40]})
    quarters = ["q1", "q2", "q3", "q4"]
    trend = svg_of(
        plotly_trend(view, row="phone", series={"now": quarters}, axis="Cases", x_labels="abcd"),
        label="Trend",
    )
    # Phone: q1 and q4 shown, q2 small and q3 hidden with it: two points, no line across.
    assert trend.count("<circle") == 2 + 1  # and one legend key
    assert "<polyline" not in trend
    heatmap = svg_of(plotly_heatmap(view, x_title="Q", y_title="Channel"), label="Heat")
    assert heatmap.count('fill="#ffffff" stroke') == 4  # the four hidden inner cells
    assert ">&lt; 5</text>" in heatmap
    assert (
        svg_of(plotly_heatmap(_view({"q1": [1, 2, 1]}), x_title="Q", y_title="C"), label="x")
        is None
    )


def test_the_svg_axis_numbers_are_written_the_dutch_way():
    from django.utils import translation

    view = _view({"q1": [1200, 700, 900]})
    with translation.override("nl"):
        svg = svg_of(plotly_bar(view, columns=["q1"], names=["Q1"], axis="Cases"), label="x")
    assert ">1.000</text>" in svg and ">1,000</text>" not in svg


def test_hours_in_tables_are_written_with_the_readers_decimal_separator():
    """Issue 14: Dutch pages and PDFs said "12.8" hours; Dutch writes 12,8."""
    from django.utils import translation

    from reports.presentation import cell_text
    from reports.suppression import Kind

    minutes = pd.DataFrame({"minutes": [768, 74_070, 600]}, index=["a", "b", "c"])
    cases = pd.DataFrame({"minutes": [6, 9, 7]}, index=["a", "b", "c"])
    published = suppress(
        [Table("hours", minutes, kind=Kind.AMOUNT, guard=cases, column_totals=False)], k=5
    )["hours"]
    with translation.override("nl"):
        dutch = [cell_text(published, row, "minutes") for row in ("a", "b", "c")]
    with translation.override("en"):
        english = [cell_text(published, row, "minutes") for row in ("a", "b", "c")]
    assert dutch == ["12,8", "1\N{NARROW NO-BREAK SPACE}234,5", "10"]
    assert english == ["12.8", "1\N{NARROW NO-BREAK SPACE}234.5", "10"]
