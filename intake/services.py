"""Writes of the intake. Each is one transaction: the tenant rows, the access-log row, the public
index and the notice outbox commit together or not at all. Bad input raises ValidationError with
a translated message and stores nothing.

The reporter has no account: reporter-side services take the `Contact` their mailbox session
opened (`mailbox_session`), and the access log records them as "reporter" (no id, no address).
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AccessLogEntry
from audit.services import access_log_write
from cases import rules
from cases.models import ACKNOWLEDGEMENT_DAYS, FEEDBACK_MONTHS
from cases.selectors import current_client
from intake import keys, scrub
from intake.emails import TO_ADVISER, TO_REPORTER
from intake.models import (
    SHORT_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    Attachment,
    Contact,
    Entry,
    JournalEntry,
    JournalFile,
    MailboxSession,
    OralRecord,
    OralRecordVersion,
)
from intake.public.models import IntakeIndexEntry
from intake.selectors import handler_for, intake_adviser_ids
from mail.outbox import email_enqueue
from sparring import filetypes
from tenants import crypto
from tenants.current import current_client_organisation
from tenants.schemas import current_schema

MAX_ATTACHMENTS = 5
SESSION_MINUTES = 30
Action = AccessLogEntry.Action
# Control characters other than tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


class KeyRefused(Exception):
    """Wrong key, a key of another client, or a lookup id that does not exist: one answer."""


class TooManyAttempts(Exception):
    """Guessing limit reached for this key or this client; try again later."""


class ReporterActor:
    """The reporter in the access log: no id, no address."""

    pk = None
    email = "reporter"


REPORTER = ReporterActor()
NO_ROW = uuid.UUID(int=0)  # ids are random UUIDs (uuid4 never makes this one)


# --- input ---------------------------------------------------------------------------------------


def _text(value: str | None, *, field: str, required: bool = False, limit: int = TEXT_MAX_LENGTH):
    value = (value or "").replace("\r\n", "\n")
    if _CONTROL.search(value):
        raise ValidationError(
            {field: _("This text contains characters that cannot be stored. Please remove them.")}
        )
    return rules.text(value, field=field, required=required, limit=limit)


def _uploads(uploads: Sequence[Upload]) -> list[tuple[str, bytes, filetypes.FileType, str]]:
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": _("Attach at most %(limit)d files.") % {"limit": MAX_ATTACHMENTS}}
        )
    checked, errors = [], []
    for upload in uploads:
        name = _CONTROL.sub("", upload.name or "").strip()[:200] or "file"
        try:
            file_type = filetypes.check_upload(name=name, data=upload.data)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        data, cleaning = scrub.clean(upload.data, file_type)
        checked.append((name, data, file_type, cleaning))
    if errors:
        raise ValidationError({"attachments": errors})
    return checked


def _adviser_choice(chosen: Any, excluded: Any) -> tuple[int | None, int | None]:
    advisers = intake_adviser_ids()

    def parse(value: Any, field: str) -> int | None:
        if value in (None, ""):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if number not in advisers:
            raise ValidationError({field: _("Choose one of the advisers on this page.")})
        return number

    chosen_id, excluded_id = parse(chosen, "adviser"), parse(excluded, "excluded")
    if chosen_id is not None and chosen_id == excluded_id:
        raise ValidationError({"excluded": _("You cannot choose and exclude the same adviser.")})
    return chosen_id, excluded_id


def _nonce(nonce: str) -> str:
    nonce = (nonce or "").strip()
    if not (16 <= len(nonce) <= 64) or not re.fullmatch(r"[A-Za-z0-9_-]+", nonce):
        raise ValidationError(_("This form has expired. Please open the page again."))
    return nonce


def _count(kind: str, value: str, window: int) -> int:
    cache = caches["routing"]  # no tenant prefix; keys carry the schema themselves
    key = f"intake:{kind}:{value}"
    if cache.add(key, 1, window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:
        cache.set(key, 1, window)
        return 1


def _counted(kind: str, value: str) -> int:
    return caches["routing"].get(f"intake:{kind}:{value}") or 0


# --- storing -------------------------------------------------------------------------------------


def _store_entry(
    *,
    contact: Contact,
    author: str,
    body: str,
    files: list[tuple[str, bytes, filetypes.FileType, str]],
    adviser_id: int | None = None,
    digest: str | None = None,
    now: datetime.datetime,
) -> Entry:
    entry = Entry.objects.create(
        contact=contact,
        author=author,
        adviser_id=adviser_id,
        body=body,
        submission_digest=digest,
        created_at=now,
    )
    schema = current_schema()
    for name, data, file_type, cleaning in files:
        attachment = Attachment(
            entry=entry,
            file_name=name,
            content_type=file_type.content_type,
            size=len(data),
            cleaning=cleaning,
            created_at=now,
        )
        attachment.content = crypto.encrypt_bytes(
            data, schema_name=schema, purpose=attachment.purpose()
        )
        attachment.save(force_insert=True)
    return entry


def _index_put(contact: Contact, *, awaiting_adviser: bool) -> None:
    client = current_client()
    acknowledgement_due, feedback_due = contact.acknowledgement_due, contact.feedback_due
    # A submitted contact has both deadlines (set with submitted_at); a journal has neither.
    if (
        contact.status == Contact.Status.CLOSED
        or not contact.is_submitted
        or acknowledgement_due is None
        or feedback_due is None
    ):
        IntakeIndexEntry.objects.filter(client_id=client.client_id, contact_id=contact.pk).delete()
        return
    IntakeIndexEntry.objects.update_or_create(
        client_id=client.client_id,
        contact_id=contact.pk,
        defaults={
            "handler_id": contact.handler_id,
            "received_on": timezone.localtime(contact.submitted_at).date(),
            "acknowledgement_due_on": acknowledgement_due,
            "feedback_due_on": feedback_due,
            "acknowledged": contact.acknowledged_at is not None,
            "awaiting_adviser": awaiting_adviser,
            "updated_at": timezone.now(),
        },
    )


def _notify(contact: Contact, *, kind: str, recipient_id: int | None = None) -> None:
    """In the caller's transaction: a content-free notice through the mail outbox (one per
    event; `intake.emails` says what it looks like and reads the reporter's address then)."""
    if kind == TO_ADVISER and recipient_id is None:
        return
    if kind == TO_REPORTER and not contact.notify_email:
        return
    email_enqueue(
        kind=kind,
        key=f"{contact.pk}:{uuid.uuid4()}",
        recipient_id=recipient_id,
        client=current_client_organisation(),
        params={"contact": str(contact.pk)},
    )


def _log(actor: User | ReporterActor, action: str, contact: Contact, detail: str = "") -> None:
    access_log_write(
        actor=actor,
        action=action,
        object_type="intake contact",
        object_reference=str(contact.pk),
        detail=detail,
    )


def _submit_fields(contact: Contact, *, now: datetime.datetime) -> None:
    received = timezone.localtime(now).date()
    contact.submitted_at = now
    contact.acknowledgement_due = received + datetime.timedelta(days=ACKNOWLEDGEMENT_DAYS)
    contact.feedback_due = rules.add_months(received, FEEDBACK_MONTHS)
    contact.handler_id = handler_for(
        chosen=contact.chosen_adviser_id, excluded=contact.excluded_adviser_id
    )


def _existing(digest: str) -> Contact | None:
    return Contact.objects.filter(submission_digest=digest).first()


def _submits_allowed() -> None:
    client = current_client()
    count = _count("submits", client.schema_name, 3600)
    if count > settings.INTAKE_SUBMITS_PER_CLIENT_PER_HOUR:
        raise ValidationError(
            _("Many messages arrived here in the last hour. Please try again later.")
        )


@dataclass(frozen=True)
class Receipt:
    contact: Contact
    key: str  # normalised, without dashes
    created: bool

    @property
    def formatted_key(self) -> str:
        return keys.formatted(self.key)


def _new_contact(nonce: str, digest: str, **fields: Any) -> Contact:
    key = keys.receipt_key_for(nonce)
    return Contact(
        lookup_id=keys.lookup_of(key),
        key_hash=keys.hash_key(key),
        submission_digest=digest,
        journal_salt=uuid.uuid4().bytes,
        **fields,
    )


def contact_submit(
    *,
    nonce: str,
    kind: str,
    topic: str = Contact.Topic.UNSURE,
    body: str = "",
    anonymous: bool = True,
    name: str = "",
    reach: str = "",
    notify_email: str = "",
    chosen_adviser: Any = None,
    excluded_adviser: Any = None,
    uploads: Sequence[Upload] = (),
) -> Receipt:
    """A reporter's first contact. A second submit of the same form returns the same receipt.

    Causes the adviser queries, one Argon2id hash, the inserts of contact, entry and files,
    the index and notice rows and one access-log row, in one transaction.
    """
    nonce = _nonce(nonce)
    digest = keys.nonce_digest(nonce)
    existing = _existing(digest)
    if existing is not None:
        return Receipt(contact=existing, key=keys.receipt_key_for(nonce), created=False)
    if kind not in (Contact.Kind.MESSAGE, Contact.Kind.CALLBACK, Contact.Kind.MEETING):
        raise ValidationError({"kind": _("Choose how you want to be in touch.")})
    if topic not in Contact.Topic.values:
        raise ValidationError({"topic": _("Choose what it is about.")})
    body = _text(body, field="body", required=kind == Contact.Kind.MESSAGE)
    name = _text(name, field="name", required=not anonymous, limit=SHORT_MAX_LENGTH)
    reach = _text(
        reach, field="reach", required=kind != Contact.Kind.MESSAGE, limit=SHORT_MAX_LENGTH
    )
    notify_email = _email(notify_email)
    chosen, excluded = _adviser_choice(chosen_adviser, excluded_adviser)
    files = _uploads(uploads)
    _submits_allowed()
    now = timezone.now()
    contact = _new_contact(
        nonce,
        digest,
        kind=kind,
        topic=topic,
        anonymous=anonymous,
        reporter_name="" if anonymous else name,
        reach=reach,
        notify_email=notify_email,
        chosen_adviser_id=chosen,
        excluded_adviser_id=excluded,
        created_at=now,
    )
    _submit_fields(contact, now=now)
    try:
        with transaction.atomic():
            contact.save(force_insert=True)
            if body or files:
                _store_entry(
                    contact=contact, author=Entry.Author.REPORTER, body=body, files=files, now=now
                )
            _log(REPORTER, Action.CREATE, contact, "intake")
            _index_put(contact, awaiting_adviser=True)
            _notify(contact, kind=TO_ADVISER, recipient_id=contact.handler_id)
    except IntegrityError:
        existing = _existing(digest)  # the same form, submitted twice at once
        if existing is None:
            raise
        return Receipt(contact=existing, key=keys.receipt_key_for(nonce), created=False)
    return Receipt(contact=contact, key=keys.receipt_key_for(nonce), created=True)


def journal_start(*, nonce: str) -> Receipt:
    """A key for a journal only: nothing reaches the firm until the reporter writes."""
    nonce = _nonce(nonce)
    digest = keys.nonce_digest(nonce)
    existing = _existing(digest)
    if existing is not None:
        return Receipt(contact=existing, key=keys.receipt_key_for(nonce), created=False)
    _submits_allowed()
    contact = _new_contact(nonce, digest, kind=Contact.Kind.JOURNAL)
    try:
        with transaction.atomic():
            contact.save(force_insert=True)
    except IntegrityError:
        existing = _existing(digest)
        if existing is None:
            raise
        return Receipt(contact=existing, key=keys.receipt_key_for(nonce), created=False)
    return Receipt(contact=contact, key=keys.receipt_key_for(nonce), created=True)


def _email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 254 or _CONTROL.search(value):
        raise ValidationError(
            {"notify_email": _("Enter a valid e-mail address or leave it empty.")}
        )
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            {"notify_email": _("Enter a valid e-mail address or leave it empty.")}
        ) from None
    return value


# --- the mailbox ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenMailbox:
    contact: Contact
    token: str
    journal_key: bytes


def mailbox_open(*, raw_key: str) -> OpenMailbox:
    """Check a receipt key (one Argon2id) and open a mailbox session.

    Limits count failures per key (its lookup id, whether it exists or not) and per client, never
    per address. A wrong key, a key of another client and a malformed key all raise KeyRefused.
    """
    client = current_client()
    key = keys.normalise(raw_key)
    lookup = keys.lookup_of(key) if key else "malformed"
    per_key = f"{client.schema_name}:{lookup}"
    if (
        _counted("key-failures", per_key) >= settings.INTAKE_KEY_FAILURES_PER_KEY
        or _counted("client-failures", client.schema_name)
        >= settings.INTAKE_KEY_FAILURES_PER_CLIENT
    ):
        raise TooManyAttempts
    contact = Contact.objects.filter(lookup_id=lookup).first() if key else None
    valid = keys.verify_key(contact.key_hash if contact else None, key or "0" * keys.KEY_LENGTH)
    if not valid or contact is None or key is None:
        window = settings.INTAKE_KEY_FAILURE_WINDOW_SECONDS
        _count("key-failures", per_key, window)
        _count("client-failures", client.schema_name, window)
        raise KeyRefused
    journal = keys.journal_key(key, bytes(contact.journal_salt))
    token = keys.new_session_token()
    now = timezone.now()
    with transaction.atomic():
        MailboxSession.objects.filter(expires_at__lt=now).delete()
        MailboxSession.objects.create(
            token_hash=keys.token_hash(token),
            contact=contact,
            wrapped_journal_key=keys.wrap_for_session(journal, token),
            expires_at=now + datetime.timedelta(minutes=SESSION_MINUTES),
        )
        if (
            contact.is_submitted
            and not contact.came_back
            and timezone.localtime(contact.submitted_at).date() < timezone.localdate()
        ):
            Contact.objects.filter(pk=contact.pk).update(came_back=True)
    return OpenMailbox(contact=contact, token=token, journal_key=journal)


def mailbox_session(token: str) -> OpenMailbox | None:
    """The open mailbox of a cookie's token, or None (expired, closed, never existed)."""
    if not token or len(token) > 100:
        return None
    now = timezone.now()
    session = (
        MailboxSession.objects.select_related("contact")
        .filter(token_hash=keys.token_hash(token), expires_at__gte=now)
        .first()
    )
    if session is None:
        return None
    try:
        journal = keys.unwrap_for_session(bytes(session.wrapped_journal_key), token)
    except crypto.DecryptionError:
        return None
    MailboxSession.objects.filter(pk=session.pk).update(
        expires_at=now + datetime.timedelta(minutes=SESSION_MINUTES)
    )
    return OpenMailbox(contact=session.contact, token=token, journal_key=journal)


def mailbox_close(*, token: str) -> None:
    MailboxSession.objects.filter(token_hash=keys.token_hash(token or "")).delete()


def _locked(contact: Contact) -> Contact:
    return Contact.objects.select_for_update().get(pk=contact.pk)


def reporter_write(
    *,
    contact: Contact,
    nonce: str,
    body: str,
    uploads: Sequence[Upload] = (),
    chosen_adviser: Any = None,
    excluded_adviser: Any = None,
) -> Entry:
    """The reporter writes more (a journal-only key: writes for the first time)."""
    nonce = _nonce(nonce)
    digest = keys.nonce_digest(nonce)
    done = Entry.objects.filter(submission_digest=digest, contact=contact).first()
    if done is not None:
        return done
    body = _text(body, field="body")
    files = _uploads(uploads)
    if not body and not files:
        raise ValidationError({"body": _("Write a message or attach a file.")})
    first = not contact.is_submitted
    if first:
        chosen, excluded = _adviser_choice(chosen_adviser, excluded_adviser)
        _submits_allowed()
    now = timezone.now()
    with transaction.atomic():
        contact = _locked(contact)
        if contact.status == Contact.Status.CLOSED:
            raise ValidationError(
                _("This conversation is closed. You can start a new one on the intake page.")
            )
        if first and not contact.is_submitted:
            contact.kind = Contact.Kind.MESSAGE
            contact.chosen_adviser_id, contact.excluded_adviser_id = chosen, excluded
            _submit_fields(contact, now=now)
            contact.save()
            _log(REPORTER, Action.CREATE, contact, "intake")
        entry = _store_entry(
            contact=contact,
            author=Entry.Author.REPORTER,
            body=body,
            files=files,
            digest=digest,
            now=now,
        )
        if not first:
            _log(REPORTER, Action.UPDATE, contact, "reporter wrote")
        _index_put(contact, awaiting_adviser=True)
        _notify(contact, kind=TO_ADVISER, recipient_id=contact.handler_id)
    return entry


def notify_email_set(*, contact: Contact, email: str) -> Contact:
    email = _email(email)
    with transaction.atomic():
        contact = _locked(contact)
        contact.notify_email = email
        contact.save(update_fields=["notify_email"])
        _log(REPORTER, Action.UPDATE, contact, "notice address")
    return contact


def oral_record_respond(
    *, contact: Contact, record_id: Any, approve: bool, correction: str = ""
) -> OralRecord:
    """The reporter approves the latest version, or writes a corrected one (kept as a version)."""
    correction = _text(correction, field="correction", required=not approve)
    with transaction.atomic():
        record = (
            OralRecord.objects.select_for_update()
            .filter(contact=contact, pk=_uuid_or_nothing(record_id))
            .first()
        )
        if record is None:
            raise ValidationError(_("This record no longer exists."))
        latest = record.versions.order_by("-number").first()
        if latest is None:  # a record is made with its first version; gone with it
            raise ValidationError(_("This record no longer exists."))
        if approve:
            if record.state != OralRecord.State.AWAITING:
                raise ValidationError(_("There is no new version to approve."))
            record.state = OralRecord.State.APPROVED
            record.approved_version = latest.number
        else:
            OralRecordVersion.objects.create(
                record=record,
                number=latest.number + 1,
                author=OralRecordVersion.Author.REPORTER,
                text=correction,
            )
            record.state = OralRecord.State.CORRECTED
            record.approved_version = latest.number + 1
        record.save(update_fields=["state", "approved_version"])
        _log(REPORTER, Action.UPDATE, contact, f"oral record {record.state}")
        _index_put(contact, awaiting_adviser=not approve)
    return record


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _uuid_or_nothing(value: Any) -> uuid.UUID:
    """For a lookup by primary key: an id that is no UUID becomes one no row has."""
    return _uuid(value) or NO_ROW


# --- the journal (sealed under the reporter's key) -----------------------------------------------

JOURNAL_FIELDS = ("occurred_on", "what", "where", "who_saw", "felt")


def _journal_seal(data: bytes, *, key: bytes, purpose: str) -> bytes:
    return crypto.seal(data, key=key, schema_name=keys.JOURNAL_SCOPE, purpose=purpose)


def _journal_open(data: bytes | memoryview, *, key: bytes, purpose: str) -> bytes:
    return crypto.open_sealed(
        bytes(data), keys=[key], schema_name=keys.JOURNAL_SCOPE, purpose=purpose
    )[1]


def journal_add(
    *,
    mailbox: OpenMailbox,
    occurred_on: datetime.date | None,
    what: str,
    where: str = "",
    who_saw: str = "",
    felt: str = "",
    uploads: Sequence[Upload] = (),
) -> JournalEntry:
    occurred_on = rules.past_date(occurred_on, field="occurred_on")
    fields = {
        "occurred_on": occurred_on.isoformat(),
        "what": _text(what, field="what", required=True),
        "where": _text(where, field="where", limit=SHORT_MAX_LENGTH),
        "who_saw": _text(who_saw, field="who_saw", limit=SHORT_MAX_LENGTH),
        "felt": _text(felt, field="felt"),
    }
    files = _uploads(uploads)
    with transaction.atomic():
        entry = JournalEntry(contact=mailbox.contact)
        entry.sealed = _journal_seal(
            json.dumps(fields).encode(), key=mailbox.journal_key, purpose=entry.purpose()
        )
        entry.save(force_insert=True)
        for name, data, file_type, _cleaning in files:
            item = JournalFile(entry=entry, content_type=file_type.content_type)
            item.sealed = _journal_seal(
                name.encode() + b"\x00" + data, key=mailbox.journal_key, purpose=item.purpose()
            )
            item.save(force_insert=True)
    return entry


@dataclass(frozen=True)
class JournalView:
    id: uuid.UUID
    fields: dict[str, str]
    files: list[tuple[uuid.UUID, str]]
    shared: bool


def journal_read(*, mailbox: OpenMailbox) -> list[JournalView]:
    result = []
    entries = JournalEntry.objects.filter(contact=mailbox.contact).prefetch_related("files")
    for entry in entries:
        fields = json.loads(
            _journal_open(entry.sealed, key=mailbox.journal_key, purpose=entry.purpose())
        )
        files = []
        for item in entry.files.all():
            plain = _journal_open(item.sealed, key=mailbox.journal_key, purpose=item.purpose())
            files.append((item.pk, plain.split(b"\x00", 1)[0].decode()))
        result.append(
            JournalView(id=entry.pk, fields=fields, files=files, shared=entry.shared_at is not None)
        )
    return result


def journal_file(*, mailbox: OpenMailbox, file_id: Any) -> tuple[str, str, bytes]:
    item = JournalFile.objects.filter(
        entry__contact=mailbox.contact, pk=_uuid_or_nothing(file_id)
    ).first()
    if item is None:
        raise ValidationError(_("This file no longer exists."))
    plain = _journal_open(item.sealed, key=mailbox.journal_key, purpose=item.purpose())
    name, data = plain.split(b"\x00", 1)
    return name.decode(), item.content_type, data


def journal_share(*, mailbox: OpenMailbox, entry_ids: Sequence[Any]) -> Entry:
    """Copy chosen entries into the mailbox, readable to the adviser under the client's key."""
    contact = mailbox.contact
    if not contact.is_submitted:
        raise ValidationError(_("Write to an adviser first; then you can share journal entries."))
    wanted = {value for value in (_uuid(v) for v in entry_ids) if value}
    entries = list(
        JournalEntry.objects.filter(contact=contact, pk__in=wanted, shared_at__isnull=True)
        .prefetch_related("files")
        .order_by("created_on", "id")
    )
    if not entries:
        raise ValidationError(_("Choose at least one entry that you have not shared yet."))
    parts, files = [], []
    labels = {
        "occurred_on": _("Date"),
        "what": _("What happened"),
        "where": _("Where"),
        "who_saw": _("Who saw it"),
        "felt": _("How it felt"),
    }
    for entry in entries:
        fields = json.loads(
            _journal_open(entry.sealed, key=mailbox.journal_key, purpose=entry.purpose())
        )
        parts.append(
            "\n".join(f"{labels[name]}: {fields[name]}" for name in JOURNAL_FIELDS if fields[name])
        )
        for item in entry.files.all():
            plain = _journal_open(item.sealed, key=mailbox.journal_key, purpose=item.purpose())
            name, data = plain.split(b"\x00", 1)
            file_type = filetypes.BY_CONTENT_TYPE[item.content_type]
            files.append((name.decode(), data, file_type, scrub.CLEANED))
    body = _("From my journal:") + "\n\n" + "\n\n---\n\n".join(parts)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(contact)
        if locked.status == Contact.Status.CLOSED:
            raise ValidationError(
                _("This conversation is closed. You can start a new one on the intake page.")
            )
        shared = _store_entry(
            contact=locked, author=Entry.Author.REPORTER, body=body, files=files, now=now
        )
        JournalEntry.objects.filter(pk__in=[entry.pk for entry in entries]).update(
            shared_at=now, shared_entry=shared
        )
        _log(REPORTER, Action.UPDATE, locked, f"shared {len(entries)} journal entries")
        _index_put(locked, awaiting_adviser=True)
        _notify(locked, kind=TO_ADVISER, recipient_id=locked.handler_id)
    return shared


def journal_delete(*, mailbox: OpenMailbox) -> int:
    """Delete the whole journal (shared copies stay in the mailbox: they were given)."""
    with transaction.atomic():
        deleted, _per_model = JournalEntry.objects.filter(contact=mailbox.contact).delete()
    return deleted


# --- the adviser's side --------------------------------------------------------------------------


def adviser_answer(
    *, actor: User, contact: Contact, nonce: str, body: str, uploads: Sequence[Upload] = ()
) -> Entry:
    """An answer in the mailbox; the first one acknowledges receipt (Wbk: within 7 days)."""
    nonce = _nonce(nonce)
    digest = keys.nonce_digest(nonce)
    done = Entry.objects.filter(submission_digest=digest, contact=contact).first()
    if done is not None:
        return done
    body = _text(body, field="body", required=True)
    files = _uploads(uploads)
    now = timezone.now()
    with transaction.atomic():
        contact = _locked(contact)
        if contact.status == Contact.Status.CLOSED:
            raise ValidationError(_("This contact is closed."))
        entry = _store_entry(
            contact=contact,
            author=Entry.Author.ADVISER,
            adviser_id=actor.pk,
            body=body,
            files=files,
            digest=digest,
            now=now,
        )
        contact.status = Contact.Status.CONVERSATION
        contact.acknowledged_at = contact.acknowledged_at or now
        contact.save(update_fields=["status", "acknowledged_at"])
        _log(actor, Action.UPDATE, contact, "answered")
        _index_put(contact, awaiting_adviser=False)
        _notify(contact, kind=TO_REPORTER)
    return entry


def contact_close(*, actor: User, contact: Contact) -> Contact:
    with transaction.atomic():
        contact = _locked(contact)
        if contact.status == Contact.Status.CLOSED:
            return contact
        contact.status = Contact.Status.CLOSED
        contact.closed_at = timezone.now()
        contact.save(update_fields=["status", "closed_at"])
        MailboxSession.objects.filter(contact=contact).delete()
        _log(actor, Action.UPDATE, contact, "closed")
        _index_put(contact, awaiting_adviser=False)
    return contact


def contact_link_case(*, actor: User, contact: Contact, reference: str) -> Contact:
    """Link to an existing case the actor handles as an assigned adviser."""
    from cases.models import Case
    from cases.selectors import user_reads_cases

    if not user_reads_cases(actor):
        raise ValidationError(_("Only the client's external advisers link contacts to cases."))
    case = Case.objects.filter(reference=(reference or "").strip()[:12], erased_at=None).first()
    if case is None:
        raise ValidationError({"reference": _("There is no case with this reference.")})
    with transaction.atomic():
        contact = _locked(contact)
        contact.case = case
        contact.save(update_fields=["case"])
        _log(actor, Action.UPDATE, contact, f"linked to case {case.reference}")
    return contact


def contact_open_case(
    *,
    actor: User,
    contact: Contact,
    case_type: str,
    reporter_role: str,
    accused_relation: str,
    themes: Sequence[Any],
) -> Contact:
    """Open a new case (channel "portal") for this contact and link it, in one transaction."""
    from cases import services as cases

    with transaction.atomic():
        contact = _locked(contact)
        if contact.case_id is not None:
            raise ValidationError(_("This contact is already linked to a case."))
        case = cases.case_open(
            actor=actor,
            case_type=case_type,
            themes=themes,
            reporter_role=reporter_role,
            accused_relation=accused_relation,
            channel="portal",
            opened_on=timezone.localtime(contact.submitted_at).date(),
        )
        contact.case = case
        contact.save(update_fields=["case"])
        _log(actor, Action.UPDATE, contact, f"linked to new case {case.reference}")
    return contact


def oral_record_add(
    *, actor: User, contact: Contact, held_on: datetime.date | None, text: str
) -> OralRecord:
    held_on = rules.past_date(held_on, field="held_on")
    text = _text(text, field="text", required=True)
    with transaction.atomic():
        contact = _locked(contact)
        record = OralRecord.objects.create(contact=contact, held_on=held_on, created_by_id=actor.pk)
        OralRecordVersion.objects.create(
            record=record, number=1, author=OralRecordVersion.Author.ADVISER, text=text
        )
        if contact.status == Contact.Status.RECEIVED:
            contact.status = Contact.Status.CONVERSATION
            contact.acknowledged_at = contact.acknowledged_at or timezone.now()
            contact.save(update_fields=["status", "acknowledged_at"])
        _log(actor, Action.CREATE, contact, "oral record")
        _index_put(contact, awaiting_adviser=False)
        _notify(contact, kind=TO_REPORTER)
    return record


def oral_record_revise(*, actor: User, contact: Contact, record_id: Any, text: str) -> OralRecord:
    """A new version by the adviser (after a correction); the reporter checks it again."""
    text = _text(text, field="text", required=True)
    with transaction.atomic():
        record = (
            OralRecord.objects.select_for_update()
            .filter(contact=contact, pk=_uuid_or_nothing(record_id))
            .first()
        )
        if record is None:
            raise ValidationError(_("This record no longer exists."))
        latest = record.versions.order_by("-number").first()
        if latest is None:  # a record is made with its first version; gone with it
            raise ValidationError(_("This record no longer exists."))
        OralRecordVersion.objects.create(
            record=record,
            number=latest.number + 1,
            author=OralRecordVersion.Author.ADVISER,
            text=text,
        )
        record.state = OralRecord.State.AWAITING
        record.approved_version = None
        record.save(update_fields=["state", "approved_version"])
        _log(actor, Action.UPDATE, contact, "oral record revised")
        _notify(contact, kind=TO_REPORTER)
    return record


def attachment_read(
    *, actor: User | ReporterActor, contact: Contact, attachment_id: Any
) -> tuple[str, str, bytes]:
    """(name, type, bytes) of a mailbox file; for an adviser, logged as an EXPORT."""
    attachment = Attachment.objects.filter(
        entry__contact=contact, pk=_uuid_or_nothing(attachment_id)
    ).first()
    if attachment is None:
        raise ValidationError(_("This file no longer exists."))
    data = crypto.decrypt_bytes(
        bytes(attachment.content), schema_name=current_schema(), purpose=attachment.purpose()
    )
    if actor is not REPORTER:
        _log(actor, Action.EXPORT, contact, "attachment")
    return attachment.file_name, attachment.content_type, data
