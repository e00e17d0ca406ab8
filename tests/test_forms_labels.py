"""Every form of the project, in Dutch and English: a field labelled optional is not required,
and a field not labelled optional is (issue 14 found required fields labelled "(optioneel)").

The walk finds the forms itself (every `Form` class defined in a module of our apps named
`forms` or `views*`), so a new form is checked without editing this file. What a label says is
read from the HTML `templates/form_fields.html` renders; whether a field is required is asked
of the form bound to empty input, so a `clean()` that demands an "optional" field is caught too.
Services repeat the rules (they are the writers); a field the form calls optional but a
service refuses empty is the one case this cannot see: keep `required` on the form in step.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.models import ClientOrganisation

OPTIONAL = {"nl": "(optioneel)", "en": "(optional)"}
OPTIONAL_WORD = {"nl": "optioneel", "en": "optional"}


def _form_classes() -> list[type[forms.BaseForm]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for config in apps.get_app_configs():
        if not config.path.startswith(str(settings.BASE_DIR)) or ".venv" in config.path:
            continue
        for module_info in pkgutil.iter_modules([config.path]):
            if module_info.name != "forms" and not module_info.name.startswith("views"):
                continue
            module = importlib.import_module(f"{config.name}.{module_info.name}")
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, forms.BaseForm)
                    and value.__module__ == module.__name__
                ):
                    found[f"{module.__name__}.{name}"] = value
    return [found[key] for key in sorted(found)]


def _instance(form_class: type[forms.BaseForm], case: Any, **kwargs: Any) -> forms.BaseForm:
    """An instance with harmless values for the keyword arguments forms require."""
    given = {
        "people": [],
        "consents": [],
        "advisers": User.objects.none(),
        "clients": ClientOrganisation.objects.none(),
        "themes": [("work_pressure", "Werkdruk")],
        "client": ClientOrganisation.objects.first(),
        "case": case,
    }
    parameters = inspect.signature(form_class.__init__).parameters
    for parameter in parameters.values():
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            kwargs[parameter.name] = given[parameter.name]
    if "request" in parameters:  # the sign-in form counts attempts per address
        kwargs["request"] = RequestFactory().post("/")
    return form_class(**kwargs)


def _labels(html: str) -> dict[str, str]:
    """Field name → the text of its label or legend, from form_fields.html's output."""
    labels = {}
    for chunk in re.split(r'<(?:div|fieldset) class="field ', html)[1:]:
        label = re.search(r"<(label|legend)\b[^>]*>(.*?)</\1>", chunk, re.S)
        names = re.findall(r'\bname="([^"]+)"', chunk)
        if label and names:
            labels[names[0]] = re.sub(r"<[^>]+>", "", label.group(2))
    return labels


FORMS = _form_classes()


def test_the_walk_finds_the_forms():
    names = {form.__name__ for form in FORMS}
    # A sample from every app that has forms: the walk looks where the forms are.
    assert {
        "ThreadStartForm", "CertificateForm", "CaseOpenForm", "ConsoleCaseOpenForm",
        "ContractForm", "SignupForm", "ClientForm", "DeclarationForm", "PreferencesForm",
        "ReportTextsForm",
    } <= names  # fmt: skip
    assert len(FORMS) >= 50


@pytest.mark.parametrize("language", ["nl", "en"])
def test_optional_in_the_label_exactly_when_the_field_is_not_required(cast, language):
    from cases.models import Case

    wrong = []
    with tenant_context(cast.a1), translation.override(language):
        case = Case.objects.order_by("pk").first()
        for form_class in FORMS:
            form = _instance(form_class, case)
            labels = _labels(render_to_string("form_fields.html", {"form": form}))
            bound = _instance(form_class, case, data={})
            bound.is_valid()
            for field in form.visible_fields():
                label = labels.get(field.html_name)
                where = f"{form_class.__module__}.{form_class.__name__}.{field.name}"
                if label is None:
                    wrong.append(f"{where}: no label rendered")
                    continue
                says_optional = OPTIONAL[language] in label
                if says_optional != (not field.field.required):
                    wrong.append(
                        f"{where}: label {label.strip()!r}, required={field.field.required}"
                    )
                help_text = str(field.help_text or "").lower()
                if field.field.required and OPTIONAL_WORD[language] in help_text:
                    wrong.append(f"{where}: required, but its help says {field.help_text!r}")
                # The bound form agrees: an optional field left empty gets no error of its own,
                # a required one does (BooleanField: required means "must be ticked").
                has_error = field.name in bound.errors
                if says_optional and has_error:
                    wrong.append(
                        f"{where}: labelled optional, refused empty: {bound.errors[field.name]}"
                    )
                if not says_optional and not has_error:
                    wrong.append(f"{where}: not labelled optional, accepted empty")
    assert wrong == []
