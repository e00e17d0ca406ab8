"""Reads of sparring threads in the current client's schema. Every thread read goes through here.

Who sees a thread: the internal adviser who started it, and the external advisers assigned to
the client today (primary and backup). Firm admins see only that threads exist (counts, ages);
contact persons nothing. "Missing", "another client's" and "not yours" all give Http404.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any

from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from audit.models import AccessLogEntry
from audit.services import access_log_write
from sparring.models import Attachment, Message, ReadMark, SparringCount, Thread
from tenants.access import Role, roles_in_client
from tenants.current import current_client
from tenants.models import ClientMembership

SEARCH_MAX_THREADS = 500


def sparring_roles(user: Any) -> frozenset[Role]:
    """The user's roles in the current client today (two or three queries)."""
    client = current_client()
    return roles_in_client(user, client_id=client.client_id, firm_id=client.firm_id)


def participant_role(roles: frozenset[Role]) -> Role | None:
    """How the user takes part in threads here: as external adviser, internal adviser, or not."""
    if Role.ADVISER in roles:
        return Role.ADVISER
    if Role.INTERNAL_ADVISER in roles:
        return Role.INTERNAL_ADVISER
    return None


def _visible_threads(user: Any, roles: frozenset[Role]) -> QuerySet[Thread]:
    role = participant_role(roles)
    if role is Role.ADVISER:
        return Thread.objects.all()
    if role is Role.INTERNAL_ADVISER:
        # Own threads, and those of internal advisers who left (role removed or account
        # deactivated): what they wrote stays with the client, for whoever carries on.
        client = current_client()
        present = ClientMembership.objects.filter(
            client_id=client.client_id,
            role=ClientMembership.Role.INTERNAL_ADVISER,
            user__is_active=True,
        ).values("user_id")
        return Thread.objects.filter(Q(started_by_id=user.pk) | ~Q(started_by_id__in=present))
    return Thread.objects.none()


def _as_uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise Http404 from None


def thread_get_for_user(
    user: Any, thread_id: Any, *, roles: frozenset[Role] | None = None, log_read: bool = True
) -> Thread:
    """The thread `thread_id`, if `user` takes part in it; else Http404.

    Writes a READ row to the client's access log unless `log_read` is off (writes are logged
    by the service that makes them). Causes the role queries (unless given), one SELECT, one INSERT.
    """
    roles = sparring_roles(user) if roles is None else roles
    thread = _visible_threads(user, roles).filter(pk=_as_uuid(thread_id)).first()
    if thread is None:
        raise Http404
    if log_read:
        thread_read_log(user, thread)
    return thread


def thread_read_log(user: Any, thread: Thread) -> None:
    """One READ row in the client's access log for a page that shows (decrypts) the thread."""
    access_log_write(
        actor=user,
        action=AccessLogEntry.Action.READ,
        object_type="sparring_thread",
        object_reference=str(thread.pk),
    )


def messages_of(thread: Thread) -> list[Message]:
    """The thread's messages with their attachments' metadata (never the bytes): two queries."""
    attachments = Attachment.objects.defer("content")
    return list(
        thread.messages.prefetch_related(Prefetch("attachments", queryset=attachments)).order_by(
            "created_at", "id"
        )
    )


def attachment_get_for_user(
    user: Any, attachment_id: Any, *, roles: frozenset[Role] | None = None
) -> Attachment:
    """An attachment of a thread `user` takes part in, with its bytes; else Http404."""
    roles = sparring_roles(user) if roles is None else roles
    threads = _visible_threads(user, roles).values("pk")
    attachment = (
        Attachment.objects.select_related("message")
        .filter(pk=_as_uuid(attachment_id), message__thread__in=threads)
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment


@dataclasses.dataclass(frozen=True)
class ThreadRow:
    thread: Thread
    is_unread: bool
    is_counted: bool


def thread_list_for_user(
    user: Any, *, roles: frozenset[Role], query: str = "", status: str = ""
) -> list[ThreadRow]:
    """The user's threads, newest activity first, with unread state; `query` searches them.

    Search decrypts the subjects and messages of the user's own threads in Python and matches
    case-insensitively: the database only holds ciphertext. At the scale of one client's
    sparring (tens to hundreds of threads) that is milliseconds; at most SEARCH_MAX_THREADS
    threads are searched.
    """
    threads = _visible_threads(user, roles).annotate(counted=Count("count"))
    if status in Thread.Status.values:
        threads = threads.filter(status=status)
    listed = list(threads.order_by("-last_message_at")[:SEARCH_MAX_THREADS])
    marks = dict(
        ReadMark.objects.filter(thread__in=[t.pk for t in listed], user_id=user.pk).values_list(
            "thread_id", "read_at"
        )
    )
    needle = query.strip().casefold()
    if needle:
        # Decrypts every message of the threads searched: logged like reading them (which
        # threads and how many, never the words searched for, which may be content).
        access_log_write(
            actor=user,
            action=AccessLogEntry.Action.READ,
            object_type="sparring_search",
            object_reference="search",
            detail=f"{len(threads)} thread(s) searched",
        )
        bodies: dict[uuid.UUID, list[str]] = {}
        for thread_id, body in Message.objects.filter(
            thread__in=[t.pk for t in listed]
        ).values_list("thread_id", "body"):
            bodies.setdefault(thread_id, []).append(body)
        listed = [
            thread
            for thread in listed
            if needle in thread.subject.casefold()
            or any(needle in body.casefold() for body in bodies.get(thread.pk, []))
        ]
    return [
        ThreadRow(
            thread=thread,
            is_unread=marks.get(thread.pk) is None or marks[thread.pk] < thread.last_message_at,
            is_counted=bool(thread.counted),
        )
        for thread in listed
    ]


@dataclasses.dataclass(frozen=True)
class AdminOverview:
    open_count: int
    closed_count: int
    oldest_open_started_at: datetime.datetime | None
    last_activity_at: datetime.datetime | None
    rows: list[dict[str, Any]]


def admin_overview() -> AdminOverview:
    """For firm admins: how many threads, how old, when last active — no subject, no content."""
    threads = Thread.objects.only("id", "status", "created_at", "last_message_at", "message_count")
    totals = threads.aggregate(
        open_count=Count("id", filter=Q(status=Thread.Status.OPEN)),
        closed_count=Count("id", filter=Q(status=Thread.Status.CLOSED)),
        oldest_open=Min("created_at", filter=Q(status=Thread.Status.OPEN)),
        last_activity=Max("last_message_at"),
    )
    now = timezone.now()
    rows = [
        {
            "status": row["status"],
            "started_at": row["created_at"],
            "age_days": (now - row["created_at"]).days,
            "last_message_at": row["last_message_at"],
            "message_count": row["message_count"],
        }
        for row in threads.order_by("-created_at").values(
            "status", "created_at", "last_message_at", "message_count"
        )[:200]
    ]
    return AdminOverview(
        open_count=totals["open_count"],
        closed_count=totals["closed_count"],
        oldest_open_started_at=totals["oldest_open"],
        last_activity_at=totals["last_activity"],
        rows=rows,
    )


def count_of(thread: Thread) -> SparringCount | None:
    return SparringCount.objects.filter(thread=thread).prefetch_related("themes").first()


def people_by_id(ids: set[int]) -> dict[int, Any]:
    """Users by id, to show who wrote which message (one query)."""
    from accounts.models import User

    return {user.pk: user for user in User.objects.filter(pk__in={i for i in ids if i})}
