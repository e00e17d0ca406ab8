"""Credential reminders (rows of the mail outbox, `mail.kinds`): what of the recipient's own
falls due and when, with the client organisation for an internal adviser's training."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from tenants.models import ClientOrganisation

CREDENTIALS_DUE = "credentials.due"


def _label(item: dict) -> str:
    from credentials.selectors import due_label

    # Rows queued before codes existed carry the label in the server's language.
    return due_label(item["code"]) if item.get("code") else str(item.get("what", ""))


@kind(CREDENTIALS_DUE)
def credentials_due(email: OutgoingEmail) -> EmailMessage | None:
    user = email.recipient
    if user is None or not user.is_active:
        return None
    items = email.params["items"]
    names = dict(
        ClientOrganisation.objects.filter(
            pk__in=[item["client"] for item in items if item["client"]]
        ).values_list("pk", "name")
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        lines = [
            f"- {_label(item)}: {datetime.date.fromisoformat(item['due_on']).isoformat()}"
            + (f" ({names[item['client']]})" if item["client"] in names else "")
            for item in items
        ]
        return message(
            subject=_("Vertrouwd: credentials due soon"),
            body="\n".join([_("These fall due soon:"), "", *lines, ""]),
            to=[user.email],
        )
