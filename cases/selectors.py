"""Reads of case files. Every read of a case goes through `case_get_for_user`.

Who reads a case: an external adviser of the client's firm, assigned to this client organisation
today (primary or backup). Nobody else — firm admins manage, but do not read narratives; contact
persons and internal advisers never reach a case. "Missing" and "not yours" both give Http404.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404

from audit.models import AccessLogEntry
from audit.services import access_log_write
from cases.models import (
    Case,
    CaseSettings,
    CaseType,
    ConsentRecord,
    Conversation,
    FollowUp,
    InternalRegistration,
    Note,
    Referral,
    Step,
    TimeEntry,
)
from tenants.access import serves_client, serving_adviser_ids
from tenants.current import current_client
from tenants.models import Firm

CASES_PER_PAGE = 50
LOG_ENTRIES_PER_PAGE = 100
# Encrypted columns the lists and the admin pages never need: deferring them avoids decrypting.
NARRATIVE_FIELDS = ("reporter_identity", "reporter_department")


def user_reads_cases(user: Any, *, day: datetime.date | None = None) -> bool:
    """Whether `user` may read this client's cases today (one query)."""
    client = current_client()
    return serves_client(user, client_id=client.client_id, firm_id=client.firm_id, day=day)


def case_get_for_user(user: Any, reference: str, write: bool = False) -> Case:
    """The case `reference` of the current client, if `user` may read it; else Http404.

    Writes a READ row to the access log (one INSERT) unless `write` is set: a write is logged
    by the service that makes it. Causes three queries (access, case, themes) plus the log row.
    """
    if not user_reads_cases(user):
        raise Http404
    reference = (reference or "")[:12]
    case = Case.objects.filter(reference=reference).prefetch_related("themes").first()
    if case is None:
        raise Http404
    if not write:
        access_log_write(
            actor=user,
            action=AccessLogEntry.Action.READ,
            object_type="case",
            object_reference=case.reference,
        )
    return case


def case_get_for_admin(reference: str) -> Case:
    """A case's categorical data for firm administration (handover), never its narrative."""
    case = Case.objects.defer(*NARRATIVE_FIELDS).filter(reference=(reference or "")[:12]).first()
    if case is None:
        raise Http404
    return case


def case_list_for_user(
    user: Any, *, status: str = "open", mine: bool = False, page: int | str = 1
) -> Page:
    """One page of the client's cases for an adviser (no narrative; constant number of queries)."""
    if not user_reads_cases(user):
        raise Http404
    cases = Case.objects.defer(*NARRATIVE_FIELDS).prefetch_related("themes")
    if status == "open":
        cases = cases.exclude(phase=Case.Phase.CLOSED)
    elif status == "closed":
        cases = cases.filter(phase=Case.Phase.CLOSED)
    if mine:
        cases = cases.filter(adviser_id=user.pk)
    result = Paginator(cases.order_by("-opened_on", "-id"), CASES_PER_PAGE).get_page(page)
    result.object_list = list(result.object_list)
    label_cases(result.object_list)
    return result


def label_cases(cases: list[Case]) -> None:
    """Attach display labels (`type_label`, `phase_label`, `theme_labels`) to listed cases.

    Translates each choice once per call, not once per row and field (get_FOO_display hashes
    and translates every choice on every call, which dominated the list's CPU time).
    """
    types = {value: str(label) for value, label in Case._meta.get_field("case_type").choices or []}
    phases = {value: str(label) for value, label in Case.Phase.choices}
    themes: dict[int, str] = {}
    for case in cases:
        case.type_label = types.get(case.case_type, case.case_type)
        case.phase_label = phases.get(case.phase, case.phase)
        for theme in case.themes.all():
            if theme.pk not in themes:
                themes[theme.pk] = str(theme)
        case.theme_labels = ", ".join(themes[theme.pk] for theme in case.themes.all())


@dataclasses.dataclass
class CasePage:
    case: Case
    conversations: list[Conversation]
    consents: list[ConsentRecord]
    steps: list[Step]
    referrals: list[Referral]
    followups: list[FollowUp]
    time_entries: list[TimeEntry]
    notes: list[Note]
    total_minutes: int
    billable_minutes: int


def case_page(case: Case) -> CasePage:
    """Everything on a case's page (seven queries, however long the file)."""
    time_entries = list(case.time_entries.all())
    return CasePage(
        case=case,
        conversations=list(case.conversations.all()),
        consents=list(case.consents.all()),
        steps=list(case.steps.select_related("consent")),
        referrals=list(case.referrals.select_related("consent")),
        followups=list(case.followups.all()),
        time_entries=time_entries,
        notes=list(case.notes.all()),
        total_minutes=sum(entry.minutes for entry in time_entries),
        billable_minutes=sum(entry.minutes for entry in time_entries if entry.billable),
    )


def _in_case(model: Any, case: Case, object_id: Any) -> Any:
    try:
        return model.objects.get(case=case, pk=int(object_id))
    except (model.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def consent_in_case(case: Case, consent_id: Any) -> ConsentRecord:
    """A consent record of this case (Http404 for another case's, or a missing one)."""
    return _in_case(ConsentRecord, case, consent_id)


def step_in_case(case: Case, step_id: Any) -> Step:
    return _in_case(Step, case, step_id)


def followup_in_case(case: Case, followup_id: Any) -> FollowUp:
    return _in_case(FollowUp, case, followup_id)


def advisers_of_client(*, day: datetime.date | None = None) -> list[Any]:
    """Advisers assigned to the current client today, who may take over its cases (one query)."""
    from accounts.models import User

    client = current_client()
    ids = serving_adviser_ids(client_id=client.client_id, firm_id=client.firm_id, day=day)
    return list(User.objects.filter(pk__in=ids).order_by("full_name", "email"))


def people_by_id(ids: set[int]) -> dict[int, Any]:
    """Users by id, to show names next to plain ids in case files (one query)."""
    from accounts.models import User

    return {user.pk: user for user in User.objects.filter(pk__in={i for i in ids if i})}


def retention_months() -> int:
    """Months after closure that this client's case files are kept (client setting, else firm)."""
    override = CaseSettings.objects.values_list("retention_months", flat=True).first()
    if override is not None:
        return override
    client = current_client()
    return Firm.objects.filter(pk=client.firm_id).values_list("retention_months", flat=True).get()


def case_settings() -> CaseSettings:
    return CaseSettings.objects.first() or CaseSettings()


def case_admin_list(*, page: int | str = 1) -> Page:
    """Case references for firm administrators: phase, handler and dates only (no narrative)."""
    cases = Case.objects.only(
        "reference",
        "case_type",
        "phase",
        "adviser_id",
        "opened_on",
        "closed_on",
        "retention_until",
        "erased_at",
        "destroyed_at",
        "version",
    ).order_by("-opened_on", "-id")
    return Paginator(cases, CASES_PER_PAGE).get_page(page)


def access_log_page(*, reference: str = "", page: int | str = 1) -> Page:
    """Who did what to which case reference, when — never content."""
    entries = AccessLogEntry.objects.all()
    if reference:
        entries = entries.filter(object_reference=reference[:40])
    return Paginator(entries.order_by("-at", "-id"), LOG_ENTRIES_PER_PAGE).get_page(page)


def internal_registrations_of(user: Any) -> QuerySet[InternalRegistration]:
    """The internal adviser's own registrations, newest first."""
    return InternalRegistration.objects.filter(registered_by_id=user.pk).prefetch_related("themes")


# --- the register of reports (whistleblower acts) ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class RegisterRow:
    """One report of wrongdoing as the register keeps it: reference and dates, no person."""

    reference: str
    received_on: datetime.date | None  # never None: the query asks for a report date
    acknowledgement_due: datetime.date | None
    acknowledged_on: datetime.date | None
    feedback_due: datetime.date | None
    feedback_given_on: datetime.date | None
    closed_on: datetime.date | None

    def acknowledged_in_time(self) -> bool | None:
        """True or False once acknowledged; None while open (see `overdue`)."""
        if self.acknowledged_on is None or self.acknowledgement_due is None:
            return None
        return self.acknowledged_on <= self.acknowledgement_due

    def answered_in_time(self) -> bool | None:
        if self.feedback_given_on is None or self.feedback_due is None:
            return None
        return self.feedback_given_on <= self.feedback_due

    def overdue(self, today: datetime.date) -> bool:
        """A deadline passed with nothing done."""
        late_acknowledgement = (
            self.acknowledged_on is None
            and self.acknowledgement_due is not None
            and self.acknowledgement_due < today
        )
        late_feedback = (
            self.feedback_given_on is None
            and self.feedback_due is not None
            and self.feedback_due < today
        )
        return late_acknowledgement or late_feedback


REGISTER_COLUMNS = [
    "reference",
    "received_on",
    "acknowledgement_due",
    "acknowledged_on",
    "feedback_due",
    "feedback_given_on",
    "closed_on",
]


def reports_register_for_user(user: Any) -> list[RegisterRow]:
    """The client's register of reports of wrongdoing (the Dutch Wbk and the Belgian law of 28
    November 2022 both ask the employer's channel to keep one): every integrity case with a
    report date, newest first, with its deadlines. References and dates only: no narrative,
    no identity, so reading the list is not a read of a case file. One query."""
    if not user_reads_cases(user):
        raise Http404
    rows = (
        Case.objects.filter(case_type=CaseType.INTEGRITY, report_received_on__isnull=False)
        .order_by("-report_received_on", "-id")
        .values_list(
            "reference",
            "report_received_on",
            "acknowledgement_due",
            "acknowledged_on",
            "feedback_due",
            "feedback_given_on",
            "closed_on",
        )
    )
    return [RegisterRow(*row) for row in rows]


def reports_register_csv(user: Any) -> str:
    """The register as CSV (ISO dates, the case references); logs one EXPORT."""
    import csv
    import io

    rows = reports_register_for_user(user)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REGISTER_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.reference,
                *(
                    value.isoformat() if value is not None else ""
                    for value in (
                        row.received_on,
                        row.acknowledgement_due,
                        row.acknowledged_on,
                        row.feedback_due,
                        row.feedback_given_on,
                        row.closed_on,
                    )
                ),
            ]
        )
    access_log_write(
        actor=user,
        action=AccessLogEntry.Action.EXPORT,
        object_type="reports_register",
        object_reference="register",
        detail=f"{len(rows)} report(s) exported as CSV",
    )
    return out.getvalue()
