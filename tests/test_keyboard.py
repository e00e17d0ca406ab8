"""Keyboard only, in a real Chromium: the sign-in with the second factor and the way on to a client.

No mouse: Tab, Shift+Tab, Enter, Space and typing. Every Tab stop on the way must be visible and
have a name (nothing from a library sits invisibly in the Tab order), and focus must land where a
person expects it (the error summary after a refused form). Builds its own committed firm
(tests/live.py); runs with the other browser tests.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from tests.live import PASSWORD
from tests.test_browser import (  # noqa: F401  (fixtures)
    _totp_now,
    chromium_page,
    server,
    world,
)

pytestmark = [pytest.mark.browser]

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const box = e.getBoundingClientRect();
  const style = getComputedStyle(e);
  const name = (e.getAttribute('aria-label') || (e.labels && e.labels[0] && e.labels[0].innerText)
    || e.innerText || e.value || e.getAttribute('title') || '').trim();
  return {tag: e.tagName.toLowerCase(), name: name, id: e.id, type: e.type || '',
          href: e.getAttribute('href') || '', visible: box.width > 0 && box.height > 0
          && style.visibility !== 'hidden' && parseFloat(style.opacity) > 0};
}"""


def tab_to(page, wanted, *, limit: int = 40) -> dict:
    """Press Tab until the focused element satisfies `wanted`; every stop on the way must be
    visible and named. Where focus already is (autofocus) counts."""
    focused = page.evaluate(FOCUSED)
    if focused is not None and wanted(focused):
        return focused
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused is not None, "focus fell to the page body"
        assert focused["visible"], f"invisible Tab stop: {focused}"
        assert focused["name"] or focused["tag"] in {"input", "select", "textarea"}, (
            f"Tab stop without a name: {focused}"
        )
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached within {limit} Tab presses")


def test_sign_in_with_second_factor_and_reach_the_client_by_keyboard(
    world,  # noqa: F811  (the fixtures of tests/test_browser.py)
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    page = chromium_page
    console = server.url(settings.BASE_DOMAIN)
    own_host = world.hosts["own"]
    page.goto(console)
    page.wait_for_url(re.compile(r"/accounts/login/"))

    # The sign-in page starts in the e-mail field (autofocus).
    assert page.evaluate(FOCUSED)["id"] == "id_username"

    # A refused sign-in: the error summary takes focus and links to the field.
    page.keyboard.type(world.users["adviser"].email)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    summary = page.evaluate("document.activeElement.className")
    assert summary == "form-errors"

    tab_to(page, lambda f: f["id"] == "id_username")
    page.keyboard.press("Control+A")
    page.keyboard.type(world.users["adviser"].email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    # Second factor set-up: the key is read from the page, the code typed and sent with Enter.
    page.wait_for_url(re.compile(r"/accounts/2fa/setup/"))
    code = _totp_now(page.inner_text("code.secret"))
    tab_to(page, lambda f: f["id"] == "id_token")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/backup-codes/"))
    tab_to(page, lambda f: f["name"].startswith("Ik heb ze bewaard"), limit=60)
    page.keyboard.press("Enter")

    # The console: Tab to the client and open it with Enter.
    page.wait_for_url(re.compile(r"/console/"))
    tab_to(page, lambda f: f["tag"] == "a" and f["name"] == "Zorghuis Oost", limit=60)
    page.keyboard.press("Enter")
    page.wait_for_url(server.url(own_host))
    assert page.locator("h1").inner_text() == "Zorghuis Oost"

    # The language changes only when its button is pressed, not on an arrow key.
    tab_to(page, lambda f: f["id"] == "language-select", limit=60)
    page.keyboard.press("ArrowDown")
    assert page.url == server.url(own_host)
    assert page.evaluate("document.documentElement.lang") == "nl"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.lang") == "en"
