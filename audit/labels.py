"""What the access log's rows say, in the reader's language.

A row stores its note as a code with parameters (`note`, `note_params`: "consent_recorded",
{"scope": "talk_to_hr"}), given by `note_encode` when the row is written
(`audit.services.access_log_write`), and is said in the reader's language by `note_render` with
the labels the rest of the product uses. The services still describe what happened in a short
English phrase (`detail`, kept in the row as written); it is encoded once, at writing, never
parsed at display. Rows written before codes existed (append-only: they are never rewritten, so
no data migration) have no code and are read by the same table from their phrase; a phrase no
entry knows is shown as stored (a newer release may write notes an older reader lacks).
Services that write a new kind of note add it here; `tests/test_audit_labels.py` checks that
every note the code writes today has a code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

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
    "reports_register": gettext_lazy("Register of reports"),
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


Params = Mapping[str, Any]


def _count(singular: str, plural: str) -> Callable[[Params], str]:
    def render(params: Params) -> str:
        count = int(params["n"])
        return ngettext(singular, plural, count) % {"count": count}

    return render


def _code(phrase: str) -> str:
    return re.sub(r"\W+", "_", phrase).strip("_")


# A fixed phrase's code is the phrase in snake case ("conversation added": conversation_added).
FIXED = {_code(phrase): label for phrase, label in NOTES.items()}

# (code, pattern of the phrase, how to say it); params are said with the product's labels.
PATTERNS: list[tuple[str, re.Pattern[str], Callable[[Params], str]]] = [
    (
        "consent_recorded",
        re.compile(r"consent recorded \((?P<scope>\w+)\)"),
        lambda m: (
            _("consent recorded (%(scope)s)")
            % {"scope": _choice("cases.ConsentRecord", "Scope", m["scope"])}
        ),
    ),
    (
        "consent_withdrawn",
        re.compile(r"consent withdrawn \((?P<scope>\w+)\)"),
        lambda m: (
            _("consent withdrawn (%(scope)s)")
            % {"scope": _choice("cases.ConsentRecord", "Scope", m["scope"])}
        ),
    ),
    (
        "referral_added",
        re.compile(r"referral added \((?P<target>\w+)\)"),
        lambda m: (
            _("referral added (%(target)s)")
            % {"target": _choice("cases.Referral", "Target", m["target"])}
        ),
    ),
    (
        "phase_changed",
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
        "fields_changed",
        re.compile(r"changed (?P<fields>[\w, ]+)"),
        lambda m: _("changed: %(fields)s") % {"fields": _fields(m["fields"])},
    ),
    (
        "thread_started",
        re.compile(r"started, (?P<n>\d+) attachment\(s\)"),
        _count("started, %(count)s attachment", "started, %(count)s attachments"),
    ),
    (
        "thread_answered",
        re.compile(r"answered, (?P<n>\d+) attachment\(s\)"),
        _count("answered, %(count)s attachment", "answered, %(count)s attachments"),
    ),
    (
        "threads_searched",
        re.compile(r"(?P<n>\d+) thread\(s\) searched"),
        _count("%(count)s thread searched", "%(count)s threads searched"),
    ),
    (
        "attachment_downloaded",
        re.compile(r"downloaded from thread (?P<thread>\S+)"),
        lambda m: _("downloaded from thread %(thread)s") % {"thread": m["thread"]},
    ),
    (
        "linked_to_case",
        re.compile(r"linked to case (?P<reference>\S+)"),
        lambda m: _("linked to case %(reference)s") % {"reference": m["reference"]},
    ),
    (
        "linked_to_new_case",
        re.compile(r"linked to new case (?P<reference>\S+)"),
        lambda m: _("linked to new case %(reference)s") % {"reference": m["reference"]},
    ),
    (
        "journal_shared",
        re.compile(r"shared (?P<n>\d+) journal entries"),
        _count("shared %(count)s journal entry", "shared %(count)s journal entries"),
    ),
    (
        "oral_record_state",
        re.compile(r"oral record (?P<state>\w+)"),
        lambda m: _("oral record: %(state)s") % {"state": m["state"]},
    ),
    (
        "published",
        re.compile(r"published (?P<digest>\w+)"),
        lambda m: _("published (%(digest)s)") % {"digest": m["digest"]},
    ),
    (
        "retention_firm_default",
        re.compile(r"retention firm default"),
        lambda m: _("retention: the firm's setting"),
    ),
    (
        "retention_months",
        re.compile(r"retention (?P<n>\d+)"),
        _count("retention: %(count)s month", "retention: %(count)s months"),
    ),
    (
        "declarations_shown",
        re.compile(r"(?P<n>\d+) declaration\(s\) shown"),
        _count("%(count)s declaration shown", "%(count)s declarations shown"),
    ),
    (
        "declarations_exported",
        re.compile(r"(?P<n>\d+) declaration\(s\) exported as CSV"),
        _count("%(count)s declaration exported as CSV", "%(count)s declarations exported as CSV"),
    ),
    (
        "reports_exported",
        re.compile(r"(?P<n>\d+) report\(s\) exported as CSV"),
        _count("%(count)s report exported as CSV", "%(count)s reports exported as CSV"),
    ),
    (
        "declarations_destroyed",
        re.compile(r"(?P<n>\d+) declaration\(s\) destroyed after \d+ years"),
        _count(
            "%(count)s declaration destroyed after its retention period",
            "%(count)s declarations destroyed after their retention period",
        ),
    ),
    (
        "declaration_added",
        re.compile(r"declaration added \((?P<kind>\w+)\)"),
        lambda m: _("declaration added (%(kind)s)") % {"kind": m["kind"]},
    ),
    (
        "country_changed",
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


def note_encode(detail: str, *, object_type: str = "") -> tuple[str, dict[str, str]]:
    """The code and parameters of a phrase a service wrote; ("", {}) for one no entry knows."""
    if not detail:
        return "", {}
    if object_type == "activity":
        return "activity_kind", {"kind": detail}
    if detail in NOTES:
        return _code(detail), {}
    for code, pattern, _render in PATTERNS:
        match = pattern.fullmatch(detail)
        if match is not None:
            return code, match.groupdict()
    return "", {}


def _fixed(label: Any) -> Callable[[Params], str]:
    return lambda params: str(label)


_RENDERERS: dict[str, Callable[[Params], str]] = {
    "activity_kind": lambda p: _choice("boardroom.Activity", "Kind", p["kind"]),
    **{code: render for code, _pattern, render in PATTERNS},
    **{code: _fixed(label) for code, label in FIXED.items()},
}


def note_render(code: str, params: Params | None = None) -> str | None:
    """A stored code said in the active language; None for a code this release lacks."""
    render = _RENDERERS.get(code)
    if render is None:
        return None
    try:
        return render(params or {})
    except (KeyError, ValueError, TypeError):  # parameters of another release's making
        return None


def note_label(
    detail: str, *, object_type: str = "", note: str = "", params: Params | None = None
) -> str:
    """A row's note in the active language: from its code, else (rows written before codes)
    from its phrase; a note nothing here knows is shown as stored."""
    if note:
        said = note_render(note, params)
        if said is not None:
            return said
    code, found = note_encode(detail, object_type=object_type)
    said = note_render(code, found) if code else None
    return said if said is not None else detail
