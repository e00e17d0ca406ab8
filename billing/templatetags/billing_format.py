"""Template filters for Stripe's values: amounts in cents, times in Unix seconds."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()

ZERO_DECIMAL_CURRENCIES = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}


@register.filter
def cents(amount: Any, currency: str = "eur") -> str:
    """1234 with "eur" → "EUR 12,34" (localised); empty for missing amounts."""
    if amount is None or amount == "":
        return ""
    value = Decimal(int(amount))
    if (currency or "").lower() not in ZERO_DECIMAL_CURRENCIES:
        value = value / 100
    return f"{(currency or '').upper()} {number_format(value, 2, use_l10n=True)}"


@register.filter
def unix_time(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
