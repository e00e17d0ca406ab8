"""Billing configuration read from settings (which read the environment): prices and tiers.

Tier strings have the form `"10:a,50:b,:c"`: each entry is an inclusive upper bound and a value,
the last entry has no bound and covers everything above. Malformed strings raise
ImproperlyConfigured naming the setting (also at start, through the system check in apps.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Tier:
    up_to: int | None  # inclusive upper bound; None: no bound
    value: str


def parse_tiers(name: str, raw: str) -> list[Tier]:
    """Parse a tier string; raise ImproperlyConfigured on anything ambiguous."""
    raw = (raw or "").strip()
    if not raw:
        return []
    tiers: list[Tier] = []
    for entry in raw.split(","):
        bound, sep, value = entry.strip().partition(":")
        value = value.strip()
        if not sep or not value:
            raise ImproperlyConfigured(f"{name}: entry {entry!r} must look like 'upper:value'.")
        if bound.strip():
            try:
                up_to = int(bound)
            except ValueError:
                raise ImproperlyConfigured(f"{name}: {bound!r} is not a whole number.") from None
            if up_to < 0 or (tiers and (tiers[-1].up_to is None or up_to <= tiers[-1].up_to)):
                raise ImproperlyConfigured(f"{name}: bounds must be positive and increasing.")
            tiers.append(Tier(up_to, value))
        else:
            if tiers and tiers[-1].up_to is None:
                raise ImproperlyConfigured(f"{name}: only the last entry may lack a bound.")
            tiers.append(Tier(None, value))
    if tiers[-1].up_to is not None:
        raise ImproperlyConfigured(f"{name}: the last entry must have no bound (':value').")
    return tiers


def _pick(tiers: list[Tier], amount: int) -> str:
    return next(tier.value for tier in tiers if tier.up_to is None or amount <= tier.up_to)


def price_for_quantity(quantity: int) -> str:
    """The Stripe price id for a firm with `quantity` active client organisations.

    STRIPE_PRICE_TIERS switches prices by client count; otherwise STRIPE_PRICE_PER_CLIENT (which
    may itself be a tiered price in Stripe). Empty when nothing is configured.
    """
    tiers = parse_tiers("STRIPE_PRICE_TIERS", settings.STRIPE_PRICE_TIERS)
    if tiers:
        return _pick(tiers, quantity)
    return settings.STRIPE_PRICE_PER_CLIENT or ""


def client_fee_tiers() -> list[tuple[int | None, Decimal]]:
    """The default annual fee per client by employee count (BILLING_CLIENT_FEE_TIERS)."""
    result = []
    for tier in parse_tiers("BILLING_CLIENT_FEE_TIERS", settings.BILLING_CLIENT_FEE_TIERS):
        try:
            fee = Decimal(tier.value)
        except InvalidOperation:
            raise ImproperlyConfigured(
                f"BILLING_CLIENT_FEE_TIERS: {tier.value!r} is not an amount."
            ) from None
        if fee < 0:
            raise ImproperlyConfigured("BILLING_CLIENT_FEE_TIERS: amounts cannot be negative.")
        result.append((tier.up_to, fee))
    return result


def tiered_annual_fee(employee_count: int) -> Decimal:
    """Annual fee for a client of this size under the configured tiers (0 without tiers)."""
    for up_to, fee in client_fee_tiers():
        if up_to is None or employee_count <= up_to:
            return fee
    return Decimal("0")


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)
