"""The firm's portfolio, read from the client releases only (never from the client schemas).

Every count is a released client cell or a sum of released cells (shown only when all its parts
are), so periods, sectors and clients compared side by side tell nothing the releases did not
(`reports.releases`). Tables:
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
from django.core.cache import cache
from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Q, QuerySet, Sum

from reports.frames import combine, run_parts, ytd_key
from reports.models import CaseRollup, Dimension, RollupState
from reports.periods import Period, Quarter
from reports.suppression import (
    TOTAL,
    Cells,
    Kind,
    Link,
    Publication,
    PublishedTable,
    ReleasedCells,
    Status,
    Table,
)
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
    open_cases: dict[int, int] = {
        adviser_id: number
        for adviser_id, number in CaseworkEntry.objects.filter(
            client_id__in=chosen, adviser_id__isnull=False
        )
        .values("adviser_id")
        .annotate(number=Count("pk"))
        .values_list("adviser_id", "number")
        if adviser_id is not None
    }
    minutes: dict[int, int] = dict(
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


# The tables the portfolio sums, with their year-to-date companions (`reports.releases`).
_SUMMED = ("cases_by_type", "themes")


def _released(
    client_ids: list[int], years: list[int]
) -> dict[int, dict[int, dict[str, ReleasedCells]]]:
    """The newest release of each client and year: only the tables the portfolio sums
    (extracted in SQL, one row per client and year, and read without pandas, so a thousand
    clients do not mean thousands of whole releases parsed)."""
    from reports.models import FigureRelease

    keys = [name for key in _SUMMED for name in (key, ytd_key(key))]
    newest = (
        FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT, client_id__in=client_ids, year__in=years
        )
        .order_by("client_id", "year", "-quarter")
        .distinct("client_id", "year")  # the newest quarter of each year
        .values("pk")
    )
    # The tables are extracted from the chosen rows only (selecting them beside DISTINCT ON
    # extracted them from every quarter's release first: 2.5 times the time).
    rows = FigureRelease.objects.filter(pk__in=newest).values_list(
        "client_id", "year", *(f"published__tables__{key}" for key in keys)
    )
    result: dict[int, dict[int, dict[str, ReleasedCells]]] = defaultdict(dict)
    for client_id, year, *tables in rows:
        result[client_id][year] = {
            key: ReleasedCells(data)
            for key, data in zip(keys, tables, strict=True)
            if data is not None  # a release of the first quarter has no year to date
        }
    return result


def _cell(
    tables: Mapping[int, Mapping[str, Cells]], key: str, row: str, quarters: list[Quarter]
) -> tuple[float, Status]:
    """One released client cell for a run of quarters: per year the released cells that make
    up its part of the run (`reports.frames.run_parts`), shown only when each of them is."""
    parts: list[tuple[float, Status | None]] = []
    for year in sorted({quarter.year for quarter in quarters}):
        in_year = [quarter for quarter in quarters if quarter.year == year]
        released = tables.get(year, {})
        if key not in released:
            parts += [(float("nan"), Status.PENDING)] * len(in_year)
            continue
        parts += run_parts(released, key, row, in_year)
    return combine(parts)


def _published(
    key: str, cells: dict[str, dict[str, tuple[float, Status]]], k: int, kind: Kind = Kind.COUNT
) -> PublishedTable:
    rows = list(cells)
    columns = list(next(iter(cells.values()))) if cells else []
    values = pd.DataFrame(
        [[cells[row][column][0] for column in columns] for row in rows],
        index=rows,
        columns=columns,
        dtype=float,
    )
    status = pd.DataFrame(
        [[cells[row][column][1] for column in columns] for row in rows],
        index=rows,
        columns=columns,
        dtype=object,
    )
    return PublishedTable(key=key, kind=kind, k=k, values=values, status=status)


def portfolio_publication(
    *,
    clients: dict[int, ClientOrganisation],
    released: Mapping[int, Mapping[int, Mapping[str, Cells]]],
    period: Period,
    k: int,
    open_cases: dict[int, int],
    minutes: dict[int, int],
) -> Publication:
    """The portfolio's tables, each cell a released client cell or a sum of released client
    cells: nothing is suppressed anew per request, so no period, sector or client chosen by
    the reader tells more than the client releases (`reports.releases`) did."""
    quarters = period.quarters
    half = max(1, len(quarters) // 2) if len(quarters) > 1 else 0
    halves = {EARLIER: quarters[:half], RECENT: quarters[half:], TOTAL: quarters}
    per_client: dict[str, dict[str, tuple[float, Status]]] = {}
    parts_by_column: dict[str, list[tuple[float, Status | None]]] = defaultdict(list)
    for client_id in clients:
        tables = released.get(client_id, {})
        row = {}
        for column, run in halves.items():
            cell = _cell(tables, "cases_by_type", TOTAL, run) if run else (0.0, Status.BELOW_K)
            row[column] = cell
            parts_by_column[column].append(cell)
        per_client[str(client_id)] = row
    per_client[TOTAL] = {column: combine(parts) for column, parts in parts_by_column.items()}

    theme_codes = sorted(
        {
            str(code)
            for by_year in released.values()
            for tables in by_year.values()
            for code in tables["themes"].rows
            if code != TOTAL
        }
    ) or ["other"]
    sectors = sorted({client.sector for client in clients.values()}) or ["other"]
    by_sector: dict[str, dict[str, tuple[float, Status]]] = {}
    column_parts: dict[str, list] = defaultdict(list)
    for sector in sectors:
        members = [pk for pk, client in clients.items() if client.sector == sector]
        row = {}
        row_parts: list = []
        for code in theme_codes:
            parts = [_cell(released.get(pk, {}), "themes", code, quarters) for pk in members]
            row[code] = combine(parts) if parts else (0.0, Status.BELOW_K)
            row_parts += parts
            column_parts[code] += parts
        row[TOTAL] = combine(row_parts) if row_parts else (0.0, Status.BELOW_K)
        column_parts[TOTAL] += row_parts
        by_sector[sector] = row
    by_sector[TOTAL] = {code: combine(parts) for code, parts in column_parts.items()}

    adviser_ids = sorted({*map(str, open_cases), *map(str, minutes)}) or ["0"]
    # Workload of the firm's own advisers, not statistics about reporters: firm admins see
    # every open case with its handler on the administration pages, and every hour for
    # invoicing, so these are shown as they are (kind WORK, like the activities table).
    workload = {
        adviser: {"open_now": (float(open_cases.get(int(adviser), 0)), Status.SHOWN)}
        for adviser in adviser_ids
    }
    hours = {
        adviser: {"minutes": (float(minutes.get(int(adviser), 0)), Status.SHOWN)}
        for adviser in adviser_ids
    }
    return Publication(
        k=k,
        tables={
            "per_client": _published("per_client", per_client, k),
            "themes_by_sector": _published("themes_by_sector", by_sector, k),
            "per_adviser": _published("per_adviser", workload, k, Kind.WORK),
            "hours_per_adviser": _published("hours_per_adviser", hours, k, Kind.AMOUNT),
        },
    )


def portfolio_figures(
    *,
    firm: Firm,
    period: Period,
    client_ids: list[int] | None = None,
) -> Portfolio | None:
    """Return the firm's portfolio for a period from the client releases (public schema only;
    a client whose due quarters are not released yet shows them as pending until the nightly
    `releases_nightly` has made them). `client_ids` limits it to those clients."""
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
    chosen = clients_qs.values("pk")
    open_cases: dict[int, int] = {
        adviser_id: number
        for adviser_id, number in CaseworkEntry.objects.filter(
            client_id__in=chosen, adviser_id__isnull=False
        )
        .values("adviser_id")
        .annotate(number=Count("pk"))
        .values_list("adviser_id", "number")
        if adviser_id is not None
    }
    minutes: dict[int, int] = dict(
        WorkMinutes.objects.filter(
            client_id__in=chosen, month__gte=period.starts_on, month__lte=period.ends_on
        )
        .values("adviser_id")
        .annotate(total=Sum("minutes"))
        .values_list("adviser_id", "total")
    )
    from reports.models import FigureRelease

    newest = FigureRelease.objects.filter(client_id__in=chosen).aggregate(newest=Max("id"))
    listed = hashlib.sha256(",".join(map(str, sorted(clients))).encode()).hexdigest()[:16]
    key = (
        f"reports:portfolio:{firm.pk}:{period.first.label}:{period.last.label}:{listed}:"
        f"{newest['newest']}:{firm.anonymity_threshold}"
    )
    cached = cache.get(key)
    if cached is None:
        released = _released(list(clients), period.years)
        cached = portfolio_publication(
            clients=clients,
            released=released,
            period=period,
            k=firm.anonymity_threshold,
            open_cases={},
            minutes={},
        ).to_json()
        cache.set(key, cached, PORTFOLIO_CACHE_SECONDS)
    publication = Publication.from_json(cached)
    # The workload tables are live (see portfolio_publication); only the released part is cached.
    live = portfolio_publication(
        clients={},
        released={},
        period=period,
        k=firm.anonymity_threshold,
        open_cases=open_cases,
        minutes=minutes,
    )
    publication.tables["per_adviser"] = live["per_adviser"]
    publication.tables["hours_per_adviser"] = live["hours_per_adviser"]
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
