"""A client organisation's intake (tenant schema): contacts from employees, their mailbox, the
record of an oral report and the reporter's journal.

Everything the reporter writes is encrypted with the client's data key (`EncryptedTextField`,
sealed bytes for files), except the journal: its entries are sealed under a key derived from the
reporter's receipt key (`intake.keys.journal_key`), which the firm never holds, until the
reporter shares one (then a copy is stored under the client's data key). What stays in plain
columns is what the firm must see without content: when it came in, deadlines, status, which
adviser handles it, whether the reporter is anonymous.

The receipt key itself is never stored: `lookup_id` (its first group, not secret) finds the row
and `key_hash` (Argon2id) checks the rest. Primary keys are random UUIDs.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.fields import EncryptedTextField

TEXT_MAX_LENGTH = 20_000
SHORT_MAX_LENGTH = 300


class Contact(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message", _("A written message")
        CALLBACK = "callback", _("Please call me back")
        MEETING = "meeting", _("I would like to meet")
        # A journal only: invisible to the firm until the reporter writes to an adviser.
        JOURNAL = "journal", _("A journal only")

    class Topic(models.TextChoices):
        BEHAVIOUR = "behaviour", _("Undesirable behaviour (bullying, harassment, aggression...)")
        INTEGRITY = "integrity", _("Suspected wrongdoing (integrity)")
        UNSURE = "unsure", _("I do not know yet")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        CONVERSATION = "conversation", _("In conversation")
        CLOSED = "closed", _("Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lookup_id = models.CharField(max_length=8, unique=True)
    key_hash = models.CharField(max_length=200)
    # sha256 of the intake form's one-time nonce: a second submit of one form finds this row.
    submission_digest = models.CharField(max_length=64, unique=True)
    journal_salt = models.BinaryField(default=b"")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    topic = models.CharField(max_length=10, choices=Topic.choices, default=Topic.UNSURE)
    anonymous = models.BooleanField(default=True)
    reporter_name = EncryptedTextField(_("name"), blank=True)
    # A phone number or address for a call-back or meeting.
    reach = EncryptedTextField(_("how to reach you"), blank=True)
    # For a notice without content when there is an answer; optional.
    notify_email = EncryptedTextField(_("e-mail for a notice"), blank=True)
    chosen_adviser_id = models.BigIntegerField(null=True, blank=True)
    # "Not this person": this adviser never sees that the contact exists.
    excluded_adviser_id = models.BigIntegerField(null=True, blank=True)
    handler_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_due = models.DateField(null=True, blank=True)
    feedback_due = models.DateField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The reporter opened the mailbox again after the day of the first submit (a figure).
    came_back = models.BooleanField(default=False)
    # Counting: a linked case carries the contact (and its anonymity) into the figures.
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="intake_contacts",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        verbose_name = _("intake contact")
        verbose_name_plural = _("intake contacts")
        constraints = [
            models.CheckConstraint(
                condition=Q(chosen_adviser_id__isnull=True)
                | Q(excluded_adviser_id__isnull=True)
                | ~Q(chosen_adviser_id=models.F("excluded_adviser_id")),
                name="intake_contact_chosen_not_excluded",
            ),
            models.CheckConstraint(
                condition=Q(kind="journal") | Q(submitted_at__isnull=False),
                name="intake_contact_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"contact {self.pk} ({self.status})"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class Entry(models.Model):
    """One message in the mailbox: the reporter's or an adviser's."""

    class Author(models.TextChoices):
        REPORTER = "reporter", _("You")
        ADVISER = "adviser", _("Adviser")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="entries")
    author = models.CharField(max_length=10, choices=Author.choices)
    adviser_id = models.BigIntegerField(null=True, blank=True)
    body = EncryptedTextField(_("message"), blank=True)
    # sha256 of the form's nonce: a double submit adds one entry.
    submission_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"entry {self.pk} by {self.author}"


class Attachment(models.Model):
    """A file in the mailbox: type checked by content, metadata stripped, encrypted in the row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="attachments")
    file_name = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # Whether metadata removal ran on it ("cleaned") or the type has none we know to strip.
    cleaning = models.CharField(max_length=40, blank=True)
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"attachment {self.pk} ({self.content_type})"

    def purpose(self) -> str:
        return f"intake.Attachment.content:{self.pk}"


class OralRecord(models.Model):
    """Minutes or a transcript of an oral report (EU directive 2019/1937 art. 18)."""

    class State(models.TextChoices):
        AWAITING = "awaiting", _("Waiting for your check")
        APPROVED = "approved", _("Approved by you")
        CORRECTED = "corrected", _("Corrected by you")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="oral_records")
    held_on = models.DateField(_("date of the conversation"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.AWAITING)
    approved_version = models.PositiveIntegerField(null=True, blank=True)
    created_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["held_on", "created_at"]

    def __str__(self) -> str:
        return f"oral record {self.pk} ({self.state})"


class OralRecordVersion(models.Model):
    """Every version is kept: the adviser's first text and each correction of the reporter."""

    class Author(models.TextChoices):
        ADVISER = "adviser", _("Adviser")
        REPORTER = "reporter", _("You")

    record = models.ForeignKey(OralRecord, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.CharField(max_length=10, choices=Author.choices)
    text = EncryptedTextField(_("text"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record", "number"]
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="intake_oral_version_unique"),
        ]

    def __str__(self) -> str:
        return f"version {self.number} of {self.record_id}"


class JournalEntry(models.Model):
    """A dated journal entry, sealed under the reporter's own key (`intake.keys.journal_key`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="journal")
    # AES-GCM of a JSON object (date, what, where, who saw it, how it felt), bound to this id.
    sealed = models.BinaryField()
    created_on = models.DateField(default=timezone.localdate)
    # Shared with the handling adviser: a copy in the mailbox, under the client's data key.
    shared_entry = models.ForeignKey(
        Entry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_on", "id"]

    def __str__(self) -> str:
        return f"journal entry {self.pk}"

    def purpose(self) -> str:
        return f"intake.JournalEntry.sealed:{self.pk}"


class JournalFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="files")
    # Name and bytes sealed under the journal key (name || 0x00 || bytes).
    sealed = models.BinaryField()
    content_type = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"journal file {self.pk}"

    def purpose(self) -> str:
        return f"intake.JournalFile.sealed:{self.pk}"


class MailboxSession(models.Model):
    """A reporter's open mailbox: found by the hash of the cookie's token, for a short while.

    `wrapped_journal_key` is the journal key sealed under a key derived from the cookie's token,
    which the server does not store: a database dump does not open the journal.
    """

    token_hash = models.CharField(max_length=64, primary_key=True)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sessions")
    wrapped_journal_key = models.BinaryField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"mailbox session until {self.expires_at:%H:%M}"
