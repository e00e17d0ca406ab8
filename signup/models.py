"""Firms that started themselves on the public sign-up page (public schema).

One row per such firm: who accepted the terms and the processing agreement on its behalf, which
text (its URL) and when. No client address or other trace of the visit is kept; the rate limits
live in the cache only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Firm


class FirmSignup(models.Model):
    firm = models.OneToOneField(Firm, on_delete=models.CASCADE, related_name="signup")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    terms_url = models.CharField(_("terms accepted"), max_length=500, blank=True)
    terms_accepted_at = models.DateTimeField(_("terms accepted at"), default=timezone.now)
    # The form's idempotency key: a double submit finds it taken and creates nothing.
    submission_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")

    def __str__(self) -> str:
        return f"{self.firm} ({self.terms_accepted_at:%Y-%m-%d})"
