"""What happens in a case: conversations, consents, steps, referrals, follow-ups, time, notes.

Each service validates its input first, then locks the case with `case_for_change` inside its
transaction and checks the case's state (and that of the consent, step or follow-up it relies
on) on the locked rows; it writes on the locked case, never on the caller's copy.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import rules
from cases.models import (
    Case,
    ConsentRecord,
    Conversation,
    FollowUp,
    Note,
    Referral,
    Step,
    TimeEntry,
)
from cases.services._common import (
    REFERRAL_SCOPES,
    Action,
    _index,
    _log,
    _minutes,
    _touch,
    case_for_change,
    counted_fact_changed,
    submission_claim,
)

if TYPE_CHECKING:
    from accounts.models import User


def conversation_add(
    *,
    actor: User,
    case: Case,
    held_on: datetime.date,
    duration_minutes: int,
    summary: str = "",
    next_steps: str = "",
    billable: bool = True,
    submission_key: uuid.UUID | str | None = None,
) -> Conversation:
    """Record a conversation and the time it took (a time entry of the same length)."""
    held_on = rules.past_date(held_on, field="held_on", not_before=case.opened_on)
    duration_minutes = rules.minutes(
        duration_minutes, field="duration_minutes", maximum=rules.MAX_CONVERSATION_MINUTES
    )
    summary = rules.text(summary, field="summary")
    next_steps = rules.text(next_steps, field="next_steps")
    with transaction.atomic():
        locked = case_for_change(case)
        submission_claim(submission_key, "conversation", locked.reference)
        conversation = Conversation.objects.create(
            case=locked,
            held_on=held_on,
            duration_minutes=duration_minutes,
            summary=summary,
            next_steps=next_steps,
            adviser_id=actor.pk,
        )
        TimeEntry.objects.create(
            case=locked,
            worked_on=held_on,
            minutes=duration_minutes,
            adviser_id=actor.pk,
            billable=billable,
            conversation=conversation,
        )
        if locked.next_conversation_on is not None and locked.next_conversation_on <= held_on:
            # The planned conversation took place.
            Case.objects.filter(pk=locked.pk).update(next_conversation_on=None)
            locked.next_conversation_on = None
            _touch(locked)
        _log(actor, Action.UPDATE, locked, "conversation added")
        _index(locked)
        _minutes(actor.pk, held_on)
        counted_fact_changed()
    return conversation


def consent_record(
    *,
    actor: User,
    case: Case,
    scope: str,
    third_party: str = "",
    given_on: datetime.date | None = None,
    submission_key: uuid.UUID | str | None = None,
) -> ConsentRecord:
    """Record the reporter's consent for a step involving a third party."""
    scope = rules.choice(scope, field="scope", choices=ConsentRecord.Scope.values)
    third_party = rules.text(third_party, field="third_party", limit=rules.MAX_SHORT_TEXT_CHARS)
    given_on = rules.past_date(
        given_on or timezone.localdate(), field="given_on", not_before=case.opened_on
    )
    with transaction.atomic():
        locked = case_for_change(case)
        submission_claim(submission_key, "consent", locked.reference)
        consent = ConsentRecord.objects.create(
            case=locked,
            scope=scope,
            third_party=third_party,
            given_on=given_on,
            recorded_by_id=actor.pk,
        )
        _log(actor, Action.UPDATE, locked, f"consent recorded ({scope})")
    return consent


def consent_withdraw(
    *, actor: User, case: Case, consent: ConsentRecord, withdrawn_on: datetime.date | None = None
) -> ConsentRecord:
    """Record that the reporter withdrew a consent; steps not yet done can no longer rely on it."""
    if consent.case_id != case.pk:
        raise ValueError("The consent belongs to another case.")
    withdrawn_on = rules.past_date(
        withdrawn_on or timezone.localdate(), field="withdrawn_on", not_before=consent.given_on
    )
    with transaction.atomic():
        locked = case_for_change(case, closed_ok=True)
        current = ConsentRecord.objects.get(pk=consent.pk)
        if current.withdrawn_on is not None:
            return current
        ConsentRecord.objects.filter(pk=current.pk).update(withdrawn_on=withdrawn_on)
        current.withdrawn_on = withdrawn_on
        _log(actor, Action.UPDATE, locked, f"consent withdrawn ({current.scope})")
    return current


def step_add(
    *,
    actor: User,
    case: Case,
    description: str,
    involves_third_party: bool = False,
    submission_key: uuid.UUID | str | None = None,
) -> Step:
    """Add an agreed step; one that involves a third party will need a current consent."""
    description = rules.text(description, field="description", required=True)
    with transaction.atomic():
        locked = case_for_change(case)
        submission_claim(submission_key, "step", locked.reference)
        step = Step.objects.create(
            case=locked,
            description=description,
            involves_third_party=bool(involves_third_party),
            adviser_id=actor.pk,
        )
        _log(actor, Action.UPDATE, locked, "step added")
    return step


def step_mark_done(
    *,
    actor: User,
    case: Case,
    step: Step,
    consent: ConsentRecord | None = None,
    done_on: datetime.date | None = None,
) -> Step:
    """Mark a step done. No current consent of the reporter, no step with a third party.

    The consent is read again under the case's lock: one withdrawn meanwhile does not count.
    """
    if step.case_id != case.pk or (consent is not None and consent.case_id != case.pk):
        raise ValueError("The step or consent belongs to another case.")
    done_on = rules.past_date(
        done_on or timezone.localdate(), field="done_on", not_before=case.opened_on
    )
    with transaction.atomic():
        locked = case_for_change(case)
        current = Step.objects.get(pk=step.pk)
        if current.done_on is not None:
            return current
        chosen_id = consent.pk if consent is not None else current.consent_id
        chosen = ConsentRecord.objects.filter(pk=chosen_id).first() if chosen_id else None
        if current.involves_third_party and (chosen is None or not chosen.is_current(done_on)):
            raise ValidationError(
                {
                    "consent": _(
                        "This step involves a third party: it needs the reporter's current "
                        "consent. "
                        "Record the consent first."
                    )
                }
            )
        if not current.involves_third_party:
            chosen = current.consent
        Step.objects.filter(pk=current.pk).update(done_on=done_on, consent=chosen)
        current.done_on, current.consent = done_on, chosen
        _log(actor, Action.UPDATE, locked, "step done")
    return current


def referral_add(
    *,
    actor: User,
    case: Case,
    target: str,
    consent: ConsentRecord | None,
    referred_on: datetime.date | None = None,
    note: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> Referral:
    """Record a referral; it needs the reporter's current consent for it (read under the lock)."""
    target = rules.choice(target, field="target", choices=Referral.Target.values)
    referred_on = rules.past_date(
        referred_on or timezone.localdate(), field="referred_on", not_before=case.opened_on
    )
    note = rules.text(note, field="note")
    if consent is not None and consent.case_id != case.pk:
        raise ValueError("The consent belongs to another case.")
    with transaction.atomic():
        locked = case_for_change(case)
        current = ConsentRecord.objects.filter(pk=consent.pk).first() if consent else None
        accepted = REFERRAL_SCOPES.get(target, {ConsentRecord.Scope.REFERRAL})
        if current is None or not current.is_current(referred_on) or current.scope not in accepted:
            raise ValidationError(
                {
                    "consent": _(
                        "A referral needs the reporter's current consent for it. "
                        "Record the consent first."
                    )
                }
            )
        submission_claim(submission_key, "referral", locked.reference)
        referral = Referral.objects.create(
            case=locked,
            target=target,
            referred_on=referred_on,
            consent=current,
            note=note,
            adviser_id=actor.pk,
        )
        _log(actor, Action.UPDATE, locked, f"referral added ({target})")
        counted_fact_changed()
    return referral


def followup_add(
    *,
    actor: User,
    case: Case,
    due_on: datetime.date,
    description: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> FollowUp:
    """Plan an aftercare check-in; it shows on the adviser's day when due."""
    if due_on is None:
        raise ValidationError({"due_on": _("Enter a date.")})
    due_on = rules.planned_date(
        due_on, field="due_on", ahead_days=rules.MAX_FOLLOWUP_AHEAD_DAYS, not_before=case.opened_on
    )
    description = rules.text(description, field="description")
    with transaction.atomic():
        locked = case_for_change(case)
        submission_claim(submission_key, "followup", locked.reference)
        followup = FollowUp.objects.create(
            case=locked, due_on=due_on, description=description, adviser_id=actor.pk
        )
        _log(actor, Action.UPDATE, locked, "follow-up planned")
        _index(locked)
    return followup


def followup_mark_done(
    *, actor: User, case: Case, followup: FollowUp, done_on: datetime.date | None = None
) -> FollowUp:
    if followup.case_id != case.pk:
        raise ValueError("The follow-up belongs to another case.")
    done_on = rules.past_date(
        done_on or timezone.localdate(), field="done_on", not_before=case.opened_on
    )
    with transaction.atomic():
        locked = case_for_change(case, closed_ok=True)
        current = FollowUp.objects.get(pk=followup.pk)
        if current.done_on is not None:
            return current
        FollowUp.objects.filter(pk=current.pk).update(done_on=done_on)
        current.done_on = done_on
        _log(actor, Action.UPDATE, locked, "follow-up done")
        _index(locked)
    return current


def time_entry_add(
    *,
    actor: User,
    case: Case,
    worked_on: datetime.date,
    minutes: int,
    billable: bool = True,
    description: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> TimeEntry:
    """Record time spent on a case outside conversations (calls, letters, consultation).

    Allowed on a closed case (the letter after closing), not on an erased one."""
    worked_on = rules.past_date(worked_on, field="worked_on", not_before=case.opened_on)
    minutes = rules.minutes(minutes, field="minutes", maximum=rules.MAX_TIME_ENTRY_MINUTES)
    description = rules.text(description, field="description", limit=rules.MAX_SHORT_TEXT_CHARS)
    with transaction.atomic():
        locked = case_for_change(case, closed_ok=True)
        submission_claim(submission_key, "time", locked.reference)
        entry = TimeEntry.objects.create(
            case=locked,
            worked_on=worked_on,
            minutes=minutes,
            billable=bool(billable),
            description=description,
            adviser_id=actor.pk,
        )
        _log(actor, Action.UPDATE, locked, "time recorded")
        _minutes(actor.pk, worked_on)
        counted_fact_changed()
    return entry


def note_add(
    *, actor: User, case: Case, text: str, submission_key: uuid.UUID | str | None = None
) -> Note:
    """Add a note; allowed on a closed case, not on an erased one."""
    text = rules.text(text, field="text", required=True)
    with transaction.atomic():
        locked = case_for_change(case, closed_ok=True)
        submission_claim(submission_key, "note", locked.reference)
        note = Note.objects.create(case=locked, text=text, author_id=actor.pk)
        _log(actor, Action.UPDATE, locked, "note added")
    return note
