"""The employee's intake end to end in a real headless Chromium at phone size (issue 15).

One committed firm with two clients; the reporter's pages in Dutch (JavaScript on) and in English
(JavaScript off, as Tor Browser's safest level), each: the intake page → a message with a photo
carrying GPS EXIF and a Word file carrying an author, one adviser excluded → the receipt key →
a wrong key and another client's key (one answer) → the adviser answers and records the oral
report → the reporter opens the mailbox with the key, reads the answer, downloads the cleaned
files and approves the record → a journal entry, shared → the adviser reads it. Along the way:
no Set-Cookie and no cookie before the key, every reporter page with the intake's strict
Content-Security-Policy and nothing requested from another origin, no CSP violation, nothing
wider than the phone. The excluded adviser, signed in, gets 404 for the contact and its file.
After the run the tenant and public schemas are dumped and every log record of the run is read:
no client address (the ingress's X-Forwarded-For, believed with TRUSTED_PROXY_HOPS=1, and the
socket's 127.0.0.1) and no user agent anywhere.

What the non-browser tests already prove in depth is not repeated here: every bad input
(tests/test_intake.py), the excluded adviser on every action URL and in "my day"
(test_excluded_adviser_gets_404_everywhere_and_sees_no_trace), the canary of every encrypted
field (tests/test_cases_confidentiality.py).
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from intake import services as intake_services
from intake.web import CONTENT_SECURITY_POLICY
from tests.intake_files import AUTHOR, docx_with_author, jpeg_with_gps
from tests.live import PASSWORD, LiveFirm, create_firm, remove_firm, schema_exists
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, server  # noqa: F401
from tests.test_cases_confidentiality import _dump
from tests.test_keyboard import _code, _enrol

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="chromium not installed: browser tests skipped"
    ),
]

PHONE = {"width": 390, "height": 844}
FORWARDED = "203.0.113.91"  # what the ingress would put in X-Forwarded-For for the reporter
WORDS = {
    "nl": {
        "received": "Ontvangen. Dit is uw sleutel",
        "refused": "Deze sleutel opent hier geen brievenbus.",
        "conversation": "In gesprek",
        "approved": "Door u goedgekeurd",
        "journal": "Uit mijn dagboek:",
    },
    "en": {
        "received": "Received. This is your receipt key",
        "refused": "This key does not open a mailbox here.",
        "conversation": "In conversation",
        "approved": "Approved by you",
        "journal": "From my journal:",
    },
}


@pytest.fixture
def reporters_world(committed_db) -> Iterator[tuple[LiveFirm, dict[str, bytes], str]]:
    """A firm, its client with two assigned advisers (one to be excluded) and another client
    with a contact of its own; returns the firm, the advisers' authenticator keys and the other
    client's receipt key."""
    live = create_firm(
        clients={"own": "Zorghuis Oost", "other": "Scholengroep Noord"},
        users={"adviser": ("adviser", None), "excluded": ("adviser", None)},
        assignments={"adviser": ["own", "other"], "excluded": ["own"]},
    )
    schemas = [client.schema_name for client in live.clients.values()]
    try:
        keys = {name: _enrol(user) for name, user in live.users.items()}
        with tenant_context(live.clients["other"]):
            other = intake_services.contact_submit(
                nonce=secrets.token_urlsafe(24), kind="message", body="Elders."
            )
        yield live, keys, other.formatted_key
    finally:
        remove_firm(live)
    assert not any(schema_exists(schema) for schema in schemas)


class Watch:
    """Everything a reporter's browser context received, checked after each step."""

    def __init__(self, context, origin: str) -> None:
        self.origin = origin
        self.responses: list = []
        self.foreign: list[str] = []
        self.console: list[str] = []
        context.on("response", lambda response: self.responses.append(response))
        context.on("request", self._request)

    def _request(self, request) -> None:
        if not request.url.startswith(self.origin + "/"):
            self.foreign.append(request.url)

    def attach(self, page) -> None:
        # Chromium reports a refused load (a CSP violation) on the console; the wrong keys'
        # 400 answers are reported there too, as failed loads, and are expected.
        page.on(
            "console",
            lambda message: (
                "Failed to load resource" not in message.text and self.console.append(message.text)
            ),
        )

    def set_cookies(self) -> list[str]:
        """The Set-Cookie headers of every response so far (all_headers has the cookie ones)."""
        found = []
        for response in self.responses:
            cookie = response.all_headers().get("set-cookie")
            if cookie:
                found.append(f"{response.url}: {cookie}")
        return found

    def check_documents(self) -> None:
        for response in self.responses:
            if response.request.resource_type != "document":
                continue
            headers = response.all_headers()
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, response.url
            assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == (
                "no-referrer"
            )
        policy = CONTENT_SECURITY_POLICY
        assert "http" not in policy and "*" not in policy and "data:" not in policy
        assert self.foreign == [] and self.console == []


def _sign_in(context, server, email: str, key: bytes):  # noqa: F811
    page = context.new_page()
    page.goto(server.url(settings.BASE_DOMAIN))
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/verify/"))
    page.fill("input[name=token]", _code(key))
    with page.expect_navigation():
        page.click("form:has(input[name=token]) button[type=submit]")
    return page


def _download(page, name: str) -> bytes:
    """Click the file's link as a person does (Playwright's own HTTP client cannot resolve
    *.localhost names; Chromium can) and return what arrived."""
    with page.expect_download() as download:
        page.click(f"a:has-text('{name}')")
    return Path(download.value.path()).read_bytes()


def _clean(data: bytes, kind: str) -> None:
    from PIL import Image

    assert AUTHOR.encode() not in data
    if kind == "jpeg":
        with Image.open(io.BytesIO(data)) as image:
            assert dict(image.getexif()) == {} and image.size == (32, 24)
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            everything = b"".join(archive.read(name) for name in archive.namelist())
            assert b"Wat er gebeurde" in archive.read("word/document.xml")
        assert AUTHOR.encode() not in everything and b"rsidR" not in everything


def _reporter_flow(
    browser,
    server,  # noqa: F811
    lang: str,
    *,
    own_host: str,
    other_key: str,
    adviser,
    excluded,
    excluded_name: str,
) -> None:
    words = WORDS[lang]
    origin = server.url(own_host).rstrip("/")
    agent = f"Mozilla/5.0 (Linux; Android 14) VtProbe/{lang}-{secrets.token_hex(4)}"
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="nl-NL",  # the path, not the browser, chooses the language
        user_agent=agent,
        java_script_enabled=lang == "nl",
        extra_http_headers={"X-Forwarded-For": FORWARDED},
    )
    watch = Watch(context, origin)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch.attach(page)
    AGENTS.append(agent)

    # The intake page, at phone size: nothing wider than the screen.
    page.goto(f"{origin}/intake/{lang}/")
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    body = f"Bericht {lang} {secrets.token_hex(3)}: mijn leidinggevende schreeuwt."
    page.check("input[name=kind][value=message]")
    page.select_option("#excluded", label=excluded_name)
    page.fill("#body", body)
    page.set_input_files(
        "#attachments",
        files=[
            {"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()},
            {
                "name": "brief.docx",
                "mimeType": "application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document",
                "buffer": docx_with_author(),
            },
        ],
    )
    with page.expect_navigation():
        page.click("form[action$='/send/'] button[type=submit]")
    assert page.locator("h1").inner_text() == words["received"]
    key = page.inner_text("[data-receipt-key]")
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", key)
    page.check("form[data-key-saved] input[name=saved]")
    with page.expect_navigation():
        page.click("form[data-key-saved] button[type=submit]")

    # A wrong key and another client's key: the same page, no cookie.
    answers = []
    for typed in (key[:-1] + ("A" if key[-1] != "A" else "B"), other_key):
        page.goto(f"{origin}/intake/{lang}/mailbox/")
        page.fill("#key", typed)
        with page.expect_navigation():
            page.click("form[action$='/mailbox/'] button[type=submit]")
        answers.append(page.inner_text("main"))
    assert answers[0] == answers[1] and words["refused"] in answers[0]
    assert context.cookies() == [] and watch.set_cookies() == []
    watch.check_documents()

    # The adviser answers and records the oral report; the excluded one finds nothing.
    adviser.goto(server.url(own_host, "/intake/work/"))
    links = adviser.locator("table a[href^='/intake/work/']")
    detail = None
    for index in range(links.count()):
        adviser.goto(server.url(own_host, links.nth(index).get_attribute("href")))
        if body in adviser.inner_text("main"):
            detail = adviser.url
            break
        adviser.goto(server.url(own_host, "/intake/work/"))
    assert detail is not None
    photo = adviser.locator("a:has-text('foto.jpg')").get_attribute("href")
    _clean(_download(adviser, "foto.jpg"), "jpeg")
    _clean(_download(adviser, "brief.docx"), "docx")
    answer = f"Dank voor uw bericht ({lang}). Wanneer kan ik u bellen?"
    adviser.fill("#answer-body", answer)
    with adviser.expect_navigation():
        adviser.click("form[action$='/answer/'] button[type=submit]")
    minutes = f"Gesprek ({lang}): de melder vertelt over drie voorvallen."
    adviser.fill("#held_on", timezone.localdate().isoformat())
    adviser.fill("#record-text", minutes)
    with adviser.expect_navigation():
        adviser.click("form[action$='/record/'] button[type=submit]")
    if lang == "nl":
        for path in (detail, server.url(own_host, photo)):
            assert excluded.goto(path).status == 404
        excluded.goto(server.url(own_host, "/intake/work/"))
        assert excluded.locator("table a[href^='/intake/work/']").count() == 0

    # The reporter opens the mailbox with the key (typed loosely) and reads the answer.
    page.goto(f"{origin}/intake/{lang}/mailbox/")
    page.fill("#key", key.lower().replace("-", " "))
    with page.expect_navigation():
        page.click("form[action$='/mailbox/'] button[type=submit]")
    assert page.url == f"{origin}/intake/{lang}/mailbox/"
    cookies = context.cookies()
    assert [(c["name"], c["path"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("vt_mailbox", "/intake/", True, "Strict")
    ]
    assert cookies[0]["domain"] == own_host and cookies[0]["expires"] == -1
    main = page.inner_text("main")
    assert answer in main and words["conversation"] in main and minutes in main
    _clean(_download(page, "foto.jpg"), "jpeg")
    _clean(_download(page, "brief.docx"), "docx")
    with page.expect_navigation():
        page.click("form[action*='/mailbox/record/'] button[value=approve]")
    assert words["approved"] in page.inner_text("#records")

    # A journal entry, shared with the adviser.
    page.click(f"a[href='/intake/{lang}/journal/']")
    page.wait_for_url(f"{origin}/intake/{lang}/journal/")
    happened = f"Uitgescholden in de kantine ({lang})."
    page.fill("#what", happened)
    page.fill("#where", "Kantine")
    with page.expect_navigation():
        page.click("form[action$='/journal/'] button[type=submit]")
    page.check("input[name=entry]")
    with page.expect_navigation():
        page.click("form[action$='/journal/share/'] button[type=submit]")
    assert page.url.startswith(f"{origin}/intake/{lang}/mailbox/")
    assert words["journal"] in page.inner_text("main") and happened in page.inner_text("main")

    adviser.goto(detail)
    assert happened in adviser.inner_text("main")

    # After the key: only the mailbox cookie was ever set, and only by the key's answer.
    set_cookies = watch.set_cookies()
    assert len(set_cookies) == 1 and set_cookies[0].startswith(f"{origin}/intake/{lang}/mailbox/:")
    assert set_cookies[0].split(": ", 1)[1].startswith("vt_mailbox=")
    watch.check_documents()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


AGENTS: list[str] = []  # the reporters' user agents of this run, looked for afterwards


def test_reporter_and_adviser_go_through_the_whole_intake_in_nl_and_en_on_a_phone(
    reporters_world,
    server,  # noqa: F811
):
    live, keys, other_key = reporters_world
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    own_host = live.hosts["own"]
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep, root = Keep(level=logging.DEBUG), logging.getLogger()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    AGENTS.clear()
    try:
        # Behind the ingress: the app would believe X-Forwarded-For (rate limits key on it).
        with override_settings(TRUSTED_PROXY_HOPS=1), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                staff = browser.new_context(locale="nl-NL", viewport=PHONE)
                adviser = _sign_in(staff, server, live.users["adviser"].email, keys["adviser"])
                adviser.set_default_timeout(TIMEOUT_MS)
                others = browser.new_context(locale="nl-NL", viewport=PHONE)
                excluded = _sign_in(others, server, live.users["excluded"].email, keys["excluded"])
                for lang in ("nl", "en"):
                    _reporter_flow(
                        browser,
                        server,
                        lang,
                        own_host=own_host,
                        other_key=other_key,
                        adviser=adviser,
                        excluded=excluded,
                        excluded_name=live.users["excluded"].full_name,
                    )
            finally:
                browser.close()
    finally:
        root.removeHandler(keep)
        root.setLevel(level)

    # After the run: no address and no browser detail in a dump or a log record.
    traces = [FORWARDED, "127.0.0.1", *AGENTS]
    assert len(AGENTS) == 2
    dumps = [_dump(live.clients["own"].schema_name), _dump("public")]
    assert "intake_contact" in dumps[0]
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in records)
    assert "Not Found: /intake/work/" in logged  # the excluded adviser's 404s: records were kept
    for trace in traces:
        for text in (*dumps, logged):
            assert trace not in text and trace.encode().hex() not in text.lower()
