"""The password-reset e-mail (a row of the mail outbox): a link with a token made when sent."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from tenants.emails import console_link

PASSWORD_RESET = "accounts.password_reset"  # noqa: S105 (a kind of e-mail)


@kind(PASSWORD_RESET)
def password_reset(email: OutgoingEmail) -> EmailMessage | None:
    user = email.recipient
    if user is None or not user.is_active:
        return None
    with translation.override(email.params.get("language") or user.language or "nl"):
        url = console_link(
            "accounts:password_reset_confirm",
            uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
            token=default_token_generator.make_token(user),
        )
        body = render_to_string("accounts/email/password_reset.txt", {"url": url})
        subject = render_to_string("accounts/email/password_reset_subject.txt")
    return message(subject=subject, body=body, to=[user.email])
