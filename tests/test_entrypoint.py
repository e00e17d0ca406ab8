"""The container's commands, run for real without a container engine (docker/entrypoint.sh).

Each role runs the way the image runs it: production settings (DEBUG off, hashed static files),
configuration only from the environment, the venv's executables first on PATH. The web role is
stopped with SIGTERM in the middle of a request, which must still be answered.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.live import database_url

ROOT = Path(settings.BASE_DIR)
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
BIN = ROOT / ".venv" / "bin"
STARTUP_SECONDS = 30


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production pod, as the Helm chart sets it (secrets are made up)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VERTROUWD_TESTING", "DEBUG", "DJANGO_SETTINGS_MODULE", "REDIS_URL"}
    }
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '/usr/bin:/bin')}",
        DEBUG="0",
        SECRET_KEY="entrypoint-test-" + secrets.token_hex(24),
        MASTER_KEY="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        BASE_DOMAIN="vertrouwd.localhost",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    """collectstatic exactly as the Dockerfile runs it (no database is contacted)."""
    target = tmp_path_factory.mktemp("static")
    result = subprocess.run(
        [str(ENTRYPOINT), "manage", "collectstatic", "--noinput", "--verbosity", "0"],
        env=production_env(
            STATIC_ROOT=str(target), DATABASE_URL="postgres://build@127.0.0.1:1/build"
        ),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return target


def test_collectstatic_writes_hashed_and_compressed_files(static_root):
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/app.css"]
    assert hashed != "css/app.css" and hashed.startswith("css/app.") and hashed.endswith(".css")
    assert (static_root / hashed).is_file()
    assert (static_root / f"{hashed}.gz").is_file()


def test_migrate_role_migrates_every_schema_and_reports(committed_db):
    result = subprocess.run(
        [str(ENTRYPOINT), "migrate", "--processes", "2"],
        env=production_env(DATABASE_URL=database_url()),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Migrating the public schema" in result.stdout
    assert "Migrating the template schema vertrouwd_template" in result.stdout
    assert ", 0 failed." in result.stdout


def test_unknown_option_fails_with_a_usage_message():
    result = subprocess.run(
        [str(ENTRYPOINT), "migrate", "--no-such-option"],
        env=production_env(DATABASE_URL="postgres://nobody@127.0.0.1:1/none"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "unrecognized arguments: --no-such-option" in result.stderr


@pytest.fixture
def web(committed_db, static_root) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    process = subprocess.Popen(
        [str(ENTRYPOINT), "web"],
        env=production_env(
            DATABASE_URL=database_url(),
            STATIC_ROOT=str(static_root),
            HOST="127.0.0.1",
            PORT=str(port),
            WEB_CONCURRENCY="1",
            GUNICORN_THREADS="2",
            GUNICORN_GRACEFUL_TIMEOUT="20",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer /healthz in time")
                time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def get(port: int, path: str, host: str = "vertrouwd.localhost") -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        # Generous: on a loaded CI machine the first request of a fresh worker takes seconds.
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http only)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _accept_queue(port: int) -> int | None:
    """Connections waiting in the accept queue of the listener on 127.0.0.1:port (Linux: the
    rx_queue column of a LISTEN row in /proc/net/tcp), or None when it cannot be read."""
    wanted = f"0100007F:{port:04X}"
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    for row in rows:
        fields = row.split()
        if fields[1] == wanted and fields[3] == "0A":  # 0A: LISTEN
            return int(fields[4].split(":")[1], 16)
    return None


def _wait_until_accepted(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    time.sleep(0.05)
    while (waiting := _accept_queue(port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if waiting is None:
        time.sleep(0.5)  # no /proc: fall back to a generous pause
    time.sleep(0.1)  # accepted; let the worker's thread start reading the half-sent headers


def test_web_role_serves_probes_and_hashed_static_files_then_stops_gracefully(web, static_root):
    process, port = web
    assert get(port, "/healthz")[:1] == (200,)
    status, _headers, body = get(port, "/readyz", host="10.1.2.3")  # probes use the pod IP
    assert status == 200 and json.loads(body)["ready"] is True
    hashed = json.loads((static_root / "staticfiles.json").read_text())["paths"]["css/app.css"]
    status, headers, body = get(port, f"/static/{hashed}")
    assert status == 200 and body == (static_root / hashed).read_bytes()
    assert "immutable" in headers["Cache-Control"]
    assert get(port, "/static/css/no-such-file.css")[0] == 404
    # A reporter's request behind the ingress: its address and browser must not be logged.
    browser, address = f"ReporterBrowser/{secrets.token_hex(4)}", "203.0.113.57"
    reporter = urllib.request.Request(
        f"http://127.0.0.1:{port}/intake/nl/mailbox/",
        headers={
            "Host": "gone.acme.vertrouwd.localhost",
            "User-Agent": browser,
            "X-Forwarded-For": address,
        },
    )
    with pytest.raises(urllib.error.HTTPError) as closed:
        urllib.request.urlopen(reporter, timeout=30)  # noqa: S310 (http only)
    assert closed.value.code == 410

    # A request in flight when SIGTERM arrives: headers half sent, the rest after the signal.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: vertrouwd.localhost\r\n")
        # The signal must come after the worker has accepted the connection (one still in the
        # listen queue is reset when the listener closes, as it should be). A fixed 0.3 s was not
        # always enough on a loaded CI machine; the kernel's accept queue says when it is taken.
        _wait_until_accepted(port)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        connection.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert answer.endswith(b"\r\n\r\n2\r\nok\r\n0\r\n\r\n")  # the body, chunked
    assert process.wait(timeout=25) == 0
    # And no new connections are taken any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    output = process.stdout.read()
    access = [line for line in output.splitlines() if '"GET /' in line]
    assert any('"GET /intake/nl/mailbox/" 410' in line for line in access), output[-2000:]
    assert browser not in output and address not in output
    assert not any("127.0.0.1" in line for line in access)


def _require_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except (redis.exceptions.RedisError, OSError):
        pytest.skip("no Redis answers on 127.0.0.1:6379: broker tests skipped")


@pytest.mark.broker
def test_worker_role_starts_and_stops_warmly_on_sigterm(committed_db, tmp_path):
    broker = "redis://127.0.0.1:6379/14"
    _require_redis(broker)
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(ENTRYPOINT), "worker", "--concurrency", "1"],
            env=production_env(
                DATABASE_URL=database_url(),
                REDIS_URL=broker,
                CELERY_QUEUE=f"test-{secrets.token_hex(6)}",
                LOG_LEVEL="INFO",
            ),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while " ready." not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
        assert "Warm shutdown" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
