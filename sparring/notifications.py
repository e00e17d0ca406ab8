"""Who hears about a new sparring message, and how (the e-mails are rows of the mail outbox).

`new_message_notify` runs inside the transaction that saves a message: unread flags for the
advisers, one outbox e-mail (`sparring.emails.MESSAGE`) per recipient who wants an e-mail per
message, or a `DigestNotice` for an adviser who chose the daily digest. The mail outbox sends
them after commit, from the client's schema, once (see `mail.outbox`); if the broker is down the
message is saved and shown all the same and the outbox's sweeper sends the e-mail later.
`digests_prepare` (daily) bundles each digest reader's waiting notices into one e-mail.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from mail.outbox import Email, email_enqueue, emails_enqueue
from sparring import index
from sparring.emails import DIGEST, MESSAGE
from sparring.models import Thread
from sparring.public.models import DigestNotice, NotificationPreference
from tenants.access import serving_adviser_ids
from tenants.current import current_client_organisation
from tenants.models import ClientMembership

logger = logging.getLogger(__name__)


def _current_adviser_ids(*, client_id: int, firm_id: int, day: datetime.date) -> set[int]:
    return {
        row["adviser_id"]
        for row in serving_adviser_ids(client_id=client_id, firm_id=firm_id, day=day)
    }


def new_message_notify(
    *, client: Any, thread: Thread, author_id: int, at: datetime.datetime
) -> None:
    """In the message's transaction: unread flags, outbox e-mails, digest notices."""
    advisers = _current_adviser_ids(
        client_id=client.client_id, firm_id=client.firm_id, day=timezone.localdate()
    )
    starter_is_member = ClientMembership.objects.filter(
        client_id=client.client_id,
        user_id=thread.started_by_id,
        role=ClientMembership.Role.INTERNAL_ADVISER,
        user__is_active=True,
    ).exists()
    recipients = set(advisers) | ({thread.started_by_id} if starter_is_member else set())
    recipients.discard(author_id)
    index.unread_put(
        client_id=client.client_id, thread_id=thread.pk, user_ids=advisers - {author_id}, since=at
    )
    if author_id in advisers:
        index.unread_clear(
            client_id=client.client_id, thread_id=thread.pk, user_id=author_id, until=at
        )
    digest = set(
        NotificationPreference.objects.filter(
            user_id__in=advisers, mode=NotificationPreference.Mode.DIGEST
        ).values_list("user_id", flat=True)
    )
    emails = []
    notices = []
    for recipient_id in sorted(recipients):
        if recipient_id in advisers and recipient_id in digest:
            notices.append(
                DigestNotice(
                    recipient_id=recipient_id,
                    client_id=client.client_id,
                    thread_id=thread.pk,
                    created_at=at,
                )
            )
        else:
            emails.append(
                Email(
                    kind=MESSAGE,
                    key=f"{thread.pk}:{at.isoformat()}:{recipient_id}",
                    recipient_id=recipient_id,
                    client=current_client_organisation(),
                    params={"thread": str(thread.pk)},
                )
            )
    DigestNotice.objects.bulk_create(notices)
    emails_enqueue(emails)


def digests_prepare(*, now: datetime.datetime | None = None) -> list[uuid.UUID]:
    """Bundle each digest reader's waiting notices into one outbox e-mail.

    One transaction per recipient; notices another run has locked are skipped, so two runs at
    once never put one notice in two e-mails. Returns the new e-mails' ids.
    """
    now = now or timezone.now()
    recipients = (
        DigestNotice.objects.filter(email__isnull=True, created_at__lte=now)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    created: list[uuid.UUID] = []
    for recipient_id in list(recipients):
        with transaction.atomic():
            notices = list(
                DigestNotice.objects.select_for_update(skip_locked=True)
                .filter(recipient_id=recipient_id, email__isnull=True, created_at__lte=now)
                .values_list("pk", flat=True)
            )
            if not notices:
                continue
            # Keyed by the first notice: the same bundle is one e-mail, whatever happens.
            email = email_enqueue(
                kind=DIGEST, key=f"{recipient_id}:{min(notices)}", recipient_id=recipient_id
            )
            if email is None:
                continue
            DigestNotice.objects.filter(pk__in=notices).update(email=email)
            created.append(email.pk)
    return created


def preference_of(user: Any) -> str:
    """The user's choice for sparring e-mails (immediate unless they chose the digest)."""
    return (
        NotificationPreference.objects.filter(user=user).values_list("mode", flat=True).first()
        or NotificationPreference.Mode.IMMEDIATE
    )


def preference_set(*, user: Any, mode: str) -> NotificationPreference:
    """Store the user's choice between an e-mail per message and the daily digest."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if mode not in NotificationPreference.Mode.values:
        raise ValidationError({"mode": _("Choose how you want to hear about new messages.")})
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"mode": mode, "updated_at": timezone.now()}
    )
    return preference
