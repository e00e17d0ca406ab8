"""Scheduled destruction of the register's expired declarations (CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from saas.celery import app
from tenants.schemas import Reach, client_schema_task, client_schemas, fan_out

logger = logging.getLogger(__name__)


@app.task(acks_late=True)
def register_retention_dispatch() -> int:
    """Queue `register_retention_destroy` once per client organisation; returns how many."""
    # Suspended clients too: a legal retention term does not pause with the contract.
    queued = fan_out(register_retention_destroy, client_schemas(reach=Reach.HOLDING_DATA))
    logger.info("Third-party register: retention dispatched to %d client(s)", queued)
    return queued


@client_schema_task
def register_retention_destroy() -> int:
    """Inside one client's schema: destroy declarations kept five years (idempotent)."""
    from thirdparty.services import register_destroy_due

    return register_destroy_due()
