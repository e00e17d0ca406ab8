"""Notification e-mails through a transactional outbox, sent at most once per Message-ID.

Writing: `new_message_notify` runs inside the transaction that saves a message. It adds one
`OutboxEmail` row per recipient who wants an e-mail per message (or a `DigestNotice` for an
adviser who chose the daily digest) and asks, on commit, for `sparring.tasks.outbox_send` to run
in the client's schema. If the broker is down then, the message is saved all the same and shown
at once; the row waits for `outbox_sweep`, which re-dispatches pending rows every few minutes.

Sending (`outbox_email_send`): inside one transaction the task claims the row with
`SELECT ... FOR UPDATE SKIP LOCKED`, hands the e-mail to the mail backend with a Message-ID
derived from the row's id, and marks the row sent; then it commits. So:
- two workers never send one row at the same time (the second skips the locked row);
- a worker killed before the backend accepted the e-mail: its connection drops, PostgreSQL rolls
  back and releases the lock, the row is still pending, a redelivery or the sweeper sends it once;
- a worker killed after the backend accepted the e-mail but before COMMIT (the residual window,
  the time of one UPDATE and one COMMIT): the row is still pending and the e-mail goes out again,
  with the same Message-ID. Over SMTP that is a second copy that most mail systems fold into one
  by its Message-ID, which is not guaranteed; a backend that stores by Message-ID (as
  `mail.backends.MessageIdFileBackend` does, or an e-mail API with an idempotency key) makes it
  exactly one. We prefer this to the opposite choice (marking sent before sending), which would
  lose the e-mail in the same window: a duplicate notice without content is harmless, a lost one
  is not.

The e-mails hold no content and no names: only that there is a new message, and a link to the
console, which forwards the recipient (and nobody else) to the thread.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from saas import hosts
from sparring import index
from sparring.models import Thread
from sparring.public.models import DigestNotice, NotificationPreference, OutboxEmail
from tenants.access import Role, roles_in_client
from tenants.models import Assignment, ClientMembership, FirmMembership

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 30
BROKER_CONNECT_SECONDS = 2
RETRY_BASE_SECONDS = 120
RETRY_MAX_SECONDS = 6 * 3600
OUTBOX_KEEP_DAYS = 90


def _current_adviser_ids(*, client_id: int, firm_id: int, day: datetime.date) -> set[int]:
    return set(
        Assignment.objects.in_force(day)
        .filter(client_id=client_id)
        .filter(
            adviser__is_active=True,
            adviser__firm_memberships__firm_id=firm_id,
            adviser__firm_memberships__role=FirmMembership.Role.ADVISER,
        )
        .values_list("adviser_id", flat=True)
    )


def new_message_notify(
    *, client: Any, thread: Thread, author_id: int, at: datetime.datetime
) -> None:
    """In the message's transaction: unread flags, outbox rows, digest notices; dispatch."""
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
                OutboxEmail(
                    kind=OutboxEmail.Kind.MESSAGE,
                    recipient_id=recipient_id,
                    client_id=client.client_id,
                    thread_id=thread.pk,
                    created_at=at,
                    next_attempt_at=at,
                )
            )
    DigestNotice.objects.bulk_create(notices)
    OutboxEmail.objects.bulk_create(emails)
    _dispatch_on_commit([email.pk for email in emails], client.schema_name)


def _dispatch_on_commit(email_ids: list[uuid.UUID], schema_name: str) -> None:
    if email_ids:
        transaction.on_commit(lambda: outbox_dispatch(email_ids, schema_name))


def outbox_dispatch(email_ids: list[uuid.UUID] | list[str], schema_name: str) -> int:
    """Ask a worker to send these outbox e-mails in `schema_name`; returns how many were queued.

    Never raises and never makes the user wait for a broker that is down: one connection
    attempt (BROKER_CONNECT_SECONDS at most), no publish retries. The rows are committed
    already; the sweeper queues what did not get through.
    """
    from saas.celery import app
    from sparring.tasks import outbox_send

    queued = 0
    failure: Exception | None = None
    with app.connection_for_write(
        connect_timeout=BROKER_CONNECT_SECONDS, transport_options={"max_retries": 0}
    ) as broker:
        for email_id in email_ids:
            try:
                outbox_send.apply_async(
                    args=[str(email_id)],
                    headers={"_schema_name": schema_name},
                    connection=broker,
                    retry=False,
                )
            except Exception as error:  # broker down, or (in-process mode) the send failed
                failure = error
            else:
                queued += 1
    if failure is not None:
        logger.warning(
            "Sparring: %d of %d e-mail(s) not queued (%s); the outbox sweeper will retry.",
            len(email_ids) - queued,
            len(email_ids),
            type(failure).__name__,
        )
    return queued


def _link(email: OutboxEmail) -> str:
    if email.kind == OutboxEmail.Kind.MESSAGE:
        path = reverse(
            "sparring_console:open",
            kwargs={"email_id": email.pk},
            urlconf=settings.PUBLIC_SCHEMA_URLCONF,
        )
    else:
        path = reverse("sparring_console:overview", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    return hosts.console_url(path)


def message_id(email: OutboxEmail) -> str:
    """The e-mail's Message-ID: the same for every attempt to send this outbox row."""
    return f"<sparring.{email.pk}@{settings.BASE_DOMAIN}>"


def build_email(email: OutboxEmail, *, thread_count: int = 1) -> EmailMessage:
    """The e-mail of an outbox row: no content, no names; only that something is new, a link."""
    recipient = email.recipient
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        context = {"url": _link(email), "thread_count": thread_count}
        if email.kind == OutboxEmail.Kind.MESSAGE:
            subject = render_to_string("sparring/email/message_subject.txt", context)
            body = render_to_string("sparring/email/message.txt", context)
        else:
            subject = render_to_string("sparring/email/digest_subject.txt", context)
            body = render_to_string("sparring/email/digest.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=[recipient.email],
        headers={"Message-ID": message_id(email), "Auto-Submitted": "auto-generated"},
    )


def _may_still_read(email: OutboxEmail) -> bool:
    """Whether the recipient may still see the thread (in its client's schema; a few queries)."""
    recipient = email.recipient
    if not recipient.is_active:
        return False
    thread = Thread.objects.filter(pk=email.thread_id).values("started_by_id").first()
    if thread is None:
        return False
    roles = roles_in_client(recipient, client_id=email.client_id, firm_id=email.client.firm_id)
    if Role.ADVISER in roles:
        return True
    return Role.INTERNAL_ADVISER in roles and thread["started_by_id"] == recipient.pk


def _digest_thread_count(email: OutboxEmail) -> int:
    today = timezone.localdate()
    assigned = (
        Assignment.objects.in_force(today).filter(adviser_id=email.recipient_id).values("client_id")
    )
    return (
        DigestNotice.objects.filter(email=email, client_id__in=assigned)
        .values("client_id", "thread_id")
        .distinct()
        .count()
    )


def outbox_email_send(*, email_id: uuid.UUID | str) -> str:
    """Send one outbox e-mail unless it is sent, being sent, or no longer wanted; say which.

    Runs in the schema of the thread's client (MESSAGE) or the public schema (DIGEST). See the
    module docstring for what happens when the process dies halfway.
    """
    with transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "client")
            .filter(pk=email_id)
            .first()
        )
        if email is None:
            return "busy"  # another worker holds it right now (or it no longer exists)
        if email.status != OutboxEmail.Status.PENDING:
            return email.status
        thread_count = 1
        if email.kind == OutboxEmail.Kind.MESSAGE:
            if connection.schema_name != email.client.schema_name:
                raise RuntimeError("A message e-mail must be sent from its client's schema.")
            wanted = _may_still_read(email)
        else:
            thread_count = _digest_thread_count(email)
            wanted = email.recipient.is_active and thread_count > 0
        if not wanted:
            email.status = OutboxEmail.Status.DROPPED
            email.save(update_fields=["status"])
            return email.status
        message = build_email(email, thread_count=thread_count)
        sent = get_connection(fail_silently=False, timeout=SEND_TIMEOUT_SECONDS).send_messages(
            [message]
        )
        if sent != 1:
            raise RuntimeError("The mail backend did not accept the e-mail.")
        email.status = OutboxEmail.Status.SENT
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["status", "sent_at", "attempts"])
    return email.status


def outbox_failure_record(*, email_id: uuid.UUID | str, error: BaseException) -> None:
    """After a failed attempt (rolled back): count it and wait longer before the next one."""
    email = OutboxEmail.objects.filter(pk=email_id).values("attempts").first()
    if email is None:
        return
    delay = min(RETRY_BASE_SECONDS * 2 ** min(email["attempts"], 12), RETRY_MAX_SECONDS)
    OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING).update(
        attempts=F("attempts") + 1,
        last_error=type(error).__name__[:100],
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
    )


def outbox_sweep(
    *,
    min_age_seconds: int = 60,
    limit: int = 500,
) -> int:
    """Re-dispatch pending e-mails older than `min_age_seconds` whose retry time has come.

    Each dispatched row's next retry moves a few minutes ahead, so a slow queue is not flooded
    with copies (a copy would be harmless: the claim makes the second one a no-op). Returns how
    many were dispatched.
    """
    now = timezone.now()
    due = list(
        OutboxEmail.objects.filter(
            status=OutboxEmail.Status.PENDING,
            next_attempt_at__lte=now,
            created_at__lte=now - datetime.timedelta(seconds=min_age_seconds),
        )
        .order_by("next_attempt_at")
        .values_list("pk", "client__schema_name")[:limit]
    )
    if not due:
        return 0
    OutboxEmail.objects.filter(pk__in=[pk for pk, _schema in due]).update(
        next_attempt_at=now + datetime.timedelta(seconds=RETRY_BASE_SECONDS)
    )
    per_schema: dict[str, list[uuid.UUID]] = {}
    for pk, schema in due:
        per_schema.setdefault(schema or "public", []).append(pk)
    return sum(outbox_dispatch(ids, schema) for schema, ids in per_schema.items())


def outbox_prune(*, keep_days: int = OUTBOX_KEEP_DAYS) -> int:
    """Delete sent and dropped e-mails older than `keep_days` (with their digest notices).

    Pending rows are never pruned. The link in an e-mail stops forwarding once its row is gone.
    Returns how many e-mails were deleted.
    """
    cutoff = timezone.now() - datetime.timedelta(days=keep_days)
    done = OutboxEmail.objects.filter(
        status__in=[OutboxEmail.Status.SENT, OutboxEmail.Status.DROPPED], created_at__lt=cutoff
    )
    with transaction.atomic():
        # Notices first: with their e-mail gone they would look unsent and be sent again.
        DigestNotice.objects.filter(email__in=done.values("pk")).delete()
        deleted, _by_model = done.delete()
    return deleted


def digests_prepare(*, now: datetime.datetime | None = None) -> list[uuid.UUID]:
    """Bundle each digest reader's waiting notices into one outbox e-mail; dispatch on commit.

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
            email = OutboxEmail.objects.create(
                kind=OutboxEmail.Kind.DIGEST,
                recipient_id=recipient_id,
                created_at=now,
                next_attempt_at=now,
            )
            DigestNotice.objects.filter(pk__in=notices).update(email=email)
            _dispatch_on_commit([email.pk], "public")
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
