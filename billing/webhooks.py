"""Stripe webhooks: verify, record once, dispatch by type, never move state backwards.

Every verified event lands in the WebhookEvent ledger in the same transaction as its effect, so
a replay (same event id) is acknowledged and changes nothing, and a failure leaves no trace and
gets Stripe's retry. Subscription state is always re-fetched from Stripe (the source of truth)
and an event older than the newest one applied is recorded as stale and otherwise ignored.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from billing import services, stripe_gateway
from billing.models import FirmSubscription, WebhookEvent
from billing.selectors import active_client_count

logger = logging.getLogger(__name__)

Outcome = WebhookEvent.Outcome


class WebhookRejected(Exception):
    """Signature missing, forged or too old, or a body that is not a Stripe event."""


@dataclass
class Result:
    outcome: str
    firm_id: int | None = None
    detail: str = ""


EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
LATEST_CREATED = 2**33  # the year 2242; Stripe's seconds since 1970 stay far below


def _parse(payload: bytes) -> tuple[dict[str, Any], str, str, datetime.datetime]:
    """A signed body is still checked for shape: an array, a NUL in the id, `created: 1e20` or
    a handled type without `data.object` are refused (400), never a 500 that Stripe retries
    for days."""
    try:
        event = json.loads(payload)
    except ValueError as error:
        raise WebhookRejected(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise WebhookRejected("the event is not a JSON object")
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created")
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise WebhookRejected("the event has no usable id")
    if (
        not isinstance(event_type, str)
        or len(event_type) > 100
        or not EVENT_TYPE.fullmatch(event_type)
    ):
        raise WebhookRejected(f"event {event_id}: no usable type")
    if (
        isinstance(created, bool)
        or not isinstance(created, int)
        or not 0 < created < LATEST_CREATED
    ):
        raise WebhookRejected(f"event {event_id}: no usable created time")
    data = event.get("data")
    if event_type in HANDLERS and not (
        isinstance(data, dict) and isinstance(data.get("object"), dict)
    ):
        raise WebhookRejected(f"event {event_id} ({event_type}): no data.object")
    return event, event_id, event_type, _created(event)


def _created(event: dict[str, Any]) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(event["created"]), tz=datetime.UTC)


def _row_for_customer(customer: Any) -> FirmSubscription | None:
    customer_id = customer.get("id") if isinstance(customer, dict) else customer
    if not customer_id:
        return None
    return (
        FirmSubscription.objects.select_for_update().filter(stripe_customer_id=customer_id).first()
    )


def _current(subscription_id: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    """The subscription as Stripe holds it now; the event's copy only if we cannot ask Stripe."""
    try:
        return stripe_gateway.subscription_retrieve(subscription_id)
    except stripe_gateway.BillingNotConfigured:
        if payload is None:
            raise
        return payload


def _apply(
    row: FirmSubscription,
    subscription_id: str,
    created: datetime.datetime,
    payload: dict[str, Any] | None,
) -> Result:
    if row.last_event_created and created < row.last_event_created:
        return Result(
            Outcome.STALE, row.firm_id, f"older than {row.last_event_created.isoformat()}"
        )
    if (
        row.stripe_subscription_id
        and row.stripe_subscription_id != subscription_id
        and row.status in services.LIVE
    ):
        # A second subscription (e.g. two checkouts completed): keep the one in force and leave
        # the other for an operator to refund; never let it overwrite the first.
        logger.error(
            "Firm %s: event for subscription %s while %s is in force",
            row.firm_id,
            subscription_id,
            row.stripe_subscription_id,
        )
        return Result(
            Outcome.OTHER_SUBSCRIPTION,
            row.firm_id,
            f"{subscription_id} while {row.stripe_subscription_id}",
        )
    data = _current(subscription_id, payload)
    services.subscription_apply(row, data, event_created=created)
    if row.status in services.SYNCABLE and row.quantity != active_client_count(firm_id=row.firm_id):
        # Clients changed while the firm was at Checkout (or Stripe holds an old count).
        firm_id = row.firm_id
        transaction.on_commit(lambda: services.quantity_sync_request(firm_id))
    return Result(
        Outcome.PROCESSED, row.firm_id, f"{subscription_id}: {row.status}, {row.quantity}"
    )


def _checkout_completed(event: dict[str, Any]) -> Result:
    session = event["data"]["object"]
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return Result(Outcome.IGNORED, detail="not a subscription checkout")
    row = _row_for_customer(session.get("customer"))
    if row is None:
        return Result(Outcome.UNKNOWN_CUSTOMER, detail=str(session.get("customer")))
    subscription = session["subscription"]
    subscription_id = subscription.get("id") if isinstance(subscription, dict) else subscription
    return _apply(row, subscription_id, _created(event), None)


def _subscription_changed(event: dict[str, Any]) -> Result:
    subscription = event["data"]["object"]
    row = _row_for_customer(subscription.get("customer"))
    if row is None:
        return Result(Outcome.UNKNOWN_CUSTOMER, detail=str(subscription.get("customer")))
    return _apply(row, subscription["id"], _created(event), subscription)


def _invoice_subscription_id(invoice: dict[str, Any]) -> str | None:
    # Newer API versions moved the subscription under parent.subscription_details.
    details = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    found = details or invoice.get("subscription")
    return found.get("id") if isinstance(found, dict) else found


def _invoice_event(event: dict[str, Any]) -> Result:
    invoice = event["data"]["object"]
    row = _row_for_customer(invoice.get("customer"))
    if row is None:
        return Result(Outcome.UNKNOWN_CUSTOMER, detail=str(invoice.get("customer")))
    subscription_id = _invoice_subscription_id(invoice)
    if not subscription_id:
        return Result(Outcome.IGNORED, row.firm_id, "invoice without subscription")
    return _apply(row, subscription_id, _created(event), None)


HANDLERS: dict[str, Callable[[dict[str, Any]], Result]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_event,
    "invoice.payment_failed": _invoice_event,
}


def webhook_receive(payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify and handle one delivery; return the ledger entry and whether it was new.

    Raises WebhookRejected for bad signatures or bodies, BillingNotConfigured without a webhook
    secret, and whatever the handler raises (nothing is then recorded: Stripe retries).
    """
    try:
        stripe_gateway.event_verify(payload, signature)
    except stripe_gateway.BillingNotConfigured:
        raise
    except Exception as error:  # any body Stripe's parser trips on is refused
        raise WebhookRejected(f"{type(error).__name__}: {error}"[:300]) from None
    event, event_id, event_type, created = _parse(payload)
    existing = WebhookEvent.objects.filter(stripe_event_id=event_id).first()
    if existing is not None:
        return existing, False
    handler = HANDLERS.get(event_type)
    try:
        with transaction.atomic():
            result = (
                handler(event) if handler else Result(Outcome.IGNORED, detail="type not handled")
            )
            entry = WebhookEvent.objects.create(
                stripe_event_id=event_id,
                type=event_type,
                created=created,
                livemode=bool(event.get("livemode")),
                firm_id=result.firm_id,
                outcome=result.outcome,
                detail=result.detail[:500],
            )
    except IntegrityError:
        # The same event delivered twice at once: the other delivery recorded (and applied) it.
        return WebhookEvent.objects.get(stripe_event_id=event_id), False
    log = (
        logger.warning
        if result.outcome in (Outcome.UNKNOWN_CUSTOMER, Outcome.OTHER_SUBSCRIPTION)
        else logger.info
    )
    log("Stripe event %s (%s): %s %s", event_id, event_type, result.outcome, result.detail)
    return entry, True
