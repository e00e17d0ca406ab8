"""Invitations, role offers and self-access notices (rows of the mail outbox, `mail.kinds`).

Rendered when sent: the set-password link gets its token then (the outbox never stores one),
and an account closed in the meantime gets nothing. None of them carries text someone typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from saas.hosts import console_url
from tenants.models import FirmMembership

if TYPE_CHECKING:
    from accounts.models import User

INVITATION = "tenants.invitation"
ROLE_OFFER = "tenants.role_offer"
SELF_ACCESS = "tenants.self_access"


def console_link(name: str, **kwargs: str) -> str:
    """An absolute link to a page of the console (base host)."""
    return console_url(reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF, kwargs=kwargs or None))


def invitation_link(user: User) -> str:
    """The set-password link of an invitation, with a token made now."""
    return console_link(
        "accounts:invitation_accept",
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )


def _language(email: OutgoingEmail) -> str:
    return str(email.params.get("language") or settings.LANGUAGE_CODE)


@kind(INVITATION)
def invitation(email: OutgoingEmail) -> EmailMessage | None:
    """A set-your-password link (in the language of the page that invited)."""
    user = email.recipient
    if user is None or not user.is_active:
        return None
    with translation.override(_language(email)):
        body = render_to_string(
            "accounts/email/invitation.txt", {"user": user, "url": invitation_link(user)}
        )
        subject = render_to_string("accounts/email/invitation_subject.txt")
    return message(subject=subject, body=body, to=[user.email])


@kind(ROLE_OFFER)
def role_offer(email: OutgoingEmail) -> EmailMessage | None:
    """A role waits for the account holder's answer; no firm or role named, only where to look."""
    user = email.recipient
    if user is None or not user.is_active:
        return None
    with translation.override(user.language or _language(email)):
        body = render_to_string("tenants/email/offer.txt", {"url": console_link("role_offers")})
        subject = render_to_string("tenants/email/offer_subject.txt")
    return message(subject=subject, body=body, to=[user.email])


@kind(SELF_ACCESS)
def self_access(email: OutgoingEmail) -> EmailMessage | None:
    """To another firm admin: an admin assigned herself to a client (who, which client, where
    the trail is; no content). Someone who is no longer an admin of the firm gets nothing."""
    from accounts.models import User

    admin, client = email.recipient, email.client
    adviser = User.objects.filter(pk=email.params["adviser"]).first()
    if admin is None or client is None or adviser is None or not admin.is_active:
        return None
    is_admin = FirmMembership.objects.filter(
        user=admin, firm_id=client.firm_id, role=FirmMembership.Role.FIRM_ADMIN
    ).exists()
    if not is_admin:
        return None
    with translation.override(admin.language or settings.LANGUAGE_CODE):
        context = {"adviser": adviser, "client": client, "url": console_link("trail")}
        body = render_to_string("tenants/email/self_access.txt", context)
        subject = render_to_string("tenants/email/self_access_subject.txt")
    return message(subject=subject, body=body, to=[admin.email])
