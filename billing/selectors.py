"""Reads for billing: the access state a subscription grants, client counts, hours per client."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import schema_context

from billing.models import ClientContract, FirmSubscription
from tenants.models import ClientOrganisation, Firm

Status = FirmSubscription.Status
FULL_USE = {Status.TRIALING, Status.ACTIVE}
READ_ONLY = {Status.UNPAID, Status.CANCELED, Status.PAUSED}
# No paid subscription in force (none yet, or its first payment never went through): the
# firm's own trial period decides.
NOT_STARTED = {Status.INCOMPLETE, Status.INCOMPLETE_EXPIRED}
TRIAL_EXPIRED = "trial_expired"


@dataclass(frozen=True)
class AccessState:
    """What the subscription allows right now. `mode`: full, grace (past due) or read_only."""

    mode: str
    status: str
    until: datetime.datetime | None = None

    @property
    def read_only(self) -> bool:
        return self.mode == "read_only"

    @property
    def banner(self) -> bool:
        return self.mode in ("grace", "read_only")

    @property
    def label(self) -> str:
        if self.status == TRIAL_EXPIRED:
            return str(_("Trial ended"))
        return str(Status(self.status).label) if self.status in Status.values else self.status


FULL = AccessState("full", "")


def trial_end_default(start: datetime.datetime) -> datetime.datetime:
    """End of a firm's own trial that starts at `start` (BILLING_TRIAL_DAYS later)."""
    return start + datetime.timedelta(days=settings.BILLING_TRIAL_DAYS)


def access_state(*, firm_id: int, now: datetime.datetime | None = None) -> AccessState:
    """The access a firm's subscription grants (one query).

    Trialing and active: full use. Past due: full use for BILLING_PAST_DUE_GRACE_DAYS, then
    read-only. Unpaid, cancelled, paused: read-only. No subscription yet (or one whose first
    payment failed): the firm's own trial, until the end fixed at sign-up or else for
    BILLING_TRIAL_DAYS from the firm's creation, then read-only.
    """
    now = now or timezone.now()
    row = (
        Firm.objects.filter(pk=firm_id)
        .values(
            "created_at",
            "subscription__status",
            "subscription__stripe_subscription_id",
            "subscription__past_due_since",
            "subscription__trial_ends_at",
        )
        .first()
    )
    if row is None:
        return FULL
    status = row["subscription__status"]
    if row["subscription__stripe_subscription_id"] and status not in NOT_STARTED:
        if status in FULL_USE:
            return AccessState("full", status)
        if status == Status.PAST_DUE:
            since = row["subscription__past_due_since"] or now
            until = since + datetime.timedelta(days=settings.BILLING_PAST_DUE_GRACE_DAYS)
            return AccessState("grace" if now < until else "read_only", status, until)
        return AccessState("read_only", status)
    trial_ends = row["subscription__trial_ends_at"] or trial_end_default(row["created_at"])
    if now < trial_ends:
        return AccessState("full", Status.TRIALING, trial_ends)
    return AccessState("read_only", TRIAL_EXPIRED, trial_ends)


def subscription_for(*, firm: Firm) -> FirmSubscription | None:
    return FirmSubscription.objects.filter(firm=firm).first()


def active_client_count(*, firm_id: int) -> int:
    """Client organisations the firm pays for: those with status active (one query)."""
    return ClientOrganisation.objects.filter(
        firm_id=firm_id, status=ClientOrganisation.Status.ACTIVE
    ).count()


def billable_clients(*, firm: Firm) -> list[ClientOrganisation]:
    """The firm's clients that can be invoiced (not offboarded), with their contract, by name."""
    clients = list(
        ClientOrganisation.objects.filter(firm=firm)
        .exclude(status=ClientOrganisation.Status.OFFBOARDED)
        .order_by("name", "pk")
    )
    contracts = {
        contract.client_id: contract
        for contract in ClientContract.objects.filter(client__in=clients)
    }
    for client in clients:
        client.billing_contract = contracts.get(client.pk)
    return clients


def _time_entry_model():
    if not apps.is_installed("cases"):
        return None
    try:
        return apps.get_model("cases", "TimeEntry")
    except LookupError:
        return None


def hours_by_client_and_month(
    firm: Firm, start: datetime.date, end: datetime.date, *, client_ids: list[int] | None = None
) -> dict[int, dict[datetime.date, Decimal]]:
    """Billable hours per client organisation and month (first day) between start and end.

    Sums `cases.TimeEntry` minutes in each client's schema (one query per client); without that
    model every client has no hours. Kept apart so it can later read a rollup in public instead.
    Clients without hours are present with an empty mapping. `client_ids` narrows the clients.
    """
    queryset = ClientOrganisation.objects.filter(firm=firm).exclude(
        status=ClientOrganisation.Status.OFFBOARDED
    )
    if client_ids is not None:
        queryset = queryset.filter(pk__in=client_ids)
    clients = list(queryset.values_list("pk", "schema_name"))
    result: dict[int, dict[datetime.date, Decimal]] = {pk: {} for pk, _schema in clients}
    model = _time_entry_model()
    if model is None:
        return result
    for pk, schema in clients:
        with schema_context(schema):
            rows = (
                model.objects.filter(worked_on__gte=start, worked_on__lte=end, billable=True)
                .annotate(month=TruncMonth("worked_on"))
                .values("month")
                .annotate(minutes=Sum("minutes"))
                .order_by("month")
            )
            months: dict[datetime.date, Decimal] = defaultdict(Decimal)
            for row in rows:
                months[row["month"]] += Decimal(row["minutes"]) / 60
        result[pk] = {month: hours.quantize(Decimal("0.01")) for month, hours in months.items()}
    return result
