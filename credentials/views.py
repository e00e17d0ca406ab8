"""The firm's credentials register and its clients' internal advisers' appointments (console).

Firm admins only: these are facts about people (the firm's advisers and the clients'
employees), kept for the firm's own obligations. Thin views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from credentials import selectors, services
from credentials.forms import (
    AppointmentForm,
    CertificateForm,
    DeclarationsForm,
    PolicyForm,
    TrainingForm,
)
from credentials.models import InternalAdviserAppointment
from tenants import selectors as tenant_selectors
from tenants.access import Role, allow
from tenants.models import ClientMembership, FirmMembership


def _advisers(firm: Any) -> list[User]:
    return list(
        User.objects.filter(
            firm_memberships__firm=firm, firm_memberships__role=FirmMembership.Role.ADVISER
        )
        .distinct()
        .order_by("full_name", "email")
    )


def _trainees(firm: Any) -> list[User]:
    """Advisers of the firm and internal advisers of its clients: who takes training."""
    internal = User.objects.filter(
        client_memberships__client__firm=firm,
        client_memberships__role=ClientMembership.Role.INTERNAL_ADVISER,
    )
    return list(
        (
            User.objects.filter(
                firm_memberships__firm=firm, firm_memberships__role=FirmMembership.Role.ADVISER
            )
            | internal
        )
        .distinct()
        .order_by("full_name", "email")
    )


def internal_advisers_of(client: Any) -> list[User]:
    return list(
        User.objects.filter(
            client_memberships__client=client,
            client_memberships__role=ClientMembership.Role.INTERNAL_ADVISER,
        ).order_by("full_name", "email")
    )


def _page(request: HttpRequest, **bound: Any) -> HttpResponse:
    firm = request.firm
    policy = services.policy_for(firm)
    context = {
        "due": selectors.firm_due(firm=firm),
        "advisers": selectors.adviser_overview(firm=firm),
        "policy": policy,
        "certificate_form": CertificateForm(people=_advisers(firm)),
        "training_form": TrainingForm(
            people=_trainees(firm), initial={"done_on": timezone.localdate()}
        ),
        "policy_form": PolicyForm(
            initial={
                "certificate_years": policy.certificate_years,
                "required_hours": policy.required_hours,
                "required_intervision_hours": policy.required_intervision_hours,
                "reminder_days": policy.reminder_days,
            }
        ),
        **bound,
    }
    return render(request, "credentials/overview.html", context, status=400 if bound else 200)


def _errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _saved(request: HttpRequest, form: Any, write: Callable[..., Any], done: str) -> bool:
    """Validate `form`, then call the service with its data; False (errors on the form) when
    either refuses, so the caller shows the form again."""
    if not form.is_valid():
        return False
    try:
        write(actor=request.user, **form.cleaned_data)
    except ValidationError as error:
        _errors(form, error)
        return False
    messages.success(request, done)
    return True


def _errors_as_messages(request: HttpRequest, form: Any) -> None:
    """The appointment forms sit on the client's page, which is shown again by a redirect: their
    errors travel as messages, each naming its field."""
    for message in form.non_field_errors():
        messages.error(request, message)
    for field in form:
        for message in field.errors:
            messages.error(request, f"{field.label}: {message}")


@allow(Role.FIRM_ADMIN)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """Who is due: certificates, education hours, VOG, internal advisers' basic training."""
    return _page(request)


@allow(Role.FIRM_ADMIN)
@require_POST
def certificate_set(request: HttpRequest) -> HttpResponse:
    form = CertificateForm(request.POST, people=_advisers(request.firm))
    if _saved(request, form, partial(services.credential_set, firm=request.firm), _("Saved.")):
        return redirect("credentials:overview")
    return _page(request, certificate_form=form)


@allow(Role.FIRM_ADMIN)
@require_POST
def training_add(request: HttpRequest) -> HttpResponse:
    form = TrainingForm(request.POST, people=_trainees(request.firm))
    if _saved(
        request, form, partial(services.training_add, firm=request.firm), _("Training recorded.")
    ):
        return redirect("credentials:overview")
    return _page(request, training_form=form)


@allow(Role.FIRM_ADMIN)
@require_POST
def policy_set(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST)
    if _saved(request, form, partial(services.policy_set, firm=request.firm), _("Saved.")):
        return redirect("credentials:overview")
    return _page(request, policy_form=form)


@allow(Role.FIRM_ADMIN)
@require_POST
def appointment_add(request: HttpRequest, client_id: int) -> HttpResponse:
    client = tenant_selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    form = AppointmentForm(request.POST, people=internal_advisers_of(client))
    write = partial(services.appointment_create, client=client)
    if not _saved(request, form, write, _("Appointment recorded.")):
        _errors_as_messages(request, form)
    return redirect("client_detail", client_id=client.pk)


def _appointment_of_firm(request: HttpRequest, appointment_id: int) -> InternalAdviserAppointment:
    """The firm's appointment, or 404 (another firm's is "missing" too)."""
    appointment = (
        InternalAdviserAppointment.objects.filter(pk=appointment_id, client__firm=request.firm)
        .select_related("client")
        .first()
    )
    if appointment is None:
        raise Http404
    return appointment


@allow(Role.FIRM_ADMIN)
@require_POST
def appointment_declarations(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """Record the representatives' agreement and the declarations of an appointment."""
    appointment = _appointment_of_firm(request, appointment_id)
    form = DeclarationsForm(request.POST, prefix=f"appointment-{appointment.pk}")
    write = partial(services.appointment_declarations_set, appointment=appointment)
    if not _saved(request, form, write, _("Declarations saved.")):
        _errors_as_messages(request, form)
    return redirect("client_detail", client_id=appointment.client_id)


@allow(Role.FIRM_ADMIN)
@require_POST
def appointment_end(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = _appointment_of_firm(request, appointment_id)
    services.appointment_end(actor=request.user, appointment=appointment)
    messages.success(request, _("Appointment ended."))
    return redirect("client_detail", client_id=appointment.client_id)
