"""Zero-config development database: an embedded PostgreSQL (the `pgserver` package).

Used only when DATABASE_URL is unset. The data lives under VERTROUWD_DATA_DIR (default `.data/`
in the checkout) and survives restarts; the server listens on a unix socket inside that folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATABASE_NAME = "vertrouwd"
_server: Any = None


def embedded_database(data_dir: Path) -> dict[str, Any]:
    """Start (or attach to) the embedded server and return Django DATABASES['default'] settings."""
    global _server
    import logging
    import os

    # pgserver keeps its lock file in the runtime directory; give it one when the OS did not.
    runtime = data_dir / "runtime"
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))

    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import psycopg

    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    if _server is None:
        _server = pgserver.get_server(pgdata, cleanup_mode="stop")
    with psycopg.connect(
        host=str(pgdata), dbname="postgres", user="postgres", autocommit=True
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(pgdata),
        "PORT": "",
    }
