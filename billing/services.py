"""Writes for billing: starting Checkout and the Customer Portal, keeping the subscription's
quantity equal to the firm's active client organisations, applying Stripe's subscription state,
and the firm's contracts with its clients.

Bad input raises ValidationError with a message for the user and changes nothing.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import conf, stripe_gateway
from billing.models import MAX_HOURLY_RATE, ClientContract, FirmSubscription
from billing.selectors import active_client_count, trial_end_default
from tenants.models import ClientOrganisation, Firm
from tenants.validators import date_clean

logger = logging.getLogger(__name__)

Status = FirmSubscription.Status
# A subscription in one of these states is still the firm's subscription: no second checkout.
LIVE = {Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.UNPAID, Status.PAUSED}
# Stripe accepts quantity changes in these states.
SYNCABLE = {Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.UNPAID}
# A debounce marker older than this is from a sync that never ran (lost message): ignore it.
STALE_MARKER = datetime.timedelta(minutes=10)


def _timestamp(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)


def subscription_row(*, firm: Firm, lock: bool = False) -> FirmSubscription:
    """The firm's subscription row, created (status trialing, nothing in Stripe) on first use."""
    rows = FirmSubscription.objects.select_for_update() if lock else FirmSubscription.objects
    row = rows.filter(firm=firm).first()
    if row is None:
        FirmSubscription.objects.get_or_create(firm=firm)
        row = rows.get(firm=firm)
    return row


def trial_start(*, firm: Firm) -> FirmSubscription:
    """Fix the end of the firm's own trial: BILLING_TRIAL_DAYS after its creation (one or two
    queries). Writes the firm's subscription row, nothing in Stripe; an end already fixed stays."""
    with transaction.atomic():
        row = subscription_row(firm=firm, lock=True)
        if row.trial_ends_at is None:
            row.trial_ends_at = trial_end_default(firm.created_at)
            row.save(update_fields=["trial_ends_at", "updated_at"])
    return row


def checkout_start(*, firm: Firm, email: str, success_url: str, cancel_url: str) -> str:
    """Create a Stripe Checkout Session for the firm's subscription; return the URL to send the
    firm admin to. Creates the firm's Stripe customer on first use (idempotently)."""
    if not conf.is_configured():
        raise ValidationError(_("Payments are not set up on this installation yet."))
    quantity = max(1, active_client_count(firm_id=firm.pk))
    price_id = conf.price_for_quantity(quantity)
    if not price_id:
        raise ValidationError(_("No price is configured for the subscription."))
    with transaction.atomic():
        row = subscription_row(firm=firm, lock=True)
        if row.stripe_subscription_id and row.status in LIVE:
            raise ValidationError(
                _("This firm already has a subscription; manage it in the customer portal.")
            )
        if not row.stripe_customer_id:
            customer = stripe_gateway.customer_create(firm_id=firm.pk, name=firm.name, email=email)
            row.stripe_customer_id = customer["id"]
            row.save(update_fields=["stripe_customer_id", "updated_at"])
    session = stripe_gateway.checkout_session_create(
        firm_id=firm.pk,
        customer_id=row.stripe_customer_id,
        price_id=price_id,
        quantity=quantity,
        success_url=success_url,
        cancel_url=cancel_url,
    )
    logger.info("Checkout session %s for firm %s (%d clients)", session["id"], firm.pk, quantity)
    return session["url"]


def portal_start(*, firm: Firm, return_url: str) -> str:
    """Create a Customer Portal session for the firm; return its URL."""
    if not conf.is_configured():
        raise ValidationError(_("Payments are not set up on this installation yet."))
    row = FirmSubscription.objects.filter(firm=firm).exclude(stripe_customer_id="").first()
    if row is None:
        raise ValidationError(_("There is nothing to manage yet: subscribe first."))
    return stripe_gateway.portal_session_create(
        customer_id=row.stripe_customer_id, return_url=return_url
    )["url"]


def subscription_apply(
    row: FirmSubscription, data: dict[str, Any], *, event_created: datetime.datetime | None = None
) -> FirmSubscription:
    """Copy a Stripe subscription object onto the firm's row and save it.

    `data` is Stripe's own answer (re-fetched by the caller), so applying it is idempotent.
    """
    items = (data.get("items") or {}).get("data") or [{}]
    item = items[0]
    status = data.get("status") or row.status
    since = event_created or timezone.now()
    if status == Status.PAST_DUE:
        row.past_due_since = row.past_due_since if row.status == Status.PAST_DUE else since
    else:
        row.past_due_since = None
    row.status = status
    row.stripe_subscription_id = data.get("id") or row.stripe_subscription_id
    row.stripe_subscription_item_id = item.get("id") or ""
    row.stripe_price_id = (item.get("price") or {}).get("id") or ""
    row.quantity = int(item.get("quantity") or 0)
    # Since API version 2025-03-31 the billing period lives on the items.
    row.current_period_end = _timestamp(
        item.get("current_period_end") or data.get("current_period_end")
    )
    row.trial_end = _timestamp(data.get("trial_end"))
    row.cancel_at_period_end = bool(data.get("cancel_at_period_end"))
    if event_created and (row.last_event_created is None or event_created > row.last_event_created):
        row.last_event_created = event_created
    row.save()
    return row


def quantity_sync_request(firm_id: int) -> bool:
    """Ask for the subscription's quantity to follow the firm's active client count.

    Called after commit whenever a client is created, changes status or is offboarded. The first
    request of a batch sets a marker and schedules one sync BILLING_QUANTITY_SYNC_DELAY_SECONDS
    later; requests while the marker is set do nothing, because that sync reads the count when
    it runs. Ten changes in a minute thus give one update. Returns whether a sync was scheduled.
    Without a worker (no REDIS_URL) tasks run at once, so every change syncs immediately.
    """
    from billing.tasks import subscription_sync_quantity

    now = timezone.now()
    delay = settings.BILLING_QUANTITY_SYNC_DELAY_SECONDS
    claimed = (
        FirmSubscription.objects.filter(firm_id=firm_id)
        .exclude(stripe_subscription_id="")
        .filter(
            Q(quantity_sync_due_at__isnull=True) | Q(quantity_sync_due_at__lt=now - STALE_MARKER)
        )
        .update(quantity_sync_due_at=now + datetime.timedelta(seconds=delay))
    )
    if not claimed:
        return False
    subscription_sync_quantity.apply_async(args=[firm_id], countdown=delay)
    return True


def quantity_idempotency_key(
    *, firm_id: int, quantity: int, price_id: str, now: datetime.datetime
) -> str:
    """Same firm, target and minute: same key, so Stripe applies a repeated request only once."""
    return f"vertrouwd-firm-{firm_id}-quantity-{quantity}-{price_id}-{int(now.timestamp() // 60)}"


def quantity_sync(firm_id: int, *, now: datetime.datetime | None = None) -> str:
    """Set the Stripe subscription's quantity (and tier price) to the active client count.

    Returns what happened: no_subscription, unchanged or updated. Gateway errors propagate
    (the task retries); the marker is cleared first so changes during the call schedule anew.
    """
    now = now or timezone.now()
    FirmSubscription.objects.filter(firm_id=firm_id).update(quantity_sync_due_at=None)
    with transaction.atomic():
        row = FirmSubscription.objects.select_for_update().filter(firm_id=firm_id).first()
        if row is None or not row.stripe_subscription_id or row.status not in SYNCABLE:
            return "no_subscription"
        target = active_client_count(firm_id=firm_id)
        price_id = conf.price_for_quantity(target) or row.stripe_price_id
        if target == row.quantity and price_id == row.stripe_price_id:
            return "unchanged"
        data = stripe_gateway.subscription_set_quantity(
            subscription_id=row.stripe_subscription_id,
            item_id=row.stripe_subscription_item_id,
            price_id=price_id,
            quantity=target,
            idempotency_key=quantity_idempotency_key(
                firm_id=firm_id, quantity=target, price_id=price_id, now=now
            ),
        )
        subscription_apply(row, data)
        row.quantity_synced_at = now
        row.save(update_fields=["quantity_synced_at"])
    logger.info("Subscription of firm %s now bills %d clients (%s)", firm_id, target, price_id)
    return "updated"


def quantity_reconcile(firm_id: int, *, now: datetime.datetime | None = None) -> str:
    """Re-read the firm's subscription from Stripe, then sync its quantity if it drifted.

    The debounced sync compares with our copy of the subscription; a change made in Stripe's
    dashboard, or a webhook that never arrived, leaves that copy wrong and the sync silent. Run
    nightly for every firm. Returns no_subscription, unchanged or updated.
    """
    row = FirmSubscription.objects.filter(firm_id=firm_id).first()
    if row is None or not row.stripe_subscription_id or row.status not in SYNCABLE:
        return "no_subscription"
    data = stripe_gateway.subscription_retrieve(row.stripe_subscription_id)
    with transaction.atomic():
        locked = FirmSubscription.objects.select_for_update().get(pk=row.pk)
        subscription_apply(locked, data)
    return quantity_sync(firm_id, now=now)


def client_contract_save(
    *,
    client: ClientOrganisation,
    fee_mode: str,
    hourly_rate: Decimal,
    starts_on: datetime.date,
    annual_fee: Decimal | None = None,
    hours_included_per_year: Decimal = Decimal("0"),
) -> ClientContract:
    """Create or replace the contract of a client organisation (one row per client)."""
    starts_on = date_clean(starts_on, field="starts_on", required=True)
    if fee_mode not in ClientContract.FeeMode.values:
        raise ValidationError(_("Unknown kind of fee."))
    if hourly_rate is None or not (Decimal("0") < hourly_rate < MAX_HOURLY_RATE):
        raise ValidationError(_("The hourly rate must be more than 0 and less than 1,000 euros."))
    if fee_mode == ClientContract.FeeMode.FIXED and annual_fee is None:
        raise ValidationError(_("A fixed annual fee needs an amount."))
    if fee_mode == ClientContract.FeeMode.TIERED and annual_fee is not None:
        # Dropping a typed amount silently billed a firm's client by employee count instead.
        raise ValidationError(
            _(
                "You entered a fixed annual fee but chose a fee by number of employees. "
                "Choose the fixed annual fee, or empty the amount."
            )
        )
    contract = ClientContract.objects.filter(client=client).first() or ClientContract(client=client)
    contract.fee_mode = fee_mode
    contract.annual_fee = annual_fee
    contract.hourly_rate = hourly_rate
    contract.hours_included_per_year = hours_included_per_year
    contract.starts_on = starts_on
    contract.full_clean(exclude=["client"])
    with transaction.atomic():
        contract.save()
    return contract
