"""Forms of case handling: they parse types; the services decide what is allowed.

Every form that adds something carries a fresh idempotency key (`submission_key`), so a double
submit (two clicks, a reload that re-posts) adds nothing the second time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases import rules
from cases.models import Case, CaseType, ConsentRecord, Outcome, Referral, Theme
from cases.services import OPEN_PHASES


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _textarea(limit: int = rules.MAX_TEXT_CHARS, rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": limit})


def _text(limit: int = rules.MAX_SHORT_TEXT_CHARS) -> forms.TextInput:
    return forms.TextInput(attrs={"maxlength": limit})


def _date_field(label: str, *, required: bool = True, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), **kwargs)


def _choices(choices: list[tuple[str, Any]], *, blank: bool = False) -> list[tuple[str, Any]]:
    return [("", "—"), *choices] if blank else list(choices)


class ThemesField(forms.ModelMultipleChoiceField):
    """The themes offered for new choices: active ones (the firm may hide themes)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Themes"))
        super().__init__(
            queryset=Theme.objects.filter(is_active=True).order_by("position", "code"), **kwargs
        )

    def keep(self, theme_ids: Iterable[int]) -> None:
        """Also offer these (a case's own themes), hidden or not, so editing keeps them."""
        self.queryset = Theme.objects.filter(
            Q(is_active=True) | Q(pk__in=list(theme_ids))
        ).order_by("position", "code")

    def label_from_instance(self, obj: Theme) -> str:
        if obj.is_active:
            return str(obj)
        return _("%(theme)s (no longer offered)") % {"theme": obj}


class SubmissionForm(forms.Form):
    """Adds the idempotency key; a new key per page view, kept when the form is shown again.

    Every form on a client host that adds something uses it (cases, sparring, signals,
    activities); the services claim the key with `cases.services.submission_claim`. A post
    without a key (a page from before the key, a script) is taken once per post."""

    submission_key = forms.UUIDField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid": _("This form is damaged; reload the page and try again.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())


class VersionedForm(forms.Form):
    """Carries the case version the form was based on (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CaseOpenForm(SubmissionForm):
    """The one-minute registration of a new contact."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Case.Channel.choices, widget=forms.RadioSelect
    )
    case_type = forms.ChoiceField(
        label=_("Type"), choices=CaseType.choices, widget=forms.RadioSelect
    )
    themes = ThemesField()
    reporter_role = forms.ChoiceField(label=_("Reporter's role"), choices=Case.ReporterRole.choices)
    accused_relation = forms.ChoiceField(
        label=_("Relation of the accused"), choices=Case.AccusedRelation.choices
    )
    opened_on = _date_field(_("Date of the contact"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("opened_on", timezone.localdate())


class CaseEditForm(VersionedForm):
    """The case's own details; `case` keeps its themes on offer even after the firm hid them."""

    case_type = forms.ChoiceField(label=_("Type"), choices=CaseType.choices)
    themes = ThemesField()
    channel = forms.ChoiceField(label=_("Channel"), choices=Case.Channel.choices)
    period = forms.ChoiceField(label=_("Period of the facts"), choices=Case.Period.choices)
    reporter_role = forms.ChoiceField(label=_("Reporter's role"), choices=Case.ReporterRole.choices)
    reporter_gender = forms.ChoiceField(
        label=_("Reporter's gender"),
        choices=_choices(Case.Gender.choices, blank=True),
        required=False,
        help_text=_("Only where it matters for the case."),
    )
    reporter_identity = forms.CharField(
        label=_("Reporter's identity"),
        required=False,
        widget=_text(),
        help_text=_("Optional; encrypted. A pseudonym is often enough."),
    )
    reporter_department = forms.CharField(
        label=_("Department or location"), required=False, widget=_text(), help_text=_("Encrypted.")
    )
    accused_relation = forms.ChoiceField(
        label=_("Relation of the accused"), choices=Case.AccusedRelation.choices
    )
    people_involved = forms.ChoiceField(
        label=_("People involved"), choices=Case.PeopleInvolved.choices
    )
    repeated = forms.ChoiceField(label=_("Repeated"), choices=Case.Repeated.choices)
    report_received_on = _date_field(
        _("Whistleblower report received on"),
        required=False,
        help_text=_(
            "For an integrity report under the whistleblower act: acknowledgement is due "
            "in 7 days, feedback in 3 months."
        ),
    )
    acknowledged_on = _date_field(_("Acknowledged on"), required=False)
    feedback_given_on = _date_field(_("Feedback given on"), required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].keep(theme.pk for theme in case.themes.all())

    @classmethod
    def initial_for(cls, case: Case) -> dict[str, Any]:
        names = [name for name in cls.base_fields if name not in {"themes"}]
        initial = {name: getattr(case, name) for name in names}
        initial["themes"] = [theme.pk for theme in case.themes.all()]
        return initial


class ConversationForm(SubmissionForm):
    held_on = _date_field(_("Date"))
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        widget=forms.NumberInput(attrs={"min": 1, "max": rules.MAX_CONVERSATION_MINUTES}),
    )
    summary = forms.CharField(label=_("Summary"), required=False, widget=_textarea())
    next_steps = forms.CharField(
        label=_("Agreed next steps"), required=False, widget=_textarea(rows=2)
    )
    billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("held_on", timezone.localdate())


class PlanForm(forms.Form):
    on = _date_field(_("Next conversation"), required=False)


class ConsentForm(SubmissionForm):
    scope = forms.ChoiceField(label=_("Consent for"), choices=ConsentRecord.Scope.choices)
    third_party = forms.CharField(
        label=_("Third party"),
        required=False,
        widget=_text(),
        help_text=_("Who will be involved; encrypted."),
    )
    given_on = _date_field(_("Given on"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("given_on", timezone.localdate())


class ConsentWithdrawForm(forms.Form):
    consent_id = forms.IntegerField(widget=forms.HiddenInput)
    withdrawn_on = _date_field(_("Withdrawn on"), required=False)
    # The page asks "Withdraw this consent?" first; one click on a list no longer withdraws.
    confirm = forms.BooleanField(
        error_messages={"required": _("Confirm that you withdraw this consent.")}
    )


class StepForm(SubmissionForm):
    description = forms.CharField(label=_("Step"), widget=_textarea(rows=2))
    involves_third_party = forms.BooleanField(label=_("Involves a third party"), required=False)


def _consent_field() -> forms.IntegerField:
    # A plain id: the view looks it up within the case (Http404 for another case's consent).
    return forms.IntegerField(label=_("Consent"), required=False, widget=forms.Select)


class _ConsentChoiceMixin:
    def consent_choices(self, consents: list[ConsentRecord]) -> list[tuple[str, str]]:
        today = timezone.localdate()
        return [("", "—")] + [
            (str(consent.pk), f"{consent.get_scope_display()} ({consent.given_on:%d-%m-%Y})")
            for consent in consents
            if consent.is_current(today)
        ]


class StepDoneForm(_ConsentChoiceMixin, forms.Form):
    step_id = forms.IntegerField(widget=forms.HiddenInput)
    consent_id = _consent_field()

    def __init__(self, *args: Any, consents: list[ConsentRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_id"].widget.choices = self.consent_choices(consents)


class ReferralForm(_ConsentChoiceMixin, SubmissionForm):
    target = forms.ChoiceField(label=_("Referred to"), choices=Referral.Target.choices)
    consent_id = _consent_field()
    referred_on = _date_field(_("Date"))
    note = forms.CharField(label=_("Note"), required=False, widget=_textarea(rows=2))

    def __init__(self, *args: Any, consents: list[ConsentRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_id"].widget.choices = self.consent_choices(consents)
        if not self.is_bound:
            self.initial.setdefault("referred_on", timezone.localdate())


class FollowUpForm(SubmissionForm):
    due_on = _date_field(_("Due on"))
    description = forms.CharField(
        label=_("What to follow up"), required=False, widget=_textarea(rows=2)
    )


class FollowUpDoneForm(forms.Form):
    followup_id = forms.IntegerField(widget=forms.HiddenInput)


class TimeEntryForm(SubmissionForm):
    worked_on = _date_field(_("Date"))
    minutes = forms.IntegerField(
        label=_("Minutes"),
        widget=forms.NumberInput(attrs={"min": 1, "max": rules.MAX_TIME_ENTRY_MINUTES}),
    )
    billable = forms.BooleanField(label=_("Billable"), required=False, initial=True)
    description = forms.CharField(label=_("Description"), required=False, widget=_text())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("worked_on", timezone.localdate())


class NoteForm(SubmissionForm):
    text = forms.CharField(label=_("Note"), widget=_textarea())


class PhaseForm(VersionedForm):
    phase = forms.ChoiceField(
        label=_("Phase"),
        choices=[(value, label) for value, label in Case.Phase.choices if value in OPEN_PHASES],
    )


def outcomes_for(*, belgian: bool) -> list[tuple[str, Any]]:
    """Outcomes offered for a client: Belgian VPs hand formal requests to the PAPS."""
    left_out = Outcome.FORMAL_COMPLAINT if belgian else Outcome.HANDED_TO_PAPS
    return [(value, label) for value, label in Outcome.choices if value != left_out]


class CloseForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    closed_on = _date_field(_("Closed on"))

    def __init__(self, *args: Any, belgian: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The service refuses the other country's outcome too; the form just does not offer it.
        self.fields["outcome"].choices = outcomes_for(belgian=belgian)


class PapsHandoverForm(_ConsentChoiceMixin, VersionedForm):
    consent_id = _consent_field()
    handed_on = _date_field(_("Date"))
    note = forms.CharField(label=_("Note"), required=False, widget=_textarea(rows=2))

    def __init__(self, *args: Any, consents: list[ConsentRecord], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_id"].widget.choices = self.consent_choices(consents)
        if not self.is_bound:
            self.initial.setdefault("handed_on", timezone.localdate())


class HandoverForm(forms.Form):
    adviser = forms.TypedChoiceField(label=_("New handling adviser"), coerce=int)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, advisers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.advisers = {adviser.pk: adviser for adviser in advisers}
        self.fields["adviser"].choices = [
            (adviser.pk, adviser.get_full_name() or adviser.email) for adviser in advisers
        ]


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m", **kwargs)


class InternalRegistrationForm(SubmissionForm):
    month = forms.DateField(
        label=_("Month"), widget=MonthInput(), input_formats=["%Y-%m", "%Y-%m-%d"]
    )
    case_type = forms.ChoiceField(
        label=_("Type"), choices=CaseType.choices, widget=forms.RadioSelect
    )
    themes = ThemesField()
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=_choices(Outcome.choices, blank=True), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("month", timezone.localdate().replace(day=1))


class CaseSettingsForm(forms.Form):
    retention_months = forms.IntegerField(
        label=_("Retention after closure (months)"),
        required=False,
        min_value=0,
        max_value=120,
        help_text=_("Leave empty to follow the firm's setting."),
    )
