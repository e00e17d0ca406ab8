from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credentials.models import TrainingEntry
from tenants.forms import DateInput


def _answer(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _declaration(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=[("", _("Not declared yet")), ("no", _("No")), ("yes", _("Yes"))],
        coerce=_answer,
        empty_value=None,
        required=False,
    )


class PersonChoiceForm(forms.Form):
    user = forms.TypedChoiceField(label=_("Person"), coerce=int)
    # The credentials page shows two of these forms: ids of their own (the names stay).
    id_prefix = "id"

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        self.fields["user"].choices = [(person.pk, person.get_full_name()) for person in people]

    def clean_user(self) -> Any:
        return self.people[self.cleaned_data["user"]]


class DeclarationsForm(forms.Form):
    """The agreement and declarations of a recorded appointment (signed later, or corrected)."""

    representatives_agreed_on = forms.DateField(
        label=_("Worker representatives agreed on"),
        required=False,
        widget=DateInput(),
        help_text=_("Belgium: their agreement must come before the appointment."),
    )
    works_council_member = _declaration(_("Member of the works council"))
    prevention_committee_member = _declaration(
        _("Member of the committee for prevention and protection at work")
    )
    union_delegate = _declaration(_("Member of the union delegation"))
    election_candidate = _declaration(_("Candidate in the social elections"))
    management = _declaration(_("Management (runs the business day to day)"))
    declared_on = forms.DateField(
        label=_("Declarations signed on"), required=False, widget=DateInput()
    )

    @classmethod
    def for_appointment(cls, appointment: Any, **kwargs: Any) -> DeclarationsForm:
        """A form showing what is recorded now, with its own field ids per appointment."""
        answers = {True: "yes", False: "no", None: ""}
        initial = {
            "representatives_agreed_on": appointment.representatives_agreed_on,
            "declared_on": appointment.declared_on,
            **{name: answers[getattr(appointment, name)] for name in appointment.DECLARATIONS},
        }
        return cls(initial=initial, prefix=f"appointment-{appointment.pk}", **kwargs)


class AppointmentForm(PersonChoiceForm, DeclarationsForm):
    """A new appointment: the person and the day, then the same agreement and declarations."""

    appointed_on = forms.DateField(label=_("Appointed on"), widget=DateInput())
    field_order = ["user", "appointed_on"]


class CertificateForm(PersonChoiceForm):
    id_prefix = "certificate"
    certification = forms.CharField(
        label=_("Certification"), max_length=100, required=False, help_text=_("For example LVV.")
    )
    certified_on = forms.DateField(label=_("Certificate date"), required=False, widget=DateInput())
    expires_on = forms.DateField(
        label=_("Certificate expires"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: after the firm's period (LVV: 4 years)."),
    )
    conduct_certificate_on = forms.DateField(
        label=_("Certificate of conduct (VOG) date"), required=False, widget=DateInput()
    )


class TrainingForm(PersonChoiceForm):
    id_prefix = "training"
    done_on = forms.DateField(label=_("Date"), widget=DateInput())
    hours = forms.DecimalField(
        label=_("Hours"), min_value=Decimal("0.5"), max_value=Decimal(100), decimal_places=1
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=TrainingEntry.Kind.choices)
    title = forms.CharField(label=_("What"), max_length=200)


class PolicyForm(forms.Form):
    certificate_years = forms.IntegerField(
        label=_("Certificate valid (years)"), min_value=1, max_value=10
    )
    required_hours = forms.DecimalField(
        label=_("Education hours per period"), min_value=0, max_value=1000, decimal_places=1
    )
    required_intervision_hours = forms.DecimalField(
        label=_("Of which intervision"), min_value=0, max_value=1000, decimal_places=1
    )
    reminder_days = forms.IntegerField(
        label=_("Remind this many days ahead"), min_value=1, max_value=365
    )
