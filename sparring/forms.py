"""Forms parse input; `sparring.services` decides what is valid (one place for the rules)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.forms import SubmissionForm
from cases.models import CaseType, Theme
from sparring import filetypes
from sparring.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH
from sparring.public.models import NotificationPreference
from sparring.services import MAX_ATTACHMENTS, Upload

ACCEPT = ",".join(ext for file_type in filetypes.ACCEPTED for ext in file_type.extensions)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


def uploads_of(files: list[Any]) -> list[Upload]:
    """Read the uploaded files (at most one byte over the limit each, so the limit shows)."""
    uploads = []
    for file in files:
        file.seek(0)
        uploads.append(Upload(name=file.name or "", data=file.read(filetypes.MAX_FILE_BYTES + 1)))
    return uploads


def _attachment_help() -> str:
    return gettext(
        "PDF, PNG, JPEG, Word, Excel or OpenDocument text; "
        "at most %(count)d files of %(size)d MB each."
    ) % {"count": MAX_ATTACHMENTS, "size": filetypes.MAX_FILE_BYTES // (1024 * 1024)}


_SEND_ANYWAY = _("I have checked the text: send it anyway")


class ThreadStartForm(SubmissionForm):
    # Required here too, so the label is not marked optional; the service repeats the rule
    # (with the same words) for every other caller.
    subject = forms.CharField(
        label=_("Subject"),
        error_messages={"required": _("Enter a subject.")},
        widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX_LENGTH, "autocomplete": "off"}),
        help_text=_("No names: describe the situation, not the people."),
    )
    body = forms.CharField(
        label=_("Message"),
        error_messages={"required": _("Write a message.")},
        widget=forms.Textarea(attrs={"rows": 10, "maxlength": BODY_MAX_LENGTH}),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    send_anyway = forms.BooleanField(label=_SEND_ANYWAY, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachment_help()


class ReplyForm(SubmissionForm):
    body = forms.CharField(
        label=_("Your answer"),
        error_messages={"required": _("Write a message.")},
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": BODY_MAX_LENGTH}),
    )
    attachments = MultipleFileField(label=_("Attachments"))
    send_anyway = forms.BooleanField(label=_SEND_ANYWAY, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachment_help()


class ThreadCountForm(forms.Form):
    case_type = forms.ChoiceField(label=_("Type"), choices=CaseType.choices)
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes"),
        queryset=Theme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = Theme.objects.filter(is_active=True).order_by(
            "position", "code"
        )


class PreferenceForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Sparring notifications"),
        choices=NotificationPreference.Mode.choices,
        widget=forms.RadioSelect,
    )
