"""End to end in a real headless Chromium: first sign-in, TOTP set-up, console, client host.

The app runs in Django's live-server thread on 127.0.0.1; Chromium resolves every *.localhost
name to loopback, so the console and client hosts work without touching /etc/hosts. The server
thread sees committed data only, so the test builds its own firm (tests/live.py).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django_otp.oath import TOTP

from tests.live import PASSWORD, LiveFirm, LiveServer, create_firm, remove_firm, schema_exists

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = Path(settings.BASE_DIR) / "test-results"
TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    # Checked before any fixture runs, so nothing is built for a browser that is not there.
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="chromium not installed: browser tests skipped"
    ),
]


@pytest.fixture
def chromium_page() -> Iterator:
    """A fresh page in the system's Chromium (never a downloaded one)."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield page
            context.close()
        finally:
            browser.close()


@pytest.fixture
def world(committed_db) -> Iterator[LiveFirm]:
    """A committed firm: an admin and an adviser (neither with an authenticator), two clients."""
    live = create_firm(
        clients={"own": "Zorghuis Oost", "other": "Scholengroep Noord"},
        users={"admin": ("firm_admin", None), "adviser": ("adviser", None)},
        assignments={"adviser": ["own"]},
    )
    schemas = [client.schema_name for client in live.clients.values()]
    try:
        yield live
    finally:
        remove_firm(live)
    assert not any(schema_exists(schema) for schema in schemas)


@pytest.fixture
def server(committed_db) -> Iterator[LiveServer]:
    with LiveServer() as running:
        # What saas.settings adds for PUBLIC_PORT, for this server's random port.
        port_origins = [
            f"http://{host}:{running.port}"
            for host in (settings.BASE_DOMAIN, f"*.{settings.BASE_DOMAIN}")
        ]
        with override_settings(
            CSRF_TRUSTED_ORIGINS=[*settings.CSRF_TRUSTED_ORIGINS, *port_origins]
        ):
            yield running


def _totp_now(secret_text: str) -> str:
    secret = secret_text.replace(" ", "").strip()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, step=30, digits=6).token():06d}"


def test_first_sign_in_sets_up_the_authenticator_and_reaches_the_assigned_client(
    world, server, chromium_page
):
    page = chromium_page
    RESULTS.mkdir(exist_ok=True)
    console = server.url(settings.BASE_DOMAIN)
    # No ORM calls below: Playwright's sync API runs an event loop, which Django refuses.
    own_host, other_host = world.hosts["own"], world.hosts["other"]

    # Signed out, the console sends people to the sign-in page.
    page.goto(console)
    assert page.url.startswith(server.url(settings.BASE_DOMAIN, "/accounts/login/"))
    page.fill("input[name=username]", world.users["adviser"].email)
    page.fill("input[name=password]", PASSWORD)
    # By its name, as a person picks it: the top bar's language form has a submit button too
    # (it waits for that button since the switch stopped acting on arrow keys).
    page.get_by_role("button", name="Inloggen").click()

    # Without an authenticator, the only way on is to set one up.
    page.wait_for_url(re.compile(r"/accounts/2fa/setup/"))
    page.screenshot(path=RESULTS / "browser-totp-setup.png", full_page=True)
    assert page.locator("figure.qr svg").count() == 1
    page.fill("input[name=token]", _totp_now(page.inner_text("code.secret")))
    page.click("form:has(input[name=token]) button[type=submit]")

    page.wait_for_url(re.compile(r"/accounts/2fa/backup-codes/"))
    codes = page.locator("ul.codes li code").all_inner_texts()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-f]{8}", code) for code in codes)
    page.click("section a.button--primary")

    # The console lists the one client the adviser is assigned to, not the other.
    page.wait_for_url(re.compile(r"/console/"))
    page.screenshot(path=RESULTS / "browser-console.png", full_page=True)
    table = page.locator("table.table tbody")
    assert table.locator("tr").all_inner_texts()[0].startswith("Zorghuis Oost")
    assert table.locator("tr").count() == 1
    assert "Scholengroep Noord" not in page.content()

    # The session cookie (domain .vertrouwd.localhost) carries over to the client's host.
    page.click("table.table a:has-text('Zorghuis Oost')")
    page.wait_for_url(server.url(own_host))
    assert page.locator("h1").inner_text() == "Zorghuis Oost"
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies[settings.SESSION_COOKIE_NAME]["domain"] == f".{settings.BASE_DOMAIN}"
    page.screenshot(path=RESULTS / "browser-client-home.png", full_page=True)

    # Another client of the same firm, without an assignment: not found, nothing shown.
    response = page.goto(server.url(other_host))
    assert response is not None
    assert response.status == 404
    assert "Scholengroep Noord" not in page.content()
    assert page.locator("h1").inner_text() == "Niet gevonden"

    # Signing out on the client's host posts to the console host and ends the shared session.
    page.goto(server.url(own_host))
    with page.expect_navigation() as signed_out:
        page.click("form[action$='/accounts/logout/'] button[type=submit]")
    assert signed_out.value is not None and signed_out.value.status == 200
    assert page.url == server.url(settings.BASE_DOMAIN, "/accounts/login/")
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert settings.SESSION_COOKIE_NAME not in names
    page.goto(server.url(own_host))
    assert page.url.startswith(server.url(settings.BASE_DOMAIN, "/accounts/login/"))
