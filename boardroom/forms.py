from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from boardroom.models import Activity, BoardSignal


class SignalForm(forms.Form):
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
    theme_code = forms.CharField(required=False, widget=forms.HiddenInput)


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


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    held_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=1, max_value=24 * 60)
