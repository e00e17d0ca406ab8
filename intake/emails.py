"""Content-free intake notices (rows of the mail outbox, sent from the client's schema).

To an adviser: "there is something new in an organisation's intake" and a link to the console's
my-day page (no client name, no contact id), only while they may read the contact. To a
reporter who left an address: "there is an answer"; no organisation, no link, no text (a shared
or work mailbox may be read by others). The reporter's address is read from the client's schema
(encrypted there) when the e-mail is sent; the outbox row holds only the contact's id.
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from mail.kinds import kind, message
from mail.models import OutgoingEmail

TO_ADVISER = "intake.adviser"
TO_REPORTER = "intake.reporter"


def _contact(email: OutgoingEmail):  # -> intake.models.Contact | None
    from intake.models import Contact

    return Contact.objects.filter(pk=email.params["contact"]).first()


@kind(TO_ADVISER, in_client_schema=True)
def to_adviser(email: OutgoingEmail) -> EmailMessage | None:
    from intake.selectors import may_read
    from saas import hosts

    user, contact = email.recipient, _contact(email)
    if user is None or contact is None or not user.is_active or not may_read(user, contact):
        return None
    with translation.override(getattr(user, "language", None) or "nl"):
        return message(
            subject=_("Vertrouwd: something new in an intake"),
            body=_(
                "There is something new for you in an organisation's intake. "
                "Open your day on Vertrouwd to see it:\n\n%(link)s\n"
            )
            % {"link": hosts.console_url("/console/my-day/", request=None)},
            to=[user.email],
        )


@kind(TO_REPORTER, in_client_schema=True)
def to_reporter(email: OutgoingEmail) -> EmailMessage | None:
    from intake.models import Contact

    contact = _contact(email)
    if contact is None or not contact.notify_email or contact.status == Contact.Status.CLOSED:
        return None
    return message(
        subject="Vertrouwd",
        body=(
            "Er staat een nieuw bericht voor u klaar. Open de pagina waar u uw melding deed en "
            "voer uw sleutel in.\n\n"
            "There is a new message for you. Open the page where you wrote to us and enter "
            "your key.\n"
        ),
        to=[contact.notify_email],
    )
