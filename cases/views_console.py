"""Registering a contact from the console, for any client organisation the adviser serves."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_tenants.utils import tenant_context

from cases import services
from cases.forms import CaseOpenForm
from cases.models import Theme
from cases.services import DuplicateSubmission
from tenants.access import Role, allow
from tenants.selectors import firm_themes
from workindex.selectors import assigned_clients, case_url


class ConsoleCaseOpenForm(CaseOpenForm):
    """The same one-minute form, plus the client; themes by code, from the firm's catalogue
    (every client schema of the firm holds the same codes)."""

    client = django_forms.TypedChoiceField(label=gettext_lazy("Client organisation"), coerce=int)
    themes = django_forms.MultipleChoiceField(
        label=gettext_lazy("Themes"), widget=django_forms.CheckboxSelectMultiple
    )
    field_order = [
        "client",
        "channel",
        "case_type",
        "themes",
        "reporter_role",
        "accused_relation",
        "opened_on",
    ]

    def __init__(self, *args, clients, themes, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = themes
        self.clients = {client.pk: client for client in clients}
        self.fields["client"].choices = [(client.pk, client.name) for client in clients]
        if len(clients) == 1 and not self.is_bound:
            self.initial["client"] = clients[0].pk


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def case_register(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    clients = [
        client
        for client, _kind in assigned_clients(user=request.user, firm=request.firm, day=today)
    ]
    themes = [
        (entry.code, entry.label) for entry in firm_themes(firm=request.firm) if entry.is_active
    ]
    form = ConsoleCaseOpenForm(request.POST or None, clients=clients, themes=themes)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        client = form.clients[data.pop("client")]
        codes = data.pop("themes")
        host = next((d.domain for d in client.domains.all() if d.is_primary), None)
        with tenant_context(client):
            try:
                chosen = list(Theme.objects.filter(code__in=codes))
                if len(chosen) != len(set(codes)):
                    # The firm changed its themes a moment ago; this client has not caught up.
                    raise ValidationError({"themes": _("Choose one of the options.")})
                case = services.case_open(actor=request.user, themes=chosen, **data)
            except DuplicateSubmission as duplicate:
                messages.info(request, _("This contact was already registered."))
                return redirect(case_url(host, duplicate.reference, request))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Registered as %(reference)s at %(client)s.")
                    % {"reference": case.reference, "client": client.name},
                )
                return redirect(case_url(host, case.reference, request))
    return render(request, "cases/case_register.html", {"form": form, "has_clients": bool(clients)})
