"""Background work for the public schema and for single client organisations."""

from __future__ import annotations

import logging

from django.db import connection

from saas.celery import app
from tenants.schemas import Reach, client_schema_task, client_schemas, fan_out, schema_fingerprint

logger = logging.getLogger(__name__)


@client_schema_task
def record_schema_state() -> str:
    """Inside one client's schema (the task carries it): fingerprint its applied migrations.

    Stores the fingerprint on the client's public row, so operators (and readiness checks) can
    see that a schema is complete and current after cloning or a deploy. Idempotent.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        applied = cursor.fetchall()
    fingerprint = schema_fingerprint(applied)
    schema = connection.schema_name
    from django.utils import timezone

    from tenants.models import ClientOrganisation

    ClientOrganisation.objects.filter(schema_name=schema).update(
        schema_fingerprint=fingerprint, schema_checked_at=timezone.now()
    )
    logger.info("Schema %s has %d migrations applied (%s)", schema, len(applied), fingerprint)
    return f"{schema}:{fingerprint}"


def _theme_schemas(**filters: object) -> list[str]:
    """Schemas of clients that still have one (suspended too: they may come back)."""
    return client_schemas(reach=Reach.HOLDING_DATA, **filters)


def _queue_theme_applies(schemas: list[str]) -> int:
    # In-process mode: one schema's failure must not stop the others; the nightly run retries.
    return fan_out(themes_apply, schemas, tolerant=True)


@app.task(acks_late=True)
def themes_dispatch(firm_id: int) -> int:
    """Queue `themes_apply` for every client schema of the firm; returns how many."""
    queued = _queue_theme_applies(_theme_schemas(firm_id=firm_id))
    logger.info("Themes of firm %s: apply queued for %d client organisation(s)", firm_id, queued)
    return queued


@client_schema_task
def themes_apply() -> int:
    """Inside one client's schema: apply its firm's theme catalogue. Idempotent."""
    from tenants.themes import theme_catalogue_apply

    return theme_catalogue_apply(firm_id=connection.tenant.firm_id)


@app.task(acks_late=True)
def themes_reconcile() -> int:
    """Nightly: apply every firm's catalogue again to each of its clients (a dispatch may have
    been lost with a broker that was down). Firms that never changed a theme are skipped."""
    queued = _queue_theme_applies(_theme_schemas(firm__themes__isnull=False))
    logger.info("Themes: reconcile queued for %d client organisation(s)", queued)
    return queued


@app.task(acks_late=True)
def schema_pool_refill() -> str:
    """Top the pool of ready client schemas up (tenants.schema_pool); idempotent, one at a time."""
    from tenants import schema_pool

    made, dropped = schema_pool.pool_refill()
    return f"made {made}, dropped {dropped}"
