"""Counting attempts per account and per client address: failed sign-ins and second-factor
codes, and (with their own limits and window) firm sign-ups."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"ratelimit:{kind}:{digest}"


def _cache():
    # The routing cache has no tenant prefix: limits must hold across every host.
    return caches["routing"]


def is_blocked(
    *,
    account: str,
    address: str,
    account_limit: int | None = None,
    address_limit: int | None = None,
) -> bool:
    """Whether either counter has reached its limit (the sign-in limits unless given)."""
    cache = _cache()
    account_limit = account_limit or settings.LOGIN_FAILURES_PER_ACCOUNT
    address_limit = address_limit or settings.LOGIN_FAILURES_PER_ADDRESS
    return (cache.get(_key("account", account)) or 0) >= account_limit or (
        cache.get(_key("address", address)) or 0
    ) >= address_limit


def record_failure(*, account: str, address: str, window: int | None = None) -> None:
    """Count one attempt against both counters; each starts a window of its own when it is new."""
    cache = _cache()
    window = window or settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in (_key("account", account), _key("address", address)):
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, window)


def reset(*, account: str) -> None:
    _cache().delete(_key("account", account))


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"
