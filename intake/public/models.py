"""Public-schema side of intake. Nothing here says what a reporter wrote, who they are, or whom
they excluded.

- `AdviserCard`: what an adviser shows on the intake pages of the organisations they serve
  (languages, how to reach them, a photo). The adviser's own, public information.
- `IntakeLink`: a client's short link (`/m/<code>/` on the base host) for posters and QR codes.
  It keeps working when the client's host no longer resolves, to say the channel is closed.
- `IntakeIndexEntry`: one open contact of one client without content (received day, Wbk
  deadlines, handling adviser's id), so an adviser's "my day" reads no tenant schema.

Notices (to an adviser: "a new contact"; to a reporter who left an address: "there is an
answer") are rows of the mail outbox (`intake.emails`); the reporter's address stays encrypted in
the client's schema and is read there when the e-mail is sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation

PHOTO_MAX_BYTES = 2 * 1024 * 1024


class AdviserCard(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="intake_card"
    )
    languages = models.CharField(_("languages"), max_length=100, blank=True)
    reach = models.CharField(_("how to reach me"), max_length=300, blank=True)
    # Re-encoded by Pillow on upload (no EXIF), at most 400 x 400 pixels.
    photo = models.BinaryField(default=b"", blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("adviser card")
        verbose_name_plural = _("adviser cards")

    def __str__(self) -> str:
        return f"card of {self.user_id}"


class IntakeLink(models.Model):
    client = models.OneToOneField(
        ClientOrganisation, on_delete=models.CASCADE, related_name="intake_link"
    )
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"/m/{self.code}/ → {self.client_id}"


class IntakeIndexEntry(models.Model):
    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    contact_id = models.UUIDField()
    # The adviser the reporter chose, or the client's primary adviser (never an excluded one).
    handler_id = models.BigIntegerField(null=True, blank=True)
    received_on = models.DateField()
    acknowledgement_due_on = models.DateField()
    feedback_due_on = models.DateField()
    acknowledged = models.BooleanField(default=False)
    # The reporter wrote last: the adviser owes an answer.
    awaiting_adviser = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "contact_id"], name="intake_index_contact_unique"
            ),
        ]
        indexes = [models.Index(fields=["handler_id", "client"], name="intake_index_handler_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.contact_id}"
