"""Scheduled case work (see CELERY_BEAT_SCHEDULE in saas/settings.py). Idempotent, logged.

One dispatcher per job runs in the public schema and fans out one task per client organisation,
carrying the schema in the message header (tenant-schemas-celery); per-tenant beat schedulers
would query every schema on every tick.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from saas.celery import app
from tenants.schemas import client_schema_task, client_schemas, fan_out

logger = logging.getLogger(__name__)


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
    """Ask the outbox for one e-mail per adviser with deadlines due soon (work index only).

    One e-mail per adviser and day however often the task runs or is redelivered (the outbox
    key); what it lists is read when it is sent (`cases.emails`). Returns how many were added.
    """
    from accounts.models import User
    from cases.emails import DEADLINE_REMINDER, deadlines_due
    from mail.outbox import Email, emails_enqueue

    today = datetime.date.fromisoformat(today_iso) if today_iso else timezone.localdate()
    advisers = set(deadlines_due(day=today).values_list("adviser_id", flat=True))
    recipients = User.objects.filter(pk__in=advisers, is_active=True).order_by("pk")
    with transaction.atomic():
        added = emails_enqueue(
            Email(
                kind=DEADLINE_REMINDER,
                key=f"{user_id}:{today.isoformat()}",
                recipient_id=user_id,
                params={"day": today.isoformat()},
            )
            for user_id in recipients.values_list("pk", flat=True)
        )
    logger.info("Deadline reminders: %d e-mail(s) added to the outbox", len(added))
    return len(added)
