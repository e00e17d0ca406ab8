"""Firm console (base host) and the client organisation's home (client host). Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from saas import hosts
from tenants import selectors, services, themes
from tenants.access import ANY_CLIENT_ROLE, FIRM_STAFF, Role, allow, verified
from tenants.forms import (
    AssignmentForm,
    ClientEditForm,
    ClientForm,
    FirmSettingsForm,
    InviteForm,
    OffboardForm,
    ThemeAddForm,
    ThemeNameForm,
)
from tenants.models import Assignment, ClientOrganisation


def _client_link(request: HttpRequest, client: ClientOrganisation) -> str:
    domain = next((d.domain for d in client.domains.all() if d.is_primary), None)
    return hosts.absolute_url(domain, "/", request) if domain else ""


@verified
def home(request: HttpRequest) -> HttpResponse:
    """Send people where their work is: the firm console, or their organisation(s)."""
    if request.firm is not None:
        return redirect("console")
    organisations = selectors.organisations_of(user=request.user)
    if not organisations and selectors.role_offers_of(user=request.user):
        return redirect("role_offers")
    if len(organisations) == 1:
        return redirect(_client_link(request, organisations[0]))
    return redirect("organisations")


@verified
def organisations(request: HttpRequest) -> HttpResponse:
    rows = [
        {"client": client, "url": _client_link(request, client)}
        for client in selectors.organisations_of(user=request.user)
    ]
    return render(request, "tenants/organisations.html", {"rows": rows})


@allow(*FIRM_STAFF)
def console(request: HttpRequest) -> HttpResponse:
    clients = list(
        selectors.client_list_for(user=request.user, firm=request.firm, roles=request.roles)
    )
    rows = [{"client": client, "url": _client_link(request, client)} for client in clients]
    context = {"rows": rows, "is_admin": Role.FIRM_ADMIN in request.roles}
    if context["is_admin"]:
        context["advisers"] = selectors.firm_advisers(firm=request.firm)
        context["unassigned"] = [row for row in rows if not row["client"].current_assignments]
    return render(request, "tenants/console.html", context)


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, initial={"contract_starts_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                actor=request.user, firm=request.firm, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s is ready.") % {"name": client.name})
            return redirect("client_detail", client_id=client.pk)
    return render(
        request, "tenants/client_form.html", {"form": form, "base_domain": hosts.base_domain()}
    )


@allow(Role.FIRM_ADMIN)
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    assignments = client.assignments.select_related("adviser").order_by("-starts_on")
    memberships = client.memberships.select_related("user").order_by("role", "user__email")
    form = AssignmentForm(
        advisers=selectors.firm_advisers(firm=request.firm),
        initial={"starts_on": timezone.localdate()},
    )
    from credentials import selectors as credential_selectors
    from credentials.forms import AppointmentForm, DeclarationsForm
    from credentials.views import internal_advisers_of

    internal_advisers = internal_advisers_of(client)
    return render(
        request,
        "tenants/client_detail.html",
        {
            "client": client,
            "problems": credential_selectors.client_problems(client=client),
            "appointments": [
                (
                    appointment,
                    None
                    if appointment.ended_on or client.status == ClientOrganisation.Status.OFFBOARDED
                    else DeclarationsForm.for_appointment(appointment),
                )
                for appointment in client.internal_appointments.select_related("user")
            ],
            "appointment_form": AppointmentForm(
                people=internal_advisers, initial={"appointed_on": timezone.localdate()}
            )
            if internal_advisers
            else None,
            "assignments": assignments,
            "memberships": memberships,
            "assign_form": form,
            "today": timezone.localdate(),
            "url": _client_link(request, client),
        },
    )


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    initial = {
        field: getattr(client, field)
        for field in (
            "name",
            "sector",
            "employee_count",
            "country",
            "contract_starts_on",
            "contract_ends_on",
            "status",
            "advisers_named_in_report",
        )
    }
    form = ClientEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(actor=request.user, client=client, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("client_detail", client_id=client.pk)
    return render(request, "tenants/client_edit.html", {"form": form, "client": client})


@allow(Role.FIRM_ADMIN)
@require_POST
def client_assign(request: HttpRequest, client_id: int) -> HttpResponse:
    client = selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    form = AssignmentForm(request.POST, advisers=selectors.firm_advisers(firm=request.firm))
    if form.is_valid():
        confirmed = request.POST.get("confirm_self_access") == "1"
        try:
            services.assignment_create(
                actor=request.user,
                client=client,
                self_access_confirmed=confirmed,
                **form.cleaned_data,
            )
        except services.SelfAccessNeedsConfirmation:
            # Granting oneself access to case files is never one click: say what it grants.
            other_admins = selectors.firm_admin_count(firm=request.firm) - 1
            return render(
                request,
                "tenants/self_access_confirm.html",
                {"client": client, "form": form, "other_admins": other_admins},
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Adviser assigned."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("client_detail", client_id=client.pk)


@allow(Role.FIRM_ADMIN)
@require_POST
def assignment_end(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = selectors.assignment_get_for_firm(firm=request.firm, assignment_id=assignment_id)
    services.assignment_end(actor=request.user, assignment=assignment)
    messages.success(request, _("The assignment has ended; the adviser's access ended at once."))
    return redirect("client_detail", client_id=assignment.client_id)


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def client_offboard(request: HttpRequest, client_id: int) -> HttpResponse:
    """End a client for good: its data key is destroyed and its schema dropped (irreversible)."""
    client = selectors.client_get_for_firm(firm=request.firm, client_id=client_id)
    if client.status == ClientOrganisation.Status.OFFBOARDED:
        messages.info(request, _("%(name)s is offboarded already.") % {"name": client.name})
        return redirect("client_detail", client_id=client.pk)
    form = OffboardForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        services.client_offboard(client=client, actor=request.user)
        messages.success(
            request,
            _("%(name)s is offboarded: its data key is destroyed and its case files are gone.")
            % {"name": client.name},
        )
        return redirect("client_detail", client_id=client.pk)
    return render(request, "tenants/client_offboard.html", {"form": form, "client": client})


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    clients = ClientOrganisation.objects.filter(
        firm=request.firm, status=ClientOrganisation.Status.ACTIVE
    ).order_by("name")
    form = InviteForm(request.POST or None, clients=clients)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.person_invite(
                actor=request.user,
                firm=request.firm,
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                client=data["client"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # The same words whether the address has an account, a role here, or nothing.
            messages.success(
                request,
                _("The role is offered to %(email)s; it takes effect once they accept it.")
                % {"email": data["email"].strip().lower()},
            )
            return redirect("people")
    return render(
        request,
        "tenants/people.html",
        {
            "form": form,
            "people": selectors.firm_people(firm=request.firm),
            "offers": selectors.firm_role_offers(firm=request.firm),
            "admin_count": selectors.firm_admin_count(firm=request.firm),
        },
    )


@allow(Role.FIRM_ADMIN)
@require_POST
def membership_remove(request: HttpRequest, scope: str, membership_id: int) -> HttpResponse:
    """Take one role away from somebody (their sessions end; what they wrote stays)."""
    membership = selectors.membership_get_for_firm(
        firm=request.firm, scope=scope, membership_id=membership_id
    )
    try:
        services.membership_remove(actor=request.user, firm=request.firm, membership=membership)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The role of %(email)s is removed; their sessions have ended.")
            % {"email": membership.user.email},
        )
    return redirect("people")


@allow(Role.FIRM_ADMIN)
@require_POST
def role_offer_withdraw(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = selectors.role_offer_get_for_firm(firm=request.firm, offer_id=offer_id)
    services.role_offer_withdraw(actor=request.user, offer=offer)
    messages.success(request, _("The offer is withdrawn."))
    return redirect("people")


@allow(Role.FIRM_ADMIN)
def trail(request: HttpRequest) -> HttpResponse:
    """The firm's audit trail: who gave or took access, or changed a setting, and when."""
    page = selectors.trail_page(firm=request.firm, page=request.GET.get("page", 1))
    return render(request, "tenants/trail.html", {"page": page})


@allow(Role.FIRM_ADMIN)
def trail_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    selectors.trail_write_csv(firm=request.firm, out=response)
    return response


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def firm_settings(request: HttpRequest) -> HttpResponse:
    """The firm's anonymity threshold and retention (confidentiality settings; on the trail)."""
    firm = request.firm
    initial = {
        "anonymity_threshold": firm.anonymity_threshold,
        "retention_months": firm.retention_months,
    }
    form = FirmSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.firm_settings_update(actor=request.user, firm=firm, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("firm_settings")
    return render(request, "tenants/firm_settings.html", {"form": form})


@verified
def role_offers(request: HttpRequest) -> HttpResponse:
    """Roles offered to the signed-in person, to accept or decline."""
    return render(
        request,
        "tenants/role_offers.html",
        {"offers": selectors.role_offers_of(user=request.user)},
    )


@verified
@require_POST
def role_offer_answer(request: HttpRequest, offer_id: int, accept: bool) -> HttpResponse:
    services.role_offer_answer(actor=request.user, offer_id=offer_id, accept=accept)
    if accept:
        messages.success(request, _("You have accepted the role."))
        return redirect("home")
    messages.success(request, _("You have declined the role."))
    return redirect("role_offers")


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def theme_list(request: HttpRequest) -> HttpResponse:
    """The firm's case themes (standard and its own) and the form that adds one."""
    form = ThemeAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            theme = themes.firm_theme_add(
                actor=request.user, firm=request.firm, **form.cleaned_data
            )
        except themes.ThemeAlreadyAdded as duplicate:
            messages.info(
                request, _("“%(name)s” was already added.") % {"name": duplicate.theme.name}
            )
            return redirect("theme_list")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("“%(name)s” is added; every client organisation offers it for new cases.")
                % {"name": theme.name},
            )
            return redirect("theme_list")
    return render(
        request,
        "tenants/themes.html",
        {"form": form, "themes": selectors.firm_themes(firm=request.firm)},
    )


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def theme_edit(request: HttpRequest, theme_id: int) -> HttpResponse:
    """Rename one of the firm's own themes (its code, and so its counts, stay)."""
    theme = selectors.firm_theme_get_for_firm(firm=request.firm, theme_id=theme_id)
    form = ThemeNameForm(request.POST or None, initial={"name": theme.name})
    if request.method == "POST" and form.is_valid():
        try:
            themes.firm_theme_rename(
                actor=request.user, firm=request.firm, theme=theme, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("theme_list")
    return render(request, "tenants/theme_edit.html", {"form": form, "theme": theme})


def _theme_change_done(request: HttpRequest, label: str, active: bool) -> None:
    if active:
        messages.success(request, _("“%(name)s” is offered for new cases again.") % {"name": label})
    else:
        messages.success(
            request,
            _("“%(name)s” is no longer offered for new cases; cases that have it keep it.")
            % {"name": label},
        )


@allow(Role.FIRM_ADMIN)
@require_POST
def theme_set_active(request: HttpRequest, theme_id: int, active: bool) -> HttpResponse:
    """Hide one of the firm's own themes from new cases, or offer it again (never deleted)."""
    theme = selectors.firm_theme_get_for_firm(firm=request.firm, theme_id=theme_id)
    try:
        themes.firm_theme_set_active(
            actor=request.user, firm=request.firm, theme=theme, active=active
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        _theme_change_done(request, theme.name, active)
    return redirect("theme_list")


@allow(Role.FIRM_ADMIN)
@require_POST
def standard_theme_set_active(request: HttpRequest, code: str, active: bool) -> HttpResponse:
    """Hide a standard theme from new cases of all the firm's clients, or offer it again."""
    from cases.models import STANDARD_THEMES

    if code not in STANDARD_THEMES:
        raise Http404
    try:
        themes.standard_theme_set_active(
            actor=request.user, firm=request.firm, code=code, active=active
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        _theme_change_done(request, str(STANDARD_THEMES[code]), active)
    return redirect("theme_list")


@allow(*ANY_CLIENT_ROLE)
def client_home(request: HttpRequest) -> HttpResponse:
    """A client organisation's start page; what it offers depends on the visitor's role here."""
    client = ClientOrganisation.objects.select_related("firm").get(pk=request.route.client_id)
    advisers = (
        Assignment.objects.in_force()
        .filter(client=client)
        .select_related("adviser")
        .order_by("kind")
    )
    return render(
        request,
        "tenants/client_home.html",
        {"client": client, "advisers": advisers, "roles": request.roles, "Role": Role},
    )
