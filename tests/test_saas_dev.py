"""dev.py's order of work (issue 14: a restart printed no logins, Ctrl+C left the embedded
PostgreSQL running, and the README's operator commands needed DEBUG=1 by hand).

These replace the commands dev.py runs by a recorder, so they check what dev.py asks for and in
which order, not the commands themselves (`demo_logins` and `seed_demo` have their own tests in
tests/test_cases_demo.py; stopping PostgreSQL is pgserver's `pg_ctl stop`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dev(monkeypatch):
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.calls = []
    monkeypatch.setattr(module, "ensure_environment", lambda: None)
    monkeypatch.setattr(module, "stop_embedded_database", lambda: module.calls.append("stop"))

    def manage(*args: str, env: dict[str, str] | None = None) -> None:
        module.calls.append((args[0], (env or {}).get("DEBUG")))
        if args[0] == "runserver":
            raise KeyboardInterrupt  # the developer presses Ctrl+C

    monkeypatch.setattr(module, "manage", manage)
    return module


def test_every_start_prints_the_logins_and_ctrl_c_stops_the_database(dev, monkeypatch):
    monkeypatch.delenv("DEBUG", raising=False)
    for _restart in range(2):
        dev.start("8000")
    one_start = [
        ("migrate_schemas", "1"),
        ("seed_demo", "1"),  # --if-empty: a restart keeps the demo
        ("demo_logins", "1"),
        ("runserver", "1"),
        "stop",
    ]
    assert dev.calls == one_start * 2


def test_operator_commands_run_with_development_settings_and_leave_no_database_running(
    dev, monkeypatch
):
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.setattr(dev, "embedded_database_running", lambda: False)
    dev.one_off("create_firm", "--help")
    assert dev.calls == [("create_firm", "1"), "stop"]
    # Under a running `dev.py start` the database is that one's to stop.
    dev.calls.clear()
    monkeypatch.setattr(dev, "embedded_database_running", lambda: True)
    dev.one_off("demo_logins")
    assert dev.calls == [("demo_logins", "1")]
