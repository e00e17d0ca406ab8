"""Belgium: the register of acts by third parties — no identity, who reads it, five years, export."""

from __future__ import annotations

import csv
import datetime
import html
import io
import uuid

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from tenants.models import ClientMembership, ClientOrganisation
from tenants.services import user_create
from tenants.trail import Operator
from tests.cast import sign_in
from thirdparty import services, tasks
from thirdparty.models import Declaration

TODAY = timezone.localdate()
FORM = {
    "declared_on": TODAY.isoformat(),
    "facts_on": (TODAY - datetime.timedelta(days=2)).isoformat(),
    "kind": "violence",
    "outsider": "patient",
    "description": "Een bewoner sloeg een verzorgende tijdens de avonddienst.",
}


@pytest.fixture
def belgian_a1(cast):
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="BE")
    return cast


def _add(cast, **overrides):
    values = {
        "actor": cast.adviser_a,
        "declared_on": TODAY,
        "kind": "violence",
        "outsider": "customer",
        "description": "Een klant bedreigde de kassamedewerker.",
    }
    values.update(overrides)
    return services.declaration_add(**values)


def _prevention_adviser(cast, *, role="prevention_adviser", email="preventie@client-a1.test"):
    user = user_create(
        actor=Operator("test"),
        email=email,
        full_name="Preventie Adviseur",
        password="correct horse battery staple",
        role=role,
        client=cast.a1,
    )
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return user


def test_the_register_has_no_field_for_a_person():
    names = {field.name for field in Declaration._meta.get_fields()}
    assert names == {
        "id",
        "declared_on",
        "facts_on",
        "kind",
        "outsider",
        "description",
        "destroy_after",
        "recorded_by_id",
        "submission_key",
        "created_at",
    }


def test_a_declaration_is_kept_five_years_and_its_facts_are_encrypted(belgian_a1):
    cast = belgian_a1
    with tenant_context(cast.a1):
        declaration = _add(cast, declared_on=datetime.date(2024, 2, 29))
        assert declaration.destroy_after == datetime.date(2029, 2, 28)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT description FROM thirdparty_declaration WHERE id = %s", [declaration.pk]
            )
            (stored,) = cursor.fetchone()
        assert b"kassamedewerker" not in bytes(stored)
        assert Declaration.objects.get().description == "Een klant bedreigde de kassamedewerker."
        entry = AccessLogEntry.objects.get(object_type="third_party_register")
        assert (entry.action, entry.actor_id) == ("create", cast.adviser_a.pk)


def test_only_belgian_clients_keep_the_register(cast):
    with tenant_context(cast.a1), translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            _add(cast)
        assert refused.value.messages == [
            "The register of acts by third parties is kept for Belgian clients only."
        ]
        assert Declaration.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", ""),
        ("description", "   "),
        ("description", "x" * 10_001),
        ("description", "bel\x07letje"),
        ("description", "nul\x00byte"),
        ("declared_on", ""),
        ("declared_on", "2026-02-30"),
        ("declared_on", "gisteren"),
        ("declared_on", (TODAY + datetime.timedelta(days=1)).isoformat()),
        ("declared_on", (TODAY - datetime.timedelta(days=5 * 366)).isoformat()),
        ("facts_on", (TODAY + datetime.timedelta(days=1)).isoformat()),
        ("kind", ""),
        ("kind", "murder"),
        ("outsider", "colleague"),
        ("submission_key", "not-a-uuid"),
    ],
)
def test_hostile_input_is_refused_and_adds_nothing(belgian_a1, client_for, field, value):
    http = client_for(belgian_a1.a1)
    sign_in(http, belgian_a1.adviser_a)
    data = {**FORM, "submission_key": str(uuid.uuid4()), field: value}
    response = http.post("/register/add/", data)
    assert response.status_code == 400
    with tenant_context(belgian_a1.a1):
        assert Declaration.objects.count() == 0


def test_facts_after_the_declaration_are_refused(belgian_a1):
    with tenant_context(belgian_a1.a1), pytest.raises(ValidationError):
        _add(belgian_a1, declared_on=TODAY - datetime.timedelta(days=3), facts_on=TODAY)


def test_adviser_adds_once_per_submission_and_reads(belgian_a1, client_for):
    http = client_for(belgian_a1.a1)
    sign_in(http, belgian_a1.adviser_a)
    data = {**FORM, "submission_key": str(uuid.uuid4())}
    assert http.post("/register/add/", data).status_code == 302
    assert http.post("/register/add/", data).status_code == 302  # a double submit
    with tenant_context(belgian_a1.a1):
        assert Declaration.objects.count() == 1
    page = http.get("/register/").content.decode()
    assert "Een bewoner sloeg een verzorgende" in page


def test_who_reads_and_who_writes(belgian_a1, client_for):
    cast = belgian_a1
    with tenant_context(cast.a1):
        _add(cast)
    prevention = _prevention_adviser(cast)
    inspector = _prevention_adviser(cast, role="inspector", email="inspecteur@example.test")
    expectations = {
        # visitor: (GET register, GET export, POST add)
        cast.adviser_a: (200, 200, 302),
        cast.adviser_a_backup: (200, 200, 302),
        prevention: (200, 200, 404),
        inspector: (200, 200, 404),
        cast.admin_a: (404, 404, 404),
        cast.contact_a1: (404, 404, 404),
        cast.internal_a1: (404, 404, 404),
        cast.adviser_a_unassigned: (404, 404, 404),
        cast.adviser_b: (404, 404, 404),
    }
    for user, (register, export, add) in expectations.items():
        http = client_for(cast.a1)
        sign_in(http, user)
        assert http.get("/register/").status_code == register, user.email
        assert http.get("/register/export.csv").status_code == export, user.email
        assert http.get("/register/summary.csv").status_code == export, user.email
        data = {**FORM, "submission_key": str(uuid.uuid4())}
        assert http.post("/register/add/", data).status_code == add, user.email
    with tenant_context(cast.a1):
        assert Declaration.objects.count() == 3  # the one above and the two advisers'


def test_removed_prevention_adviser_loses_access(belgian_a1, client_for):
    prevention = _prevention_adviser(belgian_a1)
    http = client_for(belgian_a1.a1)
    sign_in(http, prevention)
    assert http.get("/register/").status_code == 200
    ClientMembership.objects.filter(user=prevention).delete()
    assert http.get("/register/").status_code == 404


def test_export_for_the_inspection_is_csv_with_codes_and_is_logged(belgian_a1, client_for):
    cast = belgian_a1
    with tenant_context(cast.a1):
        _add(cast, description='=HYPERLINK("x")', outsider="visitor", kind="threats")
    http = client_for(cast.a1)
    sign_in(http, cast.adviser_a)
    response = http.get("/register/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["declared_on", "facts_on", "kind", "outsider", "description", "kept_until"]
    assert rows[1] == [
        TODAY.isoformat(),
        "",
        "threats",
        "visitor",
        '\'=HYPERLINK("x")',
        services.years_later(TODAY, 5).isoformat(),
    ]
    with tenant_context(cast.a1):
        assert (
            AccessLogEntry.objects.filter(
                object_type="third_party_register", action="export"
            ).count()
            == 1
        )


def test_the_destruction_is_scheduled_in_code():
    schedule = settings.CELERY_BEAT_SCHEDULE["thirdparty-register-retention"]
    assert schedule["task"] == "thirdparty.tasks.register_retention_dispatch"
    assert schedule["schedule"] == crontab(hour=3, minute=30)


def test_entries_older_than_five_years_are_destroyed_by_the_task_and_counted(belgian_a1):
    cast = belgian_a1
    with tenant_context(cast.a1):
        kept = _add(cast, declared_on=TODAY - datetime.timedelta(days=30))
        # Entered before the five years ran out (the service refuses such old dates today).
        old = Declaration.objects.create(
            declared_on=TODAY - datetime.timedelta(days=5 * 365 + 2),
            kind="harassment",
            outsider="customer",
            description="Oud feit",
            destroy_after=services.years_later(TODAY - datetime.timedelta(days=5 * 365 + 2), 5),
            recorded_by_id=cast.adviser_a.pk,
        )
        assert old.destroy_after <= TODAY
    # The country changed since: the entries still expire.
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="NL")
    assert tasks.register_retention_dispatch.apply().get() == 3  # a1, a2, b1
    assert connection.schema_name == "public"
    with tenant_context(cast.a1):
        assert list(Declaration.objects.values_list("pk", flat=True)) == [kept.pk]
        destroyed = AccessLogEntry.objects.get(object_type="third_party_register", action="destroy")
        assert destroyed.detail == "1 declaration(s) destroyed after 5 years"
    tasks.register_retention_dispatch.apply().get()  # idempotent: nothing more, no new row
    with tenant_context(cast.a1):
        assert Declaration.objects.count() == 1
        assert (
            AccessLogEntry.objects.filter(
                object_type="third_party_register", action="destroy"
            ).count()
            == 1
        )


def test_retention_task_refuses_the_public_schema(cast):
    with pytest.raises(RuntimeError):
        tasks.register_retention_destroy.apply(headers={"_schema_name": "public"}).get()


def test_the_inspector_reads_the_register_and_nothing_else(belgian_a1, client_for):
    cast = belgian_a1
    with tenant_context(cast.a1):
        _add(cast)
    inspector = _prevention_adviser(cast, role="inspector", email="inspecteur@example.test")
    http = client_for(cast.a1)
    sign_in(http, inspector)
    assert "Een klant bedreigde de kassamedewerker." in http.get("/register/").content.decode()
    for url in ("/cases/", "/board/", "/intake/work/", "/sparring/"):
        assert http.get(url).status_code == 404, url
    with tenant_context(cast.a1):
        read = AccessLogEntry.objects.get(object_type="third_party_register", action="read")
        assert read.actor_id == inspector.pk
    ClientMembership.objects.filter(user=inspector).delete()
    assert http.get("/register/").status_code == 404


def test_summary_per_year_kind_and_outsider_for_the_risk_analysis(belgian_a1, client_for):
    cast = belgian_a1
    last_year = TODAY.replace(year=TODAY.year - 1, month=6, day=1)
    with tenant_context(cast.a1):
        _add(cast, kind="violence", outsider="patient")
        _add(cast, kind="violence", outsider="patient", description='=cmd|"x"')
        _add(cast, kind="threats", outsider="visitor", declared_on=last_year)
    http = client_for(cast.a1)
    sign_in(http, _prevention_adviser(cast))
    response = http.get("/register/summary.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="register-third-parties-summary-'
    )
    body = response.content.decode()
    assert "cmd" not in body and "kassamedewerker" not in body  # counts, never the facts
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["year", "kind", "outsider", "declarations"]
    per_year = len(Declaration.Kind.values) * len(Declaration.Outsider.values)
    assert len(rows) == 1 + 2 * per_year  # every combination, zeros too
    counts = {(year, kind, outsider): int(n) for year, kind, outsider, n in rows[1:]}
    assert counts[(str(TODAY.year), "violence", "patient")] == 2
    assert counts[(str(last_year.year), "threats", "visitor")] == 1
    assert sum(counts.values()) == 3
    with tenant_context(cast.a1):
        export = AccessLogEntry.objects.get(object_type="third_party_register", action="export")
        assert export.detail == "summary of 3 declaration(s) in 2 year(s) exported as CSV"


def test_retention_reaches_suspended_clients_too(cast):
    """A legal retention term does not pause with the contract (Reach.HOLDING_DATA)."""
    ClientOrganisation.objects.filter(pk=cast.a2.pk).update(status="suspended")
    assert tasks.register_retention_dispatch.apply().get() == 3  # a1, a2 (suspended), b1
    ClientOrganisation.objects.filter(pk=cast.a2.pk).update(wrapped_data_key=b"")
    assert tasks.register_retention_dispatch.apply().get() == 2  # no key, no schema to reach


# --- hostile input: each refusal says what is wrong, in the reader's language -------------------

CONTROL = "This text contains control characters; remove them."
FUTURE = "This date is in the future."


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _english_post(http, url: str, data: dict[str, object], **extra):
    with translation.override("en"):
        return http.post(url, data, HTTP_ACCEPT_LANGUAGE="en", **extra)


FIVE_YEARS = "This date is more than five years ago: the register keeps five years."
REGISTER_FORM = {
    "declared_on": TODAY.isoformat(),
    "kind": "violence",
    "outsider": "customer",
    "description": "Een klant sloeg een monteur.",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", "bel\x07letje", CONTROL),
        ("description", "escape \x1b[31m", CONTROL),
        (
            "description",
            "x" * 10_001,
            "Ensure this value has at most 10000 characters (it has 10001).",
        ),
        ("declared_on", "0001-01-01", FIVE_YEARS),
        ("declared_on", "9999-12-31", FUTURE),
        ("declared_on", "10000-01-01", "Enter a valid date."),
        ("facts_on", "0001-01-01", FIVE_YEARS),
        ("facts_on", (TODAY + datetime.timedelta(days=3650)).isoformat(), FUTURE),
    ],
)
def test_register_form_says_what_is_wrong(cast, client_for, field, value, message):
    http = client_for(cast.b1)
    sign_in(http, cast.adviser_b)
    data = {**REGISTER_FORM, "submission_key": str(uuid.uuid4()), field: value}
    response = _english_post(http, "/register/add/", data)
    assert response.status_code == 400
    assert message in _page(response)
    with tenant_context(cast.b1):
        assert Declaration.objects.count() == 1  # the cast's one
