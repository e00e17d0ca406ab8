"""Indicators a board can act on, per client and year, through the one anonymity gate.

Kept apart from the publication frames (`reports/frames.py`) on purpose: it only calls the
suppression engine's public interface (`suppress`, `Table`, `PublishedTable.shown`). Every
number behind an indicator is a count that passes `suppress` first; a ratio or a median is
computed from shown counts only, and is hidden (None) when a count it rests on is hidden —
"a ratio built on a hidden count is hidden too". The employee count is the client's own
headcount (kept for billing), not a count of people who reported.

Runs in the client's schema (reads cases), one query per figure family; for one client.
"""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from typing import Any

import pandas as pd
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from reports.suppression import Publication, Table, suppress

KEY = "indicators"
ROWS = [
    "contacts",
    "anonymous",
    "anonymous_in_mailbox",
    "anonymous_came_back",
    "with_conversation",
    "closed",
    "integrity_reports",
    "acknowledged_in_time",
    "answered_in_time",
]


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


def _column(year: int) -> str:
    return f"y{year}"


def _cases_of(year: int) -> list[dict[str, Any]]:
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


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "contacts": len(rows),
        "anonymous": sum(1 for row in rows if row["anonymous"]),
        "anonymous_in_mailbox": sum(1 for row in rows if row["in_mailbox"]),
        "anonymous_came_back": sum(1 for row in rows if row["came_back"]),
        "with_conversation": sum(1 for row in rows if row["to_conversation"] is not None),
        "closed": sum(1 for row in rows if row["to_closure"] is not None),
        "integrity_reports": sum(1 for row in rows if row["integrity_report"]),
        "acknowledged_in_time": sum(1 for row in rows if row["acknowledged_in_time"]),
        "answered_in_time": sum(1 for row in rows if row["answered_in_time"]),
    }


def _share(publication: Publication, part: str, whole: str, column: str) -> float | None:
    table = publication[KEY]
    numerator, denominator = table.shown(part, column), table.shown(whole, column)
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)


def _median(values: list[int], publication: Publication, row: str, column: str) -> float | None:
    # A median rests on the count of cases behind it: hidden with that count.
    if publication[KEY].shown(row, column) is None or not values:
        return None
    return float(statistics.median(values))


def indicators_for(
    *, years: list[int], k: int, employee_count: int
) -> tuple[list[YearIndicators], Publication]:
    """The indicators of the current client's schema for `years` (year on year), suppressed.

    Returns one YearIndicators per year and the publication of the counts behind them (for a
    table beside the figures). All years pass the gate together, so comparing them cannot
    subtract a hidden number out.
    """
    per_year = {year: _cases_of(year) for year in years}
    frame = pd.DataFrame(
        {_column(year): _counts(per_year[year]) for year in years}, index=ROWS
    ).astype(int)
    publication = suppress(
        [Table(key=KEY, frame=frame, row_totals=False, column_totals=False)], k=k
    )
    result = []
    for year in years:
        column = _column(year)
        rows = per_year[year]
        contacts = publication[KEY].shown("contacts", column)
        result.append(
            YearIndicators(
                year=year,
                contacts=contacts,
                contacts_per_100=round(100 * contacts / employee_count, 1)
                if contacts is not None and employee_count > 0
                else None,
                anonymous_share=_share(publication, "anonymous", "contacts", column),
                came_back_share=_share(
                    publication, "anonymous_came_back", "anonymous_in_mailbox", column
                ),
                median_days_to_conversation=_median(
                    [r["to_conversation"] for r in rows if r["to_conversation"] is not None],
                    publication,
                    "with_conversation",
                    column,
                ),
                median_days_to_closure=_median(
                    [r["to_closure"] for r in rows if r["to_closure"] is not None],
                    publication,
                    "closed",
                    column,
                ),
                acknowledged_in_time_share=_share(
                    publication, "acknowledged_in_time", "integrity_reports", column
                ),
                answered_in_time_share=_share(
                    publication, "answered_in_time", "integrity_reports", column
                ),
            )
        )
    return result, publication


def indicators_frozen(*, year: int, k: int, employee_count: int, contacts: float | None) -> dict:
    """The indicators of a year as its fourth-quarter release freezes them (`reports.releases`):
    computed once, when the year's figures are released, and never again, so looking before
    and after a change shows the same numbers. `contacts` is the year's released case total:
    one number for "cases opened in the year" wherever it is shown."""
    (found,), _publication = indicators_for(years=[year], k=k, employee_count=employee_count)
    values = dataclasses.asdict(found)
    values["contacts"] = contacts
    values["contacts_per_100"] = (
        round(100 * contacts / employee_count, 1)
        if contacts is not None and employee_count > 0
        else None
    )
    return values


def indicators_current(*, today: datetime.date | None = None) -> list[YearIndicators]:
    """The last two released years of the current client, as their releases froze them (years
    not released yet, or released before indicators existed, show nothing)."""

    from reports.models import FigureRelease
    from reports.releases import client_publications, last_due_quarter
    from tenants.current import current_client_organisation

    today = today or timezone.localdate()
    due = last_due_quarter(today)
    last = due.year if due.number == 4 else due.year - 1
    years = [last - 1, last]
    client = current_client_organisation()
    client_publications(years, client=client, today=today)  # releases what is due
    frozen = dict(
        FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT, client=client, year__in=years, quarter=4
        ).values_list("year", "truth__indicators")
    )
    empty = {field.name: None for field in dataclasses.fields(YearIndicators)}
    return [YearIndicators(**{**empty, **(frozen.get(year) or {}), "year": year}) for year in years]
