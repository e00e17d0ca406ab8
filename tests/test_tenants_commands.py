"""Operator commands: exact results on success; on bad input a CommandError and nothing changed."""

from __future__ import annotations

import datetime
import importlib.util
import io
import random
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from saas import hosts
from tenants import demo
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Domain,
    Firm,
    FirmMembership,
)
from tenants.validators import validate_slug_label

BASE = settings.BASE_DOMAIN
STRONG_PASSWORD = "lantaarnpaal-fietsbel-42"
LONG = "x" * 10_000
HTML = '<script>alert("x")</script> & <b>Zorg</b>'


def run(name: str, *args: str, stdin: str | None = None) -> str:
    """Run a command as from the shell (so argparse parses every value); return its output."""
    out = io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command(name, *args, stdout=out, stderr=io.StringIO(), **extra)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    """Row counts of everything the commands write, plus the list of client schemas."""
    models = [
        Firm,
        ClientOrganisation,
        Domain,
        User,
        FirmMembership,
        ClientMembership,
        Assignment,
        TOTPDevice,
        StaticToken,
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'c\\_%' ORDER BY 1")
        schemas = [name for (name,) in cursor.fetchall()]
    return {model.__name__: model.objects.count() for model in models} | {"schemas": schemas}


def refused(name: str, *args: str, match: str, stdin: str | None = None) -> None:
    """Assert that the command fails with a message matching `match` and changes nothing."""
    before = snapshot()
    with pytest.raises(CommandError, match=match):
        run(name, *args, stdin=stdin)
    assert snapshot() == before


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


# --- create_firm ----------------------------------------------------------------------------


def test_create_firm_creates_exactly_one_firm(cast):
    before = snapshot()
    output = run(
        "create_firm", "--slug", "charlie", "--name", "Charlie Advies",
        "--anonymity-threshold", "7", "--retention-months", "24",
    )  # fmt: skip
    firm = Firm.objects.get(slug="charlie")
    assert (firm.name, firm.anonymity_threshold, firm.retention_months) == ("Charlie Advies", 7, 24)
    assert snapshot() == before | {"Firm": before["Firm"] + 1}
    assert "Created firm “Charlie Advies” (charlie)." in output


def test_create_firm_defaults_and_normalises_the_slug(db):
    run("create_firm", "--slug", "  Delta ", "--name", "Delta")
    firm = Firm.objects.get(slug="delta")
    assert (firm.anonymity_threshold, firm.retention_months) == (5, 12)


def test_create_firm_stores_html_in_the_name_as_text(db):
    run("create_firm", "--slug", "echo", "--name", HTML)
    assert Firm.objects.get(slug="echo").name == HTML


def test_create_firm_refuses_a_taken_slug(cast):
    refused("create_firm", "--slug", "acme", "--name", "Other", match="“acme” is already taken")


@pytest.mark.parametrize("slug", ["www", "admin", "api", "console", "template"])
def test_create_firm_refuses_a_reserved_slug(cast, slug):
    refused("create_firm", "--slug", slug, "--name", "X", match=f"“{slug}” is reserved")


@pytest.mark.parametrize("slug", ["a", "-ab", "ab-", "ab_c", "ab.c", "<b>x</b>", "x" * 41, ""])
def test_create_firm_refuses_a_slug_that_is_no_host_label(cast, slug):
    # "--slug=…" so that argparse takes "-ab" as the value rather than as an option.
    refused("create_firm", f"--slug={slug}", "--name", "X", match="lower-case letters, digits")


def test_create_firm_refuses_an_oversized_name(cast):
    refused("create_firm", "--slug", "foxtrot", "--name", LONG, match="--name: .*at most 200")


def test_create_firm_refuses_an_empty_name(cast):
    refused("create_firm", "--slug", "foxtrot", "--name", "   ", match="A name is required")


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("--anonymity-threshold", "2", "--anonymity-threshold: .*greater than or equal to 3"),
        ("--anonymity-threshold", "-1", "--anonymity-threshold: "),
        ("--anonymity-threshold", str(10**9), "--anonymity-threshold: .*less than or equal to"),
        ("--anonymity-threshold", "five", "invalid int value"),
        ("--retention-months", "-1", "--retention-months: "),
        ("--retention-months", str(10**9), "--retention-months: .*less than or equal to 120"),
    ],
)
def test_create_firm_refuses_absurd_numbers(cast, option, value, match):
    refused("create_firm", "--slug", "golf", "--name", "Golf", option, value, match=match)


# --- create_client --------------------------------------------------------------------------


def test_create_client_creates_rows_domain_and_schema(cast):
    before = snapshot()
    output = run(
        "create_client", "--firm", "acme", "--slug", "zorg-oost", "--name", "Zorggroep Oost",
        "--employees", "350", "--sector", "healthcare",
        "--contract-start", "2025-02-01", "--contract-end", "2027-01-31",
    )  # fmt: skip
    client = ClientOrganisation.objects.get(firm=cast.acme, slug="zorg-oost")
    assert (client.name, client.sector, client.employee_count) == (
        "Zorggroep Oost",
        "healthcare",
        350,
    )
    assert (client.contract_starts_on, client.contract_ends_on) == (
        datetime.date(2025, 2, 1),
        datetime.date(2027, 1, 31),
    )
    assert client.status == ClientOrganisation.Status.ACTIVE
    domains = list(client.domains.values_list("domain", "is_primary"))
    assert domains == [(f"zorg-oost.acme.{BASE}", True)]
    assert schema_exists(client.schema_name)
    after = snapshot()
    assert after == before | {
        "ClientOrganisation": before["ClientOrganisation"] + 1,
        "Domain": before["Domain"] + 1,
        "schemas": sorted([*before["schemas"], client.schema_name]),
    }
    assert f"Schema: {client.schema_name}" in output
    assert f"Host:   zorg-oost.acme.{BASE}" in output
    assert f"URL:    {hosts.absolute_url(f'zorg-oost.acme.{BASE}')}" in output


def test_create_client_defaults(cast):
    run("create_client", "--firm", "acme", "--slug", "c9", "--name", "C9", "--employees", "1")
    client = ClientOrganisation.objects.get(firm=cast.acme, slug="c9")
    assert (client.sector, client.contract_starts_on, client.contract_ends_on) == (
        "other",
        timezone.localdate(),
        None,
    )


def test_create_client_same_slug_in_another_firm_is_fine(cast):
    run("create_client", "--firm", "bravo", "--slug", "a1", "--name", "Ander", "--employees", "10")
    assert ClientOrganisation.objects.get(firm=cast.bravo, slug="a1").domains.get().domain == (
        f"a1.bravo.{BASE}"
    )


def test_create_client_stores_html_in_the_name_as_text(cast):
    run("create_client", "--firm", "acme", "--slug", "html", "--name", HTML, "--employees", "5")
    assert ClientOrganisation.objects.get(slug="html").name == HTML


def test_create_client_refuses_an_unknown_firm(cast):
    refused(
        "create_client", "--firm", "nope", "--slug", "c9", "--name", "C9", "--employees", "5",
        match="no firm with the short name “nope”",
    )  # fmt: skip


def test_create_client_refuses_a_duplicate_slug_in_the_firm(cast):
    refused(
        "create_client", "--firm", "acme", "--slug", "a1", "--name", "C9", "--employees", "5",
        match="already has a client with the short name",
    )  # fmt: skip


@pytest.mark.parametrize("slug", ["www", "admin", "api"])
def test_create_client_refuses_a_reserved_slug(cast, slug):
    refused(
        "create_client", "--firm", "acme", "--slug", slug, "--name", "C9", "--employees", "5",
        match=f"“{slug}” is reserved",
    )  # fmt: skip


def test_create_client_refuses_a_taken_domain(cast):
    # An extra address of a1 already answers on the host that client "c9" would get.
    Domain.objects.create(domain=f"c9.acme.{BASE}", tenant=cast.a1, is_primary=False)
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", "C9", "--employees", "5",
        match=f"The address c9.acme.{re.escape(BASE)} is already taken",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["2025-13-01", "01-02-2025", "2025-02-30", "tomorrow", "2025W01"])
def test_create_client_refuses_invalid_dates(cast, value):
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", "C9", "--employees", "5",
        "--contract-start", value, match="not a date in the form YYYY-MM-DD",
    )  # fmt: skip


def test_create_client_refuses_an_end_before_the_start(cast):
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", "C9", "--employees", "5",
        "--contract-start", "2025-06-01", "--contract-end", "2025-05-31",
        match=r"The contract ends \(2025-05-31\) before it starts \(2025-06-01\)",
    )  # fmt: skip


def test_create_client_refuses_an_end_before_today_without_a_start(cast):
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", "C9", "--employees", "5",
        "--contract-end", "2000-01-01", match="before it starts",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("employees", "match"),
    [
        ("0", "--employees: .*greater than or equal to 1"),
        ("-5", "--employees: "),
        (str(10**9), "--employees: .*less than or equal to 1000000"),
        ("many", "invalid int value"),
    ],
)
def test_create_client_refuses_absurd_employee_counts(cast, employees, match):
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", "C9",
        "--employees", employees, match=match,
    )  # fmt: skip


def test_create_client_refuses_an_oversized_name(cast):
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", LONG, "--employees", "5",
        match="--name: .*at most 200",
    )  # fmt: skip


def test_create_client_refuses_an_unknown_sector(cast):
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", "C9", "--employees", "5",
        "--sector", "mining", match="invalid choice",
    )  # fmt: skip


# --- create_user ----------------------------------------------------------------------------


def test_create_user_adviser_with_password_from_stdin(cast):
    before = snapshot()
    output = run(
        "create_user", "--email", "New.Adviser@Acme.test", "--name", "Nieuwe Adviseur",
        "--role", "adviser", "--firm", "acme", "--password-stdin",
        stdin=STRONG_PASSWORD + "\n",
    )  # fmt: skip
    user = User.objects.get(email="new.adviser@acme.test")
    assert user.full_name == "Nieuwe Adviseur"
    assert user.check_password(STRONG_PASSWORD)
    assert list(user.firm_memberships.values_list("firm__slug", "role")) == [("acme", "adviser")]
    assert not user.client_memberships.exists()
    assert snapshot() == before | {
        "User": before["User"] + 1,
        "FirmMembership": before["FirmMembership"] + 1,
    }
    assert "Created new.adviser@acme.test the role adviser at firm acme." in output


def test_create_user_contact_person_with_firm_slash_client(cast):
    run("create_user", "--email", "hr2@a1.test", "--role", "contact_person", "--client", "acme/a1")
    user = User.objects.get(email="hr2@a1.test")
    assert not user.has_usable_password()
    assert list(user.client_memberships.values_list("client__slug", "role")) == [
        ("a1", "contact_person")
    ]
    assert not user.firm_memberships.exists()


def test_create_user_internal_adviser_with_firm_and_client(cast):
    run(
        "create_user", "--email", "vp@a2.test", "--role", "internal_adviser",
        "--firm", "acme", "--client", "a2",
    )  # fmt: skip
    memberships = ClientMembership.objects.filter(user__email="vp@a2.test")
    assert list(memberships.values_list("client__slug", "role")) == [("a2", "internal_adviser")]


def test_create_user_gives_an_existing_user_another_role(cast):
    password_before = cast.adviser_a.password
    output = run(
        "create_user", "--email", "ADVISER@acme.test", "--role", "contact_person",
        "--client", "acme/a2", "--password-stdin", stdin=STRONG_PASSWORD,
    )  # fmt: skip
    cast.adviser_a.refresh_from_db()
    assert cast.adviser_a.password == password_before
    assert list(cast.adviser_a.client_memberships.values_list("client__slug", "role")) == [
        ("a2", "contact_person")
    ]
    assert User.objects.filter(email__iexact="adviser@acme.test").count() == 1
    assert "Gave existing user adviser@acme.test" in output
    assert "password was left unchanged" in output


def test_create_user_stores_html_in_the_name_as_text(cast):
    run(
        "create_user",
        "--email",
        "h@acme.test",
        "--name",
        HTML[:150],
        "--role",
        "adviser",
        "--firm",
        "acme",
    )
    assert User.objects.get(email="h@acme.test").full_name == HTML[:150]


def test_create_user_invite_sends_the_invitation_after_commit(
    cast, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = run(
            "create_user", "--email", "invited@acme.test", "--role", "adviser",
            "--firm", "acme", "--invite", "--language", "en",
        )  # fmt: skip
    assert len(callbacks) == 1
    assert [message.to for message in mailoutbox] == [["invited@acme.test"]]
    user = User.objects.get(email="invited@acme.test")
    assert not user.has_usable_password()
    assert hosts.console_url("/").rstrip("/") in mailoutbox[0].body
    assert "Invitation e-mail to invited@acme.test sent" in output


def test_create_user_invite_skips_a_user_who_has_a_password(
    cast, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = run(
            "create_user", "--email", "adviser@acme.test", "--role", "adviser",
            "--firm", "bravo", "--invite",
        )  # fmt: skip
    assert (len(callbacks), len(mailoutbox)) == (0, 0)
    assert "already has a password: no invitation sent" in output


@pytest.mark.parametrize("email", ["not-an-email", "a@", "<script>@x.test", "a b@x.test", ""])
def test_create_user_refuses_an_invalid_email(cast, email):
    refused(
        "create_user", "--email", email, "--role", "adviser", "--firm", "acme",
        match="is not a valid e-mail address",
    )  # fmt: skip


def test_create_user_refuses_an_oversized_email(cast):
    email = "a" * 250 + "@acme.test"
    refused(
        "create_user", "--email", email, "--role", "adviser", "--firm", "acme",
        match="--email: at most 254 characters",
    )  # fmt: skip


def test_create_user_refuses_an_oversized_name(cast):
    refused(
        "create_user", "--email", "long@acme.test", "--name", LONG, "--role", "adviser",
        "--firm", "acme", match="--name: at most 150 characters",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--role", "adviser", "--firm", "nope"], "no firm with the short name “nope”"),
        (["--role", "adviser"], "The role adviser needs --firm"),
        (["--role", "firm_admin", "--firm", "acme", "--client", "a1"], "leave out --client"),
        (["--role", "contact_person", "--firm", "acme"], "needs --client FIRM/CLIENT"),
        (["--role", "contact_person", "--client", "a1"], "Give --client as FIRM/CLIENT"),
        (["--role", "contact_person", "--client", "acme/zz"], "has no client with the short name"),
        (["--role", "contact_person", "--client", "nope/a1"], "no firm with the short name"),
        (["--role", "contact_person", "--client", "acme/b1"], "has no client with the short name"),
        (["--role", "contact_person", "--firm", "bravo", "--client", "acme/a1"], "does not match"),
        (["--role", "superuser", "--firm", "acme"], "invalid choice"),
    ],
)
def test_create_user_refuses_a_wrong_scope(cast, args, match):
    refused("create_user", "--email", "someone@x.test", *args, match=match)


def test_create_user_refuses_a_role_the_user_already_has(cast):
    refused(
        "create_user", "--email", "adviser@acme.test", "--role", "adviser", "--firm", "acme",
        match="adviser@acme.test already has this role",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("stdin", "match"),
    [("password\n", "Password refused: .*too common"), ("", "no password on standard input"),
     ("\n", "no password on standard input"), ("kort\n", "Password refused: .*too short")],
)  # fmt: skip
def test_create_user_refuses_a_weak_or_missing_password(cast, stdin, match):
    refused(
        "create_user", "--email", "weak@acme.test", "--role", "adviser", "--firm", "acme",
        "--password-stdin", stdin=stdin, match=match,
    )  # fmt: skip


def test_create_user_takes_no_password_on_the_command_line(cast):
    refused(
        "create_user", "--email", "p@acme.test", "--role", "adviser", "--firm", "acme",
        "--password", STRONG_PASSWORD, match="unrecognized arguments",
    )  # fmt: skip


def test_create_user_refuses_invite_with_password(cast):
    refused(
        "create_user", "--email", "p@acme.test", "--role", "adviser", "--firm", "acme",
        "--invite", "--password-stdin", stdin=STRONG_PASSWORD, match="not allowed with argument",
    )  # fmt: skip


# --- assign ---------------------------------------------------------------------------------


def test_assign_backup_for_a_period(cast):
    before = snapshot()
    output = run(
        "assign", "--firm", "acme", "--client", "a2", "--adviser", "IDLE@acme.test",
        "--kind", "backup", "--from", "2025-01-01", "--until", "2025-12-31",
    )  # fmt: skip
    assignment = Assignment.objects.get(client=cast.a2)
    assert (assignment.adviser, assignment.kind) == (cast.adviser_a_unassigned, "backup")
    assert (assignment.starts_on, assignment.ends_on) == (
        datetime.date(2025, 1, 1),
        datetime.date(2025, 12, 31),
    )
    assert snapshot() == before | {"Assignment": before["Assignment"] + 1}
    assert "Assigned idle@acme.test to acme/a2 as backup, 2025-01-01 to 2025-12-31." in output


def test_assign_defaults_to_primary_from_today_without_end(cast):
    run("assign", "--firm", "acme", "--client", "a2", "--adviser", "idle@acme.test")
    assignment = Assignment.objects.get(client=cast.a2)
    assert (assignment.kind, assignment.starts_on, assignment.ends_on) == (
        "primary",
        timezone.localdate(),
        None,
    )


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--firm", "nope", "--client", "a1", "--adviser", "idle@acme.test"], "no firm"),
        (["--firm", "acme", "--client", "zz", "--adviser", "idle@acme.test"], "no client"),
        (["--firm", "acme", "--client", "b1", "--adviser", "idle@acme.test"], "no client"),
        (["--firm", "acme", "--client", "a1", "--adviser", "ghost@acme.test"], "no user with"),
        (["--firm", "acme", "--client", "a1", "--adviser", "adviser@bravo.test"], "not an adviser"),
        (["--firm", "acme", "--client", "a1", "--adviser", "hr@client-a1.test"], "not an adviser"),
        (["--firm", "acme", "--client", "a1", "--adviser", "admin@acme.test"], "not an adviser"),
        (
            ["--firm", "acme", "--client", "a1", "--adviser", "adviser@acme.test"],
            "already assigned",
        ),
        (
            ["--firm", "acme", "--client", "a2", "--adviser", "idle@acme.test",
             "--from", "2025-06-01", "--until", "2025-05-01"],
            "The period ends before it starts",
        ),
        (
            ["--firm", "acme", "--client", "a2", "--adviser", "idle@acme.test", "--from", "1/1/25"],
            "not a date in the form YYYY-MM-DD",
        ),
        (
            ["--firm", "acme", "--client", "a2", "--adviser", "idle@acme.test", "--kind", "lead"],
            "invalid choice",
        ),
    ],
)  # fmt: skip
def test_assign_refuses_bad_input(cast, args, match):
    refused("assign", *args, match=match)


# --- seed_demo ------------------------------------------------------------------------------


def test_seed_demo_creates_a_complete_small_demo_and_is_idempotent_with_if_empty(cast):
    before = snapshot()
    output = run("seed_demo", "--clients", "3", "--cases-per-client", "0")

    firm = Firm.objects.get(slug="demo")
    assert firm.name == "Demo Vertrouwenspersonen"
    clients = list(ClientOrganisation.objects.filter(firm=firm).order_by("pk"))
    assert len(clients) == 3
    for client in clients:
        validate_slug_label(client.slug)
        assert client.domains.get().domain == f"{client.slug}.demo.{BASE}"
        assert schema_exists(client.schema_name)
        roles = sorted(client.memberships.values_list("role", flat=True))
        assert roles == ["contact_person", "internal_adviser"]
        kinds = sorted(client.assignments.values_list("kind", flat=True))
        assert kinds in (["primary"], ["backup", "primary"])
        advisers = list(client.assignments.values_list("adviser_id", flat=True))
        assert len(set(advisers)) == len(advisers)
        assert all(a.starts_on == client.contract_starts_on for a in client.assignments.all())
    assert len({client.slug for client in clients}) == 3
    assert len({client.name for client in clients}) == 3

    staff = FirmMembership.objects.filter(firm=firm)
    assert sorted(staff.values_list("user__email", "role")) == [
        ("admin@demo.test", "firm_admin"),
        ("adviser01@demo.test", "adviser"),
        ("adviser02@demo.test", "adviser"),
    ]
    demo_users = User.objects.filter(email__endswith="@demo.test")
    assert demo_users.count() == 3 + 2 * 3
    assignment_count = Assignment.objects.filter(client__firm=firm).count()
    after = snapshot()
    assert after == before | {
        "Firm": before["Firm"] + 1,
        "ClientOrganisation": before["ClientOrganisation"] + 3,
        "Domain": before["Domain"] + 3,
        "User": before["User"] + 9,
        "FirmMembership": before["FirmMembership"] + 3,
        "ClientMembership": before["ClientMembership"] + 6,
        "Assignment": before["Assignment"] + assignment_count,
        "TOTPDevice": before["TOTPDevice"] + 8,
        "StaticToken": before["StaticToken"] + 8 * 10,
        "schemas": sorted([*before["schemas"], *(client.schema_name for client in clients)]),
    }
    assert 3 <= assignment_count <= 6

    # Everybody shares the printed password; only the firm admin lacks a second factor.
    password = re.search(r"Demo password \(every demo user\): (\S+)", output).group(1)
    # One hash for all (hashing is deliberately slow): check it once, then compare.
    assert len(set(demo_users.values_list("password", flat=True))) == 1
    assert check_password(password, demo_users.first().password)
    admin = User.objects.get(email="admin@demo.test")
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert not StaticToken.objects.filter(device__user=admin).exists()
    assert f"Open {hosts.console_url()}" in output
    # One line about cases, whichever stage case handling has reached.
    [cases_line] = [line for line in output.splitlines() if line.startswith("Cases: ")]
    if not apps.is_installed("cases"):
        assert "case handling is not installed yet" in cases_line
    elif importlib.util.find_spec("cases.demo") is None:
        assert "the cases app has no demo seeder yet" in cases_line
    else:
        assert cases_line == "Cases: 0 per client organisation."
    assert "Each backup code works once" in output
    assert "3/3 client organisations" in output

    # The logins table lists every demo user once, each but the admin with an own backup code.
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("E-MAIL"))
    table = {line.split()[0]: line.split()[1:] for line in lines[header + 1 :]}
    assert sorted(table) == sorted(demo_users.values_list("email", flat=True))
    assert table["admin@demo.test"] == ["firm_admin", "demo", password, "(enrol)"]
    for user in demo_users.exclude(pk=admin.pk):
        assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
        role, where, listed_password, code = table[user.email]
        assert listed_password == password
        assert StaticToken.objects.filter(device__user=user, token=code).exists()
        membership = user.client_memberships.first() or user.firm_memberships.get()
        assert role == membership.role
        assert where == (
            f"{membership.client.slug}.demo.{BASE}" if hasattr(membership, "client") else "demo"
        )

    # A second run with --if-empty does nothing and says so; without it, it refuses.
    again = run("seed_demo", "--clients", "3", "--cases-per-client", "0", "--if-empty")
    assert "already exists: nothing done" in again
    assert snapshot() == after
    refused("seed_demo", "--clients", "3", "--cases-per-client", "0", match="already exists")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--clients", "-1", "--cases-per-client", "0"], "--clients: give a whole number from 1"),
        (["--clients", "0", "--cases-per-client", "0"], "--clients: give a whole number from 1"),
        (["--clients", str(10**7), "--cases-per-client", "0"], "--clients: .*10000"),
        (["--clients", "many", "--cases-per-client", "0"], "invalid int value"),
        (["--clients", "2", "--cases-per-client", "-1"], "--cases-per-client: .*from 0 to 100000"),
        (["--clients", "2", "--cases-per-client", "100001"], "--cases-per-client: "),
        (["--clients", "2", "--cases-per-client", "0", "--firm-slug", "www"], "--firm-slug: .*www"),
        (["--clients", "2", "--cases-per-client", "0", "--firm-slug", "Bad Slug"], "--firm-slug: "),
        (["--clients", "2", "--cases-per-client", "0", "--firm-slug", "acme"], "already exists"),
        (["--clients", "2"], "the following arguments are required: --cases-per-client"),
    ],
)  # fmt: skip
def test_seed_demo_refuses_bad_arguments(cast, args, match):
    refused("seed_demo", *args, match=match)


def test_seed_demo_refuses_when_a_demo_address_is_in_use(cast):
    run("create_user", "--email", "adviser02@demo.test", "--role", "adviser", "--firm", "acme")
    refused(
        "seed_demo", "--clients", "2", "--cases-per-client", "0",
        match="1 demo e-mail address.* already in use .*adviser02@demo.test",
    )  # fmt: skip


def test_seed_demo_with_if_empty_on_an_existing_firm_changes_nothing(cast):
    before = snapshot()
    output = run(
        "seed_demo",
        "--clients",
        "5",
        "--cases-per-client",
        "40",
        "--firm-slug",
        "acme",
        "--if-empty",
    )
    assert "“acme” already exists: nothing done" in output
    assert snapshot() == before


# --- the demo plan (no database) ------------------------------------------------------------


def test_demo_plan_is_deterministic_per_seed():
    today = datetime.date(2025, 6, 15)
    first = demo.demo_plan(firm_slug="demo", client_count=20, rng=random.Random(7), today=today)
    again = demo.demo_plan(firm_slug="demo", client_count=20, rng=random.Random(7), today=today)
    other = demo.demo_plan(firm_slug="demo", client_count=20, rng=random.Random(8), today=today)
    assert first == again
    assert first != other


@pytest.mark.parametrize("count", [1, 8, 9, 1000, 5000])
def test_demo_plan_scales_with_unique_valid_names_and_sensible_values(count):
    today = datetime.date(2025, 6, 15)
    plan = demo.demo_plan(firm_slug="demo", client_count=count, rng=random.Random(42), today=today)
    assert len(plan.clients) == count
    assert len(plan.advisers) == max(2, -(-count // 8))
    assert len({client.slug for client in plan.clients}) == count
    assert len({client.name for client in plan.clients}) == count
    emails = plan.emails()
    assert len(emails) == len(set(emails)) == 1 + len(plan.advisers) + 2 * count
    primaries = [0] * len(plan.advisers)
    for client in plan.clients:
        validate_slug_label(client.slug)
        assert 1 <= client.employee_count <= 1_000_000
        assert client.contract_starts_on < today and client.contract_starts_on.day == 1
        assert client.contract_ends_on is None or client.contract_ends_on >= today
        kinds = [kind for _index, kind in client.assignments]
        assert kinds in (["primary"], ["primary", "backup"])
        assert len({index for index, _kind in client.assignments}) == len(client.assignments)
        primaries[client.assignments[0][0]] += 1
    # Round-robin: every adviser is primary for about eight clients.
    assert max(primaries) - min(primaries) <= 1
    if count >= 1000:
        assert len({client.sector for client in plan.clients}) == len(demo.SECTOR_PROFILES)


def test_manage_py_without_secrets_says_what_to_set_instead_of_a_traceback():
    """The README's operator commands crashed with a SECRET_KEY traceback without DEBUG=1."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "MASTER_KEY", "VERTROUWD_TESTING"}
        and not key.startswith("PYTEST")
    }
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "create_firm", "--help"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off." in result.stderr
    assert "python3 dev.py manage" in result.stderr


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("Zorg\x01groep", "--name: Remove the invisible or control characters"),
        ("\u200b\u200b", "--name: Remove the invisible or control characters"),
        ("Zorg\u202egroep", "--name: Remove the invisible or control characters"),
        ("  \t ", "--name: A name is required"),
    ],
)
def test_one_name_rule_for_firms_clients_and_people_in_the_commands(cast, name, match):
    """The commands took control characters and zero-width-only names (an XLSX export then
    failed on the client's name); theme names and the sign-up refused them."""
    before = (Firm.objects.count(), ClientOrganisation.objects.count(), User.objects.count())
    refused("create_firm", "--slug", "foxtrot", "--name", name, match=match)
    refused(
        "create_client", "--firm", "acme", "--slug", "c9", "--name", name, "--employees", "5",
        match=match,
    )  # fmt: skip
    if "required" not in match:  # a person's name may be left empty
        refused(
            "create_user", "--email", "new@acme.test", "--role", "adviser", "--firm", "acme",
            "--name", name, match=match,
        )  # fmt: skip
    assert (
        Firm.objects.count(),
        ClientOrganisation.objects.count(),
        User.objects.count(),
    ) == before
    # White space is tidied, not refused.
    run("create_firm", "--slug", "golf", "--name", "  Golf \t Advies  ")
    assert Firm.objects.get(slug="golf").name == "Golf Advies"
