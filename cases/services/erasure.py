"""Erasure on request, destruction after the retention deadline, and export for access requests."""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import (
    Case,
    ConsentRecord,
    Conversation,
    FollowUp,
    Note,
    Outcome,
    Referral,
    Step,
    TimeEntry,
)
from cases.services._common import Action, SystemActor, _index, _log, counted_fact_changed
from tenants.schemas import current_schema

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger("cases.services")


def _strip(case_ids: list[int], *, erased: bool) -> None:
    """Remove narrative and identifying data of these cases; keep the categorical fields."""
    now = timezone.now()
    Case.objects.filter(pk__in=case_ids).update(
        reporter_identity="",
        reporter_department="",
        reporter_gender="",
        next_conversation_on=None,
        version=F("version") + 1,
        updated_at=now,
        **({"erased_at": now} if erased else {"destroyed_at": now}),
    )
    Conversation.objects.filter(case_id__in=case_ids).update(summary="", next_steps="")
    ConsentRecord.objects.filter(case_id__in=case_ids).update(third_party="")
    Referral.objects.filter(case_id__in=case_ids).update(note="")
    FollowUp.objects.filter(case_id__in=case_ids).update(description="")
    TimeEntry.objects.filter(case_id__in=case_ids).update(description="")
    Step.objects.filter(case_id__in=case_ids).delete()
    Note.objects.filter(case_id__in=case_ids).delete()


def case_erase(*, actor: User, case: Case) -> Case:
    """Erase a case on the reporter's request, keeping only what the anonymous counts need.

    Kept: type, themes, reporter's role, relation of the accused, channel, period, phase,
    outcome, dates, durations and minutes, referral targets, consent scopes. An open case is
    closed as withdrawn on the way. Erasing an erased case again changes nothing.
    """
    today = timezone.localdate()
    with transaction.atomic():
        # Not `case_for_change`: erasing is allowed on a closed case and a no-op on an erased one.
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.is_stripped:
            return locked
        was_open = not locked.is_closed
        if was_open:
            Case.objects.filter(pk=locked.pk).update(
                phase=Case.Phase.CLOSED,
                outcome=Outcome.WITHDRAWN,
                closed_on=max(today, locked.opened_on),
                retention_until=max(today, locked.opened_on),
            )
        _strip([locked.pk], erased=True)
        _log(actor, Action.ERASE, locked, "narrative and identifying data erased on request")
        locked = Case.objects.get(pk=locked.pk)
        _index(locked)
        if was_open:
            counted_fact_changed()  # closed as withdrawn; the categories it keeps are unchanged
    return locked


RETENTION = SystemActor("retention")


def retention_destroy_due(
    *, today: datetime.date | None = None, batch_size: int = 200
) -> list[str]:
    """Destroy the narrative of closed cases whose retention deadline has passed. Idempotent.

    Runs inside one client's schema (the retention task carries it). Returns the references it
    stripped; a second run finds nothing left to do. Each batch commits on its own, so an
    interruption keeps the work done so far. Counted facts stay as they were: no rollup rebuild.
    """
    today = today or timezone.localdate()
    due = list(
        Case.objects.filter(
            phase=Case.Phase.CLOSED,
            retention_until__lt=today,
            destroyed_at__isnull=True,
            erased_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", "reference")
    )
    for start in range(0, len(due), batch_size):
        batch = due[start : start + batch_size]
        with transaction.atomic():
            ids = list(
                Case.objects.select_for_update()
                .filter(pk__in=[pk for pk, _reference in batch], destroyed_at__isnull=True)
                .values_list("pk", flat=True)
            )
            _strip(ids, erased=False)
            for pk, reference in batch:
                if pk in ids:
                    _log(RETENTION, Action.DESTROY, reference, "retention deadline passed")
    if due:
        logger.info(
            "Retention: destroyed the narrative of %d case(s) in %s",
            len(due),
            current_schema(),
        )
    return [reference for _pk, reference in due]


def case_export(*, actor: User, case: Case) -> dict[str, Any]:
    """Everything held about one case, for a reporter's access request (logged as EXPORT)."""
    from cases import exports

    data = exports.case_data(case)
    _log(actor, Action.EXPORT, case, "exported for an access request")
    return data
