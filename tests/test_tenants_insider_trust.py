"""Insider trust: access ends when it should, every grant is on the trail, self-access is
deliberate, invitations reveal nothing, sessions end on removal (issue 12)."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AccessLogEntry
from tenants import services, themes
from tenants.access import Role, roles_in_client, serves_client
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Firm,
    FirmMembership,
    RoleOffer,
    TrailEntry,
)
from tenants.trail import Action, Operator
from tests.cast import PASSWORD, sign_in, sparring_objects

CONSOLE = settings.BASE_DOMAIN


def _http(cast, user, organisation=None) -> Client:
    host = CONSOLE if organisation is None else cast.host(organisation)
    http = Client(HTTP_HOST=host)
    sign_in(http, user)
    return http


def _trail() -> list[tuple[str, int | None, str, str]]:
    return list(
        TrailEntry.objects.order_by("pk").values_list(
            "action", "actor_id", "operator_command", "subject_email"
        )
    )


def _new_rows(before: int) -> list[TrailEntry]:
    return list(TrailEntry.objects.order_by("pk")[before:])


def _page(response) -> str:
    """The body without what differs per response by design (CSP nonce, CSRF token)."""
    body = response.content.decode()
    body = re.sub(r'nonce="[^"]*"', "", body)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


# --- ending is immediate ----------------------------------------------------------------------


def test_ending_an_assignment_ends_access_at_once_in_the_open_session(cast, console):
    adviser = _http(cast, cast.adviser_a, cast.a1)
    reference = cast.case_reference("a1")
    assert adviser.get(f"/cases/{reference}/").status_code == 200
    assignment = Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1)

    sign_in(console, cast.admin_a)
    response = console.post(f"/console/assignments/{assignment.pk}/end/")
    assert response.status_code == 302

    stranger = _http(cast, cast.contact_b1, cast.a1)
    for path in ("/cases/", f"/cases/{reference}/", "/sparring/", "/"):
        response = adviser.get(path)
        assert response.status_code == 404, path
        assert _page(response) == _page(stranger.get(path))
    assignment.refresh_from_db()
    assert assignment.ended_at is not None and assignment.ends_on == timezone.localdate()
    assert not serves_client(cast.adviser_a, client_id=cast.a1.pk, firm_id=cast.acme.pk)
    # The backup adviser still serves the client.
    assert _http(cast, cast.adviser_a_backup, cast.a1).get("/cases/").status_code == 200


def test_a_planned_end_date_keeps_access_until_that_day_ends(cast):
    assignment = Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1)
    today = timezone.localdate()
    services.assignment_end(
        actor=cast.admin_a, assignment=assignment, ends_on=today + datetime.timedelta(days=3)
    )
    assignment.refresh_from_db()
    assert assignment.ended_at is None
    assert assignment.ends_on == today + datetime.timedelta(days=3)
    ids = {"client_id": cast.a1.pk, "firm_id": cast.acme.pk}
    assert serves_client(cast.adviser_a, **ids)
    assert serves_client(cast.adviser_a, day=today + datetime.timedelta(days=3), **ids)
    assert not serves_client(cast.adviser_a, day=today + datetime.timedelta(days=4), **ids)
    assert _http(cast, cast.adviser_a, cast.a1).get("/cases/").status_code == 200


def test_a_stale_case_form_posted_after_the_end_changes_nothing(cast):
    adviser = _http(cast, cast.adviser_a, cast.a1)
    reference = cast.case_reference("a1")
    assert adviser.get(f"/cases/{reference}/").status_code == 200
    with tenant_context(cast.a1):
        log_before = AccessLogEntry.objects.count()
        from cases.models import Note

        notes_before = Note.objects.count()
    services.assignment_end(
        actor=cast.admin_a,
        assignment=Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1),
    )
    response = adviser.post(f"/cases/{reference}/notes/", {"body": "te laat"})
    assert response.status_code == 404
    with tenant_context(cast.a1):
        assert Note.objects.count() == notes_before
        assert AccessLogEntry.objects.count() == log_before


def test_an_ended_assignment_lets_a_new_one_start_today(cast):
    assignment = Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1)
    services.assignment_end(actor=cast.admin_a, assignment=assignment)
    again = services.assignment_create(actor=cast.admin_a, client=cast.a1, adviser=cast.adviser_a)
    assert again.is_current()
    assert serves_client(cast.adviser_a, client_id=cast.a1.pk, firm_id=cast.acme.pk)


def test_ending_twice_writes_one_trail_row(cast):
    assignment = Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1)
    before = TrailEntry.objects.count()
    services.assignment_end(actor=cast.admin_a, assignment=assignment)
    services.assignment_end(actor=cast.admin_a, assignment=assignment)
    rows = _new_rows(before)
    assert [(row.action, row.actor_id, row.subject_email) for row in rows] == [
        (Action.ASSIGNMENT_END, cast.admin_a.pk, cast.adviser_a.email)
    ]


# --- removal ----------------------------------------------------------------------------------


def test_removing_a_contact_person_ends_every_session_of_theirs(cast, console):
    phone = _http(cast, cast.contact_a1, cast.a1)
    laptop = _http(cast, cast.contact_a1, cast.a1)
    assert phone.get("/board/").status_code == 200
    membership = ClientMembership.objects.get(user=cast.contact_a1, client=cast.a1)

    sign_in(console, cast.admin_a)
    assert console.post(f"/console/people/client/{membership.pk}/remove/").status_code == 302

    for device in (phone, laptop):
        response = device.get("/board/")
        assert response.status_code == 302
        assert response["Location"].startswith(f"http://{CONSOLE}/accounts/login/")
    # Signing in again gives nothing at a1.
    again = _http(cast, cast.contact_a1, cast.a1)
    assert again.get("/board/").status_code == 404
    assert not ClientMembership.objects.filter(user=cast.contact_a1, client=cast.a1).exists()
    assert (
        TrailEntry.objects.filter(
            action=Action.MEMBERSHIP_REMOVE, actor_id=cast.admin_a.pk, subject_id=cast.contact_a1.pk
        ).count()
        == 1
    )


def test_removing_an_adviser_ends_their_assignments_now(cast):
    membership = FirmMembership.objects.get(user=cast.adviser_a, firm=cast.acme, role="adviser")
    services.membership_remove(actor=cast.admin_a, firm=cast.acme, membership=membership)
    assignment = Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1)
    assert assignment.ended_at is not None
    assert roles_in_client(cast.adviser_a, client_id=cast.a1.pk, firm_id=cast.acme.pk) == set()


def test_the_last_firm_admin_cannot_be_removed(cast):
    membership = FirmMembership.objects.get(user=cast.admin_a, firm=cast.acme)
    before = (_trail(), FirmMembership.objects.count())
    with pytest.raises(ValidationError):
        services.membership_remove(actor=cast.admin_a, firm=cast.acme, membership=membership)
    assert (_trail(), FirmMembership.objects.count()) == before


def test_a_second_admin_can_be_removed_but_not_the_remaining_one(cast):
    services.user_create(
        actor=cast.admin_a, email="tweede@acme.test", firm=cast.acme, role="firm_admin"
    )
    second = FirmMembership.objects.get(user__email="tweede@acme.test")
    first = FirmMembership.objects.get(user=cast.admin_a, firm=cast.acme)
    services.membership_remove(actor=cast.admin_a, firm=cast.acme, membership=first)
    with pytest.raises(ValidationError):
        services.membership_remove(actor=cast.admin_a, firm=cast.acme, membership=second)


def test_another_firms_membership_cannot_be_removed_from_the_console(cast, console):
    membership = ClientMembership.objects.get(user=cast.contact_b1, client=cast.b1)
    sign_in(console, cast.admin_a)
    before = _trail()
    assert console.post(f"/console/people/client/{membership.pk}/remove/").status_code == 404
    assert ClientMembership.objects.filter(pk=membership.pk).exists()
    assert _trail() == before


def test_a_departed_internal_advisers_threads_stay_with_the_client(cast):
    thread = sparring_objects(cast.a1)["thread_id"]
    colleague = services.user_create(
        actor=cast.admin_a,
        email="collega@client-a1.test",
        password=PASSWORD,
        client=cast.a1,
        role="internal_adviser",
    )
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=colleague, name="phone", confirmed=True)
    colleague_http = _http(cast, colleague, cast.a1)
    assert colleague_http.get(f"/sparring/{thread}/").status_code == 404  # not hers yet

    membership = ClientMembership.objects.get(user=cast.internal_a1, client=cast.a1)
    services.membership_remove(actor=cast.admin_a, firm=cast.acme, membership=membership)

    assert colleague_http.get(f"/sparring/{thread}/").status_code == 200
    assert _http(cast, cast.adviser_a, cast.a1).get(f"/sparring/{thread}/").status_code == 200
    assert _http(cast, cast.internal_a1, cast.a1).get(f"/sparring/{thread}/").status_code == 404


def test_deactivating_an_account_signs_it_out_and_refuses_sign_in(cast):
    http = _http(cast, cast.adviser_a, cast.a1)
    call_command("remove_person", "--email", cast.adviser_a.email, "--deactivate")
    response = http.get("/cases/")
    assert response.status_code == 302
    cast.adviser_a.refresh_from_db()
    assert not cast.adviser_a.is_active
    assert Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1).ended_at is not None
    row = TrailEntry.objects.get(action=Action.ACCOUNT_DEACTIVATE)
    assert (row.actor_id, row.operator_command, row.firm_id) == (
        None,
        "remove_person",
        cast.acme.pk,
    )
    login = Client(HTTP_HOST=CONSOLE).post(
        "/accounts/login/", {"username": cast.adviser_a.email, "password": PASSWORD}
    )
    assert login.status_code == 200  # the form again, not a redirect onwards


def test_remove_person_command_removes_one_role(cast):
    call_command(
        "remove_person",
        "--email",
        cast.contact_a1.email,
        "--firm",
        "acme",
        "--client",
        "a1",
        "--role",
        "contact_person",
    )
    assert not ClientMembership.objects.filter(user=cast.contact_a1).exists()
    row = TrailEntry.objects.get(action=Action.MEMBERSHIP_REMOVE)
    assert (row.operator_command, row.subject_email, row.client_id) == (
        "remove_person",
        cast.contact_a1.email,
        cast.a1.pk,
    )


def test_sign_out_everywhere_keeps_this_session_only(cast, console):
    other = _http(cast, cast.adviser_a, cast.a1)
    sign_in(console, cast.adviser_a)
    response = console.post("/accounts/sign-out-everywhere/")
    assert response.status_code == 302
    assert console.get("/accounts/preferences/").status_code == 200
    assert other.get("/cases/").status_code == 302


# --- the trail --------------------------------------------------------------------------------


def test_the_trail_refuses_update_delete_and_truncate(cast):
    services.assignment_end(
        actor=cast.admin_a,
        assignment=Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1),
    )
    row = TrailEntry.objects.latest("pk")
    for statement, parameters in (
        ("UPDATE tenants_trailentry SET actor_email = 'x' WHERE id = %s", [row.pk]),
        ("DELETE FROM tenants_trailentry WHERE id = %s", [row.pk]),
        ("TRUNCATE tenants_trailentry", []),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement, parameters)
    assert TrailEntry.objects.get(pk=row.pk).actor_email == cast.admin_a.email


def _audited_actions(cast):
    """(label, expected action, call) for every audited service, by admin_a unless an operator."""
    admin = cast.admin_a
    return [
        (
            "client_create",
            Action.CLIENT_CREATE,
            lambda: services.client_create(
                actor=admin, firm=cast.acme, slug="a3", name="Derde Klant", employee_count=50
            ),
        ),
        (
            "role_offer_withdraw",
            Action.ROLE_OFFER_DECLINE,
            lambda: services.role_offer_withdraw(
                actor=admin,
                offer=RoleOffer.objects.create(
                    user=cast.contact_b1,
                    firm=cast.acme,
                    role="adviser",
                    email=cast.contact_b1.email,
                ),
            ),
        ),
        (
            "user_create",
            Action.MEMBERSHIP_ADD,
            lambda: services.user_create(
                actor=admin, email="nieuw@acme.test", firm=cast.acme, role="adviser"
            ),
        ),
        (
            "person_invite",
            Action.ROLE_OFFER,
            lambda: services.person_invite(
                actor=admin, firm=cast.acme, email="nieuw@acme.test", role="adviser"
            ),
        ),
        (
            "assignment_create",
            Action.ASSIGNMENT_CREATE,
            lambda: services.assignment_create(
                actor=admin, client=cast.a2, adviser=cast.adviser_a_unassigned
            ),
        ),
        (
            "assignment_end",
            Action.ASSIGNMENT_END,
            lambda: services.assignment_end(
                actor=admin,
                assignment=Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1),
            ),
        ),
        (
            "membership_remove",
            Action.MEMBERSHIP_REMOVE,
            lambda: services.membership_remove(
                actor=admin,
                firm=cast.acme,
                membership=ClientMembership.objects.get(user=cast.contact_a2),
            ),
        ),
        (
            "client_update",
            Action.CLIENT_UPDATE,
            lambda: services.client_update(actor=admin, client=cast.a2, status="suspended"),
        ),
        (
            "firm_settings_update",
            Action.FIRM_SETTINGS,
            lambda: services.firm_settings_update(
                actor=admin, firm=cast.acme, anonymity_threshold=7, retention_months=24
            ),
        ),
        (
            "firm_theme_add",
            Action.THEME_CHANGE,
            lambda: themes.firm_theme_add(actor=admin, firm=cast.acme, name="Werkdruk"),
        ),
        (
            "standard_theme_set_active",
            Action.THEME_CHANGE,
            lambda: themes.standard_theme_set_active(
                actor=admin, firm=cast.acme, code="bullying", active=False
            ),
        ),
    ]


@pytest.mark.parametrize(
    "label",
    [
        "client_create",
        "role_offer_withdraw",
        "user_create",
        "person_invite",
        "assignment_create",
        "assignment_end",
        "membership_remove",
        "client_update",
        "firm_settings_update",
        "firm_theme_add",
        "standard_theme_set_active",
    ],
)
def test_each_audited_change_writes_exactly_one_trail_row_by_its_actor(cast, label):
    _label, action, run = next(entry for entry in _audited_actions(cast) if entry[0] == label)
    before = TrailEntry.objects.count()
    run()
    rows = _new_rows(before)
    assert [(row.action, row.actor_id, row.actor_email, row.firm_id) for row in rows] == [
        (action, cast.admin_a.pk, cast.admin_a.email, cast.acme.pk)
    ]


def test_an_operator_creating_a_firm_writes_one_row_naming_the_command(cast):
    before = TrailEntry.objects.count()
    firm = services.firm_create(actor=Operator("create_firm"), slug="charlie", name="Charlie")
    rows = _new_rows(before)
    assert [(r.action, r.actor_id, r.operator_command, r.firm_id) for r in rows] == [
        (Action.FIRM_CREATE, None, "create_firm", firm.pk)
    ]


@pytest.mark.parametrize("accept", [True, False])
def test_answering_an_offer_writes_one_row_by_the_account_holder(cast, accept):
    offer = services.person_invite(
        actor=cast.admin_a, firm=cast.acme, email=cast.contact_b1.email, role="adviser"
    )
    before = TrailEntry.objects.count()
    services.role_offer_answer(actor=cast.contact_b1, offer_id=offer.pk, accept=accept)
    rows = _new_rows(before)
    expected = Action.ROLE_OFFER_ACCEPT if accept else Action.ROLE_OFFER_DECLINE
    assert [(row.action, row.actor_id, row.firm_id) for row in rows] == [
        (expected, cast.contact_b1.pk, cast.acme.pk)
    ]
    assert FirmMembership.objects.filter(user=cast.contact_b1, firm=cast.acme).exists() is accept
    assert not RoleOffer.objects.filter(pk=offer.pk).exists()


def test_client_retention_change_is_on_the_trail(cast):
    from cases.services import case_settings_update

    before = TrailEntry.objects.count()
    with tenant_context(cast.a1):
        case_settings_update(actor=cast.admin_a, retention_months=36)
    rows = _new_rows(before)
    assert [(r.action, r.actor_id, r.client_id, r.detail) for r in rows] == [
        (Action.CLIENT_RETENTION, cast.admin_a.pk, cast.a1.pk, "retention 36")
    ]


def test_offboarding_and_key_rotation_are_on_the_trail_as_operator_commands(cast):
    before = TrailEntry.objects.count()
    call_command("rotate_keys", "--rewrap", "--firm", "acme", "--client", "a2")
    call_command("offboard_client", "--firm", "acme", "--client", "a2", "--confirm", "a2")
    rows = _new_rows(before)
    assert [(r.action, r.operator_command, r.client_id, r.actor_id) for r in rows] == [
        (Action.KEY_ROTATION, "rotate_keys", cast.a2.pk, None),
        (Action.CLIENT_OFFBOARD, "offboard_client", cast.a2.pk, None),
    ]


def _state():
    return (
        _trail(),
        list(Assignment.objects.order_by("pk").values_list("ends_on", "ended_at")),
        FirmMembership.objects.count(),
        ClientMembership.objects.count(),
        RoleOffer.objects.count(),
        list(Firm.objects.order_by("pk").values_list("anonymity_threshold", "retention_months")),
        list(ClientOrganisation.objects.order_by("pk").values_list("status", "contract_ends_on")),
    )


@pytest.mark.parametrize(
    "refused",
    [
        "bad_threshold",
        "bad_retention",
        "overlap",
        "bad_email",
        "contract_backwards",
        "self_access_unconfirmed",
        "adviser_of_other_firm",
        "unknown_role",
    ],
)
def test_a_refused_change_writes_no_trail_row_and_changes_nothing(cast, refused):
    admin = cast.admin_a
    calls = {
        "bad_threshold": lambda: services.firm_settings_update(
            actor=admin, firm=cast.acme, anonymity_threshold=2, retention_months=12
        ),
        "bad_retention": lambda: services.firm_settings_update(
            actor=admin, firm=cast.acme, anonymity_threshold=5, retention_months=121
        ),
        "overlap": lambda: services.assignment_create(
            actor=admin, client=cast.a1, adviser=cast.adviser_a
        ),
        "bad_email": lambda: services.person_invite(
            actor=admin, firm=cast.acme, email="geen-adres", role="adviser"
        ),
        "contract_backwards": lambda: services.client_update(
            actor=admin, client=cast.a1, contract_ends_on=datetime.date(2000, 1, 1)
        ),
        "self_access_unconfirmed": lambda: services.assignment_create(
            actor=cast.adviser_a_unassigned, client=cast.a2, adviser=cast.adviser_a_unassigned
        ),
        "adviser_of_other_firm": lambda: services.assignment_create(
            actor=admin, client=cast.a2, adviser=cast.adviser_b
        ),
        "unknown_role": lambda: services.person_invite(
            actor=admin, firm=cast.acme, email="x@acme.test", role="superuser"
        ),
    }
    before = _state()
    with pytest.raises(ValidationError):
        calls[refused]()
    assert _state() == before


def test_firm_admins_read_and_download_the_trail(cast, console):
    services.assignment_end(
        actor=cast.admin_a,
        assignment=Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1),
    )
    services.firm_settings_update(
        actor=Operator("test"), firm=cast.bravo, anonymity_threshold=6, retention_months=12
    )
    sign_in(console, cast.admin_a)
    page = console.get("/console/trail/").content.decode()
    assert cast.adviser_a.email in page and "k 5 → 6" not in page
    response = console.get("/console/trail.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "at,action,actor_email,operator_command,client_name,subject_email,detail"
    assert len(lines) == 1 + TrailEntry.objects.filter(firm_id=cast.acme.pk).count()
    assert lines[-1].split(",")[1:] == [
        "assignment_end",
        cast.admin_a.email,
        "",
        cast.a1.name,
        cast.adviser_a.email,
        "ended now",
    ]
    sign_in(console, cast.adviser_a)
    assert console.get("/console/trail.csv").status_code == 404


# --- self-access ------------------------------------------------------------------------------


def test_a_firm_admin_assigning_herself_confirms_and_the_other_admins_are_told(
    cast, console, django_capture_on_commit_callbacks
):
    services.user_create(
        actor=Operator("test"), email=cast.admin_a.email, firm=cast.acme, role="adviser"
    )
    services.user_create(
        actor=Operator("test"), email="tweede@acme.test", firm=cast.acme, role="firm_admin"
    )
    sign_in(console, cast.admin_a)
    form = {
        "adviser": cast.admin_a.pk,
        "kind": "backup",
        "starts_on": timezone.localdate().isoformat(),
    }
    trail_before = TrailEntry.objects.count()

    response = console.post(f"/console/clients/{cast.a2.pk}/assign/", form)
    assert response.status_code == 200
    assert 'name="confirm_self_access" value="1"' in response.content.decode()
    assert not Assignment.objects.filter(adviser=cast.admin_a).exists()
    assert TrailEntry.objects.count() == trail_before

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            f"/console/clients/{cast.a2.pk}/assign/", {**form, "confirm_self_access": "1"}
        )
    assert response.status_code == 302
    assert Assignment.objects.filter(adviser=cast.admin_a, client=cast.a2).count() == 1
    rows = _new_rows(trail_before)
    assert [(r.action, r.actor_id, r.subject_id) for r in rows] == [
        (Action.SELF_ACCESS, cast.admin_a.pk, cast.admin_a.pk)
    ]
    assert [message.to for message in mail.outbox] == [["tweede@acme.test"]]
    assert cast.a2.name in mail.outbox[0].body and cast.admin_a.email in mail.outbox[0].body


def test_a_one_person_firm_can_still_assign_itself(cast):
    services.user_create(
        actor=Operator("test"), email=cast.admin_a.email, firm=cast.acme, role="adviser"
    )
    mail.outbox.clear()
    assignment = services.assignment_create(
        actor=cast.admin_a, client=cast.a2, adviser=cast.admin_a, self_access_confirmed=True
    )
    assert assignment.is_current()
    assert mail.outbox == []  # no other admin to tell
    assert Role.ADVISER in roles_in_client(cast.admin_a, client_id=cast.a2.pk, firm_id=cast.acme.pk)


# --- invitations ------------------------------------------------------------------------------


def test_invitation_answers_are_identical_for_known_and_unknown_addresses(cast, console):
    sign_in(console, cast.admin_a)
    answers = []
    offers = []
    for email in ("onbekend@example.test", cast.contact_b1.email):
        # Each from the same starting point (rolled back after), as two separate tries would be.
        with transaction.atomic():
            response = console.post(
                "/console/people/",
                {"email": email, "full_name": "Getypte Naam", "role": "adviser"},
            )
            assert response.status_code == 302
            page = _page(console.get(response["Location"])).replace(email, "ADDRESS")
            answers.append((response.content, re.sub(r"/offers/\d+/", "/offers/N/", page)))
            offers += RoleOffer.objects.filter(firm=cast.acme).values_list("email", "made_account")
            transaction.set_rollback(True)
    assert answers[0] == answers[1]
    # Nothing of the existing account (its name, its firm) was shown, and it has no role yet.
    assert cast.contact_b1.get_full_name() not in answers[1][1]
    assert not FirmMembership.objects.filter(user=cast.contact_b1, firm=cast.acme).exists()
    assert offers == [("onbekend@example.test", True), (cast.contact_b1.email, False)]


def test_invitations_do_the_same_work_for_known_and_unknown_addresses(
    cast, console, django_capture_on_commit_callbacks
):
    """Time cannot tell the addresses apart when the work is the same: an invitation to an
    unknown address and to an account at another firm run the same SQL statements in the same
    order (parameters aside), add the same rows (one offer, one trail row, one outbox row) and
    leave the same work for after the commit (one callback: queue the e-mail). The times
    themselves are measured in bench/invitations.py, not asserted here."""
    from mail.models import OutgoingEmail

    sign_in(console, cast.admin_a)

    def invite(email: str) -> tuple[list[str], tuple[int, ...], int]:
        statements: list[str] = []

        def record(execute, sql, params, many, context):
            statements.append(re.sub(r'"s\d+_x\d+"', '"savepoint"', sql))  # a counter in the name
            return execute(sql, params, many, context)

        def counts() -> tuple[int, ...]:
            return (
                RoleOffer.objects.count(),
                TrailEntry.objects.count(),
                OutgoingEmail.objects.count(),
            )

        with transaction.atomic():
            before = counts()
            with (
                django_capture_on_commit_callbacks(execute=False) as callbacks,
                connection.execute_wrapper(record),
            ):
                response = console.post(
                    "/console/people/",
                    {"email": email, "full_name": "Getypte Naam", "role": "adviser"},
                )
            assert response.status_code == 302
            added = tuple(after - then for after, then in zip(counts(), before, strict=True))
            transaction.set_rollback(True)
        return statements, added, len(callbacks)

    addresses = ("onbekend@example.test", cast.contact_b1.email)
    for email in addresses:  # the first requests fill caches (content types, routes)
        invite(email)
    unknown, known = (invite(email) for email in addresses)
    assert unknown[0] == known[0]
    assert any(
        sql.startswith('INSERT INTO "accounts_user"') and "ON CONFLICT DO NOTHING" in sql
        for sql in unknown[0]
    )
    assert unknown[1:] == known[1:] == ((1, 1, 1), 1)


def test_the_existing_account_holder_accepts_the_offered_role(cast):
    mail.outbox.clear()
    with transaction.atomic():
        offer = services.person_invite(
            actor=cast.admin_a, firm=cast.acme, email=cast.contact_b1.email, role="adviser"
        )
    holder = _http(cast, cast.contact_b1)
    page = holder.get("/offers/").content.decode()
    assert "Acme Vertrouwenspersonen" in page
    assert holder.post(f"/offers/{offer.pk}/accept/").status_code == 302
    assert FirmMembership.objects.filter(
        user=cast.contact_b1, firm=cast.acme, role="adviser"
    ).exists()
    # Another person cannot answer it.
    offer2 = services.person_invite(
        actor=cast.admin_a, firm=cast.acme, email=cast.contact_a1.email, role="adviser"
    )
    assert _http(cast, cast.contact_b1).post(f"/offers/{offer2.pk}/accept/").status_code == 404
    assert RoleOffer.objects.filter(pk=offer2.pk).exists()


def test_a_new_account_accepts_its_invitation_by_choosing_a_password(cast):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    services.person_invite(
        actor=cast.admin_a,
        firm=cast.acme,
        email="nieuw@example.test",
        client=cast.a1,
        role="contact_person",
    )
    from accounts.models import User

    user = User.objects.get(email="nieuw@example.test")
    assert not ClientMembership.objects.filter(user=user).exists()
    http = Client(HTTP_HOST=CONSOLE)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = http.get(f"/accounts/invitation/{uid}/{token}/", follow=True)
    url = response.redirect_chain[-1][0]
    password = "een heel lang wachtwoord 1234"
    response = http.post(url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    assert ClientMembership.objects.filter(
        user=user, client=cast.a1, role="contact_person"
    ).exists()
    assert not RoleOffer.objects.filter(user=user).exists()


def test_the_invite_form_preselects_no_role(cast, console):
    sign_in(console, cast.admin_a)
    body = console.get("/console/people/").content.decode()
    select = body[body.index('name="role"') :]
    select = select[: select.index("</select>")]
    assert re.search(r'<option value="" selected>', select)
    assert 'firm_admin" selected' not in select
    # Choosing no client organisation says what it means (it read Django's "---------").
    clients = body[body.index('name="client"') :]
    clients = clients[: clients.index("</select>")]
    assert '<option value="" selected>Geen: een rol in het bureau</option>' in clients
    assert "---" not in clients


# --- sessions, caching, logging ---------------------------------------------------------------


def test_the_session_key_changes_when_the_second_factor_passes(cast):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    http = Client(HTTP_HOST=CONSOLE)
    http.post("/accounts/login/", {"username": cast.adviser_a.email, "password": PASSWORD})
    before = http.session.session_key
    device = TOTPDevice.objects.get(user=cast.adviser_a, confirmed=True)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    response = http.post("/accounts/2fa/verify/", {"token": f"{code:06d}"})
    assert response.status_code == 302
    assert http.session.session_key != before
    assert http.get("/console/").status_code == 200


def test_pages_with_confidential_content_are_not_stored(cast):
    adviser = _http(cast, cast.adviser_a, cast.a1)
    thread = sparring_objects(cast.a1)["thread_id"]
    for path in (f"/cases/{cast.case_reference('a1')}/", f"/sparring/{thread}/", "/board/"):
        response = adviser.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
    assert "no-store" in _http(cast, cast.admin_a).get("/console/people/")["Cache-Control"]


def test_sparring_search_and_a_refused_answer_are_logged_reads(cast):
    adviser = _http(cast, cast.adviser_a, cast.a1)
    thread = sparring_objects(cast.a1)["thread_id"]
    with tenant_context(cast.a1):
        before = AccessLogEntry.objects.count()
    assert adviser.get("/sparring/?q=iets").status_code == 200
    assert adviser.post(f"/sparring/{thread}/answer/", {"body": ""}).status_code == 200
    with tenant_context(cast.a1):
        rows = list(
            AccessLogEntry.objects.order_by("id")[before:].values_list(
                "action", "object_type", "actor_id"
            )
        )
    assert rows == [
        ("read", "sparring_search", cast.adviser_a.pk),
        ("read", "sparring_thread", cast.adviser_a.pk),
    ]


# --- random sequences against an oracle ------------------------------------------------------

ADVISERS = ("adviser_a", "adviser_a_backup", "adviser_a_unassigned")
CLIENT_PEOPLE = (("contact_a1", "a1", "contact_person"), ("internal_a1", "a1", "internal_adviser"))
# Path -> the roles that open it on a client host (written out here, not read from the code).
PAGES = {
    "/cases/": {"adviser"},
    "/board/": {"adviser", "contact_person", "firm_admin"},
    "/sparring/": {"adviser", "internal_adviser", "firm_admin"},
}

operations = st.one_of(
    st.tuples(st.just("assign"), st.sampled_from(ADVISERS), st.sampled_from(["a1", "a2"])),
    st.tuples(st.just("end"), st.sampled_from(ADVISERS), st.sampled_from(["a1", "a2"])),
    st.tuples(st.just("plan_end"), st.sampled_from(ADVISERS), st.sampled_from(["a1", "a2"])),
    st.tuples(st.just("remove_adviser"), st.sampled_from(ADVISERS), st.none()),
    st.tuples(st.just("add_adviser"), st.sampled_from(ADVISERS), st.none()),
    st.tuples(
        st.just("remove_client_role"), st.sampled_from([p for p, *_ in CLIENT_PEOPLE]), st.none()
    ),
    st.tuples(
        st.just("add_client_role"), st.sampled_from([p for p, *_ in CLIENT_PEOPLE]), st.none()
    ),
)


# The widest roles each person of the random sequences can come to hold (the oracle's ceiling):
# the URLs of the walk they open with these are the URLs checked for them after every step.
WIDEST: dict[str, dict[str, set[str]]] = {
    **{
        adviser: {"console": {"adviser"}, "a1": {"adviser"}, "a2": {"adviser"}}
        for adviser in ADVISERS
    },
    **{person: {client: {role}} for person, client, role in CLIENT_PEOPLE},
}
CONTEXTS = ("a1", "a2", "console")


def _furnish_a2(cast) -> None:
    """a2 holds no sparring thread and no internal adviser in the cast; the walk's a2 URLs name
    both, so an adviser assigned to a2 has the same pages to open as one assigned to a1."""
    from sparring import services as sparring
    from tests.cast import TINY_PNG

    internal = services.user_create(
        actor=Operator("test"),
        email="internal@client-a2.test",
        client=cast.a2,
        role="internal_adviser",
    )
    cast.users["internal_a2"] = internal
    with tenant_context(cast.a2):
        sparring.thread_start(
            actor=internal,
            subject="Een vraag over een melding",
            body="Hoe pakken we dit aan?",
            uploads=[sparring.Upload(name="schets.png", data=TINY_PNG)],
        )


def _reachable_urls(cast) -> dict[str, list]:
    """Per person: every URL of the walk (tests/test_url_access.py) on a1, a2 and the console
    that opens for them with their widest roles, public pages left out (they answer everybody
    alike). The objects in them are made once, here, before any grant or removal."""
    from tests import test_url_access as walk

    _furnish_a2(cast)
    a1 = walk._objects_of(cast, "acme")
    a2 = {
        **a1,
        **{k: v for k, v in walk._objects_of(cast, "acme", "a2").items() if v is not None},
    }
    objects = {"a1": a1, "a2": a2, "console": a1}
    # The first reader of a dashboard makes the released quarters (seconds); make them here, once,
    # not again in every example (each rolls back).
    for organisation in (cast.a1, cast.a2):
        assert _http(cast, cast.admin_a, organisation).get("/board/").status_code == 200
    urls: dict[str, list] = {}
    for person in WIDEST:
        urls[person] = [
            planned
            for context in CONTEXTS
            for planned in walk.walk_plan(
                person,
                cast,
                kinds=("own",),
                contexts_only=(context,),
                objects=(objects[context], {}),
            )
            if not planned.public and planned.expected(person, WIDEST)[0] != 404
        ]
    return urls


def test_access_follows_grants_ends_and_removals_at_every_step(cast):
    """Open sessions of every person on a1, a2 and the console; a random sequence of changes by
    the firm admin. After each step, every URL of the walk that the person the step was about
    could reach (with any roles they can come to hold) answers as the oracle says: as the walk
    expects for the roles they hold now (the stranger's 404 without one), the sign-in page once
    their sessions were ended. Everybody else's sessions are checked on three pages."""
    urls = _reachable_urls(cast)
    # The ceiling is wide enough: an adviser opens cases, sparring, the board and the intake on
    # both clients; a contact person the board; an internal adviser sparring and the intake.
    assert len({p.context for p in urls["adviser_a"]}) == 3
    assert min(len(planned) for planned in urls.values()) > 20

    # Each kind of ending surely, then random sequences (few: each step of an adviser requests
    # some 130 URLs).
    @hypothesis_settings(max_examples=4, deadline=None, database=None)
    @given(steps=st.lists(operations, min_size=1, max_size=3))
    @example(
        steps=[
            ("end", "adviser_a", "a1"),
            ("assign", "adviser_a_unassigned", "a2"),
            ("remove_adviser", "adviser_a_unassigned", None),
        ]
    )
    @example(
        steps=[
            ("plan_end", "adviser_a_backup", "a1"),
            ("remove_client_role", "internal_a1", None),
            ("add_client_role", "internal_a1", None),
            ("remove_client_role", "contact_a1", None),
        ]
    )
    def run(steps):
        with transaction.atomic():
            _run_steps(cast, urls, steps)
            transaction.set_rollback(True)

    run()


def _holds(person, adviser_role, assigned, client_roles) -> dict[str, set[str]]:
    """What the oracle says `person` holds now, per context (as in test_url_access.ORACLE)."""
    held: dict[str, set[str]] = {"console": {"adviser"} if person in adviser_role else set()}
    for key in ("a1", "a2"):
        held[key] = {role for p, c, role in client_roles if p == person and c == key}
        if person in adviser_role and (person, key) in assigned:
            held[key].add("adviser")
    return held


def _run_steps(cast, urls, steps) -> None:
    clients = {"a1": cast.a1, "a2": cast.a2}
    people = list(WIDEST)
    # The oracle, from the cast's description: who is adviser, who is assigned where.
    adviser_role = set(ADVISERS)
    assigned = {("adviser_a", "a1"), ("adviser_a_backup", "a1")}
    client_roles = {(p, c, r) for p, c, r in CLIENT_PEOPLE}

    def sign_in_everywhere(person: str) -> dict[str, Client]:
        return {key: _http(cast, cast.users[person], clients.get(key)) for key in CONTEXTS}

    sessions = {person: sign_in_everywhere(person) for person in people}
    admin = cast.admin_a
    for operation, who, where in steps:
        user = cast.users[who]
        ended = False
        if operation == "assign":
            if (who, where) not in assigned and who in adviser_role:
                services.assignment_create(actor=admin, client=clients[where], adviser=user)
                assigned.add((who, where))
            else:
                with pytest.raises(ValidationError):
                    services.assignment_create(actor=admin, client=clients[where], adviser=user)
        elif operation in ("end", "plan_end"):
            running = Assignment.objects.in_force().filter(adviser=user, client=clients[where])
            for assignment in running:
                ends_on = (
                    timezone.localdate() + datetime.timedelta(days=2)
                    if operation == "plan_end"
                    else None
                )
                services.assignment_end(actor=admin, assignment=assignment, ends_on=ends_on)
            if operation == "end":
                assigned.discard((who, where))
        elif operation == "remove_adviser":
            membership = FirmMembership.objects.filter(
                user=user, firm=cast.acme, role="adviser"
            ).first()
            if membership is not None:
                services.membership_remove(actor=admin, firm=cast.acme, membership=membership)
                adviser_role.discard(who)
                assigned = {(a, c) for a, c in assigned if a != who}
                ended = True
        elif operation == "add_adviser":
            if who not in adviser_role:
                services.user_create(actor=admin, email=user.email, firm=cast.acme, role="adviser")
                adviser_role.add(who)
        elif operation == "remove_client_role":
            membership = ClientMembership.objects.filter(user=user).first()
            if membership is not None:
                services.membership_remove(actor=admin, firm=cast.acme, membership=membership)
                client_roles = {entry for entry in client_roles if entry[0] != who}
                ended = True
        elif operation == "add_client_role":
            _person, client_key, role = next(e for e in CLIENT_PEOPLE if e[0] == who)
            if (who, client_key, role) not in client_roles:
                services.user_create(
                    actor=admin, email=user.email, client=clients[client_key], role=role
                )
                client_roles.add((who, client_key, role))

        now = (adviser_role, assigned, client_roles)
        # The person the step was about: every URL they could reach, as the walk expects.
        oracle = {who: _holds(who, *now)}
        failures = []
        for planned in urls[who]:
            status, location = planned.expected("anonymous" if ended else who, oracle)
            response = sessions[who][planned.context].get(planned.url)
            if response.status_code != status or (
                location and not response.get("Location", "").startswith(location)
            ):
                failures.append(
                    f"{planned.host}{planned.url} ({planned.route.name}): expected {status} "
                    f"{location}, got {response.status_code} {response.get('Location', '')}"
                )
        assert not failures, (steps, operation, who, where, *failures)
        # Everybody else: nothing changed for them, on three pages of each client.
        for person in people:
            if person == who:
                continue
            held = _holds(person, *now)
            for key in clients:
                for path, opening in PAGES.items():
                    expected = 200 if held[key] & opening else 404
                    response = sessions[person][key].get(path)
                    assert response.status_code == expected, (steps, person, key, path)
        if ended:
            sessions[who] = sign_in_everywhere(who)


# After each kind of ending, the whole URL walk (tests/test_url_access.py) for that person, with
# the oracle changed by hand to what they hold afterwards: every page on every host answers as
# for someone who never had the role (the same 404, the same redirects), not only three pages.
ENDINGS = {
    "end_assignment": ("adviser_a", {"console": {"adviser"}}),
    "remove_adviser": ("adviser_a", {}),
    "remove_contact_person": ("contact_a1", {}),
    "remove_internal_adviser": ("internal_a1", {}),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_after_access_ends_every_url_answers_as_for_a_stranger(cast, monkeypatch, ending):
    from tests import test_url_access as walk

    visitor, holds_after = ENDINGS[ending]
    user = cast.users[visitor]
    admin = cast.admin_a
    # The walk's objects are made while the person still holds the role (its intake contact is
    # addressed to a1's internal adviser, who could not be chosen after leaving).
    objects = (walk._objects_of(cast, "acme"), {})
    if ending == "end_assignment":
        for assignment in Assignment.objects.in_force().filter(adviser=user, client=cast.a1):
            services.assignment_end(actor=admin, assignment=assignment, ends_on=None)
    elif ending == "remove_adviser":
        membership = FirmMembership.objects.get(user=user, firm=cast.acme, role="adviser")
        services.membership_remove(actor=admin, firm=cast.acme, membership=membership)
    else:
        membership = ClientMembership.objects.get(user=user)
        services.membership_remove(actor=admin, firm=cast.acme, membership=membership)
    monkeypatch.setitem(walk.ORACLE, visitor, holds_after)
    failures: list[str] = []
    checked = 0
    # Only where the person held something: elsewhere nothing changed (walked in test_url_access).
    where = ("a1", "console") if ending == "remove_adviser" else ("a1",)
    for visit in walk.walk_visits(
        visitor, cast, kinds=("own",), contexts_only=where, objects=objects
    ):
        checked += 1
        response = visit.response
        if response.status_code != visit.status or (
            visit.location and not response.get("Location", "").startswith(visit.location)
        ):
            failures.append(
                f"{visitor} GET {visit.host}{visit.url} ({visit.route}): expected "
                f"{visit.status} {visit.location}, got {response.status_code} "
                f"{response.get('Location', '')}"
            )
    assert checked > 40
    assert not failures, "\n".join(failures)


def test_a_request_in_flight_completes_and_the_next_one_is_refused(committed_db):
    """Two sessions: the adviser's page is past the access check (held at its access-log INSERT
    by a lock) when the admin ends the assignment; it completes, the next request is a 404."""
    from django.db import connections

    from tests.cast import load_cast

    cast = load_cast()
    assignment = Assignment.objects.get(adviser=cast.adviser_a, client=cast.a1)
    adviser = _http(cast, cast.adviser_a, cast.a1)
    reference = cast.case_reference("a1")
    holder = connections.create_connection("default")
    results: dict[str, int] = {}

    def in_flight() -> None:
        try:
            results["first"] = adviser.get(f"/cases/{reference}/").status_code
        finally:
            connections["default"].close()

    try:
        with holder.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                f'LOCK TABLE "{cast.a1.schema_name}".audit_accesslogentry IN EXCLUSIVE MODE'
            )
        thread = threading.Thread(target=in_flight)
        thread.start()
        assert _waits_on_access_log(), "the adviser's request never reached the access log"
        services.assignment_end(actor=cast.admin_a, assignment=assignment)
        with holder.cursor() as cursor:
            cursor.execute("ROLLBACK")
        thread.join(30)
        assert results == {"first": 200}
        assert adviser.get(f"/cases/{reference}/").status_code == 404
    finally:
        holder.close()
        Assignment.objects.filter(pk=assignment.pk).update(ended_at=None, ends_on=None)


def _waits_on_access_log() -> bool:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE '%%audit_accesslogentry%%'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.01)
    return False
