"""Billing pages on the console (firm admins) and the Stripe webhook. Thin views."""

from __future__ import annotations

import logging
from typing import Any

from csp.decorators import csp_update
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing import invoicing, selectors, services, stripe_gateway, webhooks
from billing.forms import ContractForm, PeriodForm
from billing.models import ClientContract, FirmSubscription
from saas import hosts
from tenants import selectors as tenant_selectors
from tenants.access import Role, allow, public
from tenants.models import ClientOrganisation

logger = logging.getLogger(__name__)


INVOICE_STATUS = {
    "draft": pgettext_lazy("invoice status", "Draft"),
    "open": pgettext_lazy("invoice status", "Open"),
    "paid": pgettext_lazy("invoice status", "Paid"),
    "uncollectible": pgettext_lazy("invoice status", "Uncollectible"),
    "void": pgettext_lazy("invoice status", "Void"),
}


def _overview_url(request: HttpRequest, **query: str) -> str:
    return hosts.console_url(reverse("billing:overview"), request=request, **query)


def _stripe_details(row: FirmSubscription | None) -> dict[str, Any]:
    """Price, next invoice and past invoices from Stripe; an error message if it cannot answer."""
    details: dict[str, Any] = {
        "price": None,
        "upcoming": None,
        "invoices": [],
        "stripe_error": False,
    }
    if row is None or not row.stripe_customer_id:
        return details
    try:
        details["invoices"] = stripe_gateway.invoices_list(customer_id=row.stripe_customer_id)
        for invoice in details["invoices"]:
            invoice["status_label"] = INVOICE_STATUS.get(
                invoice.get("status"), invoice.get("status")
            )
        if row.stripe_subscription_id and row.status in services.LIVE:
            details["upcoming"] = stripe_gateway.invoice_preview(
                customer_id=row.stripe_customer_id, subscription_id=row.stripe_subscription_id
            )
        if row.stripe_price_id:
            details["price"] = stripe_gateway.price_retrieve(row.stripe_price_id)
    except stripe_gateway.BillingNotConfigured:
        pass
    except stripe_gateway.GatewayError as error:
        logger.warning("Stripe could not answer for firm %s: %s", row.firm_id, error)
        details["stripe_error"] = True
    return details


@allow(Role.FIRM_ADMIN)
@require_safe
# The checkout and portal buttons post here and are redirected on to Stripe; browsers check
# the form-action policy on that redirect, so this page (and only this one) allows Stripe.
@csp_update({"form-action": ["https://checkout.stripe.com", "https://billing.stripe.com"]})
def overview(request: HttpRequest) -> HttpResponse:
    firm = request.firm
    row = selectors.subscription_for(firm=firm)
    checkout = request.GET.get("checkout")
    if checkout == "done":
        messages.info(
            request, _("Thank you. The subscription starts as soon as Stripe confirms the payment.")
        )
    elif checkout == "cancelled":
        messages.info(request, _("Checkout was cancelled; nothing was charged."))
    context = {
        "row": row,
        "state": selectors.access_state(firm_id=firm.pk),
        "active_clients": selectors.active_client_count(firm_id=firm.pk),
        "can_subscribe": row is None
        or not row.stripe_subscription_id
        or row.status not in services.LIVE,
        "has_customer": bool(row and row.stripe_customer_id),
        **_stripe_details(row),
    }
    return render(request, "billing/overview.html", context)


@allow(Role.FIRM_ADMIN)
@require_POST
def checkout(request: HttpRequest) -> HttpResponse:
    try:
        url = services.checkout_start(
            firm=request.firm,
            email=request.user.email,
            success_url=_overview_url(request, checkout="done"),
            cancel_url=_overview_url(request, checkout="cancelled"),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except stripe_gateway.GatewayError as error:
        logger.warning("Checkout for firm %s failed: %s", request.firm.pk, error)
        messages.error(request, _("Stripe could not be reached. Please try again in a moment."))
    else:
        return redirect(url)
    return redirect("billing:overview")


@allow(Role.FIRM_ADMIN)
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    try:
        url = services.portal_start(firm=request.firm, return_url=_overview_url(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except stripe_gateway.GatewayError as error:
        logger.warning("Portal for firm %s failed: %s", request.firm.pk, error)
        messages.error(request, _("Stripe could not be reached. Please try again in a moment."))
    else:
        return redirect(url)
    return redirect("billing:overview")


@public
@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries: 400 for bad signatures, 200 once recorded (also for replays)."""
    try:
        entry, new = webhooks.webhook_receive(request.body, request.headers.get("Stripe-Signature"))
    except webhooks.WebhookRejected as error:
        logger.warning("Stripe webhook rejected: %s", error)
        return HttpResponseBadRequest("invalid signature or payload", content_type="text/plain")
    except stripe_gateway.BillingNotConfigured as error:
        # Name the variable that is missing (the webhook secret, or the API key the handler
        # needs to read the subscription back): a half-configured install was told the wrong one.
        logger.error("Stripe webhook received but billing is not configured: %s", error)
        return HttpResponse("not configured", status=503, content_type="text/plain")
    return HttpResponse(f"{entry.outcome}{'' if new else ' (replay)'}", content_type="text/plain")


def _period_form(request: HttpRequest) -> PeriodForm:
    return PeriodForm(request.GET if request.GET else PeriodForm.default_initial())


@allow(Role.FIRM_ADMIN)
@require_safe
def invoicing_overview(request: HttpRequest) -> HttpResponse:
    form = _period_form(request)
    lines = invoicing.lines_for(firm=request.firm, period=form.period) if form.is_valid() else []
    return render(
        request,
        "billing/invoicing.html",
        {"form": form, "lines": lines, "query": request.GET.urlencode() if form.is_valid() else ""},
        status=200 if form.is_bound and not form.errors else 400,
    )


def _export(request: HttpRequest, kind: str) -> HttpResponse:
    form = _period_form(request)
    if not form.is_valid():
        return render(request, "billing/invoicing.html", {"form": form, "lines": []}, status=400)
    period = form.period
    lines = invoicing.lines_for(firm=request.firm, period=period)
    name = f"invoicing-{request.firm.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if kind == "csv":
        response = HttpResponse(
            invoicing.export_csv(lines, period), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            invoicing.export_xlsx(lines, period),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@allow(Role.FIRM_ADMIN)
@require_safe
def invoicing_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@allow(Role.FIRM_ADMIN)
@require_safe
def invoicing_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")


@allow(Role.FIRM_ADMIN)
@require_safe
def statement_pdf(request: HttpRequest, client_id: int) -> HttpResponse:
    client = tenant_selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    form = _period_form(request)
    if not form.is_valid():
        return render(request, "billing/invoicing.html", {"form": form, "lines": []}, status=400)
    if client.status == ClientOrganisation.Status.OFFBOARDED:
        raise Http404
    period = form.period
    line = invoicing.line_for(client=client, period=period)
    response = HttpResponse(
        invoicing.statement_pdf(firm=request.firm, line=line, period=period),
        content_type="application/pdf",
    )
    name = f"statement-{client.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = tenant_selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    contract = ClientContract.objects.filter(client=client).first()
    if contract is not None:
        initial = {
            "fee_mode": contract.fee_mode,
            "annual_fee": contract.annual_fee,
            "hourly_rate": contract.hourly_rate,
            "hours_included_per_year": contract.hours_included_per_year,
            "starts_on": contract.starts_on,
        }
    else:
        initial = {
            "fee_mode": "tiered",
            "starts_on": client.contract_starts_on or timezone.localdate(),
        }
    form = ContractForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_contract_save(client=client, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The contract of %(name)s is saved.") % {"name": client.name}
            )
            return redirect("billing:invoicing")
    return render(
        request,
        "billing/contract_form.html",
        {"form": form, "client": client, "contract": contract},
        status=400 if form.is_bound and form.errors else 200,
    )
