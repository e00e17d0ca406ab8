"""A firm-wide sector benchmark of the indicators: per sector, indicator and year, the median
over the firm's clients of that sector, only where at least ten clients contribute.

Built from released values only: each client's indicators as its fourth-quarter release froze
them (`truth["indicators"]`, already gated: a ratio built on a hidden count is None there and
is left out). Why this cannot be used to take a client out of its sector:
- a median is an order statistic, not a sum: there is no "sector total minus the other
  clients" to compute, and below ten contributing clients nothing is shown, so a sector of one
  or two clients (or nine) gives nothing away;
- it is made once per firm and year and never again (a `FigureRelease` of scope "firm",
  append-only like every release), from the client releases that exist on the day it is made,
  which is no earlier than `READY_DAYS` after the year ended (the nightly task has then made
  every client's fourth-quarter release). So no reader can compare a median before and after
  one client's figures joined it. A client released later, or moved to another sector, does
  not change a benchmark already made.
What a reader learns is where their own figure stands among at least nine others, and, with an
odd number, that some unnamed client of the firm had exactly that (released) ratio.
"""

from __future__ import annotations

import datetime
import statistics
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from reports.models import FigureRelease
from tenants.models import ClientOrganisation, Firm

MIN_CLIENTS = 10
INDICATORS = [
    "contacts_per_100",
    "anonymous_share",
    "came_back_share",
    "median_days_to_conversation",
    "median_days_to_closure",
    "acknowledged_in_time_share",
    "answered_in_time_share",
]


def ready_on(year: int) -> datetime.date:
    """The first day the year's benchmark may be made: a week after the grace period in
    which the fourth quarter is released (`RELEASE_GRACE_DAYS`)."""
    from reports.releases import grace_days

    return datetime.date(year + 1, 1, 1) + datetime.timedelta(days=grace_days() + 7)


def _medians(rows: list[tuple[str, dict[str, Any] | None]]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, list[float]]] = {}
    for sector, indicators in rows:
        for name in INDICATORS:
            value = (indicators or {}).get(name)
            if value is not None:
                values.setdefault(sector, {}).setdefault(name, []).append(float(value))
    return {
        sector: {
            name: {"median": round(statistics.median(found), 1), "clients": len(found)}
            for name, found in per_indicator.items()
            if len(found) >= MIN_CLIENTS
        }
        for sector, per_indicator in values.items()
    }


def sector_benchmark(
    *, firm: Firm, sector: str, year: int, today: datetime.date | None = None
) -> dict[str, dict[str, Any]]:
    """The sector's medians of `year` ({indicator: {"median", "clients"}}, only indicators with
    ten or more contributing clients), made once per firm and year on first request after
    `ready_on(year)`; empty before that (causes two queries, three when it is made)."""
    today = today or timezone.localdate()
    made = _made(firm, year)
    if made is None:
        if today < ready_on(year):
            return {}
        made = _make(firm, year)
    return dict(made.published.get("sectors", {}).get(sector, {}))


def _made(firm: Firm, year: int) -> FigureRelease | None:
    return FigureRelease.objects.filter(
        scope=FigureRelease.Scope.FIRM, firm=firm, year=year, quarter=4
    ).first()


def _make(firm: Firm, year: int) -> FigureRelease:
    rows = list(
        FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT, firm=firm, year=year, quarter=4
        )
        .exclude(client__status=ClientOrganisation.Status.OFFBOARDED)
        .values_list("client__sector", "truth__indicators")
    )
    try:
        with transaction.atomic():
            return FigureRelease.objects.create(
                scope=FigureRelease.Scope.FIRM,
                firm=firm,
                client=None,
                year=year,
                quarter=4,
                k=firm.anonymity_threshold,
                # The inputs are released values; nothing unreleased is kept here.
                truth={"clients": len(rows)},
                published={"sectors": _medians(rows)},
            )
    except IntegrityError:
        # Another reader made it a moment ago: theirs is the benchmark.
        made = _made(firm, year)
        assert made is not None
        return made


def benchmark_current(*, year: int) -> dict[str, dict[str, Any]]:
    """The current client's sector benchmark of `year` (see `sector_benchmark`)."""
    from tenants.current import current_client_organisation

    client = current_client_organisation()
    return sector_benchmark(firm=client.firm, sector=client.sector, year=year)
