"""Sparring e-mails through a real celery worker on the loopback Redis: killed mid-send, one e-mail.

The worker sends with `sparring.mail.MessageIdFileBackend` (files named by Message-ID, every
attempt also logged in `deliveries.log`) and is told, through its environment, to wait inside
the backend while a hold file exists: before writing the e-mail, or after writing it but before
the outbox row is marked sent (the residual window of notifications.py). The test kills it there
with SIGKILL, starts a new worker, lets the sweeper find the pending row, and counts e-mails.

Like tests/test_worker.py this needs committed data (`committed_db`, its own firm with unique
short names, removed afterwards) and skips with a message when no Redis answers.
"""

from __future__ import annotations

import email
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from saas.celery import app
from sparring import services
from sparring.public.models import OutboxEmail
from sparring.tasks import outbox_send, outbox_sweep
from tests.live import create_firm, database_url, remove_firm

BROKER_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(settings.BASE_DIR)
READY_SECONDS = 40
TASK_SECONDS = 30
SUBJECT = "Spanning in het nachtteam"
BODY = "De leidinggevende grijpt niet in, wat raden jullie aan?"


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except (redis.exceptions.RedisError, OSError):
        pytest.skip("no Redis answers on 127.0.0.1:6379: the sparring worker test is skipped")


@dataclass
class MailWorker:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_for(condition: Callable[[], bool], what: str, worker: MailWorker, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}; worker log:\n{worker.log()}")
        time.sleep(0.1)


def _start_worker(*, queue: str, directory: Path, number: int, stage: str) -> MailWorker:
    env = {
        **os.environ,
        "REDIS_URL": BROKER_URL,
        "CELERY_QUEUE": queue,
        "VERTROUWD_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "saas.settings_test",
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "sparring.mail.MessageIdFileBackend",
        "EMAIL_FILE_PATH": str(directory / "mail"),
        "EMAIL_FILE_HOLD_PATH": str(directory / "hold"),
        "EMAIL_FILE_HOLD_STAGE": stage,
    }
    log_path = directory / f"worker-{number}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "saas", "worker",
                "-Q", queue, "-n", f"{queue}-{number}@%h", "--pool=solo", "-l", "info",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = MailWorker(process=process, log_path=log_path)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"celery worker exited with {process.returncode}:\n{worker.log()}")
        return " ready." in worker.log()

    _wait_for(ready, "the worker to start", worker, READY_SECONDS)
    return worker


def _stop(worker: MailWorker) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=5)


def _forget_queue(queue: str) -> None:
    """Drop the queue and the killed worker's unacknowledged message from the test Redis."""
    import redis

    broker = redis.Redis.from_url(BROKER_URL)
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in broker.hgetall("unacked").items():
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)
    broker.close()


@contextmanager
def _publish_to(queue: str) -> Iterator[Any]:
    """Make this process publish tasks to the real broker and the worker's queue.

    Yields a broker connection for the test's own publishing: the app's pooled producer may
    have been set up for the in-process broker before.
    """
    saved = (app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = (
        BROKER_URL,
        False,
        queue,
    )
    try:
        with app.connection_for_write() as broker:
            yield broker
    finally:
        app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = saved


def _emails(directory: Path) -> list[Path]:
    return sorted((directory / "mail").glob("*.eml"))


def _deliveries(directory: Path) -> list[str]:
    log = directory / "mail" / "deliveries.log"
    return log.read_text().splitlines() if log.exists() else []


def _status(email_id) -> str:
    return OutboxEmail.objects.values_list("status", flat=True).get(pk=email_id)


@pytest.mark.broker
@pytest.mark.parametrize("stage", ["before", "after"], ids=["before-writing", "after-writing"])
def test_a_worker_killed_while_sending_leads_to_exactly_one_email(committed_db, tmp_path, stage):
    _require_redis()
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
        workers.append(_start_worker(queue=queue, directory=tmp_path, number=1, stage=stage))
        with _publish_to(queue), tenant_context(live.clients["zorg"]):
            # Commits, then queues the e-mail for the worker (on commit).
            thread = services.thread_start(actor=live.users["intern"], subject=SUBJECT, body=BODY)
        outbox = OutboxEmail.objects.get(thread_id=thread.pk)

        # Given a worker inside the mail backend, holding the claimed row ...
        _wait_for(
            lambda: Path(f"{hold}.reached").exists(),
            "the worker to enter the mail backend",
            workers[0],
            TASK_SECONDS,
        )
        # ... when it is killed there,
        workers[0].process.send_signal(signal.SIGKILL)
        workers[0].process.wait(timeout=10)
        files_after_kill = len(_emails(tmp_path))
        status_after_kill = _status(outbox.pk)

        # and a new worker starts and the sweeper finds the row still pending,
        hold.unlink()
        workers.append(_start_worker(queue=queue, directory=tmp_path, number=2, stage=stage))
        with _publish_to(queue) as broker:
            outbox_sweep.apply_async(
                kwargs={"min_age_seconds": 0}, headers={"_schema_name": "public"}, connection=broker
            )
        _wait_for(
            lambda: _status(outbox.pk) == "sent", "the e-mail to be sent", workers[1], TASK_SECONDS
        )

        # then exactly one e-mail exists, under the row's Message-ID,
        files = _emails(tmp_path)
        assert status_after_kill == "pending"
        assert files_after_kill == (1 if stage == "after" else 0)
        assert len(files) == 1, [file.name for file in files]
        message = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
        message_id = f"<sparring.{outbox.pk}@{settings.BASE_DOMAIN}>"
        assert str(message["Message-ID"]).strip() == message_id
        assert message["To"] == live.users["adviseur"].email
        # handed to the backend twice when the kill came after writing (same Message-ID), once
        # when it came before: the backend stored one.
        assert _deliveries(tmp_path) == [message_id] * (2 if stage == "after" else 1)
        text = message.get_body(preferencelist=("plain",)).get_content()
        for secret in (
            SUBJECT,
            BODY,
            "Kliniek Midden",
            *(u.full_name for u in live.users.values()),
        ):
            assert secret not in text and secret not in str(message["Subject"])

        # and a late duplicate of the task (a redelivery) and another sweep send nothing more.
        with _publish_to(queue) as broker:
            duplicate = outbox_send.apply_async(
                args=[str(outbox.pk)],
                headers={"_schema_name": live.clients["zorg"].schema_name},
                connection=broker,
            )
            outbox_sweep.apply_async(
                kwargs={"min_age_seconds": 0}, headers={"_schema_name": "public"}, connection=broker
            )
        _wait_for(
            lambda: f"{duplicate.id}] succeeded" in workers[1].log(),
            "the duplicate task",
            workers[1],
            TASK_SECONDS,
        )
        assert f"{duplicate.id}] succeeded in" in workers[1].log()
        assert (
            "'sent'" in workers[1].log().split(f"{duplicate.id}] succeeded", 1)[1].splitlines()[0]
        )
        assert len(_emails(tmp_path)) == 1
        assert _deliveries(tmp_path) == [message_id] * (2 if stage == "after" else 1)
    finally:
        if hold.exists():
            hold.unlink()
        for worker in workers:
            _stop(worker)
        _forget_queue(queue)
        remove_firm(live)
