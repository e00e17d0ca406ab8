"""A firm's own case themes: the console page, the catalogue in the public schema and its copy in
every client schema of the firm (and of no other firm), case forms and report labels.

Changes dispatch their per-schema work on commit; tests run it with
`django_capture_on_commit_callbacks(execute=True)` (tasks run in-process without a broker).
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from boardroom import selectors as board_selectors
from cases import services as case_services
from cases.forms import CaseEditForm
from cases.models import STANDARD_THEMES, Case, Theme
from tenants import services, themes
from tenants.models import ClientOrganisation, FirmTheme
from tenants.selectors import firm_theme_labels
from tenants.tasks import themes_dispatch
from tenants.trail import Operator
from tests.cast import sign_in
from tests.locks import waits_for_lock

NIGHT_SHIFTS = "Werkdruk in de nachtdienst"


@pytest.fixture
def admin(cast):
    """The console signed in as acme's firm admin (Dutch, the default language)."""
    browser = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(browser, cast.admin_a)
    return browser


@pytest.fixture
def admin_en(cast):
    browser = Client(HTTP_HOST=settings.BASE_DOMAIN)
    browser.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    sign_in(browser, cast.admin_a)
    return browser


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what a change queues on commit (the fan-out to the client schemas), as it happens."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def _themes_in(client: ClientOrganisation, **filters) -> dict[str, tuple[str, bool]]:
    """code -> (name, active) of the client schema's themes that are not standard."""
    with tenant_context(client):
        return {
            theme.code: (theme.name, theme.is_active)
            for theme in Theme.objects.filter(is_standard=False, **filters)
        }


def _standard_active(client: ClientOrganisation, code: str) -> bool:
    with tenant_context(client):
        return Theme.objects.get(code=code, is_standard=True).is_active


def _catalogue(firm) -> list[tuple[str, str, bool, bool]]:
    return list(
        FirmTheme.objects.filter(firm=firm)
        .order_by("pk")
        .values_list("code", "name", "is_standard", "is_active")
    )


def _add(cast, run_on_commit, name: str = NIGHT_SHIFTS, firm=None) -> FirmTheme:
    return run_on_commit(
        themes.firm_theme_add, actor=Operator("test"), firm=firm or cast.acme, name=name
    )


def _post_add(browser: Client, name: str, key: str | None = None):
    return browser.post(
        "/console/themes/", {"name": name, "submission_key": key or str(uuid.uuid4())}
    )


# --- the page, per role ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visitor", "status"),
    [
        ("admin_a", 200),
        ("admin_b", 200),
        ("adviser_a", 404),
        ("adviser_b", 404),
        ("contact_a1", 404),
        ("internal_a1", 404),
        ("anonymous", 302),
    ],
)
def test_the_themes_page_is_for_firm_admins_only(cast, visitor, status):
    browser = Client(HTTP_HOST=settings.BASE_DOMAIN)
    if visitor != "anonymous":
        sign_in(browser, cast.users[visitor])
    response = browser.get("/console/themes/")
    assert response.status_code == status
    if status == 302:
        assert "/accounts/login/" in response["Location"]


def test_the_page_lists_standard_themes_and_only_the_firms_own(cast, run_on_commit, admin):
    _add(cast, run_on_commit)
    _add(cast, run_on_commit, name="Agressie van bezoekers", firm=cast.bravo)
    page = admin.get("/console/themes/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Thema's van meldingen" in body  # Dutch by default
    assert "Pesten" in body and "Seksuele intimidatie" in body  # standard, in Dutch
    assert NIGHT_SHIFTS in body
    assert "Agressie van bezoekers" not in body  # bravo's
    assert [entry.label for entry in page.context["themes"]][-2:] == [NIGHT_SHIFTS, "Overig"]


def test_the_console_navigation_links_the_page_for_firm_admins_only(cast, admin):
    assert 'href="/console/themes/"' in admin.get("/console/").content.decode()
    adviser = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(adviser, cast.adviser_a)
    assert 'href="/console/themes/"' not in adviser.get("/console/").content.decode()


# --- adding, renaming, hiding: every client schema of the firm, none of the other ------------


def test_adding_a_theme_reaches_every_client_of_the_firm_and_no_other(
    cast, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_add(admin, f"  {NIGHT_SHIFTS.replace(' ', '   ')}  ")
    assert response.status_code == 302 and response["Location"] == "/console/themes/"
    assert _catalogue(cast.acme) == [("own_werkdruk_in_de_nachtdienst", NIGHT_SHIFTS, False, True)]
    expected = {"own_werkdruk_in_de_nachtdienst": (NIGHT_SHIFTS, True)}
    assert _themes_in(cast.a1) == expected
    assert _themes_in(cast.a2) == expected
    assert _themes_in(cast.b1) == {}
    assert _catalogue(cast.bravo) == []
    follow = admin.get("/console/themes/").content.decode()
    assert "is toegevoegd; elke klantorganisatie biedt het aan voor nieuwe meldingen." in follow


def test_renaming_keeps_the_code_and_renames_in_every_client_schema(cast, run_on_commit, admin):
    theme = _add(cast, run_on_commit)
    with tenant_context(cast.a1):
        case = case_services.case_open(
            actor=cast.adviser_a,
            case_type="undesirable_behaviour",
            themes=list(Theme.objects.filter(code=theme.code)),
            reporter_role="employee",
            accused_relation="manager",
            channel="phone",
        )
    page = admin.get(f"/console/themes/{theme.pk}/")
    assert page.status_code == 200 and page.context["form"].initial["name"] == NIGHT_SHIFTS
    response = run_on_commit(admin.post, f"/console/themes/{theme.pk}/", {"name": "Nachtdiensten"})
    assert response.status_code == 302
    assert _catalogue(cast.acme) == [(theme.code, "Nachtdiensten", False, True)]
    assert _themes_in(cast.a1) == {theme.code: ("Nachtdiensten", True)}
    assert _themes_in(cast.a2) == {theme.code: ("Nachtdiensten", True)}
    assert _themes_in(cast.b1) == {}
    with tenant_context(cast.a1):
        assert [str(t) for t in Case.objects.get(pk=case.pk).themes.all()] == ["Nachtdiensten"]
        assert board_selectors.labels_current()["themes"][theme.code] == "Nachtdiensten"


def test_renaming_only_the_case_of_letters_is_allowed(cast, run_on_commit):
    theme = _add(cast, run_on_commit)
    renamed = run_on_commit(
        themes.firm_theme_rename,
        actor=Operator("test"),
        firm=cast.acme,
        theme=theme,
        name=NIGHT_SHIFTS.upper(),
    )
    assert (renamed.code, renamed.name) == (theme.code, NIGHT_SHIFTS.upper())


def test_hiding_and_offering_again_reaches_every_client_schema(cast, run_on_commit, admin):
    theme = _add(cast, run_on_commit)
    response = run_on_commit(admin.post, f"/console/themes/{theme.pk}/hide/")
    assert response.status_code == 302
    assert _catalogue(cast.acme) == [(theme.code, NIGHT_SHIFTS, False, False)]
    assert _themes_in(cast.a1) == _themes_in(cast.a2) == {theme.code: (NIGHT_SHIFTS, False)}
    again = run_on_commit(admin.post, f"/console/themes/{theme.pk}/hide/")  # double submit
    assert again.status_code == 302
    assert _catalogue(cast.acme) == [(theme.code, NIGHT_SHIFTS, False, False)]
    run_on_commit(admin.post, f"/console/themes/{theme.pk}/show/")
    assert _themes_in(cast.a1) == _themes_in(cast.a2) == {theme.code: (NIGHT_SHIFTS, True)}
    assert _themes_in(cast.b1) == {}


def test_a_standard_theme_can_be_hidden_for_one_firm_but_not_renamed(cast, run_on_commit, admin):
    response = run_on_commit(admin.post, "/console/themes/standard/threats/hide/")
    assert response.status_code == 302
    assert _catalogue(cast.acme) == [("threats", "", True, False)]
    assert (_standard_active(cast.a1, "threats"), _standard_active(cast.a2, "threats")) == (
        False,
        False,
    )
    assert _standard_active(cast.b1, "threats") is True
    with tenant_context(cast.a1):
        assert Theme.objects.get(code="threats").name == "Threats"  # name untouched
    run_on_commit(admin.post, "/console/themes/standard/threats/show/")
    assert _standard_active(cast.a1, "threats") is True
    assert _catalogue(cast.acme) == [("threats", "", True, True)]
    with pytest.raises(ValidationError):  # standard themes have no rename form and no id URL
        themes.firm_theme_rename(
            actor=Operator("test"),
            firm=cast.acme,
            theme=FirmTheme.objects.get(firm=cast.acme),
            name="Dreigen",
        )
    standard_row = FirmTheme.objects.get(firm=cast.acme, code="threats")
    assert admin.get(f"/console/themes/{standard_row.pk}/").status_code == 404


def test_the_last_offered_theme_cannot_be_hidden(cast, run_on_commit):
    codes = list(STANDARD_THEMES)
    for code in codes[:-1]:
        themes.standard_theme_set_active(
            actor=Operator("test"), firm=cast.acme, code=code, active=False
        )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        themes.standard_theme_set_active(
            actor=Operator("test"), firm=cast.acme, code=codes[-1], active=False
        )
    assert refused.value.messages == ["At least one theme must stay available for new cases."]
    assert FirmTheme.objects.filter(firm=cast.acme, is_active=False).count() == len(codes) - 1


def test_a_new_client_gets_the_firms_themes(cast, run_on_commit):
    theme = _add(cast, run_on_commit)
    hidden = _add(cast, run_on_commit, name="Oud thema")
    themes.firm_theme_set_active(actor=Operator("test"), firm=cast.acme, theme=hidden, active=False)
    themes.standard_theme_set_active(
        actor=Operator("test"), firm=cast.acme, code="conflict", active=False
    )
    client = services.client_create(
        actor=Operator("test"),
        firm=cast.acme,
        slug="a3",
        name="Scholengroep Oost",
        employee_count=80,
    )
    assert _themes_in(client) == {
        theme.code: (NIGHT_SHIFTS, True),
        hidden.code: ("Oud thema", False),
    }
    assert _standard_active(client, "conflict") is False
    assert _standard_active(client, "bullying") is True
    other = services.client_create(
        actor=Operator("test"), firm=cast.bravo, slug="b2", name="Bravo twee", employee_count=8
    )
    assert _themes_in(other) == {}
    assert _standard_active(other, "conflict") is True


def test_the_fan_out_covers_suspended_clients_and_skips_offboarded_ones(cast):
    themes.firm_theme_add(
        actor=Operator("test"), firm=cast.acme, name=NIGHT_SHIFTS
    )  # on_commit not run: nothing applied
    services.client_update(
        actor=Operator("test"), client=cast.a2, status=ClientOrganisation.Status.SUSPENDED
    )
    assert themes_dispatch.apply(args=[cast.acme.pk]).get() == 2
    assert set(_themes_in(cast.a2)) == {"own_werkdruk_in_de_nachtdienst"}
    services.client_offboard(actor=Operator("test"), client=cast.a2)
    assert themes_dispatch.apply(args=[cast.acme.pk]).get() == 1


def test_applying_twice_changes_nothing_the_second_time(cast):
    themes.firm_theme_add(actor=Operator("test"), firm=cast.acme, name=NIGHT_SHIFTS)
    with tenant_context(cast.a1):
        assert themes.theme_catalogue_apply(firm_id=cast.acme.pk) == 1
        assert themes.theme_catalogue_apply(firm_id=cast.acme.pk) == 0
    assert connection.schema_name == "public"


def test_codes_stay_unique_when_a_name_comes_back(cast, run_on_commit):
    first = _add(cast, run_on_commit, name="Pesterijen online")
    themes.firm_theme_rename(
        actor=Operator("test"), firm=cast.acme, theme=first, name="Online pesten"
    )
    second = _add(cast, run_on_commit, name="Pesterijen online!")
    emoji = _add(cast, run_on_commit, name="🙂🙂")
    assert (first.code, second.code, emoji.code) == (
        "own_pesterijen_online",
        "own_pesterijen_online_2",
        "own_theme",
    )


# --- case forms and reports ----------------------------------------------------------------------


def _offered(cast, browser: Client) -> set[str]:
    """Codes of the themes the registration form on a1's host offers."""
    form = browser.get("/cases/new/").context["form"]
    with tenant_context(cast.a1):
        return {theme.code for theme in form.fields["themes"].queryset}


def test_case_forms_offer_active_themes_only_and_cases_keep_hidden_ones(cast, run_on_commit):
    theme = _add(cast, run_on_commit)
    adviser = Client(HTTP_HOST=cast.host(cast.a1))
    sign_in(adviser, cast.adviser_a)
    assert theme.code in _offered(cast, adviser)
    with tenant_context(cast.a1):
        own = Theme.objects.get(code=theme.code)
        case = case_services.case_open(
            actor=cast.adviser_a,
            case_type="undesirable_behaviour",
            themes=[own, Theme.objects.get(code="threats")],
            reporter_role="employee",
            accused_relation="manager",
            channel="phone",
        )
    run_on_commit(
        themes.firm_theme_set_active,
        actor=Operator("test"),
        firm=cast.acme,
        theme=theme,
        active=False,
    )
    run_on_commit(
        themes.standard_theme_set_active,
        actor=Operator("test"),
        firm=cast.acme,
        code="threats",
        active=False,
    )

    assert {theme.code, "threats"} & _offered(cast, adviser) == set()
    with tenant_context(cast.a1):
        refused = Theme.objects.get(code=theme.code)
        with pytest.raises(ValidationError) as error:
            case_services.case_open(
                actor=cast.adviser_a,
                case_type="undesirable_behaviour",
                themes=[refused],
                reporter_role="employee",
                accused_relation="manager",
                channel="phone",
            )
        assert "themes" in error.value.message_dict
        case = Case.objects.get(pk=case.pk)
        assert sorted(t.code for t in case.themes.all()) == sorted([theme.code, "threats"])

    # The edit form still shows the case's hidden themes, ticked; saving keeps them.
    edit = adviser.get(f"/cases/{case.reference}/edit/")
    with tenant_context(cast.a1):
        labels = {
            str(choice.choice_label): choice.data["selected"]
            for choice in edit.context["form"]["themes"]
        }
    assert labels[f"{NIGHT_SHIFTS} (niet meer aangeboden)"] is True
    assert labels["Bedreiging (niet meer aangeboden)"] is True
    assert "Conflict (niet meer aangeboden)" not in labels
    with tenant_context(cast.a1):
        initial = CaseEditForm.initial_for(case)
    data = {key: ("" if value is None else value) for key, value in initial.items()}
    data["version"] = case.version
    data["reporter_gender"] = data["reporter_gender"] or ""
    saved = adviser.post(f"/cases/{case.reference}/edit/", data)
    assert saved.status_code == 302, saved.context["form"].errors
    with tenant_context(cast.a1):
        assert sorted(t.code for t in case.themes.all()) == sorted([theme.code, "threats"])
        # ... and may drop one, but not add another hidden theme.
        case_services.case_update(
            actor=cast.adviser_a,
            case=case,
            expected_version=Case.objects.get(pk=case.pk).version,
            themes=[Theme.objects.get(code=theme.code)],
        )
        with pytest.raises(ValidationError) as error:
            case_services.case_update(
                actor=cast.adviser_a,
                case=Case.objects.get(pk=case.pk),
                expected_version=Case.objects.get(pk=case.pk).version,
                themes=[Theme.objects.get(code="threats")],
            )
        assert "themes" in error.value.message_dict


def test_the_console_registration_offers_the_firms_active_themes(cast, run_on_commit):
    theme = _add(cast, run_on_commit)
    run_on_commit(
        themes.standard_theme_set_active,
        actor=Operator("test"),
        firm=cast.acme,
        code="threats",
        active=False,
    )
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    page = console.get("/console/cases/new/")
    choices = dict(page.context["form"].fields["themes"].choices)
    assert choices[theme.code] == NIGHT_SHIFTS
    assert "threats" not in choices and choices["bullying"] == "Pesten"
    data = {
        "submission_key": str(page.context["form"].initial["submission_key"]),
        "client": cast.a1.pk,
        "channel": "chat",
        "case_type": "undesirable_behaviour",
        "themes": [theme.code],
        "reporter_role": "employee",
        "accused_relation": "colleague",
        "opened_on": page.context["form"].initial["opened_on"].isoformat(),
    }
    response = console.post("/console/cases/new/", data)
    assert response.status_code == 302
    with tenant_context(cast.a1):
        case = Case.objects.order_by("-pk").first()
        assert [t.code for t in case.themes.all()] == [theme.code]
    hidden = console.post(
        "/console/cases/new/", data | {"themes": ["threats"], "submission_key": str(uuid.uuid4())}
    )
    assert hidden.status_code == 200 and "themes" in hidden.context["form"].errors


def test_reports_list_every_theme_of_the_catalogue_hidden_ones_too(cast, run_on_commit):
    theme = _add(cast, run_on_commit)
    unused = _add(cast, run_on_commit, name="Nooit gebruikt")
    with tenant_context(cast.a1):
        version_before = board_selectors.data_version_current()
        assert {theme.code, unused.code} <= set(board_selectors.vocabulary_current().theme)
        case_services.case_open(
            actor=cast.adviser_a,
            case_type="undesirable_behaviour",
            themes=list(Theme.objects.filter(code=theme.code)),
            reporter_role="employee",
            accused_relation="manager",
            channel="phone",
        )
    for hidden in (theme, unused):
        run_on_commit(
            themes.firm_theme_set_active,
            actor=Operator("test"),
            firm=cast.acme,
            theme=hidden,
            active=False,
        )
    run_on_commit(
        themes.firm_theme_rename,
        actor=Operator("test"),
        firm=cast.acme,
        theme=theme,
        name="Nachtwerk",
    )
    with tenant_context(cast.a1):
        vocabulary = board_selectors.vocabulary_current().theme
        # Hidden themes keep their rows whether or not a case has them: a row that stayed only
        # while a case had the theme would say "at least one" by being there.
        assert theme.code in vocabulary
        assert unused.code in vocabulary
        assert board_selectors.labels_current()["themes"][theme.code] == "Nachtwerk"
        # The dashboard's cache follows theme changes, not only case changes.
        assert board_selectors.data_version_current() != version_before
    labels = firm_theme_labels(firm=cast.acme)
    assert (labels[theme.code], labels[unused.code]) == ("Nachtwerk", "Nooit gebruikt")
    assert theme.code not in firm_theme_labels(firm=cast.bravo)


# --- bad input -----------------------------------------------------------------------------------

DUTCH_ERRORS = {
    "": "Vul een naam voor het thema in.",
    "   \t ": "Vul een naam voor het thema in.",
    "x" * 10_000: "Een naam mag hooguit 80 tekens hebben; deze heeft er 10.000.",
    "Pesten": "“Pesten” is de naam van een standaardthema; gebruik dat thema of kies een andere naam.",
    "sexual  HARASSMENT": "“sexual HARASSMENT” is de naam van een standaardthema; gebruik dat thema "
    "of kies een andere naam.",
    "werkdruk IN de nachtdienst": "Het adviesbureau heeft al een thema “werkdruk IN de nachtdienst”.",
    "Pesten\u200bonline": "Verwijder de onzichtbare tekens of stuurtekens.",
    "Pesten\x07": "Verwijder de onzichtbare tekens of stuurtekens.",
}


@pytest.mark.parametrize("name", list(DUTCH_ERRORS), ids=range(len(DUTCH_ERRORS)))
def test_bad_names_are_refused_in_dutch_and_change_nothing(cast, run_on_commit, admin, name):
    _add(cast, run_on_commit)
    before = _catalogue(cast.acme), _themes_in(cast.a1)
    response = run_on_commit(_post_add, admin, name)
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [DUTCH_ERRORS[name]]
    assert (_catalogue(cast.acme), _themes_in(cast.a1)) == before


def test_bad_names_are_refused_in_english(cast, run_on_commit, admin_en):
    theme = _add(cast, run_on_commit)
    cases = {
        " ": "Enter a name for the theme.",
        "y" * 81: "A name can have at most 80 characters; this one has 81.",
        "Intimidatie": "“Intimidatie” is the name of a standard theme; use that one or choose "
        "another name.",
    }
    for name, message in cases.items():
        response = _post_add(admin_en, name)
        with translation.override("en"):  # the form's own messages are lazy
            assert response.context["form"].errors["name"] == [message], name
    # A NUL never reaches the form: the request guard refuses it for every form alike.
    before = _catalogue(cast.acme)
    refused = _post_add(admin_en, "a\x00b")
    assert refused.status_code == 400 and "(NUL)" in refused.content.decode()
    assert _catalogue(cast.acme) == before
    themes.firm_theme_set_active(actor=Operator("test"), firm=cast.acme, theme=theme, active=False)
    response = _post_add(admin_en, NIGHT_SHIFTS.lower())
    assert response.context["form"].errors["name"] == [
        f"Your firm already has a hidden theme called “{NIGHT_SHIFTS.lower()}”; "
        "offer it again instead."
    ]
    renamed = admin_en.post(f"/console/themes/{theme.pk}/", {"name": "Bullying"})
    assert renamed.context["form"].errors["name"] == [
        "“Bullying” is the name of a standard theme; use that one or choose another name."
    ]
    assert _catalogue(cast.acme) == [(theme.code, NIGHT_SHIFTS, False, False)]


def test_a_name_at_the_limit_is_accepted(cast, run_on_commit, admin):
    response = run_on_commit(_post_add, admin, "z" * 80)
    assert response.status_code == 302
    assert _themes_in(cast.a1) == {"own_" + "z" * 30: ("z" * 80, True)}


def test_html_in_a_name_is_kept_as_text_and_shown_escaped(cast, run_on_commit, admin):
    script = '<script>alert("x")</script>'
    response = run_on_commit(_post_add, admin, script)
    assert response.status_code == 302
    theme = FirmTheme.objects.get(firm=cast.acme, is_standard=False)
    assert (theme.name, theme.code) == (script, "own_scriptalertxscript")
    page = admin.get("/console/themes/").content.decode()
    assert script not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    adviser = Client(HTTP_HOST=cast.host(cast.a1))
    sign_in(adviser, cast.adviser_a)
    form_page = adviser.get("/cases/new/").content.decode()
    assert script not in form_page and "&lt;script&gt;" in form_page


def test_a_double_submit_adds_one_theme(cast, run_on_commit, admin):
    key = str(uuid.uuid4())
    first = run_on_commit(_post_add, admin, NIGHT_SHIFTS, key)
    second = run_on_commit(_post_add, admin, NIGHT_SHIFTS, key)
    assert (first.status_code, second.status_code) == (302, 302)
    assert FirmTheme.objects.filter(firm=cast.acme).count() == 1
    assert len(_themes_in(cast.a1)) == 1
    assert "was al toegevoegd" in admin.get("/console/themes/").content.decode()
    # Another firm reusing the key adds its own theme and learns nothing about acme's.
    bravo = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(bravo, cast.admin_b)
    assert _post_add(bravo, "Iets anders", key).status_code == 302
    assert [name for _c, name, *_ in _catalogue(cast.bravo)] == ["Iets anders"]


@pytest.mark.parametrize("action", ["", "hide/", "show/"])
def test_another_firms_or_an_unknown_theme_id_is_404_and_changes_nothing(
    cast, run_on_commit, admin, action
):
    foreign = _add(cast, run_on_commit, name="Van bravo", firm=cast.bravo)
    before = _catalogue(cast.bravo), _themes_in(cast.b1)
    for theme_id in (foreign.pk, 999_999_999):
        response = run_on_commit(
            admin.post, f"/console/themes/{theme_id}/{action}", {"name": "Overgenomen"}
        )
        assert response.status_code == 404
        if not action:
            assert admin.get(f"/console/themes/{theme_id}/").status_code == 404
    assert (_catalogue(cast.bravo), _themes_in(cast.b1)) == before
    assert _catalogue(cast.acme) == []


def test_an_unknown_standard_code_is_404(cast, admin):
    for code in ("nonsense", "own_werkdruk"):
        assert admin.post(f"/console/themes/standard/{code}/hide/").status_code == 404
    assert FirmTheme.objects.count() == 0


def test_posts_by_people_who_are_not_the_firms_admin_change_nothing(cast, run_on_commit):
    theme = _add(cast, run_on_commit)
    before = _catalogue(cast.acme), _themes_in(cast.a1)
    posts = [
        ("/console/themes/", {"name": "Ingebroken"}),
        (f"/console/themes/{theme.pk}/", {"name": "Ingebroken"}),
        (f"/console/themes/{theme.pk}/hide/", {}),
        ("/console/themes/standard/bullying/hide/", {}),
    ]
    for visitor in ("anonymous", "adviser_a", "contact_a1", "internal_a1", "admin_b"):
        browser = Client(HTTP_HOST=settings.BASE_DOMAIN)
        if visitor != "anonymous":
            sign_in(browser, cast.users[visitor])
        # bravo's admin may add and hide themes of bravo; only acme's theme is out of reach.
        for path, data in posts[1:3] if visitor == "admin_b" else posts:
            response = run_on_commit(browser.post, path, data)
            assert response.status_code in (302, 404), (visitor, path)
            if response.status_code == 302:
                assert "/accounts/login/" in response["Location"]
    assert (_catalogue(cast.acme), _themes_in(cast.a1)) == before
    assert _standard_active(cast.a1, "bullying") is True


# --- a client created while a theme change is under way (committed data, two connections) ------


def test_a_client_created_during_a_theme_change_gets_the_change(committed_db, monkeypatch):
    """The creation waits for the change's lock, then reads the changed catalogue: without the
    lock it would read the old one, and the change's dispatch would not list it yet."""
    from django.db import transaction

    from tenants.models import Domain, Firm

    # The cast's schemas are committed and shared by every test: leave them alone here.
    monkeypatch.setattr(themes, "_apply_everywhere_on_commit", lambda firm_id: None)
    firm = Firm.objects.get(slug="acme")
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'c_')")
        schemas_before = {name for (name,) in cursor.fetchall()}
    added, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}
    creator_pid: list[int] = []

    def change() -> None:
        try:
            with transaction.atomic():
                outcomes["theme"] = themes.firm_theme_add(
                    actor=Operator("test"), firm=firm, name="Gelijktijdig"
                )
                added.set()
                release.wait(timeout=30)
        except Exception as error:
            outcomes["theme"] = error
            added.set()
        finally:
            connection.close()

    def create() -> None:
        try:
            connection.ensure_connection()
            creator_pid.append(connection.connection.info.backend_pid)
            added.wait(timeout=30)
            outcomes["client"] = services.client_create(
                actor=Operator("test"),
                firm=firm,
                slug="conc-theme",
                name="Gelijktijdig",
                employee_count=5,
            )
        except Exception as error:
            outcomes["client"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=change), threading.Thread(target=create)]
    try:
        for thread in threads:
            thread.start()
        waiting = waits_for_lock(creator_pid, advisory=True)
        release.set()
        for thread in threads:
            thread.join(timeout=60)

        assert waiting, "the creation never waited for the theme change"
        client = outcomes["client"]
        assert isinstance(client, ClientOrganisation), client
        assert _themes_in(client) == {"own_gelijktijdig": ("Gelijktijdig", True)}
    finally:
        release.set()
        for client in ClientOrganisation.objects.filter(firm=firm, slug="conc-theme"):
            for domain in Domain.objects.filter(tenant=client):
                domain.delete()
            client.delete()
        FirmTheme.objects.filter(firm=firm).delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'c_')")
            for (schema,) in cursor.fetchall():
                if schema not in schemas_before:
                    cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
        connection.close()
