"""Sector benchmark: medians of released indicators, ten clients or nothing, made once."""

from __future__ import annotations

import datetime

from reports.benchmark import MIN_CLIENTS, ready_on, sector_benchmark
from reports.models import FigureRelease
from tenants.models import ClientOrganisation

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
