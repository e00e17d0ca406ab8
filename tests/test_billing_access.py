"""What a firm may do in each subscription state (billing.middleware, billing.selectors)."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from billing.models import FirmSubscription
from billing.selectors import access_state
from tenants.models import Assignment, ClientOrganisation, Firm
from tests.cast import sign_in

READ_ONLY_TEXT = "The subscription of this advisory firm is not active"


def _http(user, host: str = django_settings.BASE_DOMAIN) -> Client:
    http = Client(HTTP_HOST=host)
    if user is not None:
        sign_in(http, user)
    http.cookies.load({django_settings.LANGUAGE_COOKIE_NAME: "en"})
    return http


def _subscription(firm: Firm, status: str, **fields) -> FirmSubscription:
    return FirmSubscription.objects.create(
        firm=firm,
        stripe_customer_id=f"cus_{firm.slug}",
        stripe_subscription_id=f"sub_{firm.slug}",
        status=status,
        **fields,
    )


def _end_assignment(http: Client, assignment: Assignment):
    return http.post(f"/console/assignments/{assignment.pk}/end/")


@pytest.mark.parametrize(
    ("status", "past_due_days", "mode"),
    [
        ("trialing", None, "full"),
        ("active", None, "full"),
        ("past_due", 3, "grace"),
        ("past_due", 15, "read_only"),
        ("unpaid", None, "read_only"),
        ("canceled", None, "read_only"),
        ("paused", None, "read_only"),
        ("incomplete", None, "full"),  # first payment pending: the firm's trial still runs
        ("incomplete_expired", None, "full"),
    ],
)
def test_access_state_per_subscription_status(cast, status, past_due_days, mode):
    now = timezone.now()
    since = now - datetime.timedelta(days=past_due_days) if past_due_days else None
    _subscription(cast.acme, status, past_due_since=since)
    state = access_state(firm_id=cast.acme.pk, now=now)
    # A subscription whose first payment is pending or failed leaves the firm in its trial.
    expected_status = "trialing" if status.startswith("incomplete") else status
    assert (state.mode, state.status) == (mode, expected_status)
    if status == "past_due":
        assert state.until == since + datetime.timedelta(days=14)


def test_a_firm_without_a_subscription_is_in_its_trial_until_it_ends(cast, settings):
    created = cast.acme.created_at
    inside = access_state(firm_id=cast.acme.pk, now=created + datetime.timedelta(days=29))
    after = access_state(firm_id=cast.acme.pk, now=created + datetime.timedelta(days=30, seconds=1))
    assert (inside.mode, inside.status, inside.until) == (
        "full",
        "trialing",
        created + datetime.timedelta(days=30),
    )
    assert (after.mode, after.status) == ("read_only", "trial_expired")
    settings.BILLING_TRIAL_DAYS = 60
    assert (
        access_state(firm_id=cast.acme.pk, now=created + datetime.timedelta(days=45)).mode == "full"
    )


def test_unpaid_firm_cannot_write_on_the_console_and_nothing_changes(cast):
    _subscription(cast.acme, "unpaid")
    assignment = cast.a1.assignments.first()
    before = (
        ClientOrganisation.objects.count(),
        list(Assignment.objects.values_list("pk", "ends_on")),
    )
    response = _end_assignment(_http(cast.admin_a), assignment)
    assert response.status_code == 403
    body = response.content.decode()
    assert READ_ONLY_TEXT in body
    assert 'href="http://vertrouwd.localhost/billing/"' in body  # the firm admin is sent to billing
    assert (
        ClientOrganisation.objects.count(),
        list(Assignment.objects.values_list("pk", "ends_on")),
    ) == before


def test_read_only_firm_can_still_read_and_export(cast, client_for):
    _subscription(cast.acme, "canceled")
    admin = _http(cast.admin_a)
    assert admin.get("/console/").status_code == 200
    assert admin.get(f"/console/clients/{cast.a1.pk}/").status_code == 200
    export = admin.get("/billing/invoicing/export.csv")
    assert (export.status_code, export["Content-Type"]) == (200, "text/csv; charset=utf-8")
    assert _http(cast.contact_a1, cast.host(cast.a1)).get("/").status_code == 200


def test_read_only_applies_on_the_clients_hosts_for_everybody(cast):
    _subscription(cast.acme, "canceled")
    for user in (cast.contact_a1, cast.adviser_a, cast.admin_a):
        response = _http(user, cast.host(cast.a1)).post("/")
        assert response.status_code == 403, user
        assert READ_ONLY_TEXT in response.content.decode()
    # A contact person is not sent to the firm's billing page.
    body = _http(cast.contact_a1, cast.host(cast.a1)).post("/").content.decode()
    assert (
        "/billing/" not in body and "Please contact an administrator of the advisory firm." in body
    )
    # Another firm's clients are not affected.
    assert _http(cast.contact_b1, cast.host(cast.b1)).post("/").status_code == 200


def test_signing_out_language_and_billing_stay_open_when_read_only(cast):
    _subscription(cast.acme, "canceled")
    admin = _http(cast.admin_a)
    assert admin.post("/i18n/setlang/", {"language": "nl", "next": "/console/"}).status_code == 302
    checkout = admin.post("/billing/checkout/")  # to pay again; not configured here, so a message
    assert (checkout.status_code, checkout["Location"]) == (302, "/billing/")
    assert admin.post("/accounts/logout/").status_code == 302
    assert admin.get("/console/").status_code == 302  # signed out indeed


def test_active_and_trialing_firms_write_normally(cast):
    assignment = cast.b1.assignments.first()
    _subscription(cast.acme, "canceled")  # another firm's state does not matter
    assert _end_assignment(_http(cast.admin_b), assignment).status_code == 302
    assignment.refresh_from_db()
    assert assignment.ends_on == timezone.localdate()
    _subscription(cast.bravo, "active")
    assert _http(cast.contact_b1, cast.host(cast.b1)).post("/").status_code == 200


def test_past_due_grace_shows_a_banner_to_firm_admins_only(cast):
    _subscription(cast.acme, "past_due", past_due_since=timezone.now() - datetime.timedelta(days=2))
    admin_page = _http(cast.admin_a).get("/console/").content.decode()
    assert "A payment of your subscription is overdue." in admin_page
    assert (
        "A payment of your subscription is overdue."
        in _http(cast.admin_a, cast.host(cast.a1)).get("/").content.decode()
    )
    assert "overdue" not in _http(cast.adviser_a).get("/console/").content.decode()
    assert "overdue" not in _http(cast.contact_a1, cast.host(cast.a1)).get("/").content.decode()
    # Still full use during the grace period.
    assert _end_assignment(_http(cast.admin_a), cast.a1.assignments.first()).status_code == 302


def test_past_due_beyond_grace_becomes_read_only(cast, settings):
    settings.BILLING_PAST_DUE_GRACE_DAYS = 7
    _subscription(cast.acme, "past_due", past_due_since=timezone.now() - datetime.timedelta(days=8))
    assert _end_assignment(_http(cast.admin_a), cast.a1.assignments.first()).status_code == 403
    assert (
        "Your subscription is not active" in _http(cast.admin_a).get("/console/").content.decode()
    )


def test_an_expired_trial_without_subscription_is_read_only(cast):
    Firm.objects.filter(pk=cast.acme.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    assert _end_assignment(_http(cast.admin_a), cast.a1.assignments.first()).status_code == 403
    assert _end_assignment(_http(cast.admin_b), cast.b1.assignments.first()).status_code == 302


def test_visitors_without_a_firm_are_not_affected(cast):
    # Signed out, or signed in without a firm role: the access policy answers, not billing.
    _subscription(cast.acme, "canceled")
    anonymous = _http(None).post("/console/clients/new/", {"name": "X"})
    assert (anonymous.status_code, anonymous["Location"].split("?")[0]) == (
        302,
        "http://vertrouwd.localhost/accounts/login/",
    )
    assert _http(cast.contact_a1).post("/console/clients/new/", {"name": "X"}).status_code == 404
