"""The only module that talks to Stripe: a StripeClient built from settings, plain dicts out.

Everything else in billing calls these functions and never imports `stripe` for API calls, so
the outside world is one narrow seam. Tests give the real client a local HTTP layer
(`override_http_client`), so stripe-python's own encoding, headers and parsing still run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import stripe
from django.conf import settings

_local = threading.local()
_override: list[stripe.HTTPClient] = []


class BillingNotConfigured(Exception):
    """No STRIPE_SECRET_KEY: billing pages still show the trial; nothing is sent to Stripe."""


# Errors of the Stripe API or of the network, for callers that show a message instead.
GatewayError = stripe.StripeError


@contextlib.contextmanager
def override_http_client(http_client: stripe.HTTPClient) -> Iterator[None]:
    """Route every call through `http_client` (tests: a local fake that answers like Stripe)."""
    _override.append(http_client)
    try:
        yield
    finally:
        _override.remove(http_client)


def client() -> stripe.StripeClient:
    """A StripeClient for the configured key (one per thread and key; cheap to call)."""
    key = settings.STRIPE_SECRET_KEY
    if not key:
        raise BillingNotConfigured("STRIPE_SECRET_KEY is not set.")
    http_client = _override[-1] if _override else None
    cache_key = (key, id(http_client))
    cached = getattr(_local, "client", None)
    if cached is not None and cached[0] == cache_key:
        return cached[1]
    built = stripe.StripeClient(
        key,
        http_client=http_client,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )
    _local.client = (cache_key, built)
    return built


def _dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def customer_create(*, firm_id: int, name: str, email: str) -> dict[str, Any]:
    """Create the Stripe customer of a firm; a repeat for the same firm returns the same one."""
    customer = client().v1.customers.create(
        params={"name": name, "email": email, "metadata": {"firm_id": str(firm_id)}},
        options={"idempotency_key": f"vertrouwd-firm-{firm_id}-customer"},
    )
    return _dict(customer)


def checkout_session_create(
    *,
    firm_id: int,
    customer_id: str,
    price_id: str,
    quantity: int,
    success_url: str,
    cancel_url: str,
) -> dict[str, Any]:
    """A Checkout Session in subscription mode for `quantity` client organisations."""
    session = client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(firm_id),
            "line_items": [{"price": price_id, "quantity": quantity}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "metadata": {"firm_id": str(firm_id)},
            "subscription_data": {"metadata": {"firm_id": str(firm_id)}},
        }
    )
    return _dict(session)


def portal_session_create(*, customer_id: str, return_url: str) -> dict[str, Any]:
    """A Customer Portal session (payment methods, invoices, cancellation) for the customer."""
    session = client().v1.billing_portal.sessions.create(
        params={"customer": customer_id, "return_url": return_url}
    )
    return _dict(session)


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    """The subscription as Stripe holds it now (the source of truth for webhooks)."""
    return _dict(client().v1.subscriptions.retrieve(subscription_id))


def subscription_set_quantity(
    *, subscription_id: str, item_id: str, price_id: str, quantity: int, idempotency_key: str
) -> dict[str, Any]:
    """Set the item's price and quantity; prorated by Stripe. Safe to repeat with the same key."""
    subscription = client().v1.subscriptions.update(
        subscription_id,
        params={
            "items": [{"id": item_id, "price": price_id, "quantity": quantity}],
            "proration_behavior": "create_prorations",
        },
        options={"idempotency_key": idempotency_key},
    )
    return _dict(subscription)


def price_retrieve(price_id: str) -> dict[str, Any]:
    """A price (amount, currency, interval, tiers) for the plan shown to firm admins."""
    return _dict(client().v1.prices.retrieve(price_id))


def invoices_list(*, customer_id: str, limit: int = 12) -> list[dict[str, Any]]:
    """The customer's most recent invoices, newest first."""
    page = client().v1.invoices.list(params={"customer": customer_id, "limit": limit})
    return [_dict(invoice) for invoice in page.data]


def invoice_preview(*, customer_id: str, subscription_id: str) -> dict[str, Any]:
    """The next invoice of the subscription as Stripe would draw it up today."""
    return _dict(
        client().v1.invoices.create_preview(
            params={"customer": customer_id, "subscription": subscription_id}
        )
    )


def event_verify(payload: bytes, signature: str | None) -> None:
    """Check the Stripe-Signature header against the raw body; raise on forged or stale ones.

    Raises stripe.SignatureVerificationError (bad, missing or old signature), ValueError (not
    JSON) or BillingNotConfigured (no STRIPE_WEBHOOK_SECRET).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise BillingNotConfigured("STRIPE_WEBHOOK_SECRET is not set.")
    stripe.Webhook.construct_event(
        payload.decode("utf-8"),
        signature,
        secret,
        tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
    )
