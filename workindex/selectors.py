"""The adviser's day across all assigned client organisations, from the public index only.

No tenant schema is read: a constant handful of queries, however many clients and cases.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saas import hosts
from tenants.models import Assignment, ClientOrganisation, Firm
from workindex.models import CaseworkEntry, WorkMinutes

CONVERSATION_DAYS_AHEAD = 7
FOLLOWUP_DAYS_AHEAD = 7
DEADLINE_DAYS_AHEAD = 14
MAX_DUE_CASES = 50
DUE_LABELS = {
    "conversation": _("Planned conversation"),
    "followup": _("Aftercare follow-up"),
    "acknowledgement": _("Whistleblower report: acknowledgement due"),
    "feedback": _("Whistleblower report: feedback due"),
}
MAX_RECENT_CASES = 20


@dataclass
class ClientDay:
    client: ClientOrganisation
    url: str
    kind: str
    open_cases: int = 0
    minutes: int = 0
    billable_minutes: int = 0


@dataclass
class DueItem:
    client: ClientOrganisation
    reference: str
    kind: str  # conversation, followup, acknowledgement, feedback
    due_on: datetime.date
    url: str
    overdue: bool = False
    label: str = ""


@dataclass
class MyDay:
    today: datetime.date
    clients: list[ClientDay] = field(default_factory=list)
    due: list[DueItem] = field(default_factory=list)
    due_cases_total: int = 0
    due_cases_listed: int = 0
    recent: list[tuple[ClientOrganisation, CaseworkEntry, str]] = field(default_factory=list)
    open_cases: int = 0
    minutes: int = 0


def _host(client: ClientOrganisation) -> str | None:
    return next((domain.domain for domain in client.domains.all() if domain.is_primary), None)


def case_url(host: str | None, reference: str, request: Any = None) -> str:
    """The address of a case page on its client organisation's host."""
    if host is None:
        return ""
    path = reverse("cases:detail", urlconf=settings.ROOT_URLCONF, kwargs={"reference": reference})
    return hosts.absolute_url(host, path, request)


class _CaseUrls:
    """Case addresses per client host, reversing the URL pattern once per request."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.pattern = reverse(
            "cases:detail", urlconf=settings.ROOT_URLCONF, kwargs={"reference": "REFERENCE"}
        )
        self.bases: dict[str | None, str] = {}

    def __call__(self, host: str | None, reference: str) -> str:
        if host is None:
            return ""
        if host not in self.bases:
            self.bases[host] = hosts.absolute_url(host, "", self.request)
        return self.bases[host] + self.pattern.replace("REFERENCE", reference)


def assigned_clients(
    *, user: Any, firm: Firm, day: datetime.date
) -> list[tuple[ClientOrganisation, str]]:
    """(client, assignment kind) for the adviser's current assignments in `firm` (two queries)."""
    assignments = (
        Assignment.objects.in_force(day)
        .filter(adviser=user, client__firm=firm)
        .filter(client__status=ClientOrganisation.Status.ACTIVE)
        .select_related("client")
        .prefetch_related("client__domains")
        .order_by("client__name")
    )
    seen: dict[int, tuple[ClientOrganisation, str]] = {}
    for assignment in assignments:
        seen.setdefault(assignment.client_id, (assignment.client, assignment.kind))
    return list(seen.values())


def my_day(
    *, user: Any, firm: Firm, request: Any = None, today: datetime.date | None = None
) -> MyDay:
    """Open cases, planned conversations, follow-ups and deadlines due, hours this month.

    Causes seven queries whatever the number of clients and cases.
    """
    today = today or timezone.localdate()
    day = MyDay(today=today)
    assigned = assigned_clients(user=user, firm=firm, day=today)
    if not assigned:
        return day
    by_id = {client.pk: client for client, _kind in assigned}
    host_of = {client.pk: _host(client) for client, _kind in assigned}
    rows = {
        client.pk: ClientDay(
            client=client,
            url=hosts.absolute_url(host, "/cases/", request)
            if (host := host_of[client.pk])
            else "",
            kind=kind,
        )
        for client, kind in assigned
    }
    mine = CaseworkEntry.objects.filter(client_id__in=by_id, adviser_id=user.pk)
    for client_id, count in mine.values_list("client_id").annotate(count=Count("id")).order_by():
        rows[client_id].open_cases = count
    month = today.replace(day=1)
    for client_id, minutes, billable in WorkMinutes.objects.filter(
        client_id__in=by_id, adviser_id=user.pk, month=month
    ).values_list("client_id", "minutes", "billable_minutes"):
        rows[client_id].minutes, rows[client_id].billable_minutes = minutes, billable
    conversation_horizon = today + datetime.timedelta(days=CONVERSATION_DAYS_AHEAD)
    followup_horizon = today + datetime.timedelta(days=FOLLOWUP_DAYS_AHEAD)
    deadline_horizon = today + datetime.timedelta(days=DEADLINE_DAYS_AHEAD)
    due_entries = mine.filter(
        Q(next_conversation_on__lte=conversation_horizon)
        | Q(followup_due_on__lte=followup_horizon)
        | Q(acknowledgement_due_on__lte=deadline_horizon)
        | Q(feedback_due_on__lte=deadline_horizon)
    )
    # The most urgent first (PostgreSQL's LEAST skips NULLs); the rest is counted, not listed.
    urgent = due_entries.annotate(
        first_due=Least(
            "next_conversation_on", "followup_due_on", "acknowledgement_due_on", "feedback_due_on"
        )
    ).order_by("first_due", "client_id", "case_reference")[:MAX_DUE_CASES]
    urls = _CaseUrls(request)
    labels = {kind: str(label) for kind, label in DUE_LABELS.items()}  # translated once
    for entry in urgent:
        client = by_id[entry.client_id]
        url = urls(host_of[entry.client_id], entry.case_reference)
        for kind, due_on, horizon in (
            ("conversation", entry.next_conversation_on, conversation_horizon),
            ("followup", entry.followup_due_on, followup_horizon),
            ("acknowledgement", entry.acknowledgement_due_on, deadline_horizon),
            ("feedback", entry.feedback_due_on, deadline_horizon),
        ):
            if due_on is not None and due_on <= horizon:
                day.due.append(
                    DueItem(
                        client=client,
                        reference=entry.case_reference,
                        kind=kind,
                        due_on=due_on,
                        url=url,
                        overdue=due_on < today,
                        label=labels[kind],
                    )
                )
    day.due.sort(key=lambda item: (item.due_on, item.client.name, item.reference))
    day.due_cases_listed = len(urgent)
    day.due_cases_total = due_entries.count()
    for recent in mine.order_by("-opened_on", "-id")[:MAX_RECENT_CASES]:
        day.recent.append(
            (
                by_id[recent.client_id],
                recent,
                urls(host_of[recent.client_id], recent.case_reference),
            )
        )
    day.clients = list(rows.values())
    day.open_cases = sum(row.open_cases for row in day.clients)
    day.minutes = sum(row.minutes for row in day.clients)
    return day
