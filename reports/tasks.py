"""Background work for reports. Dispatchers run in the public schema and fan out one task per
client organisation carrying its schema (tenant-schemas-celery); tasks take ids and are
idempotent. The nightly schedule is in CELERY_BEAT_SCHEDULE (saas/settings.py).
"""

from __future__ import annotations

import logging

from django.db import connection
from django.db.models import F
from django.utils import timezone

from saas.celery import app
from tenants.schemas import client_schema_task, client_schemas, fan_out

logger = logging.getLogger(__name__)


@client_schema_task
def rollup_client() -> int:
    """Inside one client's schema: rebuild its anonymous monthly counts in the public schema."""
    from reports.rollups import rollup_pending_clear, rollup_rebuild_current

    schema = connection.schema_name
    # Cleared first: a change during the rebuild schedules the next one.
    rollup_pending_clear(schema)
    return rollup_rebuild_current()


@app.task(acks_late=True)
def rollup_nightly() -> int:
    """Queue a rollup rebuild for every active client organisation; returns how many."""
    queued = fan_out(rollup_client, client_schemas())
    logger.info("Rollups: rebuild queued for %d client organisation(s)", queued)
    return queued


@app.task(acks_late=True)
def report_batch_start(batch_id: int) -> int:
    """Queue one draft per client of the batch's firm; returns how many were queued."""
    from reports.models import ReportBatch

    batch = ReportBatch.objects.get(pk=batch_id)
    clients = client_schemas(firm_id=batch.firm_id)
    ReportBatch.objects.filter(pk=batch_id).update(
        total=len(clients),
        status=ReportBatch.Status.RUNNING if clients else ReportBatch.Status.DONE,
    )
    fan_out(report_batch_draft, clients, args=(batch_id,))
    if not clients:
        ReportBatch.objects.filter(pk=batch_id).update(finished_at=timezone.now())
    return len(clients)


@client_schema_task
def report_batch_draft(batch_id: int) -> bool:
    """Inside one client's schema: draft (or refresh) its annual report and render the preview.

    Counts the outcome on the batch; the last one to finish marks the batch done.
    """
    from boardroom.services import report_draft_prepare
    from reports.models import ReportBatch

    batch = ReportBatch.objects.get(pk=batch_id)
    succeeded = True
    try:
        report_draft_prepare(year=batch.year, actor=batch.requested_by)
    except Exception:
        logger.exception("Annual report draft failed in %s", connection.schema_name)
        succeeded = False
    field = "done" if succeeded else "failed"
    ReportBatch.objects.filter(pk=batch_id).update(**{field: F(field) + 1})
    ReportBatch.objects.filter(
        pk=batch_id, done__gte=F("total") - F("failed"), finished_at__isnull=True
    ).update(status=ReportBatch.Status.DONE, finished_at=timezone.now())
    return succeeded


@app.task(acks_late=True)
def signal_reminders_dispatch() -> int:
    """Queue the reminder check for every active client organisation."""
    return fan_out(signal_reminders_send, client_schemas())


@client_schema_task
def signal_reminders_send() -> int:
    """Inside one client's schema: remind contact persons of signals not acknowledged in time."""
    from boardroom.services import signal_reminders_send as send

    return send()


@client_schema_task
def releases_client() -> int:
    """Inside one client's schema: release every due quarter of this and last year, and of the
    years whose indicators the dashboard shows (made once; a repeat finds them made), so the
    first reader of a dashboard does not wait for them. Returns how many years were looked at."""
    from reports.indicators import indicator_years
    from reports.releases import last_due_quarter, releases_make_due
    from tenants.current import current_client_organisation

    today = timezone.localdate()
    due = last_due_quarter(today)
    years = sorted({due.year - 1, due.year, *indicator_years(today)})
    releases_make_due(years, client=current_client_organisation(), today=today)
    return len(years)


@app.task(acks_late=True)
def releases_nightly() -> int:
    """Queue the release of due quarters for every active client organisation (one client's
    failure does not stop the others; the next night tries again)."""
    queued = fan_out(releases_client, client_schemas(), tolerant=True)
    logger.info("Releases: queued for %d client organisation(s)", queued)
    return queued
