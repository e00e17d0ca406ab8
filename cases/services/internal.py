"""What internal advisers count, and the client's case settings."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log_write
from cases import rules
from cases.models import CaseSettings, CaseType, InternalRegistration, Outcome, Theme
from cases.services._common import Action, _themes, outcome_allowed, submission_claim

if TYPE_CHECKING:
    from accounts.models import User


def internal_registration_add(
    *,
    actor: User,
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
    outcome_allowed(outcome)
    chosen = _themes(themes)
    with transaction.atomic():
        submission_claim(submission_key, "internal_registration")
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


def case_settings_update(*, actor: User, retention_months: int | None) -> CaseSettings:
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
        _trail_retention(actor, retention_months)
    return settings_row


def _trail_retention(actor: User, retention_months: int | None) -> None:
    """The client's retention is a confidentiality setting: one row on the firm's trail."""
    from cases.selectors import current_client
    from tenants.models import ClientOrganisation
    from tenants.trail import Action as TrailAction
    from tenants.trail import trail_write

    client = current_client()
    trail_write(
        actor=actor,
        action=TrailAction.CLIENT_RETENTION,
        firm_id=client.firm_id,
        client=ClientOrganisation.objects.only("pk", "name").get(pk=client.client_id),
        detail=f"retention {retention_months if retention_months is not None else 'firm default'}",
    )
