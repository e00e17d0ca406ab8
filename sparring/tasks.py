"""Sparring notifications in the background (schedules: CELERY_BEAT_SCHEDULE in saas/settings.py).

Tasks take ids and call `sparring.notifications`; they are idempotent and `acks_late`. A message
e-mail's task carries its client's schema in the `_schema_name` header (tenant-schemas-celery),
the digest and the sweeper run in the public schema.
"""

from __future__ import annotations

import logging

from saas.celery import app

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def outbox_send(email_id: str) -> str:
    """Send one outbox e-mail (see notifications.outbox_email_send); record a failure for retry."""
    from sparring import notifications

    try:
        return notifications.outbox_email_send(email_id=email_id)
    except Exception as error:
        notifications.outbox_failure_record(email_id=email_id, error=error)
        raise


@app.task(acks_late=True)
def outbox_sweep(min_age_seconds: int = 60) -> int:
    """Re-dispatch outbox e-mails still pending (broker was down, worker died); returns how many."""
    from sparring import notifications

    dispatched = notifications.outbox_sweep(min_age_seconds=min_age_seconds)
    if dispatched:
        logger.info("Sparring outbox: re-dispatched %d e-mail(s)", dispatched)
    return dispatched


@app.task(acks_late=True)
def digest_send() -> int:
    """Bundle the waiting digest notices into one e-mail per adviser; prune old sent e-mails."""
    from sparring import notifications

    created = notifications.digests_prepare()
    pruned = notifications.outbox_prune()
    logger.info("Sparring digest: %d e-mail(s) prepared, %d old ones pruned", len(created), pruned)
    return len(created)
