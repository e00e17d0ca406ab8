"""Read state and the public thread index, written inside the services' transactions.

Read marks and unread flags only ever move forward in time (GREATEST on upsert; a flag is
cleared only up to the message the reader actually saw), so a reader opening a thread while an
answer is being saved never loses that answer's "unread" state.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable

from django.db import connection

from sparring.models import ReadMark, Thread
from sparring.public.models import ThreadIndexEntry, ThreadUnread


def entry_put(*, client_id: int, thread: Thread) -> None:
    """Insert or update the thread's content-free index row (one upsert)."""
    ThreadIndexEntry.objects.bulk_create(
        [
            ThreadIndexEntry(
                client_id=client_id,
                thread_id=thread.pk,
                is_open=thread.is_open,
                started_at=thread.created_at,
                last_activity_at=thread.last_message_at,
            )
        ],
        update_conflicts=True,
        unique_fields=["client", "thread_id"],
        update_fields=["is_open", "last_activity_at"],
    )


def read_mark_put(*, thread: Thread, user_id: int, read_at: datetime.datetime) -> None:
    """Record that `user_id` read `thread` up to `read_at`; never moves a mark back (one upsert)."""
    table = connection.ops.quote_name(ReadMark._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (thread_id, user_id, read_at) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (thread_id, user_id) DO UPDATE "
            f"SET read_at = GREATEST({table}.read_at, EXCLUDED.read_at)",
            [thread.pk, user_id, read_at],
        )


def unread_put(
    *, client_id: int, thread_id: uuid.UUID, user_ids: Iterable[int], since: datetime.datetime
) -> None:
    """Flag the thread unread for these external advisers from `since` on (one upsert)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    table = connection.ops.quote_name(ThreadUnread._meta.db_table)
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(ids))
    params: list[object] = []
    for user_id in ids:
        params += [client_id, thread_id, user_id, since]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client_id, thread_id, user_id, since) VALUES {rows} "  # noqa: S608
            "ON CONFLICT (client_id, thread_id, user_id) DO UPDATE "
            f"SET since = GREATEST({table}.since, EXCLUDED.since)",
            params,
        )


def unread_clear(
    *, client_id: int, thread_id: uuid.UUID, user_id: int, until: datetime.datetime
) -> None:
    """Clear the unread flag if nothing newer than `until` arrived meanwhile (one DELETE)."""
    ThreadUnread.objects.filter(
        client_id=client_id, thread_id=thread_id, user_id=user_id, since__lte=until
    ).delete()


def client_forget(*, client_id: int) -> None:
    """Remove a client's index rows and digest notices (offboarding; its e-mails still waiting
    are dropped by `mail.outbox.outbox_client_forget`)."""
    from sparring.public.models import DigestNotice

    ThreadIndexEntry.objects.filter(client_id=client_id).delete()
    ThreadUnread.objects.filter(client_id=client_id).delete()
    DigestNotice.objects.filter(client_id=client_id).delete()
