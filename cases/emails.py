"""Deadline reminders to advisers (rows of the mail outbox, `mail.kinds`).

A reminder names the client organisation, the case reference and the kind of deadline, read
from the public work index when it is sent: nothing of the case file. Only deadlines of clients
the adviser is assigned to at that moment are listed; with none left the e-mail is dropped.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from tenants.models import Assignment, ClientOrganisation
from workindex.models import CaseworkEntry

DEADLINE_REMINDER = "cases.deadline_reminder"
REMINDER_DAYS_AHEAD = 2


def deadlines_due(*, day: datetime.date) -> QuerySet[CaseworkEntry]:
    """Open cases of active clients with a handler and a deadline within the reminder horizon."""
    horizon = day + datetime.timedelta(days=REMINDER_DAYS_AHEAD)
    return (
        CaseworkEntry.objects.filter(
            Q(acknowledgement_due_on__lte=horizon)
            | Q(feedback_due_on__lte=horizon)
            | Q(followup_due_on__lte=horizon)
        )
        .filter(adviser_id__isnull=False, client__status=ClientOrganisation.Status.ACTIVE)
        .select_related("client")
        .order_by("client__name", "case_reference")
    )


@kind(DEADLINE_REMINDER)
def deadline_reminder(email: OutgoingEmail) -> EmailMessage | None:
    user = email.recipient
    if user is None or not user.is_active:
        return None
    day = datetime.date.fromisoformat(email.params["day"])
    horizon = day + datetime.timedelta(days=REMINDER_DAYS_AHEAD)
    assigned = Assignment.objects.in_force().filter(adviser_id=user.pk).values("client_id")
    entries = deadlines_due(day=day).filter(adviser_id=user.pk, client_id__in=assigned)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        lines = []
        for entry in entries:
            for label, due_on in (
                (_("acknowledgement due"), entry.acknowledgement_due_on),
                (_("feedback due"), entry.feedback_due_on),
                (_("follow-up due"), entry.followup_due_on),
            ):
                if due_on is not None and due_on <= horizon:
                    lines.append(
                        f"- {entry.client.name} {entry.case_reference}: "
                        f"{label} {due_on.isoformat()}"
                    )
        if not lines:
            return None
        return message(
            subject=_("Vertrouwd: deadlines in the coming days"),
            body="\n".join([_("These deadlines are due soon:"), "", *lines, ""]),
            to=[user.email],
        )
