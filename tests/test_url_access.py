"""Every URL pattern x every role x own / foreign tenant: the expected status, nothing more.

Patterns are read from the resolvers, so a new view is walked automatically; a pattern whose
parameters this test cannot fill makes it fail, so nobody adds a view that escapes the walk.
The roles each cast member holds where are written out below by hand (the oracle), not derived
from the code under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import NoReverseMatch
from django.urls.resolvers import RoutePattern

from tenants.access import Policy, policy_of
from tenants.trail import Operator
from tests.cast import board_objects, sign_in, sparring_objects

# Who holds which role where (console = the firm console of the user's own firm).
ORACLE: dict[str, dict[str, set[str]]] = {
    "admin_a": {"console": {"firm_admin"}, "a1": {"firm_admin"}, "a2": {"firm_admin"}},
    "adviser_a": {"console": {"adviser"}, "a1": {"adviser"}},
    "adviser_a_backup": {"console": {"adviser"}, "a1": {"adviser"}},
    "adviser_a_unassigned": {"console": {"adviser"}},
    "contact_a1": {"a1": {"contact_person"}},
    "internal_a1": {"a1": {"internal_adviser"}},
    "contact_a2": {"a2": {"contact_person"}},
    "admin_b": {"console": {"firm_admin"}, "b1": {"firm_admin"}},
    "adviser_b": {"console": {"adviser"}, "b1": {"adviser"}},
    "contact_b1": {"b1": {"contact_person"}},
    "internal_b1": {"b1": {"internal_adviser"}},
    "prevention_b1": {"b1": {"prevention_adviser"}},
    "inspector_b1": {"b1": {"inspector"}},
}
FIRM_OF = {
    "admin_a": "acme",
    "adviser_a": "acme",
    "adviser_a_backup": "acme",
    "adviser_a_unassigned": "acme",
    "admin_b": "bravo",
    "adviser_b": "bravo",
    "internal_b1": "bravo",
    "contact_b1": "bravo",  # b1's published report and signal are "own" for b1's contact person
    "prevention_b1": "bravo",
    "inspector_b1": "bravo",
}
VISITORS = ["anonymous", "unverified", *ORACLE]

# Routes whose readers are written out here as well, so a change to the view's policy fails the
# walk instead of moving its expectation along. Belgium's register of acts by third parties: the
# VP (the assigned adviser) keeps it; the employer's prevention adviser and the inspection read
# it and its exports; nobody else (not the firm admin, the contact person or an internal VP).
READERS_BY_HAND: dict[str, set[str]] = {
    "thirdparty:register": {"adviser", "prevention_adviser", "inspector"},
    "thirdparty:export": {"adviser", "prevention_adviser", "inspector"},
    "thirdparty:summary": {"adviser", "prevention_adviser", "inspector"},
    "thirdparty:add": {"adviser"},
}

# The status an allowed GET gives, where it is not 200.
ALLOWED_GET_STATUS = {
    "home": 302,  # sends people on to the console or their organisation
    "accounts:logout": 405,  # POST only
    "logout": 405,  # the client host's own sign-out, POST only
    "set_language": 302,
    "client_assign": 405,
    "assignment_end": 405,
    # Removing people, withdrawing and answering role offers, ending sessions: POST only.
    "membership_remove": 405,
    "role_offer_withdraw": 405,
    "role_offer_accept": 405,
    "role_offer_decline": 405,
    "accounts:sign_out_everywhere": 405,
    "accounts:two_factor_setup": 200,  # verified users may replace their authenticator
    "accounts:two_factor_verify": 302,  # already verified: on to the next page
    "billing:checkout": 405,  # POST only
    "billing:portal": 405,
    "billing:webhook": 405,  # POST only, public (Stripe signs it)
    # Sparring: answering, closing and reopening are POST only; a notification link forwards.
    "sparring:message_add": 405,
    "sparring:thread_close": 405,
    "sparring:thread_reopen": 405,
    "sparring_console:open": 302,
    # The register of acts by third parties (Belgium): adding posts to its own view.
    "thirdparty:add": 405,
    # The credentials register: every form posts to its own POST-only view.
    **{
        f"credentials:{name}": 405
        for name in (
            "certificate",
            "training",
            "policy",
            "appointment_add",
            "appointment_end",
            "appointment_declarations",
        )
    },
    # Case themes: hiding and offering again are POST only.
    "theme_hide": 405,
    "theme_show": 405,
    "standard_theme_hide": 405,
    "standard_theme_show": 405,
    # Case handling: every form posts to its own POST-only view.
    **{
        f"cases:{name}": 405
        for name in (
            "settings",
            "phase",
            "plan",
            "conversation_add",
            "consent_add",
            "consent_withdraw",
            "step_add",
            "step_done",
            "referral_add",
            "followup_add",
            "followup_done",
            "time_add",
            "note_add",
            "paps_handover",
        )
    },
    # Annual reports and signals: every change posts to its own POST-only view.
    **{
        f"boardroom:{name}": 405
        for name in (
            "report_edit",
            "report_submit",
            "report_return",
            "report_publish",
            "signal_send",
            "signal_acknowledge",
            "signal_follow_up",
            "signal_delete",
        )
    },
    # The cast's signal is sent: its edit page says so and goes back to the signal.
    "boardroom:signal_edit": 302,
}

# The employee intake (intake/): the reporter's pages are public; their forms post only, and
# files or photos answer 404 without an open mailbox or a photo.
ALLOWED_GET_STATUS.update(
    {
        "intake:root": 302,
        "intake_short": 302,
        "intake:photo": 404,
        "intake:mailbox_file": 404,
        "intake:journal_file": 404,
        "intake:not_found": 404,
        **{
            f"intake:{name}": 405
            for name in (
                "submit",
                "journal_start",
                "saved",
                "mailbox_write",
                "mailbox_notice",
                "mailbox_close",
                "record_respond",
                "journal_share",
                "journal_delete",
                "work_answer",
                "work_close",
                "work_link",
                "work_open_case",
                "work_record",
                "work_record_revise",
            )
        },
    }
)

# Public pages that send anybody signed in (even before the second factor) elsewhere: the
# sign-up page is for people without an account, so it sends them home.
SIGNED_IN_ELSEWHERE = {"signup:start": "/"}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: Any


def _walk(patterns: list[Any], namespace: str = "") -> list[Route]:
    routes: list[Route] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes += _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            if not entry.name and namespace.startswith("admin:"):
                continue  # the admin's unnamed catch-all redirects to its named change views
            assert entry.name, (
                f"URL pattern {entry.pattern} has no name, so the access walk cannot reach it"
            )
            routes.append(Route(f"{namespace}{entry.name}", entry.pattern))
    return routes


def _parameter_names(route: Route) -> list[str]:
    if isinstance(route.pattern, RoutePattern):
        return list(route.pattern.converters)
    return list(re.compile(route.pattern.regex.pattern).groupindex)


def _fill(name: str, *, own: dict[str, int], foreign: dict[str, int], kind: str, route: str) -> Any:
    """Value for one URL parameter: an object of the visitor's own firm, or of the other firm."""
    objects = own if kind == "own" else foreign
    if name in objects:
        return objects[name]
    generic = {
        "uidb64": "MQ",
        "token": "set-password",
        "app_label": "tenants",
        "object_id": "1",
        "content_type_id": 1,
        "url": "x",
        "lang": "nl",
        "file_id": "00000000-0000-4000-8000-000000000000",
        "rest": "no-such-page/",
    }
    if name in generic:
        return generic[name]
    if route.startswith("admin:") and name in {"pk", "id"}:
        return 1
    raise AssertionError(
        f"The access walk does not know how to fill URL parameter {name!r}: add it here."
    )


def _url(route: Route, urlconf: str, kwargs: dict[str, Any]) -> str:
    from django.urls import reverse

    try:
        return reverse(route.name, urlconf=urlconf, kwargs=kwargs)
    except NoReverseMatch as error:
        raise AssertionError(
            f"Cannot build a URL for {route.name} with {kwargs}: {error}"
        ) from None


def _own_theme_id(firm) -> int:
    """The id of one of the firm's own case themes (made for this test; rolled back after)."""
    from tenants import themes
    from tenants.models import FirmTheme

    existing = FirmTheme.objects.filter(firm=firm, is_standard=False).first()
    return (
        existing
        or themes.firm_theme_add(actor=Operator("test"), firm=firm, name=f"Thema van {firm.slug}")
    ).pk


def _offer_id(cast, firm) -> int:
    """A role offer of `firm` waiting for an answer (made for this test; rolled back after)."""
    from tenants.models import RoleOffer

    other = cast.contact_b1 if firm.slug == "acme" else cast.contact_a1
    offer, _created = RoleOffer.objects.get_or_create(
        user=other, firm=firm, client=None, role="adviser", defaults={"email": other.email}
    )
    return offer.pk


def _appointment_id(cast, client, internal_key: str) -> int:
    """An internal adviser's appointment at the client (made for this test; rolled back after)."""
    from credentials.models import InternalAdviserAppointment

    appointment, _created = InternalAdviserAppointment.objects.get_or_create(
        client=client,
        user=cast.users[internal_key],
        defaults={"appointed_on": client.contract_starts_on},
    )
    return appointment.pk


def _objects_of(cast, firm_slug: str, client_key: str | None = None) -> dict[str, Any]:
    """The objects a URL of the firm's client names: a1 for acme, b1 for bravo, unless
    `client_key` names another client of the firm (then that client must hold each kind of
    object; tests/test_tenants_insider_trust.py gives a2 a thread and an internal adviser)."""
    from tenants.models import FirmMembership

    client_key = client_key or ("a1" if firm_slug == "acme" else "b1")
    client = getattr(cast, client_key)
    internal = f"internal_{client_key}"
    return {
        "theme_id": _own_theme_id(cast.acme if firm_slug == "acme" else cast.bravo),
        # Standard themes belong to every firm: no foreign one (their views are POST only).
        "code": "bullying",
        "client_id": client.pk,
        "assignment_id": (client.assignments.first() or cast.a1.assignments.first()).pk,
        "appointment_id": _appointment_id(cast, client, internal),
        # A firm role of this firm (its adviser), and an offer of this firm to somebody.
        "scope": "firm",
        "membership_id": FirmMembership.objects.filter(firm=client.firm, role="adviser")
        .order_by("pk")
        .first()
        .pk,
        "offer_id": _offer_id(cast, client.firm),
        # a1 and a2 hold a case with this reference, b1 does not; and the other way round.
        "reference": cast.case_reference(client_key),
        # The cast's sparring thread, its attachment and a notification e-mail of this client.
        **sparring_objects(client),
        # The cast's published annual report year, sent signal and batch of drafts.
        **board_objects(client, client_key),
        # An intake contact addressed to the client's internal adviser (made for this test).
        **_intake_objects(cast, client, client_key),
    }


def _intake_objects(cast, client, key: str) -> dict[str, Any]:
    from django_tenants.utils import tenant_context

    from intake import keys, services
    from intake.links import short_link_for
    from tests.cast import TINY_PNG

    adviser = "adviser_b" if key == "b1" else "adviser_a"

    with tenant_context(client):
        receipt = services.contact_submit(
            nonce=keys.new_nonce(),
            kind="message",
            body="Een melding",
            chosen_adviser=cast.users[f"internal_{key}"].pk,
            uploads=[services.Upload(name="schets.png", data=TINY_PNG)],
        )
        record = services.oral_record_add(
            actor=cast.users[adviser],
            contact=receipt.contact,
            held_on=receipt.contact.submitted_at.date(),
            text="Verslag",
        )
        attachment = receipt.contact.entries.get().attachments.get()
    return {
        "contact_id": receipt.contact.pk,
        "record_id": record.pk,
        "upload_id": attachment.pk,
        "user_id": cast.users[f"internal_{key}"].pk,
        "code": short_link_for(client).code,
    }


def _expected(
    route: Route,
    urlconf: str,
    url: str,
    visitor: str,
    context: str,
    kind: str,
    oracle: dict[str, dict[str, set[str]]] = ORACLE,
) -> tuple[int, str]:
    """(status, location prefix or '') the walk expects; `oracle` says who holds what where."""
    match = resolve(url.split("?")[0], urlconf=urlconf)
    if "admin" in match.namespaces:
        policy, roles = Policy.PLATFORM_STAFF, frozenset()
    else:
        declared = policy_of(match.func)
        assert declared is not None, f"{route.name} declares no access policy"
        policy, roles = declared
        if route.name in READERS_BY_HAND:
            assert {role.value for role in roles} == READERS_BY_HAND[route.name], route.name
    allowed_status = ALLOWED_GET_STATUS.get(route.name, 200)
    on_client_host = context != "console"
    login = f"http://{settings.BASE_DOMAIN}/accounts/login/"
    if policy is Policy.PUBLIC:
        if visitor != "anonymous" and route.name in SIGNED_IN_ELSEWHERE:
            return 302, SIGNED_IN_ELSEWHERE[route.name]
        return allowed_status, ""
    if visitor == "anonymous":
        return 302, login
    if visitor == "unverified":
        if policy is Policy.SIGNED_IN and not on_client_host:
            # Unverified: the check page shows; set-up sends a user who has a device to the check.
            return {
                "accounts:two_factor_verify": (200, ""),
                "accounts:two_factor_setup": (302, "/accounts/2fa/verify/"),
            }.get(route.name, (allowed_status, ""))
        return 302, f"http://{settings.BASE_DOMAIN}/accounts/2fa/verify/"
    held = oracle[visitor].get(context, set())
    if on_client_host and not held:
        return 404, ""
    if policy is Policy.PLATFORM_STAFF:
        return 404, ""  # nobody in the cast is platform staff
    if policy in (Policy.VERIFIED, Policy.SIGNED_IN):
        return allowed_status, ""
    if not (held & {role.value for role in roles}):
        return 404, ""
    if kind == "foreign" and allowed_status != 405:  # POST-only views answer 405 before any lookup
        return 404, ""
    return allowed_status, ""


def _client_for(visitor: str, cast, host: str) -> Client:
    http = Client(HTTP_HOST=host)
    if visitor == "unverified":
        sign_in(http, cast.adviser_a, verified=False)
    elif visitor != "anonymous":
        sign_in(http, cast.users[visitor])
    return http


# What every response's Content-Security-Policy must say, directive by directive (issue 18): no
# third party can be loaded, connected to, posted to or frame us, and no inline script runs.
REQUIRED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "connect-src": {"'self'"},
    "frame-ancestors": {"'none'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
}
# An absolute URL in an attribute or a style; its host must be ours.
_ABSOLUTE_URL = re.compile(
    r"""(?:src|href|action|formaction|srcset|data)\s*=\s*["']?\s*(?:https?:)?//([^/"'\s:>]+)|url\(\s*["']?(?:https?:)?//([^/"')\s:]+)""",
    re.I,
)


def _csp(response) -> dict[str, set[str]]:
    directives: dict[str, set[str]] = {}
    for part in response.get("Content-Security-Policy", "").split(";"):
        words = part.split()
        if words:
            directives[words[0]] = set(words[1:])
    return directives


def _own_host(host: str) -> bool:
    return host == settings.BASE_DOMAIN or host.endswith(f".{settings.BASE_DOMAIN}")


def _header_problems(response, where: str) -> list[str]:
    """The security headers every response carries, and (for HTML) no foreign origin in it."""
    problems = []
    csp = _csp(response)
    is_html = response.get("Content-Type", "").startswith("text/html")
    if not is_html and csp.get("default-src") == {"'none'"}:
        # A download (an attachment) carries its own stricter policy: nothing at all may load.
        csp = {**REQUIRED_CSP, "form-action": {"'self'"}}
    for directive, sources in REQUIRED_CSP.items():
        if csp.get(directive) != sources:
            problems.append(f"{where}: CSP {directive} is {csp.get(directive)}, not {sources}")
    form_action = csp.get("form-action", set())
    foreign_actions = {
        source
        for source in form_action - {"'self'"}
        if not _own_host(source.split("://")[-1].split(":")[0].removeprefix("*."))
        and source not in {"https://checkout.stripe.com", "https://billing.stripe.com"}
    }
    if "'self'" not in form_action or foreign_actions:
        problems.append(f"{where}: CSP form-action is {form_action}")
    if "camera=()" not in response.get("Permissions-Policy", ""):
        problems.append(f"{where}: no Permissions-Policy")
    if response.get("Content-Type", "").startswith("text/html"):
        body = response.content.decode(errors="replace")
        for match in _ABSOLUTE_URL.finditer(body):
            host = (match.group(1) or match.group(2)).lower()
            if not _own_host(host) and host not in {"www.w3.org"}:
                problems.append(f"{where}: foreign origin {host} in the page")
    return problems


@dataclass(frozen=True)
class Planned:
    """One URL of the walk, not requested yet: where, which route, own or foreign object."""

    context: str  # "console" or the cast's client key
    host: str
    urlconf: str
    url: str
    route: Route
    kind: str  # "own" or "foreign" object in the URL

    @property
    def public(self) -> bool:
        """Open to anybody (the same answer with or without a role)."""
        match = resolve(self.url.split("?")[0], urlconf=self.urlconf)
        return "admin" not in match.namespaces and policy_of(match.func)[0] is Policy.PUBLIC

    def expected(
        self, visitor: str, oracle: dict[str, dict[str, set[str]]] = ORACLE
    ) -> tuple[int, str]:
        return _expected(
            self.route, self.urlconf, self.url, visitor, self.context, self.kind, oracle
        )


@dataclass(frozen=True)
class Visit:
    """One GET of the walk: who, where, what the oracle expects and what came back."""

    visitor: str
    context: str  # "console" or the cast's client key
    host: str
    url: str
    route: str
    kind: str  # "own" or "foreign" object in the URL
    status: int
    location: str
    response: Any


def walk_plan(
    visitor: str,
    cast,
    *,
    kinds: tuple[str, ...] = ("own", "foreign"),
    contexts_only: tuple[str, ...] | None = None,
    routes_only: set[str] | None = None,
    objects: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> list[Planned]:
    """Every URL pattern on the console and each client host, filled for `visitor` with objects
    of their own firm and of the other: the page list of the walk, without requesting it.
    `contexts_only` limits it to some of "console", "a1", "a2", "b1", `routes_only` to some
    route names; `objects` gives the
    (own, foreign) objects to fill in, made beforehand (by `_objects_of`)."""
    contexts = [("console", settings.BASE_DOMAIN, settings.PUBLIC_SCHEMA_URLCONF)] + [
        (key, cast.host(getattr(cast, key)), settings.ROOT_URLCONF) for key in ("a1", "a2", "b1")
    ]
    if contexts_only is not None:
        contexts = [context for context in contexts if context[0] in contexts_only]
    if objects is None:
        firm = FIRM_OF.get(visitor, "acme")
        objects = (
            _objects_of(cast, firm),
            _objects_of(cast, "bravo" if firm == "acme" else "acme"),
        )
    own, foreign = objects
    plan = []
    for context, host, urlconf in contexts:
        for route in _walk(get_resolver(urlconf).url_patterns):
            if routes_only is not None and route.name not in routes_only:
                continue
            parameters = _parameter_names(route)
            for kind in [k for k in ("own", "foreign") if k in kinds] if parameters else ("own",):
                kwargs = {
                    name: _fill(name, own=own, foreign=foreign, kind=kind, route=route.name)
                    for name in parameters
                }
                url = _url(route, urlconf, kwargs)
                plan.append(Planned(context, host, urlconf, url, route, kind))
    return plan


def walk_visits(
    visitor: str,
    cast,
    *,
    kinds: tuple[str, ...] = ("own", "foreign"),
    contexts_only: tuple[str, ...] | None = None,
    routes_only: set[str] | None = None,
    objects: tuple[dict[str, Any], dict[str, Any]] | None = None,
):
    """Every URL of `walk_plan`, GET as `visitor`: the page list this walk and the accessibility
    checks (tests/test_accessibility.py) share."""
    sessions: dict[str, Client] = {}
    for planned in walk_plan(
        visitor,
        cast,
        kinds=kinds,
        contexts_only=contexts_only,
        routes_only=routes_only,
        objects=objects,
    ):
        if planned.context not in sessions:
            sessions[planned.context] = _client_for(visitor, cast, planned.host)
        status, location = planned.expected(visitor)
        yield Visit(
            visitor,
            planned.context,
            planned.host,
            planned.url,
            planned.route.name,
            planned.kind,
            status,
            location,
            sessions[planned.context].get(planned.url),
        )


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_url_for_every_visitor_and_tenant(visitor, cast):
    failures: list[str] = []
    checked = 0
    for visit in walk_visits(visitor, cast):
        response, status, location = visit.response, visit.status, visit.location
        checked += 1
        problem = response.status_code != status or (
            location and not response.get("Location", "").startswith(location)
        )
        where = f"{visitor} GET {visit.host}{visit.url}"
        failures += _header_problems(response, where)
        if visitor != "anonymous" and "no-store" not in response.get("Cache-Control", ""):
            # Issue 12: no response to a signed-in person is kept by a browser or a proxy.
            failures.append(f"{where}: Cache-Control {response.get('Cache-Control')!r}")
        if problem:
            failures.append(
                f"{where} ({visit.route}, {visit.kind}): expected {status} {location}, "
                f"got {response.status_code} {response.get('Location', '')}"
            )
    assert checked > 40
    assert not failures, "\n".join(failures)


def test_posts_by_outsiders_change_nothing(cast):
    """The writing console views, posted by every visitor without the firm-admin role: all refused."""
    from tenants.models import Assignment, ClientOrganisation, FirmTheme

    theme_id = _own_theme_id(cast.acme)

    def state() -> tuple[Any, ...]:
        return (
            ClientOrganisation.objects.count(),
            Assignment.objects.count(),
            list(Assignment.objects.order_by("pk").values_list("ends_on", flat=True)),
            list(FirmTheme.objects.order_by("pk").values_list("firm_id", "name", "is_active")),
        )

    before = state()
    everybody = [
        "anonymous",
        "unverified",
        "adviser_a",
        "contact_a1",
        "internal_a1",
        "admin_b",
        "adviser_b",
    ]
    posts = [
        (
            "/console/clients/new/",
            [*everybody[:-2], "adviser_b"],
            {
                "name": "X",
                "slug": "evil",
                "sector": "other",
                "employee_count": 5,
                "contract_starts_on": "2026-01-01",
            },
        ),
        (
            f"/console/clients/{cast.a1.pk}/assign/",
            everybody,
            {"adviser": cast.adviser_a_unassigned.pk, "kind": "primary", "starts_on": "2026-01-01"},
        ),
        (f"/console/assignments/{cast.a1.assignments.first().pk}/end/", everybody, {}),
        ("/console/themes/", [*everybody[:-2], "adviser_b"], {"name": "Ingebroken"}),
        (f"/console/themes/{theme_id}/", everybody, {"name": "Ingebroken"}),
        (f"/console/themes/{theme_id}/hide/", everybody, {}),
        ("/console/themes/standard/bullying/hide/", [*everybody[:-2], "adviser_b"], {}),
    ]
    for path, visitors, data in posts:
        for visitor in visitors:
            http = _client_for(visitor, cast, settings.BASE_DOMAIN)
            response = http.post(path, data)
            assert response.status_code in (302, 404), (visitor, path, response.status_code)
            if response.status_code == 302:
                assert "/accounts/" in response["Location"], (visitor, path)
    assert state() == before


def test_every_view_declares_a_policy():
    for urlconf in (settings.PUBLIC_SCHEMA_URLCONF, settings.ROOT_URLCONF):
        for route in _walk(get_resolver(urlconf).url_patterns):
            if route.name.startswith("admin:"):
                continue
            callback = next(
                entry.callback
                for entry in _flat(get_resolver(urlconf).url_patterns)
                if entry.pattern is route.pattern
            )
            assert policy_of(callback) is not None, route.name


def _flat(patterns: list[Any]) -> list[URLPattern]:
    result: list[URLPattern] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            result += _flat(entry.url_patterns)
        else:
            result.append(entry)
    return result
