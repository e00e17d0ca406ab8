"""Scheduled case work: retention fan-out per tenant, idempotent and logged; deadline reminders."""

from __future__ import annotations

import datetime

from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import services, tasks
from cases.models import Case, Theme

TODAY = timezone.localdate()


def _closed_case(cast, client_key: str, adviser_key: str, *, overdue: bool) -> str:
    with tenant_context(getattr(cast, client_key)):
        case = services.case_open(
            actor=cast.users[adviser_key],
            case_type="undesirable_behaviour",
            themes=[Theme.objects.get(code="intimidation")],
            reporter_role="employee",
            accused_relation="colleague",
            channel="phone",
        )
        services.note_add(actor=cast.users[adviser_key], case=case, text="Te vernietigen")
        case = services.case_close(
            actor=cast.users[adviser_key],
            case=case,
            outcome="resolved_informally",
            expected_version=case.version,
        )
        if overdue:
            Case.objects.filter(pk=case.pk).update(
                retention_until=TODAY - datetime.timedelta(days=1)
            )
        return case.reference


def test_the_schedule_is_defined_in_code():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["cases-retention"]["task"] == "cases.tasks.retention_dispatch"
    assert schedule["cases-retention"]["schedule"] == crontab(hour=3, minute=15)
    assert schedule["cases-deadline-reminders"]["task"] == "cases.tasks.deadline_reminders_send"
    from saas.celery import app

    assert {"cases.tasks.retention_dispatch", "cases.tasks.retention_destroy"} <= set(app.tasks)


def test_dispatcher_fans_out_to_every_client_schema_and_is_idempotent(cast):
    due_a1 = _closed_case(cast, "a1", "adviser_a", overdue=True)
    kept_a1 = _closed_case(cast, "a1", "adviser_a", overdue=False)
    due_b1 = _closed_case(cast, "b1", "adviser_b", overdue=True)
    assert tasks.retention_dispatch.apply().get() == 3  # a1, a2, b1
    assert connection.schema_name == "public"
    for client, reference, destroyed in (
        (cast.a1, due_a1, True),
        (cast.a1, kept_a1, False),
        (cast.b1, due_b1, True),
    ):
        with tenant_context(client):
            case = Case.objects.get(reference=reference)
            assert (case.destroyed_at is not None) is destroyed, reference
            assert case.notes.count() == (0 if destroyed else 1)
            assert AccessLogEntry.objects.filter(
                object_reference=reference, action="destroy"
            ).count() == (1 if destroyed else 0)
    tasks.retention_dispatch.apply().get()  # a second run destroys nothing more and logs nothing
    for client, reference in ((cast.a1, due_a1), (cast.b1, due_b1)):
        with tenant_context(client):
            assert (
                AccessLogEntry.objects.filter(object_reference=reference, action="destroy").count()
                == 1
            )


def test_retention_task_refuses_the_public_schema(cast):
    import pytest

    with pytest.raises(RuntimeError):
        tasks.retention_destroy.apply(headers={"_schema_name": "public"}).get()


def test_suspended_clients_are_skipped(cast):
    type(cast.a2).objects.filter(pk=cast.a2.pk).update(status="suspended")
    assert tasks.retention_dispatch.apply().get() == 2


def test_deadline_reminders_name_reference_and_deadline_only(
    cast, django_capture_on_commit_callbacks
):
    with tenant_context(cast.a1):
        case = services.case_open(
            actor=cast.adviser_a,
            case_type="integrity",
            themes=[Theme.objects.get(code="integrity")],
            reporter_role="employee",
            accused_relation="manager",
            channel="portal",
        )
        Case.objects.filter(pk=case.pk).update(opened_on=TODAY - datetime.timedelta(days=6))
        case.refresh_from_db()
        services.case_update(
            actor=cast.adviser_a,
            case=case,
            expected_version=case.version,
            report_received_on=TODAY - datetime.timedelta(days=6),
            reporter_identity="Naam Die Niet Mag Lekken",
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            tasks.deadline_reminders_send.apply(kwargs={"today_iso": TODAY.isoformat()}).get() == 1
        )
    [message] = mail.outbox
    assert message.to == ["adviser@acme.test"]
    assert case.reference in message.body and cast.a1.name in message.body
    assert (TODAY + datetime.timedelta(days=1)).isoformat() in message.body
    assert "Naam Die Niet" not in message.body
