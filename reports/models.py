"""Public schema: anonymous monthly counts per client organisation, for the firm's portfolio.

A rollup row says "client 12 had 4 cases of type integrity opened in March 2026": a count per
client, month and category, never a row per case or person. `reports.rollups` rebuilds a
client's rows from its schema (debounced after case changes, and nightly in full), so the
portfolio dashboard reads one table instead of hundreds of schemas.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation, Firm


class Dimension(models.TextChoices):
    CASES = "cases", _("Cases opened")
    CASE_TYPE = "case_type", _("Type")
    THEME = "theme", _("Theme")
    REPORTER_ROLE = "reporter_role", _("Reporter's role")
    ACCUSED_RELATION = "accused_relation", _("Relation of the accused")
    CHANNEL = "channel", _("Channel")
    OUTCOME = "outcome", _("Outcome")
    REFERRAL = "referral", _("Referral")
    ADVISER = (
        "adviser",
        _("Handling adviser"),
    )  # value: the adviser's user id (staff, not a reporter)
    MINUTES = "minutes", _("Minutes worked")  # value "", count = minutes
    MINUTES_CASES = "minutes_cases", _("Cases with time recorded")


class CaseRollup(models.Model):
    client = models.ForeignKey(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the month.")
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    value = models.CharField(max_length=40, blank=True)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "month", "dimension", "value"], name="reports_rollup_unique"
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="reports_rollup_month_first_day"
            ),
        ]
        indexes = [models.Index(fields=["dimension", "month"], name="reports_rollup_dim_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.month:%Y-%m} {self.dimension}={self.value}: {self.count}"


class RollupState(models.Model):
    """When a client's rollup rows were last rebuilt from its schema."""

    client = models.OneToOneField(ClientOrganisation, on_delete=models.CASCADE, related_name="+")
    rebuilt_at = models.DateTimeField(default=timezone.now)
    rows = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.client_id} rebuilt {self.rebuilt_at:%Y-%m-%d %H:%M}"


class ReportBatch(models.Model):
    """A firm admin's request to draft the annual reports of all clients for one year."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The form's idempotency key: a double submit finds the batch it started the first time.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="reports_batch_done_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.firm_id} {self.year}: {self.done + self.failed}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * (self.done + self.failed) / self.total)


class FigureRelease(models.Model):
    """Figures as released, once and for ever (see `reports.releases`).

    `truth` holds the counts behind the release (numbers per category and quarter, like the
    rollups; never a row per person), so later releases can be checked together with this one;
    `published` is exactly what readers may see. Append-only: a trigger refuses UPDATE and
    DELETE (a client's rows go only with the client, through `release_purge`).
    """

    class Scope(models.TextChoices):
        CLIENT = "client", _("Client organisation")
        FIRM = "firm", _("Firm portfolio")

    scope = models.CharField(max_length=10, choices=Scope.choices)
    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        ClientOrganisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    k = models.PositiveSmallIntegerField()
    truth = models.JSONField()
    published = models.JSONField()
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "year", "quarter"],
                condition=Q(scope="client"),
                name="reports_release_client_quarter",
            ),
            models.UniqueConstraint(
                fields=["firm", "year", "quarter"],
                condition=Q(scope="firm"),
                name="reports_release_firm_quarter",
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="reports_release_quarter"
            ),
            models.CheckConstraint(
                condition=(Q(scope="client") & Q(client__isnull=False))
                | (Q(scope="firm") & Q(client__isnull=True)),
                name="reports_release_scope_client",
            ),
        ]
        indexes = [models.Index(fields=["firm", "scope", "year"], name="reports_release_firm_idx")]

    def __str__(self) -> str:
        return f"{self.scope} {self.client_id or self.firm_id} {self.year}-Q{self.quarter}"
