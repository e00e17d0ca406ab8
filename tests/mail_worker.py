"""A real celery worker on the loopback Redis that sends e-mail into files, for the kill tests.

The worker sends with `mail.backends.MessageIdFileBackend` (files named by Message-ID, every
attempt also logged in `deliveries.log`) and is told, through its environment, to wait inside
the backend while a hold file exists: before writing the e-mail, or after writing it but before
the outbox row is marked sent (the residual window of `mail.outbox`). A test kills it there with
SIGKILL, starts a new one and counts e-mails. Used by tests/test_mail_worker.py and
tests/test_sparring_worker.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from saas.celery import app
from tests.live import database_url

BROKER_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(settings.BASE_DIR)
READY_SECONDS = 40
TASK_SECONDS = 30


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except (redis.exceptions.RedisError, OSError):
        pytest.skip("no Redis answers on 127.0.0.1:6379: the worker test is skipped")


@dataclass
class MailWorker:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_for(condition: Callable[[], bool], what: str, worker: MailWorker, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}; worker log:\n{worker.log()}")
        time.sleep(0.1)


def start_worker(*, queue: str, directory: Path, number: int, stage: str) -> MailWorker:
    env = {
        **os.environ,
        "REDIS_URL": BROKER_URL,
        "CELERY_QUEUE": queue,
        "VERTROUWD_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "saas.settings_test",
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "mail.backends.MessageIdFileBackend",
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

    wait_for(ready, "the worker to start", worker, READY_SECONDS)
    return worker


def stop(worker: MailWorker) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=5)


def forget_queue(queue: str) -> None:
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
def publish_to(queue: str) -> Iterator[Any]:
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


def emails(directory: Path) -> list[Path]:
    return sorted((directory / "mail").glob("*.eml"))


def deliveries(directory: Path) -> list[str]:
    log = directory / "mail" / "deliveries.log"
    return log.read_text().splitlines() if log.exists() else []
