"""Writes of the register of acts by third parties: add a declaration, destroy expired ones.

Authorisation is the caller's (views declare it: only the assigned adviser adds). Each service
validates fully first (bad input raises ValidationError and changes nothing) and writes one
access-log row in the same transaction.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AccessLogEntry
from audit.services import access_log_write
from tenants.current import current_client
from tenants.dates import years_later
from tenants.models import ClientOrganisation
from thirdparty.models import RETENTION_YEARS, Declaration

MAX_DESCRIPTION_CHARS = 10_000
# Control characters other than tab and line breaks: pasted binary, terminal escapes, NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
OBJECT_TYPE = "third_party_register"


def _text(value: Any, *, field: str) -> str:
    value = str(value or "").strip()
    if not value:
        raise ValidationError({field: _("Describe the facts.")})
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError({field: _("This text contains control characters; remove them.")})
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise ValidationError(
            {
                field: _(
                    "This text is too long: at most %(limit)s characters, this one has %(length)s."
                )
                % {"limit": f"{MAX_DESCRIPTION_CHARS:,}", "length": f"{len(value):,}"}
            }
        )
    return value


def _date(value: Any, *, field: str, required: bool) -> datetime.date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("Enter a date.")})
        return None
    if not isinstance(value, datetime.date):
        raise ValidationError({field: _("Enter a valid date.")})
    today = timezone.localdate()
    if value > today:
        raise ValidationError({field: _("This date is in the future.")})
    if value < years_later(today, -RETENTION_YEARS):
        raise ValidationError(
            {field: _("This date is more than five years ago: the register keeps five years.")}
        )
    return value


def register_applies() -> bool:
    """Whether the current client is Belgian, so the register is kept (one query)."""
    return ClientOrganisation.objects.filter(
        pk=current_client().client_id, country=ClientOrganisation.Country.BELGIUM
    ).exists()


def declaration_add(
    *,
    actor: User,
    declared_on: datetime.date | None,
    kind: str,
    outsider: str,
    description: str,
    facts_on: datetime.date | None = None,
    submission_key: uuid.UUID | str | None = None,
) -> Declaration:
    """Enter a worker's declaration in the register, without the worker's identity."""
    if not register_applies():
        raise ValidationError(
            _("The register of acts by third parties is kept for Belgian clients only.")
        )
    if kind not in Declaration.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of act.")})
    if outsider not in Declaration.Outsider.values:
        raise ValidationError({"outsider": _("Choose who committed it.")})
    declared_on = _date(declared_on, field="declared_on", required=True)
    facts_on = _date(facts_on, field="facts_on", required=False)
    assert declared_on is not None
    if facts_on is not None and facts_on > declared_on:
        raise ValidationError({"facts_on": _("The facts cannot come after the declaration.")})
    description = _text(description, field="description")
    key = None
    if submission_key:
        try:
            key = uuid.UUID(str(submission_key))
        except ValueError:
            raise ValidationError(
                _("This form is damaged; reload the page and try again.")
            ) from None
    try:
        with transaction.atomic():
            declaration = Declaration.objects.create(
                declared_on=declared_on,
                facts_on=facts_on,
                kind=kind,
                outsider=outsider,
                description=description,
                destroy_after=years_later(declared_on, RETENTION_YEARS),
                recorded_by_id=actor.pk,
                submission_key=key,
            )
            access_log_write(
                actor=actor,
                action=AccessLogEntry.Action.CREATE,
                object_type=OBJECT_TYPE,
                object_reference=str(declaration.pk),
                detail=f"declaration added ({kind})",
            )
    except IntegrityError:
        # The same form submitted twice: the first submission's declaration stands.
        return Declaration.objects.get(submission_key=key)
    return declaration


def register_destroy_due(*, today: datetime.date | None = None) -> int:
    """Destroy declarations kept five years (whole rows); count them in one access-log row.

    Idempotent: a second run on the same day finds nothing and writes nothing. Runs whatever the
    client's country today: a client that moved from Belgium keeps its entries until they expire.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(
            Declaration.objects.select_for_update(skip_locked=True)
            .filter(destroy_after__lte=today)
            .values_list("pk", flat=True)
        )
        if not due:
            return 0
        Declaration.objects.filter(pk__in=due).delete()
        access_log_write(
            actor=None,
            action=AccessLogEntry.Action.DESTROY,
            object_type=OBJECT_TYPE,
            object_reference=today.isoformat(),
            detail=f"{len(due)} declaration(s) destroyed after {RETENTION_YEARS} years",
        )
    return len(due)
