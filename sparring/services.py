"""Writes to sparring threads. Each is one transaction: the tenant rows, the access-log row, the
public index and the notification outbox commit together or not at all.

Bad input raises ValidationError (with translated messages) and stores nothing. Identifiers in
the text raise `IdentifiersFound` unless the writer confirmed sending anyway.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AccessLogEntry
from audit.services import access_log_write
from cases.models import CaseType, Theme
from cases.services import submission_claim, submission_link
from sparring import filetypes, index, notifications
from sparring.identifiers import Finding, find_identifiers
from sparring.models import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Attachment,
    Message,
    SparringCount,
    Thread,
)
from sparring.selectors import participant_role, sparring_roles
from tenants import crypto
from tenants.access import Role
from tenants.current import current_client
from tenants.schemas import current_schema

MAX_ATTACHMENTS = 5


@dataclass(frozen=True)
class Upload:
    """A file as the writer sent it: its name and bytes."""

    name: str
    data: bytes


class IdentifiersFound(ValidationError):
    """The text holds what looks like identifiers; the writer must anonymise or confirm."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(
            _("Your text seems to contain details that can identify someone."), code="identifiers"
        )
        self.findings = findings


def _clean_subject(subject: str) -> str:
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": _("Enter a subject.")})
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValidationError(
            {
                "subject": _("The subject can have at most %(limit)d characters.")
                % {"limit": SUBJECT_MAX_LENGTH}
            }
        )
    return subject


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write a message.")})
    if len(body) > BODY_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _(
                    "This message is too long: at most %(limit)d characters, it has %(count)d."
                )
                % {"limit": BODY_MAX_LENGTH, "count": len(body)}
            }
        )
    if "\x00" in body:
        raise ValidationError(
            {"body": _("This message contains characters that cannot be stored.")}
        )
    return body


def _clean_uploads(uploads: Sequence[Upload]) -> list[tuple[Upload, filetypes.FileType]]:
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": _("Attach at most %(limit)d files.") % {"limit": MAX_ATTACHMENTS}}
        )
    checked = []
    errors = []
    for upload in uploads:
        name = (upload.name or "").strip().replace("\x00", "")[:200] or "file"
        try:
            file_type = filetypes.check_upload(name=name, data=upload.data)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        checked.append((Upload(name=name, data=upload.data), file_type))
    if errors:
        raise ValidationError({"attachments": errors})
    return checked


def _check_identifiers(texts: Iterable[str], *, send_anyway: bool) -> bool:
    """Raise IdentifiersFound unless confirmed; return whether anything was found."""
    findings: list[Finding] = []
    for text in texts:
        findings += [f for f in find_identifiers(text) if f not in findings]
    if findings and not send_anyway:
        raise IdentifiersFound(findings)
    return bool(findings)


def _require_role(actor: User, *allowed: Role) -> Role:
    role = participant_role(sparring_roles(actor))
    if role is None or role not in allowed:
        raise PermissionDenied
    return role


def _store_message(
    *,
    thread: Thread,
    actor: User,
    role: Role,
    body: str,
    uploads: list[tuple[Upload, filetypes.FileType]],
    flagged: bool,
    now: datetime.datetime,
) -> Message:
    schema = current_schema()
    message = Message.objects.create(
        thread=thread,
        author_id=actor.pk,
        author_role=role.value,
        body=body,
        sent_despite_identifiers=flagged,
        created_at=now,
    )
    for upload, file_type in uploads:
        attachment = Attachment(
            message=message,
            file_name=upload.name,
            content_type=file_type.content_type,
            size=len(upload.data),
            created_at=now,
        )
        attachment.content = crypto.encrypt_bytes(
            upload.data, schema_name=schema, purpose=attachment.purpose()
        )
        attachment.save(force_insert=True)
    index.read_mark_put(thread=thread, user_id=actor.pk, read_at=now)
    return message


def thread_start(
    *,
    actor: User,
    subject: str,
    body: str,
    uploads: Sequence[Upload] = (),
    send_anyway: bool = False,
    submission_key: uuid.UUID | str | None = None,
) -> Thread:
    """Start a thread as the client's internal adviser; notify the client's external advisers.

    Causes the role queries, the inserts of thread, message and attachments, the index and
    outbox rows and one access-log row, in one transaction; e-mails are queued on commit.
    A repeated `submission_key` raises DuplicateSubmission naming the first thread.
    """
    role = _require_role(actor, Role.INTERNAL_ADVISER)
    subject = _clean_subject(subject)
    body = _clean_body(body)
    checked = _clean_uploads(uploads)
    flagged = _check_identifiers(
        [subject, body, *(upload.name for upload, _type in checked)], send_anyway=send_anyway
    )
    client = current_client()
    now = timezone.now()
    with transaction.atomic():
        claimed = submission_claim(submission_key, "sparring_thread")
        thread = Thread.objects.create(
            subject=subject,
            started_by_id=actor.pk,
            created_at=now,
            last_message_at=now,
            message_count=1,
        )
        _store_message(
            thread=thread,
            actor=actor,
            role=role,
            body=body,
            uploads=checked,
            flagged=flagged,
            now=now,
        )
        submission_link(claimed, str(thread.pk))
        access_log_write(
            actor=actor,
            action=AccessLogEntry.Action.CREATE,
            object_type="sparring_thread",
            object_reference=str(thread.pk),
            detail=f"started, {len(checked)} attachment(s)",
        )
        index.entry_put(client_id=client.client_id, thread=thread)
        notifications.new_message_notify(client=client, thread=thread, author_id=actor.pk, at=now)
    return thread


def message_add(
    *,
    actor: User,
    thread: Thread,
    body: str,
    uploads: Sequence[Upload] = (),
    send_anyway: bool = False,
    submission_key: uuid.UUID | str | None = None,
) -> Message:
    """Answer in a thread the actor takes part in; refused while the thread is closed. A repeated
    `submission_key` raises DuplicateSubmission (nothing added, no second e-mail)."""
    role = _require_role(actor, Role.INTERNAL_ADVISER, Role.ADVISER)
    if role is Role.INTERNAL_ADVISER and thread.started_by_id != actor.pk:
        raise PermissionDenied
    if not thread.is_open:
        raise ValidationError(_("This thread is closed. Reopen it to answer."), code="closed")
    body = _clean_body(body)
    checked = _clean_uploads(uploads)
    flagged = _check_identifiers(
        [body, *(upload.name for upload, _type in checked)], send_anyway=send_anyway
    )
    client = current_client()
    with transaction.atomic():
        # The lock orders concurrent answers and closing; the state is read again under it.
        locked = Thread.objects.select_for_update().get(pk=thread.pk)
        if not locked.is_open:
            raise ValidationError(_("This thread is closed. Reopen it to answer."), code="closed")
        submission_claim(submission_key, "sparring_answer", str(locked.pk))
        now = max(timezone.now(), locked.last_message_at)
        message = _store_message(
            thread=locked,
            actor=actor,
            role=role,
            body=body,
            uploads=checked,
            flagged=flagged,
            now=now,
        )
        locked.last_message_at = now
        locked.message_count += 1
        locked.save(update_fields=["last_message_at", "message_count"])
        access_log_write(
            actor=actor,
            action=AccessLogEntry.Action.UPDATE,
            object_type="sparring_thread",
            object_reference=str(locked.pk),
            detail=f"answered, {len(checked)} attachment(s)",
        )
        index.entry_put(client_id=client.client_id, thread=locked)
        notifications.new_message_notify(client=client, thread=locked, author_id=actor.pk, at=now)
    thread.refresh_from_db()
    return message


def _set_status(*, actor: User, thread: Thread, status: str, verb: str) -> Thread:
    role = _require_role(actor, Role.INTERNAL_ADVISER, Role.ADVISER)
    if role is Role.INTERNAL_ADVISER and thread.started_by_id != actor.pk:
        raise PermissionDenied
    client = current_client()
    with transaction.atomic():
        locked = Thread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == status:
            return locked  # already so: a double click changes nothing
        locked.status = status
        if status == Thread.Status.CLOSED:
            locked.closed_at, locked.closed_by_id = timezone.now(), actor.pk
        else:
            locked.closed_at, locked.closed_by_id = None, None
        locked.save(update_fields=["status", "closed_at", "closed_by_id"])
        access_log_write(
            actor=actor,
            action=AccessLogEntry.Action.UPDATE,
            object_type="sparring_thread",
            object_reference=str(locked.pk),
            detail=verb,
        )
        index.entry_put(client_id=client.client_id, thread=locked)
    return locked


def thread_close(*, actor: User, thread: Thread) -> Thread:
    """Close a thread: no answers until it is reopened. Idempotent."""
    return _set_status(actor=actor, thread=thread, status=Thread.Status.CLOSED, verb="closed")


def thread_reopen(*, actor: User, thread: Thread) -> Thread:
    """Reopen a closed thread. Idempotent."""
    return _set_status(actor=actor, thread=thread, status=Thread.Status.OPEN, verb="reopened")


def thread_mark_read(*, user: Any, thread: Thread) -> None:
    """Record that `user` has read `thread` up to its newest message as loaded (never back)."""
    client = current_client()
    with transaction.atomic():
        index.read_mark_put(thread=thread, user_id=user.pk, read_at=thread.last_message_at)
        index.unread_clear(
            client_id=client.client_id,
            thread_id=thread.pk,
            user_id=user.pk,
            until=thread.last_message_at,
        )


def attachment_read(*, user: Any, attachment: Attachment) -> bytes:
    """Decrypt an attachment for download and log it in the client's access log."""
    data = crypto.decrypt_bytes(
        bytes(attachment.content), schema_name=current_schema(), purpose=attachment.purpose()
    )
    access_log_write(
        actor=user,
        action=AccessLogEntry.Action.EXPORT,
        object_type="sparring_attachment",
        object_reference=str(attachment.pk),
        detail=f"downloaded from thread {attachment.message.thread_id}"[:200],
    )
    return data


def thread_count_add(
    *, actor: User, thread: Thread, case_type: str, themes: Iterable[Theme | int | str]
) -> SparringCount:
    """Count a thread for the annual report: the month it started, a type and themes; no content.

    One count per thread: counting again is refused.
    """
    _require_role(actor, Role.ADVISER)
    if case_type not in CaseType.values:
        raise ValidationError({"case_type": _("Choose a type.")})
    chosen = list(_themes(themes))
    if not chosen:
        raise ValidationError({"themes": _("Choose at least one theme.")})
    with transaction.atomic():
        Thread.objects.select_for_update().filter(pk=thread.pk).first()
        if SparringCount.objects.filter(thread=thread).exists():
            raise ValidationError(_("This thread is already counted."), code="counted")
        count = SparringCount.objects.create(
            thread=thread,
            month=timezone.localtime(thread.created_at).date().replace(day=1),
            case_type=case_type,
            registered_by_id=actor.pk,
        )
        count.themes.set(chosen)
        access_log_write(
            actor=actor,
            action=AccessLogEntry.Action.CREATE,
            object_type="sparring_count",
            object_reference=str(thread.pk),
            detail="anonymous count",
        )
    return count


def _themes(themes: Iterable[Theme | int | str]) -> list[Theme]:
    wanted = [theme.pk if isinstance(theme, Theme) else theme for theme in themes]
    ids = []
    for value in wanted:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError({"themes": _("Choose themes from the list.")}) from None
    found = list(Theme.objects.filter(pk__in=ids, is_active=True))
    if len(found) != len(set(ids)):
        raise ValidationError({"themes": _("Choose themes from the list.")})
    return found
