"""Sparring notification e-mails (rows of the mail outbox, `mail.kinds`).

They hold no content and no names: only that there is a new message, and a link to the
console, which forwards the recipient (and nobody else) to the thread (`/sparring/open/<row id>/`).
A message e-mail is sent from its client's schema, where the thread is, and only while the
recipient may still read the thread; a digest (public schema) counts the threads of clients the
adviser is assigned to when it is sent.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from saas import hosts
from sparring.models import Thread
from sparring.public.models import DigestNotice
from tenants.access import Role, roles_in_client
from tenants.models import Assignment

MESSAGE = "sparring.message"
DIGEST = "sparring.digest"


def _may_still_read(email: OutgoingEmail) -> bool:
    """Whether the recipient may still see the thread (in its client's schema; a few queries)."""
    recipient, client = email.recipient, email.client
    if recipient is None or client is None or not recipient.is_active:
        return False
    thread = Thread.objects.filter(pk=email.params["thread"]).values("started_by_id").first()
    if thread is None:
        return False
    roles = roles_in_client(recipient, client_id=client.pk, firm_id=client.firm_id)
    if Role.ADVISER in roles:
        return True
    return Role.INTERNAL_ADVISER in roles and thread["started_by_id"] == recipient.pk


def _digest_thread_count(email: OutgoingEmail) -> int:
    assigned = (
        Assignment.objects.in_force(timezone.localdate())
        .filter(adviser_id=email.recipient_id)
        .values("client_id")
    )
    return (
        DigestNotice.objects.filter(email=email, client_id__in=assigned)
        .values("client_id", "thread_id")
        .distinct()
        .count()
    )


def _render(email: OutgoingEmail, template: str, url: str, thread_count: int) -> EmailMessage:
    recipient = email.recipient
    assert recipient is not None
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        context = {"url": url, "thread_count": thread_count}
        subject = render_to_string(f"sparring/email/{template}_subject.txt", context)
        body = render_to_string(f"sparring/email/{template}.txt", context)
    return message(subject=subject, body=body, to=[recipient.email])


@kind(MESSAGE, in_client_schema=True)
def new_message(email: OutgoingEmail) -> EmailMessage | None:
    if not _may_still_read(email):
        return None
    path = reverse(
        "sparring_console:open",
        kwargs={"email_id": email.pk},
        urlconf=settings.PUBLIC_SCHEMA_URLCONF,
    )
    return _render(email, "message", hosts.console_url(path), 1)


@kind(DIGEST)
def digest(email: OutgoingEmail) -> EmailMessage | None:
    if email.recipient is None or not email.recipient.is_active:
        return None
    thread_count = _digest_thread_count(email)
    if thread_count == 0:
        return None
    path = reverse("sparring_console:overview", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    return _render(email, "digest", hosts.console_url(path), thread_count)
