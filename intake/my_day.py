"""The intake part of an adviser's "my day": open contacts they handle, from the public index
(four queries, no tenant schema): received day, Wbk deadlines, whether an answer is owed."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from intake.public.models import IntakeIndexEntry
from saas import hosts
from tenants.models import Domain, Firm
from workindex.selectors import assigned_clients


@dataclass(frozen=True)
class IntakeItem:
    client_name: str
    url: str
    received_on: datetime.date
    acknowledgement_due_on: datetime.date
    feedback_due_on: datetime.date
    acknowledged: bool
    awaiting_adviser: bool

    @property
    def acknowledgement_overdue(self) -> bool:
        return not self.acknowledged and self.acknowledgement_due_on < timezone.localdate()


def contact_url(domain: str, contact_id: uuid.UUID, request: HttpRequest | None = None) -> str:
    path = reverse(
        "intake:work_detail", kwargs={"contact_id": contact_id}, urlconf=settings.ROOT_URLCONF
    )
    return hosts.absolute_url(domain, path, request)


def intake_my_day(
    user: Any,
    *,
    firm: Firm | None,
    request: HttpRequest | None = None,
    day: datetime.date | None = None,
) -> list[IntakeItem]:
    """Open contacts `user` handles at the clients of `firm` they are assigned to now (the
    rule the other halves of "my day" use: `workindex.selectors.assigned_clients`)."""
    if firm is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    assigned = assigned_clients(user=user, firm=firm, day=day or timezone.localdate())
    clients = [client.pk for client, _kind in assigned]
    if not clients:
        return []
    entries = list(
        IntakeIndexEntry.objects.filter(handler_id=user.pk, client_id__in=clients)
        .select_related("client")
        .order_by("acknowledged", "acknowledgement_due_on", "received_on")[:50]
    )
    domains = dict(
        Domain.objects.filter(
            tenant_id__in={entry.client_id for entry in entries}, is_primary=True
        ).values_list("tenant_id", "domain")
    )
    return [
        IntakeItem(
            client_name=entry.client.name,
            url=contact_url(domains.get(entry.client_id, ""), entry.contact_id, request),
            received_on=entry.received_on,
            acknowledgement_due_on=entry.acknowledgement_due_on,
            feedback_due_on=entry.feedback_due_on,
            acknowledged=entry.acknowledged,
            awaiting_adviser=entry.awaiting_adviser,
        )
        for entry in entries
        if entry.client_id in domains
    ]
