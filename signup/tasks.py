"""E-mail of the sign-up page that is not the invitation (that is `tenants.tasks.send_invitation`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from saas.celery import app
from saas.hosts import console_url


def _console(name: str, **kwargs: str) -> str:
    return console_url(reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF, kwargs=kwargs or None))


@app.task(acks_late=True)
def send_account_exists_notice(user_id: int, language: str = "nl") -> None:
    """Tell an account holder that someone tried to start a firm with their address.

    Holds no text the visitor typed (the page is public: a stranger must not be able to send
    words of their own to someone else's inbox). An account whose invitation was never accepted
    gets a fresh link to choose a password, because password reset ignores such accounts.
    """
    from accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    with translation.override(language):
        invitation_url = ""
        if not user.has_usable_password():
            invitation_url = _console(
                "accounts:invitation_accept",
                uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
                token=default_token_generator.make_token(user),
            )
        context = {
            "sign_in_url": _console("accounts:login"),
            "password_reset_url": _console("accounts:password_reset"),
            "invitation_url": invitation_url,
        }
        body = render_to_string("signup/email/account_exists.txt", context)
        subject = render_to_string("signup/email/account_exists_subject.txt").strip()
    send_mail(subject, body, None, [user.email])
