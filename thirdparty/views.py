"""The register of acts by third parties on a client's host, under /register/. Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tenants.access import Role, allow
from thirdparty import selectors, services
from thirdparty.forms import DeclarationForm

# The VP keeps it; the employer's prevention adviser and the inspection (a client role given to
# the inspector who asks, removed like any other) read it and its exports; only the VP adds.
READERS = (Role.ADVISER, Role.PREVENTION_ADVISER, Role.INSPECTOR)


def _page(request: HttpRequest, form: DeclarationForm | None, status: int = 200) -> HttpResponse:
    may_add = Role.ADVISER in request.roles
    return render(
        request,
        "thirdparty/register.html",
        {
            "declarations": selectors.declaration_list(actor=request.user),
            "form": (form or DeclarationForm()) if may_add else None,
            "applies": services.register_applies(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@allow(*READERS)
@require_GET
def register(request: HttpRequest) -> HttpResponse:
    return _page(request, None)


@allow(Role.ADVISER)
@require_POST
def declaration_add(request: HttpRequest) -> HttpResponse:
    form = DeclarationForm(request.POST)
    if form.is_valid():
        try:
            services.declaration_add(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, _("The declaration is in the register."))
            return redirect("thirdparty:register")
    return _page(request, form, status=400)


def _csv(body: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"{name}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@allow(*READERS)
@require_GET
def register_export(request: HttpRequest) -> HttpResponse:
    return _csv(selectors.register_export_csv(actor=request.user), "register-third-parties")


@allow(*READERS)
@require_GET
def register_summary(request: HttpRequest) -> HttpResponse:
    """Counts per year, kind of act and outsider: for the risk analysis and yearly report."""
    return _csv(
        selectors.register_summary_csv(actor=request.user), "register-third-parties-summary"
    )
