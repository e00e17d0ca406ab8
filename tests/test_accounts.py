"""Sign-in, rate limits, second factor (enrolment, check, backup codes), reset and invitations."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tenants.models import ClientMembership
from tests.cast import PASSWORD, sign_in


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _signed_in_user_id(http: Client) -> str | None:
    return http.session.get("_auth_user_id")


def test_sign_in_sends_a_user_with_a_device_to_the_second_factor(cast, console):
    next_url = f"http://{cast.host(cast.a1)}/"
    response = console.post(
        "/accounts/login/",
        {"username": "ADVISER@acme.test", "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/verify/?next=http")
    # Signed in with the password only: data pages still send the user to the check.
    assert console.get("/console/")["Location"].startswith(
        f"http://{settings.BASE_DOMAIN}/accounts/2fa/verify/"
    )


def test_second_factor_then_next_page_on_the_client_host(cast, console):
    console.post("/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=cast.adviser_a)
    next_url = f"http://{cast.host(cast.a1)}/"
    response = console.post("/accounts/2fa/verify/", {"token": _code(device), "next": next_url})
    assert response.status_code == 302 and response["Location"] == next_url
    assert console.get("/console/").status_code == 200


def test_wrong_password_is_refused_and_rate_limited(cast, console, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        response = console.post(
            "/accounts/login/", {"username": "adviser@acme.test", "password": "wrong"}
        )
        assert response.status_code == 200
        assert _signed_in_user_id(console) is None
    # Now even the right password is refused for a while.
    response = console.post(
        "/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert _signed_in_user_id(console) is None
    assert "15" in response.content.decode()  # minutes to wait, in the message


def test_rate_limit_per_address_covers_many_accounts(cast, console, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    for number in range(4):
        console.post("/accounts/login/", {"username": f"nobody{number}@x.test", "password": "x"})
    console.post("/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD})
    assert _signed_in_user_id(console) is None


@pytest.mark.parametrize(
    "username",
    [
        "",
        "not-an-email",
        "a" * 10_000 + "@x.test",
        "<script>alert(1)</script>@x.test",
        "admin@acme.test' OR 1=1--",
    ],
)
def test_hostile_sign_in_input_is_refused_plainly(cast, console, username):
    response = console.post("/accounts/login/", {"username": username, "password": "x" * 5000})
    assert response.status_code == 200
    assert _signed_in_user_id(console) is None
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_external_next_is_ignored(cast, console):
    console.post("/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=cast.adviser_a)
    for target in [
        "https://evil.example/",
        "//evil.example/",
        "http://vertrouwd.localhost.evil.example/",
    ]:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # allow the same code again
        device.refresh_from_db()
        response = console.post("/accounts/2fa/verify/", {"token": _code(device), "next": target})
        assert response.status_code == 302
        assert not response["Location"].startswith(target)
        console.logout()
        console.post("/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD})
        device.refresh_from_db()


def test_wrong_code_is_refused_and_second_factor_is_rate_limited(cast, console, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    console.post("/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD})
    for _ in range(3):
        response = console.post("/accounts/2fa/verify/", {"token": "000000"})
        assert response.status_code == 200
    device = TOTPDevice.objects.get(user=cast.adviser_a)
    response = console.post("/accounts/2fa/verify/", {"token": _code(device)})
    assert response.status_code == 200  # blocked, even with the right code
    assert console.get("/console/").status_code == 302


def test_a_right_code_within_the_retry_delay_is_told_to_wait_not_that_it_is_wrong(cast, console):
    console.post("/accounts/login/", {"username": "adviser@acme.test", "password": PASSWORD})
    wrong = console.post("/accounts/2fa/verify/", {"token": "000000"}).content.decode()
    assert "Deze code klopt niet." in wrong
    device = TOTPDevice.objects.get(user=cast.adviser_a)
    page = console.post("/accounts/2fa/verify/", {"token": _code(device)}).content.decode()
    assert "Wacht 1 seconde voordat u opnieuw een code invoert." in page
    assert "klopt niet" not in page
    assert console.get("/console/").status_code == 302  # still not through
    # Once the delay has passed, the same right code is accepted.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    assert console.post("/accounts/2fa/verify/", {"token": _code(device)}).status_code == 302
    assert console.get("/console/").status_code == 200


def test_enrolment_is_forced_and_issues_backup_codes(cast, console):
    user = User.objects.create_user("new@acme.test", PASSWORD)
    ClientMembership.objects.create(user=user, client=cast.a1, role="contact_person")
    response = console.post("/accounts/login/", {"username": "new@acme.test", "password": PASSWORD})
    assert response["Location"].startswith("/accounts/2fa/setup/")
    page = console.get("/accounts/2fa/setup/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret_on_page = (
        re.search(r'class="secret">([A-Z2-7 ]+)<', page.content.decode()).group(1).replace(" ", "")
    )
    assert secret_on_page
    assert console.post("/accounts/2fa/setup/", {"token": "123456"}).status_code == 200
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    # django-otp throttles after a failure (1 s, doubling); the user would wait a moment.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    response = console.post("/accounts/2fa/setup/", {"token": _code(device)})
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/2fa/backup-codes/"
    )
    codes_page = console.get(response["Location"]).content.decode()
    codes = re.findall(r"<code>([0-9a-f]{8})</code>", codes_page)
    assert len(codes) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    # Codes are shown once.
    assert not re.findall(
        r"<code>([0-9a-f]{8})</code>", console.get("/accounts/2fa/backup-codes/").content.decode()
    )


def test_backup_code_works_once(cast, console):
    from accounts.services import backup_codes_regenerate

    codes = backup_codes_regenerate(user=cast.contact_a1)
    console.post("/accounts/login/", {"username": "hr@client-a1.test", "password": PASSWORD})
    assert console.post("/accounts/2fa/verify/", {"token": codes[0]}).status_code == 302
    assert StaticToken.objects.filter(device__user=cast.contact_a1).count() == 9
    console.logout()
    console.post("/accounts/login/", {"username": "hr@client-a1.test", "password": PASSWORD})
    assert console.post("/accounts/2fa/verify/", {"token": codes[0]}).status_code == 200  # used up


def test_password_reset_by_email(cast, console, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/accounts/password-reset/", {"email": "adviser@acme.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password-reset/\S+/\S+/", mail.outbox[0].body).group(0)
    assert link.startswith(f"http://{settings.BASE_DOMAIN}/")
    path = link.split(settings.BASE_DOMAIN, 1)[1]
    form_page = console.get(path, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0]
    new_password = "a new long passphrase 42"
    done = console.post(
        set_password_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    cast.adviser_a.refresh_from_db()
    assert cast.adviser_a.check_password(new_password)


def test_password_reset_for_unknown_address_looks_the_same_and_sends_nothing(
    cast, console, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = console.post("/accounts/password-reset/", {"email": "nobody@nowhere.test"})
    assert callbacks == []
    assert response.status_code == 302
    assert mail.outbox == []


def test_firm_admin_invites_a_contact_person(cast, console, django_capture_on_commit_callbacks):
    from tenants.models import RoleOffer

    sign_in(console, cast.admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            "/console/people/",
            {
                "email": "board@client-a1.test",
                "full_name": "Board Member",
                "role": "contact_person",
                "client": cast.a1.pk,
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="board@client-a1.test")
    assert not user.has_usable_password()
    # The role waits for the invited person: choosing the password accepts it.
    assert not ClientMembership.objects.filter(user=user).exists()
    assert RoleOffer.objects.filter(
        user=user, client=cast.a1, role="contact_person", made_account=True
    ).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["board@client-a1.test"]
    assert "/accounts/invitation/" in mail.outbox[0].body


@pytest.mark.parametrize(
    "data",
    [
        {"email": "x", "role": "adviser"},
        {"email": "x@y.test", "role": "contact_person"},  # client missing
        {"email": "x@y.test", "role": "pope"},
        {"email": "x@y.test" + "y" * 300, "role": "adviser"},
    ],
)
def test_bad_invitations_change_nothing(cast, console, data):
    sign_in(console, cast.admin_a)
    if data.get("client") == "a1":
        data = {**data, "client": cast.a1.pk}
    users, memberships = User.objects.count(), ClientMembership.objects.count()
    response = console.post("/console/people/", data)
    assert response.status_code == 200
    assert (User.objects.count(), ClientMembership.objects.count()) == (users, memberships)
    assert mail.outbox == []


def test_inviting_somebody_to_a_role_they_hold_answers_as_usual_and_changes_nothing(cast, console):
    from tenants.models import RoleOffer

    sign_in(console, cast.admin_a)
    data = {"email": "hr@client-a1.test", "role": "contact_person", "client": cast.a1.pk}
    before = (User.objects.count(), ClientMembership.objects.count(), RoleOffer.objects.count())
    response = console.post("/console/people/", data)
    assert response.status_code == 302
    assert (
        User.objects.count(),
        ClientMembership.objects.count(),
        RoleOffer.objects.count(),
    ) == before
    assert mail.outbox == []


def test_invitation_to_a_foreign_client_is_refused(cast, console):
    sign_in(console, cast.admin_a)
    response = console.post(
        "/console/people/", {"email": "spy@x.test", "role": "contact_person", "client": cast.b1.pk}
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="spy@x.test").exists()


def test_someone_whose_invitation_expired_can_still_choose_a_password(
    cast, console, django_capture_on_commit_callbacks
):
    from accounts.models import User

    invited = User.objects.create_user(email="late.starter@acme.test", password=None)
    assert not invited.has_usable_password()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/accounts/password-reset/", {"email": "LATE.starter@acme.test"})
    assert response.status_code == 302 and len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password-reset/\S+/\S+/", mail.outbox[0].body).group(0)
    form_page = console.get(link.split(settings.BASE_DOMAIN, 1)[1], follow=True)
    new_password = "a new long passphrase 43"
    console.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    invited.refresh_from_db()
    assert invited.check_password(new_password)


def test_an_inactive_account_gets_no_reset_mail(cast, console, django_capture_on_commit_callbacks):
    from accounts.models import User

    User.objects.create_user(email="gone@acme.test", password="x" * 20, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/accounts/password-reset/", {"email": "gone@acme.test"})
    assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.parametrize("user_key", ["contact_a1", "internal_a1"])
def test_client_people_reach_my_account_from_their_client_host(cast, user_key):
    """Contact persons and internal advisers had no way to "My account" (new backup codes)."""
    user = getattr(cast, user_key)
    here = Client(HTTP_HOST=cast.host(cast.a1))
    sign_in(here, user)
    page = here.get("/", follow=True).content.decode()
    domain = re.escape(settings.BASE_DOMAIN)
    assert re.search(
        rf'<a href="https?://{domain}(:\d+)?/accounts/preferences/">Mijn account</a>', page
    )
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, user)
    assert console.get("/accounts/preferences/").status_code == 200
    response = console.post("/accounts/2fa/backup-codes/")
    assert response.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{8})</code>", response.content.decode())
    assert len(codes) == 10
    assert StaticToken.objects.filter(device__user=user, token=codes[0]).exists()


def test_behind_the_ingress_the_limit_is_per_person_not_per_ingress(cast, console, settings):
    """All users came from the ingress's address: four wrong passwords locked everyone out."""
    settings.TRUSTED_PROXY_HOPS = 1
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    ingress = {"REMOTE_ADDR": "10.42.0.9"}
    for number in range(4):
        # The attacker also forges an entry of their own in front: it is not believed.
        console.post(
            "/accounts/login/",
            {"username": f"nobody{number}@x.test", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}, 203.0.113.66",
            **ingress,
        )
    colleague = Client(HTTP_HOST=settings.BASE_DOMAIN)
    colleague.post(
        "/accounts/login/",
        {"username": "adviser@acme.test", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.20",
        **ingress,
    )
    assert _signed_in_user_id(colleague) == str(cast.adviser_a.pk)
    # The attacker's own address is limited, whatever it writes in front.
    console.post(
        "/accounts/login/",
        {"username": "admin@acme.test", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.66",
        **ingress,
    )
    assert _signed_in_user_id(console) is None


def test_password_reset_emails_are_limited_per_address(
    cast, console, settings, django_capture_on_commit_callbacks
):
    """Anyone could fill an adviser's inbox with reset e-mails."""
    settings.PASSWORD_RESETS_PER_EMAIL = 2
    console.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _attempt in range(2):
            sent = console.post("/accounts/password-reset/", {"email": "adviser@acme.test"})
            assert sent.status_code == 302
        refused = console.post("/accounts/password-reset/", {"email": "adviser@acme.test"})
    assert refused.status_code == 200
    assert "Too many requests. Wait 60 minutes and try again." in refused.content.decode()
    assert len(mail.outbox) == 2
    # An address without an account is refused the same way: the refusal tells nothing.
    for _attempt in range(2):
        console.post("/accounts/password-reset/", {"email": "nobody@nowhere.test"})
    unknown = console.post("/accounts/password-reset/", {"email": "nobody@nowhere.test"})
    assert "Too many requests." in unknown.content.decode()


def test_a_persons_own_name_follows_the_one_name_rule(cast, console):
    """Preferences stored any text as a name: control characters, zero-width spaces."""
    sign_in(console, cast.adviser_a)
    console.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    before = User.objects.get(pk=cast.adviser_a.pk).full_name
    for name in ["Ann\x07a", "\u200b\u200b"]:
        response = console.post("/accounts/preferences/", {"language": "en", "full_name": name})
        assert response.status_code == 200
        assert "Remove the invisible or control characters." in response.content.decode()
        assert User.objects.get(pk=cast.adviser_a.pk).full_name == before
    console.post("/accounts/preferences/", {"language": "en", "full_name": "  Anna   de Vries "})
    assert User.objects.get(pk=cast.adviser_a.pk).full_name == "Anna de Vries"


def test_preferences_are_written_by_their_service_which_refuses_bad_input(cast):
    from django.core.exceptions import ValidationError

    from accounts.services import user_preferences_set

    user = User.objects.get(pk=cast.adviser_a.pk)
    before = (user.language, user.full_name)
    for language, name, field in [("de", "Anna", "language"), ("en", "An\u200bna", "full_name")]:
        with pytest.raises(ValidationError) as refused:
            user_preferences_set(user=user, language=language, full_name=name)
        assert list(refused.value.message_dict) == [field]
        stored = User.objects.get(pk=user.pk)
        assert (stored.language, stored.full_name) == before
    user_preferences_set(user=user, language="en", full_name=" Anna  de Vries ")
    stored = User.objects.get(pk=user.pk)
    assert (stored.language, stored.full_name) == ("en", "Anna de Vries")
    assert (user.language, user.full_name) == ("en", "Anna de Vries")
