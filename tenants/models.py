"""The public schema: firms, their client organisations (one schema each) and who may reach what.

Nothing here may identify a reporter or hold case content: that lives in the tenant schemas.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from tenants.routing_cache import forget_client_hosts, forget_host
from tenants.validators import validate_slug_label

MINIMUM_ANONYMITY_THRESHOLD = 3


class Firm(models.Model):
    """An advisory firm: the paying customer, serving many client organisations."""

    slug = models.SlugField(
        _("short name"), max_length=40, unique=True, validators=[validate_slug_label]
    )
    name = models.CharField(_("name"), max_length=200)
    anonymity_threshold = models.PositiveSmallIntegerField(
        _("anonymity threshold (k)"),
        default=5,
        validators=[MinValueValidator(MINIMUM_ANONYMITY_THRESHOLD), MaxValueValidator(50)],
        help_text=_("Counts below this number are never shown to clients."),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("retention after closure (months)"),
        default=12,
        validators=[MinValueValidator(0), MaxValueValidator(120)],
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("firm")
        verbose_name_plural = _("firms")
        constraints = [
            models.CheckConstraint(
                condition=Q(anonymity_threshold__gte=MINIMUM_ANONYMITY_THRESHOLD),
                name="tenants_firm_threshold_at_least_3",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClientOrganisation(TenantMixin):
    """A client of a firm; its confidential data lives in its own PostgreSQL schema."""

    class Sector(models.TextChoices):
        HEALTHCARE = "healthcare", _("Healthcare")
        EDUCATION = "education", _("Education")
        GOVERNMENT = "government", _("Government")
        INDUSTRY = "industry", _("Industry and construction")
        RETAIL = "retail", _("Retail and hospitality")
        SERVICES = "services", _("Business services")
        NONPROFIT = "nonprofit", _("Non-profit and culture")
        OTHER = "other", _("Other")

    class Country(models.TextChoices):
        # Decides which legal rules apply (DOMAIN.md: Belgian VPs handle informal interventions
        # only, keep a register of acts by third parties, and have appointment duties).
        NETHERLANDS = "NL", _("Netherlands")
        BELGIUM = "BE", _("Belgium")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        OFFBOARDED = "offboarded", _("Offboarded")

    # Schemas are cloned from a template by tenants.provisioning, never created by save().
    auto_create_schema = False
    auto_drop_schema = False

    firm = models.ForeignKey(Firm, on_delete=models.PROTECT, related_name="clients")
    slug = models.SlugField(_("short name"), max_length=40, validators=[validate_slug_label])
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(
        _("sector"), max_length=20, choices=Sector.choices, default=Sector.OTHER
    )
    employee_count = models.PositiveIntegerField(
        _("number of employees"), validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    country = models.CharField(
        _("country"), max_length=2, choices=Country.choices, default=Country.NETHERLANDS
    )
    contract_starts_on = models.DateField(_("contract starts"), default=datetime.date.today)
    contract_ends_on = models.DateField(_("contract ends"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Hash of the migrations applied in the schema, checked by tenants.tasks.record_schema_state.
    schema_fingerprint = models.CharField(max_length=16, blank=True)
    schema_checked_at = models.DateTimeField(null=True, blank=True)
    # Why `migrate_tenants` last failed for this schema (empty once it succeeds); the client is
    # served a maintenance page until its schema is current (tenants.migration_runner).
    migration_error = models.TextField(blank=True, editable=False)
    migration_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The client's data key, wrapped with the master key (tenants.crypto). Emptied on offboarding.
    wrapped_data_key = models.BinaryField(default=b"", editable=False)
    # Earlier data keys, wrapped like it and stored back to back (crypto.WRAPPED_KEY_BYTES each):
    # after a rotation, processes with the old key still cached may write under it for
    # DATA_KEY_CACHE_SECONDS, so it stays until `rotate_keys --purge-retired`. Emptied on
    # offboarding.
    retired_data_keys = models.BinaryField(default=b"", editable=False)
    data_key_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("client organisation")
        verbose_name_plural = _("client organisations")
        constraints = [
            models.UniqueConstraint(fields=["firm", "slug"], name="tenants_client_slug_per_firm"),
            models.CheckConstraint(
                condition=Q(contract_ends_on__isnull=True)
                | Q(contract_ends_on__gte=models.F("contract_starts_on")),
                name="tenants_client_contract_period_valid",
            ),
            models.CheckConstraint(
                condition=Q(country__in=["NL", "BE"]), name="tenants_client_country_known"
            ),
        ]

    @property
    def is_belgian(self) -> bool:
        return self.country == self.Country.BELGIUM

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        # Routing is cached per host; a status or schema change must reach every process.
        transaction.on_commit(
            lambda: forget_client_hosts(
                self.pk, Domain.objects.filter(tenant_id=self.pk).values_list("domain", flat=True)
            )
        )


class Domain(DomainMixin):
    """Host name of a client organisation: `<client>.<firm>.<base domain>`."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def save(self, *args: object, **kwargs: object) -> None:
        previous = (
            Domain.objects.filter(pk=self.pk).values_list("domain", flat=True).first()
            if self.pk
            else None
        )
        super().save(*args, **kwargs)
        for host in {previous, self.domain} - {None}:
            transaction.on_commit(lambda host=host: forget_host(host))

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        host = self.domain
        result = super().delete(*args, **kwargs)
        transaction.on_commit(lambda: forget_host(host))
        return result


class FirmMembership(models.Model):
    class Role(models.TextChoices):
        FIRM_ADMIN = "firm_admin", _("Firm administrator")
        ADVISER = "adviser", _("External adviser")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="firm_memberships"
    )
    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("firm membership")
        verbose_name_plural = _("firm memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "firm", "role"], name="tenants_firm_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.firm}"


class ClientMembership(models.Model):
    class Role(models.TextChoices):
        CONTACT_PERSON = "contact_person", _("Contact person")
        INTERNAL_ADVISER = "internal_adviser", _("Internal confidential adviser")
        PREVENTION_ADVISER = "prevention_adviser", _("Prevention adviser of the employer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_memberships"
    )
    client = models.ForeignKey(
        ClientOrganisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("client membership")
        verbose_name_plural = _("client memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client", "role"], name="tenants_client_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.client}"


class Assignment(models.Model):
    """An external adviser assigned to a client organisation for a period."""

    class Kind(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        BACKUP = "backup", _("Backup")

    adviser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    client = models.ForeignKey(
        ClientOrganisation, on_delete=models.CASCADE, related_name="assignments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PRIMARY)
    starts_on = models.DateField(_("from"), default=datetime.date.today)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="tenants_assignment_period_valid",
            ),
        ]
        indexes = [models.Index(fields=["adviser", "starts_on"], name="tenants_assign_adviser_idx")]

    def __str__(self) -> str:
        return f"{self.adviser} → {self.client} ({self.get_kind_display()})"

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class FirmTheme(models.Model):
    """A case theme in a firm's catalogue: one the firm added, or a standard theme it hid.

    The firm's copy of record; `tenants.themes` applies it to the `cases.Theme` table of every
    client schema of the firm. Standard themes (`cases.models.STANDARD_THEMES`) have a row here
    only once the firm hid or showed one again. Never deleted: cases and published annual
    reports keep referring to the code, which is derived once and survives renames.
    """

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="themes")
    code = models.SlugField(max_length=40)
    # Only for the firm's own themes; standard themes are named in the reader's language.
    name = models.CharField(_("name"), max_length=80, blank=True)
    is_standard = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=95)
    # The add form's idempotency key: a double submit finds the theme it added the first time.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("theme of a firm")
        verbose_name_plural = _("themes of firms")
        constraints = [
            models.UniqueConstraint(fields=["firm", "code"], name="tenants_firm_theme_code"),
            models.UniqueConstraint(
                "firm",
                Lower("name"),
                condition=Q(is_standard=False),
                name="tenants_firm_theme_name_ci",
            ),
            models.CheckConstraint(
                condition=Q(is_standard=True) | ~Q(name=""),
                name="tenants_firm_theme_own_has_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.code} @ {self.firm_id}"
