"""The annual report's content, HTML and PDF.

`content_build` gathers the figures (published yearly tables of the year and the two before,
frozen ones where those years' reports are published), the adviser's texts, the activities and
the signals of the year. `html_render` renders the report body once; the page shows that body
and `pdf_render` prints the same body with print CSS through WeasyPrint, charts as inline SVG.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from boardroom import selectors
from boardroom.dashboard import DIMENSION_TABLES, table_titles
from boardroom.models import Activity, AnnualReport, BoardSignal
from reports import frames as report_frames
from reports.presentation import View, legend_text, svg_bars, view_of
from reports.suppression import (
    TOTAL,
    Kind,
    Publication,
    PublishedTable,
    Status,
    Table,
    suppress,
)
from tenants.current import current_client_organisation

# The dashboard's tables, each with a chart; conversations are a key figure, hours a table below.
SECTION_TABLES = [key for key in DIMENSION_TABLES if key not in ("conversations", "hours")]


def section_titles() -> dict[str, str]:
    """The dashboard's table titles (the same tables) and the report's own sections."""
    return {
        **table_titles(),
        "key_figures": _("Key figures"),
        "combined": _("External and internal advisers together, by type"),
        "activities": _("Other activities"),
        "sparring": _("Sparring with the internal advisers, by type"),
    }


def key_figure_labels() -> dict[str, str]:
    return {
        "cases": _("Cases"),
        "closed": _("Cases closed"),
        "conversations": _("Conversations"),
        "referrals": _("Referrals"),
        "internal": _("Contacts registered by internal advisers"),
    }


@dataclass
class Section:
    view: View
    chart_svg: str = ""
    note: str = ""


@dataclass
class ReportContent:
    client_name: str
    year: int
    years: list[int]
    k: int
    key_figures: View
    trend: View
    sections: list[Section]
    combined: View
    hours: View
    activities: View
    sparring: View | None
    signals: list[BoardSignal]
    narrative: str
    recommendations: str
    figures: dict[str, Any] = field(default_factory=dict)
    # The client's advisers and their training as of `advisers_on` (frozen with the figures).
    advisers: list[dict[str, Any]] = field(default_factory=list)
    advisers_on: datetime.date | None = None


def activities_table(year: int) -> Table:
    """Activities of the year per kind: how many and how long (the adviser's own work)."""
    kinds = Activity.Kind.values
    frame = pd.DataFrame(0, index=kinds, columns=["number", "minutes"], dtype="int64")
    for activity in selectors.activities_of_year(year):
        frame.loc[activity.kind, "number"] += 1
        frame.loc[activity.kind, "minutes"] += activity.minutes
    return Table("activities", frame, row_totals=False, column_totals=True, kind=Kind.WORK)


def sparring_table(year: int) -> Table:
    """Sparring threads with the client's internal advisers in the year, per case type: counts
    about cases, so suppressed like them."""
    from cases.models import CaseType

    numbers = selectors.sparring_counts_of_year(year)
    frame = pd.DataFrame(
        {"number": [int(numbers.get(code, 0)) for code in CaseType.values]},
        index=CaseType.values,
        dtype="int64",
    )
    return Table("sparring", frame, row_totals=False, column_totals=True)


def _sparring_released(publication: Publication, year: int) -> PublishedTable:
    """The year's sparring counts as its fourth-quarter release showed them; pending until
    then (a running year's threads are not counted yet, as its running quarter is not)."""
    if "sparring" in publication.tables:
        return publication["sparring"]
    shape = sparring_table(year).frame
    rows = [*map(str, shape.index), TOTAL]
    return PublishedTable(
        key="sparring",
        kind=Kind.COUNT,
        k=publication.k,
        values=pd.DataFrame(np.nan, index=rows, columns=list(shape.columns)),
        status=pd.DataFrame(Status.PENDING, index=rows, columns=list(shape.columns), dtype=object),
    )


def figures_build(year: int) -> dict[str, Any]:
    """Return the report's figures as JSON: the published tables of the year and the two
    before, and the activities (all through the suppression function)."""
    years = [year - 2, year - 1, year]
    publications = selectors.year_publications(years)
    activities = suppress([activities_table(year)], k=publications[year].k)
    sparring = Publication(
        k=publications[year].k, tables={"sparring": _sparring_released(publications[year], year)}
    )
    advisers_on = min(timezone.localdate(), datetime.date(year, 12, 31))
    return {
        # Built from the release ledger: readers of the report and of the dashboard see one
        # version of the year (reports frozen before releases existed lack this mark).
        "source": "releases",
        "year": year,
        "k": publications[year].k,
        "canonical": publications[year].to_json(),
        "earlier": {str(y): publications[y].to_json() for y in years[:-1]},
        "activities": activities.to_json(),
        "sparring": sparring.to_json(),
        # Facts about the advisers, not about reporters: no suppression. As of the year's end,
        # or today while the year runs; frozen with the rest at publication.
        "advisers_on": advisers_on.isoformat(),
        "advisers": _advisers(advisers_on),
    }


def _advisers(on: datetime.date) -> list[dict[str, Any]]:
    from cases.selectors import advisers_of_client
    from credentials.selectors import report_advisers

    client = current_client_organisation()
    return report_advisers(
        client=client,
        external=advisers_of_client(day=on),
        on=on,
        named=client.advisers_named_in_report,
    )


def _publications(figures: dict[str, Any]) -> dict[int, Publication]:
    result = {int(y): Publication.from_json(data) for y, data in figures["earlier"].items()}
    result[int(figures["year"])] = Publication.from_json(figures["canonical"])
    return result


def content_build(report: AnnualReport, *, figures: dict[str, Any] | None = None) -> ReportContent:
    """Gather everything the report shows; `figures` frozen at publication, else live."""
    figures = figures if figures is not None else figures_build(report.year)
    year = int(figures["year"])
    years = [year - 2, year - 1, year]
    publications = _publications(figures)
    labels = selectors.labels_current()
    titles = section_titles()
    headings = {str(y): str(y) for y in years}
    key_figures = view_of(
        report_frames.key_figures_table(publications, years),
        title=titles["key_figures"],
        labels=key_figure_labels(),
        headings=headings,
    )
    quarter_columns = [f"{year}-Q{n}" for n in range(1, 5)]
    trend_table = report_frames.quarter_table(
        publications,
        "cases_by_type",
        [q for y in (year - 1, year) for q in report_frames.year_quarters(y)],
        TOTAL,
    )
    trend = view_of(trend_table, title=titles["trend"], labels={TOTAL: _("Cases")})
    sections = []
    for key in SECTION_TABLES:
        table = report_frames.years_table(publications, key, years)
        view = view_of(table, title=titles[key], labels=labels.get(key, {}), headings=headings)
        sections.append(Section(view=view, chart_svg=svg_bars(view, column=str(year))))
    canonical = publications[year]
    combined = view_of(
        canonical["combined"],
        title=titles["combined"],
        labels=labels["combined"],
        headings={"external": _("External adviser"), "internal": _("Internal advisers")},
    )
    hours = view_of(
        canonical["hours"],
        title=titles["hours"],
        labels={"minutes": _("Hours")},
        headings={column: f"Q{column[-1]}" for column in quarter_columns},
    )
    activity_labels = {str(v): str(label) for v, label in Activity.Kind.choices}
    activities = view_of(
        Publication.from_json(figures["activities"])["activities"],
        title=titles["activities"],
        labels=activity_labels,
        headings={"number": _("Number"), "minutes": _("Hours")},
    )
    sparring = None
    if "sparring" in figures:  # reports published before sparring counts were reported lack it
        sparring = view_of(
            Publication.from_json(figures["sparring"])["sparring"],
            title=titles["sparring"],
            labels=labels.get("cases_by_type", {}),
            headings={"number": _("Threads")},
        )
    client = current_client_organisation()
    return ReportContent(
        client_name=client.name,
        year=year,
        years=years,
        k=int(figures["k"]),
        key_figures=key_figures,
        trend=trend,
        sections=sections,
        combined=combined,
        hours=hours,
        activities=activities,
        sparring=sparring,
        signals=selectors.signals_of_year(year),
        narrative=report.narrative,
        recommendations=report.recommendations,
        figures=figures,
        # Reports published before advisers were listed lack them (and show no section).
        advisers=list(figures.get("advisers", [])),
        advisers_on=datetime.date.fromisoformat(figures["advisers_on"])
        if figures.get("advisers_on")
        else None,
    )


def html_render(content: ReportContent, *, status: str, published_on: datetime.date | None) -> str:
    """Render the report body (an HTML fragment; escaped texts, inline SVG charts)."""
    return render_to_string(
        "reports/annual_report_body.html",
        {
            "content": content,
            "legend": legend_text(content.k),
            "status": status,
            "published_on": published_on,
            "generated_on": timezone.localdate(),
        },
    )


@functools.cache
def _print_css() -> str:
    from django.contrib.staticfiles import finders

    path = finders.find("reports/report.css")
    return Path(path).read_text(encoding="utf-8") if path else ""


def document_render(body: str, *, title: str) -> str:
    """Wrap the body in a complete, self-contained document with the print stylesheet inline
    (WeasyPrint fetches nothing)."""
    return render_to_string(
        "reports/annual_report_document.html", {"body": body, "title": title, "css": _print_css()}
    )


def pdf_render(document: str) -> bytes:
    """Print the document to PDF (WeasyPrint; no network: every resource is inline)."""
    from weasyprint import HTML

    return HTML(string=document, base_url=None).write_pdf()


def report_title(content: ReportContent) -> str:
    return _("Annual report %(year)d — %(client)s") % {
        "year": content.year,
        "client": content.client_name,
    }
