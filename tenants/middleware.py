"""Request pipeline: find the client organisation from the host, then enforce access policies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.template import loader
from django.urls import reverse
from django.utils import translation

from saas import hosts
from saas.request import AppRequest
from tenants import access
from tenants.access import Policy, Role
from tenants.current import ROUTE_ONLY
from tenants.migration_runner import schema_is_current
from tenants.models import ClientOrganisation
from tenants.routing import normalise_host, route_for_host

logger = logging.getLogger(__name__)
# django-tenants' database wrapper (set_tenant, set_schema_to_public); it ships no type stubs.
tenant_db: Any = connection


def _maintenance_response() -> HttpResponse:
    # The client's schema is behind the code (a deploy's migration has not reached it, or failed
    # for it): serving it could read or write a structure the code does not expect.
    response = HttpResponse(loader.render_to_string("maintenance.html"), status=503)
    response["Retry-After"] = "120"
    response["Cache-Control"] = "no-store"
    return response


def _unknown_host_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/intake/"):
        return _closed_intake_response(request)
    # Rendered without a request context: nothing here may touch the database or the session.
    body = loader.render_to_string(
        "unknown_host.html", {"base_url": hosts.console_url("/", request=None)}
    )
    return HttpResponseNotFound(body)


def _closed_intake_response(request: HttpRequest) -> HttpResponse:
    """A reporter's bookmark, or the address on a poster, of a client that is suspended or
    offboarded (its host resolves no more; offboarding deletes its domains): the channel is
    closed and where else to go, as the short link says. The same for every unknown host, so it
    tells nobody whether an organisation was ever there. No database, no session, no cookie."""
    from intake.web import LANGUAGES, strict_headers

    parts = request.path.split("/")
    lang = parts[2] if len(parts) > 2 and parts[2] in LANGUAGES else None
    if lang is None:
        preferred = translation.get_language_from_request(request)
        lang = preferred if preferred in LANGUAGES else LANGUAGES[0]
    with translation.override(lang):
        body = loader.render_to_string("intake/closed.html", {"lang": lang})
    return strict_headers(HttpResponse(body, status=410))


class TenantRoutingMiddleware:
    """Resolve the host to the console (public schema) or one client organisation's schema.

    Replaces django-tenants' TenantMainMiddleware: a cached lookup (no SQL once warm) and a plain
    404 for hosts we do not serve, before Django's ALLOWED_HOSTS check could show a trace.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: AppRequest) -> HttpResponse:
        host = normalise_host(request.META.get("HTTP_HOST", ""))
        request.route = None
        request.tenant = None
        if hosts.is_base_host(host):
            tenant_db.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return self.get_response(request)
        if not hosts.is_under_base(host):
            return _unknown_host_response(request)
        route = route_for_host(host)
        if route is None:
            return _unknown_host_response(request)
        if not schema_is_current(
            schema_name=route.schema_name,
            fingerprint=route.schema_fingerprint,
            client_id=route.client_id,
        ):
            return _maintenance_response()
        tenant = ClientOrganisation(
            id=route.client_id,
            schema_name=route.schema_name,
            firm_id=route.firm_id,
            name=route.name,
            slug=route.slug,
        )
        tenant._state.adding = False
        setattr(tenant, ROUTE_ONLY, True)  # not the whole row: tenants.current reads that
        tenant_db.set_tenant(tenant)
        request.tenant = tenant
        request.route = route
        request.urlconf = settings.ROOT_URLCONF
        try:
            return self.get_response(request)
        finally:
            tenant_db.set_schema_to_public()


def _context_roles(request: AppRequest) -> frozenset[Role]:
    route = getattr(request, "route", None)
    if route is not None:
        return access.roles_in_client(
            request.user, client_id=route.client_id, firm_id=route.firm_id
        )
    return access.roles_in_firm(request.user, request.firm)


def _current_firm(request: HttpRequest) -> Any:
    firms = access.firms_of(request.user)
    if not firms:
        return None
    chosen = request.session.get("firm_id")
    return next((firm for firm in firms if firm.pk == chosen), firms[0])


class AccessMiddleware:
    """Enforce the view's declared policy; see tenants.access. Runs after auth and OTP middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: AppRequest) -> HttpResponse:
        # Filled in by process_view once the user is known to be signed in and verified.
        request.firm = None
        request.roles = frozenset()
        return self.get_response(request)

    def process_view(
        self, request: AppRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and "admin" in match.namespaces:
            policy, roles = Policy.PLATFORM_STAFF, frozenset[Role]()
        else:
            declared = access.policy_of(view_func)
            if declared is None:
                logger.error(
                    "View %s declares no access policy; refused.",
                    getattr(view_func, "__name__", view_func),
                )
                raise Http404
            policy, roles = declared
        if policy is Policy.PUBLIC:
            return None
        user = request.user
        if not user.is_authenticated:
            return HttpResponseRedirect(
                hosts.console_url(
                    reverse("accounts:login", urlconf=settings.PUBLIC_SCHEMA_URLCONF),
                    request=request,
                    next=request.build_absolute_uri(),
                )
            )
        on_client_host = getattr(request, "route", None) is not None
        if policy is Policy.SIGNED_IN and not on_client_host:
            return None
        if not _is_verified(user):
            step = (
                "accounts:two_factor_verify"
                if _has_confirmed_device(user)
                else "accounts:two_factor_setup"
            )
            return HttpResponseRedirect(
                hosts.console_url(
                    reverse(step, urlconf=settings.PUBLIC_SCHEMA_URLCONF),
                    request=request,
                    next=request.build_absolute_uri(),
                )
            )
        if not on_client_host:
            request.firm = _current_firm(request)
        request.roles = _context_roles(request)
        # A client organisation's host is closed to anybody without a role there, whatever the view.
        if on_client_host and not request.roles:
            raise Http404
        if policy is Policy.PLATFORM_STAFF:
            if not user.is_staff:
                raise Http404
            return None
        if policy in (Policy.VERIFIED, Policy.SIGNED_IN):
            return None
        if not (request.roles & roles):
            raise Http404
        return None


def _is_verified(user: Any) -> bool:
    """Whether the user passed the second factor in this session (django-otp's middleware adds
    `is_verified` to the request's user)."""
    return bool(user.is_verified())


def _has_confirmed_device(user: Any) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)
