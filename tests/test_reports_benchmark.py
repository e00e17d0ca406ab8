"""Sector benchmark: medians of released indicators, ten clients or nothing, made once."""

from __future__ import annotations

import datetime

import pytest

from reports.benchmark import MIN_CLIENTS, ready_on, sector_benchmark
from reports.models import FigureRelease
from tenants.models import ClientOrganisation
from tests.cast import sign_in

YEAR = 2020  # no release of the cast's clients in this year


def _released(cast, number: int, sector: str, **indicators) -> ClientOrganisation:
    # A client row without a schema is enough: the benchmark reads the public ledger only.
    client = ClientOrganisation.objects.create(
        firm=cast.acme,
        slug=f"bench-{sector}-{number}",
        name=f"Benchmark {sector} {number}",
        schema_name=f"c_bench_{sector}_{number}",
        sector=sector,
        employee_count=100,
    )
    FigureRelease.objects.create(
        scope=FigureRelease.Scope.CLIENT,
        firm=cast.acme,
        client=client,
        year=YEAR,
        quarter=4,
        k=5,
        truth={"indicators": {"contacts_per_100": None, **indicators}},
        published={},
    )
    return client


def test_medians_only_where_ten_clients_contribute_and_made_once(cast):
    for number in range(MIN_CLIENTS):
        # The tenth client's came-back share is hidden in its own release: nine remain.
        came_back = None if number == 9 else 40.0 + number
        _released(
            cast,
            number,
            "education",
            contacts_per_100=float(number + 1),
            came_back_share=came_back,
        )
    for number in range(MIN_CLIENTS - 1):
        _released(cast, number, "retail", contacts_per_100=5.0)
    ready = ready_on(YEAR)
    before = ready - datetime.timedelta(days=1)
    assert sector_benchmark(firm=cast.acme, sector="education", year=YEAR, today=before) == {}
    assert not FigureRelease.objects.filter(scope="firm").exists()  # not made early

    education = sector_benchmark(firm=cast.acme, sector="education", year=YEAR, today=ready)
    assert education == {"contacts_per_100": {"median": 5.5, "clients": 10}}
    # Nine retail clients: nothing, so a small sector cannot be read through its median.
    assert sector_benchmark(firm=cast.acme, sector="retail", year=YEAR, today=ready) == {}
    assert sector_benchmark(firm=cast.bravo, sector="education", year=YEAR, today=ready) == {}

    # A client released later (or a second look) changes nothing: no before and after.
    _released(cast, 10, "education", contacts_per_100=100.0, came_back_share=10.0)
    later = ready + datetime.timedelta(days=30)
    assert sector_benchmark(firm=cast.acme, sector="education", year=YEAR, today=later) == education
    assert FigureRelease.objects.filter(scope="firm", firm=cast.acme, year=YEAR).count() == 1


def _median_cell(page: str) -> str | None:
    """The sector median cell of the dashboard's "days to closure" row, or None without one."""
    import re

    row = re.search(r"Median days from first contact to closure</th>(.*?)</tr>", page, re.S)
    assert row, "the indicators table is missing"
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    return cells[2] if len(cells) == 3 else None  # two years, then the sector median


# The rule in numbers (not MIN_CLIENTS): ten contributing clients show it, nine do not.
@pytest.mark.parametrize(("others", "shown"), [(10, True), (9, False)])
def test_the_dashboard_shows_the_sector_median_from_ten_clients_only(
    cast, client_for, monkeypatch, others, shown
):
    """The dashboard of a1 (healthcare): the median of the other healthcare clients' released
    days-to-closure, a column of its own with ten contributing clients, no column with nine.
    a1 closed no case in that year, so its own release adds nothing to that indicator."""
    from django.utils import translation
    from django_tenants.utils import tenant_context

    from reports import benchmark
    from reports.indicators import indicators_current

    # The day the benchmark may be made is tested above; here the page, on any day of the year.
    monkeypatch.setattr(benchmark, "ready_on", lambda year: datetime.date.min)
    with tenant_context(cast.a1):
        years = [row.year for row in indicators_current()]  # a1's releases, as the page makes
        assert [row.median_days_to_closure for row in indicators_current()] == [None, None]
    for number in range(others):
        client = ClientOrganisation.objects.create(
            firm=cast.acme,
            slug=f"care-{number}",
            name=f"Zorg {number}",
            schema_name=f"c_care_{number}",
            sector=cast.a1.sector,
            employee_count=100,
        )
        FigureRelease.objects.create(
            scope=FigureRelease.Scope.CLIENT,
            firm=cast.acme,
            client=client,
            year=years[-1],
            quarter=4,
            k=5,
            truth={"indicators": {"median_days_to_closure": 10.0 + 2 * number}},
            published={},
        )
    http = client_for(cast.a1)
    sign_in(http, cast.contact_a1)
    with translation.override("en"):
        response = http.get("/board/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    if shown:
        # Ten values 10, 12, …, 28: the median is 19.0.
        assert _median_cell(page) == "19.0"
        assert f"Sector median {years[-1]}" in page
    else:
        assert _median_cell(page) is None
        assert "Sector median" not in page
    # Made once, in the append-only ledger, whatever it showed.
    assert FigureRelease.objects.filter(scope="firm", firm=cast.acme, year=years[-1]).count() == 1
