"""Stripe Billing against a local fake (tests/billing_fake_stripe.py): Checkout, the Customer
Portal, webhooks (signature, ledger, ordering) and the quantity sync. No test reaches Stripe."""

from __future__ import annotations

import datetime
import json
import logging
import time

import pytest
from django.conf import settings as django_settings
from django.test import Client

from billing import conf, services
from billing.apps import check_configuration
from billing.models import FirmSubscription, WebhookEvent
from billing.tasks import subscription_sync_quantity
from saas.celery import app as celery_app
from tenants import services as tenant_services
from tenants.trail import Operator
from tests.billing_fake_stripe import PRICE_ID, FakeStripe, deliver, sign
from tests.cast import sign_in


@pytest.fixture
def fake(settings):
    with FakeStripe.installed(settings) as stripe_fake:
        yield stripe_fake


@pytest.fixture
def admin_console(cast):
    http = Client(HTTP_HOST=django_settings.BASE_DOMAIN)
    sign_in(http, cast.admin_a)
    http.cookies.load({django_settings.LANGUAGE_COOKIE_NAME: "en"})
    return http


@pytest.fixture
def webhook_http():
    return Client(HTTP_HOST=django_settings.BASE_DOMAIN)


def _checkout(http: Client, fake: FakeStripe) -> dict:
    response = http.post("/billing/checkout/")
    assert response.status_code == 302
    session_id = response["Location"].rsplit("/", 1)[1]
    assert response["Location"] == f"https://checkout.stripe.com/c/pay/{session_id}"
    return fake.sessions[session_id]


def _subscribed(http: Client, fake: FakeStripe, webhook_http: Client) -> FirmSubscription:
    """Run the whole sign-up: Checkout, payment at Stripe, the completed-checkout webhook."""
    session = _checkout(http, fake)
    completed = fake.complete_checkout(session["id"])
    assert (
        deliver(webhook_http, fake.event("checkout.session.completed", completed)).status_code
        == 200
    )
    return FirmSubscription.objects.get(stripe_customer_id=session["customer"])


def _snapshot(row: FirmSubscription) -> dict:
    row.refresh_from_db()
    return {
        field.name: getattr(row, field.name)
        for field in FirmSubscription._meta.fields
        if field.name != "updated_at"
    }


# ------------------------------------------------------------------------------ Checkout, portal
def test_checkout_creates_the_customer_once_and_bills_active_clients(cast, fake, admin_console):
    session = _checkout(admin_console, fake)
    row = FirmSubscription.objects.get(firm=cast.acme)
    assert list(fake.customers) == [row.stripe_customer_id]
    customer = fake.customers[row.stripe_customer_id]
    assert customer["metadata"] == {"firm_id": str(cast.acme.pk)}
    assert customer["email"] == cast.admin_a.email
    assert session["customer"] == row.stripe_customer_id
    assert session["_line_item"] == {"price": PRICE_ID, "quantity": 2}  # a1 and a2 are active
    assert session["client_reference_id"] == str(cast.acme.pk)
    assert session["success_url"] == "http://vertrouwd.localhost/billing/?checkout=done"
    assert row.status == FirmSubscription.Status.TRIALING and row.stripe_subscription_id == ""
    # Abandoned and tried again: a new session for the same customer, no second customer.
    second = _checkout(admin_console, fake)
    assert second["id"] != session["id"] and second["customer"] == row.stripe_customer_id
    assert len(fake.customers) == 1
    customer_calls = fake.calls_to("post", "/v1/customers")
    assert [call.idempotency_key for call in customer_calls] == [
        f"vertrouwd-firm-{cast.acme.pk}-customer"
    ]


def test_checkout_is_refused_while_a_subscription_is_in_force(
    cast, fake, admin_console, webhook_http
):
    _subscribed(admin_console, fake, webhook_http)
    sessions_before = len(fake.sessions)
    response = admin_console.post("/billing/checkout/", follow=True)
    assert response.redirect_chain[-1][0] == "/billing/"
    assert "already has a subscription" in response.content.decode()
    assert len(fake.sessions) == sessions_before


def test_checkout_and_portal_without_stripe_keys_explain_and_change_nothing(
    cast, admin_console, settings
):
    settings.STRIPE_SECRET_KEY = ""
    for path in ("/billing/checkout/", "/billing/portal/"):
        response = admin_console.post(path, follow=True)
        assert response.redirect_chain == [("/billing/", 302)]
        assert "Payments are not set up on this installation yet." in response.content.decode()
    assert not FirmSubscription.objects.exists()


def test_portal_needs_a_customer_then_opens_for_it(cast, fake, admin_console):
    response = admin_console.post("/billing/portal/", follow=True)
    assert response.redirect_chain == [("/billing/", 302)]
    assert fake.portal_sessions == {}
    _checkout(admin_console, fake)
    response = admin_console.post("/billing/portal/")
    (portal,) = fake.portal_sessions.values()
    assert response.status_code == 302 and response["Location"] == portal["url"]
    assert portal["customer"] == FirmSubscription.objects.get(firm=cast.acme).stripe_customer_id
    assert portal["return_url"] == "http://vertrouwd.localhost/billing/"


def test_stripe_unreachable_gives_a_message_not_an_error(cast, fake, admin_console):
    fake.unreachable = True
    response = admin_console.post("/billing/checkout/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [("/billing/", 302)]
    assert fake.sessions == {}


def test_overview_shows_plan_quantity_next_and_past_invoices(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    fake.invoice_for(row.stripe_subscription_id, status="paid")
    response = admin_console.get("/billing/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "EUR 12.50 per client organisation per month" in body
    assert '<span class="status status--active" id="subscription-status">Active</span>' in body
    assert '<dd id="next-invoice-amount">EUR 25.00</dd>' in body  # 2 clients x 12.50
    assert body.count("https://invoice.stripe.com/i/") == 2
    assert "VTW-0001" in body and "VTW-0002" in body


# ------------------------------------------------------------------------------------ webhooks
def test_completed_checkout_activates_the_subscription_from_stripes_own_state(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    subscription = next(iter(fake.subscriptions.values()))
    assert row.firm == cast.acme
    assert row.status == FirmSubscription.Status.ACTIVE
    assert row.stripe_subscription_id == subscription["id"]
    assert row.stripe_subscription_item_id == subscription["items"]["data"][0]["id"]
    assert row.stripe_price_id == PRICE_ID
    assert row.quantity == 2
    assert row.current_period_end == datetime.datetime.fromtimestamp(
        subscription["items"]["data"][0]["current_period_end"], tz=datetime.UTC
    )
    (entry,) = WebhookEvent.objects.all()
    assert (entry.type, entry.outcome, entry.firm) == (
        "checkout.session.completed",
        "processed",
        cast.acme,
    )
    # The state came from Stripe's API (re-fetched), not only from the event body.
    assert len(fake.calls_to("get", f"/v1/subscriptions/{subscription['id']}")) == 1


def test_a_replayed_event_is_acknowledged_and_changes_nothing(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    failed = fake.set_status(row.stripe_subscription_id, "past_due")
    event = fake.event("customer.subscription.updated", failed)
    assert deliver(webhook_http, event).content == b"processed"
    before, calls_before = _snapshot(row), len(fake.calls)
    fake.set_status(row.stripe_subscription_id, "active")  # would show if the replay were applied
    response = deliver(webhook_http, event)
    assert (response.status_code, response.content) == (200, b"processed (replay)")
    assert _snapshot(row) == before
    assert len(fake.calls) == calls_before
    assert WebhookEvent.objects.filter(stripe_event_id=event["id"]).count() == 1


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no header", "stale timestamp", "not json", "garbage header"],
)
def test_forged_or_stale_signatures_are_refused_and_change_nothing(
    tamper, cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    before, ledger_before = _snapshot(row), list(WebhookEvent.objects.values_list("pk", flat=True))
    event = fake.event(
        "customer.subscription.deleted", fake.set_status(row.stripe_subscription_id, "canceled")
    )
    payload = json.dumps(event)
    header = sign(payload)
    if tamper == "wrong secret":
        header = sign(payload, secret="whsec_someone_else")
    elif tamper == "changed body":
        payload = payload.replace('"canceled"', '"active"')
    elif tamper == "stale timestamp":
        header = sign(payload, timestamp=int(time.time()) - 3600)
    elif tamper == "not json":
        payload = "this is not json"
        header = sign(payload)
    elif tamper == "garbage header":
        header = "t=abc,v1=zzz"
    extra = {} if tamper == "no header" else {"HTTP_STRIPE_SIGNATURE": header}
    response = webhook_http.post(
        "/billing/webhook/", data=payload, content_type="application/json", **extra
    )
    assert response.status_code == 400
    assert _snapshot(row) == before
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == ledger_before


def test_webhook_without_a_configured_secret_refuses(cast, webhook_http, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = webhook_http.post(
        "/billing/webhook/",
        data="{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign("{}"),
    )
    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()


def test_webhook_answers_only_post(webhook_http, cast):
    assert webhook_http.get("/billing/webhook/").status_code == 405


def test_webhook_needs_no_csrf_token_but_a_signature(cast, fake):
    strict = Client(HTTP_HOST=django_settings.BASE_DOMAIN, enforce_csrf_checks=True)
    response = deliver(
        strict, fake.event("customer.created", {"id": "cus_x", "object": "customer"})
    )
    assert (response.status_code, response.content) == (200, b"ignored")
    assert (
        strict.post("/billing/webhook/", data="{}", content_type="application/json").status_code
        == 400
    )


def test_unknown_event_types_are_recorded_and_ignored(cast, fake, webhook_http):
    response = deliver(
        webhook_http, fake.event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})
    )
    assert (response.status_code, response.content) == (200, b"ignored")
    (entry,) = WebhookEvent.objects.all()
    assert (entry.type, entry.outcome, entry.firm) == ("customer.tax_id.created", "ignored", None)
    assert fake.calls == []


def test_events_for_an_unknown_customer_are_acknowledged_and_logged(cast, fake, webhook_http):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("billing.webhooks")
    logger.addHandler(handler)
    stranger = {
        "id": "sub_stranger",
        "object": "subscription",
        "customer": "cus_stranger",
        "status": "active",
    }
    try:
        response = deliver(webhook_http, fake.event("customer.subscription.updated", stranger))
    finally:
        logger.removeHandler(handler)
    assert (response.status_code, response.content) == (200, b"unknown_customer")
    assert not FirmSubscription.objects.exists()
    assert WebhookEvent.objects.get().detail == "cus_stranger"
    assert [record.levelname for record in records] == ["WARNING"]
    assert "unknown_customer cus_stranger" in records[0].getMessage()
    assert fake.calls == []  # nothing asked of Stripe for a stranger


def test_events_out_of_order_never_move_the_state_backwards(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    sub_id = row.stripe_subscription_id
    failed = fake.event("customer.subscription.updated", fake.set_status(sub_id, "past_due"))
    recovered = fake.event("customer.subscription.updated", fake.set_status(sub_id, "active"))
    assert failed["created"] < recovered["created"]
    assert deliver(webhook_http, recovered).content == b"processed"
    assert deliver(webhook_http, failed).content == b"stale"
    row.refresh_from_db()
    assert row.status == FirmSubscription.Status.ACTIVE and row.past_due_since is None
    assert row.last_event_created == datetime.datetime.fromtimestamp(
        recovered["created"], tz=datetime.UTC
    )
    # An early `created` event delivered after everything else is stale too.
    created = fake.event(
        "customer.subscription.created", fake.subscriptions[sub_id], created=failed["created"] - 5
    )
    assert deliver(webhook_http, created).content == b"stale"
    assert WebhookEvent.objects.filter(outcome="stale").count() == 2


def test_an_events_body_is_not_trusted_over_stripes_current_state(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    snapshot = fake.set_status(row.stripe_subscription_id, "past_due")
    fake.set_status(row.stripe_subscription_id, "active")  # paid before the event arrived
    assert (
        deliver(webhook_http, fake.event("customer.subscription.updated", snapshot)).content
        == b"processed"
    )
    row.refresh_from_db()
    assert row.status == FirmSubscription.Status.ACTIVE


def test_failed_payment_starts_the_grace_period_and_paid_invoice_ends_it(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    fake.set_status(row.stripe_subscription_id, "past_due")
    invoice = fake.invoice_for(row.stripe_subscription_id, status="open")
    failed = fake.event("invoice.payment_failed", invoice)
    assert deliver(webhook_http, failed).content == b"processed"
    row.refresh_from_db()
    assert row.status == FirmSubscription.Status.PAST_DUE
    assert row.past_due_since == datetime.datetime.fromtimestamp(failed["created"], tz=datetime.UTC)
    fake.set_status(row.stripe_subscription_id, "active")
    invoice["status"] = "paid"
    assert deliver(webhook_http, fake.event("invoice.paid", invoice)).content == b"processed"
    row.refresh_from_db()
    assert (row.status, row.past_due_since) == (FirmSubscription.Status.ACTIVE, None)


def test_cancellation_is_recorded_and_keeps_the_customer(cast, fake, admin_console, webhook_http):
    row = _subscribed(admin_console, fake, webhook_http)
    deleted = fake.event(
        "customer.subscription.deleted", fake.set_status(row.stripe_subscription_id, "canceled")
    )
    assert deliver(webhook_http, deleted).content == b"processed"
    row.refresh_from_db()
    assert row.status == FirmSubscription.Status.CANCELED
    assert row.stripe_customer_id and row.stripe_subscription_id
    # Cancelled: subscribing again is possible, for the same customer.
    again = _checkout(admin_console, fake)
    assert again["customer"] == row.stripe_customer_id


def test_a_second_completed_checkout_does_not_replace_the_subscription_in_force(
    cast, fake, admin_console, webhook_http
):
    first_session = _checkout(admin_console, fake)
    second_session = _checkout(admin_console, fake)  # two tabs
    first = fake.complete_checkout(first_session["id"])
    second = fake.complete_checkout(second_session["id"])
    assert (
        deliver(webhook_http, fake.event("checkout.session.completed", first)).content
        == b"processed"
    )
    row = FirmSubscription.objects.get(firm=cast.acme)
    before = _snapshot(row)
    response = deliver(webhook_http, fake.event("checkout.session.completed", second))
    assert (response.status_code, response.content) == (200, b"other_subscription")
    assert _snapshot(row) == before
    assert row.stripe_subscription_id == first["subscription"]


# ------------------------------------------------------------------------------- quantity sync
def test_suspending_a_client_sets_the_quantity_with_a_deterministic_key(
    cast, fake, admin_console, webhook_http, django_capture_on_commit_callbacks
):
    row = _subscribed(admin_console, fake, webhook_http)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.client_update(actor=Operator("test"), client=cast.a2, status="suspended")
    (call,) = fake.calls_to("post", f"/v1/subscriptions/{row.stripe_subscription_id}")
    item_id = row.stripe_subscription_item_id
    assert call.params["items"] == [{"id": item_id, "price": PRICE_ID, "quantity": "1"}]
    assert call.idempotency_key.startswith(f"vertrouwd-firm-{cast.acme.pk}-quantity-1-{PRICE_ID}-")
    minute = int(call.idempotency_key.rsplit("-", 1)[1])
    assert abs(minute - time.time() // 60) <= 1
    row.refresh_from_db()
    assert (row.quantity, row.quantity_sync_due_at) == (1, None)
    assert fake.subscriptions[row.stripe_subscription_id]["items"]["data"][0]["quantity"] == 1


def test_a_change_that_leaves_the_count_alone_sends_nothing(
    cast, fake, admin_console, webhook_http, django_capture_on_commit_callbacks
):
    row = _subscribed(admin_console, fake, webhook_http)
    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.client_update(
            actor=Operator("test"), client=cast.a1, name="Zorggroep Noord-Oost"
        )  # no status change
    assert services.quantity_sync(cast.acme.pk) == "unchanged"
    assert fake.calls_to("post", f"/v1/subscriptions/{row.stripe_subscription_id}") == []


def test_a_repeated_sync_in_the_same_minute_reuses_the_idempotency_key(
    cast, fake, admin_console, webhook_http
):
    row = _subscribed(admin_console, fake, webhook_http)
    cast.a2.status = "suspended"
    cast.a2.save(update_fields=["status"])
    now = datetime.datetime(2026, 3, 1, 10, 15, 5, tzinfo=datetime.UTC)
    assert services.quantity_sync(cast.acme.pk, now=now) == "updated"
    # The answer got lost (say the worker died before saving): the retry sends the same key,
    # and Stripe answers from its idempotency store instead of applying it again.
    FirmSubscription.objects.filter(pk=row.pk).update(quantity=2)
    assert (
        services.quantity_sync(cast.acme.pk, now=now + datetime.timedelta(seconds=40)) == "updated"
    )
    first, second = fake.calls_to("post", f"/v1/subscriptions/{row.stripe_subscription_id}")
    assert first.idempotency_key == second.idempotency_key
    assert (
        first.idempotency_key
        == f"vertrouwd-firm-{cast.acme.pk}-quantity-1-{PRICE_ID}-{int(now.timestamp() // 60)}"
    )
    row.refresh_from_db()
    assert row.quantity == 1


def test_clients_changed_during_checkout_are_synced_when_it_completes(
    cast, fake, admin_console, webhook_http, django_capture_on_commit_callbacks
):
    session = _checkout(admin_console, fake)  # 2 active clients
    cast.a2.status = "suspended"
    cast.a2.save(update_fields=["status"])
    completed = fake.complete_checkout(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            deliver(webhook_http, fake.event("checkout.session.completed", completed)).status_code
            == 200
        )
    row = FirmSubscription.objects.get(firm=cast.acme)
    (update,) = fake.calls_to("post", f"/v1/subscriptions/{row.stripe_subscription_id}")
    assert update.params["items"][0]["quantity"] == "1"
    assert (row.status, row.quantity) == ("active", 1)


def test_firms_without_a_subscription_sync_nothing(cast, fake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.client_update(actor=Operator("test"), client=cast.a2, status="suspended")
    assert services.quantity_sync_request(cast.acme.pk) is False
    assert services.quantity_sync(cast.acme.pk) == "no_subscription"
    assert fake.calls == []


def test_a_tier_switches_the_price_with_the_client_count(
    cast, fake, admin_console, webhook_http, settings
):
    row = _subscribed(admin_console, fake, webhook_http)
    fake.add_price("price_small", 1500)
    settings.STRIPE_PRICE_TIERS = f"1:price_small,:{PRICE_ID}"
    cast.a2.status = "suspended"
    cast.a2.save(update_fields=["status"])
    assert services.quantity_sync(cast.acme.pk) == "updated"
    row.refresh_from_db()
    assert (row.stripe_price_id, row.quantity) == ("price_small", 1)


@pytest.fixture
def queued_tasks(monkeypatch):
    """Celery as with a worker: tasks go to the (in-memory) broker instead of running at once."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(django_settings, "CELERY_TASK_ALWAYS_EAGER", False)
    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE

    def drain() -> list:
        messages = []
        with celery_app.connection_for_read() as connection:
            simple = connection.SimpleQueue(queue)
            while simple.qsize():
                message = simple.get(block=False)
                message.ack()
                messages.append(message)
            simple.close()
        return messages

    drain()
    yield drain
    drain()


def test_ten_client_changes_in_a_minute_give_one_update(
    cast, fake, admin_console, webhook_http, queued_tasks, django_capture_on_commit_callbacks
):
    row = _subscribed(admin_console, fake, webhook_http)
    # a1 and a2 suspended and reactivated in turn; after ten changes both are suspended.
    changes = [
        (cast.a1, "suspended"),
        (cast.a2, "suspended"),
        (cast.a1, "active"),
        (cast.a2, "active"),
    ] * 2
    changes += [(cast.a1, "suspended"), (cast.a2, "suspended")]
    for client, status in changes:
        with django_capture_on_commit_callbacks(execute=True):
            tenant_services.client_update(actor=Operator("test"), client=client, status=status)
    (message,) = queued_tasks()
    assert message.headers["task"] == "billing.tasks.subscription_sync_quantity"
    assert message.headers["argsrepr"] == f"[{cast.acme.pk}]"
    eta = datetime.datetime.fromisoformat(message.headers["eta"])
    assert 55 <= (eta - datetime.datetime.now(tz=eta.tzinfo)).total_seconds() <= 60
    row.refresh_from_db()
    assert row.quantity_sync_due_at is not None
    assert fake.calls_to("post", f"/v1/subscriptions/{row.stripe_subscription_id}") == []
    # The worker runs it a minute later: one update, with the count at that moment.
    assert subscription_sync_quantity.apply(args=[cast.acme.pk]).get() == "updated"
    (update,) = fake.calls_to("post", f"/v1/subscriptions/{row.stripe_subscription_id}")
    assert update.params["items"][0]["quantity"] == "0"
    row.refresh_from_db()
    assert (row.quantity, row.quantity_sync_due_at) == (0, None)
    # The next change after the sync starts a new batch.
    with django_capture_on_commit_callbacks(execute=True):
        tenant_services.client_update(actor=Operator("test"), client=cast.a1, status="active")
    assert len(queued_tasks()) == 1


# ------------------------------------------------------------------------------- configuration
def test_price_tiers_pick_the_price_by_client_count(settings):
    settings.STRIPE_PRICE_TIERS = "10:price_small, 50:price_mid, :price_large"
    assert [conf.price_for_quantity(n) for n in (0, 10, 11, 50, 51, 5000)] == [
        "price_small",
        "price_small",
        "price_mid",
        "price_mid",
        "price_large",
        "price_large",
    ]
    settings.STRIPE_PRICE_TIERS = ""
    settings.STRIPE_PRICE_PER_CLIENT = "price_flat"
    assert conf.price_for_quantity(7) == "price_flat"


@pytest.mark.parametrize(
    "raw", ["10:a", "a:b,:c", "10:a,5:b,:c", ":a,:b", "10:,:b", "10", "-1:a,:b"]
)
def test_malformed_tier_strings_fail_the_system_check(raw, settings):
    settings.STRIPE_PRICE_TIERS = raw
    (error,) = check_configuration(None)
    assert (error.id, error.obj) == ("billing.E001", "STRIPE_PRICE_TIERS")
    settings.STRIPE_PRICE_TIERS = ""
    settings.BILLING_CLIENT_FEE_TIERS = raw.replace("a", "1").replace("b", "x")
    assert [error.obj for error in check_configuration(None)] == ["BILLING_CLIENT_FEE_TIERS"]


def test_the_default_configuration_passes_the_system_check():
    assert check_configuration(None) == []


# ------------------------------------------------------------------------------ reconciliation
def test_nightly_reconcile_corrects_a_quantity_changed_at_stripe(
    cast, fake, admin_console, webhook_http
):
    from billing.tasks import subscriptions_reconcile

    row = _subscribed(admin_console, fake, webhook_http)
    wanted = row.quantity
    # Someone set the quantity in Stripe's dashboard and the webhook never came: our copy still
    # says all is well, so only a fresh read finds the drift.
    fake.subscriptions[row.stripe_subscription_id]["items"]["data"][0]["quantity"] = wanted + 7
    assert services.quantity_sync(cast.acme.pk) == "unchanged"  # what the debounced sync sees
    assert subscriptions_reconcile() == {"updated": 1}
    assert fake.subscriptions[row.stripe_subscription_id]["items"]["data"][0]["quantity"] == wanted
    row.refresh_from_db()
    assert row.quantity == wanted
    assert subscriptions_reconcile() == {"unchanged": 1}  # idempotent


def test_reconcile_skips_firms_without_a_subscription_and_survives_a_network_failure(
    cast, fake, admin_console, webhook_http, caplog
):
    from billing.tasks import subscriptions_reconcile

    assert subscriptions_reconcile() == {}  # nobody subscribed yet: no call to Stripe
    assert fake.calls == []
    row = _subscribed(admin_console, fake, webhook_http)
    before = _snapshot(row)
    fake.unreachable = True
    assert subscriptions_reconcile() == {"failed": 1}
    assert "Reconciling the subscription" in caplog.text
    assert _snapshot(row) == before


def test_reconcile_leaves_a_cancelled_subscription_alone(cast, fake, admin_console, webhook_http):
    row = _subscribed(admin_console, fake, webhook_http)
    FirmSubscription.objects.filter(pk=row.pk).update(status="canceled")
    calls = len(fake.calls)
    assert services.quantity_reconcile(cast.acme.pk) == "no_subscription"
    assert len(fake.calls) == calls


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda event: [event], "Stripe webhook rejected"),
        (lambda event: {**event, "id": "evt_\x00x"}, "no usable id"),
        (lambda event: {**event, "id": 12}, "no usable id"),
        (lambda event: {**event, "created": 1e20}, "no usable created time"),
        (lambda event: {**event, "created": 10**20}, "no usable created time"),
        (lambda event: {**event, "type": None}, "no usable type"),
        (lambda event: {k: v for k, v in event.items() if k != "data"}, "no data.object"),
        (lambda event: {**event, "data": []}, "no data.object"),
    ],
)
def test_signed_but_malformed_events_are_refused_and_logged(
    cast, fake, webhook_http, caplog, change, reason
):
    """Correctly signed nonsense gave a 500, which Stripe retries for days."""
    event = change(
        fake.event("customer.subscription.updated", {"id": "sub_1", "customer": "cus_1"})
    )
    payload = json.dumps(event)
    with caplog.at_level("WARNING", logger="billing"):
        response = webhook_http.post(
            "/billing/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(payload),
        )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert any(reason in record.getMessage() for record in caplog.records)


def test_a_half_configured_install_is_told_which_variable_is_missing(
    cast, fake, admin_console, webhook_http, settings, caplog
):
    """Issue 14: a half-configured install was told the wrong variable. A completed checkout
    must be read back from Stripe (the event holds no subscription), so it needs the API key;
    without the webhook secret nothing can be verified. Nothing is recorded either way, so
    Stripe delivers again once the variable is set."""
    session = _checkout(admin_console, fake)
    event = fake.event("checkout.session.completed", fake.complete_checkout(session["id"]))
    api_key = settings.STRIPE_SECRET_KEY
    for missing in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        settings.STRIPE_SECRET_KEY = "" if missing == "STRIPE_SECRET_KEY" else api_key
        if missing == "STRIPE_WEBHOOK_SECRET":
            settings.STRIPE_WEBHOOK_SECRET = ""
        caplog.clear()
        with caplog.at_level("ERROR", logger="billing"):
            response = deliver(webhook_http, event)
        assert response.status_code == 503, missing
        said = " ".join(record.getMessage() for record in caplog.records)
        assert f"{missing} is not set." in said
        other = {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} - {missing}
        assert other.pop() not in said
        assert not WebhookEvent.objects.exists()
        assert not FirmSubscription.objects.exclude(stripe_subscription_id="").exists()
