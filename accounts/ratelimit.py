"""Counting failed sign-in and second-factor attempts per account and per client address."""

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


def is_blocked(*, account: str, address: str) -> bool:
    cache = _cache()
    return (cache.get(_key("account", account)) or 0) >= settings.LOGIN_FAILURES_PER_ACCOUNT or (
        cache.get(_key("address", address)) or 0
    ) >= settings.LOGIN_FAILURES_PER_ADDRESS


def record_failure(*, account: str, address: str) -> None:
    cache = _cache()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
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
