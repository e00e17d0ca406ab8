"""What a client organisation's board receives (tenant schema): annual reports, signals and the
adviser's other activities. Texts written by the adviser or the board are encrypted like case
texts; the figures come from `reports` and never include case texts.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.fields import EncryptedTextField

# Days a contact person has to acknowledge a signal before reminders start.
ACKNOWLEDGEMENT_DAYS = 14


class AnnualReport(models.Model):
    """The annual report (jaarverslag) of one year: a draft until published, then frozen."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    narrative = EncryptedTextField(_("the adviser's account of the year"), blank=True)
    recommendations = EncryptedTextField(_("recommendations"), blank=True)
    # Optimistic locking, as for cases: a stale form is refused instead of overwriting.
    version = models.PositiveIntegerField(default=1)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by_id = models.BigIntegerField(null=True, blank=True)
    review_note = EncryptedTextField(_("review note"), blank=True)
    # Set when a batch (or an adviser) rendered the draft's PDF, for a quick preview.
    draft_rendered_at = models.DateTimeField(null=True, blank=True)
    draft_pdf = EncryptedTextField(blank=True)  # base64 of the PDF
    # The frozen snapshot, written once at publication.
    published_at = models.DateTimeField(null=True, blank=True)
    published_by_id = models.BigIntegerField(null=True, blank=True)
    figures = models.JSONField(null=True, blank=True)
    html = EncryptedTextField(blank=True)
    pdf = EncryptedTextField(blank=True)  # base64 of the PDF
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2200), name="boardroom_report_year_sane"
            ),
            models.CheckConstraint(
                condition=~Q(status="published")
                | (Q(published_at__isnull=False) & Q(figures__isnull=False) & ~Q(sha256="")),
                name="boardroom_report_published_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class BoardSignal(models.Model):
    """An adviser's signal to the board: a risk or trend and a recommendation, no names."""

    class Severity(models.TextChoices):
        LOW = "low", _("For information")
        MEDIUM = "medium", _("Needs attention")
        HIGH = "high", _("Urgent")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        FOLLOWED_UP = "followed_up", _("Follow-up recorded")

    title = EncryptedTextField(_("title"))
    risk = EncryptedTextField(_("risk or trend"))
    recommendation = EncryptedTextField(_("recommendation"))
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    # Set when the signal was suggested from a rising theme (a theme code, not text).
    theme_code = models.CharField(max_length=40, blank=True)
    created_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_due = models.DateField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_id = models.BigIntegerField(null=True, blank=True)
    follow_up = EncryptedTextField(_("what the organisation did"), blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by_id = models.BigIntegerField(null=True, blank=True)
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-created_at", "-id"]
        verbose_name = _("board signal")
        verbose_name_plural = _("board signals")
        indexes = [
            models.Index(fields=["status", "acknowledgement_due"], name="boardroom_signal_due_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(sent_at__isnull=False),
                name="boardroom_signal_sent_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"signal {self.pk} ({self.status})"


class Activity(models.Model):
    """Work for the organisation beyond cases: information sessions, training, advice."""

    class Kind(models.TextChoices):
        INFORMATION_SESSION = "information_session", _("Information session")
        TRAINING = "training", _("Training")
        ADVICE_TO_MANAGEMENT = "advice_to_management", _("Advice to management")
        OTHER = "other", _("Other activity")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    held_on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("duration (minutes)"))
    registered_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=24 * 60),
                name="boardroom_activity_minutes_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.held_on}"
