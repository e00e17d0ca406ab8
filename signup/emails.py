"""The sign-up page's notice to an existing account holder (a row of the mail outbox).

The invitation of a new firm's first admin is `tenants.emails.INVITATION`.
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from mail.kinds import kind, message
from mail.models import OutgoingEmail
from tenants.emails import console_link, invitation_link

ACCOUNT_EXISTS = "signup.account_exists"


@kind(ACCOUNT_EXISTS)
def account_exists(email: OutgoingEmail) -> EmailMessage | None:
    """Tell an account holder that someone tried to start a firm with their address.

    Holds no text the visitor typed (the page is public: a stranger must not be able to send
    words of their own to someone else's inbox). An account whose invitation was never accepted
    gets a fresh link to choose a password, because password reset ignores such accounts.
    """
    user = email.recipient
    if user is None or not user.is_active:
        return None
    with translation.override(email.params.get("language") or "nl"):
        context = {
            "sign_in_url": console_link("accounts:login"),
            "password_reset_url": console_link("accounts:password_reset"),
            "invitation_url": "" if user.has_usable_password() else invitation_link(user),
        }
        body = render_to_string("signup/email/account_exists.txt", context)
        subject = render_to_string("signup/email/account_exists_subject.txt")
    return message(subject=subject, body=body, to=[user.email])
