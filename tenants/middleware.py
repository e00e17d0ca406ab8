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

from saas import hosts
from tenants import access
from tenants.access import Policy, Role
from tenants.migration_runner import schema_is_current
from tenants.models import ClientOrganisation
from tenants.routing import normalise_host, route_for_host

logger = logging.getLogger(__name__)


def _maintenance_response() -> HttpResponse:
    # The client's schema is behind the code (a deploy's migration has not reached it, or failed
    # for it): serving it could read or write a structure the code does not expect.
    response = HttpResponse(loader.render_to_string("maintenance.html"), status=503)
    response["Retry-After"] = "120"
    response["Cache-Control"] = "no-store"
    return response


def _unknown_host_response(request: HttpRequest) -> HttpResponse:
    # Rendered without a request context: nothing here may touch the database or the session.
    body = loader.render_to_string(
        "unknown_host.html", {"base_url": hosts.console_url("/", request=None)}
    )
    return HttpResponseNotFound(body)


class TenantRoutingMiddleware:
    """Resolve the host to the console (public schema) or one client organisation's schema.

    Replaces django-tenants' TenantMainMiddleware: a cached lookup (no SQL once warm) and a plain
    404 for hosts we do not serve, before Django's ALLOWED_HOSTS check could show a trace.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = normalise_host(request.META.get("HTTP_HOST", ""))
        request.route = None  # type: ignore[attr-defined]
        request.tenant = None  # type: ignore[attr-defined]
        if hosts.is_base_host(host):
            connection.set_schema_to_public()
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
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
        connection.set_tenant(tenant)
        request.tenant = tenant  # type: ignore[attr-defined]
        request.route = route  # type: ignore[attr-defined]
        request.urlconf = settings.ROOT_URLCONF  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()


def _context_roles(request: HttpRequest) -> frozenset[Role]:
    route = getattr(request, "route", None)
    if route is not None:
        return access.roles_in_client(
            request.user, client_id=route.client_id, firm_id=route.firm_id
        )
    return access.roles_in_firm(request.user, request.firm)  # type: ignore[attr-defined]


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

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Filled in by process_view once the user is known to be signed in and verified.
        request.firm = None  # type: ignore[attr-defined]
        request.roles = frozenset()  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and "admin" in match.namespaces:
            policy, roles = Policy.PLATFORM_STAFF, frozenset()
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
        if not user.is_verified():
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
            request.firm = _current_firm(request)  # type: ignore[attr-defined]
        request.roles = _context_roles(request)  # type: ignore[attr-defined]
        # A client organisation's host is closed to anybody without a role there, whatever the view.
        if on_client_host and not request.roles:  # type: ignore[attr-defined]
            raise Http404
        if policy is Policy.PLATFORM_STAFF:
            if not user.is_staff:
                raise Http404
            return None
        if policy in (Policy.VERIFIED, Policy.SIGNED_IN):
            return None
        if not (request.roles & roles):  # type: ignore[attr-defined]
            raise Http404
        return None


def _has_confirmed_device(user: Any) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)
