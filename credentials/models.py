"""Advisers' credentials and clients' internal advisers' appointments (public schema).

Public, not per client: the firm's overview ("who is due") and the checks on the console's
client page must not open every client's schema, and none of this is about a reporter. It
holds facts about advisers (certificate dates, training hours) and about appointments.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.dates import years_later
from tenants.models import ClientOrganisation, Firm

# Belgium (welzijnswet): basic training of at least 30 hours within 2 years of appointment.
BASIC_TRAINING_HOURS = Decimal(30)
BASIC_TRAINING_YEARS = 2
# Belgium: from 50 workers at least one VP on the payroll; from 250, anonymous reports.
INTERNAL_ADVISER_FROM_WORKERS = 50
ANONYMOUS_REPORTS_FROM_WORKERS = 250


class CredentialPolicy(models.Model):
    """What a firm requires for recertification (LVV defaults: 72 hours in 4 years, 32 of them
    intervision). One row per firm at most; missing means the defaults."""

    firm = models.OneToOneField(Firm, on_delete=models.CASCADE, related_name="credential_policy")
    certificate_years = models.PositiveSmallIntegerField(
        _("certificate valid (years)"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    required_hours = models.DecimalField(
        _("education hours per period"),
        max_digits=5,
        decimal_places=1,
        default=Decimal(72),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1000))],
    )
    required_intervision_hours = models.DecimalField(
        _("of which intervision"),
        max_digits=5,
        decimal_places=1,
        default=Decimal(32),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1000))],
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("remind this many days ahead"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(required_intervision_hours__lte=models.F("required_hours")),
                name="credentials_policy_intervision_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"policy of {self.firm_id}"


class AdviserCredential(models.Model):
    """An external adviser's certification and certificate of conduct (VOG) in one firm."""

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="credentials")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials"
    )
    certification = models.CharField(_("certification"), max_length=100, blank=True)
    certified_on = models.DateField(_("certificate date"), null=True, blank=True)
    expires_on = models.DateField(_("certificate expires"), null=True, blank=True)
    conduct_certificate_on = models.DateField(
        _("certificate of conduct (VOG) date"), null=True, blank=True
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firm", "user"], name="credentials_one_per_adviser"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(certified_on__isnull=True)
                | Q(expires_on__gt=models.F("certified_on")),
                name="credentials_expires_after_certified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.firm_id}"


class TrainingEntry(models.Model):
    """Hours of permanent education (external advisers) or of training (internal advisers)."""

    class Kind(models.TextChoices):
        COURSE = "course", _("Course")
        INTERVISION = "intervision", _("Intervision")
        OTHER = "other", _("Other")

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="training_entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_entries"
    )
    done_on = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal(100))],
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("what"), max_length=200)
    recorded_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-done_on", "-id"]
        indexes = [
            models.Index(fields=["firm", "user", "done_on"], name="credentials_training_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gte=Decimal("0.5")) & Q(hours__lte=Decimal(100)),
                name="credentials_training_hours_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.done_on} {self.hours} h"


class AppointmentQuerySet(models.QuerySet["InternalAdviserAppointment"]):
    def in_force(self, day: datetime.date | None = None) -> AppointmentQuerySet:
        """Appointments that hold on `day` (today): started, and not ended before it (`ended_on`
        is the last day). The one rule for "the client's internal advisers now": the open
        problems, the firm's "who is due" and the annual report all ask it."""
        day = day or timezone.localdate()
        return self.filter(appointed_on__lte=day).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=day)
        )


class InternalAdviserAppointment(models.Model):
    """A client's employee appointed as internal confidential adviser (VP).

    Belgium: the worker representatives agree before the appointment; the adviser declares not
    to be a member of the works council, of the committee for prevention and protection at
    work, of the union delegation, a candidate in the social elections, or management. A
    declaration left open is `None` (shown as a problem); "yes" is refused by the service.
    """

    client = models.ForeignKey(
        ClientOrganisation, on_delete=models.CASCADE, related_name="internal_appointments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="internal_appointments"
    )
    appointed_on = models.DateField(_("appointed on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    representatives_agreed_on = models.DateField(
        _("worker representatives agreed on"), null=True, blank=True
    )
    works_council_member = models.BooleanField(null=True)
    prevention_committee_member = models.BooleanField(null=True)
    union_delegate = models.BooleanField(null=True)
    election_candidate = models.BooleanField(null=True)
    management = models.BooleanField(null=True)
    declared_on = models.DateField(_("declarations signed on"), null=True, blank=True)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppointmentQuerySet.as_manager()

    DECLARATIONS = (
        "works_council_member",
        "prevention_committee_member",
        "union_delegate",
        "election_candidate",
        "management",
    )

    class Meta:
        ordering = ["appointed_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("appointed_on")),
                name="credentials_appointment_period_valid",
            ),
            # The law's refusals, in the database too: nobody declared "yes" is appointed.
            models.CheckConstraint(
                condition=~Q(works_council_member=True)
                & ~Q(prevention_committee_member=True)
                & ~Q(union_delegate=True)
                & ~Q(election_candidate=True)
                & ~Q(management=True),
                name="credentials_appointment_not_incompatible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.client_id} since {self.appointed_on}"

    @property
    def declarations_complete(self) -> bool:
        return all(getattr(self, name) is not None for name in self.DECLARATIONS)

    @property
    def training_due_on(self) -> datetime.date:
        return years_later(self.appointed_on, BASIC_TRAINING_YEARS)


class ReminderSent(models.Model):
    """One reminder per person, item and due date: the daily task sends each once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(max_length=60)
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item", "due_on"], name="credentials_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.item} {self.due_on}"
