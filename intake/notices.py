"""Content-free notices from the intake outbox (`intake.public.models.IntakeNotice`).

To an adviser: "there is something new in an organisation's intake" and a link to the console's
my-day page (no client name, no contact id). To a reporter who left an address: "there is an
answer"; no organisation, no link, no text (a shared or work mailbox may be read by others).
Rows are written in the transaction of what they announce; a task sends each on commit in the
client's schema, `notice_sweep` re-queues what is still pending. Sending claims the row with
SKIP LOCKED, so two workers never send one notice.
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from intake.public.models import IntakeNotice

logger = logging.getLogger(__name__)


def dispatch(ids: list[uuid.UUID], schema: str) -> int:
    """Queue the sends; never raises (the sweeper queues what did not get through)."""
    from intake.tasks import notice_send

    queued = 0
    for notice_id in ids:
        try:
            notice_send.apply_async(
                args=[str(notice_id)], headers={"_schema_name": schema}, retry=False
            )
        except Exception as error:  # broker down, or in-process sending failed
            logger.warning(
                "Intake notice not queued (%s); the sweeper retries.", type(error).__name__
            )
        else:
            queued += 1
    return queued


def _message(notice: IntakeNotice) -> EmailMessage | None:
    from intake.models import Contact
    from intake.selectors import may_read
    from saas import hosts

    contact = Contact.objects.filter(pk=notice.contact_id).first()
    if contact is None:
        return None
    if notice.kind == IntakeNotice.Kind.ADVISER:
        user = notice.recipient
        if not user.is_active or not may_read(user, contact):
            return None
        with translation.override(getattr(user, "language", None) or "nl"):
            return EmailMessage(
                subject=_("Vertrouwd: something new in an intake"),
                body=_(
                    "There is something new for you in an organisation's intake. "
                    "Open your day on Vertrouwd to see it:\n\n%(link)s\n"
                )
                % {"link": hosts.console_url("/console/my-day/", request=None)},
                to=[user.email],
            )
    if not contact.notify_email or contact.status == Contact.Status.CLOSED:
        return None
    return EmailMessage(
        subject="Vertrouwd",
        body=(
            "Er staat een nieuw bericht voor u klaar. Open de pagina waar u uw melding deed en "
            "voer uw sleutel in.\n\n"
            "There is a new message for you. Open the page where you wrote to us and enter "
            "your key.\n"
        ),
        to=[contact.notify_email],
    )


def notice_send(*, notice_id: uuid.UUID | str) -> str:
    with transaction.atomic():
        notice = (
            IntakeNotice.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient", "client")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "busy"
        if notice.status != IntakeNotice.Status.PENDING:
            return notice.status
        if connection.schema_name != notice.client.schema_name:
            raise RuntimeError("An intake notice is sent from its client's schema.")
        message = _message(notice)
        if message is None:
            notice.status = IntakeNotice.Status.DROPPED
            notice.save(update_fields=["status"])
            return notice.status
        message.extra_headers["Message-ID"] = f"<intake.{notice.pk}@vertrouwd>"
        if get_connection(fail_silently=False).send_messages([message]) != 1:
            raise RuntimeError("The mail backend did not accept the e-mail.")
        notice.status = IntakeNotice.Status.SENT
        notice.sent_at = timezone.now()
        notice.attempts += 1
        notice.save(update_fields=["status", "sent_at", "attempts"])
    return notice.status


def notice_failure_record(*, notice_id: uuid.UUID | str, error: BaseException) -> None:
    IntakeNotice.objects.filter(pk=notice_id, status=IntakeNotice.Status.PENDING).update(
        attempts=F("attempts") + 1, last_error=type(error).__name__[:100]
    )


def notice_sweep(*, min_age_seconds: int = 120, limit: int = 500) -> int:
    cutoff = timezone.now() - datetime.timedelta(seconds=min_age_seconds)
    due = list(
        IntakeNotice.objects.filter(
            status=IntakeNotice.Status.PENDING, created_at__lte=cutoff, attempts__lt=20
        )
        .order_by("created_at")
        .values_list("pk", "client__schema_name")[:limit]
    )
    per_schema: dict[str, list[uuid.UUID]] = {}
    for pk, schema in due:
        per_schema.setdefault(schema, []).append(pk)
    return sum(dispatch(ids, schema) for schema, ids in per_schema.items())
