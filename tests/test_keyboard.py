"""Keyboard only, in a real Chromium: the main flow of each role (issue 18).

The sign-in with the second factor and the way on to a client; an adviser opens a case and
records a conversation; an internal adviser starts a sparring thread; a contact person
acknowledges a signal; a firm administrator publishes an annual report.

No mouse: Tab, Shift+Tab, Enter, Space and typing. Every Tab stop on the way must be visible and
have a name (nothing from a library sits invisibly in the Tab order), and focus must land where a
person expects it (the error summary after a refused form). Each test builds its own committed
firm (tests/live.py); they run with the other browser tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.oath import TOTP

from accounts import services as account_services
from tests.live import PASSWORD, LiveFirm, create_firm, remove_firm
from tests.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    _totp_now,
    chromium_page,
    server,
    world,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="chromium not installed: browser tests skipped"
    ),
]

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


# ---------------------------------------------------------------- the main flow of each role


def _enrol(user) -> bytes:
    """Give `user` a confirmed authenticator, as the set-up page does; return its key."""
    device = account_services.totp_device_pending(user=user)
    account_services.totp_device_confirm(user=user, device=device)
    return bytes(device.bin_key)


_LAST_STEP: dict[bytes, int] = {}


def _code(key: bytes) -> str:
    """The authenticator's code for a time step this key has not used yet.

    django-otp refuses a code of a step its device has already accepted (a replay), and the
    adviser signs in twice in this module: a second sign-in within the same 30 s failed on a fast
    run. The next step's code is accepted (the devices' tolerance is one step); past that, wait.
    """
    while True:
        totp = TOTP(key, step=30, digits=6)
        now = totp.t()
        step = max(now, _LAST_STEP.get(key, now - 1) + 1)
        if step - now <= 1:
            totp.drift = step - now
            _LAST_STEP[key] = step
            return f"{totp.token():06d}"
        time.sleep(30 - time.time() % 30 + 0.1)


def sign_in_by_keyboard(page, server, email: str, key: bytes) -> None:  # noqa: F811
    """E-mail, Tab, password, Enter; the authenticator's code, Enter."""
    page.goto(server.url(settings.BASE_DOMAIN))
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.evaluate(FOCUSED)["id"] == "id_username"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    tab_to(page, lambda f: f["id"] == "id_token")
    page.keyboard.type(_code(key))
    with page.expect_navigation():
        page.keyboard.press("Enter")


def follow(page, wanted, *, limit: int = 60, timeout_ms: float | None = None) -> None:
    """Tab to a link or button and press Enter on it, waiting for the page it leads to."""
    tab_to(page, wanted, limit=limit)
    with page.expect_navigation(timeout=timeout_ms):
        page.keyboard.press("Enter")


def named(name: str):
    return lambda f: f["name"] == name


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker) -> Iterator[tuple[LiveFirm, dict[str, bytes]]]:
    """A committed firm with one client: an admin, an assigned adviser, a contact person and an
    internal adviser of the client, each with an authenticator; an open case, a sent signal and
    an annual report sent for review.

    Built once for the flows below (each uses its own person and object; building costs about as
    much as a flow). Outside any test's transaction, so it commits and the server thread sees it.
    """
    from django_tenants.utils import schema_exists

    with django_db_blocker.unblock():
        built = _people()
        try:
            yield built
        finally:
            schemas = [client.schema_name for client in built[0].clients.values()]
            remove_firm(built[0])
            assert not any(schema_exists(schema) for schema in schemas)


def _people() -> tuple[LiveFirm, dict[str, bytes]]:
    from django_tenants.utils import tenant_context

    from boardroom import services as board
    from cases import services as case_services
    from cases.models import Theme
    from reports import releases

    live = create_firm(
        clients={"own": "Zorghuis Oost"},
        users={
            "admin": ("firm_admin", None),
            "adviser": ("adviser", None),
            "contact": ("contact_person", "own"),
            "internal": ("internal_adviser", "own"),
        },
        assignments={"adviser": ["own"]},
    )
    try:
        keys = {name: _enrol(user) for name, user in live.users.items()}
        adviser = live.users["adviser"]
        with tenant_context(live.clients["own"]):
            case_services.case_open(
                actor=adviser,
                case_type="undesirable_behaviour",
                themes=[Theme.objects.get(code="bullying")],
                reporter_role="employee",
                accused_relation="colleague",
                channel="phone",
            )
            board.signal_send(
                actor=adviser,
                signal=board.signal_create(
                    actor=adviser,
                    title="Signalen over werkdruk",
                    risk="Meerdere medewerkers noemen hoge werkdruk.",
                    recommendation="Bespreek de werkverdeling in het managementoverleg.",
                    severity="medium",
                ),
            )
            report = board.report_draft_create(actor=adviser, year=timezone.localdate().year - 1)
            board.report_update(
                actor=adviser,
                report=report,
                narrative="Een rustig jaar met aandacht voor werkdruk.",
                recommendations="Blijf investeren in een veilige werkcultuur.",
                expected_version=report.version,
            )
            board.report_submit(actor=adviser, report=report)
            # The year's figures released beforehand, as the nightly task does (the report
            # page would otherwise release them inside the request).
            releases.client_publications(
                [report.year], client=live.clients["own"], today=timezone.localdate()
            )
    except BaseException:
        remove_firm(live)
        raise
    return live, keys


def test_adviser_opens_a_case_and_records_a_conversation_by_keyboard(
    people,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    live, keys = people
    page = chromium_page
    sign_in_by_keyboard(page, server, live.users["adviser"].email, keys["adviser"])

    page.wait_for_url(re.compile(r"/console/"))
    follow(page, lambda f: f["tag"] == "a" and f["name"] == "Zorghuis Oost")
    page.wait_for_url(server.url(live.hosts["own"]))
    follow(page, named("Dossiers"))
    follow(page, lambda f: f["tag"] == "a" and re.fullmatch(r"\d{4}-\d{4}", f["name"]))
    assert page.locator("h1").inner_text().startswith(str(timezone.localdate().year))

    # The form is folded away: Enter on its summary opens it, Tab goes on into its fields.
    tab_to(page, named("Gesprek vastleggen"))
    page.keyboard.press("Enter")
    tab_to(page, lambda f: f["id"].endswith("duration_minutes"))
    page.keyboard.type("45")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["id"].endswith("summary")
    page.keyboard.type("Eerste gesprek, de melder wil eerst zelf het gesprek aangaan.")
    follow(page, lambda f: f["tag"] == "button" and f["name"] == "Opslaan", limit=10)

    conversations = page.locator("section[aria-labelledby=conversations-title] li")
    assert conversations.count() == 1
    assert "45 min" in conversations.first.inner_text()
    assert "de melder wil eerst zelf" in conversations.first.inner_text()


def test_internal_adviser_starts_a_sparring_thread_by_keyboard(
    people,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    live, keys = people
    page = chromium_page
    sign_in_by_keyboard(page, server, live.users["internal"].email, keys["internal"])

    # One organisation: the sign-in goes straight on to its host.
    page.wait_for_url(server.url(live.hosts["own"]))
    follow(page, named("Sparren"))
    follow(page, named("Nieuw spargesprek"))
    tab_to(page, lambda f: f["id"].endswith("subject"))
    page.keyboard.type("Hoe gaan jullie om met een melding over werkdruk?")
    page.keyboard.press("Tab")
    page.keyboard.type("Een team vraagt hulp, maar wil niet dat de leiding het weet.")
    follow(page, lambda f: f["tag"] == "button" and f["name"] == "Versturen", limit=10)

    page.wait_for_url(re.compile(r"/sparring/[0-9a-f-]{36}/"))
    assert page.locator("h1").inner_text() == "Hoe gaan jullie om met een melding over werkdruk?"


def test_contact_person_acknowledges_a_signal_by_keyboard(
    people,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    live, keys = people
    page = chromium_page
    sign_in_by_keyboard(page, server, live.users["contact"].email, keys["contact"])

    page.wait_for_url(server.url(live.hosts["own"]))
    follow(page, named("Signalen"))
    follow(page, named("Signalen over werkdruk"))
    follow(page, named("Wij hebben dit signaal gelezen"))

    assert page.locator("dt", has_text="Gezien").count() == 1
    assert page.get_by_role("button", name="Wij hebben dit signaal gelezen").count() == 0


def test_firm_admin_publishes_an_annual_report_by_keyboard(
    people,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    live, keys = people
    page = chromium_page
    year = str(timezone.localdate().year - 1)
    sign_in_by_keyboard(page, server, live.users["admin"].email, keys["admin"])

    # An administrator's console leads to the client's page in the console, and on from there.
    page.wait_for_url(re.compile(r"/console/"))
    follow(page, lambda f: f["tag"] == "a" and f["name"] == "Zorghuis Oost")
    follow(page, named("Openen"))
    page.wait_for_url(server.url(live.hosts["own"]))
    follow(page, named("Jaarverslagen"))
    # The draft's page draws its figures and charts for staff: slow on a busy machine.
    follow(page, lambda f: f["tag"] == "a" and f["name"] == year, timeout_ms=60_000)
    # Publishing freezes the figures and renders the PDF ("this takes a few seconds").
    follow(page, named("Publiceren"), timeout_ms=60_000)

    assert page.locator("h1").first.inner_text().startswith(f"Jaarverslag {year}")
    assert "Gepubliceerd op" in page.locator("main").inner_text()

    # On a phone the links fold behind "Menu" (static/js/nav.js): open, on to the first link,
    # and Escape closes it with focus back on the button.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.locator("#main-nav a").first.is_hidden()
    menu = tab_to(page, named("Menu"))
    assert menu["tag"] == "button"
    page.keyboard.press("Enter")
    assert page.get_attribute(".topbar__menu", "aria-expanded") == "true"
    page.keyboard.press("Tab")
    first_link = page.evaluate(FOCUSED)
    assert first_link["tag"] == "a" and first_link["visible"], first_link
    assert page.evaluate("document.activeElement.closest('#main-nav') !== null")
    page.keyboard.press("Escape")
    assert page.evaluate(FOCUSED)["name"] == "Menu"
    assert page.get_attribute(".topbar__menu", "aria-expanded") == "false"
    assert page.locator("#main-nav a").first.is_hidden()


# ---------------------------------------------------------------- the top bar at desktop sizes

# What sticks out of the window or is cut short in the top bar: nav links and buttons whose text
# does not fit, and a language select too narrow for its own choice (it shrank to "N").
TOPBAR_PROBLEMS = """() => {
  const problems = [];
  const limit = document.documentElement.clientWidth;
  for (const e of document.querySelectorAll('.topbar__nav a, .topbar__tools button, .topbar__tools select')) {
    const box = e.getBoundingClientRect();
    const name = e.tagName.toLowerCase() + ' ' + (e.textContent || '').trim().slice(0, 20);
    if (box.right > limit + 1 || box.left < -1) problems.push(name + ' outside the window');
    if (e.tagName !== 'SELECT' && e.scrollWidth > e.clientWidth + 1) problems.push(name + ' cut short');
  }
  // The phone's menu button has nothing to fold at these widths (it once showed beside the links).
  const menu = document.querySelector('.topbar__menu');
  if (menu && getComputedStyle(menu).display !== 'none') problems.push('menu button shown');
  const select = document.querySelector('.lang-switch select');
  const probe = document.createElement('span');
  probe.style.font = getComputedStyle(select).font;
  probe.style.position = 'absolute';
  probe.style.whiteSpace = 'nowrap';
  probe.textContent = select.options[select.selectedIndex].text;
  document.body.appendChild(probe);
  const needed = probe.getBoundingClientRect().width;
  probe.remove();
  const style = getComputedStyle(select);
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  if (room + 1 < needed) problems.push('language select ' + Math.round(room) + 'px for ' + Math.round(needed) + 'px');
  return problems;
}"""


def test_client_host_top_bar_fits_every_desktop_width_and_a_post_shows_progress(
    people,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    """Issue 14: on client hosts the navigation overflowed at every desktop width ("Activiteit…",
    the language select shrank to "N"), and a slow action showed no progress and could be sent
    twice. The adviser has the longest navigation there; both languages. (The accessibility
    walk checks phone widths only.)"""
    live, keys = people
    page = chromium_page
    sign_in_by_keyboard(page, server, live.users["adviser"].email, keys["adviser"])
    page.wait_for_url(re.compile(r"/console/"))
    for language in ("nl", "en"):
        page.goto(server.url(live.hosts["own"], "/cases/"))
        if page.evaluate("document.documentElement.lang") != language:
            page.select_option("#language-select", language)
            with page.expect_navigation():
                page.locator(".lang-switch button").click()
        assert page.evaluate("document.documentElement.lang") == language
        for width in (768, 1024, 1280, 1366, 1440, 1920):
            page.set_viewport_size({"width": width, "height": 800})
            assert page.evaluate(TOPBAR_PROBLEMS) == [], f"{language} @{width}px"
        # The console's bar too (the menu button showed there beside the links at 1366 px).
        page.goto(server.url(settings.BASE_DOMAIN, "/console/"))
        for width in (768, 1366):
            page.set_viewport_size({"width": width, "height": 800})
            assert page.evaluate(TOPBAR_PROBLEMS) == [], f"console {language} @{width}px"
        page.goto(server.url(live.hosts["own"], "/cases/"))

    # static/js/forms.js marks a POST form busy at once: its buttons disabled, the clicked one
    # saying so, a second click sends nothing. The page's own submit is held back here (a
    # listener on the form cancels the navigation), as a slow server keeps the page waiting.
    page.evaluate(
        """() => {
          window.submits = 0;
          document.querySelector('.lang-switch').addEventListener('submit', (event) => {
            window.submits += 1;
            event.preventDefault();
          });
        }"""
    )
    switch = page.locator(".lang-switch button")
    switch.click(no_wait_after=True)
    page.wait_for_function("() => document.querySelector('.lang-switch button').disabled")
    assert page.get_attribute(".lang-switch", "aria-busy") == "true"
    assert switch.inner_text() == page.evaluate("document.body.dataset.busyText")
    switch.click(force=True, no_wait_after=True)  # a disabled button: nothing is sent again
    assert page.evaluate("window.submits") == 1
