"""The access log of one client organisation (tenant schema), append-only.

The database itself refuses UPDATE and DELETE on this table (trigger in migration 0002), so not
even a bug or a compromised admin session in the application can rewrite history.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessLogEntry(models.Model):
    class Action(models.TextChoices):
        READ = "read", _("Read")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        EXPORT = "export", _("Exported")
        HANDOVER = "handover", _("Handed over")
        ERASE = "erase", _("Erased")
        DESTROY = "destroy", _("Destroyed after retention")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # A plain id, not a foreign key: the log must outlive users and survive a move of the schema.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_reference = models.CharField(max_length=40, db_index=True)
    # Never content: what was touched, not what it says. `detail` is the service's short English
    # phrase as written; `note` and `note_params` are its code and values (audit.labels), said in
    # the reader's language. Rows from before codes have an empty `note` (read by their phrase).
    detail = models.CharField(max_length=200, blank=True)
    # Defaults in the database too: rows inserted by SQL (schema clones, imports) need none.
    note = models.CharField(max_length=60, blank=True, default="", db_default="")
    note_params = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log entries")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.object_reference}"
