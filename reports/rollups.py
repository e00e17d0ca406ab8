"""Monthly anonymous counts per client in the public schema, and the firm portfolio read from them.

`rollup_rebuild_current()` runs inside one client's schema (a task carries it): a handful of
GROUP BY queries, then it replaces that client's rows in `CaseRollup`. `rollup_request()` is
called after case changes; it schedules one rebuild a few seconds later however many changes
arrive meanwhile. Every night `reports.tasks.rollup_nightly` rebuilds every client.
"""

from __future__ import annotations

import datetime
import logging

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from reports.models import CaseRollup, Dimension, RollupState
from tenants.models import ClientOrganisation

logger = logging.getLogger(__name__)

ROLLUP_DELAY_SECONDS = 10


def _pending_key(schema: str) -> str:
    # A flag, not tenant data; the schema is part of the key so clients never share it.
    return f"reports:rollup-pending:{schema}"


def rollup_request() -> None:
    """Schedule a rebuild of the current client's rollup after this transaction commits.

    Debounced twice: one request per transaction however many changes it holds, and while a
    rebuild is pending (queued with a delay), further requests add nothing.
    """
    schema = connection.schema_name
    if schema == "public":
        return
    if any(
        getattr(entry[1], "rollup_schema", None) == schema
        for entry in getattr(connection, "run_on_commit", [])
    ):
        return

    def schedule() -> None:
        if cache.add(_pending_key(schema), 1, ROLLUP_DELAY_SECONDS * 6):
            from reports.tasks import rollup_client

            rollup_client.apply_async(
                countdown=ROLLUP_DELAY_SECONDS, headers={"_schema_name": schema}
            )

    schedule.rollup_schema = schema  # type: ignore[attr-defined]
    transaction.on_commit(schedule)


def rollup_pending_clear(schema: str) -> None:
    cache.delete(_pending_key(schema))


def _month_counts(
    queryset, date_field: str, value_field: str | None
) -> list[tuple[datetime.date, str, int]]:
    fields = ["month"] + ([value_field] if value_field else [])
    rows = (
        queryset.annotate(month=TruncMonth(date_field))
        .values(*fields)
        .annotate(number=Count("pk"))
        .order_by()
    )
    return [
        (row["month"], "" if value_field is None else str(row[value_field] or ""), row["number"])
        for row in rows
    ]


def rollup_rows_current() -> list[tuple[str, datetime.date, str, int]]:
    """Return (dimension, month, value, count) for the current client's schema (eight queries)."""
    from cases.models import Case, Referral, TimeEntry

    cases = Case.objects.all()
    rows: list[tuple[str, datetime.date, str, int]] = []
    for month, _value, number in _month_counts(cases, "opened_on", None):
        rows.append((Dimension.CASES, month, "", number))
    for dimension, field in (
        (Dimension.CASE_TYPE, "case_type"),
        (Dimension.REPORTER_ROLE, "reporter_role"),
        (Dimension.ACCUSED_RELATION, "accused_relation"),
        (Dimension.CHANNEL, "channel"),
        (Dimension.ADVISER, "adviser_id"),
    ):
        rows += [(dimension, m, v, n) for m, v, n in _month_counts(cases, "opened_on", field)]
    themes = (
        Case.themes.through.objects.annotate(month=TruncMonth("case__opened_on"))
        .values("month", "theme__code")
        .annotate(number=Count("pk"))
        .order_by()
    )
    rows += [(Dimension.THEME, r["month"], r["theme__code"], r["number"]) for r in themes]
    closed = cases.filter(closed_on__isnull=False)
    rows += [
        (Dimension.OUTCOME, m, v, n) for m, v, n in _month_counts(closed, "closed_on", "outcome")
    ]
    rows += [
        (Dimension.REFERRAL, m, v, n)
        for m, v, n in _month_counts(Referral.objects.all(), "referred_on", "target")
    ]
    minutes = (
        TimeEntry.objects.annotate(month=TruncMonth("worked_on"))
        .values("month")
        .annotate(total=Sum("minutes"), cases=Count("case_id", distinct=True))
        .order_by()
    )
    for row in minutes:
        rows.append((Dimension.MINUTES, row["month"], "", row["total"]))
        rows.append((Dimension.MINUTES_CASES, row["month"], "", row["cases"]))
    return rows


def rollup_rebuild_current() -> int:
    """Replace the current client's rollup rows with fresh counts; returns how many rows."""
    schema = connection.schema_name
    if schema == "public":
        raise RuntimeError("rollup_rebuild_current must run in a client organisation's schema.")
    client_id = (
        ClientOrganisation.objects.filter(schema_name=schema).values_list("pk", flat=True).get()
    )
    rows = rollup_rows_current()
    with transaction.atomic():
        CaseRollup.objects.filter(client_id=client_id).delete()
        CaseRollup.objects.bulk_create(
            [
                CaseRollup(client_id=client_id, dimension=d, month=m, value=v[:40], count=n)
                for d, m, v, n in rows
                if n
            ],
            batch_size=2000,
        )
        RollupState.objects.update_or_create(
            client_id=client_id, defaults={"rebuilt_at": timezone.now(), "rows": len(rows)}
        )
    return len(rows)
