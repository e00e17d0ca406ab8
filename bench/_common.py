"""Setup shared by the benchmarks: a database of their own, Django, signed-in clients, p95.

Each benchmark is a script run on its own (`.venv/bin/python bench/<name>.py`), not a package
module; Python puts the script's folder first on `sys.path`, so they import this as `_common`.
It exists so that every benchmark creates, configures and drops its database the same way.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import secrets
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def project_on_path() -> None:
    """Make the project's packages (`saas`, `tenants`, …) importable from a bench script."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def argument_parser(doc: str | None, database: str) -> argparse.ArgumentParser:
    """A parser described by the docstring's first paragraph, with --keep for `database`."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help=f"keep the {database} database")
    parser.add_argument(
        "--citus",
        metavar="URL",
        default="",
        help="run on the Citus cluster whose coordinator URL (maintenance database) this is, "
        "the database made on every node (tests/citus.py); DATABASE_URL is not used",
    )
    return parser


def server_and_url(database: str) -> tuple[dict[str, str], str]:
    """How to reach the server's `postgres` database, and the DATABASE_URL of `database`.

    Without DATABASE_URL this starts (or attaches to) the embedded server under `.data/`
    (VERTROUWD_DATA_DIR), which stays up while this process holds it.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        parts = urlsplit(url)
        return (
            {"conninfo": urlunsplit(parts._replace(path="/postgres"))},
            urlunsplit(parts._replace(path=f"/{database}")),
        )
    project_on_path()
    from saas.embedded_db import embedded_database

    data_dir = Path(os.environ.get("VERTROUWD_DATA_DIR", ROOT / ".data")).resolve()
    embedded = embedded_database(data_dir)
    host = embedded["HOST"]
    return (
        {"host": host, "user": embedded["USER"], "dbname": "postgres"},
        f"postgresql://{embedded['USER']}@{quote(host, safe='')}/{database}",
    )


def recreate_database(server: dict[str, str], database: str, *, drop_only: bool = False) -> None:
    """Drop `database` (closing its sessions) and, unless `drop_only`, create it empty."""
    import psycopg

    with psycopg.connect(**server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{database}"')


def close_connections() -> None:
    """Close Django's connections, if Django got configured, so the database can be dropped."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()


@contextmanager
def bench_database(database: str, *, keep: bool, citus: str = "") -> Iterator[str]:
    """Create `database` afresh on the app's server and yield its URL; drop it after, unless kept.

    The user needs CREATEDB on a server named by DATABASE_URL, or on every node of the Citus
    cluster whose coordinator `citus` names.
    """
    if citus:
        project_on_path()
        from tests.citus import drop_database, prepare_database

        prepare_database(citus, database)
        try:
            yield urlunsplit(urlsplit(citus)._replace(path=f"/{database}"))
        finally:
            close_connections()
            if keep:
                print(f"Kept the database {database} on the Citus cluster.")
            else:
                drop_database(citus, database)
        return
    server, bench_url = server_and_url(database)
    recreate_database(server, database)
    try:
        yield bench_url
    finally:
        close_connections()
        if keep:
            print(f"Kept the database {database}.")
        else:
            recreate_database(server, database, drop_only=True)


def throwaway_keys() -> dict[str, str]:
    """SECRET_KEY and MASTER_KEY from the environment, or fresh random ones (bench data only)."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "MASTER_KEY": os.environ.get("MASTER_KEY")
        or base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def setup_django(
    bench_url: str, *, redis_url: str = "", settings_module: str = "saas.settings"
) -> None:
    """Configure Django in this process on the bench database, as production would run.

    Production settings (DEBUG stays off unless the environment turns it on: it would keep
    every query) with throwaway keys, and no Redis unless `redis_url` names one: without it the
    locmem cache, and tasks run in-process (inside the timed request); with it, the Redis cache
    and tasks queued there, as in production (nothing consumes them).
    """
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    for name, value in throwaway_keys().items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    project_on_path()
    # WhiteNoise warns that STATIC_ROOT does not exist: no collectstatic for a benchmark.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings

    # Unhashed static URLs, without a manifest (a lookup either way).
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }


def template_ready() -> float:
    """Migrate the public schema and build the template schema; return the seconds it took."""
    from django.core.management import call_command

    from tenants import provisioning

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    provisioning.forget_template_state()
    provisioning.ensure_template()
    return time.perf_counter() - started


def load_average() -> str:
    """The 1-minute load average: other work on the machine slows every measurement down."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile (with fewer than 20 samples: the slowest)."""
    ordered = sorted(samples)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def signed_in(host: str, user: AbstractBaseUser) -> Client:
    """A test client for `host`, signed in as `user` with a verified second factor.

    Gives the user a confirmed TOTP device when they have none (causes a write).
    """
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = Client(HTTP_HOST=host)
    browser.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return browser
