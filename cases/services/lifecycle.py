"""A case's phases, its closure and its handover to another adviser."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import rules
from cases.models import Case, ConsentRecord, Outcome, Referral
from cases.selectors import retention_months
from cases.services._common import (
    OPEN_PHASES,
    Action,
    _index,
    _log,
    _touch,
    case_for_change,
    client_is_belgian,
    counted_fact_changed,
    outcome_allowed,
)
from cases.services.events import referral_add
from tenants.access import serves_client
from tenants.current import current_client

if TYPE_CHECKING:
    from accounts.models import User


def case_move_phase(*, actor: User, case: Case, phase: str, expected_version: int) -> Case:
    """Move an open case to another open phase (closing is `case_close`)."""
    phase = rules.choice(phase, field="phase", choices=OPEN_PHASES)
    with transaction.atomic():
        locked = case_for_change(case, expected_version=expected_version)
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
    actor: User,
    case: Case,
    outcome: str,
    expected_version: int,
    closed_on: datetime.date | None = None,
) -> Case:
    """Close the case with an outcome; sets the retention deadline (client, else firm setting)."""
    outcome = rules.choice(outcome, field="outcome", choices=Outcome.values)
    closed_on = rules.past_date(
        closed_on or timezone.localdate(), field="closed_on", not_before=case.opened_on
    )
    outcome_allowed(outcome)
    retention_until = rules.add_months(closed_on, retention_months())
    with transaction.atomic():
        locked = case_for_change(case, expected_version=expected_version)
        if (
            outcome == Outcome.HANDED_TO_PAPS
            and not locked.referrals.filter(target=Referral.Target.PAPS).exists()
        ):
            raise ValidationError(
                {
                    "outcome": _(
                        "Record the hand-over to the PAPS first, with the reporter's consent."
                    )
                }
            )
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
        counted_fact_changed()
    return locked


def case_paps_handover(
    *,
    actor: User,
    case: Case,
    consent: ConsentRecord | None,
    expected_version: int,
    handed_on: datetime.date | None = None,
    note: str = "",
) -> Referral:
    """Belgium: hand the case over to the PAPS, who handles formal requests.

    Needs the reporter's current consent (for a referral or for the PAPS), like any referral
    (`referral_add` checks it under the lock); records a referral to the PAPS and moves the
    case to the referral phase. Closing it with the outcome "handed over to the PAPS" is the
    adviser's next step (`case_close`).
    """
    if not client_is_belgian():
        raise ValidationError(_("Handing a case over to the PAPS applies to Belgian clients only."))
    with transaction.atomic():
        locked = case_for_change(case, expected_version=expected_version)
        if locked.referrals.filter(target=Referral.Target.PAPS).exists():
            raise ValidationError(_("This case was already handed over to the PAPS."))
        referral = referral_add(
            actor=actor,
            case=locked,
            target=Referral.Target.PAPS,
            consent=consent,
            referred_on=handed_on,
            note=note,
        )
        if locked.phase != Case.Phase.REFERRAL:
            Case.objects.filter(pk=locked.pk).update(phase=Case.Phase.REFERRAL)
            locked.phase = Case.Phase.REFERRAL
        _touch(locked)
        _log(actor, Action.UPDATE, locked, "handed over to the PAPS")
        _index(locked)
    case.phase, case.version = locked.phase, locked.version
    return referral


def case_handover(
    *, actor: User, case: Case, to_adviser: User, expected_version: int | None = None
) -> Case:
    """Hand the case to another adviser assigned to this client today: explicit and logged.

    Reading rights follow assignments: the previous adviser keeps access only while still
    assigned to the client. A closed case can be handed over, an erased one not.
    """
    client = current_client()
    if not serves_client(to_adviser, client_id=client.client_id, firm_id=client.firm_id):
        raise ValidationError(
            {"adviser": _("Choose an adviser who is assigned to this client organisation.")}
        )
    with transaction.atomic():
        locked = case_for_change(case, expected_version=expected_version, closed_ok=True)
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
        counted_fact_changed()
    return locked
