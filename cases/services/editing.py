"""Opening a case and editing its own details."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import rules
from cases.models import Case, CaseType, Theme
from cases.services._common import (
    CASE_EDITABLE,
    COUNTED_FIELDS,
    Action,
    _index,
    _log,
    _themes,
    _touch,
    _whistleblower_deadlines,
    case_for_change,
    counted_fact_changed,
    next_reference,
    submission_claim,
    submission_link,
)

if TYPE_CHECKING:
    from accounts.models import User


def case_open(
    *,
    actor: User,
    case_type: str,
    themes: Iterable[Theme | int | str],
    reporter_role: str,
    accused_relation: str,
    channel: str,
    opened_on: datetime.date | None = None,
    submission_key: uuid.UUID | str | None = None,
) -> Case:
    """Register a new contact with the minimum the adviser knows at once; the rest comes later.

    The actor becomes the handling adviser. Causes about ten queries.
    """
    case_type = rules.choice(case_type, field="case_type", choices=CaseType.values)
    reporter_role = rules.choice(
        reporter_role, field="reporter_role", choices=Case.ReporterRole.values
    )
    accused_relation = rules.choice(
        accused_relation, field="accused_relation", choices=Case.AccusedRelation.values
    )
    channel = rules.choice(channel, field="channel", choices=Case.Channel.values)
    opened_on = rules.past_date(opened_on or timezone.localdate(), field="opened_on")
    chosen = _themes(themes)
    with transaction.atomic():
        claimed = submission_claim(submission_key, "case_open")
        case = Case.objects.create(
            reference=next_reference(opened_on.year),
            case_type=case_type,
            reporter_role=reporter_role,
            accused_relation=accused_relation,
            channel=channel,
            opened_on=opened_on,
            adviser_id=actor.pk,
            created_by_id=actor.pk,
        )
        case.themes.set(chosen)
        submission_link(claimed, case.reference)
        _log(actor, Action.CREATE, case, "opened")
        _index(case)
        counted_fact_changed()
    return case


def case_update(*, actor: User, case: Case, expected_version: int, **fields: Any) -> Case:
    """Change the case's own details; refuses a stale `expected_version` (EditConflict)."""
    unknown = set(fields) - CASE_EDITABLE
    if unknown:
        raise ValueError(f"Cannot change {sorted(unknown)} with case_update.")
    clean: dict[str, Any] = {}
    choices = {
        "case_type": (CaseType.values, True),
        "reporter_role": (Case.ReporterRole.values, True),
        "reporter_gender": (Case.Gender.values, False),
        "accused_relation": (Case.AccusedRelation.values, True),
        "people_involved": (Case.PeopleInvolved.values, True),
        "repeated": (Case.Repeated.values, True),
        "channel": (Case.Channel.values, True),
        "period": (Case.Period.values, True),
    }
    for name, (allowed, required) in choices.items():
        if name in fields:
            clean[name] = rules.choice(fields[name], field=name, choices=allowed, required=required)
    for name in ("reporter_identity", "reporter_department"):
        if name in fields:
            clean[name] = rules.text(fields[name], field=name, limit=rules.MAX_SHORT_TEXT_CHARS)
    received = fields.get("report_received_on", case.report_received_on)
    received = rules.past_date(
        received, field="report_received_on", not_before=case.opened_on, required=False
    )
    for name in ("acknowledged_on", "feedback_given_on"):
        value = fields.get(name, getattr(case, name))
        if value is not None and received is None:
            raise ValidationError({name: _("Enter the date the report was received first.")})
        clean[name] = rules.past_date(value, field=name, not_before=received, required=False)
    if "report_received_on" in fields:
        clean["report_received_on"] = received
        clean["acknowledgement_due"], clean["feedback_due"] = _whistleblower_deadlines(received)
    chosen = (
        _themes(fields["themes"], kept=[theme.pk for theme in case.themes.all()])
        if "themes" in fields
        else None
    )
    with transaction.atomic():
        locked = case_for_change(
            case,
            expected_version=expected_version,
            closed_ok=True,
            erased_message=_("This case was erased; its details can no longer be changed."),
        )
        changed = sorted(name for name, value in clean.items() if getattr(locked, name) != value)
        if chosen is not None and {theme.pk for theme in chosen} != {
            theme.pk for theme in locked.themes.all()
        }:
            changed.append("themes")
            locked.themes.set(chosen)
        if not changed:
            return locked
        for name, value in clean.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        # Field names only: the log says what was touched, never what it says now.
        _log(actor, Action.UPDATE, locked, ("changed " + ", ".join(changed))[:200])
        _index(locked)
        if COUNTED_FIELDS.intersection(changed):
            counted_fact_changed()
    return locked


def conversation_plan(*, actor: User, case: Case, on: datetime.date | None) -> Case:
    """Plan (or, with None, unplan) the next conversation; shows on the adviser's day."""
    on = rules.planned_date(on, field="on", ahead_days=rules.MAX_PLAN_AHEAD_DAYS)
    with transaction.atomic():
        locked = case_for_change(case)
        Case.objects.filter(pk=locked.pk).update(next_conversation_on=on)
        locked.next_conversation_on = on
        _touch(locked)
        _log(
            actor,
            Action.UPDATE,
            locked,
            "next conversation planned" if on else "planned conversation removed",
        )
        _index(locked)
    return locked
