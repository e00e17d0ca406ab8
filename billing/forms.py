from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.invoicing import Period, period_make
from billing.models import MAX_ANNUAL_FEE, MAX_HOURS_INCLUDED, ClientContract
from tenants.forms import DateInput
from tenants.validators import validate_date_in_range


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=DateInput(), validators=[validate_date_in_range]
    )
    end = forms.DateField(label=_("Until"), widget=DateInput(), validators=[validate_date_in_range])

    @staticmethod
    def default_initial() -> dict[str, str]:
        today = timezone.localdate()
        return {"start": today.replace(month=1, day=1).isoformat(), "end": today.isoformat()}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            try:
                data["period"] = period_make(start, end)
            except ValidationError as error:
                self.add_error("end", error)
        return data

    @property
    def period(self) -> Period:
        return self.cleaned_data["period"]


class ContractForm(forms.Form):
    fee_mode = forms.ChoiceField(label=_("Annual fee"), choices=ClientContract.FeeMode.choices)
    annual_fee = forms.DecimalField(
        label=_("Fixed annual fee (EUR)"),
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_ANNUAL_FEE,
        max_digits=10,
        decimal_places=2,
        help_text=_(
            "Needed for a fixed annual fee; leave it empty when the fee follows the number of "
            "employees."
        ),
    )
    hourly_rate = forms.DecimalField(
        label=_("Hourly rate (EUR)"),
        min_value=Decimal("0.01"),
        max_value=Decimal("999.99"),
        max_digits=7,
        decimal_places=2,
    )
    hours_included_per_year = forms.DecimalField(
        label=_("Hours included per year"),
        min_value=Decimal("0"),
        max_value=MAX_HOURS_INCLUDED,
        max_digits=7,
        decimal_places=2,
    )
    starts_on = forms.DateField(
        label=_("Billing starts"), widget=DateInput(), validators=[validate_date_in_range]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("fee_mode") == ClientContract.FeeMode.FIXED and data.get("annual_fee") is None:
            self.add_error("annual_fee", _("A fixed annual fee needs an amount."))
        if (
            data.get("fee_mode") == ClientContract.FeeMode.TIERED
            and data.get("annual_fee") is not None
        ):
            self.add_error(
                "annual_fee",
                _(
                    "You entered a fixed annual fee but chose a fee by number of employees. "
                    "Choose the fixed annual fee, or empty the amount."
                ),
            )
        return data
