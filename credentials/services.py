"""Writes of the credentials register and of internal advisers' appointments.

One transactional entry point per change; each validates fully first (ValidationError with a
translated message, nothing written) and locks the rows it changes.
"""

from __future__ import annotations

import datetime
import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from credentials.models import (
    AdviserCredential,
    CredentialPolicy,
    InternalAdviserAppointment,
    TrainingEntry,
)
from tenants.dates import years_later
from tenants.models import ClientMembership, ClientOrganisation, Firm, FirmMembership
from tenants.validators import date_clean

logger = logging.getLogger(__name__)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

# Why each declaration refuses: the law's words, for the person filling in the form.
REFUSALS = {
    "works_council_member": gettext_lazy(
        "A member of the works council cannot be an internal confidential adviser in Belgium."
    ),
    "prevention_committee_member": gettext_lazy(
        "A member of the committee for prevention and protection at work cannot be an internal "
        "confidential adviser in Belgium."
    ),
    "union_delegate": gettext_lazy(
        "A member of the union delegation cannot be an internal confidential adviser in Belgium."
    ),
    "election_candidate": gettext_lazy(
        "A candidate in the social elections cannot be an internal confidential adviser in Belgium."
    ),
    "management": gettext_lazy(
        "A member of management (someone who runs the business day to day and may represent "
        "the employer) cannot be an internal confidential adviser in Belgium. Choose another "
        "person."
    ),
}


def _date(value: Any, *, field: str, required: bool = True) -> datetime.date | None:
    return date_clean(value, field=field, required=required)


def _past(value: datetime.date | None, *, field: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError({field: _("This date is in the future.")})


def _short_text(value: Any, *, field: str, limit: int, required: bool) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError({field: _("This text contains control characters; remove them.")})
    if len(value) > limit:
        raise ValidationError({field: _("At most %(limit)s characters.") % {"limit": limit}})
    return value


def _hours(value: Any, *, field: str, maximum: Decimal) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number of hours.")}) from None
    if not hours.is_finite() or hours < Decimal("0") or hours > maximum:
        raise ValidationError(
            {field: _("Enter a number of hours between 0 and %(max)s.") % {"max": maximum}}
        )
    return hours.quantize(Decimal("0.1"))


def policy_for(firm: Firm) -> CredentialPolicy:
    """The firm's requirements (an unsaved row with the LVV defaults when it set none)."""
    return CredentialPolicy.objects.filter(firm=firm).first() or CredentialPolicy(firm=firm)


def policy_set(
    *,
    actor: User,
    firm: Firm,
    certificate_years: int,
    required_hours: Any,
    required_intervision_hours: Any,
    reminder_days: int,
) -> CredentialPolicy:
    """Set what the firm requires for recertification."""
    total = _hours(required_hours, field="required_hours", maximum=Decimal(1000))
    intervision = _hours(
        required_intervision_hours, field="required_intervision_hours", maximum=Decimal(1000)
    )
    if intervision > total:
        raise ValidationError(
            {"required_intervision_hours": _("Intervision cannot exceed the total hours.")}
        )
    if not isinstance(certificate_years, int) or not 1 <= certificate_years <= 10:
        raise ValidationError({"certificate_years": _("Enter between 1 and 10 years.")})
    if not isinstance(reminder_days, int) or not 1 <= reminder_days <= 365:
        raise ValidationError({"reminder_days": _("Enter between 1 and 365 days.")})
    with transaction.atomic():
        policy, _created = CredentialPolicy.objects.select_for_update().get_or_create(firm=firm)
        policy.certificate_years = certificate_years
        policy.required_hours = total
        policy.required_intervision_hours = intervision
        policy.reminder_days = reminder_days
        policy.save()
    logger.info("Firm %s credential policy set by %s", firm.pk, getattr(actor, "pk", None))
    return policy


def _firm_person(firm: Firm, user: Any) -> None:
    """The person must be an adviser of the firm or an internal adviser of one of its clients."""
    if FirmMembership.objects.filter(firm=firm, user=user).exists():
        return
    if ClientMembership.objects.filter(
        client__firm=firm, user=user, role=ClientMembership.Role.INTERNAL_ADVISER
    ).exists():
        return
    raise ValidationError({"user": _("Choose an adviser of this firm.")})


def credential_set(
    *,
    actor: User,
    firm: Firm,
    user: Any,
    certification: str = "",
    certified_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    conduct_certificate_on: datetime.date | None = None,
) -> AdviserCredential:
    """Record an external adviser's certificate and certificate of conduct (VOG).

    Without an expiry date, the certificate expires after the firm's period (LVV: 4 years).
    """
    if not FirmMembership.objects.filter(firm=firm, user=user).exists():
        raise ValidationError({"user": _("Choose an adviser of this firm.")})
    certification = _short_text(certification, field="certification", limit=100, required=False)
    certified_on = _date(certified_on, field="certified_on", required=False)
    expires_on = _date(expires_on, field="expires_on", required=False)
    conduct_certificate_on = _date(
        conduct_certificate_on, field="conduct_certificate_on", required=False
    )
    _past(certified_on, field="certified_on")
    _past(conduct_certificate_on, field="conduct_certificate_on")
    if certified_on is not None and expires_on is None:
        years = policy_for(firm).certificate_years
        expires_on = years_later(certified_on, years)
    if certified_on is not None and expires_on is not None and expires_on <= certified_on:
        raise ValidationError({"expires_on": _("The certificate expires before it was issued.")})
    with transaction.atomic():
        credential, _created = AdviserCredential.objects.select_for_update().get_or_create(
            firm=firm, user=user
        )
        credential.certification = certification
        credential.certified_on = certified_on
        credential.expires_on = expires_on
        credential.conduct_certificate_on = conduct_certificate_on
        credential.updated_at = timezone.now()
        credential.save()
    return credential


def training_add(
    *,
    actor: User,
    firm: Firm,
    user: Any,
    done_on: datetime.date | None,
    hours: Any,
    kind: str,
    title: str,
) -> TrainingEntry:
    """Record hours of education (an adviser) or training (an internal adviser of a client)."""
    _firm_person(firm, user)
    done_on = _date(done_on, field="done_on")
    _past(done_on, field="done_on")
    amount = _hours(hours, field="hours", maximum=Decimal(100))
    if amount < Decimal("0.5"):
        raise ValidationError({"hours": _("Enter at least half an hour.")})
    if kind not in TrainingEntry.Kind.values:
        raise ValidationError({"kind": _("Choose a kind.")})
    title = _short_text(title, field="title", limit=200, required=True)
    assert done_on is not None  # required above
    with transaction.atomic():
        return TrainingEntry.objects.create(
            firm=firm,
            user=user,
            done_on=done_on,
            hours=amount,
            kind=kind,
            title=title,
            recorded_by_id=getattr(actor, "pk", None),
        )


def _declarations(values: dict[str, Any]) -> dict[str, bool | None]:
    declared: dict[str, bool | None] = {}
    for name in InternalAdviserAppointment.DECLARATIONS:
        value = values.get(name)
        if value not in (None, True, False):
            raise ValidationError({name: _("Answer yes or no, or leave it open.")})
        if value is True:
            raise ValidationError({name: str(REFUSALS[name])})
        declared[name] = value
    return declared


def appointment_create(
    *,
    actor: User,
    client: ClientOrganisation,
    user: Any,
    appointed_on: datetime.date | None,
    representatives_agreed_on: datetime.date | None = None,
    declared_on: datetime.date | None = None,
    **declarations: Any,
) -> InternalAdviserAppointment:
    """Record the appointment of one of the client's internal advisers.

    Refuses a person who declares any of the roles the Belgian law excludes (management, works
    council, committee for prevention and protection, union delegation, election candidate),
    and an agreement of the worker representatives dated after the appointment (it must come
    first). Left-open declarations and a missing agreement are allowed and show as problems.
    """
    unknown = set(declarations) - set(InternalAdviserAppointment.DECLARATIONS)
    if unknown:
        raise ValueError(f"Unknown declarations {sorted(unknown)}")
    declared = _declarations(declarations)
    appointed_on = _date(appointed_on, field="appointed_on")
    representatives_agreed_on = _date(
        representatives_agreed_on, field="representatives_agreed_on", required=False
    )
    declared_on = _date(declared_on, field="declared_on", required=False)
    _past(representatives_agreed_on, field="representatives_agreed_on")
    _past(declared_on, field="declared_on")
    assert appointed_on is not None
    if representatives_agreed_on is not None and representatives_agreed_on > appointed_on:
        raise ValidationError(
            {
                "representatives_agreed_on": _(
                    "The worker representatives must agree before the appointment."
                )
            }
        )
    if any(value is not None for value in declared.values()) and declared_on is None:
        declared_on = timezone.localdate()
    with transaction.atomic():
        locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
        if locked.status == ClientOrganisation.Status.OFFBOARDED:
            raise ValidationError(_("This client is offboarded."))
        if not ClientMembership.objects.filter(
            client=locked, user=user, role=ClientMembership.Role.INTERNAL_ADVISER
        ).exists():
            raise ValidationError(
                {"user": _("Invite this person as an internal adviser of the client first.")}
            )
        if InternalAdviserAppointment.objects.filter(
            client=locked, user=user, ended_on__isnull=True
        ).exists():
            raise ValidationError({"user": _("This person's appointment is already recorded.")})
        appointment = InternalAdviserAppointment.objects.create(
            client=locked,
            user=user,
            appointed_on=appointed_on,
            representatives_agreed_on=representatives_agreed_on,
            declared_on=declared_on,
            created_by_id=getattr(actor, "pk", None),
            **declared,
        )
    return appointment


def appointment_declarations_set(
    *,
    actor: User,
    appointment: InternalAdviserAppointment,
    representatives_agreed_on: datetime.date | None = None,
    declared_on: datetime.date | None = None,
    **declarations: Any,
) -> InternalAdviserAppointment:
    """Record (or correct) the worker representatives' agreement and the declarations of a
    current appointment, usually signed after it was first recorded.

    The same rules as at appointment: "yes" to any incompatible role is refused with the law's
    reason, the agreement must come before the appointment. A declaration left open stays open
    (and stays an open problem on the client's page). Ended appointments and offboarded clients
    are history: refused. Checks run on the locked row, so an appointment ended meanwhile is
    not changed.
    """
    unknown = set(declarations) - set(InternalAdviserAppointment.DECLARATIONS)
    if unknown:
        raise ValueError(f"Unknown declarations {sorted(unknown)}")
    declared = _declarations(declarations)
    representatives_agreed_on = _date(
        representatives_agreed_on, field="representatives_agreed_on", required=False
    )
    declared_on = _date(declared_on, field="declared_on", required=False)
    _past(representatives_agreed_on, field="representatives_agreed_on")
    _past(declared_on, field="declared_on")
    if any(value is not None for value in declared.values()) and declared_on is None:
        declared_on = timezone.localdate()
    with transaction.atomic():
        locked = (
            InternalAdviserAppointment.objects.select_for_update()
            .select_related("client")
            .get(pk=appointment.pk)
        )
        if locked.client.status == ClientOrganisation.Status.OFFBOARDED:
            raise ValidationError(_("This client is offboarded."))
        if locked.ended_on is not None:
            raise ValidationError(_("This appointment has ended; it can no longer be changed."))
        if (
            representatives_agreed_on is not None
            and representatives_agreed_on > locked.appointed_on
        ):
            raise ValidationError(
                {
                    "representatives_agreed_on": _(
                        "The worker representatives must agree before the appointment."
                    )
                }
            )
        locked.representatives_agreed_on = representatives_agreed_on
        locked.declared_on = declared_on
        for name, value in declared.items():
            setattr(locked, name, value)
        locked.save(
            update_fields=[
                "representatives_agreed_on",
                "declared_on",
                *InternalAdviserAppointment.DECLARATIONS,
            ]
        )
    logger.info("Appointment %s declarations set by %s", locked.pk, getattr(actor, "pk", None))
    return locked


def appointment_end(
    *, actor: User, appointment: InternalAdviserAppointment, ended_on: datetime.date | None = None
) -> InternalAdviserAppointment:
    """End an internal adviser's appointment (locked; ending twice keeps the first date)."""
    ended_on = _date(ended_on or timezone.localdate(), field="ended_on")
    assert ended_on is not None  # required above
    with transaction.atomic():
        locked = InternalAdviserAppointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.ended_on is not None:
            return locked
        if ended_on < locked.appointed_on:
            raise ValidationError({"ended_on": _("The appointment ends before it starts.")})
        locked.ended_on = ended_on
        locked.save(update_fields=["ended_on"])
    return locked
