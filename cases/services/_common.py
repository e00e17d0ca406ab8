"""What every case service shares: the guard that locks a case, the form-key claim, the access
log, the work index and the rollup request. Not imported from outside `cases.services`."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

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
    ConsentRecord,
    FollowUp,
    FormSubmission,
    Outcome,
    Referral,
    Theme,
    TimeEntry,
)
from reports.rollups import rollup_request
from tenants.current import current_client
from workindex import services as workindex

if TYPE_CHECKING:
    from accounts.models import User

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
REFERRAL_SCOPES: dict[str, set[str]] = {
    Referral.Target.HR: {ConsentRecord.Scope.REFERRAL, ConsentRecord.Scope.TALK_TO_HR},
    Referral.Target.MANAGEMENT: {ConsentRecord.Scope.REFERRAL, ConsentRecord.Scope.TALK_TO_MANAGER},
    Referral.Target.COMPLAINTS_COMMITTEE: {
        ConsentRecord.Scope.REFERRAL,
        ConsentRecord.Scope.COMPLAINTS_COMMITTEE,
    },
    Referral.Target.PAPS: {ConsentRecord.Scope.REFERRAL, ConsentRecord.Scope.PAPS},
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

# The case fields the portfolio's rollups count (reports.rollups.rollup_rows_current).
COUNTED_FIELDS = {"case_type", "themes", "reporter_role", "accused_relation", "channel"}


# --- the guard ---------------------------------------------------------------------------------


def case_for_change(
    case: Case,
    *,
    expected_version: int | None = None,
    closed_ok: bool = False,
    erased_message: str | None = None,
) -> Case:
    """The one guard of every case service: lock the case row, then check its state on it.

    Call it first inside the service's transaction and work on what it returns, never on the
    caller's copy (loaded before the request waited, possibly before an erasure or closure
    committed). Refuses an erased (or retention-destroyed) case, a closed one unless
    `closed_ok`, and a stale `expected_version` (EditConflict), in that order.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("case_for_change must run inside the service's transaction.")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.is_stripped:
        raise ValidationError(
            erased_message or _("This case was erased; nothing can be added to it.")
        )
    if locked.is_closed and not closed_ok:
        raise ValidationError(_("This case is closed; nothing can be added to it."))
    if expected_version is not None and locked.version != expected_version:
        raise EditConflict(locked.version)
    return locked


def client_is_belgian() -> bool:
    """Whether Belgian rules apply to the current client organisation (one query).

    Read from the row, not from the routing cache's copy of the tenant: a country changed a
    moment ago applies at once.
    """
    from tenants.models import ClientOrganisation

    return ClientOrganisation.objects.filter(
        pk=current_client().client_id, country=ClientOrganisation.Country.BELGIUM
    ).exists()


def outcome_allowed(outcome: str, *, field: str = "outcome") -> None:
    """Refuse outcomes the client's country does not know (see DOMAIN.md, Belgium)."""
    if outcome not in (Outcome.FORMAL_COMPLAINT, Outcome.HANDED_TO_PAPS):
        return
    belgian = client_is_belgian()
    if outcome == Outcome.FORMAL_COMPLAINT and belgian:
        raise ValidationError(
            {
                field: _(
                    "In Belgium a formal request is handled by the prevention adviser for "
                    "psychosocial aspects (PAPS), not by the confidential adviser: hand the case "
                    "over to the PAPS instead."
                )
            }
        )
    if outcome == Outcome.HANDED_TO_PAPS and not belgian:
        raise ValidationError(
            {field: _("Handing a case over to the PAPS applies to Belgian clients only.")}
        )


def counted_fact_changed() -> None:
    """A fact the portfolio counts changed (a case's categories, adviser or outcome, a referral,
    time): rebuild this client's rollups after commit. Services call it themselves, once."""
    rollup_request()


# --- helpers -----------------------------------------------------------------------------------


class SystemActor:
    """Who acts when no person does (a scheduled job): named in the access log."""

    pk: int | None = None

    def __init__(self, email: str) -> None:
        self.email = email


def _log(actor: User | SystemActor, action: str, case: Case | str, detail: str = "") -> None:
    reference = case if isinstance(case, str) else case.reference
    access_log_write(
        actor=actor, action=action, object_type="case", object_reference=reference, detail=detail
    )


def submission_claim(
    submission_key: uuid.UUID | str | None, kind: str, reference: str = ""
) -> uuid.UUID | None:
    """Record a form's idempotency key in the caller's transaction (returned), or raise
    DuplicateSubmission naming what the first submission made. Every form on a client host that
    adds something claims its key here (cases, sparring, the board's signals and activities)."""
    if not submission_key:
        return None
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
    return key


def submission_link(key: uuid.UUID | None, reference: str) -> None:
    """Name what a claimed submission made, once it exists (a new thread, signal or case)."""
    if key is not None:
        FormSubmission.objects.filter(key=key).update(reference=reference)


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
