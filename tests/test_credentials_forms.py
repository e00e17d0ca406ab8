"""Hostile input on the console's credentials register and internal advisers' appointments:
each gets a clear message on the page (not a 500, not a silent 400) and nothing is written.
Inputs: control characters, oversized text, and dates no person means (the first day of the
calendar, the last, far in the future). The register of acts by third parties and the PAPS
hand-over have theirs in test_thirdparty_register.py and test_cases_belgium.py.
"""

from __future__ import annotations

import datetime
import html

import pytest
from django.utils import timezone, translation

from credentials.models import (
    AdviserCredential,
    InternalAdviserAppointment,
    TrainingEntry,
)
from tenants.models import ClientOrganisation
from tests.cast import sign_in

TODAY = timezone.localdate()
CONTROL = "This text contains control characters; remove them."
DATE_RANGE = "Enter a date within fifty years of today."
FUTURE = "This date is in the future."


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _english_post(http, url: str, data: dict[str, object], **extra):
    with translation.override("en"):
        return http.post(url, data, HTTP_ACCEPT_LANGUAGE="en", **extra)


# --- the credentials register (console) -------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "tab\x1bescape", CONTROL),
        ("title", "x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
        ("done_on", "0001-01-01", DATE_RANGE),
        ("done_on", "9999-12-31", DATE_RANGE),
        ("done_on", (TODAY + datetime.timedelta(days=30)).isoformat(), FUTURE),
    ],
)
def test_training_form_says_what_is_wrong(cast, console, field, value, message):
    sign_in(console, cast.admin_a)
    data = {
        "user": cast.adviser_a.pk,
        "done_on": TODAY.isoformat(),
        "hours": "2",
        "kind": "course",
        "title": "Intervisie",
        field: value,
    }
    response = _english_post(console, "/console/credentials/training/", data)
    assert response.status_code == 400
    assert message in _page(response)
    assert not TrainingEntry.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("certification", "LVV\x07", CONTROL),
        ("certification", "x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("certified_on", "0001-01-01", DATE_RANGE),
        ("expires_on", "9999-12-31", DATE_RANGE),
        ("conduct_certificate_on", "0001-01-01", DATE_RANGE),
    ],
)
def test_certificate_form_says_what_is_wrong(cast, console, field, value, message):
    sign_in(console, cast.admin_a)
    data = {
        "user": cast.adviser_a.pk,
        "certification": "LVV",
        "certified_on": (TODAY - datetime.timedelta(days=800)).isoformat(),
        field: value,
    }
    response = _english_post(console, "/console/credentials/certificate/", data)
    assert response.status_code == 400
    assert message in _page(response)
    assert not AdviserCredential.objects.exists()


def _belgian_a1(cast) -> ClientOrganisation:
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="BE", employee_count=60)
    return ClientOrganisation.objects.get(pk=cast.a1.pk)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("appointed_on", "0001-01-01", DATE_RANGE),
        ("appointed_on", "9999-12-31", DATE_RANGE),
        ("representatives_agreed_on", "0001-01-01", DATE_RANGE),
        ("declared_on", "9999-12-31", DATE_RANGE),
        ("management", "yes\x07", "Select a valid choice."),
    ],
)
def test_appointment_form_says_what_is_wrong(cast, console, field, value, message):
    """The form sits on the client's page: its errors come back there as messages."""
    client = _belgian_a1(cast)
    sign_in(console, cast.admin_a)
    data = {"user": cast.internal_a1.pk, "appointed_on": TODAY.isoformat(), field: value}
    response = _english_post(
        console, f"/console/credentials/clients/{client.pk}/appointments/", data, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/console/clients/{client.pk}/"
    assert message in _page(response)
    assert not InternalAdviserAppointment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("representatives_agreed_on", "0001-01-01", DATE_RANGE),
        ("declared_on", "9999-12-31", DATE_RANGE),
        ("declared_on", "31-12-2025", "Enter a valid date."),
    ],
)
def test_declarations_form_says_what_is_wrong(cast, console, field, value, message):
    from credentials import services

    client = _belgian_a1(cast)
    appointment = services.appointment_create(
        actor=cast.admin_a,
        client=client,
        user=cast.internal_a1,
        appointed_on=TODAY - datetime.timedelta(days=30),
    )
    sign_in(console, cast.admin_a)
    prefix = f"appointment-{appointment.pk}-"
    response = _english_post(
        console,
        f"/console/credentials/appointments/{appointment.pk}/declarations/",
        {prefix + field: value},
        follow=True,
    )
    assert message in _page(response)
    appointment.refresh_from_db()
    assert (appointment.representatives_agreed_on, appointment.declared_on) == (None, None)
