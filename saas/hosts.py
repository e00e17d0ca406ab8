"""Host names: the console on the base domain, client organisations on sub-domains of it."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest


def base_domain() -> str:
    return settings.BASE_DOMAIN


def is_base_host(host: str) -> bool:
    return host == settings.BASE_DOMAIN


def is_under_base(host: str) -> bool:
    return host == settings.BASE_DOMAIN or host.endswith("." + settings.BASE_DOMAIN)


def client_host(*, client_slug: str, firm_slug: str) -> str:
    return f"{client_slug}.{firm_slug}.{settings.BASE_DOMAIN}"


def _port_suffix(request: HttpRequest | None) -> str:
    if request is None:
        return f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    raw = request.META.get("HTTP_HOST", "")
    if raw.startswith("["):
        return ""
    _, _, port = raw.partition(":")
    return f":{port}" if port else ""


def _scheme(request: HttpRequest | None) -> str:
    if request is None:
        return settings.PUBLIC_SCHEME
    return "https" if request.is_secure() else "http"


def absolute_url(host: str, path: str = "/", request: HttpRequest | None = None) -> str:
    """URL on one of our hosts, keeping the scheme and port the user came in on."""
    return f"{_scheme(request)}://{host}{_port_suffix(request)}{path}"


def console_url(path: str = "/", request: HttpRequest | None = None, **query: str) -> str:
    suffix = f"?{urlencode(query)}" if query else ""
    return absolute_url(settings.BASE_DOMAIN, path, request) + suffix


def is_safe_next(url: str | None) -> bool:
    """A redirect target after sign-in: a path, or http(s) on one of our own hosts."""
    if not url or "\\" in url or any(ord(char) < 32 for char in url):
        return False
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url.startswith("/") and not url.startswith("//")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    return is_under_base(parts.hostname.lower())
