"""Helpers for tests that race two database sessions."""

from __future__ import annotations

import time

from django.db import connection


def waits_for_lock(pids: list[int], *, advisory: bool = False, timeout: float = 30) -> bool:
    """Poll until the session whose backend pid lands in `pids` waits for a lock (an advisory
    lock when `advisory`); False when it never does within `timeout` seconds."""
    condition = "wait_event_type = 'Lock'" + (" AND wait_event = 'advisory'" if advisory else "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {condition} FROM pg_stat_activity WHERE pid = %s",  # noqa: S608
                pids[:1] or [0],
            )
            row = cursor.fetchone()
        if row and row[0]:
            return True
        time.sleep(0.01)
    return False
