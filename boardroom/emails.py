"""Board-signal e-mails to a client's contact persons (rows of the mail outbox, `mail.kinds`).

They say where to look, never what: the client's name (the recipient's own organisation) and
that a signal is waiting. Rendered in the public schema when sent, in the recipient's language;
someone who is no longer a contact person of the client by then gets nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from tenants.models import ClientMembership

SIGNAL_SENT = "boardroom.signal_sent"
SIGNAL_REMINDER = "boardroom.signal_reminder"

# Translated when sent, in each recipient's language.
SENT_SUBJECT = gettext_noop("Vertrouwd: a new signal for %(client)s")
SENT_BODY = gettext_noop(
    "Your confidential adviser sent a signal to the board of %(client)s. "
    "Sign in to Vertrouwd to read and acknowledge it."
)
REMINDER_SUBJECT = gettext_noop("Vertrouwd: a signal for %(client)s awaits acknowledgement")
REMINDER_BODY = gettext_noop(
    "A signal from your confidential adviser to the board of %(client)s has not been "
    "acknowledged yet. Sign in to Vertrouwd to read and acknowledge it."
)


def contact_person_ids(client_id: int) -> list[int]:
    """The client's active contact persons: who hears about the board's signals."""
    return list(
        ClientMembership.objects.filter(
            client_id=client_id, role=ClientMembership.Role.CONTACT_PERSON, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def _to_contact_person(email: OutgoingEmail, subject: str, body: str) -> EmailMessage | None:
    user, client = email.recipient, email.client
    if user is None or client is None or user.pk not in contact_person_ids(client.pk):
        return None
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return message(
            subject=_(subject) % {"client": client.name},
            body=_(body) % {"client": client.name},
            to=[user.email],
        )


@kind(SIGNAL_SENT)
def signal_sent(email: OutgoingEmail) -> EmailMessage | None:
    return _to_contact_person(email, SENT_SUBJECT, SENT_BODY)


@kind(SIGNAL_REMINDER)
def signal_reminder(email: OutgoingEmail) -> EmailMessage | None:
    return _to_contact_person(email, REMINDER_SUBJECT, REMINDER_BODY)
