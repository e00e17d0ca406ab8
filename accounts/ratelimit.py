"""Counting attempts per account and per client address: failed sign-ins and second-factor
codes (backup codes too), and with their own limits and window firm sign-ups and password-reset
e-mails. Receipt keys of the intake have limits of their own (per key and per client, in
`intake.services`), since a reporter has neither account nor address we may keep.

Why our own counters and not django-axes: axes counts what goes through Django's
`authenticate`; our second factor, sign-up and password reset do not, and would need these
counters anyway. What axes adds beyond them (a lockout table, django-ipware for the address)
is the address rule below, which reads the one header our ingress writes.
"""

from __future__ import annotations

import hashlib
import ipaddress

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
    """The address of the person's connection, not of our ingress.

    Behind TRUSTED_PROXY_HOPS proxies (1 with BEHIND_TLS_PROXY: the chart's ingress), the
    address is the entry that many places from the end of X-Forwarded-For: each trusted proxy
    appends the address it was connected from, and entries before those are the client's own
    word (forgeable, so never used). With all users behind one ingress address, keying on
    REMOTE_ADDR let anyone lock everyone out. A missing or malformed entry falls back to
    REMOTE_ADDR.
    """
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        entries = [
            entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        if len(entries) >= hops and entries[-hops]:
            candidate = entries[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR", "") or "unknown"
