"""What every reporter-facing page shares: language from the path, strict headers, no cookie
before the key, and the mailbox cookie after it.

- The language is in the path (`/intake/nl/…`, `/intake/en/…`): switching needs no cookie.
- Headers: a Content-Security-Policy that allows this origin only (no inline script or style,
  no frames, forms post here only), `Cache-Control: no-store` (a shared computer's back button
  shows no message), `Referrer-Policy: no-referrer`.
- Cookies: these views are CSRF-exempt (Django's CSRF cookie would be the first cookie) and
  never touch the session. The one cookie is the mailbox's, set after a valid key: host-only,
  path `/intake/`, HttpOnly, SameSite=Strict, no expiry (gone with the browser). Any other
  cookie a middleware might add on the way out is dropped. Mailbox forms carry a token bound
  to the cookie's token (`keys.form_token`), so another site cannot post into a mailbox.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from tenants.access import public

LANGUAGES = ("nl", "en")
COOKIE = "vt_mailbox"
COOKIE_PATH = "/intake/"
# Stricter than the site-wide policy (settings.CONTENT_SECURITY_POLICY): no data: images, forms
# post to this host only, no media, workers or frames at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; media-src 'none'; worker-src 'none'; "
    "frame-src 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def strict_headers(response: HttpResponse, *, keep_cookie: bool = False) -> HttpResponse:
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    for name in list(response.cookies):
        if not (keep_cookie and name == COOKIE):
            del response.cookies[name]
    return response


def reporter_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, lang: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            if lang not in LANGUAGES:
                lang = LANGUAGES[0]
                raise Http404
            translation.activate(lang)
            request.LANGUAGE_CODE = lang
            response = view(request, lang, *args, **kwargs)
        except Http404:
            # Not the site's 404 page: its language form asks for Django's CSRF cookie, which
            # would be the reporter's first cookie (for the whole base domain, for a year).
            response = render(request, "intake/not_found.html", {"lang": lang}, status=404)
        return strict_headers(response, keep_cookie=getattr(response, "mailbox_cookie", False))

    return public(csrf_exempt(wrapper))


def set_mailbox_cookie(response: HttpResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    response.mailbox_cookie = True  # type: ignore[attr-defined]


def clear_mailbox_cookie(response: HttpResponse) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Strict")
    response.mailbox_cookie = True  # type: ignore[attr-defined]
