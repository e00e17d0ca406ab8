"""One guard for hostile or broken requests, before any view or Django's own parsing trips on it.

- A body in a charset other than UTF-8 (`Content-Type: …; charset=utf-16`): Django decodes form
  fields with it and its 400 handler reads the body again, which ended in a bare 500 on every
  form. Refused with 400.
- A body larger than MAX_REQUEST_BYTES (by Content-Length, or Django's own
  DATA_UPLOAD_MAX_MEMORY_SIZE / field-count limits while parsing): 413 instead of a bare
  "Bad Request (400)".
- A NUL character in any query or form value: PostgreSQL cannot store or compare it (a case
  reference or access-log filter with %00 was a 500). Refused with 400 for every form at once.

Each answer is a short page in the visitor's language (LocaleMiddleware runs before this one;
on the employee intake's pages, whose path names the reporter's language, that one). The
Stripe webhook reads its raw body itself and is checked there (it is not a form).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

ACCEPTED_CHARSETS = {"utf-8", "ascii"}
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
RAW_BODY_PATHS = ("/billing/webhook/",)
# The intake's reporter pages carry the language in the path (no cookie, and the browser's
# language may not be the one the reporter chose); their refusals get the intake's headers.
INTAKE_PAGE = re.compile(r"^/intake/(nl|en)/")


def refusal(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    body = render_to_string(
        "request_refused.html", {"title": title, "message": message, "status": status}
    )
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def has_nul(values: object) -> bool:
    for _key, items in values.lists():  # type: ignore[attr-defined]
        if "\x00" in _key or any("\x00" in item for item in items if isinstance(item, str)):
            return True
    return False


def _charset(request: HttpRequest) -> str | None:
    params = request.content_params or {}
    charset = (params.get("charset") or "").strip().strip('"').lower()
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return charset


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        intake = INTAKE_PAGE.match(request.path)
        if intake is None:
            refused = self._check(request)
        else:
            from intake.web import strict_headers

            with translation.override(intake[1]):
                refused = self._check(request)
            if refused is not None:
                strict_headers(refused)
        return refused if refused is not None else self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        try:
            if has_nul(request.GET):
                return self._nul(request)
        except UnicodeDecodeError:
            return self._bad_encoding(request)
        if request.method not in BODY_METHODS:
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return self._too_large(request)
        charset = _charset(request)
        if charset is not None and charset not in ACCEPTED_CHARSETS:
            return self._bad_encoding(request)
        if request.path.startswith(RAW_BODY_PATHS):
            return None
        try:
            if has_nul(request.POST):
                return self._nul(request)
        except RequestDataTooBig:
            # Under MAX_REQUEST_BYTES, so the form's texts passed DATA_UPLOAD_MAX_MEMORY_SIZE
            # (files do not count): a pasted text of a million characters, not the files.
            return self._text_too_long(request)
        except TooManyFieldsSent:
            return self._too_large(request)
        except (UnicodeDecodeError, MultiPartParserError):
            return self._bad_encoding(request)
        return None

    @staticmethod
    def _nul(request: HttpRequest) -> HttpResponse:
        return refusal(
            request,
            status=400,
            title=_("This input cannot be used"),
            message=_(
                "A text contained an invisible control character (NUL). Remove it and try again."
            ),
        )

    @staticmethod
    def _bad_encoding(request: HttpRequest) -> HttpResponse:
        return refusal(
            request,
            status=400,
            title=_("This input cannot be used"),
            message=_("The form was sent in a character encoding other than UTF-8."),
        )

    @staticmethod
    def _text_too_long(request: HttpRequest) -> HttpResponse:
        return refusal(
            request,
            status=413,
            title=_("Too much at once"),
            message=_(
                "A text you sent is far too long. Shorten it, or send it as a file, and try again."
            ),
        )

    @staticmethod
    def _too_large(request: HttpRequest) -> HttpResponse:
        return refusal(
            request,
            status=413,
            title=_("Too much at once"),
            message=_(
                "What you sent is larger than %(limit)d MB. Send fewer or smaller files at a time."
            )
            % {"limit": settings.MAX_REQUEST_BYTES // (1024 * 1024)},
        )
