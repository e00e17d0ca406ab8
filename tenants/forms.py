from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import (
    MINIMUM_ANONYMITY_THRESHOLD,
    Assignment,
    ClientMembership,
    ClientOrganisation,
    FirmMembership,
)
from tenants.validators import validate_date_in_range, validate_slug_label


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.CharField(
        label=_("Short name (web address)"),
        max_length=40,
        validators=[validate_slug_label],
        help_text=_(
            "Lower-case letters, digits and hyphens; becomes part of the organisation's address."
        ),
    )
    sector = forms.ChoiceField(label=_("Sector"), choices=ClientOrganisation.Sector.choices)
    country = forms.ChoiceField(
        label=_("Country"),
        choices=ClientOrganisation.Country.choices,
        initial=ClientOrganisation.Country.NETHERLANDS,
        help_text=_("Decides which legal rules apply (Belgium: PAPS, register, appointments)."),
    )
    employee_count = forms.IntegerField(
        label=_("Number of employees"), min_value=1, max_value=1_000_000
    )
    contract_starts_on = forms.DateField(
        label=_("Contract starts"), widget=DateInput(), validators=[validate_date_in_range]
    )
    contract_ends_on = forms.DateField(
        label=_("Contract ends"),
        required=False,
        widget=DateInput(),
        validators=[validate_date_in_range],
    )

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("contract_starts_on"), data.get("contract_ends_on")
        if starts and ends and ends < starts:
            self.add_error("contract_ends_on", _("The contract ends before it starts."))
        return data


class ClientEditForm(ClientForm):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (ClientOrganisation.Status.ACTIVE, ClientOrganisation.Status.ACTIVE.label),
            (ClientOrganisation.Status.SUSPENDED, ClientOrganisation.Status.SUSPENDED.label),
        ],
    )
    advisers_named_in_report = forms.BooleanField(
        label=_("Name the advisers in the annual report"),
        required=False,
        help_text=_("Off when the client asked for a list of advisers and training without names."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["slug"]


class AssignmentForm(forms.Form):
    adviser = forms.ModelChoiceField(label=_("Adviser"), queryset=None, empty_label=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=Assignment.Kind.choices)
    starts_on = forms.DateField(
        label=_("From"), widget=DateInput(), validators=[validate_date_in_range]
    )
    ends_on = forms.DateField(
        label=_("Until"), required=False, widget=DateInput(), validators=[validate_date_in_range]
    )

    def __init__(self, *args: Any, advisers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["adviser"].queryset = advisers
        self.fields["adviser"].label_from_instance = lambda user: user.get_full_name()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The period ends before it starts."))
        return data


# Least access first, and no role chosen beforehand: the most powerful one is never a default.
ROLE_CHOICES = [
    ("", _("Choose a role")),
    *ClientMembership.Role.choices,
    *reversed(FirmMembership.Role.choices),
]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    client = forms.ModelChoiceField(
        label=_("Client organisation"),
        queryset=None,
        required=False,
        # Not Django's "---------": what choosing nothing means.
        empty_label=_("None: a role in the firm"),
        help_text=_("Only for contact persons and internal advisers."),
    )

    def __init__(self, *args: Any, clients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        role, client = data.get("role"), data.get("client")
        if role in ClientMembership.Role.values and client is None:
            self.add_error("client", _("Choose the client organisation for this role."))
        if role in FirmMembership.Role.values and client is not None:
            self.add_error(
                "client", _("Firm roles are not tied to one client organisation; leave this empty.")
            )
        return data


class FirmSettingsForm(forms.Form):
    anonymity_threshold = forms.IntegerField(
        label=_("Anonymity threshold (k)"),
        min_value=MINIMUM_ANONYMITY_THRESHOLD,
        max_value=50,
        help_text=_("Counts below this number are never shown to clients."),
    )
    retention_months = forms.IntegerField(
        label=_("Retention after closure (months)"), min_value=0, max_value=120
    )


class OffboardForm(forms.Form):
    """Offboarding cannot be undone: the admin types the client's short name to confirm."""

    confirm = forms.CharField(label=_("Short name, to confirm"), max_length=200)

    def __init__(self, *args: Any, client: ClientOrganisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["confirm"].help_text = _("Type %(slug)s.") % {"slug": client.slug}
        self.fields["confirm"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().lower()
        if value != self.client.slug:
            raise forms.ValidationError(
                _("That is not the short name of this client organisation. Nothing was changed.")
            )
        return value


class ThemeNameForm(forms.Form):
    """A theme's name; `tenants.themes` strips it and decides whether it is allowed."""

    name = forms.CharField(
        label=_("Name"),
        error_messages={"required": _("Enter a name for the theme.")},
        widget=forms.TextInput(attrs={"maxlength": 80, "autocomplete": "off"}),
    )


class ThemeAddForm(ThemeNameForm):
    """Carries a fresh idempotency key per page view, so a double submit adds one theme."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
