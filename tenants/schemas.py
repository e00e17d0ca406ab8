"""Client schemas seen from jobs: which ones a job fans out to, the decorator for a task that
runs inside one, and the fingerprint of a schema's applied migrations.

One dispatcher per job runs in the public schema and queues one task per client schema,
carrying the schema in the message header (tenant-schemas-celery); per-tenant beat schedulers
would query every schema on every tick.

Which clients a job reaches (`Reach`):

- `ACTIVE`: active clients with a data key. Case work, rollups, reminders and report drafts:
  a suspended client's figures and deadlines wait until it is active again.
- `HOLDING_DATA`: every client that still has a schema and key, suspended ones too. Its
  configuration (themes) must be current when a suspended client comes back.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connection

from saas.celery import app

logger = logging.getLogger(__name__)
Result = TypeVar("Result")


def current_schema() -> str:
    """The schema the connection uses ("public" outside a client); django-tenants sets it."""
    return str(getattr(connection, "schema_name", "public"))


class Reach(enum.Enum):
    ACTIVE = "active"
    HOLDING_DATA = "holding_data"


def client_schemas(*, reach: Reach = Reach.ACTIVE, **filters: Any) -> list[str]:
    """The schemas a job fans out to, in a stable order; `filters` narrow the clients further
    (e.g. `firm_id=...`)."""
    from tenants.models import ClientOrganisation

    clients = ClientOrganisation.objects.filter(**filters).exclude(schema_name="public")
    clients = clients.exclude(wrapped_data_key=b"")
    if reach is Reach.ACTIVE:
        clients = clients.filter(status=ClientOrganisation.Status.ACTIVE)
    else:
        clients = clients.exclude(status=ClientOrganisation.Status.OFFBOARDED)
    return list(clients.order_by("pk").values_list("schema_name", flat=True).distinct())


def fan_out(
    task: Any, schemas: Iterable[str], *, args: tuple[Any, ...] = (), tolerant: bool = False
) -> int:
    """Queue `task` once per schema; returns how many were queued. In-process mode (no broker)
    runs each at once; with `tolerant`, one schema's failure is logged and does not stop the
    others (for jobs a nightly run repeats)."""
    queued = 0
    for schema in schemas:
        try:
            task.apply_async(args=list(args), headers={"_schema_name": schema})
        except Exception:
            if not tolerant:
                raise
            logger.exception("%s failed in %s; the next run tries again", task.name, schema)
        else:
            queued += 1
    return queued


def client_schema_task(function: Callable[..., Result]) -> Any:
    """A Celery task that runs inside one client's schema (queued with `fan_out`, or with the
    `_schema_name` header): late acknowledgement, and it refuses to run in the public schema."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Result:
        if current_schema() == "public":
            raise RuntimeError(f"{function.__name__} must run in a client organisation's schema.")
        return function(*args, **kwargs)

    return app.task(acks_late=True)(run)


def schema_fingerprint(applied: Iterable[tuple[str, str]]) -> str:
    """Hash of a schema's applied migrations ((app, name) rows of django_migrations): compares a
    client schema with the template and with what the running code expects."""
    return hashlib.sha256(repr(sorted(applied)).encode()).hexdigest()[:16]
