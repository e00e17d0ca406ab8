"""Client schemas cloned in advance, so that creating a client costs milliseconds, not a clone.

Cloning the template costs about a millisecond of database time per table and index (a few
hundred milliseconds today, growing with the app; on Citus seconds, as each statement goes to
a worker). `client_schema_take` instead claims a ready schema: one `DELETE … RETURNING` of a
row locked with SKIP LOCKED, so concurrent creations each get their own without waiting for
one another, and a creation that rolls back puts its schema back. An empty pool is never an
error: the creation clones, as before.

`pool_refill` (a task after each creation, and every few minutes from beat) drops the ready
schemas whose fingerprint is not the template's and clones new ones up to SCHEMA_POOL_SIZE.
After a deploy's migrations the ready schemas are behind; they are replaced rather than
migrated, and never handed out meanwhile: a claim takes only a schema at the fingerprint this
process's code expects.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

from tenants import provisioning
from tenants.models import ReadySchema

# Any fixed 64-bit number: one refill at a time (others return at once).
_REFILL_LOCK = 7_202_611_261


def ready_schema_claim(fingerprint: str) -> str | None:
    """Take a ready schema at `fingerprint` for the caller's transaction; None when there is none.

    Must run inside the caller's transaction: the row is gone when it commits, back when it
    rolls back. Causes one query; never waits for a concurrent claim (SKIP LOCKED).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ready_schema_claim() must run inside transaction.atomic().")
    table = connection.ops.quote_name(ReadySchema._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM public.{table} WHERE id = ("  # noqa: S608 (the model's table)
            f"    SELECT id FROM public.{table} WHERE fingerprint = %s"
            "    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
            ") RETURNING schema_name",
            [fingerprint],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def client_schema_take() -> provisioning.CloneResult:
    """A schema for a new client: a ready one at the template's state, else a fresh clone.

    Must run inside the caller's transaction. Causes one query with a ready schema; a clone
    (`provisioning.clone_template_into`) without one.
    """
    fingerprint = provisioning.ensure_template_fingerprint_cached()
    name = ready_schema_claim(fingerprint)
    if name is not None:
        return provisioning.CloneResult(schema_name=name, fingerprint=fingerprint)
    return provisioning.clone_template_into(provisioning.new_schema_name())


def ready_count(fingerprint: str) -> int:
    return ReadySchema.objects.filter(fingerprint=fingerprint).count()


def pool_refill(*, size: int | None = None) -> tuple[int, int]:
    """Drop ready schemas behind the template, then clone until `size` are ready; (made, dropped).

    `size` defaults to SCHEMA_POOL_SIZE. Only one refill runs at a time; another returns
    (0, 0) at once. Each schema is cloned or dropped in a transaction of its own, so creations
    can claim the first ones while the rest are made.
    """
    size = settings.SCHEMA_POOL_SIZE if size is None else size
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_REFILL_LOCK])
        if not cursor.fetchone()[0]:
            return 0, 0
    try:
        provisioning.ensure_template_fingerprint_cached()
        with connection.cursor() as cursor:
            # The template's state now, not this process's: during a deploy an older process
            # must not drop the schemas the newer code is about to claim.
            current = provisioning.template_fingerprint(cursor)
        dropped = 0
        while _drop_one_behind(current):
            dropped += 1
        made = 0
        while ready_count(current) < size:
            with transaction.atomic():
                clone = provisioning.clone_template_into(provisioning.new_schema_name())
                ReadySchema.objects.create(
                    schema_name=clone.schema_name, fingerprint=clone.fingerprint
                )
            made += 1
            if clone.fingerprint != current:
                break  # the template moved on meanwhile (a deploy): the next refill goes on
        return made, dropped
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_REFILL_LOCK])


def _drop_one_behind(current: str | None) -> bool:
    with transaction.atomic():
        stale = (
            ReadySchema.objects.exclude(fingerprint=current or "")
            .select_for_update(skip_locked=True)
            .order_by("id")
            .first()
        )
        if stale is None:
            return False
        if not provisioning.is_valid_schema_name(stale.schema_name):
            raise ValueError(f"Refusing to drop schema {stale.schema_name!r}: not a client schema.")
        stale.delete()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{stale.schema_name}" CASCADE')
        return True
