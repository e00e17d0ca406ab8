"""Chart figures: built from published (suppressed) tables only; a chart whose every value is
hidden says so instead of drawing empty axes; legends never sit on the axis titles."""

from __future__ import annotations

import json

import pandas as pd

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


def test_the_dashboard_page_tells_the_script_what_to_say_for_an_empty_chart(cast, client_for):
    from tests.cast import sign_in

    http = client_for(cast.a1)
    sign_in(http, cast.contact_a1)
    body = http.get("/board/").content.decode()
    assert 'data-empty="' in body and "Te weinig meldingen" in body
