"""Reminders before a certificate, recertification or basic training falls due (daily)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from saas.celery import app

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def reminders_send(today_iso: str | None = None) -> int:
    """E-mail each person what of theirs falls due within their firm's reminder period.

    Once per person, item and due date (`ReminderSent`, claimed in the transaction that sends):
    a second run on the same day, or the next day, sends nothing again. Returns the number of
    e-mails sent.
    """
    from credentials.models import ReminderSent
    from credentials.selectors import firm_due
    from tenants.models import Firm

    today = datetime.date.fromisoformat(today_iso) if today_iso else timezone.localdate()
    sent = 0
    for firm in Firm.objects.order_by("pk"):
        per_user: dict[int, list] = {}
        for row in firm_due(firm=firm, today=today):
            if row.due_on is None or not row.user.is_active:
                continue
            per_user.setdefault(row.user.pk, []).append(row)
        for rows in per_user.values():
            user = rows[0].user
            with transaction.atomic():
                fresh = []
                for row in rows:
                    item = f"{firm.pk}:{row.role}:{row.client.pk if row.client else 0}:{row.what}"[
                        :60
                    ]
                    try:
                        with transaction.atomic():
                            ReminderSent.objects.create(user=user, item=item, due_on=row.due_on)
                    except IntegrityError:
                        continue
                    fresh.append(row)
                if not fresh:
                    continue
                with translation.override(user.language or settings.LANGUAGE_CODE):
                    lines = [
                        f"- {row.what}: {row.due_on.isoformat()}"
                        + (f" ({row.client.name})" if row.client else "")
                        for row in fresh
                    ]
                    subject = _("Vertrouwd: credentials due soon")
                    body = "\n".join([_("These fall due soon:"), "", *lines, ""])
                # Inside the transaction: a failure to hand it over releases the claims.
                send_mail(subject, body, None, [user.email])
                sent += 1
    logger.info("Credential reminders: %d e-mail(s)", sent)
    return sent
