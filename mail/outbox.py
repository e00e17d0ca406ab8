"""The e-mail outbox: every e-mail of the platform is asked for here and sent by a worker.

Asking (`emails_enqueue`, `email_enqueue`): inside the transaction of what the e-mail announces,
one `OutgoingEmail` row per e-mail. A (kind, key) pair names the logical message; asking for it
again (a redelivered task, a service run twice) adds nothing. On commit, `mail.tasks.email_send`
is queued once per new row (one broker connection attempt, no retries: a broker that is down
costs the user no wait; the change is committed and `email_sweep` queues the row later). Public
and client schemas are one database, so one COMMIT covers the change and its e-mails.

Sending (`email_send`): in one transaction the worker claims the row with
`SELECT ... FOR UPDATE SKIP LOCKED`, renders it (`mail.kinds`: None means "no longer wanted",
the row is dropped), hands it to the mail backend with the Message-ID `<mail.<row id>@…>`,
marks it sent and commits. So:
- two workers never send one row at the same time (the second skips the locked row), and a
  late duplicate task finds the row sent;
- a worker killed before the backend accepted the e-mail: its connection drops, PostgreSQL
  rolls back and releases the lock, the row is still pending and is sent once later;
- a worker killed after the backend accepted it but before COMMIT (the residual window, one
  UPDATE and one COMMIT): the e-mail goes out again with the same Message-ID. Over SMTP that is
  a second copy most mail systems fold into one (not guaranteed); a backend that stores by
  Message-ID (`mail.backends.MessageIdFileBackend`, or an e-mail API with an idempotency key)
  makes it exactly one. We prefer this to marking sent before sending, which would lose the
  e-mail in the same window: a duplicate notice without content is harmless, a lost one is not.
- the backend refuses (SMTP down): the transaction rolls back, `email_failure_record` counts the
  attempt and sets the next one after a doubling delay (2 minutes up to 6 hours); after
  `MAX_ATTEMPTS` the row is "failed" and the sweeper leaves it.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from mail.kinds import kind_get
from mail.models import OutgoingEmail
from tenants.schemas import current_schema

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 30
BROKER_CONNECT_SECONDS = 2
RETRY_BASE_SECONDS = 120
RETRY_MAX_SECONDS = 6 * 3600
MAX_ATTEMPTS = 16  # about three days of retries at the longest delay
KEEP_DAYS = 90
PUBLIC_SCHEMA = "public"


@dataclass(frozen=True)
class Email:
    """One e-mail asked for: its kind, the key of the logical message, whom and what about."""

    kind: str
    key: str
    recipient_id: int | None = None
    client: Any = None  # a tenants.ClientOrganisation
    params: dict[str, Any] = field(default_factory=dict)


def _schema_for(kind: str, client_schema: str | None) -> str:
    if kind_get(kind).in_client_schema:
        if not client_schema:
            raise ValueError(f"An e-mail of kind {kind!r} needs a client organisation.")
        return client_schema
    return PUBLIC_SCHEMA


def emails_enqueue(emails: Iterable[Email]) -> list[OutgoingEmail]:
    """Add these e-mails to the outbox in the caller's transaction; queue the new ones on commit.

    Returns the rows added; an e-mail whose (kind, key) is in the outbox already is skipped.
    Refuses to run outside a transaction: the e-mail must commit or roll back with its cause.
    Causes two queries.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("emails_enqueue runs inside the transaction of what it announces.")
    now = timezone.now()
    rows = []
    schemas: dict[uuid.UUID, str] = {}
    for email in emails:
        schema = _schema_for(email.kind, getattr(email.client, "schema_name", None))
        row = OutgoingEmail(
            kind=email.kind,
            key=email.key,
            recipient_id=email.recipient_id,
            client=email.client,
            params=email.params,
            created_at=now,
            next_attempt_at=now,
        )
        rows.append(row)
        schemas[row.pk] = schema
    if not rows:
        return []
    # ON CONFLICT DO NOTHING: a concurrent transaction with the same key waits for ours, then
    # adds nothing. The ids are made here, so the rows that went in are the ones we can see.
    OutgoingEmail.objects.bulk_create(rows, ignore_conflicts=True)
    added = set(
        OutgoingEmail.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True)
    )
    created = [row for row in rows if row.pk in added]
    per_schema: dict[str, list[uuid.UUID]] = {}
    for row in created:
        per_schema.setdefault(schemas[row.pk], []).append(row.pk)
    if per_schema:
        transaction.on_commit(
            lambda: [email_dispatch(ids, schema) for schema, ids in per_schema.items()]
        )
    return created


def email_enqueue(
    *,
    kind: str,
    key: str,
    recipient_id: int | None = None,
    client: Any = None,
    params: dict[str, Any] | None = None,
) -> OutgoingEmail | None:
    """One e-mail (see `emails_enqueue`); None when its (kind, key) was asked for before."""
    created = emails_enqueue(
        [Email(kind=kind, key=key, recipient_id=recipient_id, client=client, params=params or {})]
    )
    return created[0] if created else None


def email_dispatch(email_ids: list[uuid.UUID] | list[str], schema_name: str) -> int:
    """Ask a worker to send these e-mails in `schema_name`; returns how many were queued.

    Never raises and never makes the user wait for a broker that is down: one connection
    attempt (BROKER_CONNECT_SECONDS at most), no publish retries. The rows are committed; the
    sweeper queues what did not get through. Without a broker (development, tests) the task
    runs here and a failed send is recorded on the row like a worker's.
    """
    from mail.tasks import email_send as email_send_task
    from saas.celery import app

    queued = 0
    failure: Exception | None = None
    try:
        with app.connection_for_write(
            connect_timeout=BROKER_CONNECT_SECONDS, transport_options={"max_retries": 0}
        ) as broker:
            for email_id in email_ids:
                try:
                    email_send_task.apply_async(
                        args=[str(email_id)],
                        headers={"_schema_name": schema_name},
                        connection=broker,
                        retry=False,
                    )
                except Exception as error:  # broker down, or (in-process mode) the send failed
                    failure = error
                else:
                    queued += 1
    except Exception as error:  # the connection itself could not be made
        failure = error
    if failure is not None:
        logger.warning(
            "Mail: %d of %d e-mail(s) not queued or not sent (%s); the sweeper will retry.",
            len(email_ids) - queued,
            len(email_ids),
            type(failure).__name__,
        )
    return queued


def message_id(email: OutgoingEmail) -> str:
    """The e-mail's Message-ID: the same for every attempt to send this row."""
    return f"<mail.{email.pk}@{settings.BASE_DOMAIN}>"


def email_send(*, email_id: uuid.UUID | str) -> str:
    """Send one outbox e-mail unless it is sent, being sent, or no longer wanted; say which.

    Runs in the public schema, or in the client's schema for kinds that read it. See the module
    docstring for what happens when the process dies halfway.
    """
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "client")
            .filter(pk=email_id)
            .first()
        )
        if email is None:
            return "busy"  # another worker holds it right now (or it no longer exists)
        if email.status != OutgoingEmail.Status.PENDING:
            return email.status
        kind = kind_get(email.kind)
        expected = _schema_for(email.kind, email.client.schema_name if email.client else None)
        if current_schema() != expected:
            raise RuntimeError(f"An e-mail of kind {email.kind!r} is sent from {expected!r}.")
        message = kind.render(email)
        if message is None:
            email.status = OutgoingEmail.Status.DROPPED
            email.save(update_fields=["status"])
            return email.status
        message.extra_headers["Message-ID"] = message_id(email)
        message.extra_headers["Auto-Submitted"] = "auto-generated"
        sent = get_connection(fail_silently=False, timeout=SEND_TIMEOUT_SECONDS).send_messages(
            [message]
        )
        if sent != 1:
            raise RuntimeError("The mail backend did not accept the e-mail.")
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["status", "sent_at", "attempts"])
    return email.status


def email_failure_record(*, email_id: uuid.UUID | str, error: BaseException) -> None:
    """After a failed attempt (rolled back): count it and wait longer before the next one."""
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update()
            .filter(pk=email_id, status=OutgoingEmail.Status.PENDING)
            .values("attempts")
            .first()
        )
        if email is None:
            return
        attempts = email["attempts"] + 1
        delay = min(RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 12), RETRY_MAX_SECONDS)
        OutgoingEmail.objects.filter(pk=email_id).update(
            attempts=F("attempts") + 1,
            last_error=type(error).__name__[:100],
            next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
            status=(
                OutgoingEmail.Status.FAILED
                if attempts >= MAX_ATTEMPTS
                else OutgoingEmail.Status.PENDING
            ),
        )
    if attempts >= MAX_ATTEMPTS:
        logger.error("Mail: e-mail %s failed %d times; given up.", email_id, attempts)


def outbox_sweep(*, min_age_seconds: int = 60, limit: int = 500) -> int:
    """Queue pending e-mails older than `min_age_seconds` whose retry time has come.

    Each queued row's next retry moves a few minutes ahead, so a slow queue is not flooded
    with copies (a copy would be harmless: the claim makes the second one a no-op). Returns how
    many were queued.
    """
    now = timezone.now()
    due = list(
        OutgoingEmail.objects.filter(
            status=OutgoingEmail.Status.PENDING,
            next_attempt_at__lte=now,
            created_at__lte=now - datetime.timedelta(seconds=min_age_seconds),
        )
        .order_by("next_attempt_at")
        .values_list("pk", "kind", "client__schema_name")[:limit]
    )
    if not due:
        return 0
    OutgoingEmail.objects.filter(pk__in=[pk for pk, _kind, _schema in due]).update(
        next_attempt_at=now + datetime.timedelta(seconds=RETRY_BASE_SECONDS)
    )
    per_schema: dict[str, list[uuid.UUID]] = {}
    for pk, kind, schema in due:
        try:
            target = _schema_for(kind, schema)
        except (LookupError, ValueError):
            logger.error("Mail: e-mail %s of kind %r cannot be sent; left pending.", pk, kind)
            continue
        per_schema.setdefault(target, []).append(pk)
    return sum(email_dispatch(ids, schema) for schema, ids in per_schema.items())


def outbox_client_forget(*, client_id: int) -> int:
    """Offboarding: e-mails about the client still waiting are dropped (its schema and people
    are gone; a kind sent from its schema could not run). Returns how many."""
    return OutgoingEmail.objects.filter(
        client_id=client_id, status=OutgoingEmail.Status.PENDING
    ).update(status=OutgoingEmail.Status.DROPPED)


def outbox_prune(*, keep_days: int = KEEP_DAYS) -> int:
    """Delete sent, dropped and failed e-mails older than `keep_days`; pending rows stay.

    Returns how many were deleted; rows pointing at them go too (sparring's digest notices,
    which would otherwise look unsent). A link in a pruned e-mail stops forwarding.
    """
    cutoff = timezone.now() - datetime.timedelta(days=keep_days)
    _total, by_model = (
        OutgoingEmail.objects.exclude(status=OutgoingEmail.Status.PENDING)
        .filter(created_at__lt=cutoff)
        .delete()
    )
    return by_model.get(OutgoingEmail._meta.label, 0)
