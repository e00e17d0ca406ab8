from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from boardroom.models import Activity, BoardSignal
from cases.forms import SubmissionForm


class SignalEditForm(forms.Form):
    """A draft signal's texts (the new-signal form adds its idempotency key)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    risk = forms.CharField(
        label=_("Risk or trend"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Describe groups, departments in general terms and trends; no names, no small numbers."
        ),
    )
    recommendation = forms.CharField(
        label=_("Recommendation"), widget=forms.Textarea(attrs={"rows": 4})
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=BoardSignal.Severity.choices)


class SignalForm(SubmissionForm, SignalEditForm):
    theme_code = forms.CharField(required=False, widget=forms.HiddenInput)


class SignalDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, delete this draft"),
        error_messages={"required": _("Confirm that you delete this draft.")},
    )


class FollowUpForm(forms.Form):
    follow_up = forms.CharField(
        label=_("What did the organisation do?"), widget=forms.Textarea(attrs={"rows": 4})
    )


class ReportTextsForm(forms.Form):
    narrative = forms.CharField(
        label=_("Your account of the year"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    recommendations = forms.CharField(
        label=_("Recommendations"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReportYearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2200)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the adviser"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ActivityForm(SubmissionForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    held_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=24 * 60)
