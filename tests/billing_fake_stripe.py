"""A local Stripe for the billing tests: a `stripe.HTTPClient` that keeps state and answers in
Stripe's JSON, so stripe-python's real request encoding, idempotency headers, response parsing
and error mapping all run. Nothing reaches the network.

It also plays Stripe's side of the flows (a customer paying at Checkout, a failed renewal, a
cancellation) and signs webhook payloads with Stripe's real scheme (`t=..,v1=hmac`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from billing import stripe_gateway

SECRET_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"
PRICE_ID = "price_client_month"
PRICE_AMOUNT = 1250  # cents per client organisation per month


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`line_items[0][price]=x` → {"line_items": [{"price": "x"}]} (Stripe's form encoding)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {key: _lists(value) for key, value in node.items()}
        if converted and all(key.isdigit() for key in converted):
            return [converted[key] for key in sorted(converted, key=int)]
        return converted
    return node


class StripeFailure(Exception):
    def __init__(
        self, status: int, message: str, code: str = "", kind: str = "invalid_request_error"
    ):
        super().__init__(message)
        self.status, self.message, self.code, self.kind = status, message, code, kind


class FakeStripe(stripe.HTTPClient):
    name = "fake-stripe"

    def __init__(self) -> None:
        super().__init__()
        self.clock = int(time.time())
        self.calls: list[Call] = []
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.unreachable = False
        self._ids = itertools.count(1)
        self._idempotent: dict[str, tuple[str, tuple[str, int, dict[str, str]]]] = {}
        self.add_price(PRICE_ID, PRICE_AMOUNT)

    # --------------------------------------------------------------------------------- plumbing
    @classmethod
    @contextlib.contextmanager
    def installed(cls, settings: Any) -> Iterator[FakeStripe]:
        """Configure keys and price in `settings` (pytest-django's fixture) and route calls here."""
        fake = cls()
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_PRICE_PER_CLIENT = PRICE_ID
        settings.STRIPE_PRICE_TIERS = ""
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        with stripe_gateway.override_http_client(fake):
            yield fake

    def _id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):04d}"

    def tick(self, seconds: int = 1) -> int:
        self.clock += seconds
        return self.clock

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ):
        if self.unreachable:
            raise stripe.APIConnectionError("fake network is down", should_retry=False)
        parts = urlsplit(url)
        assert parts.netloc == "api.stripe.com", url
        assert dict(headers).get("Authorization") == f"Bearer {SECRET_KEY}"
        raw = post_data if method == "post" else parts.query
        if isinstance(raw, bytes):
            raw = raw.decode()
        params = _nest(parse_qsl(raw or "", keep_blank_values=True))
        key = dict(headers).get("Idempotency-Key")
        self.calls.append(Call(method, parts.path, params, key))
        fingerprint = f"{method} {parts.path} {raw}"
        if method == "post" and key in self._idempotent:
            stored_fingerprint, response = self._idempotent[key]
            if stored_fingerprint != fingerprint:
                return self._error(
                    StripeFailure(
                        400,
                        "Keys for idempotent requests can only be used with the "
                        "same parameters they were first used with.",
                        kind="idempotency_error",
                    )
                )
            return response
        try:
            body = self._route(method, parts.path, params)
            response = (json.dumps(body), 200, {"Request-Id": self._id("req")})
        except StripeFailure as failure:
            response = self._error(failure)
        if method == "post" and key:
            self._idempotent[key] = (fingerprint, response)
        return response

    def close(self) -> None:
        pass

    @staticmethod
    def _error(failure: StripeFailure) -> tuple[str, int, dict[str, str]]:
        body = {"error": {"type": failure.kind, "message": failure.message, "code": failure.code}}
        return json.dumps(body), failure.status, {"Request-Id": "req_error"}

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        return [
            call
            for call in self.calls
            if call.method == method and re.fullmatch(pattern, call.path)
        ]

    # ----------------------------------------------------------------------------------- routes
    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        routes = [
            ("post", r"/v1/customers", self._customer_create),
            ("get", r"/v1/customers/([^/]+)", lambda p, i: self._get(self.customers, i)),
            ("post", r"/v1/checkout/sessions", self._session_create),
            ("post", r"/v1/billing_portal/sessions", self._portal_create),
            ("get", r"/v1/subscriptions/([^/]+)", lambda p, i: self._get(self.subscriptions, i)),
            ("post", r"/v1/subscriptions/([^/]+)", self._subscription_update),
            ("get", r"/v1/invoices", self._invoice_list),
            ("post", r"/v1/invoices/create_preview", self._invoice_preview),
            ("get", r"/v1/prices/([^/]+)", lambda p, i: self._get(self.prices, i)),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return handler(params, *match.groups())
        raise StripeFailure(404, f"Unrecognized request URL ({method.upper()}: {path}).")

    @staticmethod
    def _get(store: dict[str, dict[str, Any]], object_id: str) -> dict[str, Any]:
        if object_id not in store:
            raise StripeFailure(404, f"No such object: '{object_id}'", code="resource_missing")
        return store[object_id]

    def add_price(self, price_id: str, unit_amount: int) -> None:
        self.prices[price_id] = {
            "id": price_id,
            "object": "price",
            "active": True,
            "currency": "eur",
            "unit_amount": unit_amount,
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
        }

    def _customer_create(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": self._id("cus"),
            "object": "customer",
            "name": params.get("name"),
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "created": self.clock,
        }
        self.customers[customer["id"]] = customer
        return customer

    def _session_create(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "subscription":
            raise StripeFailure(400, "mode must be subscription here")
        self._get(self.customers, params.get("customer", ""))
        items = params.get("line_items") or []
        if (
            len(items) != 1
            or items[0].get("price") not in self.prices
            or int(items[0].get("quantity", 0)) < 1
        ):
            raise StripeFailure(400, "line_items need one known price and a quantity of at least 1")
        for name in ("success_url", "cancel_url"):
            if not str(params.get(name, "")).startswith(("http://", "https://")):
                raise StripeFailure(400, f"Not a valid URL: {name}")
        session_id = self._id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "payment_status": "unpaid",
            "customer": params["customer"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "subscription": None,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "_line_item": {"price": items[0]["price"], "quantity": int(items[0]["quantity"])},
            "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata", {}),
        }
        self.sessions[session_id] = session
        return self._public(session)

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _portal_create(self, params: dict[str, Any]) -> dict[str, Any]:
        self._get(self.customers, params.get("customer", ""))
        portal_id = self._id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.com/p/session/{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return portal

    def _subscription_update(self, params: dict[str, Any], subscription_id: str) -> dict[str, Any]:
        subscription = self._get(self.subscriptions, subscription_id)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise StripeFailure(400, "A canceled subscription can only update its metadata.")
        for change in params.get("items", []):
            item = next(
                (i for i in subscription["items"]["data"] if i["id"] == change.get("id")), None
            )
            if item is None:
                raise StripeFailure(400, f"No such subscription item: '{change.get('id')}'")
            if "price" in change:
                item["price"] = self._get(self.prices, change["price"])
            if "quantity" in change:
                quantity = int(change["quantity"])
                if quantity < 0:
                    raise StripeFailure(400, "Invalid quantity")
                item["quantity"] = quantity
        return subscription

    def _invoice_list(self, params: dict[str, Any]) -> dict[str, Any]:
        found = [i for i in self.invoices.values() if i["customer"] == params.get("customer")]
        found.sort(key=lambda invoice: invoice["created"], reverse=True)
        limit = int(params.get("limit", 10))
        return {
            "object": "list",
            "url": "/v1/invoices",
            "has_more": len(found) > limit,
            "data": found[:limit],
        }

    def _invoice_preview(self, params: dict[str, Any]) -> dict[str, Any]:
        subscription = self._get(self.subscriptions, params.get("subscription", ""))
        item = subscription["items"]["data"][0]
        amount = item["price"]["unit_amount"] * item["quantity"]
        return {
            "id": None,
            "object": "invoice",
            "customer": subscription["customer"],
            "currency": item["price"]["currency"],
            "amount_due": amount,
            "total": amount,
            "period_end": item["current_period_end"],
            "next_payment_attempt": item["current_period_end"],
            "status": "draft",
        }

    # ------------------------------------------------------------------------ Stripe's own side
    def complete_checkout(self, session_id: str, *, status: str = "active") -> dict[str, Any]:
        """The customer paid: the session completes and creates its subscription and invoice."""
        session = self.sessions[session_id]
        line = session["_line_item"]
        subscription_id = self._id("sub")
        start = self.clock
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "customer": session["customer"],
            "status": status,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "trial_end": None,
            "created": start,
            "metadata": session["_subscription_metadata"],
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self._id("si"),
                        "object": "subscription_item",
                        "price": self.prices[line["price"]],
                        "quantity": line["quantity"],
                        "current_period_start": start,
                        "current_period_end": start + 30 * 86400,
                        "subscription": subscription_id,
                    }
                ],
            },
        }
        self.subscriptions[subscription_id] = subscription
        session.update(status="complete", payment_status="paid", subscription=subscription_id)
        self.invoice_for(subscription_id, status="paid")
        return self._public(session)

    def invoice_for(self, subscription_id: str, *, status: str) -> dict[str, Any]:
        subscription = self.subscriptions[subscription_id]
        item = subscription["items"]["data"][0]
        amount = item["price"]["unit_amount"] * item["quantity"]
        invoice_id = self._id("in")
        invoice = {
            "id": invoice_id,
            "object": "invoice",
            "number": f"VTW-{len(self.invoices) + 1:04d}",
            "customer": subscription["customer"],
            "currency": "eur",
            "status": status,
            "total": amount,
            "amount_due": amount,
            "amount_paid": amount if status == "paid" else 0,
            "created": self.tick(),
            "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription_id},
            },
        }
        self.invoices[invoice_id] = invoice
        return invoice

    def set_status(self, subscription_id: str, status: str, **changes: Any) -> dict[str, Any]:
        subscription = self.subscriptions[subscription_id]
        subscription.update(status=status, **changes)
        return json.loads(json.dumps(subscription))  # a snapshot, as an event carries

    def event(
        self, event_type: str, obj: dict[str, Any], *, created: int | None = None
    ) -> dict[str, Any]:
        return {
            "id": self._id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": created if created is not None else self.tick(),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": json.loads(json.dumps(obj))},
        }


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for this exact body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def deliver(
    http: Any, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
):
    """POST the event to our webhook as Stripe does: raw JSON body, signed header."""
    payload = json.dumps(event)
    return http.post(
        "/billing/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret, timestamp),
    )
