from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from django.test.client import ClientHandler
from django.utils import translation

from tenants import provisioning
from tests import citus
from tests.cast import build_cast, load_cast


@pytest.fixture(scope="session")
def django_db_keepdb(request):
    """On Citus, the test database is made on every node first and Django reuses it (tests/citus.py)."""
    if citus.citus_url():
        citus.prepare_test_database(settings.DATABASES["default"]["TEST"]["NAME"])
        return True
    return request.config.getvalue("reuse_db")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the test database exists: the template schema and the fixed cast, committed once."""
    from django.db import connection

    # pytest-django only switches to the test database when a selected test asks for `db`;
    # never build the cast into a development database.
    assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        provisioning.forget_template_state()
        provisioning.ensure_template()
        from tenants.models import Firm

        if not Firm.objects.filter(slug="acme").exists():
            build_cast()


@pytest.fixture(autouse=True)
def _clear_caches():
    for alias in settings.CACHES:
        caches[alias].clear()
    yield


@pytest.fixture(autouse=True)
def _requests_keep_the_test_language(monkeypatch):
    """Give every test-client request its own language context, as a server gives each request.

    LocaleMiddleware activates the request's language in the current thread and never restores
    the one before, so without this a test that asserts English messages under
    `translation.override("en")` reads Dutch after its first request (the default language).
    """
    handle = ClientHandler.__call__

    def call(self, environ):
        language = translation.get_language()
        try:
            return handle(self, environ)
        finally:
            if language is None:
                translation.deactivate_all()
            else:
                translation.activate(language)

    monkeypatch.setattr(ClientHandler, "__call__", call)


@pytest.fixture
def cast(db):
    return load_cast()


@pytest.fixture
def console():
    """A test client on the console host."""
    return Client(HTTP_HOST=settings.BASE_DOMAIN)


@pytest.fixture
def client_for():
    """Factory: a test client on a client organisation's host."""

    def make(organisation) -> Client:
        return Client(HTTP_HOST=organisation.domains.get(is_primary=True).domain)

    return make


@pytest.fixture
def committed_db(db):
    """Database access whose writes commit at once, for a worker process or server thread to see.

    `db` makes pytest-django create the test database and lifts its blocker; its rolled-back
    transaction stays on the original connection, while the test's own queries run on a second
    connection in autocommit mode. The test must remove what it creates (see tests/live.py).
    """
    from django.db import DEFAULT_DB_ALIAS, connections

    original = connections[DEFAULT_DB_ALIAS]
    separate = connections.create_connection(DEFAULT_DB_ALIAS)
    assert separate.settings_dict["NAME"] == original.settings_dict["NAME"]
    connections[DEFAULT_DB_ALIAS] = separate
    try:
        yield
    finally:
        separate.close()
        connections[DEFAULT_DB_ALIAS] = original
