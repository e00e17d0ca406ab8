"""Accessibility of every page, every role, checked by two outside checkers (issue 18).

The pages are the URL walk's own (tests/test_url_access.py `walk_visits`), so a new view is
checked without anyone remembering. Each role's pages are fetched once per test session with
Django's test client (the `pages` fixture, shared by both checks); the browser then loads each
captured page at its real address, with its real headers (the Content-Security-Policy is
enforced, and a violation fails the test), the static files from disk, and nothing else on the
network. One Chromium, one browser context, one tab for everything.

- axe-core (axe-playwright-python's copy, put into every document once by an init script):
  0 violations of the WCAG 2.0/2.1 A and AA rules and the best practices, at laptop (1366x768)
  and phone (390x844) size; no sideways scrolling at 390 and 320 CSS px (WCAG 1.4.10). Each page
  is loaded once and resized for the three widths: a resize re-evaluates the media queries and
  the layout, which is all that differs between the sizes.
- The Nu Html Checker (vnu-jar, installed by `dev.py test` when Java is there): 0 errors on the
  served HTML, all pages in one Java process; skipped with a message without Java or the jar.

Pages whose documents are identical (up to the CSRF token) and carry the same policy are
checked once: the same markup and style sheets give the same result wherever they are served
(the public intake pages, for instance, look the same to every role).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import caches

from tests.cast import load_cast
from tests.test_url_access import walk_visits

CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
VNU_JAR = Path(
    os.environ.get("VNU_JAR")
    or Path(settings.BASE_DIR) / ".cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar"
)
# One visitor per role (the other firm's people see the same pages with other names).
ROLES = ["anonymous", "unverified", "admin_a", "adviser_a", "contact_a1", "internal_a1"]
# While fixing a page: A11Y_ROLES=admin_a A11Y_ROUTES=cases:administration narrow the run.
ROLES = os.environ.get("A11Y_ROLES", "").split(",") if os.environ.get("A11Y_ROLES") else ROLES
# Belgian pages (b1 is the cast's Belgian client): only what differs from the Dutch pages of the
# roles above, so the walk stays short. (role, where, routes; None: every page of that role.)
BELGIAN: list[tuple[str, tuple[str, ...], set[str] | None]] = [
    ("admin_b", ("console",), {"client_detail"}),  # open problems, appointments, declarations
    ("adviser_b", ("b1",), {"thirdparty:register", "cases:detail", "cases:close"}),
    ("inspector_b1", ("b1",), None),  # the register and nothing else
]
if os.environ.get("A11Y_ROLES"):
    BELGIAN = [entry for entry in BELGIAN if entry[0] in ROLES]
    ROLES = [role for role in ROLES if role not in {entry[0] for entry in BELGIAN}]
ONLY_ROUTES = set(filter(None, os.environ.get("A11Y_ROUTES", "").split(",")))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
VNU = ["java", "-jar", str(VNU_JAR), "--format", "json", "--stdout", "--exit-zero-always"]
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 640}
RESULTS = Path(settings.BASE_DIR) / "test-results" / "a11y"
# A11Y_SCREENSHOTS=1 keeps a full-page screenshot of every checked page (to look at them).
SCREENSHOTS = os.environ.get("A11Y_SCREENSHOTS") == "1"
# pytest-django sets up the test database only for a session with a test that asks for it.
pytestmark = pytest.mark.django_db
CSRF_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"')

# axe is already in the page (init script); only the violations come back, in short.
RUN_AXE = """options => axe.run(document, options).then(results => results.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  targets: v.nodes.slice(0, 3).map(node => node.target.join(' ')),
})))"""
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
# The rules of those tags whose outcome depends on the layout (sizes, positions, overflow) rather
# than on the markup and what is shown: at phone size only these run, unless the media queries
# show or hide something there (then all of them run).
LAYOUT_RULES = ["color-contrast", "scrollable-region-focusable"]
PHONE_OPTIONS = {"runOnly": {"type": "rule", "values": LAYOUT_RULES}, "resultTypes": ["violations"]}
# Which elements are shown at all: the same at both sizes means the same accessibility tree.
SHOWN = """() => Array.from(document.querySelectorAll('body *'), e => {
  const style = getComputedStyle(e);
  return style.display === 'none' || style.visibility !== 'visible' ? '0' : '1';
}).join('')"""
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# On a phone the top bar leaves the screen to the page: a firm admin's links once took 260 of
# 640 px at 320 px wide; they fold behind a menu button now (static/js/nav.js).
TOPBAR_HEIGHT = "Math.round(document.querySelector('.topbar')?.getBoundingClientRect().height || 0)"
MAX_TOPBAR_HEIGHT = 130

# The outermost elements that stick out past the right edge (what makes the page scroll).
WIDEST = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const right = e.getBoundingClientRect().right;
    const parent = e.parentElement.getBoundingClientRect().right;
    const name = e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '');
    if (right > limit + 1 && parent <= limit + 1) {
      out.push(name + ' ' + Math.round(right - limit) + 'px');
    } else if (right <= limit + 1 && e.childElementCount === 0
               && e.getBoundingClientRect().left + e.scrollWidth > limit + 1) {
      out.push(name + ' (its text) ' + Math.round(e.getBoundingClientRect().left + e.scrollWidth - limit) + 'px');
    }
  }
  return out.slice(0, 4);
}"""


# Problems that are not ours to fix, as (route, problem), each with the reason. Everything else
# fails the test; this list may only shrink. Empty: every problem found so far was ours.
KNOWN: set[tuple[str, str]] = set()


def _known(failure: str) -> bool:
    route = failure.split(" ")[1]
    return any(route == known and problem in failure for known, problem in KNOWN)


@dataclass(frozen=True)
class Page:
    role: str
    route: str
    url: str  # absolute, at its real host
    html: str
    headers: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.role} {self.route} {self.url}"


def _pages(cast) -> list[Page]:
    """Each role's HTML pages of the walk (200, own objects), one per route and kind of host."""
    pages, seen = [], set()
    walks = [(role, None, None) for role in ROLES] + BELGIAN
    for role, contexts, routes in walks:
        if ONLY_ROUTES:  # narrowed while fixing: request only those pages
            routes = ONLY_ROUTES & routes if routes is not None else ONLY_ROUTES
        for visit in walk_visits(
            role, cast, kinds=("own",), contexts_only=contexts, routes_only=routes
        ):
            response = visit.response
            if response.status_code != 200 or not response.get("Content-Type", "").startswith(
                "text/html"
            ):
                continue
            if ONLY_ROUTES and visit.route not in ONLY_ROUTES:
                continue
            key = (role, visit.route, visit.context == "console")
            if key in seen:
                continue
            seen.add(key)
            pages.append(
                Page(
                    role=role,
                    route=visit.route,
                    url=f"http://{visit.host}{visit.url}",
                    html=response.content.decode(),
                    headers={k: v for k, v in response.items() if k.lower() != "content-length"},
                )
            )
    return pages


def _distinct(pages: list[Page]) -> list[tuple[Page, list[Page]]]:
    """Each distinct document once, with the other pages that serve the very same one."""
    groups: dict[tuple[str, str], tuple[Page, list[Page]]] = {}
    for page in pages:
        key = (
            CSRF_TOKEN.sub(r'\1"', page.html),
            page.headers.get("Content-Security-Policy", ""),
        )
        if key in groups:
            groups[key][1].append(page)
        else:
            groups[key] = (page, [])
    return list(groups.values())


def _also(same: list[Page]) -> str:
    return f" (and {len(same)} more pages with the same document)" if same else ""


@pytest.fixture(scope="session")
def pages(django_db_setup, django_db_blocker) -> list[Page]:
    """The walk's pages, fetched once per test session for both checks (the walk is the costly
    part), in a transaction that is rolled back, as the `db` fixture would."""
    from django.db import transaction
    from django.utils import translation

    # Like the autouse fixtures of conftest.py, which run after a session fixture: fresh caches,
    # and the language each request activates does not outlive the walk.
    for alias in settings.CACHES:
        caches[alias].clear()
    started = time.monotonic()
    with django_db_blocker.unblock(), translation.override(None), transaction.atomic():
        collected = _pages(load_cast())
        transaction.set_rollback(True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "walk-time.txt").write_text(f"walk {time.monotonic() - started:.1f} s\n")
    assert len(collected) > (0 if ONLY_ROUTES or os.environ.get("A11Y_ROLES") else 40)
    return collected


@pytest.fixture
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed: the axe checks are skipped")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


def _serve(page_of: dict[str, Page]):
    """Answer the browser from the captured pages and the static files; nothing else."""
    static: dict[str, tuple[str, bytes] | None] = {}

    def handle(route) -> None:
        url = route.request.url.split("#")[0]
        captured = page_of.get(url)
        if captured is not None:
            route.fulfill(status=200, headers=captured.headers, body=captured.html)
            return
        path = "/" + url.split("/", 3)[3].split("?")[0]
        if path.startswith(settings.STATIC_URL):
            if path not in static:
                found = finders.find(path.removeprefix(settings.STATIC_URL))
                static[path] = (
                    (
                        {
                            ".css": "text/css",
                            ".js": "text/javascript",
                            ".svg": "image/svg+xml",
                        }.get(Path(found).suffix, "application/octet-stream"),
                        Path(found).read_bytes(),
                    )
                    if found
                    else None
                )
            if static[path] is not None:
                content_type, body = static[path]
                route.fulfill(status=200, headers={"Content-Type": content_type}, body=body)
                return
        route.fulfill(status=204, body="")

    return handle


def _collect_csp_reports(into: list[str]):
    def collect(message) -> None:
        if "Content Security Policy" in message.text:
            into.append(message.text)

    return collect


def _summary(violation: dict) -> str:
    return (
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {violation['targets']}"
    )


@pytest.mark.browser
def test_every_page_of_every_role_has_no_axe_violation_at_laptop_and_phone_size(pages, browser):
    from axe_playwright_python.base import AXE_SCRIPT

    RESULTS.mkdir(parents=True, exist_ok=True)
    page_of = {page.url: page for page in pages}
    distinct = _distinct(pages)
    failures: list[str] = []
    runs = full_runs = 0
    spent = {"load": 0.0, "axe": 0.0, "reflow": 0.0}
    tallest_bar = 0
    context = browser.new_context(viewport=LAPTOP, locale="nl-NL")
    # Once for the whole run instead of once per axe run (570 kB sent and parsed each time).
    context.add_init_script(script=AXE_SCRIPT)
    context.route("**/*", _serve(page_of))
    tab = context.new_page()
    blocked: list[str] = []
    tab.on("console", _collect_csp_reports(blocked))
    for page, same in distinct:
        started = time.monotonic()
        tab.set_viewport_size(LAPTOP)
        tab.goto(page.url, wait_until="load")
        spent["load"] += time.monotonic() - started
        shown_on_laptop = tab.evaluate(SHOWN)
        for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
            started = time.monotonic()
            tab.set_viewport_size(viewport)
            options = AXE_OPTIONS
            if size == "phone" and tab.evaluate(SHOWN) == shown_on_laptop:
                options = PHONE_OPTIONS
            else:
                full_runs += 1
            violations = tab.evaluate(RUN_AXE, options)
            spent["axe"] += time.monotonic() - started
            runs += 1
            if SCREENSHOTS:
                name = f"{page.role}-{page.route.replace(':', '_')}-{size}.png"
                tab.screenshot(path=RESULTS / name, full_page=True)
            failures += [f"{page.where} @{size}: {_summary(v)}{_also(same)}" for v in violations]
        # Reflow (WCAG 1.4.10): nothing scrolls sideways at the phone's width, nor at 320 px.
        started = time.monotonic()
        for viewport in (PHONE, NARROW):
            tab.set_viewport_size(viewport)
            bar = tab.evaluate(TOPBAR_HEIGHT)
            tallest_bar = max(tallest_bar, bar)
            if bar > MAX_TOPBAR_HEIGHT:
                failures.append(
                    f"{page.where} @{viewport['width']}px: the top bar is {bar}px high "
                    f"(at most {MAX_TOPBAR_HEIGHT}){_also(same)}"
                )
            overflow = tab.evaluate(OVERFLOW)
            if overflow > 0:
                failures.append(
                    f"{page.where} @{viewport['width']}px: scrolls sideways by {overflow}px "
                    f"({', '.join(tab.evaluate(WIDEST))}){_also(same)}"
                )
        spent["reflow"] += time.monotonic() - started
        failures += [f"{page.where}: CSP blocked: {text}{_also(same)}" for text in blocked]
        blocked.clear()
    context.close()
    (RESULTS / "axe.txt").write_text("\n".join(failures) + "\n")
    (RESULTS / "axe-time.txt").write_text(
        f"{len(pages)} pages, {len(distinct)} distinct, {runs} axe runs ({full_runs} with all "
        f"rules); top bar at most {tallest_bar}px on a phone; seconds: "
        + ", ".join(f"{key} {value:.1f}" for key, value in spent.items())
        + "\n"
    )
    assert runs == 2 * len(distinct)
    failures = [failure for failure in failures if not _known(failure)]
    assert not failures, f"{len(failures)} problems in {runs} axe runs:\n" + "\n".join(failures)


def test_every_page_of_every_role_is_valid_html(pages, tmp_path):
    if not shutil.which("java"):
        pytest.skip("java not installed: the Nu Html Checker is skipped")
    if not VNU_JAR.exists():
        pytest.skip(f"Nu Html Checker not at {VNU_JAR} (`python3 dev.py test` installs it)")
    names = {}
    distinct = _distinct(pages)
    for number, (page, same) in enumerate(distinct):
        path = tmp_path / f"page{number:03d}.html"
        path.write_text(page.html)
        names[path.name] = (page, same)
    # One Java process for all pages (the JVM's start is most of the cost).
    result = subprocess.run(
        [*VNU, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [
        f"{names[Path(m['url']).name][0].where} line {m.get('lastLine')}: {m['message']}"
        f"{_also(names[Path(m['url']).name][1])}"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "vnu.txt").write_text("\n".join(errors) + "\n")
    assert not errors, f"{len(errors)} errors in {len(distinct)} distinct pages:\n" + "\n".join(
        errors
    )


# Routes that show the very same page where the walk reaches them, so one title is right.
SAME_PAGE = [
    # Without an open mailbox both ask for the receipt key (templates/intake/key.html).
    {"intake:mailbox", "intake:journal"},
]


def test_every_page_of_a_role_has_a_title_of_its_own(pages):
    """Unique, descriptive page titles (issue 18): no two routes a person reaches share a title
    (the case page and its edit, close, erase and hand-over pages once did). The same route with
    other objects (another client's page) is one page here."""
    titles: dict[tuple[str, str], set[str]] = {}
    untitled = []
    for page in pages:
        match = re.search(r"<title>(.*?)</title>", page.html, re.S)
        title = " ".join(match.group(1).split()) if match else ""
        if not title or title.startswith("·"):
            untitled.append(page.where)
        titles.setdefault((page.role, title), set()).add(page.route)
    shared = [
        f"{role}: {sorted(routes)} all say {title!r}"
        for (role, title), routes in titles.items()
        if len(routes) > 1 and routes not in SAME_PAGE
    ]
    assert untitled == []
    assert shared == [], "\n".join(shared)


def test_form_fields_name_groups_and_link_errors():
    """templates/form_fields.html: a group of radio buttons or checkboxes is a fieldset named by
    its legend; help and errors are linked to their field by aria-describedby; the summary lists
    each error with a link to its field and takes focus."""
    from django import forms
    from django.template.loader import render_to_string

    class Example(forms.Form):
        channel = forms.ChoiceField(
            label="Kanaal",
            choices=[("phone", "Telefoon"), ("mail", "E-mail")],
            widget=forms.RadioSelect,
        )
        themes = forms.MultipleChoiceField(
            label="Thema's",
            choices=[("a", "A"), ("b", "B")],
            widget=forms.CheckboxSelectMultiple,
        )
        name = forms.CharField(label="Naam", help_text="Zoals in het dossier.")

    html = render_to_string("form_fields.html", {"form": Example(data={})})
    for name, legend in (("channel", "Kanaal"), ("themes", "Thema&#x27;s")):
        group = re.search(
            rf'<fieldset class="field field--\w+ field--error" aria-describedby="([^"]+)">\s*'
            rf"<legend>{legend}</legend>(.*?)</fieldset>",
            html,
            re.S,
        )
        assert group, name
        assert f"id_{name}_error" in group.group(1).split()
        assert f'<div class="error" id="id_{name}_error">' in group.group(2)
        assert 'type="radio"' in group.group(2) or 'type="checkbox"' in group.group(2)
    name_input = re.search(r'<input type="text" name="name"[^>]*>', html).group(0)
    described = re.search(r'aria-describedby="([^"]+)"', name_input).group(1).split()
    assert set(described) == {"id_name_helptext", "id_name_error"}
    assert 'aria-invalid="true"' in name_input
    summary = re.search(
        r'<div class="form-errors" role="alert" tabindex="-1" autofocus.*?</div>', html, re.S
    )
    assert summary
    assert [href for href in re.findall(r'href="#([^"]+)"', summary.group(0))] == [
        "id_channel_0",
        "id_themes_0",
        "id_name",
    ]
    assert 'for=""' not in html  # a label attached to nothing
