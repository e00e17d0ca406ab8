"""Indicators a board can act on, per client and year, through the one anonymity gate.

Every number behind an indicator is a count that is released **jointly** with the year's
fourth-quarter release (`reports.releases.client_release_make` passes `indicator_tables` to the
same `suppress` call as the case tables). Why jointly: the counts behind the shares are related
to the released tables in ways a reader knows (anonymous contacts are part of all contacts,
reporters who came back are part of those with a mailbox, integrity reports are part of the
integrity cases). Suppressed in a table of their own, a share could pin a cell the release hid,
or the release a count the share's table hid. So each relation is written as an equation the
engine sees: every count is one part of a two-part table whose total is linked to the count it
is part of, down to the released case totals themselves ("part + rest = whole", with the rest a
cell like any other, so "part <= whole" is known and protected).

A share or a median is computed from shown counts only and is hidden (None) when a count it
rests on is hidden: "a ratio built on a hidden count is hidden too". The employee count is the
client's own headcount (kept for billing), not a count of people who reported.

Runs in the client's schema (reads cases), one query for the year; for one client.
"""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from collections.abc import Mapping
from typing import Any

import pandas as pd
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from reports.suppression import TOTAL, Link, Publication, Table

COLUMN = "year"
# The wholes a count can be part of: all cases opened in the year, or the integrity cases.
CONTACTS = "contacts"
INTEGRITY = "integrity"


@dataclasses.dataclass(frozen=True)
class Partition:
    """A count (`part`) and what is left of its whole (`rest`); the table's total is the whole:
    either a root (`CONTACTS`, `INTEGRITY`) or the part of another partition (`within`)."""

    key: str
    part: str
    rest: str
    within: str  # a root name or the key of the partition whose part this one splits


PARTITIONS = [
    Partition("ind_anonymous", "anonymous", "named", CONTACTS),
    # Only a reporter who wrote anonymously through the intake has a mailbox to come back to.
    Partition("ind_mailbox", "in_mailbox", "no_mailbox", "ind_anonymous"),
    Partition("ind_came_back", "came_back", "not_back", "ind_mailbox"),
    Partition("ind_conversation", "with_conversation", "no_conversation", CONTACTS),
    Partition("ind_closed", "closed", "open", CONTACTS),
    Partition("ind_integrity", "reported", "not_reported", INTEGRITY),
    Partition("ind_acknowledged", "in_time", "late", "ind_integrity"),
    Partition("ind_answered", "in_time", "late", "ind_integrity"),
]
BY_KEY = {partition.key: partition for partition in PARTITIONS}


@dataclasses.dataclass(frozen=True)
class YearIndicators:
    year: int
    contacts: float | None
    contacts_per_100: float | None
    anonymous_share: float | None
    came_back_share: float | None
    median_days_to_conversation: float | None
    median_days_to_closure: float | None
    acknowledged_in_time_share: float | None
    answered_in_time_share: float | None


def cases_of(year: int) -> list[dict[str, Any]]:
    from cases.models import Case, CaseType
    from intake.models import Contact

    # Only a reporter who wrote anonymously through the intake has a mailbox to come back to
    # (`Contact.came_back`: opened it again after the day of the report); anonymous contacts by
    # phone or in person cannot be followed, so they are not in this share at all.
    anonymous_contacts = Contact.objects.filter(case=OuterRef("pk"), anonymous=True)
    rows = []
    cases = (
        Case.objects.filter(opened_on__year=year)
        .annotate(
            first_conversation=Min("conversations__held_on"),
            in_mailbox=Exists(anonymous_contacts),
            came_back=Exists(anonymous_contacts.filter(came_back=True)),
        )
        .only(
            "opened_on",
            "closed_on",
            "case_type",
            "reporter_identity",
            "report_received_on",
            "acknowledged_on",
            "acknowledgement_due",
            "feedback_given_on",
            "feedback_due",
        )
    )
    for case in cases:
        integrity_report = (
            case.case_type == CaseType.INTEGRITY and case.report_received_on is not None
        )
        anonymous = not (case.reporter_identity or "").strip()
        rows.append(
            {
                # Anonymous: the adviser holds no identity for the reporter.
                "anonymous": anonymous,
                "integrity": case.case_type == CaseType.INTEGRITY,
                "in_mailbox": anonymous and case.in_mailbox,
                "came_back": anonymous and case.came_back,
                "to_conversation": (case.first_conversation - case.opened_on).days
                if case.first_conversation
                else None,
                "to_closure": (case.closed_on - case.opened_on).days if case.closed_on else None,
                "integrity_report": integrity_report,
                "acknowledged_in_time": integrity_report
                and case.acknowledged_on is not None
                and case.acknowledgement_due is not None
                and case.acknowledged_on <= case.acknowledgement_due,
                "answered_in_time": integrity_report
                and case.feedback_given_on is not None
                and case.feedback_due is not None
                and case.feedback_given_on <= case.feedback_due,
            }
        )
    return rows


def _part_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    flag = {
        "ind_anonymous": "anonymous",
        "ind_mailbox": "in_mailbox",
        "ind_came_back": "came_back",
        "ind_integrity": "integrity_report",
        "ind_acknowledged": "acknowledged_in_time",
        "ind_answered": "answered_in_time",
    }
    counts = {key: sum(1 for row in rows if row[name]) for key, name in flag.items()}
    counts["ind_conversation"] = sum(1 for row in rows if row["to_conversation"] is not None)
    counts["ind_closed"] = sum(1 for row in rows if row["to_closure"] is not None)
    return counts


def _whole_counts(rows: list[dict[str, Any]], parts: Mapping[str, int]) -> dict[str, int]:
    roots = {
        CONTACTS: len(rows),
        INTEGRITY: sum(1 for row in rows if row["integrity"]),
    }
    return {
        partition.key: roots[partition.within]
        if partition.within in roots
        else parts[partition.within]
        for partition in PARTITIONS
    }


def indicator_tables(
    rows: list[dict[str, Any]], *, released: Mapping[str, tuple[str, str, str, int]]
) -> tuple[list[Table], list[Link]]:
    """The counts behind the indicators as two-part tables, and the links a reader knows.

    `released` maps a root (`CONTACTS`, `INTEGRITY`) to the released cell that counts the same
    cases (table, row, column, value). The link is made only when the numbers agree: a case
    registered late for a released quarter is in the indicators' year but no longer in the
    released quarter tables (see `reports.releases`), and then the two are different counts.
    """
    parts = _part_counts(rows)
    wholes = _whole_counts(rows, parts)
    tables = []
    links: list[Link] = []
    for partition in PARTITIONS:
        part = parts[partition.key]
        frame = pd.DataFrame(
            {COLUMN: [part, wholes[partition.key] - part]},
            index=[partition.part, partition.rest],
        ).astype("int64")
        tables.append(Table(partition.key, frame, row_totals=False, column_totals=True))
        total = (partition.key, TOTAL, COLUMN)
        if partition.within in BY_KEY:
            links.append(Link(total, (partition.within, BY_KEY[partition.within].part, COLUMN)))
            continue
        cell = released.get(partition.within)
        if cell is not None and cell[3] == wholes[partition.key]:
            links.append(Link(total, cell[:3]))
        else:
            # Not the released count: still one whole for every partition of the same root.
            first = next(p for p in PARTITIONS if p.within == partition.within)
            if first is not partition:
                links.append(Link(total, (first.key, TOTAL, COLUMN)))
    return tables, links


def _shown(publication: Publication, key: str, row: str) -> float | None:
    if key not in publication.tables:
        return None
    return publication[key].shown(row, COLUMN)


def _share(publication: Publication, key: str) -> float | None:
    partition = BY_KEY[key]
    numerator = _shown(publication, key, partition.part)
    denominator = _shown(publication, key, TOTAL)
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)


def _median(values: list[int], publication: Publication, key: str) -> float | None:
    # A median rests on the count of cases behind it: hidden with that count.
    if _shown(publication, key, BY_KEY[key].part) is None or not values:
        return None
    return float(statistics.median(values))


def indicators_released(
    *,
    year: int,
    rows: list[dict[str, Any]],
    publication: Publication,
    employee_count: int,
    contacts: float | None,
) -> dict[str, Any]:
    """The indicators of `year` as the fourth-quarter release freezes them: computed once from
    the counts that release showed (`publication` holds `indicator_tables`' tables, suppressed
    with the case tables), never again, so looking before and after a change shows the same
    numbers. `contacts` is the year's released case total: one number for "cases opened in the
    year" wherever it is shown."""
    values = YearIndicators(
        year=year,
        contacts=contacts,
        contacts_per_100=round(100 * contacts / employee_count, 1)
        if contacts is not None and employee_count > 0
        else None,
        anonymous_share=_share(publication, "ind_anonymous"),
        came_back_share=_share(publication, "ind_came_back"),
        median_days_to_conversation=_median(
            [r["to_conversation"] for r in rows if r["to_conversation"] is not None],
            publication,
            "ind_conversation",
        ),
        median_days_to_closure=_median(
            [r["to_closure"] for r in rows if r["to_closure"] is not None],
            publication,
            "ind_closed",
        ),
        acknowledged_in_time_share=_share(publication, "ind_acknowledged"),
        answered_in_time_share=_share(publication, "ind_answered"),
    )
    return dataclasses.asdict(values)


def indicator_years(today: datetime.date) -> list[int]:
    """The two years whose indicators the dashboard shows: the last two complete released
    years."""
    from reports.releases import last_due_quarter

    due = last_due_quarter(today)
    last = due.year if due.number == 4 else due.year - 1
    return [last - 1, last]


def indicators_current(*, today: datetime.date | None = None) -> list[YearIndicators]:
    """The last two released years of the current client, as their releases froze them (years
    not released yet, or released before indicators existed, show nothing)."""

    from reports.models import FigureRelease
    from reports.releases import releases_make_due
    from tenants.current import current_client_organisation

    today = today or timezone.localdate()
    years = indicator_years(today)
    client = current_client_organisation()
    releases_make_due(years, client=client, today=today)
    frozen = dict(
        FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT, client=client, year__in=years, quarter=4
        ).values_list("year", "truth__indicators")
    )
    empty = {field.name: None for field in dataclasses.fields(YearIndicators)}
    return [YearIndicators(**{**empty, **(frozen.get(year) or {}), "year": year}) for year in years]
