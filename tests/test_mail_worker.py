"""The mail outbox through a real celery worker on the loopback Redis: killed mid-send, one e-mail.

A board signal's e-mail to the client's contact person is sent by a worker (tests/mail_worker.py)
that waits inside the mail backend, before or after writing the e-mail; the test kills it there
with SIGKILL, starts a new worker, lets the sweeper find the pending row and counts e-mails.
Committed data (`committed_db`, a firm of its own, removed afterwards); skipped with a message
when no Redis answers.
"""

from __future__ import annotations

import email
import secrets
import signal
from email import policy
from pathlib import Path

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from boardroom import services
from boardroom.emails import SIGNAL_SENT
from mail.models import OutgoingEmail
from mail.tasks import email_send, email_sweep
from tests.live import create_firm, remove_firm
from tests.mail_worker import (
    TASK_SECONDS,
    MailWorker,
    deliveries,
    emails,
    forget_queue,
    publish_to,
    require_redis,
    start_worker,
    stop,
    wait_for,
)

SIGNAL = {
    "title": "Toename van meldingen over werkdruk",
    "risk": "Meerdere medewerkers in de zorgteams noemen structureel hoge werkdruk.",
    "recommendation": "Onderzoek de roosters en bespreek de bezetting met de teamleiders.",
    "severity": "high",
}


def _status(email_id) -> str:
    return OutgoingEmail.objects.values_list("status", flat=True).get(pk=email_id)


@pytest.mark.broker
@pytest.mark.parametrize("stage", ["before", "after"], ids=["before-writing", "after-writing"])
def test_a_worker_killed_while_sending_leads_to_exactly_one_email(committed_db, tmp_path, stage):
    require_redis()
    queue = f"test-mail-{secrets.token_hex(6)}"
    hold = tmp_path / "hold"
    hold.touch()
    live = create_firm(
        clients={"zorg": "Kliniek Midden"},
        users={"adviseur": ("adviser", None), "bestuur": ("contact_person", "zorg")},
        assignments={"adviseur": ["zorg"]},
    )
    workers: list[MailWorker] = []
    try:
        workers.append(start_worker(queue=queue, directory=tmp_path, number=1, stage=stage))
        with tenant_context(live.clients["zorg"]):
            draft = services.signal_create(actor=live.users["adviseur"], **SIGNAL)
            with publish_to(queue):
                # Commits, then queues the e-mail for the worker (on commit).
                services.signal_send(actor=live.users["adviseur"], signal=draft)
        row = OutgoingEmail.objects.get(kind=SIGNAL_SENT, client=live.clients["zorg"])

        # Given a worker inside the mail backend, holding the claimed row ...
        wait_for(
            lambda: Path(f"{hold}.reached").exists(),
            "the worker to enter the mail backend",
            workers[0],
            TASK_SECONDS,
        )
        # ... when it is killed there,
        workers[0].process.send_signal(signal.SIGKILL)
        workers[0].process.wait(timeout=10)
        files_after_kill = len(emails(tmp_path))
        status_after_kill = _status(row.pk)

        # and a new worker starts and the sweeper finds the row still pending,
        hold.unlink()
        workers.append(start_worker(queue=queue, directory=tmp_path, number=2, stage=stage))
        with publish_to(queue) as broker:
            email_sweep.apply_async(
                kwargs={"min_age_seconds": 0}, headers={"_schema_name": "public"}, connection=broker
            )
        wait_for(lambda: _status(row.pk) == "sent", "the e-mail to be sent", workers[1], 30)

        # then exactly one e-mail exists, under the row's Message-ID, saying where to look only,
        files = emails(tmp_path)
        assert status_after_kill == "pending"
        assert files_after_kill == (1 if stage == "after" else 0)
        assert len(files) == 1, [file.name for file in files]
        message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
        message_id = f"<mail.{row.pk}@{settings.BASE_DOMAIN}>"
        assert str(message["Message-ID"]).strip() == message_id
        assert message["To"] == live.users["bestuur"].email
        assert deliveries(tmp_path) == [message_id] * (2 if stage == "after" else 1)
        text = message.get_body(preferencelist=("plain",)).get_content()
        for secret in SIGNAL.values():
            assert secret not in text and secret not in str(message["Subject"])

        # and a late duplicate of the task (a redelivery) and another sweep send nothing more.
        with publish_to(queue) as broker:
            duplicate = email_send.apply_async(
                args=[str(row.pk)], headers={"_schema_name": "public"}, connection=broker
            )
            email_sweep.apply_async(
                kwargs={"min_age_seconds": 0}, headers={"_schema_name": "public"}, connection=broker
            )
        wait_for(
            lambda: f"{duplicate.id}] succeeded" in workers[1].log(),
            "the duplicate task",
            workers[1],
            TASK_SECONDS,
        )
        tail = workers[1].log().split(f"{duplicate.id}] succeeded", 1)[1].splitlines()[0]
        assert "'sent'" in tail
        assert len(emails(tmp_path)) == 1
        assert deliveries(tmp_path) == [message_id] * (2 if stage == "after" else 1)
    finally:
        if hold.exists():
            hold.unlink()
        for worker in workers:
            stop(worker)
        forget_queue(queue)
        remove_firm(live)
