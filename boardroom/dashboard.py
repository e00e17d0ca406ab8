"""The client organisation's dashboard for a period: tables and charts, all from published
yearly figures (see `reports.frames`), translated into the reader's language."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from boardroom import selectors
from reports import frames as report_frames
from reports.frames import PERIOD, PREVIOUS
from reports.periods import Period
from reports.presentation import View, plotly_bar, plotly_trend, view_of
from reports.suppression import TOTAL

DIMENSION_TABLES = [
    "cases_by_type",
    "themes",
    "cases_by_role",
    "cases_by_accused",
    "cases_by_channel",
    "outcomes",
    "referrals",
    "conversations",
    "hours",
]


def table_titles() -> dict[str, str]:
    return {
        "trend": _("Cases per quarter"),
        "cases_by_type": _("Cases by type"),
        "themes": _("Themes (a case can have several)"),
        "cases_by_role": _("Cases by the reporter's role"),
        "cases_by_accused": _("Cases by the relation of the accused"),
        "cases_by_channel": _("Cases by channel"),
        "outcomes": _("Closed cases by outcome"),
        "referrals": _("Referrals"),
        "conversations": _("Conversations"),
        "hours": _("Hours spent on cases"),
    }


@dataclass
class Chart:
    view: View
    figure_json: str

    @property
    def key(self) -> str:
        return self.view.key

    @property
    def element_id(self) -> str:
        return f"figure-{self.view.key}"


@dataclass
class Dashboard:
    period: Period
    k: int
    trend: Chart
    charts: list[Chart]
    # The key `dashboard_build` cached it under: the page caches its rendered charts by it.
    cache_key: str = ""

    def view(self, key: str) -> View:
        if key == "trend":
            return self.trend.view
        for chart in self.charts:
            if chart.key == key:
                return chart.view
        raise KeyError(key)


def dashboard_build(period: Period) -> Dashboard:
    """Return every table and chart for the period and the same period a year earlier (cached
    per release state, period and language: figures change only with a new release)."""
    key = (
        f"reports:dashboard:{selectors.release_state_current()}:{selectors.threshold_current()}:"
        f"{period.first.label}:{period.last.label}:{get_language()}"
    )
    cached = cache.get(key)
    if cached is None:
        cached = _dashboard_build(period)
        cached.cache_key = key
        cache.set(key, cached, selectors.PUBLICATION_CACHE_SECONDS)
    return cached


def _dashboard_build(period: Period) -> Dashboard:
    earlier = period.a_year_earlier()
    publications = selectors.year_publications([*earlier.years, *period.years])
    labels = selectors.labels_current()
    titles = table_titles()
    headings = {PERIOD: period.label, PREVIOUS: earlier.label}
    charts = []
    for key in DIMENSION_TABLES:
        table = report_frames.period_table(publications, key, period)
        view = view_of(table, title=titles[key], labels=labels.get(key, {}), headings=headings)
        axis = _("Hours") if key == "hours" else _("Number")
        figure = plotly_bar(
            view, columns=[PERIOD, PREVIOUS], names=[period.label, earlier.label], axis=axis
        )
        charts.append(Chart(view=view, figure_json=figure))
    quarters = [*earlier.quarters, *period.quarters]
    trend_table = report_frames.quarter_table(
        publications, "cases_by_type", sorted(set(quarters)), TOTAL
    )
    trend_view = view_of(trend_table, title=titles["trend"], labels={TOTAL: _("Cases")})
    series = {
        period.label: [quarter.label for quarter in period.quarters],
        earlier.label: [quarter.label for quarter in earlier.quarters],
    }
    trend = Chart(
        view=trend_view,
        figure_json=plotly_trend(
            trend_view,
            row=TOTAL,
            series=series,
            axis=_("Cases"),
            x_labels=[quarter.label for quarter in period.quarters],
        ),
    )
    k = next(iter(publications.values())).k
    return Dashboard(period=period, k=k, trend=trend, charts=charts)
