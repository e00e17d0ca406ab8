"""Helpers for tests that need committed data, as a worker process or a browser sees only that.

Such tests cannot write through the `db` fixture's connection (its transaction is never committed),
nor use pytest-django's `transactional_db`/`live_server` (they flush the whole database afterwards,
cast included). They use the `committed_db` fixture (conftest.py) instead, build their own firm with
unique short names (`create_firm`) and remove it again (`remove_firm`, which drops the schemas).
"""

from __future__ import annotations

import datetime
import os
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connection, transaction
from django.test.testcases import LiveServerThread
from django.utils import timezone

from accounts.models import User
from tenants import provisioning, services
from tenants.models import Assignment, ClientOrganisation, Domain, Firm
from tenants.trail import Operator

PASSWORD = "correct horse battery staple"


def unique_slug(prefix: str) -> str:
    """Return a short name no other test run uses (a valid DNS label)."""
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass
class LiveFirm:
    firm: Firm
    clients: dict[str, ClientOrganisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    # Primary host per client key, known without a query (e.g. while Playwright's loop runs).
    hosts: dict[str, str] = field(default_factory=dict)


def create_firm(
    *,
    clients: dict[str, str],
    users: dict[str, tuple[str, str | None]] | None = None,
    assignments: dict[str, list[str]] | None = None,
) -> LiveFirm:
    """Create and commit a firm with unique short names, its clients, users and assignments.

    `clients` maps a key to the client's display name; `users` maps a key to (role, client key
    or None for firm roles); `assignments` maps an adviser's key to client keys. Users get
    PASSWORD and no authenticator device. Use with the `committed_db` fixture.
    """
    firm = services.firm_create(
        actor=Operator("test"), slug=unique_slug("firm"), name=f"Firma {secrets.token_hex(3)}"
    )
    live = LiveFirm(firm=firm)
    start = timezone.localdate() - datetime.timedelta(days=7)
    for key, name in clients.items():
        live.clients[key] = services.client_create(
            actor=Operator("test"),
            firm=firm,
            slug=unique_slug(key),
            name=name,
            employee_count=50,
            contract_starts_on=start,
        )
        live.hosts[key] = live.clients[key].domains.get(is_primary=True).domain
    for key, (role, client_key) in (users or {}).items():
        live.users[key] = services.user_create(
            actor=Operator("test"),
            email=f"{key}-{secrets.token_hex(4)}@{firm.slug}.test",
            full_name=key.replace("_", " ").title(),
            password=PASSWORD,
            role=role,
            firm=None if client_key else firm,
            client=live.clients[client_key] if client_key else None,
        )
    for adviser_key, client_keys in (assignments or {}).items():
        for client_key in client_keys:
            services.assignment_create(
                actor=Operator("test"),
                client=live.clients[client_key],
                adviser=live.users[adviser_key],
                starts_on=start,
            )
    return live


def remove_firm(live: LiveFirm) -> None:
    """Delete everything `create_firm` made (rows and client schemas)."""
    schemas = list(
        ClientOrganisation.objects.filter(firm=live.firm).values_list("schema_name", flat=True)
    )
    user_ids = [user.pk for user in live.users.values()]
    with transaction.atomic():
        _remove_releases(live.firm)
        Assignment.objects.filter(client__firm=live.firm).delete()
        Domain.objects.filter(tenant__firm=live.firm).delete()
        # QuerySet.delete skips TenantMixin.delete, which would refuse or drop schemas itself.
        ClientOrganisation.objects.filter(firm=live.firm).delete()
        Firm.objects.filter(pk=live.firm.pk).delete()
        User.objects.filter(pk__in=user_ids).delete()
        with connection.cursor() as cursor:
            for schema in schemas:
                if provisioning.is_valid_schema_name(schema):
                    cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _remove_releases(firm: Firm) -> None:
    """Figure releases are append-only (a trigger refuses DELETE while their client exists, and
    Django deletes a client's rows before the client): a firm whose figures were released (a
    report page, a publication) can only be removed with the trigger off, in this transaction."""
    from reports.models import FigureRelease

    if not FigureRelease.objects.filter(firm=firm).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE reports_figurerelease DISABLE TRIGGER reports_figurerelease_append_only"
        )
        FigureRelease.objects.filter(firm=firm).delete()
        cursor.execute(
            "ALTER TABLE reports_figurerelease ENABLE TRIGGER reports_figurerelease_append_only"
        )


def schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        return provisioning.schema_exists(cursor, schema)


def database_url() -> str:
    """A DATABASE_URL for other processes that points at this test run's database."""
    database = connection.settings_dict
    name = database["NAME"]
    configured = settings.DATABASES["default"].get("TEST", {})
    assert name == configured.get("NAME"), f"{name} is not the test database"
    given = os.environ.get("DATABASE_URL")
    if given:
        parts = urlsplit(given)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    # The embedded server listens on a unix socket; a percent-encoded host is a socket directory.
    user = database.get("USER") or "postgres"
    return f"postgresql://{quote(user)}@{quote(database['HOST'], safe='')}/{quote(name)}"


class LiveServer:
    """Django's live-server thread on 127.0.0.1, serving the current (test) settings and database.

    Requests are answered in other threads, so they see committed data only, and the
    pytest-django database blocker must be lifted while it serves (`committed_db` does).
    """

    def __init__(self) -> None:
        self.thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        self.thread.daemon = True

    def start(self) -> LiveServer:
        self.thread.start()
        self.thread.is_ready.wait(timeout=30)
        if self.thread.error:
            raise self.thread.error
        return self

    @property
    def port(self) -> int:
        return self.thread.port

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.thread.terminate()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
