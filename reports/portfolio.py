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

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache
from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Q, QuerySet, Sum

from reports.frames import tables_fingerprint
from reports.models import CaseRollup, Dimension, RollupState
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


def _recent_from(period: Period) -> datetime.date:
    """The first month of the period's recent half (the later half when the months are odd)."""
    months = pd.period_range(period.starts_on, period.ends_on, freq="M")
    return months[len(months) // 2].to_timestamp().date()


@dataclass
class RollupSums:
    """The rollups summed in SQL for one period: a few thousand rows, whatever the months."""

    per_client: list[tuple[int, bool, int]]  # client id, in the recent half?, cases opened
    themes: list[tuple[str, str, int]]  # sector, theme code, mentions
    advisers: dict[str, int]  # handling adviser id (text), cases opened


def rollup_sums(*, client_ids: Iterable[int] | QuerySet, period: Period) -> RollupSums:
    """Sum the rollups of these clients over the period (three grouped queries)."""
    rows = CaseRollup.objects.filter(
        client_id__in=client_ids, month__gte=period.starts_on, month__lte=period.ends_on
    )
    recent = ExpressionWrapper(Q(month__gte=_recent_from(period)), output_field=BooleanField())
    return RollupSums(
        per_client=list(
            rows.filter(dimension=Dimension.CASES)
            .annotate(recent=recent)
            .values("client_id", "recent")
            .annotate(number=Sum("count"))
            .values_list("client_id", "recent", "number")
        ),
        themes=list(
            rows.filter(dimension=Dimension.THEME)
            .values("client__sector", "value")
            .annotate(number=Sum("count"))
            .values_list("client__sector", "value", "number")
        ),
        advisers=dict(
            rows.filter(dimension=Dimension.ADVISER)
            .values("value")
            .annotate(number=Sum("count"))
            .values_list("value", "number")
        ),
    )


def portfolio_tables(
    sums: RollupSums,
    *,
    clients: dict[int, ClientOrganisation],
    open_cases: dict[int, int],
    minutes: dict[int, int],
    all_clients: bool,
) -> tuple[list[Table], list[Link]]:
    """Build the portfolio's count tables from the summed rollups; pure pandas."""
    client_rows = [str(client_id) for client_id in clients]
    per_client = pd.DataFrame(0, index=client_rows, columns=[EARLIER, RECENT], dtype="int64")
    if sums.per_client:
        summed = pd.DataFrame(sums.per_client, columns=["client_id", "recent", "number"])
        summed["client_id"] = summed["client_id"].astype(str)
        summed["half"] = summed["recent"].map({False: EARLIER, True: RECENT})
        wide = summed.pivot_table(
            index="client_id", columns="half", values="number", aggfunc="sum", fill_value=0
        )
        per_client = (
            wide.reindex(index=client_rows, columns=[EARLIER, RECENT], fill_value=0)
            .fillna(0)
            .astype("int64")
        )
    tables = [Table("per_client", per_client, row_totals=True, column_totals=True)]

    sectors = sorted({client.sector for client in clients.values()}) or ["other"]
    theme_codes = sorted({code for _sector, code, _number in sums.themes}) or ["other"]
    by_sector = pd.DataFrame(0, index=sectors, columns=theme_codes, dtype="int64")
    if sums.themes:
        mentions = pd.DataFrame(sums.themes, columns=["sector", "theme", "number"])
        by_sector = (
            mentions.pivot_table(
                index="sector", columns="theme", values="number", aggfunc="sum", fill_value=0
            )
            .reindex(index=sectors, columns=theme_codes, fill_value=0)
            .fillna(0)
            .astype("int64")
        )
    tables.append(Table("themes_by_sector", by_sector, row_totals=True, column_totals=True))

    opened = sums.advisers
    adviser_ids = sorted({*opened, *map(str, open_cases), *map(str, minutes)}, key=str)
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


def _summed(
    *, firm: Firm, clients: list[int], chosen: QuerySet, period: Period
) -> tuple[RollupSums, dict[int, int], dict[int, int]]:
    """The summed rollups, open cases and minutes, cached until a client's rollups are rebuilt.

    Every counted change (case, referral, time) rebuilds that client's rollups (debounced), which
    moves its `RollupState`; the newest rebuild and the client list make the key, so a repeated
    view costs one small query instead of summing a year of rollups for every client.
    """
    state = RollupState.objects.filter(client_id__in=chosen).aggregate(
        newest=Max("rebuilt_at"), count=Count("pk")
    )
    listed = hashlib.sha256(",".join(map(str, sorted(clients))).encode()).hexdigest()[:16]
    key = (
        f"reports:portfolio-sums:{firm.pk}:{period.first.label}:{period.last.label}:{listed}:"
        f"{state['newest'].isoformat() if state['newest'] else '-'}:{state['count']}"
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    sums = rollup_sums(client_ids=chosen, period=period)
    open_cases = dict(
        CaseworkEntry.objects.filter(client_id__in=chosen, adviser_id__isnull=False)
        .values("adviser_id")
        .annotate(number=Count("pk"))
        .values_list("adviser_id", "number")
    )
    minutes = dict(
        WorkMinutes.objects.filter(
            client_id__in=chosen,
            month__gte=period.starts_on,
            month__lte=period.ends_on,
        )
        .values("adviser_id")
        .annotate(total=Sum("minutes"))
        .values_list("adviser_id", "total")
    )
    cache.set(key, (sums, open_cases, minutes), PORTFOLIO_CACHE_SECONDS)
    return sums, open_cases, minutes


def portfolio_figures(
    *, firm: Firm, period: Period, client_ids: list[int] | None = None
) -> Portfolio | None:
    """Return the firm's portfolio for a period from rollups (six small queries, plus
    suppression when these figures were not suppressed before). `client_ids` limits it to
    those clients."""
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
    # A subquery rather than a thousand parameters: each of them costs parsing and binding.
    chosen = clients_qs.values("pk")
    sums, open_cases, minutes = _summed(
        firm=firm, clients=list(clients), chosen=chosen, period=period
    )
    tables, links = portfolio_tables(
        sums,
        clients=clients,
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
