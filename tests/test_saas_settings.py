"""Settings from the environment fail loudly; production values pass `check --deploy`; health."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from saas import env

ROOT = Path(__file__).resolve().parent.parent


def test_env_readers(monkeypatch, tmp_path):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env.env_bool("X_BOOL", False) is True
    assert env.env_int("X_INT", 0) == 12
    assert env.env_list("X_LIST", []) == ["a", "b", "c"]
    assert env.env_secret("X_SECRET") == "s3cret"
    assert env.env_bool("X_MISSING", True) is True


@pytest.mark.parametrize(
    ("call", "value"),
    [
        (lambda: env.env_bool("X", False), "maybe"),
        (lambda: env.env_int("X", 0), "twelve"),
        (lambda: env.env_int("X", 0, minimum=1), "0"),
        (lambda: env.env_secret("X"), None),
        (lambda: env.env_str("X_REQUIRED_AND_UNSET", required=True), None),
    ],
)
def test_env_readers_fail_loudly(monkeypatch, call, value):
    if value is None:
        monkeypatch.setenv("X_FILE", "/nonexistent/secret")
    else:
        monkeypatch.setenv("X", value)
    with pytest.raises(ImproperlyConfigured):
        call()


def _production_env() -> dict[str, str]:
    keep = {
        key: value
        for key, value in os.environ.items()
        if key in {"PATH", "HOME", "LANG", "XDG_RUNTIME_DIR"}
    }
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "saas.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "Production-Like-Secret-Value-0123456789",
        "MASTER_KEY": "q1k5p1WmQ3Zk4S0nq8yJm2b7oVq8mQ2yQ0q9x7Zc3fU=",
        "DATABASE_URL": "postgresql://vertrouwd:pw@db.internal:5432/vertrouwd",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "BASE_DOMAIN": "vertrouwd.example.nl",
        "PUBLIC_SCHEME": "https",
        "SECURE_COOKIES": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_PRELOAD": "1",
        "BEHIND_TLS_PROXY": "1",
    }


def test_check_deploy_passes_with_production_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    environment = _production_env()
    del environment["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"MASTER_KEY": base64.b64encode(b"k" * 31).decode()},
            "MASTER_KEY must be base64 of exactly 32 bytes, not 31.",
        ),
        ({"MASTER_KEY": "not base64!"}, "MASTER_KEY must be base64 of 32 random bytes."),
        (
            {"MASTER_KEY_PREVIOUS": base64.b64encode(b"k" * 32).decode() + ",c2hvcnQ="},
            "MASTER_KEY_PREVIOUS[2] must be base64 of exactly 32 bytes, not 5.",
        ),
        (
            {"MASTER_KEY": None, "MASTER_KEY_PREVIOUS": base64.b64encode(b"k" * 32).decode()},
            "MASTER_KEY_PREVIOUS is set but MASTER_KEY is not.",
        ),
        ({"MASTER_KEY": None}, "MASTER_KEY (or MASTER_KEY_FILE) is required when DEBUG is off."),
    ],
)
def test_production_refuses_to_start_on_a_bad_master_key(changes, message):
    """Decoded at start: a 31-byte key never reaches the first encryption."""
    environment = _production_env()
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_healthz_answers_on_any_host():
    for host in ("vertrouwd.localhost", "10.1.2.3:8000", "unknown.example"):
        response = Client(HTTP_HOST=host).get("/healthz")
        assert response.status_code == 200 and response.content == b"ok"


def test_readyz_checks_database_and_broker(db, settings):
    response = Client(HTTP_HOST="10.1.2.3").get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"database": "ok", "broker": "in-process", "ready": True}
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = Client(HTTP_HOST="10.1.2.3").get("/readyz")
    assert response.status_code == 503
    assert json.loads(response.content)["ready"] is False


def test_every_scheduled_task_exists():
    from django.conf import settings as django_settings

    from saas.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "billing.tasks.subscriptions_reconcile" in scheduled
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


def test_no_error_report_leaves_by_e_mail():
    """Django's default logging mails error reports (with the request) to ADMINS; ours does not."""
    import logging

    handlers = [
        handler
        for name in ("django", "django.request", "django.security", "")
        for handler in logging.getLogger(name).handlers
    ]
    assert not any(type(handler).__name__ == "AdminEmailHandler" for handler in handlers)
