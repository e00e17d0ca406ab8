"""Background tasks: a real celery worker on the loopback Redis, and the in-process fallback.

The worker is a separate process, so it only sees committed data: the broker test builds its own
firm (unique short names) through `committed_db` and removes it again afterwards.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from tenants import provisioning
from tenants.models import ClientOrganisation
from tenants.tasks import record_schema_state
from tests.live import create_firm, database_url, remove_firm, schema_exists

BROKER_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(settings.BASE_DIR)
WORKER_READY_SECONDS = 30
TASK_SECONDS = 20


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except (redis.exceptions.RedisError, OSError):
        pytest.skip("no Redis answers on 127.0.0.1:6379: broker tests skipped")


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_until_ready(worker: Worker) -> None:
    deadline = time.monotonic() + WORKER_READY_SECONDS
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(f"celery worker exited with {worker.process.returncode}:\n{worker.log()}")
        if " ready." in worker.log():
            return
        time.sleep(0.2)
    pytest.fail(f"celery worker not ready after {WORKER_READY_SECONDS} s:\n{worker.log()}")


def _forget_queue(queue: str) -> None:
    import redis

    broker = redis.Redis.from_url(BROKER_URL)
    # kombu's Redis transport keeps the queue's binding under one of these names.
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    broker.close()


@pytest.fixture
def worker(committed_db, tmp_path) -> Iterator[Worker]:
    """A celery worker process on its own queue, reading and writing the test database."""
    _require_redis()
    queue = f"test-{secrets.token_hex(6)}"
    env = {
        **os.environ,
        "REDIS_URL": BROKER_URL,
        "CELERY_QUEUE": queue,
        "VERTROUWD_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "saas.settings_test",
        "DATABASE_URL": database_url(),
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "saas", "worker",
                "-Q", queue, "-n", f"{queue}@%h", "--pool=solo", "--concurrency=1", "-l", "info",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    running = Worker(process=process, queue=queue, log_path=log_path)
    try:
        _wait_until_ready(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        _forget_queue(queue)


def _template_fingerprint() -> str:
    with connection.cursor() as cursor:
        fingerprint = provisioning.template_fingerprint(cursor)
    assert fingerprint is not None
    return fingerprint


@pytest.mark.broker
def test_worker_runs_the_task_inside_the_client_schema(committed_db, worker):
    live = create_firm(clients={"werk": "Werkplaats Oost"})
    try:
        client = live.clients["werk"]
        schema = client.schema_name
        expected = _template_fingerprint()
        # client_create already ran the check in this process (tasks are eager here);
        # clear its result so that only the worker can put it back.
        ClientOrganisation.objects.filter(pk=client.pk).update(
            schema_fingerprint="", schema_checked_at=None
        )
        producer = Celery("vertrouwd-test-producer", broker=BROKER_URL, set_as_current=False)
        try:
            producer.send_task(
                "tenants.tasks.record_schema_state",
                headers={"_schema_name": schema},
                queue=worker.queue,
            )
        finally:
            producer.close()

        deadline = time.monotonic() + TASK_SECONDS
        while True:
            row = ClientOrganisation.objects.values("schema_fingerprint", "schema_checked_at").get(
                pk=client.pk
            )
            if row["schema_checked_at"] is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)

        assert row["schema_checked_at"] is not None, f"task did not run:\n{worker.log()}"
        assert row["schema_fingerprint"] == expected
        log = worker.log()
        assert f"Schema {schema} has " in log
        assert "succeeded in" in log and f"'{schema}:{expected}'" in log
    finally:
        remove_firm(live)
    assert not schema_exists(schema)


def test_without_redis_the_task_runs_in_process(cast):
    assert settings.REDIS_URL is None
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    expected = _template_fingerprint()
    ClientOrganisation.objects.filter(pk__in=[cast.a1.pk, cast.a2.pk]).update(
        schema_fingerprint="", schema_checked_at=None
    )

    result = record_schema_state.apply_async(headers={"_schema_name": cast.a1.schema_name})

    assert result.get(timeout=1) == f"{cast.a1.schema_name}:{expected}"
    row = ClientOrganisation.objects.values("schema_fingerprint", "schema_checked_at").get(
        pk=cast.a1.pk
    )
    assert row["schema_fingerprint"] == expected
    assert row["schema_checked_at"] is not None
    # Only a1 was checked, and the connection is back on the public schema.
    other = ClientOrganisation.objects.values("schema_fingerprint", "schema_checked_at").get(
        pk=cast.a2.pk
    )
    assert other == {"schema_fingerprint": "", "schema_checked_at": None}
    assert connection.schema_name == "public"


def _manage_check(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VERTROUWD_TESTING", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "saas.settings", "DATABASE_URL": database_url()}
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_settings_say_so_when_tasks_run_in_process(db):
    without_redis = _manage_check()
    with_redis = _manage_check(REDIS_URL=BROKER_URL)

    assert without_redis.returncode == 0, without_redis.stderr
    assert "No REDIS_URL: background tasks run in-process." in without_redis.stderr
    assert with_redis.returncode == 0, with_redis.stderr
    assert "No REDIS_URL" not in with_redis.stderr
