"""Sparring on the console: an adviser's threads across clients, counts for firm admins."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mail.models import OutgoingEmail
from sparring import notifications
from sparring.emails import MESSAGE
from sparring.forms import PreferenceForm
from sparring.my_day import firm_thread_stats, sparring_my_day, thread_url
from tenants.access import Role, allow, verified
from tenants.models import Domain


@allow(Role.FIRM_ADMIN, Role.ADVISER)
def overview(request: HttpRequest) -> HttpResponse:
    """An adviser's open and unread threads across assigned clients; counts for firm admins."""
    is_adviser = Role.ADVISER in request.roles
    context = {
        "is_adviser": is_adviser,
        "sparring_items": sparring_my_day(request.user, firm=request.firm, request=request)
        if is_adviser
        else [],
        "preference": notifications.preference_of(request.user) if is_adviser else "",
        "stats": firm_thread_stats(firm=request.firm) if Role.FIRM_ADMIN in request.roles else None,
    }
    return render(request, "sparring/console_overview.html", context)


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferenceForm(
        request.POST or None, initial={"mode": notifications.preference_of(request.user)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            notifications.preference_set(user=request.user, mode=form.cleaned_data["mode"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your choice is saved."))
            return redirect("sparring_console:overview")
    return render(request, "sparring/preferences.html", {"form": form})


@verified
def notification_open(request: HttpRequest, email_id: uuid.UUID) -> HttpResponse:
    """Forward the recipient of a notification e-mail to its thread; anybody else to the start.

    The thread's own page checks access again: an adviser whose assignment ended gets a 404.
    """
    email = (
        OutgoingEmail.objects.filter(pk=email_id, recipient=request.user, kind=MESSAGE)
        .values("client_id", "params__thread")
        .first()
    )
    domain = (
        Domain.objects.filter(tenant_id=email["client_id"], is_primary=True)
        .values_list("domain", flat=True)
        .first()
        if email
        else None
    )
    if email is None or domain is None:
        return redirect("home")
    return redirect(thread_url(domain=domain, thread_id=email["params__thread"], request=request))
