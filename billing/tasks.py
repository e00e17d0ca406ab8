"""Background work of billing (public schema)."""

from __future__ import annotations

import logging

from django.conf import settings

from billing import services, stripe_gateway
from saas.celery import app

logger = logging.getLogger(__name__)

RETRY_SECONDS = 60
MAX_RETRIES = 10


@app.task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def subscription_sync_quantity(self, firm_id: int) -> str:  # type: ignore[no-untyped-def]
    """Make the firm's Stripe subscription bill its current number of active clients.

    Idempotent: it reads the count when it runs and sends a deterministic idempotency key, so a
    repeated or retried run changes nothing more. Network and API errors retry with a worker; run
    in-process (no worker) they are logged, and the next client change syncs again.
    """
    try:
        return services.quantity_sync(firm_id)
    except stripe_gateway.BillingNotConfigured:
        return "not_configured"
    except stripe_gateway.GatewayError as error:
        if settings.CELERY_TASK_ALWAYS_EAGER or self.request.is_eager:
            logger.error("Quantity sync of firm %s failed: %s", firm_id, error)
            return "failed"
        raise self.retry(exc=error, countdown=RETRY_SECONDS) from error


@app.task(acks_late=True)
def subscriptions_reconcile() -> dict[str, int]:
    """Nightly: every firm with a subscription is compared with Stripe and corrected; one
    firm's failure is logged and does not stop the others. Returns a count per outcome."""
    from billing.models import FirmSubscription

    outcomes: dict[str, int] = {}
    firm_ids = (
        FirmSubscription.objects.exclude(stripe_subscription_id="")
        .filter(status__in=services.SYNCABLE)
        .order_by("firm_id")
        .values_list("firm_id", flat=True)
    )
    for firm_id in firm_ids:
        try:
            outcome = services.quantity_reconcile(firm_id)
        except stripe_gateway.BillingNotConfigured:
            return {"not_configured": 1}
        except stripe_gateway.GatewayError as error:
            logger.error("Reconciling the subscription of firm %s failed: %s", firm_id, error)
            outcome = "failed"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    logger.info("Subscriptions reconciled: %s", outcomes)
    return outcomes
