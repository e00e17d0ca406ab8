"""Reminders before a certificate, recertification or basic training falls due (daily)."""

from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from saas.celery import app

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def reminders_send(today_iso: str | None = None) -> int:
    """E-mail each person what of theirs falls due within their firm's reminder period.

    Once per person, item and due date (`ReminderSent`, claimed in the transaction that adds
    the outbox e-mail): a second run on the same day, or the next day, adds nothing. Returns
    the number of e-mails added to the outbox.
    """
    from credentials.emails import CREDENTIALS_DUE
    from credentials.models import ReminderSent
    from credentials.selectors import firm_due
    from mail.outbox import Email, emails_enqueue
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
                fresh, claims = [], []
                for row in rows:
                    item = f"{firm.pk}:{row.role}:{row.client.pk if row.client else 0}:{row.what}"[
                        :60
                    ]
                    try:
                        with transaction.atomic():
                            claim = ReminderSent.objects.create(
                                user=user, item=item, due_on=row.due_on
                            )
                    except IntegrityError:
                        continue
                    fresh.append(row)
                    claims.append(claim.pk)
                if not fresh:
                    continue
                # In the claims' transaction, keyed by them: items claimed once, e-mailed once.
                # Codes, dates and a client id; the item key keeps the label of the server's
                # language, as before, so claims made before codes existed still match.
                emails_enqueue(
                    [
                        Email(
                            kind=CREDENTIALS_DUE,
                            key=f"{user.pk}:{min(claims)}",
                            recipient_id=user.pk,
                            params={
                                "items": [
                                    {
                                        # A code: the renderer translates it
                                        # into the recipient's language at sending.
                                        "code": row.code,
                                        "due_on": row.due_on.isoformat(),
                                        "client": row.client.pk if row.client else None,
                                    }
                                    for row in fresh
                                ]
                            },
                        )
                    ]
                )
                sent += 1
    logger.info("Credential reminders: %d e-mail(s) added to the outbox", sent)
    return sent
