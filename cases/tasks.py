"""Scheduled case work (see CELERY_BEAT_SCHEDULE in saas/settings.py). Idempotent, logged.

One dispatcher per job runs in the public schema and fans out one task per client organisation,
carrying the schema in the message header (tenant-schemas-celery); per-tenant beat schedulers
would query every schema on every tick.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from saas.celery import app
from tenants.schemas import client_schema_task, client_schemas, fan_out

logger = logging.getLogger(__name__)

REMINDER_DAYS_AHEAD = 2


@app.task(acks_late=True)
def retention_dispatch() -> int:
    """Queue `retention_destroy` once per active client organisation; returns how many."""
    queued = fan_out(retention_destroy, client_schemas())
    logger.info("Retention: dispatched to %d client organisation(s)", queued)
    return queued


@client_schema_task
def retention_destroy() -> list[str]:
    """Inside one client's schema: destroy the narrative of cases past their retention deadline."""
    from cases.services import retention_destroy_due

    return retention_destroy_due()


@app.task(acks_late=True)
def deadline_reminders_send(today_iso: str | None = None) -> int:
    """E-mail each adviser the deadlines due soon, from the public work index (no content).

    A reminder names the client organisation, the case reference and the kind of deadline,
    nothing else. Returns the number of e-mails sent; sending twice on a day repeats them.
    """
    from accounts.models import User
    from tenants.models import ClientOrganisation
    from workindex.models import CaseworkEntry

    today = datetime.date.fromisoformat(today_iso) if today_iso else timezone.localdate()
    horizon = today + datetime.timedelta(days=REMINDER_DAYS_AHEAD)
    due = (
        CaseworkEntry.objects.filter(
            Q(acknowledgement_due_on__lte=horizon)
            | Q(feedback_due_on__lte=horizon)
            | Q(followup_due_on__lte=horizon)
        )
        .filter(adviser_id__isnull=False, client__status=ClientOrganisation.Status.ACTIVE)
        .select_related("client")
        .order_by("client__name", "case_reference")
    )
    per_adviser: dict[int, list[CaseworkEntry]] = defaultdict(list)
    for entry in due:
        per_adviser[entry.adviser_id].append(entry)
    users = User.objects.filter(pk__in=per_adviser, is_active=True)
    sent = 0
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            lines = []
            for entry in per_adviser[user.pk]:
                for label, day in (
                    (_("acknowledgement due"), entry.acknowledgement_due_on),
                    (_("feedback due"), entry.feedback_due_on),
                    (_("follow-up due"), entry.followup_due_on),
                ):
                    if day is not None and day <= horizon:
                        lines.append(
                            f"- {entry.client.name} {entry.case_reference}: "
                            f"{label} {day.isoformat()}"
                        )
            subject = _("Vertrouwd: deadlines in the coming days")
            body = "\n".join([_("These deadlines are due soon:"), "", *lines, ""])
        send_mail(subject, body, None, [user.email])
        sent += 1
    logger.info("Deadline reminders: %d e-mail(s)", sent)
    return sent
