"""Background work for the public schema and for single client organisations."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from saas.celery import app
from saas.hosts import console_url

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def send_invitation(user_id: int, language: str = "nl") -> None:
    """E-mail a set-your-password link. Idempotent enough: a repeat sends a still-valid link."""
    from accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    with translation.override(language):
        path = reverse(
            "accounts:invitation_accept",
            urlconf=settings.PUBLIC_SCHEMA_URLCONF,
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        body = render_to_string(
            "accounts/email/invitation.txt", {"user": user, "url": console_url(path)}
        )
        subject = render_to_string("accounts/email/invitation_subject.txt").strip()
    send_mail(subject, body, None, [user.email])


@app.task(acks_late=True)
def record_schema_state() -> str:
    """Inside one client's schema (the task carries it): fingerprint its applied migrations.

    Stores the fingerprint on the client's public row, so operators (and readiness checks) can
    see that a schema is complete and current after cloning or a deploy. Idempotent.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        applied = cursor.fetchall()
    fingerprint = hashlib.sha256(repr(sorted(applied)).encode()).hexdigest()[:16]
    schema = connection.schema_name
    from django.utils import timezone

    from tenants.models import ClientOrganisation

    ClientOrganisation.objects.filter(schema_name=schema).update(
        schema_fingerprint=fingerprint, schema_checked_at=timezone.now()
    )
    logger.info("Schema %s has %d migrations applied (%s)", schema, len(applied), fingerprint)
    return f"{schema}:{fingerprint}"
