from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.forms import DateInput
from thirdparty.models import Declaration
from thirdparty.services import MAX_DESCRIPTION_CHARS


class DeclarationForm(forms.Form):
    """No field for the worker: the register must not hold their identity."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    declared_on = forms.DateField(label=_("Declared on"), widget=DateInput())
    facts_on = forms.DateField(label=_("Date of the facts"), required=False, widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind of act"), choices=Declaration.Kind.choices)
    outsider = forms.ChoiceField(label=_("Committed by"), choices=Declaration.Outsider.choices)
    description = forms.CharField(
        label=_("Description of the facts"),
        help_text=_("Describe what happened without naming the worker who declared it."),
        max_length=MAX_DESCRIPTION_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_DESCRIPTION_CHARS}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
            self.initial.setdefault("declared_on", timezone.localdate())
