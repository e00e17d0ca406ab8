"""The client's intake address, its short link for posters and QR codes, and the short link's
answer on the base host: on to the intake page, or, for a suspended or offboarded client, a page
saying the channel is closed and where else to go (the client's own host no longer resolves)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from intake.public.models import IntakeLink
from intake.web import strict_headers
from saas import hosts
from tenants.access import public
from tenants.models import ClientOrganisation

_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def short_link_for(client: Any) -> IntakeLink:
    """The client's short link, made on first use (a unique random code of eight characters)."""
    link = IntakeLink.objects.filter(client_id=client.pk).first()
    while link is None:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        try:
            with transaction.atomic():
                link = IntakeLink.objects.create(client_id=client.pk, code=code)
        except IntegrityError:
            link = IntakeLink.objects.filter(client_id=client.pk).first()
    return link


def short_url(link: IntakeLink, request: HttpRequest | None = None) -> str:
    return hosts.console_url(f"/m/{link.code}/", request=request)


def intake_url(client: Any, request: HttpRequest | None = None) -> str:
    domain = client.domains.filter(is_primary=True).values_list("domain", flat=True).first()
    if domain is None:
        domain = (
            ClientOrganisation.objects.get(pk=client.pk)
            .domains.values_list("domain", flat=True)
            .first()
        )
    return hosts.absolute_url(domain, "/intake/", request=request)


@public
@require_GET
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    link = (
        IntakeLink.objects.select_related("client").filter(code=(code or "")[:16].lower()).first()
    )
    if link is None:
        # Not the site's 404 page, which sets the CSRF cookie for every host of the base domain.
        translation.activate(_language(request))
        return strict_headers(
            render(
                request,
                "intake/not_found.html",
                {"lang": _language(request), "short": True},
                status=404,
            )
        )
    client = link.client
    if client.status == ClientOrganisation.Status.ACTIVE:
        return strict_headers(HttpResponseRedirect(intake_url(client, request=request)))
    lang = _language(request)
    translation.activate(lang)
    return strict_headers(
        render(request, "intake/closed.html", {"lang": lang, "short": True}, status=410)
    )


def _language(request: HttpRequest) -> str:
    lang = request.GET.get("lang") if request.GET.get("lang") in ("nl", "en") else None
    return lang or (request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("nl", "en") else "nl")
