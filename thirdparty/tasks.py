"""Scheduled destruction of the register's expired declarations (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from django.db import connection

from saas.celery import app

logger = logging.getLogger(__name__)


def _schemas() -> list[str]:
    from tenants.models import ClientOrganisation

    # Suspended clients too: a legal retention term does not pause with the contract.
    return list(
        ClientOrganisation.objects.exclude(status=ClientOrganisation.Status.OFFBOARDED)
        .exclude(schema_name="public")
        .exclude(wrapped_data_key=b"")
        .order_by("pk")
        .values_list("schema_name", flat=True)
    )


@app.task(acks_late=True)
def register_retention_dispatch() -> int:
    """Queue `register_retention_destroy` once per client organisation; returns how many."""
    schemas = _schemas()
    for schema in schemas:
        register_retention_destroy.apply_async(headers={"_schema_name": schema})
    logger.info("Third-party register: retention dispatched to %d client(s)", len(schemas))
    return len(schemas)


@app.task(acks_late=True)
def register_retention_destroy() -> int:
    """Inside one client's schema: destroy declarations kept five years (idempotent)."""
    from thirdparty.services import register_destroy_due

    if connection.schema_name == "public":
        raise RuntimeError("register_retention_destroy must run in a client's schema.")
    return register_destroy_due()
