"""Sessions that end when they should: per-user session generation, and no caching of pages.

Every session remembers the user's `session_generation` at sign-in (stamped by the
`user_logged_in` receiver below). Raising the number (`tenants.services.user_sessions_end`:
removal, deactivation, "sign out everywhere") signs out every session with an older number on
its next request, on every process and device: the check reads the user row that
`AuthenticationMiddleware` loads anyway, so it costs no query of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

SESSION_GENERATION_KEY = "vt_session_generation"


def stamp_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """`user_logged_in` receiver: remember which generation this session belongs to."""
    if request is not None and hasattr(request, "session"):
        # From the row, not the instance: the caller's copy may predate a removal.
        current = (
            type(user)
            .objects.filter(pk=user.pk)
            .values_list("session_generation", flat=True)
            .first()
        )
        request.session[SESSION_GENERATION_KEY] = current or 0


def keep_this_session(request: HttpRequest) -> None:
    """After the user ended their other sessions, this one belongs to the new generation."""
    request.user.refresh_from_db(fields=["session_generation"])
    request.session[SESSION_GENERATION_KEY] = request.user.session_generation


class SessionGenerationMiddleware:
    """Sign out a session whose user ended all sessions since (after AuthenticationMiddleware).

    Also marks every response to a signed-in request `Cache-Control: no-store`: whatever a page
    behind the sign-in shows (case files, threads, figures, people) must not stay in a browser
    or proxy cache after the person signs out or loses access.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = False
        if hasattr(request, "session") and request.session.get("_auth_user_id"):
            user = request.user
            if user.is_authenticated:
                stamped = request.session.get(SESSION_GENERATION_KEY, 0)
                if stamped != user.session_generation:
                    logout(request)
                    request.user = AnonymousUser()
                else:
                    signed_in = True
        response = self.get_response(request)
        # Also a response that just signed somebody in (the user was anonymous at the start).
        signed_in = signed_in or bool(
            getattr(getattr(request, "user", None), "is_authenticated", False)
        )
        if signed_in and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response
