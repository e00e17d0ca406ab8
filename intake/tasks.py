"""Intake notices in the background (schedule: CELERY_BEAT_SCHEDULE in saas/settings.py)."""

from __future__ import annotations

from saas.celery import app


@app.task(acks_late=True)
def notice_send(notice_id: str) -> str:
    from intake import notices

    try:
        return notices.notice_send(notice_id=notice_id)
    except Exception as error:
        notices.notice_failure_record(notice_id=notice_id, error=error)
        raise


@app.task(acks_late=True)
def notice_sweep() -> int:
    from intake import notices

    return notices.notice_sweep()
