"""The one place where the subscription's state limits what a firm can do.

Runs after tenants.middleware.AccessMiddleware (which has decided who may see the view and set
`request.firm` on the console). For a firm whose subscription is unpaid, cancelled or whose
trial has ended, every write (POST, PUT, PATCH, DELETE) on the console and on its clients' hosts
is refused with a page that says why; reads and exports still work and nothing is deleted.
Signing in and out, two-factor steps, the language switch and billing itself stay open, so the
firm can always get back in and pay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from billing import selectors
from saas.request import AppRequest

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
# URL namespaces and names that stay writable whatever the subscription's state.
OPEN_NAMESPACES = {"accounts", "billing", "admin"}
OPEN_URL_NAMES = {"set_language"}


def _firm_id(request: HttpRequest) -> int | None:
    route = getattr(request, "route", None)
    if route is not None:
        return route.firm_id
    firm = getattr(request, "firm", None)
    return firm.pk if firm is not None else None


def _state(request: HttpRequest) -> selectors.AccessState:
    firm_id = _firm_id(request)
    if firm_id is None:
        return selectors.FULL
    return selectors.access_state(firm_id=firm_id)


def _is_open(request: HttpRequest) -> bool:
    match = request.resolver_match
    if match is None:
        return False
    return bool(OPEN_NAMESPACES & set(match.namespaces)) or match.url_name in OPEN_URL_NAMES


class SubscriptionAccessMiddleware:
    """Read-only mode for firms without a subscription in force; see the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: AppRequest) -> HttpResponse:
        # Evaluated (one query) only when a write needs it or a firm admin's page shows the banner.
        request.billing = cast(selectors.AccessState, SimpleLazyObject(lambda: _state(request)))
        return self.get_response(request)

    def process_view(
        self, request: AppRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method in SAFE_METHODS or _is_open(request) or _firm_id(request) is None:
            return None
        state = request.billing
        if not state.read_only:
            return None
        return render(request, "billing/read_only.html", {"state": state}, status=403)
