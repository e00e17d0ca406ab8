"""The e-mail outbox: one row per e-mail, written in the transaction of what it announces.

A row holds no text of the e-mail: a kind, an idempotency key, the recipient's id, the client
organisation it is about (if any) and a few ids or dates in `params`. The worker renders the
e-mail when it sends (`mail.kinds`), so the public schema never stores a body, a name typed by
someone, a reporter's address or a set-password token, and a recipient who lost access by then
gets nothing (the row is "dropped").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation


class OutgoingEmail(models.Model):
    """One e-mail to send; its id gives the Message-ID, its (kind, key) the logical message."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        # No longer wanted when its turn came (recipient lost access, nothing left to say).
        DROPPED = "dropped", _("Dropped")
        # Given up after `mail.outbox.MAX_ATTEMPTS` failed attempts; an operator looks at it.
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=60)
    # Unique per kind: the same logical message asked for twice (a redelivered task, a repeated
    # service call) is one row and so one e-mail.
    key = models.CharField(max_length=200)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The client organisation the e-mail is about; kinds that read its schema are sent there.
    client = models.ForeignKey(
        ClientOrganisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Ids, dates and codes only: never text someone wrote, a name or an address.
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    # Not before this moment (backoff after a failed attempt); the sweeper respects it.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    # The exception class of the last failure, never a message text (it could quote content).
    last_error = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="mail_outbox_pending_idx",
            ),
            models.Index(fields=["created_at"], name="mail_outbox_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="mail_outbox_one_per_key"),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="mail_outbox_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} e-mail {self.pk} ({self.status})"
