"""The e-mail outbox (`mail/`): every e-mail is a row first, sent once by a worker, retried.

In-process here (no broker: the send task runs right after the commit, as in development);
tests/test_mail_worker.py kills a real worker in the middle of a send.
"""

from __future__ import annotations

import datetime
import socket

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from boardroom import services as board
from boardroom.emails import SIGNAL_SENT
from boardroom.models import BoardSignal
from cases.emails import DEADLINE_REMINDER
from cases.tasks import deadline_reminders_send
from mail import outbox
from mail.models import OutgoingEmail
from mail.tasks import email_send, email_sweep
from tenants.models import ClientMembership
from tests.cast import sign_in
from tests.live import create_firm, remove_firm
from workindex.models import CaseworkEntry

TODAY = timezone.localdate()
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SIGNAL = {
    "title": "Toename van meldingen over werkdruk",
    "risk": "Meerdere medewerkers in de zorgteams noemen structureel hoge werkdruk.",
    "recommendation": "Onderzoek de roosters en bespreek de bezetting met de teamleiders.",
    "severity": "high",
}


def _mail_server_down(settings) -> None:
    """Point the SMTP backend at a loopback port nobody listens on: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False


def _due_now(email_id) -> None:
    """Skip the backoff: the row's retry time and the sweeper's minimum age have passed."""
    long_ago = timezone.now() - datetime.timedelta(minutes=10)
    OutgoingEmail.objects.filter(pk=email_id).update(next_attempt_at=long_ago, created_at=long_ago)


def test_a_board_signal_sent_while_the_mail_server_is_down_is_mailed_later_once(
    committed_db, settings
):
    live = create_firm(
        clients={"zorg": "Kliniek Midden"},
        users={"adviseur": ("adviser", None), "bestuur": ("contact_person", "zorg")},
        assignments={"adviseur": ["zorg"]},
    )
    try:
        adviser, contact = live.users["adviseur"], live.users["bestuur"]
        TOTPDevice.objects.create(user=adviser, name="test", confirmed=True)
        with tenant_context(live.clients["zorg"]):
            signal = board.signal_create(actor=adviser, **SIGNAL)
        browser = Client(HTTP_HOST=live.hosts["zorg"])
        sign_in(browser, adviser)
        _mail_server_down(settings)

        # When the adviser sends the signal (committed for real: the e-mail is tried in the
        # request's process right after the commit, as without a broker),
        page = browser.post(f"/board/signals/{signal.pk}/send/", follow=True)

        # the page answers 200, the signal is sent, and the e-mail waits, its failure counted.
        assert page.status_code == 200
        with tenant_context(live.clients["zorg"]):
            assert BoardSignal.objects.get(pk=signal.pk).status == BoardSignal.Status.SENT
        row = OutgoingEmail.objects.get(kind=SIGNAL_SENT, client=live.clients["zorg"])
        assert (row.status, row.attempts, row.last_error, row.recipient_id) == (
            "pending",
            1,
            "ConnectionRefusedError",
            contact.pk,
        )
        assert row.next_attempt_at > timezone.now()
        assert row.params == {}  # nothing of the signal is stored with the e-mail
        assert mail.outbox == []

        # The sweeper leaves it alone until its retry time; then, the server back, sends it once.
        settings.EMAIL_BACKEND = LOCMEM
        assert outbox.outbox_sweep() == 0
        _due_now(row.pk)
        assert email_sweep.apply().get() == 1
        [message] = mail.outbox
        assert message.to == [contact.email]
        assert message.extra_headers["Message-ID"] == f"<mail.{row.pk}@{settings.BASE_DOMAIN}>"
        assert "Kliniek Midden" in message.subject
        for secret in SIGNAL.values():
            assert secret not in message.body and secret not in message.subject
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("sent", 2)

        # A late duplicate of the task and another sweep send nothing more.
        assert email_send.apply(args=[str(row.pk)]).get() == "sent"
        _due_now(row.pk)
        assert outbox.outbox_sweep() == 0
        assert len(mail.outbox) == 1
    finally:
        remove_firm(live)


def _deadline_due(cast) -> None:
    CaseworkEntry.objects.create(
        client=cast.a1,
        case_reference="2099-0001",
        phase="intake",
        case_type="integrity",
        adviser_id=cast.adviser_a.pk,
        opened_on=TODAY - datetime.timedelta(days=6),
        acknowledgement_due_on=TODAY + datetime.timedelta(days=1),
    )


def test_a_redelivered_reminder_task_sends_once(cast, django_capture_on_commit_callbacks):
    _deadline_due(cast)
    mail.outbox.clear()
    # The broker hands the task out again (acks_late: the worker died after its commit).
    for _delivery in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            deadline_reminders_send.apply(kwargs={"today_iso": TODAY.isoformat()}).get()
    assert [message.to for message in mail.outbox] == [[cast.adviser_a.email]]
    assert "2099-0001" in mail.outbox[0].body
    assert (
        OutgoingEmail.objects.filter(
            kind=DEADLINE_REMINDER, recipient=cast.adviser_a, status="sent"
        ).count()
        == 1
    )
    # The next day is a new reminder.
    with django_capture_on_commit_callbacks(execute=True):
        tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
        assert deadline_reminders_send.apply(kwargs={"today_iso": tomorrow}).get() == 1
    assert len(mail.outbox) == 2


def test_a_reminder_for_a_client_no_longer_assigned_is_dropped(
    cast, django_capture_on_commit_callbacks
):
    from tenants.models import Assignment

    _deadline_due(cast)
    Assignment.objects.filter(adviser=cast.adviser_a).update(
        ended_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deadline_reminders_send.apply(kwargs={"today_iso": TODAY.isoformat()}).get()
    row = OutgoingEmail.objects.get(kind=DEADLINE_REMINDER, recipient=cast.adviser_a)
    assert row.status == "dropped"
    assert all(cast.a1.name not in message.body for message in mail.outbox)


def test_the_same_logical_message_asked_for_twice_is_one_row(cast):
    with transaction.atomic():
        first = outbox.email_enqueue(
            kind=SIGNAL_SENT, key="42:7", recipient_id=cast.contact_a1.pk, client=cast.a1
        )
        second = outbox.email_enqueue(
            kind=SIGNAL_SENT, key="42:7", recipient_id=cast.contact_a1.pk, client=cast.a1
        )
    assert first is not None and second is None
    assert OutgoingEmail.objects.filter(kind=SIGNAL_SENT, key="42:7").count() == 1


def test_an_email_is_asked_for_inside_the_transaction_of_its_cause(committed_db):
    # committed_db: autocommit, as in a task or command that forgot its transaction.
    with pytest.raises(RuntimeError, match="inside the transaction"):
        outbox.email_enqueue(kind=SIGNAL_SENT, key="outside")
    assert not OutgoingEmail.objects.filter(key="outside").exists()


def test_an_unknown_kind_is_refused(cast):
    with pytest.raises(LookupError, match="No renderer"), transaction.atomic():
        outbox.email_enqueue(kind="nobody.knows", key="x")
    assert not OutgoingEmail.objects.filter(key="x").exists()


def test_a_recipient_who_lost_the_role_gets_nothing(cast, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with transaction.atomic():
        row = outbox.email_enqueue(
            kind=SIGNAL_SENT, key="lost", recipient_id=cast.contact_a1.pk, client=cast.a1
        )
        ClientMembership.objects.filter(user=cast.contact_a1, client=cast.a1).delete()
    assert email_send.apply(args=[str(row.pk)]).get() == "dropped"
    assert mail.outbox == []


def test_failures_back_off_and_end_as_failed(cast, settings):
    settings.EMAIL_BACKEND = LOCMEM
    with transaction.atomic():
        row = outbox.email_enqueue(
            kind=SIGNAL_SENT, key="flaky", recipient_id=cast.contact_a1.pk, client=cast.a1
        )
    delays = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        before = timezone.now()
        outbox.email_failure_record(email_id=row.pk, error=ConnectionRefusedError())
        row.refresh_from_db()
        delays.append(round((row.next_attempt_at - before).total_seconds() / 60))
        assert row.attempts == attempt
    assert delays[:4] == [2, 4, 8, 16] and max(delays) == 360
    assert (row.status, row.last_error) == ("failed", "ConnectionRefusedError")
    _due_now(row.pk)
    assert outbox.outbox_sweep() == 0
    assert email_send.apply(args=[str(row.pk)]).get() == "failed"
    assert mail.outbox == []


def test_only_the_outbox_hands_e_mail_to_a_mail_backend():
    """No module sends e-mail itself: every e-mail is an outbox row."""
    import re
    from pathlib import Path

    senders = {"mail/outbox.py"}
    call = re.compile(r"(?<!def )\b(send_mail|get_connection|send_mass_mail|mail_admins)\(")
    root = Path(settings.BASE_DIR)
    found = {
        path.relative_to(root).as_posix()
        for path in root.glob("*/**/*.py")
        if not path.relative_to(root).parts[0].startswith((".", "tests", "bench"))
        and call.search(path.read_text())
    }
    assert found == senders


def test_offboarding_drops_what_still_waits_for_the_client(cast):
    from tenants.services import client_offboard

    with transaction.atomic():
        waiting = outbox.email_enqueue(
            kind=SIGNAL_SENT, key="offboard", recipient_id=cast.contact_a1.pk, client=cast.a2
        )
        elsewhere = outbox.email_enqueue(
            kind=SIGNAL_SENT, key="stays", recipient_id=cast.contact_a1.pk, client=cast.a1
        )
    client_offboard(actor=cast.admin_a, client=cast.a2)
    statuses = dict(
        OutgoingEmail.objects.filter(pk__in=[waiting.pk, elsewhere.pk]).values_list("key", "status")
    )
    assert statuses == {"offboard": "dropped", "stays": "pending"}
