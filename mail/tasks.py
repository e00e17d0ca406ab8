"""The outbox's workers (schedules: CELERY_BEAT_SCHEDULE in saas/settings.py).

Tasks take ids and call `mail.outbox`; they are idempotent and `acks_late`. `email_send`
carries its schema in the `_schema_name` header (public, or the client's for kinds that read
it); the sweeper and the pruning run in the public schema.
"""

from __future__ import annotations

import logging

from saas.celery import app

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def email_send(email_id: str) -> str:
    """Send one outbox e-mail (see mail.outbox.email_send); record a failure for the retry."""
    from mail import outbox

    try:
        return outbox.email_send(email_id=email_id)
    except Exception as error:
        outbox.email_failure_record(email_id=email_id, error=error)
        raise


@app.task(acks_late=True)
def email_sweep(min_age_seconds: int = 60) -> int:
    """Queue outbox e-mails still pending (broker was down, worker died, SMTP refused)."""
    from mail import outbox

    queued = outbox.outbox_sweep(min_age_seconds=min_age_seconds)
    if queued:
        logger.info("Mail outbox: queued %d pending e-mail(s) again", queued)
    return queued


@app.task(acks_late=True)
def email_prune() -> int:
    """Delete sent, dropped and failed e-mails older than mail.outbox.KEEP_DAYS."""
    from mail import outbox

    return outbox.outbox_prune()
