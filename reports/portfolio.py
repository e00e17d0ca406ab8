"""The firm's portfolio, read from the public rollups only (never from the client schemas).

Tables, suppressed together with the firm's k:
  per_client — rows: client ids; columns: the earlier and the recent half of the period, and
      the period total (cases opened); the column totals are the firm's;
  themes_by_sector — theme mentions per sector and theme;
  per_adviser — cases opened in the period per handling adviser (linked to the firm total)
      and open cases today (from the work index);
  hours_per_adviser — minutes worked in the period, hidden where the adviser opened fewer than
      k cases in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Sum

from reports.frames import tables_fingerprint
from reports.models import CaseRollup, Dimension
from reports.periods import Period
from reports.suppression import TOTAL, Kind, Link, Publication, Table, suppress
from tenants.models import ClientOrganisation, Firm
from workindex.models import CaseworkEntry, WorkMinutes

EARLIER = "earlier"
RECENT = "recent"
RISING_FACTOR = 1.5
PORTFOLIO_CACHE_SECONDS = 24 * 3600


@dataclass
class Portfolio:
    period: Period
    publication: Publication
    clients: dict[int, ClientOrganisation]
    rates: dict[int, float | None]  # cases per 100 employees, only where the count is shown
    rising: list[int]  # clients whose recent half is at least 1.5x the earlier one (both shown)
    adviser_names: dict[int, str]


def _halves(period: Period) -> tuple[list[str], list[str]]:
    months = pd.period_range(period.starts_on, period.ends_on, freq="M")
    labels = [str(month) for month in months]
    middle = len(labels) // 2
    return labels[:middle], labels[middle:]


def portfolio_tables(
    rollups: pd.DataFrame,
    *,
    clients: dict[int, ClientOrganisation],
    period: Period,
    open_cases: dict[int, int],
    minutes: dict[int, int],
    all_clients: bool,
) -> tuple[list[Table], list[Link]]:
    """Build the portfolio's count tables from rollup rows (client_id, sector, month,
    dimension, value, count); pure pandas."""
    earlier_months, recent_months = _halves(period)
    month = rollups["month"].map(lambda day: f"{day:%Y-%m}") if len(rollups) else rollups["month"]
    cases = rollups[rollups["dimension"] == Dimension.CASES]
    case_month = month[cases.index]
    client_rows = [str(client_id) for client_id in clients]
    per_client = pd.DataFrame(0, index=client_rows, columns=[EARLIER, RECENT], dtype="int64")
    for column, months in ((EARLIER, earlier_months), (RECENT, recent_months)):
        chosen = cases[case_month.isin(months)].groupby("client_id")["count"].sum()
        for client_id, number in chosen.items():
            per_client.loc[str(client_id), column] = int(number)
    tables = [Table("per_client", per_client, row_totals=True, column_totals=True)]

    themes = rollups[rollups["dimension"] == Dimension.THEME]
    sectors = sorted({client.sector for client in clients.values()}) or ["other"]
    theme_codes = sorted(set(themes["value"])) or ["other"]
    by_sector = (
        themes.groupby(["sector", "value"])["count"].sum().unstack(fill_value=0)
        if len(themes)
        else pd.DataFrame()
    )
    by_sector = by_sector.reindex(index=sectors, columns=theme_codes, fill_value=0).astype("int64")
    tables.append(Table("themes_by_sector", by_sector, row_totals=True, column_totals=True))

    advisers = rollups[rollups["dimension"] == Dimension.ADVISER]
    opened = advisers.groupby("value")["count"].sum()
    adviser_ids = sorted({*opened.index, *map(str, open_cases), *map(str, minutes)}, key=str)
    adviser_ids = [value for value in adviser_ids if value] or ["0"]
    per_adviser = pd.DataFrame(
        {
            "opened": [int(opened.get(value, 0)) for value in adviser_ids],
            "open_now": [int(open_cases.get(int(value), 0)) for value in adviser_ids],
        },
        index=adviser_ids,
    )
    tables.append(Table("per_adviser", per_adviser, row_totals=False, column_totals=True))
    hours = pd.DataFrame(
        {"minutes": [int(minutes.get(int(value), 0)) for value in adviser_ids]}, index=adviser_ids
    )
    guard = per_adviser[["opened"]].rename(columns={"opened": "minutes"})
    tables.append(
        Table("hours_per_adviser", hours, column_totals=False, kind=Kind.AMOUNT, guard=guard)
    )
    links = []
    if all_clients:
        # Every case has one handling adviser: the advisers' total is the firm's total.
        links.append(Link(("per_adviser", TOTAL, "opened"), ("per_client", TOTAL, TOTAL)))
    return tables, links


def portfolio_figures(
    *, firm: Firm, period: Period, client_ids: list[int] | None = None
) -> Portfolio | None:
    """Return the firm's portfolio for a period from rollups (four queries, plus suppression
    when these figures were not suppressed before). `client_ids` limits it to those clients."""
    clients_qs = ClientOrganisation.objects.filter(
        firm=firm, status=ClientOrganisation.Status.ACTIVE
    ).order_by("name")
    if client_ids is not None:
        clients_qs = clients_qs.filter(pk__in=client_ids)
    clients = {
        client.pk: client
        for client in clients_qs.only("pk", "name", "sector", "employee_count", "schema_name")
    }
    if not clients:
        return None
    rows = CaseRollup.objects.filter(
        client_id__in=list(clients),
        dimension__in=[Dimension.CASES, Dimension.THEME, Dimension.ADVISER],
        month__gte=period.starts_on,
        month__lte=period.ends_on,
    ).values_list("client_id", "client__sector", "month", "dimension", "value", "count")
    rollups = pd.DataFrame(
        list(rows), columns=["client_id", "sector", "month", "dimension", "value", "count"]
    )
    open_cases = dict(
        CaseworkEntry.objects.filter(client_id__in=list(clients), adviser_id__isnull=False)
        .values("adviser_id")
        .annotate(number=Count("pk"))
        .values_list("adviser_id", "number")
    )
    minutes = dict(
        WorkMinutes.objects.filter(
            client_id__in=list(clients),
            month__gte=period.starts_on,
            month__lte=period.ends_on,
        )
        .values("adviser_id")
        .annotate(total=Sum("minutes"))
        .values_list("adviser_id", "total")
    )
    tables, links = portfolio_tables(
        rollups,
        clients=clients,
        period=period,
        open_cases=open_cases,
        minutes=minutes,
        all_clients=client_ids is None,
    )
    k = firm.anonymity_threshold
    key = f"reports:portfolio:{tables_fingerprint(tables, links, k)}"
    cached = cache.get(key)
    if cached is not None:
        publication = Publication.from_json(cached)
    else:
        publication = suppress(tables, k=k, links=links)
        cache.set(key, publication.to_json(), PORTFOLIO_CACHE_SECONDS)
    per_client = publication["per_client"]
    rates: dict[int, float | None] = {}
    rising: list[int] = []
    for client_id, client in clients.items():
        total = per_client.shown(str(client_id), TOTAL)
        rates[client_id] = None if total is None else round(100 * total / client.employee_count, 2)
        earlier = per_client.shown(str(client_id), EARLIER)
        recent = per_client.shown(str(client_id), RECENT)
        if earlier is not None and recent is not None and recent >= RISING_FACTOR * max(earlier, 1):
            rising.append(client_id)
    from accounts.models import User

    adviser_ids = [int(row) for row in publication["per_adviser"].values.index if row != TOTAL]
    names: dict[int, str] = defaultdict(str)
    names.update(User.objects.filter(pk__in=adviser_ids).values_list("pk", "full_name"))
    return Portfolio(
        period=period,
        publication=publication,
        clients=clients,
        rates=rates,
        rising=rising,
        adviser_names=dict(names),
    )


def portfolio_by_querying_schemas(*, firm: Firm, period: Period) -> dict[int, int]:
    """Count cases per client by visiting every schema: the slow way the rollups replace.

    Used by `bench/reports.py` only, to compare.
    """
    from django_tenants.utils import schema_context

    from cases.models import Case

    counts: dict[int, int] = {}
    for client in ClientOrganisation.objects.filter(
        firm=firm, status=ClientOrganisation.Status.ACTIVE
    ):
        with schema_context(client.schema_name):
            counts[client.pk] = Case.objects.filter(
                opened_on__range=(period.starts_on, period.ends_on)
            ).count()
    return counts
