"""Offboarding a client organisation from the console and from the command line: irreversible,
so confirmed by typing the short name; every wrong, hostile or oversized confirmation changes
nothing, and an offboarded client cannot be changed, assigned or given people afterwards."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from tenants import services
from tenants.models import Assignment, ClientOrganisation, Domain
from tenants.trail import Operator
from tests.cast import sign_in


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        return cursor.fetchone() is not None


def _state(client: ClientOrganisation) -> tuple:
    stored = ClientOrganisation.objects.get(pk=client.pk)
    return (
        stored.status,
        bytes(stored.wrapped_data_key) != b"",
        _schema_exists(stored.schema_name),
        Domain.objects.filter(tenant=stored).count(),
        Assignment.objects.filter(client=stored, ends_on__isnull=True).count(),
    )


def test_the_console_offboards_after_the_short_name_is_typed(cast, console):
    sign_in(console, cast.admin_a)
    detail = console.get(f"/console/clients/{cast.a2.pk}/").content.decode()
    assert f"/console/clients/{cast.a2.pk}/offboard/" in detail
    page = console.get(f"/console/clients/{cast.a2.pk}/offboard/")
    assert page.status_code == 200 and cast.a2.slug in page.content.decode()

    response = console.post(
        f"/console/clients/{cast.a2.pk}/offboard/", {"confirm": f"  {cast.a2.slug.upper()} "}
    )
    assert response.status_code == 302
    status, has_key, has_schema, domains, _open = _state(cast.a2)
    assert (status, has_key, has_schema, domains) == ("offboarded", False, False, 0)

    detail = console.get(f"/console/clients/{cast.a2.pk}/").content.decode()
    assert "/offboard/" not in detail and f"/console/clients/{cast.a2.pk}/edit/" not in detail
    again = console.get(f"/console/clients/{cast.a2.pk}/offboard/")
    assert again.status_code == 302  # offboarded already: back to the client, nothing done


@pytest.mark.parametrize(
    "confirm",
    [
        "",
        "   ",
        "a1",  # another client's short name
        "zorg",
        "<script>alert(1)</script>",
        "x" * 100_000,
        "\x00",
    ],
)
def test_a_wrong_confirmation_changes_nothing_and_says_why(cast, console, confirm):
    sign_in(console, cast.admin_a, verified=True)
    before = _state(cast.a2)
    response = console.post(
        f"/console/clients/{cast.a2.pk}/offboard/",
        {"confirm": confirm},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    text = response.content.decode()
    assert "<script>alert(1)</script>" not in text
    if "\x00" in confirm:  # the request guard refuses a NUL before any form sees it
        assert response.status_code == 400 and "(NUL)" in text
    else:
        assert response.status_code == 200
        assert "field--error" in text
    assert _state(cast.a2) == before


def test_the_refusal_speaks_dutch_by_default(cast, console):
    sign_in(console, cast.admin_a)
    response = console.post(f"/console/clients/{cast.a2.pk}/offboard/", {"confirm": "nope"})
    assert "niet de korte naam" in response.content.decode()
    assert _state(cast.a2)[0] == "active"


def test_other_firms_and_advisers_cannot_offboard(cast, console):
    before_a1, before_b1 = _state(cast.a1), _state(cast.b1)
    sign_in(console, cast.admin_b)
    assert (
        console.post(
            f"/console/clients/{cast.a1.pk}/offboard/", {"confirm": cast.a1.slug}
        ).status_code
        == 404
    )
    sign_in(console, cast.adviser_a)
    assert (
        console.post(
            f"/console/clients/{cast.a1.pk}/offboard/", {"confirm": cast.a1.slug}
        ).status_code
        == 404
    )
    assert console.post("/console/clients/999999/offboard/", {"confirm": "x"}).status_code == 404
    assert (_state(cast.a1), _state(cast.b1)) == (before_a1, before_b1)


def test_an_offboarded_client_cannot_come_back_or_get_people(cast):
    services.client_offboard(actor=cast.admin_a, client=cast.a2)
    stored = ClientOrganisation.objects.get(pk=cast.a2.pk)
    with pytest.raises(ValidationError):
        services.client_update(actor=Operator("test"), client=stored, status="active")
    with pytest.raises(ValidationError):
        services.assignment_create(actor=Operator("test"), client=stored, adviser=cast.adviser_a)
    with pytest.raises(ValidationError):
        services.user_create(
            actor=Operator("test"),
            email="new.contact@example.org",
            role="contact_person",
            client=stored,
        )
    assert ClientOrganisation.objects.get(pk=cast.a2.pk).status == "offboarded"


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("offboard_client", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_offboards_when_confirmed(cast):
    output = _command("--firm", "acme", "--client", cast.a2.slug, "--confirm", cast.a2.slug)
    assert "Offboarded acme/" in output
    assert _state(cast.a2)[:3] == ("offboarded", False, False)
    assert "already" in _command(
        "--firm", "acme", "--client", cast.a2.slug, "--confirm", cast.a2.slug
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--firm", "acme", "--client", "a2", "--confirm", "a1"], "--confirm must repeat"),
        (["--firm", "acme", "--client", "a2", "--confirm", ""], "--confirm must repeat"),
        (["--firm", "acme", "--client", "a2", "--confirm", "x" * 100_000], "--confirm must"),
        (["--firm", "bravo", "--client", "a2", "--confirm", "a2"], "has no client"),
        (["--firm", "nope", "--client", "a2", "--confirm", "a2"], "no firm"),
        (
            ["--firm", "acme", "--client", "'; DROP SCHEMA public; --", "--confirm", "x"],
            "no client",
        ),
    ],
)
def test_the_command_refuses_bad_input_and_changes_nothing(cast, args, message):
    args = [
        cast.a2.slug if value == "a2" else cast.a1.slug if value == "a1" else value
        for value in args
    ]
    before = (_state(cast.a1), _state(cast.a2), _state(cast.b1))
    with pytest.raises(CommandError, match=message):
        _command(*args)
    assert (_state(cast.a1), _state(cast.a2), _state(cast.b1)) == before


def test_the_command_needs_every_option(cast):
    with pytest.raises(CommandError):
        _command("--firm", "acme", "--client", cast.a2.slug)
