from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import ratelimit


class SignInForm(AuthenticationForm):
    """E-mail and password, with failures counted per account and per address."""

    username = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("This e-mail address and password do not match an account."),
        "inactive": _("This account is inactive."),
        "rate_limited": _("Too many failed attempts. Wait %(minutes)s minutes and try again."),
    }

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").lower()
        password = self.cleaned_data.get("password")
        address = ratelimit.client_address(self.request)
        if email and ratelimit.is_blocked(account=email, address=address):
            raise forms.ValidationError(
                self.error_messages["rate_limited"],
                code="rate_limited",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_SECONDS // 60},
            )
        if email and password:
            self.user_cache = authenticate(self.request, username=email, password=password)
            if self.user_cache is None:
                ratelimit.record_failure(account=email, address=address)
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
            ratelimit.reset(account=email)
        return self.cleaned_data


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split()).replace("-", "").lower()
        if not token.isalnum():
            raise forms.ValidationError(_("Enter the code as shown, letters and digits only."))
        return token


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    # Optional, as for an invitation; the name rule is the service's (user_preferences_set).
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)


class ResetForm(PasswordResetForm):
    """Password reset that also reaches people whose invitation expired before they chose a
    password: Django skips accounts without a usable password, which left them no way in.

    The e-mail goes through the outbox (`accounts.emails`), not from the request: a slow or
    failing mail server neither delays the page nor tells an address with an account from one
    without.

    Limited per typed address and per client address (`accounts.ratelimit`): every request
    counts, whether the address has an account or not, so the refusal tells nothing either.
    """

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        email = (data.get("email") or "").lower()
        if not email or self.request is None:
            return data
        counters = {
            "account": f"reset:{email}",
            "address": f"reset:{ratelimit.client_address(self.request)}",
        }
        if ratelimit.is_blocked(
            **counters,
            account_limit=settings.PASSWORD_RESETS_PER_EMAIL,
            address_limit=settings.PASSWORD_RESETS_PER_ADDRESS,
        ):
            raise forms.ValidationError(
                _("Too many requests. Wait %(minutes)s minutes and try again."),
                code="rate_limited",
                params={"minutes": settings.PASSWORD_RESET_WINDOW_SECONDS // 60},
            )
        ratelimit.record_failure(**counters, window=settings.PASSWORD_RESET_WINDOW_SECONDS)
        return data

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from accounts.emails import PASSWORD_RESET
        from mail.outbox import email_enqueue

        with transaction.atomic():
            email_enqueue(
                kind=PASSWORD_RESET,
                key=f"{context['user'].pk}:{uuid.uuid4()}",
                recipient_id=context["user"].pk,
                params={"language": translation.get_language() or settings.LANGUAGE_CODE},
            )

    def get_users(self, email: str) -> Any:
        model = get_user_model()
        field = model.get_email_field_name()
        wanted = email.casefold()
        return (
            user
            for user in model._default_manager.filter(**{f"{field}__iexact": email}, is_active=True)
            if getattr(user, field).casefold() == wanted
        )
