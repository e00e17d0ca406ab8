from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from signup.services import FIRM_NAME_MAX, FULL_NAME_MAX, SLUG_MAX, slug_suggest
from tenants.validators import validate_slug_label

# A field people never see (moved off-screen, hidden from screen readers, skipped by the
# keyboard); bots that fill every input fill it too.
HONEYPOT_FIELD = "website"


class SignupForm(forms.Form):
    """The sign-up page. `signup.services.firm_signup` checks everything again before it writes,
    and it alone decides whether a short name is taken (a double submit finds its own firm)."""

    firm_name = forms.CharField(
        label=_("Name of your firm"),
        max_length=FIRM_NAME_MAX,
        error_messages={"required": _("Enter the name of your firm.")},
        widget=forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
    )
    slug = forms.CharField(
        label=_("Short name"),
        max_length=SLUG_MAX,
        required=False,
        help_text=_(
            "Lower-case letters, digits and hyphens. Part of the address of each of your client "
            "organisations; it cannot be changed later. Left empty, it follows from the name."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=FULL_NAME_MAX,
        error_messages={"required": _("Enter your full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_(
            "You become the firm's administrator; we send you a link to choose a password."
        ),
        error_messages={
            "required": _("Enter your e-mail address."),
            "invalid": _("Enter a valid e-mail address."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    accept_terms = forms.BooleanField(
        label=_(
            "On behalf of the firm I accept the terms of use and the processing agreement "
            "(verwerkersovereenkomst) of Vertrouwd."
        ),
        error_messages={
            "required": _("Accept the terms and the processing agreement to continue.")
        },
    )
    # A fresh key per page view: a double submit creates one firm (signup.services).
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())

    @property
    def is_trapped(self) -> bool:
        """Whether the hidden field was filled in, as only a bot does."""
        return bool(self.is_bound and str(self.data.get(HONEYPOT_FIELD, "")).strip())

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        if slug:
            validate_slug_label(slug)
        return slug  # empty: suggested from the name in clean()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "slug" in data and not data["slug"] and data.get("firm_name"):
            suggestion = slug_suggest(data["firm_name"])
            # Show the suggestion in the field, so a refused one can be edited.
            self.data = self.data.copy()
            self.data["slug"] = suggestion
            try:
                validate_slug_label(suggestion)
            except ValidationError as error:
                self.add_error("slug", error)
            else:
                data["slug"] = suggestion
        return data
