"""Host routing: cached (no SQL once warm), invalidated on change, plain 404 for unknown hosts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from tenants import services
from tenants.models import ClientOrganisation, Domain
from tenants.routing import normalise_host, route_for_host
from tenants.trail import Operator
from tests.cast import sign_in


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("A1.Acme.Vertrouwd.Localhost:8000", "a1.acme.vertrouwd.localhost"),
        ("x.test.", "x.test"),
        ("[::1]:80", "[::1]"),
    ],
)
def test_normalise_host(raw, host):
    assert normalise_host(raw) == host


def test_route_is_cached_after_the_first_lookup(
    cast, django_assert_num_queries, django_assert_max_num_queries
):
    host = cast.host(cast.a1)
    with django_assert_max_num_queries(2):  # the lookup (and django-tenants' SET search_path)
        route = route_for_host(host)
    assert route.schema_name == cast.a1.schema_name and route.firm_slug == "acme"
    with django_assert_num_queries(0):
        assert route_for_host(host) == route


def test_unknown_host_is_cached_negatively(
    cast, django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        assert route_for_host("nope.acme.vertrouwd.localhost") is None
    with django_assert_num_queries(0):
        assert route_for_host("nope.acme.vertrouwd.localhost") is None


def test_request_routing_costs_no_query_once_warm(cast, django_assert_num_queries):
    http = Client(HTTP_HOST=cast.host(cast.a1))
    http.get("/healthz")  # answered before routing
    http.get("/i18n/setlang/")  # warms the route: a public view without session access
    with django_assert_num_queries(0):
        response = http.get("/i18n/setlang/")
    assert response.status_code == 302


def test_suspending_a_client_stops_its_host_at_once(cast, django_capture_on_commit_callbacks):
    host = cast.host(cast.a1)
    assert route_for_host(host) is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.client_update(
            actor=Operator("test"), client=cast.a1, status=ClientOrganisation.Status.SUSPENDED
        )
    assert route_for_host(host) is None
    http = Client(HTTP_HOST=host)
    sign_in(http, cast.adviser_a)
    assert http.get("/").status_code == 404


def test_changing_a_domain_moves_the_client(cast, django_capture_on_commit_callbacks):
    old_host = cast.host(cast.a1)
    assert route_for_host(old_host) is not None
    domain = Domain.objects.get(domain=old_host)
    with django_capture_on_commit_callbacks(execute=True):
        domain.domain = "renamed.acme.vertrouwd.localhost"
        domain.save()
    assert route_for_host(old_host) is None
    assert route_for_host("renamed.acme.vertrouwd.localhost").client_id == cast.a1.pk


@pytest.mark.parametrize(
    "host",
    ["evil.example", "nope.acme.vertrouwd.localhost", "localhost", "127.0.0.1", "", "a" * 300],
)
def test_unknown_hosts_get_a_plain_404(cast, host):
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Traceback" not in body and "Deze pagina bestaat niet" in body


def test_client_host_serves_the_client_schema(cast):
    http = Client(HTTP_HOST=cast.host(cast.b1))
    sign_in(http, cast.adviser_b)
    response = http.get("/")
    assert response.status_code == 200
    assert "Bouwbedrijf West" in response.content.decode()
    assert connection.schema_name == "public"  # reset after the request
