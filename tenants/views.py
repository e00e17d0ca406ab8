"""Firm console (base host) and the client organisation's home (client host). Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from saas import hosts
from tenants import selectors, services, themes
from tenants.access import ANY_CLIENT_ROLE, FIRM_STAFF, Role, allow, verified
from tenants.forms import (
    AssignmentForm,
    ClientEditForm,
    ClientForm,
    InviteForm,
    OffboardForm,
    ThemeAddForm,
    ThemeNameForm,
)
from tenants.models import ClientOrganisation
from tenants.tasks import send_invitation


def _client_link(request: HttpRequest, client: ClientOrganisation) -> str:
    domain = next((d.domain for d in client.domains.all() if d.is_primary), None)
    return hosts.absolute_url(domain, "/", request) if domain else ""


@verified
def home(request: HttpRequest) -> HttpResponse:
    """Send people where their work is: the firm console, or their organisation(s)."""
    if request.firm is not None:
        return redirect("console")
    organisations = selectors.organisations_of(user=request.user)
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
            client = services.client_create(firm=request.firm, **form.cleaned_data)
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
    from credentials.forms import AppointmentForm
    from credentials.views import internal_advisers_of

    internal_advisers = internal_advisers_of(client)
    return render(
        request,
        "tenants/client_detail.html",
        {
            "client": client,
            "problems": credential_selectors.client_problems(client=client),
            "appointments": client.internal_appointments.select_related("user"),
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
        )
    }
    form = ClientEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(client=client, actor=request.user, **form.cleaned_data)
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
        try:
            services.assignment_create(client=client, created_by=request.user, **form.cleaned_data)
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
    services.assignment_end(assignment=assignment)
    messages.success(request, _("The assignment ends today."))
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
        client = data["client"]
        try:
            user = services.user_create(
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                firm=request.firm if client is None else None,
                client=client,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not user.has_usable_password():
                send_invitation.delay(user.pk, get_language() or "nl")
                messages.success(
                    request, _("Invitation sent to %(email)s.") % {"email": user.email}
                )
            else:
                messages.success(request, _("%(email)s has the new role.") % {"email": user.email})
            return redirect("people")
    return render(
        request,
        "tenants/people.html",
        {"form": form, "people": selectors.firm_people(firm=request.firm)},
    )


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def theme_list(request: HttpRequest) -> HttpResponse:
    """The firm's case themes (standard and its own) and the form that adds one."""
    form = ThemeAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            theme = themes.firm_theme_add(firm=request.firm, **form.cleaned_data)
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
            themes.firm_theme_rename(firm=request.firm, theme=theme, **form.cleaned_data)
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
        themes.firm_theme_set_active(firm=request.firm, theme=theme, active=active)
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
        themes.standard_theme_set_active(firm=request.firm, code=code, active=active)
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
        client.assignments.filter(starts_on__lte=timezone.localdate())
        .exclude(ends_on__lt=timezone.localdate())
        .select_related("adviser")
        .order_by("kind")
    )
    return render(
        request,
        "tenants/client_home.html",
        {"client": client, "advisers": advisers, "roles": request.roles, "Role": Role},
    )
