"""Layout at the sizes people use, in a real Chromium, both languages (issue 14).

What a new firm hit in a day of use: the invoicing table hid its row actions at 1366 px and showed
the fee where the total sat off-screen; labels on the adviser's case page were cut; on a phone the
sparring identifier warning split into squeezed columns and its "send anyway" checkbox fell
off-screen. Each is checked by where things are drawn (bounding boxes against the window and
their scroll box), not by markup. One committed firm for the module (tests/live.py); every person
signs in once (an authenticator code is accepted once).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.live import LiveFirm, create_firm, remove_firm, unique_slug
from tests.test_browser import CHROMIUM, RESULTS, chromium_page, server  # noqa: F401
from tests.test_intake_browser import _sign_in
from tests.test_keyboard import _enrol

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="chromium not installed: browser tests skipped"
    ),
]

LAPTOP = {"width": 1366, "height": 768}
SMALL_LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
# Long on purpose: the widest names and amounts a firm has are the ones that push columns out.
LONG_NAME = "Stichting Openbaar Onderwijs Zuidoost-Brabant"

# Where an element is drawn, and whether anything it sits in (a scroll box, a card with hidden
# overflow) or the window cuts it off.
IN_VIEW = """(e) => {
  const box = e.getBoundingClientRect();
  const problems = [];
  if (box.width === 0 || box.height === 0) return ['not drawn'];
  if (box.left < -1 || box.right > document.documentElement.clientWidth + 1) problems.push('outside the window');
  for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
    const style = getComputedStyle(p);
    if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
    const clip = p.getBoundingClientRect();
    if (box.left < clip.left - 1 || box.right > clip.right + 1) problems.push('cut off by ' + p.className);
  }
  return problems;
}"""

# Words of labels broken in the middle (a Dutch compound split where it does not fit: what "cut
# labels" looked like), labels wider than their box or outside the window. A hyphen or slash
# may break a line.
BROKEN_LABELS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('main :is(dt, label, th, legend, summary, .button)')) {
    const box = e.getBoundingClientRect();
    if (box.width <= 1 || e.closest('.visually-hidden')) continue;
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible') {
      out.push('cut: ' + e.textContent.trim());
    }
    // A table wider than a phone scrolls in its own box (.table-wrap); the invoicing test holds
    // its totals and actions to the window at laptop sizes.
    if (box.right > document.documentElement.clientWidth + 1 && !e.closest('.table-wrap')) {
      out.push('outside the window: ' + e.textContent.trim());
    }
    const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const words = /[^\\s\\-\\/]+/g;
      let m;
      while ((m = words.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects(), r => Math.round(r.bottom)));
        if (lines.size > 1) out.push('word broken: ' + m[0] + ' in ' + e.tagName.toLowerCase());
      }
    }
  }
  return out;
}"""
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def firm_at_work(django_db_setup, django_db_blocker) -> Iterator[tuple[LiveFirm, dict, dict]]:
    """A firm with a long-named client under a fixed-fee contract with many hours, another on a
    fee by employees and one without a contract; an adviser's case with every kind of entry;
    a sparring thread. Returns the firm, the authenticator keys and the case and thread ids."""
    from django_tenants.utils import schema_exists

    with django_db_blocker.unblock():
        built = _firm_at_work()
        try:
            yield built
        finally:
            schemas = [client.schema_name for client in built[0].clients.values()]
            remove_firm(built[0])
            assert not any(schema_exists(schema) for schema in schemas)


def _firm_at_work() -> tuple[LiveFirm, dict, dict]:
    from django_tenants.utils import tenant_context

    from billing import services as billing
    from cases import services as cases
    from cases.models import Theme
    from sparring import services as sparring

    live = create_firm(
        clients={"own": LONG_NAME, "tiered": "Zorggroep Noord", "bare": "Gemeente Súdwest-Fryslân"},
        users={
            "admin": ("firm_admin", None),
            "office": ("firm_admin", None),
            "adviser": ("adviser", None),
            "sparring_adviser": ("adviser", None),
            "internal": ("internal_adviser", "own"),
        },
        assignments={"adviser": ["own"], "sparring_adviser": ["own"]},
    )
    try:
        keys = {name: _enrol(user) for name, user in live.users.items()}
        start = timezone.localdate() - datetime.timedelta(days=7)
        billing.client_contract_save(
            client=live.clients["own"],
            fee_mode="fixed",
            annual_fee=Decimal("123456.78"),
            hourly_rate=Decimal("245.50"),
            hours_included_per_year=Decimal("1.5"),
            starts_on=start,
        )
        billing.client_contract_save(
            client=live.clients["tiered"],
            fee_mode="tiered",
            hourly_rate=Decimal("120"),
            hours_included_per_year=Decimal("10"),
            starts_on=start,
        )
        adviser = live.users["adviser"]
        with tenant_context(live.clients["own"]):
            case = cases.case_open(
                actor=adviser,
                case_type="undesirable_behaviour",
                themes=[
                    Theme.objects.get(code="bullying"),
                    Theme.objects.get(code="discrimination"),
                ],
                reporter_role="employee",
                accused_relation="colleague",
                channel="phone",
                opened_on=start,
            )
            for day in range(7):
                cases.conversation_add(
                    actor=adviser,
                    case=case,
                    held_on=start + datetime.timedelta(days=day),
                    duration_minutes=480,
                    summary="Gesprek over de situatie op de afdeling.",
                )
            cases.conversation_plan(
                actor=adviser, case=case, on=timezone.localdate() + datetime.timedelta(days=3)
            )
            cases.note_add(actor=adviser, case=case, text="Terugbellen na het overleg.")
            # An integrity report whose receipt is to be acknowledged: the case list's longest
            # theme and its longest "next" (Ontvangst bevestigen uiterlijk …).
            report = cases.case_open(
                actor=adviser,
                case_type="integrity",
                themes=[Theme.objects.get(code="integrity")],
                reporter_role="employee",
                accused_relation="manager",
                channel="phone",
                opened_on=start,
            )
            cases.case_update(
                actor=adviser,
                case=report,
                expected_version=report.version,
                report_received_on=timezone.localdate(),
            )
            cases.consent_record(actor=adviser, case=case, scope="talk_to_hr")
            cases.step_add(
                actor=adviser, case=case, description="Gesprek met HR", involves_third_party=True
            )
            thread = sparring.thread_start(
                actor=live.users["internal"],
                subject="Een melding over werkdruk in een klein team",
                body="Een team vraagt hulp, maar wil niet dat de leiding het weet.",
            )
        ids = {"case": case.reference, "thread": str(thread.pk)}
    except BaseException:
        remove_firm(live)
        raise
    return live, keys, ids


def _language(page, language: str) -> None:
    """Switch with the top bar's language form (at laptop width, where it is not folded)."""
    if page.evaluate("document.documentElement.lang") != language:
        size = page.viewport_size
        page.set_viewport_size(LAPTOP)
        page.select_option("#language-select", language)
        with page.expect_navigation():
            page.locator(".lang-switch button").click()
        page.set_viewport_size(size)
    assert page.evaluate("document.documentElement.lang") == language


def test_invoicing_shows_each_total_and_its_actions_at_laptop_sizes(
    firm_at_work,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    """At 1366 px the row actions were hidden and "Verschuldigd bedrag" showed the fee while the
    total sat off-screen: every row's total and both actions are drawn inside the window and the
    table's own box, and the page does not scroll sideways."""
    live, keys, _ids = firm_at_work
    page = _sign_in(chromium_page.context, server, live.users["admin"].email, keys["admin"])
    page.goto(server.url(settings.BASE_DOMAIN, "/billing/invoicing/"))
    for language in ("nl", "en"):
        _language(page, language)
        for size in (LAPTOP, SMALL_LAPTOP):
            page.set_viewport_size(size)
            where = f"{language} {size['width']}x{size['height']}"
            assert page.evaluate(SIDEWAYS) == 0, where
            assert page.evaluate(BROKEN_LABELS) == [], where
            rows = page.locator("table tbody tr")
            assert rows.count() == 3, where
            for index in range(3):
                row = rows.nth(index)
                name = row.locator("th").inner_text()
                cells = [row.locator("[data-total]")] if name != "Gemeente Súdwest-Fryslân" else []
                for element in [*cells, *row.locator(".cell-action a").all()]:
                    assert element.evaluate(IN_VIEW) == [], f"{where} {name}: {element}"
            own = rows.filter(has_text=LONG_NAME)
            assert own.locator("[data-total] strong").inner_text().startswith("1")
            assert len(own.locator(".cell-action a").all()) == 2
        page.screenshot(path=RESULTS / f"layout-invoicing-{language}.png", full_page=True)


def test_firm_admin_adds_a_client_and_assigns_an_adviser_on_a_phone(
    firm_at_work,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    """A firm administrator's other main job, at 390x844 in Dutch: a new client organisation
    through the console's form, an adviser assigned on its page, both listed in the console;
    no page of the way scrolls sideways and every label is whole."""
    live, keys, _ids = firm_at_work
    page = _sign_in(chromium_page.context, server, live.users["office"].email, keys["office"])
    page.wait_for_url(re.compile(r"/console/"))
    page.set_viewport_size(PHONE)
    name = "Kinderopvang De Vrolijke Vlinder"
    page.get_by_role("link", name="Nieuwe klantorganisatie").click()
    page.wait_for_url(re.compile(r"/console/clients/new/"))
    assert page.evaluate(SIDEWAYS) == 0 and page.evaluate(BROKEN_LABELS) == []
    page.fill("#id_name", name)
    page.fill("#id_slug", unique_slug("vlinder"))
    page.select_option("#id_sector", "education")
    page.fill("#id_employee_count", "85")
    with page.expect_navigation(timeout=60_000):  # the client's schema is made in the request
        page.get_by_role("button", name="Aanmaken").click()
    page.wait_for_url(re.compile(r"/console/clients/\d+/$"))
    assert page.locator("h1").inner_text() == name
    assert f"{name} is klaar" in page.locator(".messages").inner_text()
    page.select_option("#id_adviser", label=live.users["adviser"].get_full_name())
    with page.expect_navigation():
        page.get_by_role("button", name="Toewijzen").click()
    assigned = page.locator("table tbody tr", has_text=live.users["adviser"].get_full_name())
    assert assigned.count() == 1
    assert page.evaluate(SIDEWAYS) == 0 and page.evaluate(BROKEN_LABELS) == []
    page.screenshot(path=RESULTS / "layout-client-assigned-phone.png", full_page=True)
    page.goto(server.url(settings.BASE_DOMAIN, "/console/"))
    row = page.locator("table tbody tr", has_text=name)
    assert row.count() == 1 and live.users["adviser"].get_full_name() in row.inner_text()


def test_case_list_fits_a_laptop_and_case_page_labels_are_whole(
    firm_at_work,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    """The case list's seven columns fit 1366 px without scrolling inside their box (the "next"
    column was cut off); no label on the adviser's case page is cut or broken inside a word (the
    case's tiles broke "vertrouwenspersoon" on a phone), with every folded form open."""
    live, keys, ids = firm_at_work
    page = _sign_in(chromium_page.context, server, live.users["adviser"].email, keys["adviser"])
    page.set_viewport_size(LAPTOP)
    page.goto(server.url(live.hosts["own"], "/cases/"))
    for language in ("nl", "en"):
        _language(page, language)
        for size in (LAPTOP, SMALL_LAPTOP):
            page.set_viewport_size(size)
            where = f"{language} {size['width']}x{size['height']}"
            wrap = page.locator(".table-wrap")
            assert wrap.evaluate("e => e.scrollWidth - e.clientWidth") == 0, where
            assert page.evaluate(BROKEN_LABELS) == [], where
        assert page.locator("td.cell-next .status").count() == 1
        page.screenshot(path=RESULTS / f"layout-case-list-{language}.png", full_page=True)
    page.goto(server.url(live.hosts["own"], f"/cases/{ids['case']}/"))
    page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
    for language in ("nl", "en"):
        _language(page, language)
        page.evaluate("document.querySelectorAll('main details').forEach(d => { d.open = true; })")
        for size in (LAPTOP, PHONE, SMALL_PHONE):
            page.set_viewport_size(size)
            where = f"{language} {size['width']}x{size['height']}"
            assert page.evaluate(SIDEWAYS) == 0, where
            assert page.evaluate(BROKEN_LABELS) == [], where
        page.screenshot(path=RESULTS / f"layout-case-{language}.png", full_page=True)


def test_sparring_identifier_warning_fits_a_phone_and_send_anyway_completes(
    firm_at_work,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    """The internal adviser (390x844) and the external adviser (360x740), in Dutch and English,
    answer with a phone number and an e-mail address in the text: the warning is one column
    within the screen, its checkbox is drawn in the window and takes the tap, and the message is
    sent."""
    live, keys, ids = firm_at_work
    browser = chromium_page.context.browser
    for person, size in (("internal", PHONE), ("sparring_adviser", SMALL_PHONE)):
        context = browser.new_context(locale="nl-NL", viewport=size, is_mobile=True, has_touch=True)
        try:
            page = _sign_in(context, server, live.users[person].email, keys[person])
            for language in ("nl", "en"):
                _warned_and_sent_anyway(page, server, live, ids, person, size, language)
        finally:
            context.close()


def _warned_and_sent_anyway(page, server, live, ids, person, size, language) -> None:  # noqa: F811
    thread = server.url(live.hosts["own"], f"/sparring/{ids['thread']}/")
    page.goto(thread)
    _language(page, language)
    text = f"Bel {person} ({language}) op 06-12345678 of mail melder@example.com."
    page.fill("textarea[name=body]", text)
    with page.expect_navigation():
        page.locator("form:has(textarea[name=body]) button[type=submit]").click()

    warning = page.locator("#identifiers")
    assert warning.is_visible()
    assert page.evaluate(SIDEWAYS) == 0
    # One column: the text and the checkbox line up under each other, none squeezed.
    body = warning.locator(".notice__body").bounding_box()
    assert body is not None and body["width"] > size["width"] * 0.6
    checkbox = warning.locator("input[name=send_anyway]")
    checkbox.scroll_into_view_if_needed()
    assert checkbox.evaluate(IN_VIEW) == []
    box = checkbox.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
    # What a tap at its centre hits is the checkbox (or its label), nothing on top of it.
    hit = page.evaluate(
        "([x, y]) => { const e = document.elementFromPoint(x, y);"
        " return e.name || e.tagName.toLowerCase(); }",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert hit in {"send_anyway", "label"}
    checkbox.tap()
    assert checkbox.is_checked()
    page.screenshot(
        path=RESULTS / f"layout-sparring-warning-{size['width']}-{language}.png",
        full_page=True,
    )
    with page.expect_navigation():
        page.locator("form:has(textarea[name=body]) button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/sparring/{ids['thread']}/"))
    assert page.locator("#identifiers").count() == 0
    assert text in page.locator("main").inner_text()


def test_reporter_page_reads_well_on_a_laptop(
    firm_at_work,
    server,  # noqa: F811
    chromium_page,  # noqa: F811
):
    """The employee's intake page at 1366 px: its two lists (what an adviser does and does not
    do) stood in columns of a few words inside a 30rem page; now each has room, nothing is cut
    or broken, and the page keeps to its width at 390 px."""
    live, _keys, _ids = firm_at_work
    page = chromium_page
    for language in ("nl", "en"):
        page.set_viewport_size(LAPTOP)
        page.goto(server.url(live.hosts["own"], f"/intake/{language}/"))
        assert page.evaluate("document.documentElement.lang") == language
        widths = page.locator("main .columns > div").evaluate_all(
            "divs => divs.map(d => d.getBoundingClientRect().width)"
        )
        assert len(widths) == 2 and min(widths) >= 280, (language, widths)
        assert page.evaluate(BROKEN_LABELS) == [], language
        page.set_viewport_size(PHONE)
        assert page.evaluate(SIDEWAYS) == 0, language
        assert page.evaluate(BROKEN_LABELS) == [], language
