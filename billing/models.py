"""Money in the public schema: each firm's Stripe subscription, the webhook ledger, and the
contracts a firm has with its own client organisations (the basis of the figures it invoices).

Nothing here refers to a case or a person: hours reach billing only as sums per client and month.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import ClientOrganisation, Firm

MAX_HOURLY_RATE = Decimal("1000")
MAX_ANNUAL_FEE = Decimal("1000000")
MAX_HOURS_INCLUDED = Decimal("10000")


class FirmSubscription(models.Model):
    """A firm's subscription in Stripe, as last confirmed by Stripe (webhook or API answer)."""

    class Status(models.TextChoices):
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment overdue")
        UNPAID = "unpaid", _("Unpaid")
        CANCELED = "canceled", _("Cancelled")
        INCOMPLETE = "incomplete", _("Awaiting first payment")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("First payment failed")
        PAUSED = "paused", _("Paused")

    firm = models.OneToOneField(Firm, on_delete=models.PROTECT, related_name="subscription")
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_item_id = models.CharField(max_length=255, blank=True)
    stripe_price_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.TRIALING
    )
    quantity = models.PositiveIntegerField(_("client organisations billed"), default=0)
    current_period_end = models.DateTimeField(_("current period ends"), null=True, blank=True)
    trial_end = models.DateTimeField(_("trial ends"), null=True, blank=True)
    # The firm's own trial before any Stripe subscription, fixed when the firm signed itself up
    # (billing.services.trial_start), so a later change of BILLING_TRIAL_DAYS does not move it.
    # Empty (firms created by operators): the firm's creation plus BILLING_TRIAL_DAYS. `trial_end`
    # above is Stripe's trial of a subscription, copied from Stripe.
    trial_ends_at = models.DateTimeField(_("own trial ends"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancels at period end"), default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # Ordering guard: the `created` time of the newest Stripe event applied. Older events are
    # recorded in the ledger but never move the state backwards.
    last_event_created = models.DateTimeField(null=True, blank=True)
    # Debounce marker of the quantity sync: set by the first client change of a batch, cleared
    # when the scheduled sync starts (billing.services.quantity_sync_request).
    quantity_sync_due_at = models.DateTimeField(null=True, blank=True)
    quantity_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("firm subscription")
        verbose_name_plural = _("firm subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="billing_subscription_customer_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.firm} — {self.get_status_display()}"


class WebhookEvent(models.Model):
    """Ledger of Stripe events: each event id once, with what we did about it."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (type not handled)")
        UNKNOWN_CUSTOMER = "unknown_customer", _("Unknown customer")
        STALE = "stale", _("Older than the state we hold")
        OTHER_SUBSCRIPTION = "other_subscription", _("Another subscription of the firm")

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text=_("When Stripe created the event."))
    received_at = models.DateTimeField(default=timezone.now)
    livemode = models.BooleanField(default=False)
    firm = models.ForeignKey(
        Firm, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        indexes = [models.Index(fields=["received_at"], name="billing_event_received_idx")]

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type} ({self.outcome})"


class ClientContract(models.Model):
    """What a firm charges one client organisation: a yearly fee, an hourly rate, included hours."""

    class FeeMode(models.TextChoices):
        FIXED = "fixed", _("Fixed annual fee")
        TIERED = "tiered", _("By number of employees")

    client = models.OneToOneField(
        ClientOrganisation, on_delete=models.CASCADE, related_name="contract"
    )
    fee_mode = models.CharField(
        _("annual fee"), max_length=10, choices=FeeMode.choices, default=FeeMode.TIERED
    )
    annual_fee = models.DecimalField(
        _("annual fee (EUR)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_ANNUAL_FEE)],
    )
    hourly_rate = models.DecimalField(_("hourly rate (EUR)"), max_digits=7, decimal_places=2)
    hours_included_per_year = models.DecimalField(
        _("hours included per year"),
        max_digits=7,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_HOURS_INCLUDED)],
    )
    starts_on = models.DateField(_("billing starts"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("client contract")
        verbose_name_plural = _("client contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(hourly_rate__gt=0) & Q(hourly_rate__lt=MAX_HOURLY_RATE),
                name="billing_contract_rate_bounds",
            ),
            models.CheckConstraint(
                condition=Q(annual_fee__isnull=True)
                | (Q(annual_fee__gte=0) & Q(annual_fee__lte=MAX_ANNUAL_FEE)),
                name="billing_contract_fee_bounds",
            ),
            models.CheckConstraint(
                condition=~Q(fee_mode="fixed") | Q(annual_fee__isnull=False),
                name="billing_contract_fixed_fee_given",
            ),
            models.CheckConstraint(
                condition=Q(hours_included_per_year__gte=0)
                & Q(hours_included_per_year__lte=MAX_HOURS_INCLUDED),
                name="billing_contract_hours_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} — {self.hourly_rate}/h"
