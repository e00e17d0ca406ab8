"""Sparring e-mails through a real celery worker on the loopback Redis: killed mid-send, one e-mail.

The worker (tests/mail_worker.py) waits inside the mail backend, before or after writing the
e-mail; the test kills it there with SIGKILL, starts a new worker, lets the sweeper find the
pending row, and counts e-mails.

Like tests/test_saas_worker.py this needs committed data (`committed_db`, its own firm with unique
short names, removed afterwards) and skips with a message when no Redis answers.
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

from mail.models import OutgoingEmail
from mail.tasks import email_send, email_sweep
from sparring import services
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

SUBJECT = "Spanning in het nachtteam"
BODY = "De leidinggevende grijpt niet in, wat raden jullie aan?"


def _status(email_id) -> str:
    return OutgoingEmail.objects.values_list("status", flat=True).get(pk=email_id)


@pytest.mark.broker
@pytest.mark.parametrize("stage", ["before", "after"], ids=["before-writing", "after-writing"])
def test_a_worker_killed_while_sending_leads_to_exactly_one_email(committed_db, tmp_path, stage):
    require_redis()
    queue = f"test-sparring-{secrets.token_hex(6)}"
    hold = tmp_path / "hold"
    hold.touch()
    live = create_firm(
        clients={"zorg": "Kliniek Midden"},
        users={"intern": ("internal_adviser", "zorg"), "adviseur": ("adviser", None)},
        assignments={"adviseur": ["zorg"]},
    )
    workers: list[MailWorker] = []
    try:
        workers.append(start_worker(queue=queue, directory=tmp_path, number=1, stage=stage))
        with publish_to(queue), tenant_context(live.clients["zorg"]):
            # Commits, then queues the e-mail for the worker (on commit).
            thread = services.thread_start(actor=live.users["intern"], subject=SUBJECT, body=BODY)
        outbox = OutgoingEmail.objects.get(params__thread=str(thread.pk))

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
        status_after_kill = _status(outbox.pk)

        # and a new worker starts and the sweeper finds the row still pending,
        hold.unlink()
        workers.append(start_worker(queue=queue, directory=tmp_path, number=2, stage=stage))
        with publish_to(queue) as broker:
            email_sweep.apply_async(
                kwargs={"min_age_seconds": 0}, headers={"_schema_name": "public"}, connection=broker
            )
        wait_for(
            lambda: _status(outbox.pk) == "sent", "the e-mail to be sent", workers[1], TASK_SECONDS
        )

        # then exactly one e-mail exists, under the row's Message-ID,
        files = emails(tmp_path)
        assert status_after_kill == "pending"
        assert files_after_kill == (1 if stage == "after" else 0)
        assert len(files) == 1, [file.name for file in files]
        message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
        message_id = f"<mail.{outbox.pk}@{settings.BASE_DOMAIN}>"
        assert str(message["Message-ID"]).strip() == message_id
        assert message["To"] == live.users["adviseur"].email
        # handed to the backend twice when the kill came after writing (same Message-ID), once
        # when it came before: the backend stored one.
        assert deliveries(tmp_path) == [message_id] * (2 if stage == "after" else 1)
        text = message.get_body(preferencelist=("plain",)).get_content()
        for secret in (
            SUBJECT,
            BODY,
            "Kliniek Midden",
            *(u.full_name for u in live.users.values()),
        ):
            assert secret not in text and secret not in str(message["Subject"])

        # and a late duplicate of the task (a redelivery) and another sweep send nothing more.
        with publish_to(queue) as broker:
            duplicate = email_send.apply_async(
                args=[str(outbox.pk)],
                headers={"_schema_name": live.clients["zorg"].schema_name},
                connection=broker,
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
        assert f"{duplicate.id}] succeeded in" in workers[1].log()
        assert (
            "'sent'" in workers[1].log().split(f"{duplicate.id}] succeeded", 1)[1].splitlines()[0]
        )
        assert len(emails(tmp_path)) == 1
        assert deliveries(tmp_path) == [message_id] * (2 if stage == "after" else 1)
    finally:
        if hold.exists():
            hold.unlink()
        for worker in workers:
            stop(worker)
        forget_queue(queue)
        remove_firm(live)
