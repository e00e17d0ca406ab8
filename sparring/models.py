"""Sparring threads of one client organisation (tenant schema).

An internal adviser of the client consults ("spars with") the client's external advisers about a
situation, anonymised. Subject, bodies, attachment names and attachment bytes are encrypted with
the client's data key; what stays in plain columns is who wrote when, the thread's state and the
detected file type. People are plain user ids (users live in the public schema), as in `cases`.

Primary keys are random UUIDs: a thread's id says nothing about how many threads a client has,
and an id from one client's schema can never name a thread in another's.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import CaseType, Theme
from tenants.fields import EncryptedTextField

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20_000


class Thread(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = EncryptedTextField(_("subject"))
    started_by_id = models.BigIntegerField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    message_count = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at"]
        verbose_name = _("sparring thread")
        verbose_name_plural = _("sparring threads")
        indexes = [
            models.Index(
                fields=["started_by_id", "-last_message_at"], name="sparring_thread_starter_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="sparring_thread_closed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"thread {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Message(models.Model):
    class AuthorRole(models.TextChoices):
        INTERNAL_ADVISER = "internal_adviser", _("Internal confidential adviser")
        ADVISER = "adviser", _("External adviser")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    author_id = models.BigIntegerField()
    author_role = models.CharField(max_length=20, choices=AuthorRole.choices)
    body = EncryptedTextField(_("message"))
    # The writer was shown possible identifiers in the text and chose to send it anyway.
    sent_despite_identifiers = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("sparring message")
        verbose_name_plural = _("sparring messages")

    def __str__(self) -> str:
        return f"message {self.pk} in {self.thread_id}"


class Attachment(models.Model):
    """A file sent with a message: type checked by content, stored encrypted in this row.

    The bytes live in the database (not on disk) so that they commit or roll back with their
    message, are dropped with the schema and become unreadable with the client's data key.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    # File names name people surprisingly often ("complaint J. de Vries.pdf"): encrypted too.
    file_name = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # AES-GCM ciphertext of the file, bound to this attachment's id (tenants.crypto.encrypt_bytes).
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"attachment {self.pk} ({self.content_type}, {self.size} bytes)"

    def purpose(self) -> str:
        return f"sparring.Attachment.content:{self.pk}"


class ReadMark(models.Model):
    """Until when one participant has read a thread; newer messages are unread for them."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="read_marks")
    user_id = models.BigIntegerField()
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user_id"], name="sparring_read_mark_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.thread_id} until {self.read_at:%Y-%m-%d %H:%M}"


class SparringCount(models.Model):
    """A sparring thread as an anonymous count for the annual report: type and themes only."""

    # One count per thread; the link goes when the thread does, the count stays.
    thread = models.OneToOneField(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="count"
    )
    month = models.DateField(_("month"), help_text="The first day of the month.")
    case_type = models.CharField(_("type"), max_length=30, choices=CaseType.choices)
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), related_name="sparring_counts")
    registered_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "-id"]
        verbose_name = _("sparring count")
        verbose_name_plural = _("sparring counts")
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1), name="sparring_count_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.case_type}"
