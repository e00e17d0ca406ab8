"""Sparring in the background (schedule: CELERY_BEAT_SCHEDULE in saas/settings.py).

The e-mails themselves are sent by the mail outbox's tasks (`mail.tasks`).
"""

from __future__ import annotations

import logging

from saas.celery import app

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def digest_send() -> int:
    """Bundle the waiting digest notices into one outbox e-mail per adviser."""
    from sparring import notifications

    created = notifications.digests_prepare()
    logger.info("Sparring digest: %d e-mail(s) added to the outbox", len(created))
    return len(created)
