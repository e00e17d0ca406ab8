"""From case rows to published count tables, in pandas. No database here.

Input: `CaseFrames`, a fixed schema of categorical columns and dates (no free text can be in it:
`frames_check` refuses any other column). Output: per calendar year one `Publication` — the
canonical figures of that year, suppressed together — and views for any run of quarters built
only from shown cells of those (`period_table`).

Why one canonical publication per year: a reader who could ask for arbitrary periods, each
suppressed on its own, could subtract two answers (Q1-Q3 minus Q1-Q2) and find a hidden Q3
number. Every figure we show is a cell of a yearly publication or a sum of shown cells.

Tables of one year (columns: its four quarters and the year total):
  cases_by_type, cases_by_role, cases_by_accused, cases_by_channel — cases opened, by category;
      one population, so their quarter totals are linked;
  themes — theme mentions of those cases (a case can have several themes; no column totals);
  outcomes — cases closed, by outcome (population: closed cases);
  referrals — referrals made, by whom to;
  conversations — conversations held (contacts);
  hours — minutes worked (an amount, hidden where fewer than k cases are behind it);
  combined — cases of the external adviser and contacts the internal advisers registered, by
      type (columns: external, internal), linked to cases_by_type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.periods import Period, Quarter, year_quarters
from reports.suppression import (
    TOTAL,
    Cells,
    Kind,
    Link,
    Publication,
    PublishedTable,
    Status,
    Table,
    shared_column_totals,
    suppress,
)

SCHEMA: dict[str, dict[str, str]] = {
    "cases": {
        "case_id": "int64",
        "opened_on": "datetime64[ns]",
        "closed_on": "datetime64[ns]",
        "case_type": "object",
        "reporter_role": "object",
        "accused_relation": "object",
        "channel": "object",
        "outcome": "object",
    },
    "themes": {"case_id": "int64", "theme": "object"},
    "referrals": {"case_id": "int64", "referred_on": "datetime64[ns]", "target": "object"},
    "minutes": {"case_id": "int64", "worked_on": "datetime64[ns]", "minutes": "int64"},
    "conversations": {"case_id": "int64", "held_on": "datetime64[ns]"},
    "internal": {"registration_id": "int64", "month": "datetime64[ns]", "case_type": "object"},
}
CASE_DIMENSIONS = {
    "cases_by_type": "case_type",
    "cases_by_role": "reporter_role",
    "cases_by_accused": "accused_relation",
    "cases_by_channel": "channel",
}
PERIOD = "period"
PREVIOUS = "previous"
EXTERNAL = "external"
INTERNAL = "internal"


class FrameError(ValueError):
    """The frames do not follow SCHEMA (a programming error, never user input)."""


@dataclass(frozen=True)
class CaseFrames:
    cases: pd.DataFrame
    themes: pd.DataFrame
    referrals: pd.DataFrame
    minutes: pd.DataFrame
    conversations: pd.DataFrame
    internal: pd.DataFrame

    @classmethod
    def empty(cls) -> CaseFrames:
        return cls(**{name: frame_empty(name) for name in SCHEMA})


def frame_empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in SCHEMA[name].items()})


def frame_from_rows(name: str, rows: Sequence[Sequence[object]]) -> pd.DataFrame:
    """Build one frame of SCHEMA from row tuples in the schema's column order."""
    columns = list(SCHEMA[name])
    frame = pd.DataFrame(list(rows), columns=columns)
    for column, dtype in SCHEMA[name].items():
        if dtype.startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column])
        elif dtype == "int64":
            frame[column] = frame[column].astype("int64")
        else:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def frames_check(frames: CaseFrames) -> None:
    """Raise FrameError unless every frame has exactly the schema's columns."""
    for name, columns in SCHEMA.items():
        frame = getattr(frames, name)
        if not isinstance(frame, pd.DataFrame) or list(frame.columns) != list(columns):
            raise FrameError(
                f"{name}: expected exactly the columns {list(columns)}; reports take no other data."
            )


@dataclass(frozen=True)
class Vocabulary:
    """The categories every table lists, in order, including those with no cases."""

    case_type: Sequence[str]
    reporter_role: Sequence[str]
    accused_relation: Sequence[str]
    channel: Sequence[str]
    theme: Sequence[str]
    outcome: Sequence[str]
    referral_target: Sequence[str]


def _quarter_labels(dates: pd.Series) -> pd.Series:
    return dates.dt.year.astype(str) + "-Q" + dates.dt.quarter.astype(str)


def _in_year(frame: pd.DataFrame, column: str, year: int) -> pd.DataFrame:
    return frame[frame[column].dt.year == year]


def _crosstab(values: pd.Series, dates: pd.Series, rows: Sequence[str], year: int) -> pd.DataFrame:
    """Count rows per category (in `rows` order, unknown codes appended) and quarter of `year`."""
    columns = [quarter.label for quarter in year_quarters(year)]
    codes = [str(value) for value in values]
    extra = sorted(set(codes) - set(rows) - {""})
    index = [*rows, *extra]
    position = {code: number for number, code in enumerate(index)}
    counts = np.zeros((len(index), 4), dtype=np.int64)
    if codes:
        row_numbers = np.array([position.get(code, -1) for code in codes])
        quarter_numbers = dates.dt.quarter.to_numpy(dtype=np.int64) - 1
        keep = row_numbers >= 0
        np.add.at(counts, (row_numbers[keep], quarter_numbers[keep]), 1)
    return pd.DataFrame(counts, index=index, columns=columns)


def frames_of_year(frames: CaseFrames, year: int) -> CaseFrames:
    """Only the rows that count in `year` (so a year's figures depend on that year alone)."""
    cases = frames.cases
    counted = cases[(cases["opened_on"].dt.year == year) | (cases["closed_on"].dt.year == year)]
    return CaseFrames(
        cases=counted,
        themes=frames.themes[frames.themes["case_id"].isin(counted["case_id"])],
        referrals=_in_year(frames.referrals, "referred_on", year),
        minutes=_in_year(frames.minutes, "worked_on", year),
        conversations=_in_year(frames.conversations, "held_on", year),
        internal=_in_year(frames.internal, "month", year),
    )


def frames_fingerprint(frames: CaseFrames, year: int, vocabulary: Vocabulary, k: int) -> str:
    """A short hash of everything a year's publication depends on (for caching)."""
    digest = hashlib.sha256(f"frames-v1|{year}|{k}|{vocabulary!r}".encode())
    for name in SCHEMA:
        frame = getattr(frames, name)
        digest.update(name.encode())
        digest.update(str(len(frame)).encode())
        if len(frame):
            ordered = frame.sort_values(list(frame.columns)).reset_index(drop=True)
            digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:32]


def year_tables(
    frames: CaseFrames, year: int, vocabulary: Vocabulary
) -> tuple[list[Table], list[Link]]:
    """Return the count tables of one calendar year and the links between them."""
    frames_check(frames)
    quarters = [quarter.label for quarter in year_quarters(year)]
    tables: list[Table] = []
    links: list[Link] = []
    opened = _in_year(frames.cases, "opened_on", year)
    for key, column in CASE_DIMENSIONS.items():
        frame = _crosstab(opened[column], opened["opened_on"], getattr(vocabulary, column), year)
        tables.append(Table(key, frame, row_totals=True, column_totals=True))
    first = next(iter(CASE_DIMENSIONS))
    for key in list(CASE_DIMENSIONS)[1:]:
        links += shared_column_totals(first, key, [*quarters, TOTAL])

    themed = frames.themes.merge(opened[["case_id", "opened_on"]], on="case_id")
    tables.append(
        Table(
            "themes",
            _crosstab(themed["theme"], themed["opened_on"], vocabulary.theme, year),
            row_totals=True,
            column_totals=False,
        )
    )
    closed = frames.cases[frames.cases["closed_on"].notna()]
    closed = _in_year(closed, "closed_on", year)
    tables.append(
        Table(
            "outcomes",
            _crosstab(closed["outcome"], closed["closed_on"], vocabulary.outcome, year),
            row_totals=True,
        )
    )
    referred = _in_year(frames.referrals, "referred_on", year)
    tables.append(
        Table(
            "referrals",
            _crosstab(
                referred["target"],
                referred["referred_on"],
                vocabulary.referral_target,
                year,
            ),
            row_totals=True,
        )
    )
    held = _in_year(frames.conversations, "held_on", year)
    conversations = _crosstab(
        pd.Series("conversations", index=held.index),
        held["held_on"],
        ["conversations"],
        year,
    )
    tables.append(Table("conversations", conversations, row_totals=True, column_totals=False))
    tables.append(_hours_table(frames, year))

    internal = _in_year(frames.internal, "month", year)
    external_by_type = opened["case_type"].value_counts()
    internal_by_type = internal["case_type"].value_counts()
    types = list(tables[0].frame.index)
    combined = pd.DataFrame(
        {
            EXTERNAL: [int(external_by_type.get(code, 0)) for code in types],
            INTERNAL: [int(internal_by_type.get(code, 0)) for code in types],
        },
        index=types,
    )
    tables.append(Table("combined", combined, row_totals=True, column_totals=True))
    links += [Link(("combined", code, EXTERNAL), (first, code, TOTAL)) for code in types]
    links.append(Link(("combined", TOTAL, EXTERNAL), (first, TOTAL, TOTAL)))
    return tables, links


def _hours_table(frames: CaseFrames, year: int) -> Table:
    quarters = [quarter.label for quarter in year_quarters(year)]
    worked = _in_year(frames.minutes, "worked_on", year)
    quarter = _quarter_labels(worked["worked_on"])
    minutes = worked.groupby(quarter)["minutes"].sum().reindex(quarters, fill_value=0)
    cases = worked.groupby(quarter)["case_id"].nunique().reindex(quarters, fill_value=0)
    frame = pd.DataFrame([minutes.astype("int64").to_numpy()], index=["minutes"], columns=quarters)
    guard = pd.DataFrame([cases.astype("int64").to_numpy()], index=["minutes"], columns=quarters)
    guard[TOTAL] = int(worked["case_id"].nunique())
    return Table(
        "hours", frame, row_totals=True, column_totals=False, kind=Kind.AMOUNT, guard=guard
    )


def tables_fingerprint(tables: Sequence[Table], links: Sequence[Link], k: int) -> str:
    """Return a short hash of the input of a publication (for caching: same input, same output)."""
    digest = hashlib.sha256(f"v1|k={k}".encode())
    for table in tables:
        digest.update(
            f"|{table.key}|{table.row_totals}|{table.column_totals}|{table.kind}".encode()
        )
        digest.update(table.frame.to_csv().encode())
        if table.guard is not None:
            digest.update(table.guard.to_csv().encode())
    for link in links:
        digest.update(repr((link.first, link.second)).encode())
    return digest.hexdigest()[:32]


def year_publication(frames: CaseFrames, year: int, vocabulary: Vocabulary, k: int) -> Publication:
    """Return the canonical, suppressed figures of one calendar year."""
    tables, links = year_tables(frames, year, vocabulary)
    return suppress(tables, k=k, links=links)


# --- views over published years ----------------------------------------------------------------


def combine(parts: Sequence[tuple[float, Status | None]]) -> tuple[float, Status]:
    """A sum of released cells: one cell keeps its mark; a sum is shown only when every part
    is (a sum of shown numbers tells nothing they did not); pending wins over hidden. A part
    with status None is a known zero (a category that did not exist)."""
    known: list[tuple[float, Status]] = [
        (value, status) for value, status in parts if status is not None
    ]
    if not known:
        return 0.0, Status.BELOW_K
    if len(known) == 1 and len(parts) == 1:
        return known[0]
    if any(status == Status.PENDING for _value, status in known):
        return float("nan"), Status.PENDING
    if all(status == Status.SHOWN for _value, status in known):
        return float(sum(value for value, _status in known)), Status.SHOWN
    if len(known) == 1:
        return known[0]
    return float("nan"), Status.HIDDEN


# Each quarter-columned table of a release has a year-to-date companion, `<key>_ytd`, with one
# column per quarter from the second to the third ("2026-Q3" there is 1 January up to the end of
# Q3): Q1's year to date is Q1 itself and Q4's the year total (`reports.releases`).
YTD_SUFFIX = "_ytd"


def ytd_key(key: str) -> str:
    return f"{key}{YTD_SUFFIX}"


def year_to_date_cell(
    tables: Mapping[str, Cells], key: str, row: str, quarter: Quarter
) -> tuple[float, Status | None]:
    """The released cell for 1 January to the end of `quarter` (status None: a known zero)."""
    if quarter.number == 1:
        table: Cells | None = tables[key]
        column = quarter.label
    elif quarter.number == 4:
        table, column = tables[key], TOTAL
    else:
        table, column = tables.get(ytd_key(key)), quarter.label
    if table is None or not table.has_column(column):
        return float("nan"), Status.PENDING  # nothing released for it (an older release)
    if not table.has_cell(row, column):
        return 0.0, None  # a row the release lacks: a category that did not exist then
    return table.cell(row, column)


def run_parts(
    tables: Mapping[str, Cells], key: str, row: str, in_year: Sequence[Quarter]
) -> list[tuple[float, Status | None]]:
    """The released cells that make up a run of quarters of one year, for `combine`.

    The one rule for reading a run from a release (`period_table` and the portfolio call it):
    a run from the first quarter is also one released cell, its year to date (the year total
    for all four), which is shown far more often than each of its small quarters. Whichever
    form is shown is used; both are implied by the release, so neither tells more than it.
    A row the release lacks (a theme added later) is a known zero."""
    table = tables[key]
    quarters: list[tuple[float, Status | None]] = [
        table.cell(row, quarter.label) if table.has_cell(row, quarter.label) else (0.0, None)
        for quarter in in_year
    ]
    if len(quarters) < 2 or in_year[0].number != 1:
        return quarters
    single = year_to_date_cell(tables, key, row, in_year[-1])
    if single[1] in (None, Status.PENDING) or combine(quarters)[1] == Status.SHOWN:
        return quarters
    return [single]


def _parts(
    publications: Mapping[int, Publication], key: str, row: str, period: Period
) -> list[tuple[float, Status | None]]:
    parts: list[tuple[float, Status | None]] = []
    for year in period.years:
        in_year = [quarter for quarter in period.quarters if quarter.year == year]
        parts += run_parts(publications[year].tables, key, row, in_year)
    return parts


def period_table(
    publications: Mapping[int, Publication], key: str, period: Period, *, compare: bool = True
) -> PublishedTable:
    """Return table `key` for a period: a column for the period and one for a year earlier.

    Every number is a published cell or a sum of shown published cells; nothing else.
    `publications` must hold every year the period (and, with `compare`, a year earlier) covers.
    """
    periods = {PERIOD: period}
    if compare:
        periods[PREVIOUS] = period.a_year_earlier()
    years = sorted({year for chosen in periods.values() for year in chosen.years})
    reference = publications[period.years[-1]][key]
    # Rows of every year involved: a theme added later is a row of the later years only.
    rows = list(
        dict.fromkeys(
            str(row) for year in reversed(years) for row in publications[year][key].values.index
        )
    )
    rows = [row for row in rows if row != TOTAL] + ([TOTAL] if TOTAL in rows else [])
    values = np.full((len(rows), len(periods)), np.nan)
    status = np.empty((len(rows), len(periods)), dtype=object)
    for j, chosen in enumerate(periods.values()):
        for i, row in enumerate(rows):
            values[i, j], status[i, j] = combine(_parts(publications, key, row, chosen))
    values = pd.DataFrame(values, index=rows, columns=list(periods))
    status = pd.DataFrame(status, index=rows, columns=list(periods))
    return PublishedTable(key=key, kind=reference.kind, k=reference.k, values=values, status=status)


def quarter_table(
    publications: Mapping[int, Publication], key: str, quarters: Sequence[Quarter], row: str
) -> PublishedTable:
    """Return one row of table `key` across quarters (e.g. the trend of cases per quarter)."""
    labels = [quarter.label for quarter in quarters]
    reference = publications[quarters[0].year][key]
    cells = [
        publications[quarter.year][key].cell(row, quarter.label)
        if publications[quarter.year][key].has_cell(row, quarter.label)
        else (0.0, Status.BELOW_K)
        for quarter in quarters
    ]
    values = pd.DataFrame([[value for value, _status in cells]], index=[row], columns=labels)
    status = pd.DataFrame([[state for _value, state in cells]], index=[row], columns=labels)
    return PublishedTable(key=key, kind=reference.kind, k=reference.k, values=values, status=status)


def _upper(cell: tuple[float, Status | None], k: int) -> float | None:
    """The largest value a released cell can have (None: no bound was shown)."""
    value, status = cell
    if status is None:
        return 0.0
    if status == Status.SHOWN:
        return value
    if status == Status.BELOW_K:
        return float(k - 1)
    return None


def theme_rises(
    publications: Mapping[int, Publication],
    latest: Quarter,
    *,
    before: int = 3,
    factor: float = 2.0,
) -> list[tuple[str, float, float]]:
    """Return themes that rose markedly: in `latest` at least `factor` times the average of the
    `before` quarters before it, as (theme, latest count, earlier average).

    Judged on bounds that the releases imply, so a rise is never overstated: the latest quarter
    at its smallest possible value (shown, or its year to date minus the largest possible year to
    date before it), the earlier ones at their largest ("< k" counts as k - 1; the quarters of
    the same year together at most their year to date). A theme without such bounds is left out.
    """
    quarters = [latest.shifted(-step) for step in range(before, 0, -1)]
    found = []
    tables = publications[latest.year].tables
    table = tables["themes"]
    k = table.k
    for theme in table.values.index:
        if theme == TOTAL:
            continue
        theme = str(theme)
        now = table.shown(theme, latest.label)
        if now is None and latest.number > 1:
            through = year_to_date_cell(tables, "themes", theme, latest)
            earlier_ytd = _upper(year_to_date_cell(tables, "themes", theme, latest.shifted(-1)), k)
            if through[1] == Status.SHOWN and earlier_ytd is not None:
                now = max(0.0, through[0] - earlier_ytd)
        if not now:
            continue
        if any(
            not publications[quarter.year]["themes"].has_cell(theme, quarter.label)
            for quarter in quarters
        ):
            continue
        uppers = {
            quarter: _upper(publications[quarter.year]["themes"].cell(theme, quarter.label), k)
            for quarter in quarters
        }
        if None in (uppers[quarter] for quarter in quarters if quarter.year != latest.year):
            continue
        total = sum(uppers[quarter] or 0.0 for quarter in quarters if quarter.year != latest.year)
        if latest.number > 1:
            # This year's quarters before `latest` are exactly its year to date before it: at
            # most the smaller of that bound and the sum of the quarters' own bounds.
            this_year = [uppers[quarter] for quarter in quarters if quarter.year == latest.year]
            ytd = _upper(year_to_date_cell(tables, "themes", theme, latest.shifted(-1)), k)
            bounds = [] if ytd is None else [ytd]
            if None not in this_year:
                bounds.append(sum(value or 0.0 for value in this_year))
            if not bounds:
                continue
            total += min(bounds)
        average = total / before
        if now >= factor * max(average, 1.0):
            found.append((theme, now, average))
    return found


def _copied(
    key: str, cells: Mapping[str, Mapping[str, tuple[PublishedTable, str, str]]]
) -> PublishedTable:
    """A table whose every cell is a copy of a published cell (value and status)."""
    rows = list(cells)
    columns = list(next(iter(cells.values())))
    first = next(iter(next(iter(cells.values())).values()))[0]
    found = [
        [
            table.cell(source_row, source_column)
            for table, source_row, source_column in by_column.values()
        ]
        for by_column in cells.values()
    ]
    values = pd.DataFrame([[v for v, _s in row] for row in found], index=rows, columns=columns)
    status = pd.DataFrame([[s for _v, s in row] for row in found], index=rows, columns=columns)
    return PublishedTable(key=key, kind=first.kind, k=first.k, values=values, status=status)


def years_table(
    publications: Mapping[int, Publication], key: str, years: Sequence[int], *, column: str = TOTAL
) -> PublishedTable:
    """Table `key` with one column per year (its year total, as published for that year)."""
    rows: list[str] = []
    for year in years:
        rows += [str(row) for row in publications[year][key].values.index if str(row) not in rows]
    cells: dict[str, dict[str, tuple[PublishedTable, str, str]]] = {}
    for row in rows:
        cells[row] = {}
        for year in years:
            table = publications[year][key]
            if row in table.values.index:
                cells[row][str(year)] = (table, row, column)
    # A category that did not exist in an earlier year (a new theme) had no cases then.
    complete = {row: by_year for row, by_year in cells.items() if len(by_year) == len(years)}
    return _copied(key, complete)


KEY_FIGURES = {
    "cases": ("cases_by_type", TOTAL, TOTAL),
    "closed": ("outcomes", TOTAL, TOTAL),
    "conversations": ("conversations", "conversations", TOTAL),
    "referrals": ("referrals", TOTAL, TOTAL),
    "internal": ("combined", TOTAL, INTERNAL),
}


def key_figures_table(
    publications: Mapping[int, Publication], years: Sequence[int]
) -> PublishedTable:
    """The year's headline counts beside earlier years, each a published cell."""
    cells = {
        name: {str(year): (publications[year][key], row, column) for year in years}
        for name, (key, row, column) in KEY_FIGURES.items()
    }
    return _copied("key_figures", cells)
