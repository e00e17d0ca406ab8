"""Sparring across client organisations, read from the public index only (no client schema).

`sparring_my_day(user, firm=...)` is what an external adviser's "my day" shows: the open or
unread threads of the clients of `firm` they are assigned to today, the same clients as the case
half of the page (`workindex.selectors.assigned_clients`, the one owner of that rule). `firm_thread_stats(firm)` gives firm admins counts
and ages per client. Neither holds a subject, a text or a name.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from saas import hosts
from sparring.public.models import ThreadIndexEntry, ThreadUnread
from tenants.models import ClientOrganisation, Firm
from workindex.selectors import assigned_clients


@dataclass(frozen=True)
class SparringDayItem:
    client_id: int
    client_name: str
    thread_id: uuid.UUID
    is_open: bool
    is_unread: bool
    started_at: datetime.datetime
    last_activity_at: datetime.datetime
    url: str

    @property
    def age_days(self) -> int:
        return (timezone.now() - self.started_at).days


def thread_url(
    *, domain: str, thread_id: uuid.UUID | str, request: HttpRequest | None = None
) -> str:
    path = reverse(
        "sparring:thread_detail", kwargs={"thread_id": thread_id}, urlconf=settings.ROOT_URLCONF
    )
    return hosts.absolute_url(domain, path, request)


def sparring_my_day(
    user: Any,
    *,
    firm: Firm | None,
    request: HttpRequest | None = None,
    day: datetime.date | None = None,
) -> list[SparringDayItem]:
    """Open or unread threads of the clients of `firm` that `user` is assigned to today (as
    the case half of "my day" counts them); unread first.

    Causes four queries whatever the number of clients (assignments, domains, unread, index).
    """
    if firm is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    assigned = assigned_clients(user=user, firm=firm, day=day or timezone.localdate())
    clients = {client.pk: client.name for client, _kind in assigned}
    if not clients:
        return []
    unread = set(
        ThreadUnread.objects.filter(user_id=user.pk, client_id__in=clients).values_list(
            "client_id", "thread_id"
        )
    )
    unread_threads = {thread_id for _client, thread_id in unread}
    entries = ThreadIndexEntry.objects.filter(client_id__in=clients).filter(
        Q(is_open=True) | Q(thread_id__in=unread_threads)
    )
    domains = {
        client.pk: domain.domain
        for client, _kind in assigned
        for domain in client.domains.all()
        if domain.is_primary
    }
    items = [
        SparringDayItem(
            client_id=entry.client_id,
            client_name=clients[entry.client_id],
            thread_id=entry.thread_id,
            is_open=entry.is_open,
            is_unread=(entry.client_id, entry.thread_id) in unread,
            started_at=entry.started_at,
            last_activity_at=entry.last_activity_at,
            url=thread_url(
                domain=domains[entry.client_id], thread_id=entry.thread_id, request=request
            )
            if entry.client_id in domains
            else "",
        )
        for entry in entries
    ]
    items.sort(key=lambda item: item.last_activity_at, reverse=True)
    items.sort(key=lambda item: not item.is_unread)
    return items


@dataclass(frozen=True)
class ClientThreadStats:
    client_id: int
    client_name: str
    open_count: int
    closed_count: int
    oldest_open_started_at: datetime.datetime | None
    last_activity_at: datetime.datetime | None
    unanswered_by_adviser: int

    @property
    def oldest_open_age_days(self) -> int | None:
        if self.oldest_open_started_at is None:
            return None
        return (timezone.now() - self.oldest_open_started_at).days


def firm_thread_stats(*, firm: Firm) -> list[ClientThreadStats]:
    """Per client of `firm` with threads: how many open and closed, how old, how recent.

    `unanswered_by_adviser` counts open threads that some assigned adviser has not read yet.
    Three queries.
    """
    clients = dict(
        ClientOrganisation.objects.filter(firm=firm)
        .exclude(status=ClientOrganisation.Status.OFFBOARDED)
        .values_list("pk", "name")
    )
    totals = (
        ThreadIndexEntry.objects.filter(client_id__in=clients)
        .values("client_id")
        .annotate(
            open_count=Count("id", filter=Q(is_open=True)),
            closed_count=Count("id", filter=Q(is_open=False)),
            oldest_open=Min("started_at", filter=Q(is_open=True)),
            last_activity=Max("last_activity_at"),
        )
    )
    unread: dict[int, set[uuid.UUID]] = defaultdict(set)
    for client_id, thread_id in ThreadUnread.objects.filter(client_id__in=clients).values_list(
        "client_id", "thread_id"
    ):
        unread[client_id].add(thread_id)
    open_threads: dict[int, set[uuid.UUID]] = defaultdict(set)
    for client_id, thread_id in ThreadIndexEntry.objects.filter(
        client_id__in=clients, is_open=True
    ).values_list("client_id", "thread_id"):
        open_threads[client_id].add(thread_id)
    stats = [
        ClientThreadStats(
            client_id=row["client_id"],
            client_name=clients[row["client_id"]],
            open_count=row["open_count"],
            closed_count=row["closed_count"],
            oldest_open_started_at=row["oldest_open"],
            last_activity_at=row["last_activity"],
            unanswered_by_adviser=len(unread[row["client_id"]] & open_threads[row["client_id"]]),
        )
        for row in totals
    ]
    return sorted(stats, key=lambda stat: stat.client_name)
