"""A firm signs itself up on the base host: one firm and admin, the invitation, the trial, and
no way to learn whether an address has an account, to flood an inbox or to create firms in bulk."""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import dateformat, timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from billing import selectors as billing_selectors
from billing.models import FirmSubscription
from signup import services
from signup.models import FirmSignup
from tenants.models import Firm, FirmMembership
from tests.cast import sign_in
from tests.test_saas_settings import ROOT, _production_env

URL = "/signup/"
GOOD = {
    "firm_name": "Bureau Vertrouwen & Zo",
    "slug": "bureau-vz",
    "full_name": "Anne de Vries",
    "email": "anne@bureau-vz.test",
    "accept_terms": "on",
}


@pytest.fixture
def signup_open(settings):
    settings.SIGNUP_OPEN = True
    settings.SIGNUP_TERMS_URL = "https://vertrouwd.example/terms-2026-01.pdf"
    return settings


@pytest.fixture
def post(console, django_capture_on_commit_callbacks):
    """POST the sign-up form on the console host, running what waits for the commit (e-mail)."""

    def send(data: dict, http: Client | None = None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return (http or console).post(URL, data, **extra)

    return send


def _state() -> tuple:
    return (
        Firm.objects.count(),
        User.objects.count(),
        FirmMembership.objects.count(),
        FirmSignup.objects.count(),
        FirmSubscription.objects.count(),
    )


def _errors(response) -> str:
    """The page's error texts, tags removed."""
    body = response.content.decode()
    blocks = re.findall(r'<div class="(?:error|form-errors)"[^>]*>(.*?)</div>', body, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", block) for block in blocks)


# ---------------------------------------------------------------- the page


def test_page_is_dutch_and_shows_the_future_address(cast, console, signup_open):
    response = console.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Start uw adviesbureau op Vertrouwd · Vertrouwd</title>" in body
    assert (
        f'<code><span>klant</span>.<span data-slug-preview data-placeholder="korte-naam">korte-naam</span>.{django_settings.BASE_DOMAIN}</code>'
        in body
    )
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'name="website"' in body and 'tabindex="-1"' in body  # the honeypot
    assert 'href="https://vertrouwd.example/terms-2026-01.pdf"' in body
    assert "Probeer alles 30 dagen gratis" in body


def test_sign_in_page_links_to_sign_up_only_when_open(cast, console, settings):
    settings.SIGNUP_OPEN = False
    assert 'href="/signup/"' not in console.get("/accounts/login/").content.decode()
    settings.SIGNUP_OPEN = True
    assert 'href="/signup/"' in console.get("/accounts/login/").content.decode()


def test_closed_sign_up_says_so_and_creates_nothing(cast, console, post, settings):
    settings.SIGNUP_OPEN = False
    before = _state()

    page = console.get(URL)
    response = post(GOOD)

    assert page.status_code == 200 and "Aanmelden is gesloten" in page.content.decode()
    assert response.status_code == 200 and "Aanmelden is gesloten" in response.content.decode()
    assert _state() == before
    assert mail.outbox == []


def test_signed_in_people_are_sent_home(cast, console, signup_open):
    sign_in(console, cast.admin_a)

    response = console.get(URL)

    assert response.status_code == 302 and response["Location"] == "/"


# ---------------------------------------------------------------- the happy path


def test_sign_up_creates_the_firm_its_admin_and_the_trial_and_sends_the_invitation(
    cast, console, post, signup_open
):
    before = timezone.now()

    response = post(GOOD)

    assert response.status_code == 302 and response["Location"] == "/signup/sent/"
    firm = Firm.objects.get(slug="bureau-vz")
    assert firm.name == "Bureau Vertrouwen & Zo"
    admin = User.objects.get(email="anne@bureau-vz.test")
    assert admin.full_name == "Anne de Vries"
    assert admin.language == "nl"
    assert not admin.has_usable_password()
    assert list(FirmMembership.objects.filter(user=admin).values_list("firm", "role")) == [
        (firm.pk, "firm_admin")
    ]
    signup = FirmSignup.objects.get(firm=firm)
    assert signup.accepted_by == admin
    assert signup.terms_url == "https://vertrouwd.example/terms-2026-01.pdf"
    assert before <= signup.terms_accepted_at <= timezone.now()
    subscription = FirmSubscription.objects.get(firm=firm)
    assert subscription.status == "trialing" and subscription.stripe_subscription_id == ""
    assert subscription.trial_ends_at == firm.created_at + datetime.timedelta(days=30)
    [message] = mail.outbox
    assert message.to == ["anne@bureau-vz.test"]
    assert "/accounts/invitation/" in message.body
    assert "Bureau" not in message.body + message.subject  # no text the visitor typed
    sent = console.get(response["Location"])
    assert sent.status_code == 200 and "Kijk in uw e-mail" in sent.content.decode()


def test_the_invitation_leads_to_a_password_and_then_two_factor_enrolment(
    cast, console, post, signup_open
):
    post(GOOD)
    link = re.search(r"http://\S+/accounts/invitation/\S+/\S+/", mail.outbox[0].body).group(0)
    form_page = console.get(link.split(django_settings.BASE_DOMAIN, 1)[1], follow=True)
    password = "a long new passphrase 42"

    console.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    signed_in = console.post(
        "/accounts/login/", {"username": "anne@bureau-vz.test", "password": password}
    )

    assert signed_in.status_code == 302
    assert signed_in["Location"].startswith("/accounts/2fa/setup/")


def test_short_name_is_suggested_from_the_name_when_left_empty(cast, post, signup_open):
    response = post({**GOOD, "slug": "", "firm_name": "Vertrouwenspersonen Één & Co"})

    assert response.status_code == 302
    assert Firm.objects.get(slug="vertrouwenspersonen-een-co").name == (
        "Vertrouwenspersonen Één & Co"
    )


def test_billing_page_shows_the_trial_end_and_the_name_escaped(cast, console, post, signup_open):
    post({**GOOD, "firm_name": "<script>alert(1)</script> Bureau"})
    firm = Firm.objects.get(slug="bureau-vz")
    assert firm.name == "<script>alert(1)</script> Bureau"  # stored as typed, shown escaped
    admin = User.objects.get(email="anne@bureau-vz.test")
    TOTPDevice.objects.create(user=admin, name="test", confirmed=True)
    sign_in(console, admin)

    body = console.get("/billing/").content.decode()

    ends = timezone.localtime(firm.created_at + datetime.timedelta(days=30))
    with translation.override("nl"):
        shown = dateformat.format(ends, "j F Y")
    assert re.search(rf"<dt>Proefperiode tot</dt><dd>{shown}</dd>", body), shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bureau" in body
    assert "<script>alert(1)</script>" not in body


def test_the_fixed_trial_end_decides_access(cast, post, signup_open, settings):
    post(GOOD)
    firm = Firm.objects.get(slug="bureau-vz")
    FirmSubscription.objects.filter(firm=firm).update(
        trial_ends_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    state = billing_selectors.access_state(firm_id=firm.pk)

    assert (state.mode, state.status) == ("read_only", "trial_expired")
    settings.BILLING_TRIAL_DAYS = 1000  # a later change of the setting does not move a fixed end
    assert billing_selectors.access_state(firm_id=firm.pk).read_only


# ---------------------------------------------------------------- bad input

LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("change", "field", "dutch"),
    [
        ({"firm_name": ""}, "firm_name", "Vul de naam van uw adviesbureau in."),
        ({"firm_name": "   "}, "firm_name", "Vul de naam van uw adviesbureau in."),
        ({"firm_name": LONG}, "firm_name", "niet meer dan 200 tekens"),
        ({"firm_name": "Bureau\u200bNul"}, "firm_name", "onzichtbare tekens"),
        ({"full_name": ""}, "full_name", "Vul uw volledige naam in."),
        ({"full_name": " \t "}, "full_name", "Vul uw volledige naam in."),
        ({"full_name": LONG}, "full_name", "niet meer dan 150 tekens"),
        ({"email": ""}, "email", "Vul uw e-mailadres in."),
        ({"email": "not-an-address"}, "email", "Vul een geldig e-mailadres in."),
        ({"email": "<script>@x.test"}, "email", "Vul een geldig e-mailadres in."),
        ({"email": LONG + "@x.test"}, "email", "niet meer dan 254 tekens"),
        ({"slug": "Not Valid!"}, "slug", "2 tot 40"),
        ({"slug": "-bureau"}, "slug", "2 tot 40"),
        ({"slug": "x"}, "slug", "2 tot 40"),
        ({"slug": LONG}, "slug", "niet meer dan 40 tekens"),
        ({"slug": "acme"}, "slug", "is al in gebruik"),
        ({"slug": "ACME "}, "slug", "is al in gebruik"),
        ({"slug": "www"}, "slug", "is gereserveerd"),
        ({"slug": "admin"}, "slug", "is gereserveerd"),
        ({"slug": "api"}, "slug", "is gereserveerd"),
        ({"slug": "", "firm_name": "!!!"}, "slug", "2 tot 40"),
        ({"slug": "", "firm_name": "Admin"}, "slug", "is gereserveerd"),
        ({"accept_terms": ""}, "accept_terms", "Accepteer de voorwaarden"),
    ],
)
def test_bad_input_is_refused_in_dutch_and_changes_nothing(
    cast, post, signup_open, change, field, dutch
):
    before = _state()

    response = post({key: value for key, value in {**GOOD, **change}.items() if value != ""})

    assert response.status_code == 400
    assert dutch in _errors(response), _errors(response)
    assert _state() == before
    assert mail.outbox == []


def test_errors_are_english_for_english_visitors(cast, console, post, signup_open):
    console.cookies.load({django_settings.LANGUAGE_COOKIE_NAME: "en"})

    response = post({**GOOD, "slug": "www", "accept_terms": "", "email": "nope"})

    errors = _errors(response)
    assert "“www” is reserved." in errors
    assert "Enter a valid e-mail address." in errors
    assert "Accept the terms and the processing agreement to continue." in errors


def test_html_in_the_form_comes_back_escaped(cast, post, signup_open):
    response = post({**GOOD, "firm_name": "<script>alert(1)</script>", "accept_terms": ""})

    body = response.content.decode()
    assert response.status_code == 400
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)</script>" not in body


def test_a_refused_suggestion_is_shown_for_editing(cast, post, signup_open):
    response = post({**GOOD, "slug": "", "firm_name": "Acme"})

    assert response.status_code == 400
    assert 'name="slug" value="acme"' in response.content.decode()


# ---------------------------------------------------------------- abuse


def test_double_submit_creates_one_firm_and_sends_one_email(cast, post, signup_open):
    key = str(uuid.uuid4())

    first = post({**GOOD, "submission_key": key})
    second = post({**GOOD, "submission_key": key})

    assert first.status_code == second.status_code == 302
    assert second["Location"] == "/signup/sent/"
    assert Firm.objects.filter(slug="bureau-vz").count() == 1
    assert FirmSignup.objects.filter(submission_key=key).count() == 1
    assert len(mail.outbox) == 1


def test_an_address_with_an_account_gets_the_same_page_and_one_notice(
    cast, console, post, signup_open
):
    before = _state()

    first = post({**GOOD, "email": "ADVISER@acme.test"})
    second = post({**GOOD, "email": "adviser@acme.test", "slug": "other-firm"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == "/signup/sent/"
    assert _state() == before
    assert not FirmMembership.objects.filter(user=cast.adviser_a, role="firm_admin").exists()
    [notice] = mail.outbox  # one per window, however often it is tried
    assert notice.to == ["adviser@acme.test"]
    assert notice.subject == "Iemand probeerde zich aan te melden met uw adres"
    assert f"http://{django_settings.BASE_DOMAIN}/accounts/login/" in notice.body
    assert "/accounts/invitation/" not in notice.body
    assert "Bureau" not in notice.body


def test_an_address_whose_invitation_was_never_accepted_gets_a_new_link(cast, post, signup_open):
    post(GOOD)
    mail.outbox.clear()

    response = post({**GOOD, "slug": "second-try", "submission_key": str(uuid.uuid4())})

    assert response["Location"] == "/signup/sent/"
    assert not Firm.objects.filter(slug="second-try").exists()
    [notice] = mail.outbox
    assert "/accounts/invitation/" in notice.body


def test_a_taken_short_name_reads_the_same_for_known_and_unknown_addresses(cast, post, signup_open):
    known = post({**GOOD, "slug": "acme", "email": "adviser@acme.test"})
    unknown = post({**GOOD, "slug": "acme", "email": "nobody@new.test"})

    assert known.status_code == unknown.status_code == 400
    assert _errors(known) == _errors(unknown)
    assert mail.outbox == []


def test_a_filled_honeypot_looks_like_success_and_does_nothing(cast, post, signup_open):
    before = _state()

    response = post({**GOOD, "website": "http://spam.example/"})

    assert response.status_code == 302 and response["Location"] == "/signup/sent/"
    assert _state() == before
    assert mail.outbox == []


def test_too_many_sign_ups_from_one_address(cast, post, signup_open, settings):
    settings.SIGNUP_ATTEMPTS_PER_ADDRESS = 2
    for number in range(2):
        post({**GOOD, "slug": f"firm-{number}", "email": f"owner{number}@firm.test"})

    response = post({**GOOD, "slug": "firm-2", "email": "owner2@firm.test"})

    assert response.status_code == 400
    assert "Te veel aanmeldingen. Wacht 60 minuten" in _errors(response)
    assert not Firm.objects.filter(slug="firm-2").exists()
    assert Firm.objects.filter(slug__in=["firm-0", "firm-1"]).count() == 2
    # Another address is not blocked.
    other = post({**GOOD, "slug": "firm-3", "email": "owner3@firm.test"}, REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 302 and Firm.objects.filter(slug="firm-3").exists()


def test_too_many_sign_ups_for_one_email_address(cast, post, signup_open, settings):
    settings.SIGNUP_ATTEMPTS_PER_EMAIL = 2
    for number in range(2):
        post({**GOOD, "email": "adviser@acme.test"}, REMOTE_ADDR=f"10.0.0.{number}")

    response = post({**GOOD, "email": "adviser@acme.test"}, REMOTE_ADDR="10.0.0.9")

    assert response.status_code == 400
    assert "Te veel aanmeldingen" in _errors(response)


def test_sign_ups_do_not_use_up_the_sign_in_limit(cast, console, post, signup_open, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    for number in range(3):
        post({**GOOD, "slug": f"firm-{number}", "email": f"owner{number}@firm.test"})

    console.post("/accounts/login/", {"username": "adviser@acme.test", "password": "x"})
    response = console.post(
        "/accounts/login/",
        {"username": "adviser@acme.test", "password": "correct horse battery staple"},
    )

    assert response.status_code == 302


def test_a_post_without_the_csrf_token_is_refused(cast, signup_open):
    http = Client(HTTP_HOST=django_settings.BASE_DOMAIN, enforce_csrf_checks=True)
    before = _state()

    response = http.post(URL, GOOD)

    assert response.status_code == 403
    assert _state() == before


# ---------------------------------------------------------------- the service


def test_service_refuses_without_consent_and_changes_nothing(cast, signup_open):
    before = _state()

    with pytest.raises(ValidationError) as refused:
        services.firm_signup(
            firm_name="Bureau",
            slug="bureau",
            full_name="Anne",
            email="anne@bureau.test",
            terms_accepted=False,
            language="nl",
        )

    assert list(refused.value.error_dict) == ["accept_terms"]
    assert _state() == before


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Bureau Vertrouwen & Zo", "bureau-vertrouwen-zo"),
        ("  Één   Twee  ", "een-twee"),
        ("Z" * 60, "z" * 40),
        ("a" * 39 + " b", "a" * 39),
        ("日本", ""),
    ],
)
def test_slug_suggestion(name, slug):
    assert services.slug_suggest(name) == slug


def test_production_refuses_open_sign_up_without_terms():
    environment = {**_production_env(), "SIGNUP_OPEN": "1"}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SIGNUP_TERMS_URL" in result.stderr
