"""State changes of case files: one transactional entry point per change.

Each service validates fully before writing (bad input raises `ValidationError`, keyed by field
where there is one, and changes nothing), writes one access-log row, and brings the public work
index up to date in the same transaction, so the index never shows a change that rolled back.
Authorisation is the caller's: views fetch the case with `selectors.case_get_for_user` first.

Forms carry an idempotency key (`submission_key`); a repeated key raises `DuplicateSubmission`
and adds nothing. Edits of the case row carry the version the form was based on; a stale
version raises `EditConflict` and changes nothing.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AccessLogEntry
from audit.services import access_log_write
from cases import rules
from cases.models import (
    ACKNOWLEDGEMENT_DAYS,
    FEEDBACK_MONTHS,
    Case,
    CaseSettings,
    CaseType,
    ConsentRecord,
    Conversation,
    FollowUp,
    FormSubmission,
    InternalRegistration,
    Note,
    Outcome,
    Referral,
    Step,
    Theme,
    TimeEntry,
)
from cases.selectors import current_client, retention_months
from tenants.models import Assignment, FirmMembership
from workindex import services as workindex

logger = logging.getLogger(__name__)
Action = AccessLogEntry.Action


class DuplicateSubmission(Exception):
    """This form was submitted before; `reference` is the case it concerned."""

    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class EditConflict(ValidationError):
    """Somebody changed the case since the form was loaded; nothing was saved."""

    def __init__(self, current_version: int) -> None:
        super().__init__(
            _(
                "Another adviser changed this case while you were editing it. Nothing was saved: "
                "check the current details below, then submit your changes again."
            )
        )
        self.current_version = current_version


OPEN_PHASES = [phase for phase in Case.Phase.values if phase != Case.Phase.CLOSED]
# Which consents cover a referral to whom: a referral always needs the reporter's consent.
REFERRAL_SCOPES = {
    Referral.Target.HR: {ConsentRecord.Scope.REFERRAL, ConsentRecord.Scope.TALK_TO_HR},
    Referral.Target.MANAGEMENT: {ConsentRecord.Scope.REFERRAL, ConsentRecord.Scope.TALK_TO_MANAGER},
    Referral.Target.COMPLAINTS_COMMITTEE: {
        ConsentRecord.Scope.REFERRAL,
        ConsentRecord.Scope.COMPLAINTS_COMMITTEE,
    },
}
CASE_EDITABLE = {
    "case_type",
    "themes",
    "reporter_role",
    "reporter_gender",
    "reporter_identity",
    "reporter_department",
    "accused_relation",
    "people_involved",
    "repeated",
    "channel",
    "period",
    "report_received_on",
    "acknowledged_on",
    "feedback_given_on",
}


# --- helpers -----------------------------------------------------------------------------------


def _log(actor: Any, action: str, case: Case | str, detail: str = "") -> None:
    reference = case if isinstance(case, str) else case.reference
    access_log_write(
        actor=actor, action=action, object_type="case", object_reference=reference, detail=detail
    )


def _claim(submission_key: uuid.UUID | str | None, kind: str, reference: str = "") -> None:
    """Record the form's idempotency key, or raise DuplicateSubmission when it was used before."""
    if not submission_key:
        return
    try:
        key = uuid.UUID(str(submission_key))
    except ValueError:
        raise ValidationError(_("This form is damaged; reload the page and try again.")) from None
    try:
        with transaction.atomic():
            FormSubmission.objects.create(key=key, kind=kind, reference=reference)
    except IntegrityError:
        earlier = FormSubmission.objects.filter(key=key).values_list("reference", flat=True).first()
        raise DuplicateSubmission(earlier or reference) from None


def _open(case: Case) -> None:
    if case.is_stripped:
        raise ValidationError(_("This case was erased; nothing can be added to it."))
    if case.is_closed:
        raise ValidationError(_("This case is closed; nothing can be added to it."))


def _locked(case: Case, expected_version: int | None = None) -> Case:
    """The case row locked for this transaction; EditConflict when its version moved on."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise EditConflict(locked.version)
    return locked


def _touch(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1, updated_at=timezone.now())
    case.version += 1


def _themes(themes: Iterable[Theme | int | str], *, kept: Iterable[int] = ()) -> list[Theme]:
    """The chosen themes: active ones, or ones in `kept` (a case keeps a theme the firm hid)."""
    ids = set()
    for theme in themes:
        try:
            ids.add(theme.pk if isinstance(theme, Theme) else int(theme))
        except (TypeError, ValueError):
            raise ValidationError({"themes": _("Choose one of the options.")}) from None
    found = list(Theme.objects.filter(Q(is_active=True) | Q(pk__in=list(kept))).filter(pk__in=ids))
    if not ids:
        raise ValidationError({"themes": _("Choose at least one theme.")})
    if len(found) != len(ids):
        raise ValidationError({"themes": _("Choose one of the options.")})
    return found


def _index(case: Case) -> None:
    """Bring the case's row in the public work index up to date (or remove it once closed)."""
    client_id = current_client().client_id
    if case.is_closed or case.is_stripped:
        workindex.entry_remove(client_id=client_id, reference=case.reference)
        return
    followup_due = (
        FollowUp.objects.filter(case_id=case.pk, done_on__isnull=True)
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
    workindex.entries_put(client_id=client_id, states=[index_state(case, followup_due)])


def index_state(case: Case, followup_due_on: datetime.date | None) -> workindex.EntryState:
    return workindex.EntryState(
        reference=case.reference,
        phase=case.phase,
        case_type=case.case_type,
        adviser_id=case.adviser_id,
        opened_on=case.opened_on,
        next_conversation_on=case.next_conversation_on,
        followup_due_on=followup_due_on,
        acknowledgement_due_on=case.acknowledgement_due if case.acknowledged_on is None else None,
        feedback_due_on=case.feedback_due if case.feedback_given_on is None else None,
    )


def _minutes(adviser_id: int, day: datetime.date) -> None:
    """Recount an adviser's minutes for this client in the month of `day`, into the index."""
    month = day.replace(day=1)
    following = rules.add_months(month, 1)
    totals = TimeEntry.objects.filter(
        adviser_id=adviser_id, worked_on__gte=month, worked_on__lt=following
    ).aggregate(total=Sum("minutes"), billable_total=Sum("minutes", filter=Q(billable=True)))
    workindex.minutes_put(
        client_id=current_client().client_id,
        adviser_id=adviser_id,
        month=month,
        minutes=totals["total"] or 0,
        billable_minutes=totals["billable_total"] or 0,
    )


def next_reference(year: int) -> str:
    """Hand out the next case number of `year`, e.g. "2026-0042" (one atomic upsert)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_casecounter (year, last_number) VALUES (%s, 1) "
            "ON CONFLICT (year) DO UPDATE SET last_number = cases_casecounter.last_number + 1 "
            "RETURNING last_number",
            [year],
        )
        number = cursor.fetchone()[0]
    return f"{year}-{number:04d}"


def _whistleblower_deadlines(
    received_on: datetime.date | None,
) -> tuple[datetime.date | None, datetime.date | None]:
    if received_on is None:
        return None, None
    return (
        received_on + datetime.timedelta(days=ACKNOWLEDGEMENT_DAYS),
        rules.add_months(received_on, FEEDBACK_MONTHS),
    )


# --- opening and editing -----------------------------------------------------------------------


def case_open(
    *,
    actor: Any,
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
        _claim(submission_key, "case_open")
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
        if submission_key:
            FormSubmission.objects.filter(key=submission_key).update(reference=case.reference)
        _log(actor, Action.CREATE, case, "opened")
        _index(case)
    return case


def case_update(*, actor: Any, case: Case, expected_version: int, **fields: Any) -> Case:
    """Change the case's own details; refuses a stale `expected_version` (EditConflict)."""
    unknown = set(fields) - CASE_EDITABLE
    if unknown:
        raise ValueError(f"Cannot change {sorted(unknown)} with case_update.")
    if case.is_stripped:
        raise ValidationError(_("This case was erased; its details can no longer be changed."))
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
        locked = _locked(case, expected_version)
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
    return locked


def conversation_plan(*, actor: Any, case: Case, on: datetime.date | None) -> Case:
    """Plan (or, with None, unplan) the next conversation; shows on the adviser's day."""
    _open(case)
    on = rules.planned_date(on, field="on", ahead_days=rules.MAX_PLAN_AHEAD_DAYS)
    with transaction.atomic():
        locked = _locked(case)
        Case.objects.filter(pk=case.pk).update(next_conversation_on=on)
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


# --- what happens in a case --------------------------------------------------------------------


def conversation_add(
    *,
    actor: Any,
    case: Case,
    held_on: datetime.date,
    duration_minutes: int,
    summary: str = "",
    next_steps: str = "",
    billable: bool = True,
    submission_key: uuid.UUID | str | None = None,
) -> Conversation:
    """Record a conversation and the time it took (a time entry of the same length)."""
    _open(case)
    held_on = rules.past_date(held_on, field="held_on", not_before=case.opened_on)
    duration_minutes = rules.minutes(
        duration_minutes, field="duration_minutes", maximum=rules.MAX_CONVERSATION_MINUTES
    )
    summary = rules.text(summary, field="summary")
    next_steps = rules.text(next_steps, field="next_steps")
    with transaction.atomic():
        _claim(submission_key, "conversation", case.reference)
        locked = _locked(case)
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
    return conversation


def consent_record(
    *,
    actor: Any,
    case: Case,
    scope: str,
    third_party: str = "",
    given_on: datetime.date | None = None,
    submission_key: uuid.UUID | str | None = None,
) -> ConsentRecord:
    """Record the reporter's consent for a step involving a third party."""
    _open(case)
    scope = rules.choice(scope, field="scope", choices=ConsentRecord.Scope.values)
    third_party = rules.text(third_party, field="third_party", limit=rules.MAX_SHORT_TEXT_CHARS)
    given_on = rules.past_date(
        given_on or timezone.localdate(), field="given_on", not_before=case.opened_on
    )
    with transaction.atomic():
        _claim(submission_key, "consent", case.reference)
        consent = ConsentRecord.objects.create(
            case=case,
            scope=scope,
            third_party=third_party,
            given_on=given_on,
            recorded_by_id=actor.pk,
        )
        _log(actor, Action.UPDATE, case, f"consent recorded ({scope})")
    return consent


def consent_withdraw(
    *, actor: Any, case: Case, consent: ConsentRecord, withdrawn_on: datetime.date | None = None
) -> ConsentRecord:
    """Record that the reporter withdrew a consent; steps not yet done can no longer rely on it."""
    if consent.case_id != case.pk:
        raise ValueError("The consent belongs to another case.")
    if case.is_stripped:
        raise ValidationError(_("This case was erased; nothing can be added to it."))
    withdrawn_on = rules.past_date(
        withdrawn_on or timezone.localdate(), field="withdrawn_on", not_before=consent.given_on
    )
    if consent.withdrawn_on is not None:
        return consent
    with transaction.atomic():
        ConsentRecord.objects.filter(pk=consent.pk).update(withdrawn_on=withdrawn_on)
        consent.withdrawn_on = withdrawn_on
        _log(actor, Action.UPDATE, case, f"consent withdrawn ({consent.scope})")
    return consent


def step_add(
    *,
    actor: Any,
    case: Case,
    description: str,
    involves_third_party: bool = False,
    submission_key: uuid.UUID | str | None = None,
) -> Step:
    """Add an agreed step; one that involves a third party will need a current consent."""
    _open(case)
    description = rules.text(description, field="description", required=True)
    with transaction.atomic():
        _claim(submission_key, "step", case.reference)
        step = Step.objects.create(
            case=case,
            description=description,
            involves_third_party=bool(involves_third_party),
            adviser_id=actor.pk,
        )
        _log(actor, Action.UPDATE, case, "step added")
    return step


def step_mark_done(
    *,
    actor: Any,
    case: Case,
    step: Step,
    consent: ConsentRecord | None = None,
    done_on: datetime.date | None = None,
) -> Step:
    """Mark a step done. No current consent of the reporter, no step with a third party."""
    if step.case_id != case.pk or (consent is not None and consent.case_id != case.pk):
        raise ValueError("The step or consent belongs to another case.")
    _open(case)
    if step.done_on is not None:
        return step
    done_on = rules.past_date(
        done_on or timezone.localdate(), field="done_on", not_before=case.opened_on
    )
    if step.involves_third_party:
        consent = consent or step.consent
        if consent is None or not consent.is_current(done_on):
            raise ValidationError(
                {
                    "consent": _(
                        "This step involves a third party: it needs the reporter's current "
                        "consent. "
                        "Record the consent first."
                    )
                }
            )
    else:
        consent = step.consent
    with transaction.atomic():
        Step.objects.filter(pk=step.pk).update(done_on=done_on, consent=consent)
        step.done_on, step.consent = done_on, consent
        _log(actor, Action.UPDATE, case, "step done")
    return step


def referral_add(
    *,
    actor: Any,
    case: Case,
    target: str,
    consent: ConsentRecord | None,
    referred_on: datetime.date | None = None,
    note: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> Referral:
    """Record a referral; it needs the reporter's current consent for it."""
    _open(case)
    target = rules.choice(target, field="target", choices=Referral.Target.values)
    referred_on = rules.past_date(
        referred_on or timezone.localdate(), field="referred_on", not_before=case.opened_on
    )
    note = rules.text(note, field="note")
    if consent is not None and consent.case_id != case.pk:
        raise ValueError("The consent belongs to another case.")
    accepted = REFERRAL_SCOPES.get(target, {ConsentRecord.Scope.REFERRAL})
    if consent is None or not consent.is_current(referred_on) or consent.scope not in accepted:
        raise ValidationError(
            {
                "consent": _(
                    "A referral needs the reporter's current consent for it. "
                    "Record the consent first."
                )
            }
        )
    with transaction.atomic():
        _claim(submission_key, "referral", case.reference)
        referral = Referral.objects.create(
            case=case,
            target=target,
            referred_on=referred_on,
            consent=consent,
            note=note,
            adviser_id=actor.pk,
        )
        _log(actor, Action.UPDATE, case, f"referral added ({target})")
    return referral


def followup_add(
    *,
    actor: Any,
    case: Case,
    due_on: datetime.date,
    description: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> FollowUp:
    """Plan an aftercare check-in; it shows on the adviser's day when due."""
    _open(case)
    if due_on is None:
        raise ValidationError({"due_on": _("Enter a date.")})
    due_on = rules.planned_date(
        due_on, field="due_on", ahead_days=rules.MAX_FOLLOWUP_AHEAD_DAYS, not_before=case.opened_on
    )
    description = rules.text(description, field="description")
    with transaction.atomic():
        _claim(submission_key, "followup", case.reference)
        followup = FollowUp.objects.create(
            case=case, due_on=due_on, description=description, adviser_id=actor.pk
        )
        _log(actor, Action.UPDATE, case, "follow-up planned")
        _index(case)
    return followup


def followup_mark_done(
    *, actor: Any, case: Case, followup: FollowUp, done_on: datetime.date | None = None
) -> FollowUp:
    if followup.case_id != case.pk:
        raise ValueError("The follow-up belongs to another case.")
    if case.is_stripped:
        raise ValidationError(_("This case was erased; nothing can be added to it."))
    if followup.done_on is not None:
        return followup
    done_on = rules.past_date(
        done_on or timezone.localdate(), field="done_on", not_before=case.opened_on
    )
    with transaction.atomic():
        FollowUp.objects.filter(pk=followup.pk).update(done_on=done_on)
        followup.done_on = done_on
        _log(actor, Action.UPDATE, case, "follow-up done")
        _index(case)
    return followup


def time_entry_add(
    *,
    actor: Any,
    case: Case,
    worked_on: datetime.date,
    minutes: int,
    billable: bool = True,
    description: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> TimeEntry:
    """Record time spent on a case outside conversations (calls, letters, consultation)."""
    if case.is_stripped:
        raise ValidationError(_("This case was erased; nothing can be added to it."))
    worked_on = rules.past_date(worked_on, field="worked_on", not_before=case.opened_on)
    minutes = rules.minutes(minutes, field="minutes", maximum=rules.MAX_TIME_ENTRY_MINUTES)
    description = rules.text(description, field="description", limit=rules.MAX_SHORT_TEXT_CHARS)
    with transaction.atomic():
        _claim(submission_key, "time", case.reference)
        entry = TimeEntry.objects.create(
            case=case,
            worked_on=worked_on,
            minutes=minutes,
            billable=bool(billable),
            description=description,
            adviser_id=actor.pk,
        )
        _log(actor, Action.UPDATE, case, "time recorded")
        _minutes(actor.pk, worked_on)
    return entry


def note_add(
    *, actor: Any, case: Case, text: str, submission_key: uuid.UUID | str | None = None
) -> Note:
    if case.is_stripped:
        raise ValidationError(_("This case was erased; nothing can be added to it."))
    text = rules.text(text, field="text", required=True)
    with transaction.atomic():
        _claim(submission_key, "note", case.reference)
        note = Note.objects.create(case=case, text=text, author_id=actor.pk)
        _log(actor, Action.UPDATE, case, "note added")
    return note


# --- phases, closing, handover -----------------------------------------------------------------


def case_move_phase(*, actor: Any, case: Case, phase: str, expected_version: int) -> Case:
    """Move an open case to another open phase (closing is `case_close`)."""
    _open(case)
    phase = rules.choice(phase, field="phase", choices=OPEN_PHASES)
    with transaction.atomic():
        locked = _locked(case, expected_version)
        if locked.phase == phase:
            return locked
        previous = locked.phase
        Case.objects.filter(pk=locked.pk).update(phase=phase)
        locked.phase = phase
        _touch(locked)
        _log(actor, Action.UPDATE, locked, f"phase {previous} → {phase}")
        _index(locked)
    return locked


def case_close(
    *,
    actor: Any,
    case: Case,
    outcome: str,
    expected_version: int,
    closed_on: datetime.date | None = None,
) -> Case:
    """Close the case with an outcome; sets the retention deadline (client, else firm setting)."""
    _open(case)
    outcome = rules.choice(outcome, field="outcome", choices=Outcome.values)
    closed_on = rules.past_date(
        closed_on or timezone.localdate(), field="closed_on", not_before=case.opened_on
    )
    retention_until = rules.add_months(closed_on, retention_months())
    with transaction.atomic():
        locked = _locked(case, expected_version)
        Case.objects.filter(pk=locked.pk).update(
            phase=Case.Phase.CLOSED,
            outcome=outcome,
            closed_on=closed_on,
            retention_until=retention_until,
        )
        locked.phase, locked.outcome = Case.Phase.CLOSED, outcome
        locked.closed_on, locked.retention_until = closed_on, retention_until
        _touch(locked)
        _log(
            actor,
            Action.UPDATE,
            locked,
            f"closed ({outcome}), kept until {retention_until.isoformat()}",
        )
        _index(locked)
    return locked


def case_handover(
    *, actor: Any, case: Case, to_adviser: Any, expected_version: int | None = None
) -> Case:
    """Hand the case to another adviser assigned to this client today: explicit and logged.

    Reading rights follow assignments: the previous adviser keeps access only while still
    assigned to the client.
    """
    client = current_client()
    today = timezone.localdate()
    assigned = (
        Assignment.objects.filter(
            adviser=to_adviser, client_id=client.client_id, starts_on__lte=today
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .exists()
    )
    is_adviser = FirmMembership.objects.filter(
        user=to_adviser, firm_id=client.firm_id, role=FirmMembership.Role.ADVISER
    ).exists()
    if not (assigned and is_adviser and to_adviser.is_active):
        raise ValidationError(
            {"adviser": _("Choose an adviser who is assigned to this client organisation.")}
        )
    if case.is_stripped:
        raise ValidationError(_("This case was erased; nothing can be added to it."))
    with transaction.atomic():
        locked = _locked(case, expected_version)
        if locked.adviser_id == to_adviser.pk:
            return locked
        from accounts.models import User

        previous = User.objects.filter(pk=locked.adviser_id).values_list("email", flat=True).first()
        Case.objects.filter(pk=locked.pk).update(adviser_id=to_adviser.pk)
        locked.adviser_id = to_adviser.pk
        _touch(locked)
        _log(
            actor,
            Action.HANDOVER,
            locked,
            f"from {previous or locked.adviser_id} to {to_adviser.email}",
        )
        _index(locked)
    return locked


# --- erasure, retention, export ----------------------------------------------------------------


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


def case_erase(*, actor: Any, case: Case) -> Case:
    """Erase a case on the reporter's request, keeping only what the anonymous counts need.

    Kept: type, themes, reporter's role, relation of the accused, channel, period, phase,
    outcome, dates, durations and minutes, referral targets, consent scopes. An open case is
    closed as withdrawn on the way.
    """
    if case.is_stripped:
        return case
    today = timezone.localdate()
    with transaction.atomic():
        locked = _locked(case)
        if not locked.is_closed:
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
    return locked


class _RetentionActor:
    pk = None
    email = "retention"


def retention_destroy_due(
    *, today: datetime.date | None = None, batch_size: int = 200
) -> list[str]:
    """Destroy the narrative of closed cases whose retention deadline has passed. Idempotent.

    Runs inside one client's schema (the retention task carries it). Returns the references it
    stripped; a second run finds nothing left to do. Each batch commits on its own, so an
    interruption keeps the work done so far.
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
                    _log(_RetentionActor(), Action.DESTROY, reference, "retention deadline passed")
    if due:
        logger.info(
            "Retention: destroyed the narrative of %d case(s) in %s",
            len(due),
            connection.schema_name,
        )
    return [reference for _pk, reference in due]


def case_export(*, actor: Any, case: Case) -> dict[str, Any]:
    """Everything held about one case, for a reporter's access request (logged as EXPORT)."""
    from cases import exports

    data = exports.case_data(case)
    _log(actor, Action.EXPORT, case, "exported for an access request")
    return data


# --- internal advisers and settings ------------------------------------------------------------


def internal_registration_add(
    *,
    actor: Any,
    month: datetime.date,
    case_type: str,
    themes: Iterable[Theme | int | str],
    outcome: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> InternalRegistration:
    """Count one contact of an internal adviser: type, themes, outcome and month, nothing else."""
    if month is None:
        raise ValidationError({"month": _("Enter a month.")})
    month = month.replace(day=1)
    today = timezone.localdate()
    if month > today:
        raise ValidationError({"month": _("This month is in the future.")})
    if month < today.replace(day=1, year=today.year - 2):
        raise ValidationError({"month": _("This month is more than two years ago.")})
    case_type = rules.choice(case_type, field="case_type", choices=CaseType.values)
    outcome = rules.choice(outcome, field="outcome", choices=Outcome.values, required=False)
    chosen = _themes(themes)
    with transaction.atomic():
        _claim(submission_key, "internal_registration")
        registration = InternalRegistration.objects.create(
            month=month, case_type=case_type, outcome=outcome, registered_by_id=actor.pk
        )
        registration.themes.set(chosen)
        access_log_write(
            actor=actor,
            action=Action.CREATE,
            object_type="internal_registration",
            object_reference=f"{month:%Y-%m}",
            detail="anonymous count",
        )
    return registration


def case_settings_update(*, actor: Any, retention_months: int | None) -> CaseSettings:
    """Set this client's retention after closure (None: follow the firm's setting)."""
    if retention_months is not None and (
        isinstance(retention_months, bool) or not 0 <= retention_months <= 120
    ):
        raise ValidationError({"retention_months": _("Enter a number of months from 0 to 120.")})
    with transaction.atomic():
        settings_row = CaseSettings.objects.select_for_update().first() or CaseSettings()
        settings_row.retention_months = retention_months
        settings_row.updated_at = timezone.now()
        settings_row.save()
        access_log_write(
            actor=actor,
            action=Action.UPDATE,
            object_type="case_settings",
            object_reference="retention",
            detail="retention "
            + (str(retention_months) if retention_months is not None else "firm default"),
        )
    return settings_row
