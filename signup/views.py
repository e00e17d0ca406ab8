"""The public sign-up page of the base host: a firm starts its own trial. Thin views."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts import ratelimit
from saas import hosts
from signup import services
from signup.forms import HONEYPOT_FIELD, SignupForm
from tenants.access import public


def _counters(request: HttpRequest, email: str) -> dict[str, str]:
    # Keys of their own: sign-ups never use up the sign-in attempts of an address, nor the reverse.
    return {"account": f"signup:{email}", "address": f"signup:{ratelimit.client_address(request)}"}


def _blocked(request: HttpRequest, email: str) -> bool:
    return ratelimit.is_blocked(
        **_counters(request, email),
        account_limit=settings.SIGNUP_ATTEMPTS_PER_EMAIL,
        address_limit=settings.SIGNUP_ATTEMPTS_PER_ADDRESS,
    )


def _count(request: HttpRequest, email: str) -> None:
    """Count a sign-up that went through (it wrote or sent something, or was a bot's); refused
    input does not count, so a few taken short names do not lock a firm out."""
    ratelimit.record_failure(
        **_counters(request, email), window=settings.SIGNUP_ATTEMPT_WINDOW_SECONDS
    )


@public
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Firm name, short name, the admin's name and address, consent; then "check your e-mail"."""
    if request.user.is_authenticated:
        return redirect("home")  # has an account already; a second firm is an operator's job
    if not settings.SIGNUP_OPEN:
        return render(request, "signup/closed.html")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if form.is_trapped:
            # Looks like success to the bot; nothing is created or sent.
            _count(request, str(request.POST.get("email", "")).strip().lower())
            return redirect("signup:sent")
        if form.is_valid():
            email = form.cleaned_data["email"].lower()
            if _blocked(request, email):
                form.add_error(
                    None,
                    _("Too many sign-ups. Wait %(minutes)s minutes and try again.")
                    % {"minutes": settings.SIGNUP_ATTEMPT_WINDOW_SECONDS // 60},
                )
            else:
                try:
                    services.firm_signup(
                        firm_name=form.cleaned_data["firm_name"],
                        slug=form.cleaned_data["slug"],
                        full_name=form.cleaned_data["full_name"],
                        email=form.cleaned_data["email"],
                        terms_accepted=form.cleaned_data["accept_terms"],
                        submission_key=form.cleaned_data["submission_key"],
                        language=get_language() or settings.LANGUAGE_CODE,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    _count(request, email)
                    # The same page whether a firm was made or the address had an account.
                    return redirect("signup:sent")
    return render(
        request,
        "signup/start.html",
        {
            "form": form,
            "honeypot_field": HONEYPOT_FIELD,
            "base_domain": hosts.base_domain(),
            "terms_url": settings.SIGNUP_TERMS_URL,
            "trial_days": settings.BILLING_TRIAL_DAYS,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@public
@require_safe
def sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "signup/sent.html",
        {"link_days": max(1, settings.PASSWORD_RESET_TIMEOUT // (24 * 3600))},
    )
