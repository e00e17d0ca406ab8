"""Belgian clients: the country at creation and after, the PAPS hand-over and its outcome."""

from __future__ import annotations

import datetime
import html
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import services
from cases.models import Case, InternalRegistration, Referral, Theme
from tenants import services as tenant_services
from tenants.models import ClientOrganisation
from tenants.trail import Operator
from tests.cast import sign_in

TODAY = timezone.localdate()
CREATE_FORM = {
    "name": "Zorg Antwerpen",
    "slug": "zorg-antwerpen",
    "sector": "healthcare",
    "country": "BE",
    "employee_count": 60,
    "contract_starts_on": TODAY.isoformat(),
}


def _belgian(client: ClientOrganisation) -> None:
    ClientOrganisation.objects.filter(pk=client.pk).update(country="BE")


def _open(cast, **overrides):
    values = {
        "actor": cast.adviser_a,
        "case_type": "undesirable_behaviour",
        "themes": [Theme.objects.get(code="bullying")],
        "reporter_role": "employee",
        "accused_relation": "manager",
        "channel": "phone",
    }
    values.update(overrides)
    return services.case_open(**values)


# --- the country ------------------------------------------------------------------------------


def test_console_creates_a_belgian_client_and_refuses_hostile_countries(cast, console):
    sign_in(console, cast.admin_a)
    for bad in ["", "FR", "B" * 5000, "BE\x00", "B\x07E", "nl"]:
        response = console.post("/console/clients/new/", {**CREATE_FORM, "country": bad})
        assert response.status_code in (200, 400), bad  # NUL: the request guard's 400
        assert not ClientOrganisation.objects.filter(slug="zorg-antwerpen").exists()
    for field, bad in [
        ("contract_starts_on", "2026-02-30"),
        ("contract_starts_on", "\x00"),
        ("employee_count", "sixty"),
        ("name", ""),
    ]:
        response = console.post("/console/clients/new/", {**CREATE_FORM, field: bad})
        assert response.status_code in (200, 400), (field, bad)
        assert not ClientOrganisation.objects.filter(slug="zorg-antwerpen").exists()
    response = console.post("/console/clients/new/", CREATE_FORM)
    assert response.status_code == 302
    created = ClientOrganisation.objects.get(firm=cast.acme, slug="zorg-antwerpen")
    assert (created.country, created.is_belgian) == ("BE", True)


def test_new_clients_are_dutch_unless_told_otherwise(cast):
    client = tenant_services.client_create(
        actor=Operator("test"),
        firm=cast.acme,
        slug="nl-default",
        name="Standaard",
        employee_count=10,
    )
    assert client.country == "NL"
    with pytest.raises(ValidationError):
        tenant_services.client_create(
            actor=Operator("test"),
            firm=cast.acme,
            slug="xx",
            name="X",
            employee_count=10,
            country="DE",
        )
    assert not ClientOrganisation.objects.filter(slug="xx").exists()


def test_create_client_command_takes_a_country(cast):
    out = io.StringIO()
    call_command(
        "create_client",
        "--firm=acme",
        "--slug=gent",
        "--name=Stad Gent",
        "--employees=300",
        "--country=BE",
        stdout=out,
    )
    assert ClientOrganisation.objects.get(firm=cast.acme, slug="gent").country == "BE"
    with pytest.raises(CommandError):
        call_command(
            "create_client",
            "--firm=acme",
            "--slug=lille",
            "--name=Lille",
            "--employees=3",
            "--country=FR",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not ClientOrganisation.objects.filter(slug="lille").exists()


def test_country_change_is_validated_locked_and_logged(cast):
    with pytest.raises(ValidationError):
        tenant_services.client_country_set(actor=cast.admin_a, client=cast.a1, country="FR")
    cast.a1.refresh_from_db()
    assert cast.a1.country == "NL"
    tenant_services.client_country_set(actor=cast.admin_a, client=cast.a1, country="BE")
    assert ClientOrganisation.objects.get(pk=cast.a1.pk).country == "BE"
    with tenant_context(cast.a1):
        entry = AccessLogEntry.objects.filter(object_type="client").get()
    assert (entry.actor_id, entry.detail) == (cast.admin_a.pk, "country NL → BE")
    # Setting the same country again changes and logs nothing.
    tenant_services.client_country_set(actor=cast.admin_a, client=cast.a1, country="BE")
    with tenant_context(cast.a1):
        assert AccessLogEntry.objects.filter(object_type="client").count() == 1


def test_country_change_of_a_stale_copy_of_an_offboarded_client_is_refused(cast):
    stale = ClientOrganisation.objects.get(pk=cast.a2.pk)
    ClientOrganisation.objects.filter(pk=cast.a2.pk).update(status="offboarded")
    with pytest.raises(ValidationError):
        tenant_services.client_country_set(actor=cast.admin_a, client=stale, country="BE")
    assert ClientOrganisation.objects.get(pk=cast.a2.pk).country == "NL"


def test_console_edit_changes_the_country(cast, console):
    sign_in(console, cast.admin_a)
    data = {
        "name": cast.a1.name,
        "sector": cast.a1.sector,
        "country": "BE",
        "employee_count": cast.a1.employee_count,
        "contract_starts_on": cast.a1.contract_starts_on.isoformat(),
        "status": "active",
    }
    assert (
        console.post(f"/console/clients/{cast.a1.pk}/edit/", {**data, "country": "X"}).status_code
        == 200
    )
    assert ClientOrganisation.objects.get(pk=cast.a1.pk).country == "NL"
    response = console.post(f"/console/clients/{cast.a1.pk}/edit/", data)
    assert response.status_code == 302
    assert ClientOrganisation.objects.get(pk=cast.a1.pk).country == "BE"
    body = console.get(f"/console/clients/{cast.a1.pk}/").content.decode()
    assert "België" in body


# --- the PAPS ---------------------------------------------------------------------------------


def test_belgian_case_cannot_be_a_formal_complaint_handled_by_the_adviser(cast):
    _belgian(cast.a1)
    with tenant_context(cast.a1):
        case = _open(cast)
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            services.case_close(
                actor=cast.adviser_a,
                case=case,
                outcome="formal_complaint",
                expected_version=case.version,
            )
        assert refused.value.message_dict["outcome"] == [
            "In Belgium a formal request is handled by the prevention adviser for psychosocial "
            "aspects (PAPS), not by the confidential adviser: hand the case over to the PAPS "
            "instead."
        ]
        stored = Case.objects.get(pk=case.pk)
        assert (stored.phase, stored.outcome, stored.version) == ("intake", "", case.version)
        with pytest.raises(ValidationError):
            services.internal_registration_add(
                actor=cast.internal_a1,
                month=TODAY.replace(day=1),
                case_type="undesirable_behaviour",
                themes=[Theme.objects.get(code="bullying")],
                outcome="formal_complaint",
            )
        assert InternalRegistration.objects.count() == 0


def test_dutch_case_cannot_be_handed_to_the_paps(cast):
    with tenant_context(cast.a1):
        case = _open(cast)
        consent = services.consent_record(actor=cast.adviser_a, case=case, scope="paps")
        with pytest.raises(ValidationError):
            services.case_paps_handover(
                actor=cast.adviser_a, case=case, consent=consent, expected_version=case.version
            )
        with pytest.raises(ValidationError):
            services.case_close(
                actor=cast.adviser_a,
                case=case,
                outcome="handed_to_paps",
                expected_version=case.version,
            )
        assert Referral.objects.filter(case=case).count() == 0
        assert Case.objects.get(pk=case.pk).phase == "intake"
        # A Dutch case may still end as a formal complaint.
        services.case_close(
            actor=cast.adviser_a, case=case, outcome="formal_complaint", expected_version=1
        )


def test_paps_handover_needs_consent_then_closes_with_its_outcome(cast):
    _belgian(cast.a1)
    with tenant_context(cast.a1):
        case = _open(cast, opened_on=TODAY - datetime.timedelta(days=5))
        with pytest.raises(ValidationError):  # closing as handed over before the hand-over
            services.case_close(
                actor=cast.adviser_a, case=case, outcome="handed_to_paps", expected_version=1
            )
        with pytest.raises(ValidationError) as refused:
            services.case_paps_handover(
                actor=cast.adviser_a, case=case, consent=None, expected_version=case.version
            )
        assert "consent" in refused.value.message_dict
        hr = services.consent_record(actor=cast.adviser_a, case=case, scope="talk_to_hr")
        with pytest.raises(ValidationError):  # a consent for something else does not cover it
            services.case_paps_handover(
                actor=cast.adviser_a, case=case, consent=hr, expected_version=case.version
            )
        withdrawn = services.consent_record(
            actor=cast.adviser_a,
            case=case,
            scope="paps",
            given_on=TODAY - datetime.timedelta(days=1),
        )
        services.consent_withdraw(actor=cast.adviser_a, case=case, consent=withdrawn)
        with pytest.raises(ValidationError):
            services.case_paps_handover(
                actor=cast.adviser_a, case=case, consent=withdrawn, expected_version=case.version
            )
        assert Referral.objects.filter(case=case).count() == 0
        consent = services.consent_record(actor=cast.adviser_a, case=case, scope="paps")
        referral = services.case_paps_handover(
            actor=cast.adviser_a,
            case=case,
            consent=consent,
            expected_version=case.version,
            note="Formeel verzoek",
        )
        assert (referral.target, referral.consent_id) == ("paps", consent.pk)
        stored = Case.objects.get(pk=case.pk)
        assert stored.phase == "referral"
        with pytest.raises(ValidationError):  # only once
            services.case_paps_handover(
                actor=cast.adviser_a, case=stored, consent=consent, expected_version=stored.version
            )
        closed = services.case_close(
            actor=cast.adviser_a,
            case=stored,
            outcome="handed_to_paps",
            expected_version=stored.version,
        )
        assert (closed.phase, closed.outcome) == ("closed", "handed_to_paps")
        details = list(
            AccessLogEntry.objects.filter(object_reference=case.reference).values_list(
                "detail", flat=True
            )
        )
        assert "handed over to the PAPS" in details


def test_paps_handover_refuses_a_stale_version(cast):
    _belgian(cast.a1)
    with tenant_context(cast.a1):
        case = _open(cast)
        consent = services.consent_record(actor=cast.adviser_a, case=case, scope="referral")
        services.case_move_phase(
            actor=cast.adviser_a, case=case, phase="advice", expected_version=case.version
        )
        with pytest.raises(services.EditConflict):
            services.case_paps_handover(
                actor=cast.adviser_a, case=case, consent=consent, expected_version=1
            )
        assert Referral.objects.filter(case=case).count() == 0


def test_paps_views_offer_the_handover_and_refuse_hostile_input(cast, client_for):
    _belgian(cast.a1)
    with tenant_context(cast.a1):
        case = _open(cast)
        consent = services.consent_record(actor=cast.adviser_a, case=case, scope="paps")
    http = client_for(cast.a1)
    sign_in(http, cast.adviser_a)
    page = http.get(f"/cases/{case.reference}/").content.decode()
    assert "<strong>Overdragen aan de PAPS</strong>" in page
    assert f'action="/cases/{case.reference}/paps/"' in page
    close_page = http.get(f"/cases/{case.reference}/close/").content.decode()
    assert 'value="formal_complaint"' not in close_page
    assert 'value="handed_to_paps"' in close_page
    url = f"/cases/{case.reference}/paps/"
    good = {
        "paps-consent_id": consent.pk,
        "paps-handed_on": TODAY.isoformat(),
        "paps-note": "",
        "paps-version": case.version,
    }
    for field, bad in [
        ("paps-consent_id", ""),
        ("paps-consent_id", "abc"),
        ("paps-handed_on", ""),
        ("paps-handed_on", "2026-13-01"),
        ("paps-handed_on", (TODAY + datetime.timedelta(days=3)).isoformat()),
        ("paps-note", "x" * 100_000),
        ("paps-note", "nul\x00byte"),
        ("paps-version", ""),
    ]:
        response = http.post(url, {**good, field: bad})
        assert response.status_code in (400, 404), (field, bad, response.status_code)
    with tenant_context(cast.a1):
        assert Referral.objects.filter(case=case).count() == 0
    response = http.post(url, good)
    assert response.status_code == 302
    with tenant_context(cast.a1):
        assert Referral.objects.filter(case=case, target="paps").count() == 1
    # A Dutch client's case page does not offer it.
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="NL")
    assert f'action="{url}"' not in http.get(f"/cases/{case.reference}/").content.decode()


# --- hostile input: each refusal says what is wrong, in the reader's language -------------------

CONTROL = "This text contains control characters; remove them."
FUTURE = "This date is in the future."


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _english_post(http, url: str, data: dict[str, object], **extra):
    with translation.override("en"):
        return http.post(url, data, HTTP_ACCEPT_LANGUAGE="en", **extra)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("paps-note", "bel\x07letje", CONTROL),
        ("paps-handed_on", "0001-01-01", "This date is before the case was opened"),
        ("paps-handed_on", "9999-12-31", FUTURE),
    ],
)
def test_paps_hand_over_says_what_is_wrong(cast, client_for, field, value, message):
    with tenant_context(cast.b1):
        case = Case.objects.get(reference=cast.case_reference("b1"))
        consent = services.consent_record(actor=cast.adviser_b, case=case, scope="paps")
        case.refresh_from_db()
    http = client_for(cast.b1)
    sign_in(http, cast.adviser_b)
    data = {
        "paps-consent_id": consent.pk,
        "paps-handed_on": TODAY.isoformat(),
        "paps-note": "",
        "paps-version": case.version,
        field: value,
    }
    response = _english_post(http, f"/cases/{case.reference}/paps/", data)
    assert response.status_code == 400
    assert message in _page(response)
    with tenant_context(cast.b1):
        assert not Referral.objects.filter(case=case).exists()
