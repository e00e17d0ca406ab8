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
    # The annual report lists the client's advisers and their training; some clients ask for
    # it without names (the list then says "external adviser 1").
    advisers_named_in_report = models.BooleanField(
        _("name the advisers in the annual report"), default=True
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
        INSPECTOR = "inspector", _("Inspector (register of acts by third parties)")

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


def assignment_in_force_q(prefix: str = "", day: datetime.date | None = None) -> Q:
    """THE rule for "this assignment gives access now", as a Q on `Assignment` (or through a
    relation: `prefix="assignments__"`). Every "assigned today" query in the code base uses it,
    through `Assignment.objects.in_force()` or this function; nothing writes its own copy.

    In force: started on or before `day`, not past its planned end date (`ends_on`, inclusive, so
    a future end date is a planned change), and not ended by hand (`ended_at`: "end now" takes
    effect at the moment of the action, not at midnight).
    """
    day = day or timezone.localdate()
    return (
        Q(**{f"{prefix}starts_on__lte": day})
        & (Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day}))
        & Q(**{f"{prefix}ended_at__isnull": True})
    )


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def in_force(self, day: datetime.date | None = None) -> AssignmentQuerySet:
        """Assignments that give access now (see `assignment_in_force_q`)."""
        return self.filter(assignment_in_force_q(day=day))


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
    # Set when somebody ended the assignment by hand: from that moment on it gives no access,
    # whatever `ends_on` says (which then shows the day it ended).
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AssignmentQuerySet.as_manager()

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
        """The Python twin of `assignment_in_force_q`, for a row already loaded."""
        day = on or timezone.localdate()
        return (
            self.ended_at is None
            and self.starts_on <= day
            and (self.ends_on is None or day <= self.ends_on)
        )


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


class TrailEntry(models.Model):
    """The firm's audit trail: one row per change of who may reach what, or of a confidentiality
    setting (see `tenants.trail`). Append-only: the database refuses UPDATE, DELETE and TRUNCATE
    (trigger in migration 0008), like the access log of each client schema.

    Plain ids, no foreign keys: the trail outlives the people, clients and memberships it names,
    and names them as they were (e-mail address, client name) at the time.
    """

    class Action(models.TextChoices):
        MEMBERSHIP_ADD = "membership_add", _("Role given")
        MEMBERSHIP_REMOVE = "membership_remove", _("Role removed")
        ROLE_OFFER = "role_offer", _("Role offered to an existing account")
        ROLE_OFFER_ACCEPT = "role_offer_accept", _("Offered role accepted")
        ROLE_OFFER_DECLINE = "role_offer_decline", _("Offered role declined")
        ACCOUNT_DEACTIVATE = "account_deactivate", _("Account deactivated")
        ASSIGNMENT_CREATE = "assignment_create", _("Adviser assigned")
        ASSIGNMENT_END = "assignment_end", _("Assignment ended")
        SELF_ACCESS = "self_access", _("An administrator gave themselves access to case files")
        CLIENT_CREATE = "client_create", _("Client organisation created")
        CLIENT_UPDATE = "client_update", _("Client organisation changed")
        CLIENT_OFFBOARD = "client_offboard", _("Client organisation offboarded")
        FIRM_CREATE = "firm_create", _("Firm created")
        FIRM_SETTINGS = "firm_settings", _("Anonymity threshold or retention changed")
        CLIENT_RETENTION = "client_retention", _("Client's retention changed")
        THEME_CHANGE = "theme_change", _("Case themes changed")
        KEY_ROTATION = "key_rotation", _("Encryption keys rotated")
        CLIENT_EXPORT = "client_export", _("Client exported")
        CLIENT_IMPORT = "client_import", _("Client imported")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    firm_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    # The management command that acted, when no person did through the site.
    operator_command = models.CharField(max_length=60, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices)
    client_id = models.BigIntegerField(null=True, blank=True)
    client_name = models.CharField(max_length=200, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)  # the person concerned, if any
    subject_email = models.CharField(max_length=254, blank=True)
    # What changed, never content: role names, dates, old → new setting values.
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("audit trail entry")
        verbose_name_plural = _("audit trail entries")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_id__isnull=False) | ~Q(operator_command=""),
                name="tenants_trail_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email or self.operator_command} {self.action}"


class RoleOffer(models.Model):
    """A role a firm admin offered to an e-mail address, waiting for its holder to accept it.

    Invitations go through offers so that inviting an address answers the same whether it has an
    account or not: the firm sees the address and the name it typed, never the account's name or
    other firms, and an existing account holder decides whether to take the role. An account
    made for the invitation accepts its offers when its holder sets a password.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_offers"
    )
    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="role_offers")
    client = models.ForeignKey(
        ClientOrganisation, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=20)
    # What the admin typed: shown to the firm instead of anything from the account.
    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=150, blank=True)
    offered_by_id = models.BigIntegerField(null=True, blank=True)
    # The account did not exist before this offer: its holder accepts by setting a password.
    made_account = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "firm", "role"],
                condition=Q(client__isnull=True),
                name="tenants_role_offer_firm_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "client", "role"],
                condition=Q(client__isnull=False),
                name="tenants_role_offer_client_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} — {self.role} @ {self.firm_id}"

    @property
    def role_label(self) -> str:
        labels = {**dict(FirmMembership.Role.choices), **dict(ClientMembership.Role.choices)}
        return str(labels.get(self.role, self.role))


class ReadySchema(models.Model):
    """A client schema cloned in advance, waiting for `client_create` to claim it.

    Made and replaced by `tenants.schema_pool`; one only serves while its fingerprint is the
    template's (the code's migrations), so a deploy never hands out a schema that is behind.
    """

    schema_name = models.CharField(max_length=63, unique=True)
    fingerprint = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.schema_name
