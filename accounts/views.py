"""Sign-in, second factor (TOTP with backup codes), password reset and personal preferences."""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from accounts import ratelimit, services
from accounts.forms import PreferencesForm, ResetForm, SignInForm, TokenForm
from saas.hosts import console_url, is_safe_next
from saas.qr import qr_svg
from tenants.access import public, signed_in, verified


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    return candidate if is_safe_next(candidate) else reverse("home")


def _with_next(name: str, request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    url = reverse(name)
    return f"{url}?{urlencode({'next': target})}" if is_safe_next(target) else url


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = False

    def get_success_url(self) -> str:
        user = self.request.user
        if user_has_device(user, confirmed=True):
            return _with_next("accounts:two_factor_verify", self.request)
        return _with_next("accounts:two_factor_setup", self.request)

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context_data(**kwargs)
        target = self.request.POST.get("next") or self.request.GET.get("next")
        context["next"] = target if is_safe_next(target) else ""
        return context


def _new_session_key(request: HttpRequest) -> None:
    # The session now carries full access: a new key, so one that was seen before (fixation)
    # does not get it. Same data, same CSRF token.
    request.session.cycle_key()


@signed_in
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: QR code and secret, then one code to confirm."""
    user = request.user
    if user_has_device(user, confirmed=True) and not request.user.is_verified():
        # Replacing a device needs the current second factor first.
        return redirect(_with_next("accounts:two_factor_verify", request))
    device = services.totp_device_pending(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            codes = services.totp_device_confirm(user=user, device=device)
            otp_login(request, device)
            _new_session_key(request)
            request.session["fresh_backup_codes"] = codes
            messages.success(request, _("Two-factor authentication is on."))
            return redirect(_with_next("accounts:backup_codes", request))
        form.add_error(
            "token",
            _("This code is not correct. Check the time on your phone and try the newest code."),
        )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    context = {
        "form": form,
        "qr_svg": qr_svg(device.config_url, box_size=8),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": request.GET.get("next", "") if is_safe_next(request.GET.get("next")) else "",
    }
    return render(request, "accounts/two_factor_setup.html", context)


@signed_in
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the authenticator code (or a backup code) after the password."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(_with_next("accounts:two_factor_setup", request))
    if user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    form = TokenForm(request.POST or None)
    address = ratelimit.client_address(request)
    account = f"otp:{user.pk}"
    if request.method == "POST" and form.is_valid():
        if ratelimit.is_blocked(account=account, address=address):
            form.add_error(
                "token",
                _("Too many failed attempts. Wait %(minutes)s minutes and try again.")
                % {"minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60},
            )
        elif (token := form.cleaned_data["token"]).isdigit() and (
            wait := services.totp_wait_seconds(user=user)
        ):
            # A wait after a wrong code, not a wrong code: a right one would be refused as well.
            form.add_error(
                "token",
                ngettext(
                    "Please wait %(seconds)s second before you enter a code again.",
                    "Please wait %(seconds)s seconds before you enter a code again.",
                    wait,
                )
                % {"seconds": wait},
            )
        else:
            device = services.device_matching_token(user=user, token=token)
            if device is not None:
                otp_login(request, device)
                _new_session_key(request)
                ratelimit.reset(account=account)
                return HttpResponseRedirect(_next_url(request))
            ratelimit.record_failure(account=account, address=address)
            form.add_error("token", _("This code is not correct."))
    next_target = request.GET.get("next") or request.POST.get("next")
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": next_target if is_safe_next(next_target) else ""},
    )


@verified
@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Show freshly issued backup codes once; regenerate them on request."""
    if request.method == "POST":
        codes = services.backup_codes_regenerate(user=request.user)
        messages.success(request, _("New backup codes issued; the old ones no longer work."))
    else:
        codes = request.session.pop("fresh_backup_codes", None)
    next_target = request.GET.get("next")
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "next": next_target if is_safe_next(next_target) else reverse("home")},
    )


@verified
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"language": user.language or settings.LANGUAGE_CODE, "full_name": user.full_name}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_preferences_set(
                user=user,
                language=form.cleaned_data["language"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            return render(request, "accounts/preferences.html", {"form": form})
        response = redirect("accounts:preferences")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite="Lax",
        )
        messages.success(request, _("Your preferences are saved."))
        return response
    return render(request, "accounts/preferences.html", {"form": form})


sign_out = public(auth_views.LogoutView.as_view(template_name="accounts/logged_out.html"))


class _SignOutToConsole(auth_views.LogoutView):
    """Sign-out on a client host; continues on the console's sign-in page."""

    def get_success_url(self) -> str:
        return console_url(
            reverse("accounts:login", urlconf=settings.PUBLIC_SCHEMA_URLCONF), request=self.request
        )

    def get_redirect_url(self) -> str:
        return self.get_success_url()


sign_out_here = public(_SignOutToConsole.as_view())
sign_in = public(SignInView.as_view())


class _ResetView(auth_views.PasswordResetView):
    def get_form_kwargs(self) -> dict[str, Any]:
        # The form counts requests per client address (accounts.ratelimit).
        return {**super().get_form_kwargs(), "request": self.request}


password_reset = public(
    _ResetView.as_view(
        form_class=ResetForm,
        template_name="accounts/password_reset.html",  # the e-mail: accounts.emails
        success_url=reverse_lazy("accounts:password_reset_done"),
    )
)
password_reset_done = public(
    auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
)
password_reset_confirm = public(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)
password_reset_complete = public(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"
    )
)


class _InvitationAccept(auth_views.PasswordResetConfirmView):
    """Choosing the password of an account made for an invitation accepts that invitation's
    role(s), in the same transaction as the password."""

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        from tenants.services import role_offers_accept_new_account

        with transaction.atomic():
            response = super().form_valid(form)
            role_offers_accept_new_account(user=form.user)
        return response


invitation_accept = public(
    _InvitationAccept.as_view(
        template_name="accounts/invitation_accept.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)


@verified
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session of the signed-in person (other browsers and devices)."""
    from accounts.sessions import keep_this_session
    from tenants.services import user_sessions_end

    user_sessions_end(user=request.user)
    keep_this_session(request)
    messages.success(request, _("You are signed out on every other device."))
    return redirect("accounts:preferences")
