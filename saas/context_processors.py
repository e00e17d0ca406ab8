from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from saas import hosts


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Links every page needs: the console (base host) and, on a client host, that client."""
    route = getattr(request, "route", None)
    return {
        "console_home_url": hosts.console_url("/", request=request),
        # Each host signs out on itself (see saas/urls_tenant.py); the session is shared.
        "console_logout_url": "/accounts/logout/",
        # "My account" (preferences, new backup codes) lives on the console; every signed-in
        # person reaches it from a client host too (contact persons have no console pages).
        "account_url": hosts.console_url("/accounts/preferences/", request=request),
        # The organisation's name only for people with a role there: the 404 page shown to
        # everybody else on that host must not confirm which organisation lives there.
        "current_route": route if route is not None and getattr(request, "roles", None) else None,
        "on_client_host": route is not None,
        "base_domain": settings.BASE_DOMAIN,
        "signup_open": settings.SIGNUP_OPEN,
    }
