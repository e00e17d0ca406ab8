"""Case pages through HTTP: who reaches what, bad input, double submits, conflicts, query counts."""

from __future__ import annotations

import datetime
import json
import re
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import services
from cases.models import Case, ConsentRecord, Conversation, Note, Step, Theme
from tests.cast import sign_in
from workindex.models import CaseworkEntry

TODAY = timezone.localdate()
SCRIPT = '<script>alert("x")</script><b>bold</b>'


@pytest.fixture
def http(cast):
    """Factory: a signed-in test client for a cast member on a client's host (default a1)."""

    def make(user_key: str = "adviser_a", client_key: str = "a1") -> Client:
        browser = Client(HTTP_HOST=cast.host(getattr(cast, client_key)))
        sign_in(browser, cast.users[user_key])
        return browser

    return make


def _open(cast, client_key: str = "a1", actor_key: str = "adviser_a", **extra) -> Case:
    with tenant_context(getattr(cast, client_key)):
        case = services.case_open(
            actor=cast.users[actor_key],
            case_type="undesirable_behaviour",
            themes=[Theme.objects.get(code="conflict")],
            reporter_role="manager",
            accused_relation="subordinate",
            channel="video",
            **extra,
        )
        return Case.objects.get(pk=case.pk)


def _in_a1(cast, function, *args, **kwargs):
    with tenant_context(cast.a1):
        return function(*args, **kwargs)


def _count(cast, model, client_key: str = "a1", **filters) -> int:
    with tenant_context(getattr(cast, client_key)):
        return model.objects.filter(**filters).count()


def test_register_a_contact_in_one_short_form(cast, http):
    browser = http()
    page = browser.get("/cases/new/")
    assert page.status_code == 200
    key = page.context["form"].initial["submission_key"]
    theme_ids = _in_a1(
        cast,
        lambda: list(
            Theme.objects.filter(code__in=["bullying", "threats"]).values_list("pk", flat=True)
        ),
    )
    data = {
        "submission_key": str(key),
        "channel": "in_person",
        "case_type": "undesirable_behaviour",
        "themes": theme_ids,
        "reporter_role": "temporary",
        "accused_relation": "manager",
        "opened_on": TODAY.isoformat(),
    }
    response = browser.post("/cases/new/", data)
    assert response.status_code == 302
    reference = response["Location"].strip("/").split("/")[-1]
    with tenant_context(cast.a1):
        case = Case.objects.get(reference=reference)
        assert (case.channel, case.reporter_role, case.accused_relation, case.adviser_id) == (
            "in_person",
            "temporary",
            "manager",
            cast.adviser_a.pk,
        )
        assert sorted(case.themes.values_list("code", flat=True)) == ["bullying", "threats"]
    again = browser.post("/cases/new/", data)  # double submit
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert _count(cast, Case) == 2  # the cast's case and this one


@pytest.mark.parametrize(
    ("user_key", "status"),
    [
        ("adviser_a", 200),
        ("adviser_a_backup", 200),
        ("admin_a", 404),
        ("contact_a1", 404),
        ("internal_a1", 404),
        ("adviser_a_unassigned", 404),
        ("adviser_b", 404),
    ],
)
def test_only_assigned_advisers_read_a_case(cast, http, user_key, status):
    case = _open(cast)
    _in_a1(
        cast,
        services.case_update,
        actor=cast.adviser_a,
        case=case,
        expected_version=case.version,
        reporter_identity="Pseudoniem Koekoek",
    )
    reads_before = _count(cast, AccessLogEntry, action="read", object_reference=case.reference)
    response = http(user_key).get(f"/cases/{case.reference}/")
    assert response.status_code == status
    assert ("Pseudoniem Koekoek" in response.content.decode()) is (status == 200)
    reads_after = _count(cast, AccessLogEntry, action="read", object_reference=case.reference)
    assert reads_after - reads_before == (1 if status == 200 else 0)


def test_firm_admin_administers_without_reading(cast, http):
    case = _open(cast)
    _in_a1(
        cast,
        services.case_update,
        actor=cast.adviser_a,
        case=case,
        expected_version=case.version,
        reporter_department="Afdeling Geheimhouding",
    )
    _in_a1(cast, services.note_add, actor=cast.adviser_a, case=case, text="Notitie Zwijgplicht")
    browser = http("admin_a")
    for path in (
        "/cases/administration/",
        f"/cases/{case.reference}/handover/",
        f"/cases/administration/access-log/?reference={case.reference}",
    ):
        response = browser.get(path)
        body = response.content.decode()
        assert response.status_code == 200, path
        assert case.reference in body
        assert "Geheimhouding" not in body and "Zwijgplicht" not in body
    log = browser.get("/cases/administration/access-log/").content.decode()
    assert "adviser@acme.test" in log and "notitie toegevoegd" in log  # the note, in Dutch
    response = browser.post(
        f"/cases/{case.reference}/handover/",
        {"adviser": cast.adviser_a_backup.pk, "version": case.version + 1},
    )
    assert response.status_code == 302
    with tenant_context(cast.a1):
        assert Case.objects.get(pk=case.pk).adviser_id == cast.adviser_a_backup.pk
        assert (
            AccessLogEntry.objects.filter(
                object_reference=case.reference, action="handover"
            ).count()
            == 1
        )
        assert not AccessLogEntry.objects.filter(
            object_reference=case.reference, action="read"
        ).exists()


def test_contact_persons_and_internal_advisers_never_reach_case_pages(cast, http):
    case = _open(cast)
    for user_key in ("contact_a1", "internal_a1"):
        browser = http(user_key)
        for path in (
            "/cases/",
            "/cases/new/",
            f"/cases/{case.reference}/",
            f"/cases/{case.reference}/export/",
        ):
            assert browser.get(path).status_code == 404, (user_key, path)
        response = browser.post(
            f"/cases/{case.reference}/notes/",
            {"note-submission_key": str(uuid.uuid4()), "note-text": "x"},
        )
        assert response.status_code == 404
    assert _count(cast, Note) == 0


def test_internal_adviser_counts_contacts_without_narrative(cast, http):
    browser = http("internal_a1")
    page = browser.get("/cases/internal/")
    assert page.status_code == 200
    conflict = _in_a1(cast, lambda: Theme.objects.get(code="conflict").pk)
    data = {
        "submission_key": str(page.context["form"].initial["submission_key"]),
        "month": TODAY.strftime("%Y-%m"),
        "case_type": "undesirable_behaviour",
        "themes": [conflict],
        "outcome": "no_further_steps",
    }
    assert browser.post("/cases/internal/", data).status_code == 302
    assert browser.post("/cases/internal/", data).status_code == 302  # double submit
    from cases.models import InternalRegistration

    assert _count(cast, InternalRegistration) == 1
    assert http("contact_a1").get("/cases/internal/").status_code == 404
    assert http("adviser_a").get("/cases/internal/").status_code == 404


def _post_conversation(browser, reference, **overrides):
    data = {
        "conversation-submission_key": str(uuid.uuid4()),
        "conversation-held_on": TODAY.isoformat(),
        "conversation-duration_minutes": "60",
        "conversation-summary": "Gesprek",
        "conversation-next_steps": "",
        "conversation-billable": "on",
    }
    data.update({f"conversation-{key}": value for key, value in overrides.items()})
    return browser.post(f"/cases/{reference}/conversations/", data)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"held_on": (TODAY + datetime.timedelta(days=1)).isoformat()},
            "This date is in the future.",
        ),
        (
            {"held_on": (TODAY - datetime.timedelta(days=3)).isoformat()},
            "This date is before the case was opened",
        ),
        ({"held_on": "31-02-2026"}, "Enter a valid date."),
        ({"duration_minutes": "-15"}, "Enter between 1 and 480 minutes."),
        ({"duration_minutes": "0"}, "Enter between 1 and 480 minutes."),
        ({"duration_minutes": "100000"}, "Enter between 1 and 480 minutes."),
        ({"duration_minutes": "1e9"}, "Enter a whole number."),
        (
            {"summary": "a" * 1_048_576},
            "This text is too long: at most 20,000 characters, this one has 1,048,576.",
        ),
    ],
)
def test_bad_conversation_input_is_refused_with_a_message_and_changes_nothing(
    cast, http, overrides, message
):
    case = _open(cast)
    browser = http()
    browser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    log_before = _count(cast, AccessLogEntry, object_reference=case.reference)
    response = _post_conversation(browser, case.reference, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _count(cast, Conversation) == 0
    # Showing the page again is a read; nothing else was logged.
    assert _count(cast, AccessLogEntry, object_reference=case.reference) == log_before + 1
    assert _count(cast, AccessLogEntry, object_reference=case.reference, action="update") == 0


def test_html_in_every_field_is_shown_escaped(cast, http):
    case = _open(cast)
    browser = http()
    edit = browser.get(f"/cases/{case.reference}/edit/").context["form"]
    data = {name: value for name, value in edit.initial.items() if value is not None}
    data.update(
        {"reporter_identity": SCRIPT, "reporter_department": SCRIPT, "version": case.version}
    )
    assert browser.post(f"/cases/{case.reference}/edit/", data).status_code == 302
    assert (
        _post_conversation(browser, case.reference, summary=SCRIPT, next_steps=SCRIPT).status_code
        == 302
    )
    posts = [
        (
            "consents",
            {
                "consent-submission_key": str(uuid.uuid4()),
                "consent-scope": "referral",
                "consent-third_party": SCRIPT,
                "consent-given_on": TODAY.isoformat(),
            },
        ),
        ("steps", {"step-submission_key": str(uuid.uuid4()), "step-description": SCRIPT}),
        (
            "follow-ups",
            {
                "followup-submission_key": str(uuid.uuid4()),
                "followup-due_on": TODAY.isoformat(),
                "followup-description": SCRIPT,
            },
        ),
        (
            "time",
            {
                "time-submission_key": str(uuid.uuid4()),
                "time-worked_on": TODAY.isoformat(),
                "time-minutes": "5",
                "time-description": SCRIPT,
            },
        ),
        ("notes", {"note-submission_key": str(uuid.uuid4()), "note-text": SCRIPT}),
    ]
    for path, data in posts:
        assert browser.post(f"/cases/{case.reference}/{path}/", data).status_code == 302, path
    consent = _in_a1(cast, lambda: ConsentRecord.objects.get(case__reference=case.reference))
    referral = {
        "referral-submission_key": str(uuid.uuid4()),
        "referral-target": "coach",
        "referral-consent_id": str(consent.pk),
        "referral-referred_on": TODAY.isoformat(),
        "referral-note": SCRIPT,
    }
    assert browser.post(f"/cases/{case.reference}/referrals/", referral).status_code == 302
    body = browser.get(f"/cases/{case.reference}/").content.decode()
    assert "<script>alert" not in body and "<b>bold</b>" not in body
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
    # identity, department, summary, next steps, third party, step, referral, follow-up, time, note
    assert body.count(escaped) == 10
    exported = browser.get(f"/cases/{case.reference}/export/")
    assert json.loads(exported.content)["notes"][0]["text"] == SCRIPT
    assert exported["Content-Type"] == "application/json"


def test_foreign_and_unknown_ids_give_404_and_change_nothing(cast, http):
    mine = _open(cast)
    other = _open(cast)
    with tenant_context(cast.a1):
        step = services.step_add(
            actor=cast.adviser_a, case=other, description="Ander", involves_third_party=True
        )
        consent = services.consent_record(
            actor=cast.adviser_a, case=other, scope="referral", given_on=TODAY
        )
    browser = http()
    attempts = [
        (f"/cases/{mine.reference}/steps/done/", {"done-step_id": step.pk, "done-consent_id": ""}),
        (f"/cases/{mine.reference}/steps/done/", {"done-step_id": 999_999, "done-consent_id": ""}),
        (
            f"/cases/{mine.reference}/consents/withdraw/",
            {"withdraw-consent_id": consent.pk, "withdraw-confirm": "yes"},
        ),
        (
            f"/cases/{mine.reference}/referrals/",
            {
                "referral-submission_key": str(uuid.uuid4()),
                "referral-target": "gp",
                "referral-consent_id": consent.pk,
                "referral-referred_on": TODAY.isoformat(),
            },
        ),
        (f"/cases/{mine.reference}/follow-ups/done/", {"fdone-followup_id": 123_456}),
        (
            f"/cases/{cast.case_reference('b1')}/notes/",
            {"note-submission_key": str(uuid.uuid4()), "note-text": "x"},
        ),
        ("/cases/9999-9999/notes/", {"note-submission_key": str(uuid.uuid4()), "note-text": "x"}),
    ]
    for path, data in attempts:
        assert browser.post(path, data).status_code == 404, path
    with tenant_context(cast.a1):
        assert Step.objects.get(pk=step.pk).done_on is None
        assert ConsentRecord.objects.get(pk=consent.pk).withdrawn_on is None
        assert not Note.objects.exists()
        from cases.models import Referral

        assert not Referral.objects.exists()
    assert browser.get(f"/cases/{cast.case_reference('b1')}/").status_code == 404


def test_third_party_step_cannot_be_done_without_consent_through_the_page(cast, http):
    case = _open(cast)
    step = _in_a1(
        cast,
        services.step_add,
        actor=cast.adviser_a,
        case=case,
        description="HR bellen",
        involves_third_party=True,
    )
    browser = http()
    browser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    response = browser.post(
        f"/cases/{case.reference}/steps/done/", {"done-step_id": step.pk, "done-consent_id": ""}
    )
    assert response.status_code == 400
    assert "it needs the reporter&#x27;s current consent" in response.content.decode()
    assert _in_a1(cast, lambda: Step.objects.get(pk=step.pk).done_on) is None


def test_third_party_step_is_done_with_the_consent_offered_on_the_page(cast, http):
    """The step's consent list was drawn from the field (which has no choices) instead of its
    widget: the select was empty and a third-party step could not be marked done."""
    case = _open(cast)
    consent = _in_a1(
        cast, services.consent_record, actor=cast.adviser_a, case=case, scope="talk_to_hr"
    )
    step = _in_a1(
        cast,
        services.step_add,
        actor=cast.adviser_a,
        case=case,
        description="HR bellen",
        involves_third_party=True,
    )
    browser = http()
    page = browser.get(f"/cases/{case.reference}/").content.decode()
    select = re.search(
        rf'<select name="done-consent_id" id="consent-for-{step.pk}">(.*?)</select>', page
    )
    assert select is not None
    assert re.findall(r'<option value="([^"]*)">', select.group(1)) == ["", str(consent.pk)]
    response = browser.post(
        f"/cases/{case.reference}/steps/done/",
        {"done-step_id": step.pk, "done-consent_id": str(consent.pk)},
    )
    assert response.status_code == 302
    assert _in_a1(cast, lambda: Step.objects.get(pk=step.pk).done_on) == timezone.localdate()


def test_two_advisers_editing_at_once_the_second_sees_a_conflict_and_nothing_is_lost(cast, http):
    case = _open(cast)
    first, second = http("adviser_a"), http("adviser_a_backup")
    second.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    form_first = first.get(f"/cases/{case.reference}/edit/").context["form"]
    form_second = second.get(f"/cases/{case.reference}/edit/").context["form"]

    def data(form, department):
        values = {name: value for name, value in form.initial.items() if value is not None}
        values["reporter_department"] = department
        return values

    assert (
        first.post(f"/cases/{case.reference}/edit/", data(form_first, "Keuken")).status_code == 302
    )
    response = second.post(f"/cases/{case.reference}/edit/", data(form_second, "Receptie"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Another adviser changed this case while you were editing it." in body
    assert 'value="Receptie"' in body  # the second adviser's input is kept in the form
    assert "Keuken" in body  # and what is stored now is shown
    stored = _in_a1(cast, lambda: Case.objects.get(pk=case.pk))
    assert (stored.reporter_department, stored.version) == ("Keuken", case.version + 1)
    assert response.context["form"]["version"].value() == str(case.version + 1)
    resubmitted = second.post(
        f"/cases/{case.reference}/edit/",
        data(form_second, "Receptie") | {"version": case.version + 1},
    )
    assert resubmitted.status_code == 302
    assert _in_a1(cast, lambda: Case.objects.get(pk=case.pk).reporter_department) == "Receptie"


def test_double_submitted_conversation_is_saved_once(cast, http):
    case = _open(cast)
    browser = http()
    key = str(uuid.uuid4())
    first = _post_conversation(browser, case.reference, submission_key=key)
    second = _post_conversation(browser, case.reference, submission_key=key)
    assert (first.status_code, second.status_code) == (302, 302)
    assert _count(cast, Conversation) == 1


def test_close_erase_and_export_through_the_pages(cast, http):
    case = _open(cast)
    browser = http()
    _in_a1(cast, services.note_add, actor=cast.adviser_a, case=case, text="Te wissen notitie")
    pdf = browser.get(f"/cases/{case.reference}/export/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    response = browser.post(
        f"/cases/{case.reference}/close/",
        {"outcome": "resolved_informally", "closed_on": TODAY.isoformat(), "version": case.version},
    )
    assert response.status_code == 302
    assert browser.post(f"/cases/{case.reference}/erase/", {"confirm": "wrong"}).status_code == 200
    assert _count(cast, Note) == 1
    assert (
        browser.post(f"/cases/{case.reference}/erase/", {"confirm": case.reference}).status_code
        == 302
    )
    assert _count(cast, Note) == 0
    with tenant_context(cast.a1):
        actions = list(
            AccessLogEntry.objects.filter(object_reference=case.reference)
            .order_by("id")
            .values_list("action", flat=True)
        )
    assert actions == ["create", "update", "export", "update", "erase"]


def _queries(browser, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(path)
    assert response.status_code == 200, path
    return len(captured)


def test_case_list_and_case_page_take_a_constant_number_of_queries(cast, http):
    browser = http()
    small = _open(cast)
    browser.get("/cases/")  # warm the host routing cache
    list_one = _queries(browser, "/cases/")
    page_small = _queries(browser, f"/cases/{small.reference}/")
    big = _open(cast)
    with tenant_context(cast.a1):
        for number in range(12):
            services.conversation_add(
                actor=cast.adviser_a,
                case=big,
                held_on=TODAY,
                duration_minutes=30,
                summary=f"s{number}",
            )
            services.note_add(actor=cast.adviser_a, case=big, text=f"n{number}")
            consent = services.consent_record(
                actor=cast.adviser_a, case=big, scope="referral", given_on=TODAY
            )
            services.referral_add(actor=cast.adviser_a, case=big, target="gp", consent=consent)
            services.step_add(actor=cast.adviser_a, case=big, description=f"st{number}")
            services.followup_add(actor=cast.adviser_a, case=big, due_on=TODAY)
        for _ in range(40):
            services.case_open(
                actor=cast.adviser_a_backup,
                case_type="integrity",
                themes=list(Theme.objects.all()[:3]),
                reporter_role="employee",
                accused_relation="unknown",
                channel="email",
            )
    assert _queries(browser, "/cases/") == list_one
    assert _queries(browser, "/cases/?status=all&page=2") == list_one
    assert _queries(browser, f"/cases/{big.reference}/") == page_small


def test_my_day_reads_only_the_public_index_in_constant_queries(cast, http):
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    case = _open(cast)
    with tenant_context(cast.a1):
        services.conversation_plan(
            actor=cast.adviser_a, case=case, on=TODAY + datetime.timedelta(days=2)
        )
    console.get("/console/my-day/")
    first = _queries(console, "/console/my-day/")
    with CaptureQueriesContext(connection) as captured:
        console.get("/console/my-day/")
    tables = " ".join(query["sql"] for query in captured.captured_queries)
    assert "workindex_caseworkentry" in tables
    assert '"cases_' not in tables and '"audit_' not in tables  # no tenant table read
    with tenant_context(cast.a1):
        for _ in range(15):
            extra = services.case_open(
                actor=cast.adviser_a,
                case_type="integrity",
                themes=[Theme.objects.get(code="integrity")],
                reporter_role="employee",
                accused_relation="manager",
                channel="portal",
            )
            services.followup_add(actor=cast.adviser_a, case=extra, due_on=TODAY)
            services.time_entry_add(actor=cast.adviser_a, case=extra, worked_on=TODAY, minutes=30)
    assert _queries(console, "/console/my-day/") == first


def test_my_day_shows_own_due_work_of_assigned_clients_only(cast):
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    console.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    planned = _open(cast)
    whistle = _open(cast)
    backups = _open(cast, actor_key="adviser_a_backup")
    with tenant_context(cast.a1):
        services.conversation_plan(
            actor=cast.adviser_a, case=planned, on=TODAY + datetime.timedelta(days=1)
        )
        services.time_entry_add(actor=cast.adviser_a, case=planned, worked_on=TODAY, minutes=95)
        Case.objects.filter(pk=whistle.pk).update(opened_on=TODAY - datetime.timedelta(days=10))
        whistle.refresh_from_db()
        services.case_update(
            actor=cast.adviser_a,
            case=whistle,
            expected_version=whistle.version,
            report_received_on=TODAY - datetime.timedelta(days=8),
        )
        services.conversation_plan(actor=cast.adviser_a_backup, case=backups, on=TODAY)
    body = console.get("/console/my-day/").content.decode()
    assert planned.reference in body and "Planned conversation" in body
    assert (
        whistle.reference in body
        and "Whistleblower report: acknowledgement due" in body
        and "overdue" in body
    )
    assert backups.reference not in body  # handled by the backup adviser
    assert "1:35" in body  # hours this month
    # a2's cast case names adviser_a as handler, but adviser_a is not assigned to a2
    assert CaseworkEntry.objects.filter(client=cast.a2, adviser_id=cast.adviser_a.pk).exists()
    assert cast.a2.name not in body
    assert Client(HTTP_HOST=settings.BASE_DOMAIN).get("/console/my-day/").status_code == 302
    admin = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(admin, cast.admin_a)
    assert admin.get("/console/my-day/").status_code == 404


def test_register_from_the_console_for_an_assigned_client_only(cast):
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    page = console.get("/console/cases/new/")
    assert page.status_code == 200
    data = {
        "submission_key": str(page.context["form"].initial["submission_key"]),
        "client": cast.a1.pk,
        "channel": "chat",
        "case_type": "outside_remit",
        "themes": ["work_pressure"],
        "reporter_role": "intern",
        "accused_relation": "not_applicable",
        "opened_on": TODAY.isoformat(),
    }
    response = console.post("/console/cases/new/", data)
    assert response.status_code == 302
    assert response["Location"].startswith(f"http://{cast.host(cast.a1)}/cases/")
    with tenant_context(cast.a1):
        case = Case.objects.order_by("-pk").first()
        assert (case.case_type, case.channel, list(case.themes.values_list("code", flat=True))) == (
            "outside_remit",
            "chat",
            ["work_pressure"],
        )
    before = [_count(cast, Case, key) for key in ("a1", "a2")]
    refused = console.post(
        "/console/cases/new/", data | {"client": cast.a2.pk, "submission_key": str(uuid.uuid4())}
    )
    assert refused.status_code == 200 and refused.context["form"].errors["client"]
    assert [_count(cast, Case, key) for key in ("a1", "a2")] == before


def test_withdrawing_a_consent_is_an_action_with_a_confirmation(cast, http):
    """The button read "Withdrawn" on a live consent and withdrew at one click."""
    case = _open(cast)
    consent = _in_a1(
        cast,
        lambda: services.consent_record(
            actor=cast.adviser_a, case=case, scope="referral", given_on=TODAY
        ),
    )
    browser = http()
    page = browser.get(f"/cases/{case.reference}/").content.decode()
    assert '<summary class="button button--small button--ghost">Intrekken</summary>' in page
    assert "Ja, toestemming intrekken" in page
    assert ">Ingetrokken<" not in page
    path = f"/cases/{case.reference}/consents/withdraw/"
    refused = browser.post(path, {"withdraw-consent_id": consent.pk})
    assert refused.status_code == 400
    assert "Bevestig dat u deze toestemming intrekt." in refused.content.decode()
    assert _in_a1(cast, lambda: ConsentRecord.objects.get(pk=consent.pk).withdrawn_on) is None
    done = browser.post(path, {"withdraw-consent_id": consent.pk, "withdraw-confirm": "yes"})
    assert done.status_code == 302
    assert _in_a1(cast, lambda: ConsentRecord.objects.get(pk=consent.pk).withdrawn_on) == TODAY
    browser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    assert (
        "<summary"
        not in browser.get(f"/cases/{case.reference}/")
        .content.decode()
        .split("consents-title")[1]
        .split("</section>")[0]
    )
