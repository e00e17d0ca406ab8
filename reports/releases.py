"""Releases: figures leave the system only as releases, made once and never changed.

Why. Suppressing live figures per request protects one page at one moment. A reader who looks
again after a colleague reported, or asks for two overlapping periods, or compares a sector with
one client, combines answers that were each protected alone and pins hidden cells down. Statistical
offices avoid this by publishing releases: figures of a closed period, published once, and every
later figure built from what was released. That is what this module does.

- **The unit is a client quarter.** A quarter is released once it has closed (plus
  `RELEASE_GRACE_DAYS`, so late registrations count): `client_release_make` reads the client's
  case rows for that quarter, keeps the counts (the truth, in the public schema like the
  rollups, never a row per person) and suppresses them **together with every earlier release
  of that year** (`suppress(..., fixed=...)`: what was shown stays shown and can never serve as
  a complement again; what was hidden stays hidden with the bounds its mark gave). The year
  totals and the external/internal table come with the fourth quarter. The running quarter is
  never shown; its cells are `PENDING` in every table. The fourth quarter also releases the
  counts behind the board's indicators (`reports.indicators.indicator_tables`), in the same
  proof, with their part-of relations to each other and to the year's case totals.
- **Releases are append-only** (a database trigger refuses UPDATE and DELETE, like the access
  log). A quarter's figures never change after release, so looking before and after a change
  shows the same numbers; a case registered late for a released quarter counts in the year's
  own figures no more (its narrative and everything else stay in the case file).
- **The firm's portfolio suppresses nothing anew** (`reports.portfolio`): per client a
  released cell or a sum of released cells, per sector and theme the sum over its clients,
  shown only when every client cell in it is shown. So a sector of one or two clients cannot be
  subtracted from a client's dashboard: it is shown only when its parts already were.
- **Every view is built from released cells** (`reports.frames.period_table` and friends sum
  shown cells only), so the union of everything any audience was ever shown is implied by the
  releases alone. The check runs on that union (the firm's admins, the widest audience, see all
  of it; a contact person sees a subset, which can only leave more values possible). That is
  the release ledger per audience, recorded once: what an audience saw is a function of the
  ledger and of nothing else.

Guarantee, tested by `tests/test_reports_releases.py` with an independent integer-programming
attacker: given every release (and so every page, period, export and report any audience has
seen), with integer and non-negativity constraints and what every reader knows (tables of one
population share their totals, a sector is the sum of its clients), every hidden cell keeps at
least two possible integer values, after any sequence of case changes between the releases.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, models, transaction

from cases.models import CaseType
from reports import frames as report_frames
from reports import indicators
from reports.frames import (
    CASE_DIMENSIONS,
    EXTERNAL,
    INTERNAL,
    CaseFrames,
    Vocabulary,
    ytd_key,
)
from reports.models import FigureRelease
from reports.periods import Quarter, year_quarters
from reports.suppression import (
    TOTAL,
    Fixed,
    Kind,
    Link,
    Publication,
    PublishedTable,
    Status,
    Sum,
    Table,
    shared_column_totals,
    suppress,
)

logger = logging.getLogger(__name__)

# Tables of the client release that have quarter columns (all but "combined").
QUARTER_TABLES = [
    *CASE_DIMENSIONS,
    "themes",
    "outcomes",
    "referrals",
    "conversations",
    "hours",
]


def ytd_quarters(quarter: Quarter) -> list[Quarter]:
    """The quarters whose year-to-date cell a release up to `quarter` holds."""
    return [q for q in year_quarters(quarter.year) if 2 <= q.number <= min(quarter.number, 3)]


# --- when ---------------------------------------------------------------------------------------


def grace_days() -> int:
    return int(getattr(settings, "RELEASE_GRACE_DAYS", 14))


def quarter_is_due(quarter: Quarter, *, today: datetime.date) -> bool:
    """A quarter is released once it has closed and the grace period for late entries passed."""
    return today > quarter.ends_on + datetime.timedelta(days=grace_days())


def last_due_quarter(today: datetime.date) -> Quarter:
    quarter = Quarter.of(today)
    while not quarter_is_due(quarter, today=today):
        quarter = quarter.shifted(-1)
    return quarter


def release_date(quarter: Quarter) -> datetime.date:
    """The first day the quarter's figures can be released."""
    return quarter.ends_on + datetime.timedelta(days=grace_days() + 1)


# --- (de)serialising the truth ------------------------------------------------------------------


def _frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "rows": [str(row) for row in frame.index],
        "columns": [str(column) for column in frame.columns],
        "values": frame.to_numpy(dtype=np.int64).tolist(),
    }


def _frame_load(data: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(data["values"], index=data["rows"], columns=data["columns"], dtype="int64")


def table_json(table: Table) -> dict[str, Any]:
    return {
        "frame": _frame_json(table.frame),
        "row_totals": table.row_totals,
        "column_totals": table.column_totals,
        "kind": str(table.kind),
        "guard": None if table.guard is None else _frame_json(table.guard),
    }


def table_load(key: str, data: Mapping[str, Any]) -> Table:
    return Table(
        key,
        _frame_load(data["frame"]),
        row_totals=bool(data["row_totals"]),
        column_totals=bool(data["column_totals"]),
        kind=Kind(data["kind"]),
        guard=None if data["guard"] is None else _frame_load(data["guard"]),
    )


# --- shapes -------------------------------------------------------------------------------------


def pending_like(table: PublishedTable) -> PublishedTable:
    """The same table with every cell pending (nothing released)."""
    values = pd.DataFrame(np.nan, index=table.values.index, columns=table.values.columns)
    status = pd.DataFrame(Status.PENDING, index=table.values.index, columns=table.values.columns)
    return PublishedTable(key=table.key, kind=table.kind, k=table.k, values=values, status=status)


def _padded(table: PublishedTable, rows: list[str], columns: list[str]) -> PublishedTable:
    """Put `table` into the full-year shape; cells it lacks are pending."""
    values = table.values.reindex(index=rows, columns=columns)
    status = table.status.reindex(index=rows, columns=columns).astype(object)
    status = status.where(status.notna(), Status.PENDING)
    return PublishedTable(key=table.key, kind=table.kind, k=table.k, values=values, status=status)


def _shape(table: Table) -> tuple[list[str], list[str]]:
    """Rows and columns of a table as published (with its totals), without suppressing it."""
    rows = [str(row) for row in table.frame.index]
    columns = [str(column) for column in table.frame.columns]
    if table.row_totals and len(columns) > 1:
        columns.append(TOTAL)
    if table.column_totals:
        rows.append(TOTAL)
    return rows, columns


def _year_shape(year: int, vocabulary: Vocabulary) -> dict[str, tuple[list[str], list[str], Kind]]:
    """Rows, columns and kind of each table of a full year's release (as `frames.year_tables`
    makes them, plus the year-to-date companions)."""
    tables, _links = report_frames.year_tables(CaseFrames.empty(), year, vocabulary)
    shape = {table.key: (*_shape(table), table.kind) for table in tables}
    through = [q.label for q in ytd_quarters(Quarter(year, 4))]
    for key in QUARTER_TABLES:
        rows, _columns, kind = shape[key]
        shape[ytd_key(key)] = (rows, through, kind)
    return shape


def pending_publication(year: int, vocabulary: Vocabulary, k: int) -> Publication:
    """A year of which nothing is released yet: every table, every cell pending."""
    tables = {}
    for key, (rows, columns, kind) in _year_shape(year, vocabulary).items():
        tables[key] = PublishedTable(
            key=key,
            kind=kind,
            k=k,
            values=pd.DataFrame(np.nan, index=rows, columns=columns),
            status=pd.DataFrame(Status.PENDING, index=rows, columns=columns, dtype=object),
        )
    return Publication(k=k, tables=tables)


# --- client releases ----------------------------------------------------------------------------


def _ytd_table(table: Table, through: list[Quarter]) -> tuple[Table, list[Sum]]:
    """The year-to-date companion of a quarter table and the sums a reader knows it obeys.

    Its values are running sums of the (frozen) quarter columns, so a later release computes
    the same numbers for the earlier quarters. For an amount (hours) the cases behind a running
    sum are counted as the largest quarter's: never more than the distinct cases, so an amount
    is never shown on fewer cases than it seems to rest on."""
    labels = [q.label for q in through]
    quarters = [column for column in table.frame.columns if column != TOTAL]
    frame = table.frame[quarters].cumsum(axis=1)[labels].astype("int64")
    guard = None
    if table.guard is not None:
        guard = table.guard[quarters].cummax(axis=1)[labels].astype("int64")
    key = ytd_key(table.key)
    rows = [str(row) for row in frame.index] + ([TOTAL] if table.column_totals else [])
    sums = [
        Sum(
            (key, row, q.label),
            tuple((table.key, row, part.label) for part in year_quarters(q.year)[: q.number]),
        )
        for row in rows
        for q in through
    ]
    companion = Table(
        key,
        frame,
        row_totals=False,
        column_totals=table.column_totals,
        kind=table.kind,
        guard=guard,
    )
    return companion, sums


def client_tables(
    frames: CaseFrames,
    quarter: Quarter,
    vocabulary: Vocabulary,
    previous: Mapping[str, Table] | None,
) -> tuple[list[Table], list[Link], list[Sum]]:
    """The tables of a release of the year up to `quarter`: earlier quarters' columns from the
    previous release's truth (frozen), the new quarter's from the case rows, the year to date
    from the second quarter on, year totals and the external/internal table with the fourth
    quarter. Also the links and sums a reader knows hold between their cells."""
    year = quarter.year
    live, _links = report_frames.year_tables(frames, year, vocabulary)
    by_key = {table.key: table for table in live}
    columns = [q.label for q in year_quarters(year) if q <= quarter]
    complete = quarter.number == 4
    tables: list[Table] = []
    for key in QUARTER_TABLES:
        table = by_key[key]
        frame = table.frame[columns].copy()
        guard = None if table.guard is None else table.guard.copy()
        if previous is not None and key in previous:
            old = previous[key].frame
            rows = list(dict.fromkeys([*map(str, frame.index), *map(str, old.index)]))
            frame = frame.reindex(index=rows, fill_value=0)
            kept = [column for column in old.columns if column in columns and column != TOTAL]
            frame.loc[:, kept] = 0
            frame.loc[old.index, kept] = old[kept].to_numpy()
            old_guard = previous[key].guard
            if guard is not None and old_guard is not None:
                guard = guard.reindex(index=rows, fill_value=0)
                guard.loc[old_guard.index, kept] = old_guard[kept].to_numpy()
        if guard is not None:
            guard_columns = [*columns, TOTAL] if complete and TOTAL in guard.columns else columns
            guard = guard[guard_columns]
            if complete and TOTAL in guard.columns and previous is not None:
                # The year's distinct cases behind the total: never fewer than any quarter's.
                guard[TOTAL] = np.maximum(guard[TOTAL], guard[columns].max(axis=1))
        tables.append(
            Table(
                key,
                frame.astype("int64"),
                row_totals=table.row_totals and complete,
                column_totals=table.column_totals,
                kind=table.kind,
                guard=guard,
            )
        )
    first = next(iter(CASE_DIMENSIONS))
    link_columns = [*columns, TOTAL] if complete else columns
    links: list[Link] = []
    for key in list(CASE_DIMENSIONS)[1:]:
        links += shared_column_totals(first, key, link_columns)
    sums: list[Sum] = []
    through = ytd_quarters(quarter)
    if through:
        for table in list(tables):
            companion, table_sums = _ytd_table(table, through)
            tables.append(companion)
            sums += table_sums
        labels = [q.label for q in through]
        for key in list(CASE_DIMENSIONS)[1:]:
            links += shared_column_totals(ytd_key(first), ytd_key(key), labels)
    if complete:
        types = [str(row) for row in tables[0].frame.index]
        external = tables[0].frame.sum(axis=1)
        internal = report_frames._in_year(frames.internal, "month", year)["case_type"]
        counted = internal.value_counts()
        combined = pd.DataFrame(
            {
                EXTERNAL: [int(external.get(code, 0)) for code in types],
                INTERNAL: [int(counted.get(code, 0)) for code in types],
            },
            index=types,
        )
        tables.append(Table("combined", combined, row_totals=True, column_totals=True))
        links += [Link(("combined", code, EXTERNAL), (first, code, TOTAL)) for code in types]
        links.append(Link(("combined", TOTAL, EXTERNAL), (first, TOTAL, TOTAL)))
    return tables, links, sums


def _released_wholes(tables: Iterable[Table]) -> dict[str, tuple[str, str, str, int]]:
    """The year's released case total and integrity total (cells of the type table), as the
    wholes the indicator counts are parts of."""
    first = next(iter(CASE_DIMENSIONS))
    frame = next(table.frame for table in tables if table.key == first)
    wholes = {indicators.CONTACTS: (first, TOTAL, TOTAL, int(frame.to_numpy().sum()))}
    integrity = str(CaseType.INTEGRITY)
    if integrity in frame.index:
        wholes[indicators.INTEGRITY] = (
            first,
            integrity,
            TOTAL,
            int(frame.loc[integrity].sum()),
        )
    return wholes


def _fixed_from(publication: Publication, tables: Iterable[Table]) -> dict[tuple, Fixed]:
    """Every cell an earlier release showed (or marked), as it was shown."""
    fixed: dict[tuple, Fixed] = {}
    wanted = {table.key for table in tables}
    for key, table in publication.tables.items():
        if key not in wanted:
            continue
        for (row, column), (_value, status) in table._cells.items():  # type: ignore[attr-defined]
            if status != Status.PENDING:
                fixed[(key, row, column)] = Fixed(status, publication.k)
    return fixed


def client_release_make(
    *, client: Any, quarter: Quarter, today: datetime.date
) -> FigureRelease | None:
    """Release the current client's figures of `quarter` (and any earlier quarter of its year
    not released yet). Idempotent; concurrent calls wait for each other. Runs in the client's
    schema. Returns None when the quarter is not due yet."""
    if not quarter_is_due(quarter, today=today):
        return None
    if getattr(connection, "schema_name", None) != client.schema_name:
        raise RuntimeError("client_release_make runs in the client's own schema.")
    from boardroom import selectors

    with transaction.atomic():
        with connection.cursor() as cursor:
            # One releaser per client at a time; a second one finds the release made.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"release:{client.pk}"])
        existing = FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT,
            client=client,
            year=quarter.year,
            quarter=quarter.number,
        ).first()
        if existing is not None:
            return existing
        previous = None
        if quarter.number > 1:
            previous = client_release_make(client=client, quarter=quarter.shifted(-1), today=today)
        frames = report_frames.frames_of_year(
            selectors.case_frames(years=[quarter.year]), quarter.year
        )
        vocabulary = selectors.vocabulary_current()
        k = selectors.threshold_current()
        previous_tables = (
            {key: table_load(key, data) for key, data in previous.truth["tables"].items()}
            if previous is not None
            else None
        )
        tables, links, sums = client_tables(frames, quarter, vocabulary, previous_tables)
        if quarter.number == 4:
            # The counts behind the board's indicators are released with the year, in the
            # same proof (see reports.indicators for why not on their own).
            indicator_rows = indicators.cases_of(quarter.year)
            more_tables, more_links = indicators.indicator_tables(
                indicator_rows, released=_released_wholes(tables)
            )
            tables += more_tables
            links += more_links
            # The sparring threads of the year (counts about cases, for the annual report):
            # released once like every other figure, so a report drafted twice, or the report
            # and a later draft, show one version (they were suppressed anew per build).
            from boardroom.annual import sparring_table

            tables.append(sparring_table(quarter.year))
        fixed = (
            _fixed_from(Publication.from_json(previous.published), tables)
            if previous is not None
            else {}
        )
        publication = suppress(tables, k=k, links=links, sums=sums, fixed=fixed)
        shape = _year_shape(quarter.year, vocabulary)
        for key, table in list(publication.tables.items()):
            rows, columns, _kind = shape.get(key, ([], [], table.kind))
            rows = list(dict.fromkeys([*rows, *map(str, table.values.index)]))
            publication.tables[key] = _padded(table, rows, columns or list(table.values.columns))
        for key, (rows, columns, kind) in shape.items():
            if key not in publication.tables:
                publication.tables[key] = PublishedTable(
                    key=key,
                    kind=kind,
                    k=k,
                    values=pd.DataFrame(np.nan, index=rows, columns=columns),
                    status=pd.DataFrame(Status.PENDING, index=rows, columns=columns, dtype=object),
                )
        truth: dict[str, Any] = {
            "tables": {table.key: table_json(table) for table in tables},
            "links": [[list(link.first), list(link.second)] for link in links],
            "sums": [[list(item.total), [list(part) for part in item.parts]] for item in sums],
        }
        if quarter.number == 4:
            truth["indicators"] = indicators.indicators_released(
                year=quarter.year,
                rows=indicator_rows,
                publication=publication,
                employee_count=client.employee_count,
                contacts=publication["cases_by_type"].shown(TOTAL, TOTAL),
            )
        return FigureRelease.objects.create(
            scope=FigureRelease.Scope.CLIENT,
            firm_id=client.firm_id,
            client=client,
            year=quarter.year,
            quarter=quarter.number,
            k=k,
            truth=truth,
            published=publication.to_json(),
        )


def releases_make_due(years: Iterable[int], *, client: Any, today: datetime.date) -> dict[int, int]:
    """Make the current client's due releases of these years that are missing; return the
    newest released quarter of each year that has one. One small query when nothing is due
    (the releases' JSON is not read: a reader's request asks this every time)."""
    years = sorted(set(years))
    due = last_due_quarter(today)
    newest: dict[int, int] = dict(
        FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT, client=client, year__in=years
        )
        .values("year")
        .annotate(newest=models.Max("quarter"))
        .values_list("year", "newest")
    )
    for year in years:
        wanted = min(due, Quarter(year, 4)) if year <= due.year else None
        if wanted is not None and newest.get(year, 0) < wanted.number:
            client_release_make(client=client, quarter=wanted, today=today)
            newest[year] = wanted.number
    return newest


def client_publications(
    years: Iterable[int], *, client: Any, today: datetime.date
) -> dict[int, Publication]:
    """The released figures of each year of the current client, releasing due quarters first."""
    from boardroom import selectors

    years = sorted(set(years))
    newest = releases_make_due(years, client=client, today=today)
    newest_of_year = models.Q(pk__in=[])
    for year, quarter in newest.items():
        newest_of_year |= models.Q(year=year, quarter=quarter)
    published = dict(
        FigureRelease.objects.filter(
            newest_of_year, scope=FigureRelease.Scope.CLIENT, client=client
        ).values_list("year", "published")
    )
    result: dict[int, Publication] = {}
    vocabulary = None
    for year in years:
        if year in published:
            result[year] = Publication.from_json(published[year])
            continue
        if vocabulary is None:
            vocabulary = selectors.vocabulary_current()
        result[year] = pending_publication(year, vocabulary, selectors.threshold_current())
    return result
