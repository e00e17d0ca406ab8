"""What the access log's rows say, in the reader's language.

The rows are append-only and were written as short English notes ("consent recorded
(talk_to_hr)"); they are never rewritten. This module reads them: the kind of object a row is
about, and its note, translated with the labels the rest of the product uses. A note it does
not know is shown as it was stored (a newer release may write notes an older reader lacks).
Services that write a new kind of note add it here; `tests/test_audit_labels.py` checks that
every note the code writes today is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

KINDS = {
    "case": gettext_lazy("Case"),
    "case_settings": gettext_lazy("Case settings"),
    "internal_registration": gettext_lazy("Internal registration"),
    "intake contact": gettext_lazy("Intake contact"),
    "sparring_thread": gettext_lazy("Sparring thread"),
    "sparring_attachment": gettext_lazy("Sparring attachment"),
    "sparring_count": gettext_lazy("Sparring count"),
    "sparring_search": gettext_lazy("Sparring search"),
    "board_signal": gettext_lazy("Board signal"),
    "annual_report": gettext_lazy("Annual report"),
    "activity": gettext_lazy("Activity"),
    "client": gettext_lazy("Client organisation"),
    "third_party_register": gettext_lazy("Register of acts by third parties"),
}

NOTES = {
    "opened": gettext_lazy("opened"),
    "conversation added": gettext_lazy("conversation added"),
    "next conversation planned": gettext_lazy("next conversation planned"),
    "step added": gettext_lazy("step added"),
    "step done": gettext_lazy("step done"),
    "follow-up planned": gettext_lazy("follow-up planned"),
    "follow-up done": gettext_lazy("follow-up done"),
    "time recorded": gettext_lazy("time recorded"),
    "note added": gettext_lazy("note added"),
    "handed over to the PAPS": gettext_lazy("handed over to the PAPS"),
    "narrative and identifying data erased on request": gettext_lazy(
        "narrative and identifying data erased on request"
    ),
    "exported for an access request": gettext_lazy("exported for an access request"),
    "retention deadline passed": gettext_lazy("retention deadline passed"),
    "anonymous count": gettext_lazy("anonymous count"),
    "closed": gettext_lazy("closed"),
    "reopened": gettext_lazy("reopened"),
    "texts": gettext_lazy("texts"),
    "draft prepared": gettext_lazy("draft prepared"),
    "sent for review": gettext_lazy("sent for review"),
    "returned to draft": gettext_lazy("returned to draft"),
    "draft deleted": gettext_lazy("draft deleted"),
    "sent": gettext_lazy("sent"),
    "acknowledged": gettext_lazy("acknowledged"),
    "follow-up recorded": gettext_lazy("follow-up recorded"),
    "intake": gettext_lazy("received through the intake"),
    "reporter wrote": gettext_lazy("the reporter wrote"),
    "notice address": gettext_lazy("notice address changed"),
    "answered": gettext_lazy("answered"),
    "oral record": gettext_lazy("oral record added"),
    "oral record revised": gettext_lazy("oral record revised"),
    "attachment": gettext_lazy("attachment downloaded"),
}


def _choice(model_path: str, enum: str, value: str) -> str:
    from django.apps import apps

    app_label, model_name = model_path.split(".")
    choices = getattr(apps.get_model(app_label, model_name), enum)
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _fields(names: str) -> str:
    from cases.models import Case

    labels = []
    for name in names.split(", "):
        try:
            labels.append(str(Case._meta.get_field(name).verbose_name))
        except Exception:  # a field a later release renamed: show the name as stored
            labels.append(name)
    return ", ".join(labels)


def _count(singular: str, plural: str) -> Callable[[re.Match[str]], str]:
    def render(match: re.Match[str]) -> str:
        count = int(match["n"])
        return ngettext(singular, plural, count) % {"count": count}

    return render


# (pattern of the stored note, how to say it); params are translated with the product's labels.
PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"consent recorded \((?P<scope>\w+)\)"),
        lambda m: (
            _("consent recorded (%(scope)s)")
            % {"scope": _choice("cases.ConsentRecord", "Scope", m["scope"])}
        ),
    ),
    (
        re.compile(r"consent withdrawn \((?P<scope>\w+)\)"),
        lambda m: (
            _("consent withdrawn (%(scope)s)")
            % {"scope": _choice("cases.ConsentRecord", "Scope", m["scope"])}
        ),
    ),
    (
        re.compile(r"referral added \((?P<target>\w+)\)"),
        lambda m: (
            _("referral added (%(target)s)")
            % {"target": _choice("cases.Referral", "Target", m["target"])}
        ),
    ),
    (
        re.compile(r"phase (?P<before>\w+) → (?P<after>\w+)"),
        lambda m: (
            _("phase %(before)s → %(after)s")
            % {
                "before": _choice("cases.Case", "Phase", m["before"]),
                "after": _choice("cases.Case", "Phase", m["after"]),
            }
        ),
    ),
    (
        re.compile(r"changed (?P<fields>[\w, ]+)"),
        lambda m: _("changed: %(fields)s") % {"fields": _fields(m["fields"])},
    ),
    (
        re.compile(r"started, (?P<n>\d+) attachment\(s\)"),
        _count("started, %(count)s attachment", "started, %(count)s attachments"),
    ),
    (
        re.compile(r"answered, (?P<n>\d+) attachment\(s\)"),
        _count("answered, %(count)s attachment", "answered, %(count)s attachments"),
    ),
    (
        re.compile(r"(?P<n>\d+) thread\(s\) searched"),
        _count("%(count)s thread searched", "%(count)s threads searched"),
    ),
    (
        re.compile(r"downloaded from thread (?P<thread>\S+)"),
        lambda m: _("downloaded from thread %(thread)s") % {"thread": m["thread"]},
    ),
    (
        re.compile(r"linked to case (?P<reference>\S+)"),
        lambda m: _("linked to case %(reference)s") % {"reference": m["reference"]},
    ),
    (
        re.compile(r"linked to new case (?P<reference>\S+)"),
        lambda m: _("linked to new case %(reference)s") % {"reference": m["reference"]},
    ),
    (
        re.compile(r"shared (?P<n>\d+) journal entries"),
        _count("shared %(count)s journal entry", "shared %(count)s journal entries"),
    ),
    (
        re.compile(r"oral record (?P<state>\w+)"),
        lambda m: _("oral record: %(state)s") % {"state": m["state"]},
    ),
    (
        re.compile(r"published (?P<digest>\w+)"),
        lambda m: _("published (%(digest)s)") % {"digest": m["digest"]},
    ),
    (re.compile(r"retention firm default"), lambda m: _("retention: the firm's setting")),
    (
        re.compile(r"retention (?P<n>\d+)"),
        _count("retention: %(count)s month", "retention: %(count)s months"),
    ),
    (
        re.compile(r"(?P<n>\d+) declaration\(s\) shown"),
        _count("%(count)s declaration shown", "%(count)s declarations shown"),
    ),
    (
        re.compile(r"(?P<n>\d+) declaration\(s\) exported as CSV"),
        _count("%(count)s declaration exported as CSV", "%(count)s declarations exported as CSV"),
    ),
    (
        re.compile(r"(?P<n>\d+) declaration\(s\) destroyed after \d+ years"),
        _count(
            "%(count)s declaration destroyed after its retention period",
            "%(count)s declarations destroyed after their retention period",
        ),
    ),
    (
        re.compile(r"declaration added \((?P<kind>\w+)\)"),
        lambda m: _("declaration added (%(kind)s)") % {"kind": m["kind"]},
    ),
    (
        re.compile(r"country (?P<before>\w+) → (?P<after>\w+)"),
        lambda m: (
            _("country %(before)s → %(after)s")
            % {
                "before": _choice("tenants.ClientOrganisation", "Country", m["before"]),
                "after": _choice("tenants.ClientOrganisation", "Country", m["after"]),
            }
        ),
    ),
]


def kind_label(object_type: str) -> str:
    """The kind of object a row is about, in the active language."""
    label = KINDS.get(object_type)
    return str(label) if label is not None else object_type


def note_label(detail: str, *, object_type: str = "") -> str:
    """A row's note in the active language; unknown notes as stored."""
    if not detail:
        return ""
    if object_type == "activity":
        return _choice("boardroom.Activity", "Kind", detail)
    known = NOTES.get(detail)
    if known is not None:
        return str(known)
    for pattern, render in PATTERNS:
        match = pattern.fullmatch(detail)
        if match is not None:
            return render(match)
    return detail
