"""Public-schema side of sparring: nothing here says what a thread is about or who wrote it.

- `ThreadIndexEntry` / `ThreadUnread`: which threads exist per client, open or not, when they
  last moved, and which external advisers have not read the newest message. An adviser's "my
  day" and the console read this instead of every client's schema.
- `NotificationPreference`: an adviser's choice between an e-mail per message and a daily digest.
- `DigestNotice`: a new message an adviser who chose the daily digest will hear about; the
  e-mails themselves are rows of the mail outbox (`sparring.emails`), written in the same
  transaction as the message (the public and the tenant schema are one database).

`sparring.services` keeps all of this in step with the threads, in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation


class ThreadIndexEntry(models.Model):
    """One sparring thread of one client organisation, without content."""

    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    thread_id = models.UUIDField()
    is_open = models.BooleanField(default=True)
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "thread_id"], name="sparring_index_thread_unique"
            ),
        ]
        indexes = [models.Index(fields=["client", "is_open"], name="sparring_index_client_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.thread_id} ({'open' if self.is_open else 'closed'})"


class ThreadUnread(models.Model):
    """An external adviser has not read the newest message of a thread (row present = unread)."""

    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    thread_id = models.UUIDField()
    # A plain id, like the work index: the row says nothing without the user table.
    user_id = models.BigIntegerField()
    # The newest message the adviser has not read; reading up to it removes the row.
    since = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "thread_id", "user_id"], name="sparring_unread_unique"
            ),
        ]
        indexes = [models.Index(fields=["user_id", "client"], name="sparring_unread_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} has not read {self.client_id}:{self.thread_id}"


class NotificationPreference(models.Model):
    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", _("An e-mail for every new message")
        DIGEST = "digest", _("One e-mail a day with what is new")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sparring_preference"
    )
    mode = models.CharField(
        _("sparring notifications"), max_length=10, choices=Mode.choices, default="immediate"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.mode}"


class DigestNotice(models.Model):
    """A new message an adviser who chose the daily digest will hear about in the next digest."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    thread_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a digest e-mail takes this notice (in the same transaction as the e-mail row).
    email = models.ForeignKey(
        # The digest e-mail that carried it; pruning that row (mail.outbox) deletes its notices.
        "mail.OutgoingEmail",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=Q(email__isnull=True),
                name="sparring_digest_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"digest notice for {self.recipient_id} ({self.client_id}:{self.thread_id})"
