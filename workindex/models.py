"""The public-schema work index: what an adviser's "my day" needs, across all their clients.

The cases themselves live in each client's schema; reading hundreds of schemas per page view
does not scale. `cases.services` keeps these rows in step with every change to an open case,
in the same transaction. They hold nothing that identifies a person or says what a case is
about: a client, a case reference such as "2026-0042", the phase, the handling adviser's id and
due dates. Closed cases leave the index.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tenants.models import ClientOrganisation


class CaseworkEntry(models.Model):
    """One open case of one client organisation, without content."""

    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    case_reference = models.CharField(max_length=20)
    phase = models.CharField(max_length=20)
    case_type = models.CharField(max_length=30)
    # A plain id (not a foreign key) like the access log: the index is rebuilt from the cases.
    adviser_id = models.BigIntegerField(null=True, blank=True)
    opened_on = models.DateField()
    next_conversation_on = models.DateField(null=True, blank=True)
    followup_due_on = models.DateField(null=True, blank=True)
    acknowledgement_due_on = models.DateField(null=True, blank=True)
    feedback_due_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "case_reference"], name="workindex_entry_reference_per_client"
            ),
        ]
        indexes = [
            models.Index(fields=["adviser_id", "client"], name="workindex_entry_adviser_idx")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.case_reference} ({self.phase})"

    @property
    def phase_label(self) -> str:
        from cases.models import Case

        return str(Case.Phase(self.phase).label) if self.phase in Case.Phase.values else self.phase


class WorkMinutes(models.Model):
    """Minutes an adviser recorded for one client in one calendar month (for billing and my day)."""

    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    adviser_id = models.BigIntegerField()
    month = models.DateField(help_text="The first day of the month.")
    minutes = models.PositiveIntegerField(default=0)
    billable_minutes = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "adviser_id", "month"], name="workindex_minutes_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.adviser_id} {self.month:%Y-%m} {self.minutes} min"
