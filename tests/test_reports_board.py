"""Annual reports (draft, review, publication, immutability) and board signals (checks,
acknowledgement, follow-up, reminders, suggestions), through the views of each role."""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from boardroom import services
from boardroom.models import Activity, AnnualReport, BoardSignal
from boardroom.textcheck import text_problems
from reports.periods import Quarter
from reports.suppression import TOTAL, Status
from tests.cast import fresh_client, sign_in
from tests.test_reports_flow import register

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _english():
    """Messages asserted below are the English ones."""
    with translation.override("en"):
        yield


YEAR = TODAY.year  # the cast publishes earlier years; this one is free


def _report(cast, client=None) -> AnnualReport:
    with tenant_context(client or cast.a1):
        return AnnualReport.objects.get(year=YEAR)


def _snapshot(report: AnnualReport) -> tuple:
    return (
        report.status,
        report.narrative,
        report.recommendations,
        report.figures,
        report.sha256,
        report.version,
        report.published_at,
    )


def test_annual_report_from_draft_to_published_snapshot(cast, client_for):
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    assert adviser.post("/board/reports/", {"year": YEAR}).status_code == 302
    report = _report(cast)
    assert report.status == "draft"

    page = adviser.get(f"/board/reports/{YEAR}/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # charts as inline SVG, the same as in the PDF
    saved = adviser.post(
        f"/board/reports/{YEAR}/edit/",
        {
            "narrative": "Dit jaar ging veel aandacht naar werkdruk in de teams.",
            "recommendations": "Maak werkdruk bespreekbaar in het werkoverleg.",
            "version": report.version,
        },
    )
    assert saved.status_code == 302
    assert _report(cast).narrative.startswith("Dit jaar")

    contact = client_for(cast.a1)
    sign_in(contact, cast.contact_a1)
    assert contact.get(f"/board/reports/{YEAR}/").status_code == 404  # drafts are not theirs
    assert contact.get(f"/board/reports/{YEAR}/pdf/").status_code == 404

    assert adviser.post(f"/board/reports/{YEAR}/submit/").status_code == 302
    assert _report(cast).status == "review"
    assert adviser.post(f"/board/reports/{YEAR}/publish/").status_code == 404  # admins only

    admin = client_for(cast.a1)
    sign_in(admin, cast.admin_a)
    assert admin.post(f"/board/reports/{YEAR}/publish/").status_code == 302
    report = _report(cast)
    assert report.status == "published" and report.published_by_id == cast.admin_a.pk
    pdf = base64.b64decode(report.pdf)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == report.sha256
    assert report.figures["year"] == YEAR and report.figures["k"] == 5

    shown = contact.get(f"/board/reports/{YEAR}/")
    assert shown.status_code == 200 and report.sha256 in shown.content.decode()
    download = contact.get(f"/board/reports/{YEAR}/pdf/")
    assert hashlib.sha256(download.content).hexdigest() == report.sha256
    with tenant_context(cast.a1):
        actions = list(
            AccessLogEntry.objects.filter(object_type="annual_report", object_reference=str(YEAR))
            .order_by("at", "pk")
            .values_list("detail", flat=True)
        )
    assert actions[0] == "" and actions[1:3] == ["texts", "sent for review"]
    assert actions[3].startswith("published ")


def test_a_published_report_stays_frozen_when_cases_change(cast):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        services.report_submit(actor=cast.adviser_a, report=report)
        services.report_publish(actor=cast.admin_a, report=report, publish_empty_sections=True)
        frozen = AnnualReport.objects.get(year=YEAR)
        register(cast, count=6, on=TODAY)
        from boardroom.selectors import year_publications

        assert year_publications([YEAR])[YEAR].to_json() == frozen.figures["canonical"]


def test_publishing_twice_or_editing_a_published_report_is_refused(cast):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        services.report_submit(actor=cast.adviser_a, report=report)
        services.report_publish(actor=cast.admin_a, report=report, publish_empty_sections=True)
        before = _snapshot(AnnualReport.objects.get(year=YEAR))
        logged = AccessLogEntry.objects.count()
        for attempt in (
            lambda: services.report_publish(
                actor=cast.admin_a, report=report, publish_empty_sections=True
            ),
            lambda: services.report_update(
                actor=cast.adviser_a,
                report=report,
                narrative="Nieuw",
                recommendations="",
                expected_version=before[5],
            ),
            lambda: services.report_submit(actor=cast.adviser_a, report=report),
            lambda: services.report_return(actor=cast.admin_a, report=report, note="Opnieuw"),
        ):
            with pytest.raises(
                ValidationError,
                match=r"published and can no longer be changed|gepubliceerd en kan niet meer",
            ):
                attempt()
        assert _snapshot(AnnualReport.objects.get(year=YEAR)) == before
        assert AccessLogEntry.objects.count() == logged
        with pytest.raises(ValidationError, match="exists already"):
            services.report_draft_create(actor=cast.adviser_a, year=YEAR)


TEXTS = {
    "narrative": "Veel aandacht voor werkdruk in de teams.",
    "recommendations": "Bespreek de werkverdeling in het werkoverleg.",
}


def test_sending_for_review_saves_the_typed_texts_first(cast, client_for):
    """Typing and pressing "Send for review" without "Save" used to drop the texts."""
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    page = adviser.get(f"/board/reports/{YEAR}/").content.decode()
    # One form: both buttons send the texts.
    assert f'formaction="/board/reports/{YEAR}/submit/"' in page
    response = adviser.post(f"/board/reports/{YEAR}/submit/", {**TEXTS, "version": report.version})
    assert response.status_code == 302
    report = _report(cast)
    assert (report.status, report.narrative, report.recommendations) == (
        "review",
        TEXTS["narrative"],
        TEXTS["recommendations"],
    )
    with tenant_context(cast.a1):
        details = list(
            AccessLogEntry.objects.filter(object_type="annual_report", object_reference=str(YEAR))
            .order_by("at", "pk")
            .values_list("detail", flat=True)
        )
    assert details == ["", "texts", "sent for review"]


@pytest.mark.parametrize(
    ("narrative", "version_offset", "problem"),
    [
        ("Mail mij via vp@example.org.", 0, "e-mail address"),
        ("x" * 20_001, 0, "Keep this under 20000 characters."),
        ("Een rustig jaar.", -1, "Somebody changed this report while you were editing it."),
    ],
)
@pytest.mark.parametrize("path", ["edit", "submit"])
def test_a_refused_edit_or_submission_keeps_the_typed_text(
    cast, client_for, narrative, version_offset, problem, path
):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        report = services.report_update(
            actor=cast.adviser_a,
            report=report,
            narrative="Eerdere tekst.",
            recommendations="",
            expected_version=report.version,
        )
    before = _snapshot(_report(cast))
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    typed = {
        "narrative": narrative,
        "recommendations": "Een aanbeveling die ik net typte.",
        "version": report.version + version_offset,
    }
    adviser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    response = adviser.post(f"/board/reports/{YEAR}/{path}/", typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert problem in body
    assert "Een aanbeveling die ik net typte." in body  # still in the form
    assert narrative[:200] in body
    assert _snapshot(_report(cast)) == before


def test_a_report_with_empty_texts_is_published_only_by_explicit_choice(cast, client_for):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        services.report_submit(
            actor=cast.adviser_a,
            report=report,
            narrative=TEXTS["narrative"],
            recommendations="",
            expected_version=report.version,
        )
        with pytest.raises(ValidationError, match="Some texts of this report are empty"):
            services.report_publish(actor=cast.admin_a, report=report)
    assert _report(cast).status == "review"
    admin = client_for(cast.a1)
    sign_in(admin, cast.admin_a)
    admin.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    page = admin.get(f"/board/reports/{YEAR}/").content.decode()
    assert 'name="publish_empty_sections" value="yes" required' in page
    assert admin.post(f"/board/reports/{YEAR}/publish/").status_code == 302
    assert _report(cast).status == "review"
    assert (
        "Some texts of this report are empty"
        in admin.get(f"/board/reports/{YEAR}/").content.decode()
    )
    admin.post(f"/board/reports/{YEAR}/publish/", {"publish_empty_sections": "yes"})
    assert _report(cast).status == "published"


@pytest.mark.parametrize(
    ("narrative", "problem"),
    [
        ("Mevrouw Jansen van de afdeling zorg meldde pesten.", "looks like a name"),
        ("Mail mij via vp@example.org.", "e-mail address"),
        ("Bel 06-12345678 voor meer informatie.", "phone number"),
        ("Er waren 2 meldingen over intimidatie.", "number below 5"),
    ],
)
def test_report_texts_with_names_or_small_numbers_are_refused(cast, narrative, problem):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        with pytest.raises(ValidationError, match=problem):
            services.report_update(
                actor=cast.adviser_a,
                report=report,
                narrative=narrative,
                recommendations="",
                expected_version=report.version,
            )
        assert AnnualReport.objects.get(year=YEAR).narrative == ""


def test_a_stale_edit_changes_nothing(cast):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        services.report_update(
            actor=cast.adviser_a,
            report=report,
            narrative="Eerste versie.",
            recommendations="",
            expected_version=1,
        )
        with pytest.raises(
            ValidationError, match=r"changed this report|heeft dit verslag gewijzigd"
        ):
            services.report_update(
                actor=cast.adviser_a,
                report=report,
                narrative="Tweede versie.",
                recommendations="",
                expected_version=1,
            )
        assert AnnualReport.objects.get(year=YEAR).narrative == "Eerste versie."


@pytest.mark.parametrize("year", [1999, TODAY.year + 1, "twenty"])
def test_report_years_out_of_range_are_refused(cast, year):
    with tenant_context(cast.a1):
        count = AnnualReport.objects.count()
        with pytest.raises(ValidationError):
            services.report_draft_create(actor=cast.adviser_a, year=year)
        assert AnnualReport.objects.count() == count


def test_returned_report_goes_back_to_the_adviser_with_a_note(cast, client_for):
    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        services.report_submit(actor=cast.adviser_a, report=report)
    admin = client_for(cast.a1)
    sign_in(admin, cast.admin_a)
    admin.post(f"/board/reports/{YEAR}/return/", {"note": "Graag de aanbevelingen aanvullen."})
    report = _report(cast)
    assert (report.status, report.review_note) == ("draft", "Graag de aanbevelingen aanvullen.")


# --- signals -----------------------------------------------------------------------------------

SIGNAL = {
    "title": "Toename van meldingen over werkdruk",
    "risk": "Meerdere medewerkers in de zorgteams noemen structureel hoge werkdruk.",
    "recommendation": "Onderzoek de roosters en bespreek de bezetting met de teamleiders.",
    "severity": "high",
}


def test_signal_from_draft_to_follow_up(cast, client_for, django_capture_on_commit_callbacks):
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    created = adviser.post("/board/signals/", SIGNAL)
    assert created.status_code == 302
    with tenant_context(cast.a1):
        signal = BoardSignal.objects.order_by("-pk").first()
        assert signal.title == SIGNAL["title"] and signal.status == "draft"
    contact = client_for(cast.a1)
    sign_in(contact, cast.contact_a1)
    assert contact.get(f"/board/signals/{signal.pk}/").status_code == 404  # a draft
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert adviser.post(f"/board/signals/{signal.pk}/send/").status_code == 302
    assert [message.to for message in mail.outbox] == [["hr@client-a1.test"]]
    assert SIGNAL["risk"] not in mail.outbox[0].body  # says where to look, never what

    page = contact.get(f"/board/signals/{signal.pk}/")
    assert page.status_code == 200 and SIGNAL["risk"] in page.content.decode()
    assert contact.post(f"/board/signals/{signal.pk}/acknowledge/").status_code == 302
    contact.post(
        f"/board/signals/{signal.pk}/follow-up/",
        {"follow_up": "De teamleiders bespreken de roosters elke maand met de medewerkers."},
    )
    with tenant_context(cast.a1):
        signal.refresh_from_db()
    assert signal.status == "followed_up" and signal.acknowledged_by_id == cast.contact_a1.pk
    assert signal.follow_up.startswith("De teamleiders")
    assert adviser.get(f"/board/signals/{signal.pk}/").status_code == 200  # adviser sees it


@pytest.mark.parametrize(
    ("field", "text", "problem"),
    [
        ("risk", "Pieter de Vries van inkoop intimideert collega's.", "looks like a name"),
        ("risk", "Meldingen komen vooral van Jansen.", "looks like a name"),
        ("recommendation", "Neem contact op via hr@zorggroep.example.", "e-mail address"),
        ("recommendation", "Bel de vertrouwenspersoon op +31 6 12345678.", "phone number"),
        ("risk", "Drie medewerkers meldden intimidatie.", "number below 5"),
        ("risk", "Er kwamen 4 meldingen binnen.", "number below 5"),
    ],
)
def test_signals_with_names_contact_details_or_small_numbers_are_refused(
    cast, field, text, problem
):
    with tenant_context(cast.a1):
        count = BoardSignal.objects.count()
        with pytest.raises(ValidationError, match=problem):
            services.signal_create(actor=cast.adviser_a, **{**SIGNAL, field: text})
        assert BoardSignal.objects.count() == count


def test_the_check_lets_ordinary_board_language_through():
    text = (
        "In het derde kwartaal kwamen meer meldingen binnen over werkdruk. Advies: bespreek in "
        "januari de bezetting. Het aantal steeg met 40% tot 12 meldingen in 2025."
    )
    assert text_problems(text, k=5) == []
    assert (
        text_problems("Zorggroep Noord heeft een goed beleid.", k=5, known=["Zorggroep", "Noord"])
        == []
    )


def test_only_advisers_write_and_only_contact_persons_acknowledge(cast, client_for):
    contact = client_for(cast.a1)
    sign_in(contact, cast.contact_a1)
    with tenant_context(cast.a1):
        count = BoardSignal.objects.count()
        sent = BoardSignal.objects.exclude(status="draft").first()
    assert contact.post("/board/signals/", SIGNAL).status_code == 404
    admin = client_for(cast.a1)
    sign_in(admin, cast.admin_a)
    assert admin.post(f"/board/signals/{sent.pk}/acknowledge/").status_code == 404
    with tenant_context(cast.a1):
        assert BoardSignal.objects.count() == count
        assert BoardSignal.objects.get(pk=sent.pk).acknowledged_at is None


def test_overdue_acknowledgements_are_reminded_weekly(cast, django_capture_on_commit_callbacks):
    with tenant_context(cast.a1):
        signal = BoardSignal.objects.exclude(status="draft").get()
        BoardSignal.objects.filter(pk=signal.pk).update(
            acknowledgement_due=TODAY - datetime.timedelta(days=1)
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert services.signal_reminders_send(today=TODAY) == 1
        assert [message.to for message in mail.outbox] == [["hr@client-a1.test"]]
        assert services.signal_reminders_send(today=TODAY + datetime.timedelta(days=3)) == 0
        assert services.signal_reminders_send(today=TODAY + datetime.timedelta(days=7)) == 1
        services.signal_acknowledge(actor=cast.contact_a1, signal=signal)
        assert services.signal_reminders_send(today=TODAY + datetime.timedelta(days=30)) == 0


def test_reminders_run_for_every_client_from_one_dispatcher(
    cast, django_capture_on_commit_callbacks
):
    from reports.tasks import signal_reminders_dispatch

    with tenant_context(cast.b1):
        BoardSignal.objects.exclude(status="draft").update(
            acknowledgement_due=TODAY - datetime.timedelta(days=2)
        )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert signal_reminders_dispatch() == 3
    assert [message.to for message in mail.outbox] == [["hr@client-b1.test"]]


def test_a_theme_rising_against_earlier_quarters_is_suggested(cast, client_for):
    latest = Quarter.of(TODAY).shifted(-1)
    with tenant_context(cast.a1):
        register(cast, count=9, on=latest.starts_on, theme="discrimination")
        for back in (1, 2, 3):
            register(cast, count=1, on=latest.shifted(-back).starts_on, theme="discrimination")
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    page = adviser.get("/board/signals/?suggest=discrimination", HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "?suggest=discrimination" in body
    assert latest.label in body  # pre-filled text names the quarter, never a count below k
    contact = client_for(cast.a1)
    sign_in(contact, cast.contact_a1)
    assert "?suggest=" not in contact.get("/board/signals/").content.decode()


def test_activities_are_registered_by_the_adviser_and_counted_in_the_report(cast, client_for):
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    response = adviser.post(
        "/board/activities/",
        {"kind": "information_session", "held_on": TODAY.isoformat(), "minutes": 90},
    )
    assert response.status_code == 302
    bad = adviser.post(
        "/board/activities/", {"kind": "party", "held_on": TODAY.isoformat(), "minutes": 0}
    )
    assert bad.status_code == 200
    with tenant_context(cast.a1):
        assert list(Activity.objects.values_list("kind", "minutes")) == [
            ("information_session", 90)
        ]
        from boardroom.annual import figures_build

        activities = figures_build(YEAR)["activities"]["tables"]["activities"]
    rows = activities["rows"]
    assert activities["values"][rows.index("information_session")] == [1.0, 90.0]


def test_the_annual_report_counts_sparring_threads_per_type_and_suppresses_small_ones(cast):
    """Sparring counts are released with the year's fourth quarter, in its proof, like every
    figure: a draft built again after another thread shows the same numbers, and a running
    year shows none yet."""
    from django.db.models import Count

    from boardroom import annual
    from sparring.models import SparringCount

    year = YEAR - 1
    client = fresh_client(cast, since=datetime.date(year, 1, 1))
    with tenant_context(client):
        month = datetime.date(year, 3, 1)
        for _ in range(6):
            SparringCount.objects.create(
                month=month, case_type="undesirable_behaviour", registered_by_id=1
            )
        SparringCount.objects.create(month=month, case_type="integrity", registered_by_id=1)
        truth = dict(
            SparringCount.objects.filter(month__year=year)
            .values("case_type")
            .annotate(n=Count("pk"))
            .values_list("case_type", "n")
        )
        report = services.report_draft_create(actor=cast.adviser_a, year=year)
        content = annual.content_build(report)
        html = annual.html_render(content, status="draft", published_on=None)
        SparringCount.objects.create(month=month, case_type="integrity", registered_by_id=1)
        again = annual.content_build(report).sparring
        running = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        pending = annual.content_build(running).sparring
    sparring = content.sparring
    assert sparring is not None
    table = sparring.table
    assert table.shown("undesirable_behaviour", "number") == truth["undesirable_behaviour"]
    assert table.shown("integrity", "number") is None  # below k: "< 5"
    assert table.cell_text("integrity", "number") == "< 5"
    # The total would give the small cell away: hidden as well, or the other rows are.
    assert table.shown(TOTAL, "number") is None or table.shown("outside_remit", "number") is None
    assert sparring.title in html
    assert again is not None
    assert again.table.to_json() == table.to_json()
    assert pending is not None
    assert {status for _value, status in pending.table._cells.values()} == {Status.PENDING}


def test_a_report_frozen_before_sparring_was_counted_still_renders(cast):
    from boardroom import annual

    with tenant_context(cast.a1):
        report = services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        figures = annual.figures_build(YEAR)
        figures.pop("sparring")
        content = annual.content_build(report, figures=figures)
        assert content.sparring is None
        assert annual.html_render(content, status="draft", published_on=None)


def test_a_double_submitted_signal_or_activity_is_saved_once(cast, client_for):
    """The forms had no idempotency key: a double click saved two drafts or two activities."""
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    page = adviser.get("/board/signals/")
    key = str(page.context["form"].initial["submission_key"])
    assert f'value="{key}"' in page.content.decode()
    with tenant_context(cast.a1):
        signals_before = BoardSignal.objects.count()
    first = adviser.post("/board/signals/", {**SIGNAL, "submission_key": key})
    second = adviser.post("/board/signals/", {**SIGNAL, "submission_key": key})
    with tenant_context(cast.a1):
        assert BoardSignal.objects.count() == signals_before + 1
        signal = BoardSignal.objects.order_by("-pk").first()
    assert first["Location"] == second["Location"] == f"/board/signals/{signal.pk}/"

    activity = {"kind": "training", "held_on": TODAY.isoformat(), "minutes": 60}
    key = str(adviser.get("/board/activities/").context["form"].initial["submission_key"])
    for _attempt in range(2):
        response = adviser.post("/board/activities/", {**activity, "submission_key": key})
        assert response.status_code == 302
    with tenant_context(cast.a1):
        assert Activity.objects.filter(kind="training").count() == 1


def test_a_draft_signal_is_edited_or_deleted_and_a_sent_one_is_not(cast, client_for):
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    adviser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    with tenant_context(cast.a1):
        draft = services.signal_create(actor=cast.adviser_a, **SIGNAL)
        sent = BoardSignal.objects.exclude(status="draft").first()
        sent_before = (sent.title, sent.risk, sent.status)
    detail = adviser.get(f"/board/signals/{draft.pk}/").content.decode()
    assert f"/board/signals/{draft.pk}/edit/" in detail and "Delete the draft" in detail

    changed = {**SIGNAL, "title": "Werkdruk bij de nachtdiensten"}
    response = adviser.post(f"/board/signals/{draft.pk}/edit/", changed)
    assert response.status_code == 302
    refused = adviser.post(f"/board/signals/{draft.pk}/edit/", {**SIGNAL, "title": ""})
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    with tenant_context(cast.a1):
        draft.refresh_from_db()
    assert (draft.title, draft.status) == ("Werkdruk bij de nachtdiensten", "draft")

    unconfirmed = adviser.post(f"/board/signals/{draft.pk}/delete/", {}, follow=True)
    assert "Confirm that you delete this draft." in unconfirmed.content.decode()
    with tenant_context(cast.a1):
        assert BoardSignal.objects.filter(pk=draft.pk).exists()
    deleted = adviser.post(f"/board/signals/{draft.pk}/delete/", {"confirm": "on"})
    assert deleted.status_code == 302 and deleted["Location"] == "/board/signals/"
    with tenant_context(cast.a1):
        assert not BoardSignal.objects.filter(pk=draft.pk).exists()
        assert AccessLogEntry.objects.filter(
            object_type="board_signal", object_reference=str(draft.pk), action="erase"
        ).exists()

    # A sent signal: the edit page goes back to it, deletion is refused, nothing changes.
    assert adviser.get(f"/board/signals/{sent.pk}/edit/").status_code == 302
    adviser.post(f"/board/signals/{sent.pk}/edit/", changed)
    refused = adviser.post(f"/board/signals/{sent.pk}/delete/", {"confirm": "on"}, follow=True)
    assert "This signal was sent and can no longer be deleted." in refused.content.decode()
    with tenant_context(cast.a1):
        sent.refresh_from_db()
    assert (sent.title, sent.risk, sent.status) == sent_before
    # A contact person neither edits nor deletes.
    contact = client_for(cast.a1)
    sign_in(contact, cast.contact_a1)
    assert contact.post(f"/board/signals/{sent.pk}/delete/", {"confirm": "on"}).status_code == 404
