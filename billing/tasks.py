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
