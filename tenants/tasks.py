"""Background work for the public schema and for single client organisations."""

from __future__ import annotations

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
from tenants.schemas import Reach, client_schema_task, client_schemas, fan_out, schema_fingerprint

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
def send_offer_notice(user_id: int, language: str = "nl") -> None:
    """Tell an existing account holder a role waits for their answer (no firm or role named:
    the e-mail says only where to look)."""
    from accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    with translation.override(user.language or language):
        path = reverse("role_offers", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
        body = render_to_string("tenants/email/offer.txt", {"url": console_url(path)})
        subject = render_to_string("tenants/email/offer_subject.txt").strip()
    send_mail(subject, body, None, [user.email])


@app.task(acks_late=True)
def send_self_access_notice(admin_ids: list[int], adviser_id: int, client_id: int) -> None:
    """Tell a firm's other admins that an admin assigned herself to a client (no content: who,
    which client, and where the trail is)."""
    from accounts.models import User
    from tenants.models import ClientOrganisation

    adviser = User.objects.filter(pk=adviser_id).first()
    client = ClientOrganisation.objects.filter(pk=client_id).first()
    if adviser is None or client is None:
        return
    path = reverse("trail", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    for admin in User.objects.filter(pk__in=admin_ids, is_active=True):
        with translation.override(admin.language or "nl"):
            context = {"adviser": adviser, "client": client, "url": console_url(path)}
            body = render_to_string("tenants/email/self_access.txt", context)
            subject = render_to_string("tenants/email/self_access_subject.txt").strip()
        send_mail(subject, body, None, [admin.email])


@client_schema_task
def record_schema_state() -> str:
    """Inside one client's schema (the task carries it): fingerprint its applied migrations.

    Stores the fingerprint on the client's public row, so operators (and readiness checks) can
    see that a schema is complete and current after cloning or a deploy. Idempotent.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        applied = cursor.fetchall()
    fingerprint = schema_fingerprint(applied)
    schema = connection.schema_name
    from django.utils import timezone

    from tenants.models import ClientOrganisation

    ClientOrganisation.objects.filter(schema_name=schema).update(
        schema_fingerprint=fingerprint, schema_checked_at=timezone.now()
    )
    logger.info("Schema %s has %d migrations applied (%s)", schema, len(applied), fingerprint)
    return f"{schema}:{fingerprint}"


def _theme_schemas(**filters: object) -> list[str]:
    """Schemas of clients that still have one (suspended too: they may come back)."""
    return client_schemas(reach=Reach.HOLDING_DATA, **filters)


def _queue_theme_applies(schemas: list[str]) -> int:
    # In-process mode: one schema's failure must not stop the others; the nightly run retries.
    return fan_out(themes_apply, schemas, tolerant=True)


@app.task(acks_late=True)
def themes_dispatch(firm_id: int) -> int:
    """Queue `themes_apply` for every client schema of the firm; returns how many."""
    queued = _queue_theme_applies(_theme_schemas(firm_id=firm_id))
    logger.info("Themes of firm %s: apply queued for %d client organisation(s)", firm_id, queued)
    return queued


@client_schema_task
def themes_apply() -> int:
    """Inside one client's schema: apply its firm's theme catalogue. Idempotent."""
    from tenants.themes import theme_catalogue_apply

    return theme_catalogue_apply(firm_id=connection.tenant.firm_id)


@app.task(acks_late=True)
def themes_reconcile() -> int:
    """Nightly: apply every firm's catalogue again to each of its clients (a dispatch may have
    been lost with a broker that was down). Firms that never changed a theme are skipped."""
    queued = _queue_theme_applies(_theme_schemas(firm__themes__isnull=False))
    logger.info("Themes: reconcile queued for %d client organisation(s)", queued)
    return queued
