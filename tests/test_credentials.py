"""Belgian checks per client, internal advisers' appointments, and the credentials register."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from credentials import selectors, services, tasks
from credentials.models import (
    AdviserCredential,
    CredentialPolicy,
    InternalAdviserAppointment,
    ReminderSent,
    TrainingEntry,
)
from tenants.models import ClientOrganisation
from tests.cast import sign_in

TODAY = timezone.localdate()
ALL_NO = {
    "works_council_member": False,
    "prevention_committee_member": False,
    "union_delegate": False,
    "election_candidate": False,
    "management": False,
}


def _belgian(cast, workers: int) -> ClientOrganisation:
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="BE", employee_count=workers)
    return ClientOrganisation.objects.get(pk=cast.a1.pk)


def _codes(client) -> list[str]:
    return [problem.code for problem in selectors.client_problems(client=client)]


def _appoint(cast, client, **overrides):
    values = {
        "actor": cast.admin_a,
        "client": client,
        "user": cast.internal_a1,
        "appointed_on": TODAY - datetime.timedelta(days=30),
        "representatives_agreed_on": TODAY - datetime.timedelta(days=40),
        **ALL_NO,
    }
    values.update(overrides)
    return services.appointment_create(**values)


# --- checks per Belgian client ----------------------------------------------------------------


def test_a_60_worker_belgian_client_without_an_internal_adviser_shows_the_problem(cast, console):
    client = _belgian(cast, 60)
    assert _codes(client) == ["internal_adviser_missing"]
    sign_in(console, cast.admin_a)
    body = console.get(f"/console/clients/{client.pk}/").content.decode()
    assert "Met 60 werknemers (50 of meer) moet ten minste één vertrouwenspersoon" in body


def test_below_50_workers_and_dutch_clients_have_no_such_problem(cast):
    assert _codes(_belgian(cast, 49)) == []
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="NL", employee_count=600)
    assert _codes(ClientOrganisation.objects.get(pk=cast.a1.pk)) == []


def test_a_manager_declared_as_internal_adviser_is_refused(cast):
    client = _belgian(cast, 60)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        _appoint(cast, client, management=True)
    assert refused.value.message_dict["management"] == [
        "A member of management (someone who runs the business day to day and may represent "
        "the employer) cannot be an internal confidential adviser in Belgium. Choose another "
        "person."
    ]
    assert InternalAdviserAppointment.objects.count() == 0
    assert _codes(client) == ["internal_adviser_missing"]


@pytest.mark.parametrize(
    "declaration",
    ["works_council_member", "prevention_committee_member", "union_delegate", "election_candidate"],
)
def test_every_incompatible_role_is_refused(cast, declaration):
    client = _belgian(cast, 60)
    with pytest.raises(ValidationError) as refused:
        _appoint(cast, client, **{declaration: True})
    assert list(refused.value.message_dict) == [declaration]
    assert InternalAdviserAppointment.objects.count() == 0


def test_the_console_form_refuses_a_manager_with_the_message(cast, console):
    client = _belgian(cast, 60)
    sign_in(console, cast.admin_a)
    data = {
        "user": cast.internal_a1.pk,
        "appointed_on": TODAY.isoformat(),
        "representatives_agreed_on": TODAY.isoformat(),
        "works_council_member": "no",
        "prevention_committee_member": "no",
        "union_delegate": "no",
        "election_candidate": "no",
        "management": "yes",
    }
    response = console.post(
        f"/console/credentials/clients/{client.pk}/appointments/", data, follow=True
    )
    assert "kan in België geen interne vertrouwenspersoon zijn" in response.content.decode()
    assert InternalAdviserAppointment.objects.count() == 0
    response = console.post(
        f"/console/credentials/clients/{client.pk}/appointments/", {**data, "management": "no"}
    )
    assert response.status_code == 302
    assert InternalAdviserAppointment.objects.get().management is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", ""),
        ("user", "999999"),
        ("appointed_on", ""),
        ("appointed_on", "2026-02-31"),
        ("appointed_on", "\x00"),
        ("appointed_on", "1900-01-01"),
        ("representatives_agreed_on", "x" * 5000),
        ("management", "maybe"),
        ("management", "yes\x07"),
    ],
)
def test_appointment_form_refuses_hostile_input(cast, console, field, value):
    client = _belgian(cast, 60)
    sign_in(console, cast.admin_a)
    data = {"user": cast.internal_a1.pk, "appointed_on": TODAY.isoformat(), field: value}
    response = console.post(f"/console/credentials/clients/{client.pk}/appointments/", data)
    assert response.status_code in (302, 400)  # back to the client page; NUL: the guard's 400
    assert InternalAdviserAppointment.objects.count() == 0


def test_agreement_after_the_appointment_is_refused(cast):
    client = _belgian(cast, 60)
    with pytest.raises(ValidationError) as refused:
        _appoint(cast, client, representatives_agreed_on=TODAY - datetime.timedelta(days=1))
    assert list(refused.value.message_dict) == ["representatives_agreed_on"]


def test_only_the_clients_internal_advisers_can_be_appointed(cast):
    client = _belgian(cast, 60)
    with pytest.raises(ValidationError):
        _appoint(cast, client, user=cast.contact_a1)
    with pytest.raises(ValidationError):
        _appoint(cast, client, user=cast.internal_b1)
    assert InternalAdviserAppointment.objects.count() == 0


def test_missing_agreement_declarations_and_training_show_until_recorded(cast):
    client = _belgian(cast, 60)
    appointment = _appoint(
        cast,
        client,
        representatives_agreed_on=None,
        union_delegate=None,
    )
    assert _codes(client) == ["agreement_missing", "declarations_missing", "training_due"]
    services.appointment_end(actor=cast.admin_a, appointment=appointment)
    # Ended today: still counts today; tomorrow nobody is appointed.
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert [p.code for p in selectors.client_problems(client=client, today=tomorrow)] == [
        "internal_adviser_missing"
    ]
    InternalAdviserAppointment.objects.all().delete()
    _appoint(cast, client)
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.internal_a1,
        done_on=TODAY - datetime.timedelta(days=2),
        hours="30",
        kind="course",
        title="Basisopleiding vertrouwenspersoon",
    )
    assert _codes(client) == []


def test_basic_training_not_done_within_two_years_is_overdue(cast):
    client = _belgian(cast, 60)
    appointed = TODAY - datetime.timedelta(days=3 * 365)
    _appoint(
        cast,
        client,
        appointed_on=appointed,
        representatives_agreed_on=appointed,
    )
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.internal_a1,
        done_on=appointed + datetime.timedelta(days=10),
        hours="12",
        kind="course",
        title="Deel 1",
    )
    (problem,) = selectors.client_problems(client=client)
    assert problem.code == "training_overdue"
    # Hours after the deadline do not make up for it retroactively... they do count once done:
    # the law asks for 30 hours within two years, so late hours leave it overdue.
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.internal_a1,
        done_on=TODAY,
        hours="20",
        kind="course",
        title="Deel 2",
    )
    assert _codes(client) == ["training_overdue"]


@pytest.mark.parametrize(
    ("ended_on", "in_force"),
    [
        (None, True),
        (TODAY + datetime.timedelta(days=60), True),  # a planned end: holds until that day
        (TODAY, True),  # the last day counts
        (TODAY - datetime.timedelta(days=1), False),
    ],
)
def test_problems_who_is_due_and_the_report_agree_on_who_is_appointed_now(cast, ended_on, in_force):
    """One rule (`InternalAdviserAppointment.objects.in_force`) for the client's page, the
    firm's overview and the annual report: they once disagreed about a planned end date."""
    client = _belgian(cast, 60)
    appointed = TODAY - datetime.timedelta(days=3 * 365)  # basic training overdue
    appointment = _appoint(
        cast, client, appointed_on=appointed, representatives_agreed_on=appointed
    )
    InternalAdviserAppointment.objects.filter(pk=appointment.pk).update(ended_on=ended_on)
    due = [row.user for row in selectors.firm_due(firm=cast.acme) if row.code == "basic_training"]
    (internal,) = [
        row
        for row in selectors.report_advisers(client=client, external=[], on=TODAY, named=True)
        if row["role"] == "internal"
    ]
    if in_force:
        assert _codes(client) == ["training_overdue"]
        assert due == [cast.internal_a1]
        assert internal["appointed_on"] == appointed.isoformat()
    else:
        assert _codes(client) == ["internal_adviser_missing"]
        assert due == []
        assert internal["appointed_on"] is None
    # Not started yet: not in force either.
    InternalAdviserAppointment.objects.filter(pk=appointment.pk).update(
        appointed_on=TODAY + datetime.timedelta(days=1), ended_on=None
    )
    assert _codes(client) == ["internal_adviser_missing"]
    assert "basic_training" not in {row.code for row in selectors.firm_due(firm=cast.acme)}


def test_from_250_workers_anonymous_reports_must_be_possible(cast):
    client = _belgian(cast, 250)
    _appoint(cast, client)
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.internal_a1,
        done_on=TODAY,
        hours="30",
        kind="course",
        title="Basis",
    )
    # The intake takes anonymous reports while it is open (anonymity is its default).
    assert _codes(client) == []
    ClientOrganisation.objects.filter(pk=client.pk).update(status="suspended")
    assert _codes(ClientOrganisation.objects.get(pk=client.pk)) == ["anonymous_reports"]


# --- the credentials register -----------------------------------------------------------------


def test_certificate_expires_after_the_firms_period_and_shows_as_due(cast):
    certified = TODAY - datetime.timedelta(days=4 * 365 - 30)
    credential = services.credential_set(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.adviser_a,
        certification="LVV",
        certified_on=certified,
        conduct_certificate_on=TODAY - datetime.timedelta(days=100),
    )
    assert credential.expires_on == certified.replace(year=certified.year + 4)
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.adviser_a,
        done_on=TODAY - datetime.timedelta(days=10),
        hours="40",
        kind="course",
        title="Cursus",
    )
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.adviser_a,
        done_on=TODAY - datetime.timedelta(days=10),
        hours="20",
        kind="intervision",
        title="Intervisie",
    )
    with translation.override("en"):
        rows = [
            (row.user.pk, str(row.what), row.due_on, str(row.detail))
            for row in selectors.firm_due(firm=cast.acme)
            if row.user.pk == cast.adviser_a.pk
        ]
        assert rows == [
            (cast.adviser_a.pk, "Certificate expires", credential.expires_on, "LVV"),
            (
                cast.adviser_a.pk,
                "Recertification hours",
                credential.expires_on,
                "60 of 72 hours, 20 of 32 intervision",
            ),
        ]


def test_reminders_are_sent_once_per_item_and_due_date(cast, django_capture_on_commit_callbacks):
    services.credential_set(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.adviser_a,
        certification="LVV",
        certified_on=TODAY - datetime.timedelta(days=4 * 365 - 10),
        conduct_certificate_on=TODAY,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.reminders_send.apply().get() == 1
    (message,) = mail.outbox
    assert message.to == [cast.adviser_a.email]
    assert ReminderSent.objects.filter(user=cast.adviser_a).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.reminders_send.apply().get() == 0
    assert len(mail.outbox) == 1


def test_policy_defaults_and_refusals(cast):
    assert services.policy_for(cast.acme).required_hours == Decimal(72)
    with pytest.raises(ValidationError):
        services.policy_set(
            actor=cast.admin_a,
            firm=cast.acme,
            certificate_years=4,
            required_hours="30",
            required_intervision_hours="32",
            reminder_days=90,
        )
    assert not CredentialPolicy.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "x" * 201),
        ("title", "tab\x1bescape"),
        ("title", "nul\x00"),
        ("done_on", ""),
        ("done_on", "2026-13-13"),
        ("done_on", (TODAY + datetime.timedelta(days=1)).isoformat()),
        ("hours", "NaN"),
        ("hours", "1e9"),
        ("hours", "0"),
        ("hours", "-3"),
        ("kind", "party"),
        ("user", "123456789"),
    ],
)
def test_training_form_refuses_hostile_input(cast, console, field, value):
    sign_in(console, cast.admin_a)
    data = {
        "user": cast.adviser_a.pk,
        "done_on": TODAY.isoformat(),
        "hours": "2",
        "kind": "course",
        "title": "Cursus",
        field: value,
    }
    assert console.post("/console/credentials/training/", data).status_code == 400
    assert TrainingEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("certification", "x" * 101),
        ("certification", "LVV\x00"),
        ("certified_on", "31-31-2025"),
        ("certified_on", (TODAY + datetime.timedelta(days=3)).isoformat()),
        ("expires_on", (TODAY - datetime.timedelta(days=900)).isoformat()),
        ("user", str(999_999)),
    ],
)
def test_certificate_form_refuses_hostile_input(cast, console, field, value):
    sign_in(console, cast.admin_a)
    data = {
        "user": cast.adviser_a.pk,
        "certification": "LVV",
        "certified_on": (TODAY - datetime.timedelta(days=800)).isoformat(),
        field: value,
    }
    assert console.post("/console/credentials/certificate/", data).status_code == 400
    assert AdviserCredential.objects.count() == 0


def test_policy_form_refuses_hostile_input(cast, console):
    sign_in(console, cast.admin_a)
    base = {
        "certificate_years": "4",
        "required_hours": "72",
        "required_intervision_hours": "32",
        "reminder_days": "90",
    }
    for field, value in [
        ("certificate_years", ""),
        ("certificate_years", "99"),
        ("required_hours", "NaN"),
        ("required_intervision_hours", "80"),
        ("reminder_days", "\x00"),
    ]:
        assert (
            console.post("/console/credentials/policy/", {**base, field: value}).status_code == 400
        )
    assert not CredentialPolicy.objects.exists()
    assert console.post("/console/credentials/policy/", base).status_code == 302


def test_only_the_firms_admin_reaches_the_register(cast, console):
    client = _belgian(cast, 60)
    for user in (cast.adviser_a, cast.admin_b, cast.contact_a1, cast.internal_a1):
        sign_in(console, user)
        expected = 200 if user == cast.admin_b else 404  # bravo's admin sees bravo's register
        assert console.get("/console/credentials/").status_code == expected, user.email
        response = console.post(
            f"/console/credentials/clients/{client.pk}/appointments/",
            {"user": cast.internal_a1.pk, "appointed_on": TODAY.isoformat()},
        )
        assert response.status_code == 404, user.email
    assert InternalAdviserAppointment.objects.count() == 0
    sign_in(console, cast.admin_b)
    assert "Internal A1" not in console.get("/console/credentials/").content.decode()
    sign_in(console, cast.admin_a)
    assert console.get("/console/credentials/").status_code == 200


# --- declarations recorded after the appointment ---------------------------------------------


def _declarations_url(appointment) -> str:
    return f"/console/credentials/appointments/{appointment.pk}/declarations/"


def _declarations_data(appointment, **values) -> dict[str, str]:
    prefix = f"appointment-{appointment.pk}-"
    return {prefix + name: value for name, value in values.items()}


def test_declarations_recorded_later_close_the_open_problems(cast, console):
    client = _belgian(cast, 60)
    appointment = _appoint(
        cast,
        client,
        representatives_agreed_on=None,
        **dict.fromkeys(InternalAdviserAppointment.DECLARATIONS),
    )
    assert _codes(client) == ["agreement_missing", "declarations_missing", "training_due"]
    sign_in(console, cast.admin_a)
    page = console.get(f"/console/clients/{client.pk}/").content.decode()
    assert "Leg de instemming en de verklaringen vast" in page
    agreed = appointment.appointed_on - datetime.timedelta(days=3)
    response = console.post(
        _declarations_url(appointment),
        _declarations_data(
            appointment,
            representatives_agreed_on=agreed.isoformat(),
            declared_on=TODAY.isoformat(),
            works_council_member="no",
            prevention_committee_member="no",
            union_delegate="no",
            election_candidate="no",
            management="",
        ),
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.representatives_agreed_on == agreed
    assert appointment.management is None
    assert _codes(client) == ["declarations_missing", "training_due"]
    services.appointment_declarations_set(
        actor=cast.admin_a,
        appointment=appointment,
        representatives_agreed_on=agreed,
        declared_on=TODAY,
        **ALL_NO,
    )
    assert _codes(client) == ["training_due"]


def test_a_manager_declared_later_is_refused_and_nothing_changes(cast, console):
    client = _belgian(cast, 60)
    appointment = _appoint(cast, client, management=None)
    sign_in(console, cast.admin_a)
    response = console.post(
        _declarations_url(appointment),
        _declarations_data(appointment, management="yes", works_council_member="no"),
        follow=True,
    )
    assert (
        "Leidinggevend personeel (wie belast is met het dagelijks bestuur en de werkgever mag "
        "vertegenwoordigen) kan in België geen interne vertrouwenspersoon zijn."
    ) in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.management is None
    assert appointment.works_council_member is False
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.appointment_declarations_set(
            actor=cast.admin_a, appointment=appointment, management=True
        )
    assert list(refused.value.message_dict) == ["management"]


def test_declarations_of_an_ended_appointment_or_agreed_afterwards_are_refused(cast):
    client = _belgian(cast, 60)
    appointment = _appoint(cast, client, representatives_agreed_on=None)
    with pytest.raises(ValidationError) as refused:
        services.appointment_declarations_set(
            actor=cast.admin_a,
            appointment=appointment,
            representatives_agreed_on=appointment.appointed_on + datetime.timedelta(days=1),
            **ALL_NO,
        )
    assert list(refused.value.message_dict) == ["representatives_agreed_on"]
    services.appointment_end(actor=cast.admin_a, appointment=appointment)
    with pytest.raises(ValidationError):
        services.appointment_declarations_set(
            actor=cast.admin_a,
            appointment=appointment,
            representatives_agreed_on=appointment.appointed_on,
            **ALL_NO,
        )
    appointment.refresh_from_db()
    assert appointment.representatives_agreed_on is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("representatives_agreed_on", "2026-02-31"),
        ("representatives_agreed_on", "x" * 5000),
        ("representatives_agreed_on", "2999-01-01"),
        ("declared_on", "1900-01-01"),
        ("management", "maybe"),
        ("union_delegate", "yes\x07"),
    ],
)
def test_declarations_form_refuses_hostile_input(cast, console, field, value):
    client = _belgian(cast, 60)
    appointment = _appoint(cast, client, representatives_agreed_on=None, union_delegate=None)
    sign_in(console, cast.admin_a)
    response = console.post(
        _declarations_url(appointment), _declarations_data(appointment, **{field: value})
    )
    assert response.status_code == 302  # back to the client page with the message
    appointment.refresh_from_db()
    assert appointment.representatives_agreed_on is None
    assert appointment.union_delegate is None


def test_another_firms_admin_cannot_record_declarations(cast, console):
    client = _belgian(cast, 60)
    appointment = _appoint(cast, client, representatives_agreed_on=None)
    sign_in(console, cast.admin_b)
    response = console.post(
        _declarations_url(appointment),
        _declarations_data(appointment, representatives_agreed_on=TODAY.isoformat()),
    )
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.representatives_agreed_on is None


def test_basic_training_reminder_reaches_the_internal_adviser_in_their_language(
    cast, django_capture_on_commit_callbacks
):
    client = _belgian(cast, 60)
    appointed = TODAY - datetime.timedelta(days=2 * 365 - 30)  # due in about a month
    _appoint(cast, client, appointed_on=appointed, representatives_agreed_on=appointed)
    _training(cast, cast.internal_a1, "12")
    cast.internal_a1.language = "en"
    cast.internal_a1.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.reminders_send.apply().get()
    (message,) = [m for m in mail.outbox if m.to == [cast.internal_a1.email]]
    due = _appointment_due(appointed)
    assert f"- Basic training (30 hours): {due.isoformat()} ({client.name})" in message.body
    assert message.subject == "Vertrouwd: credentials due soon"
    # The same item is not mailed again the next day.
    mail.outbox.clear()
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.reminders_send.apply(args=[tomorrow]).get()
    assert [m for m in mail.outbox if m.to == [cast.internal_a1.email]] == []


def _appointment_due(appointed: datetime.date) -> datetime.date:
    try:
        return appointed.replace(year=appointed.year + 2)
    except ValueError:
        return appointed.replace(year=appointed.year + 2, day=28)


def _training(cast, user, hours: str) -> None:
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=user,
        done_on=TODAY - datetime.timedelta(days=3),
        hours=hours,
        kind="course",
        title="Basisopleiding",
    )
