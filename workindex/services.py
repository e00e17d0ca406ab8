"""Writes to the work index. Called by `cases.services` inside the case's own transaction."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from workindex.models import CaseworkEntry, WorkMinutes

_ENTRY_FIELDS = [
    "phase",
    "case_type",
    "adviser_id",
    "opened_on",
    "next_conversation_on",
    "followup_due_on",
    "acknowledgement_due_on",
    "feedback_due_on",
    "updated_at",
]


@dataclass(frozen=True)
class EntryState:
    """What the index knows about one open case; no content, no person."""

    reference: str
    phase: str
    case_type: str
    adviser_id: int | None
    opened_on: datetime.date
    next_conversation_on: datetime.date | None = None
    followup_due_on: datetime.date | None = None
    acknowledgement_due_on: datetime.date | None = None
    feedback_due_on: datetime.date | None = None


def _entry(client_id: int, state: EntryState) -> CaseworkEntry:
    return CaseworkEntry(
        client_id=client_id,
        case_reference=state.reference,
        phase=state.phase,
        case_type=state.case_type,
        adviser_id=state.adviser_id,
        opened_on=state.opened_on,
        next_conversation_on=state.next_conversation_on,
        followup_due_on=state.followup_due_on,
        acknowledgement_due_on=state.acknowledgement_due_on,
        feedback_due_on=state.feedback_due_on,
        updated_at=timezone.now(),
    )


def entries_put(*, client_id: int, states: list[EntryState]) -> None:
    """Insert or overwrite the index rows of these open cases (one upsert statement)."""
    if not states:
        return
    CaseworkEntry.objects.bulk_create(
        [_entry(client_id, state) for state in states],
        update_conflicts=True,
        unique_fields=["client", "case_reference"],
        update_fields=_ENTRY_FIELDS,
        batch_size=1000,
    )


def entry_remove(*, client_id: int, reference: str) -> None:
    """Drop a case from the index (closed, erased or destroyed); one DELETE."""
    CaseworkEntry.objects.filter(client_id=client_id, case_reference=reference).delete()


def minutes_put(
    *, client_id: int, adviser_id: int, month: datetime.date, minutes: int, billable_minutes: int
) -> None:
    """Record an adviser's total minutes for a client in one month (one upsert statement)."""
    WorkMinutes.objects.bulk_create(
        [
            WorkMinutes(
                client_id=client_id,
                adviser_id=adviser_id,
                month=month.replace(day=1),
                minutes=minutes,
                billable_minutes=billable_minutes,
                updated_at=timezone.now(),
            )
        ],
        update_conflicts=True,
        unique_fields=["client", "adviser_id", "month"],
        update_fields=["minutes", "billable_minutes", "updated_at"],
    )


def client_forget(*, client_id: int) -> None:
    """Remove every index row of a client (offboarding)."""
    CaseworkEntry.objects.filter(client_id=client_id).delete()
    WorkMinutes.objects.filter(client_id=client_id).delete()
