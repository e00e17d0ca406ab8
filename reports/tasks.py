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

logger = logging.getLogger(__name__)


def _active_clients() -> list[tuple[int, str]]:
    from tenants.models import ClientOrganisation

    return list(
        ClientOrganisation.objects.filter(status=ClientOrganisation.Status.ACTIVE)
        .exclude(schema_name="public")
        .exclude(wrapped_data_key=b"")
        .order_by("pk")
        .values_list("pk", "schema_name")
    )


@app.task(acks_late=True)
def rollup_client() -> int:
    """Inside one client's schema: rebuild its anonymous monthly counts in the public schema."""
    from reports.rollups import rollup_pending_clear, rollup_rebuild_current

    schema = connection.schema_name
    if schema == "public":
        raise RuntimeError("rollup_client must run in a client organisation's schema.")
    # Cleared first: a change during the rebuild schedules the next one.
    rollup_pending_clear(schema)
    return rollup_rebuild_current()


@app.task(acks_late=True)
def rollup_nightly() -> int:
    """Queue a rollup rebuild for every active client organisation; returns how many."""
    clients = _active_clients()
    for _client_id, schema in clients:
        rollup_client.apply_async(headers={"_schema_name": schema})
    logger.info("Rollups: rebuild queued for %d client organisation(s)", len(clients))
    return len(clients)


@app.task(acks_late=True)
def report_batch_start(batch_id: int) -> int:
    """Queue one draft per client of the batch's firm; returns how many were queued."""
    from reports.models import ReportBatch
    from tenants.models import ClientOrganisation

    batch = ReportBatch.objects.get(pk=batch_id)
    clients = list(
        ClientOrganisation.objects.filter(
            firm_id=batch.firm_id, status=ClientOrganisation.Status.ACTIVE
        )
        .exclude(wrapped_data_key=b"")
        .order_by("name", "pk")
        .values_list("schema_name", flat=True)
    )
    ReportBatch.objects.filter(pk=batch_id).update(
        total=len(clients),
        status=ReportBatch.Status.RUNNING if clients else ReportBatch.Status.DONE,
    )
    for schema in clients:
        report_batch_draft.apply_async(args=[batch_id], headers={"_schema_name": schema})
    if not clients:
        ReportBatch.objects.filter(pk=batch_id).update(finished_at=timezone.now())
    return len(clients)


@app.task(acks_late=True)
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
    clients = _active_clients()
    for _client_id, schema in clients:
        signal_reminders_send.apply_async(headers={"_schema_name": schema})
    return len(clients)


@app.task(acks_late=True)
def signal_reminders_send() -> int:
    """Inside one client's schema: remind contact persons of signals not acknowledged in time."""
    from boardroom.services import signal_reminders_send as send

    if connection.schema_name == "public":
        raise RuntimeError("signal_reminders_send must run in a client organisation's schema.")
    return send()
