"""Reads, always scoped to the firm or user asking: "missing" and "not yours" look the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tenants.access import Role, assigned_client_ids
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Firm,
    FirmMembership,
    FirmTheme,
)


def client_list_for(
    *, user: Any, firm: Firm, roles: frozenset[Role]
) -> QuerySet[ClientOrganisation]:
    """Clients a firm admin manages (all of the firm) or an adviser serves (assigned today)."""
    clients = ClientOrganisation.objects.filter(firm=firm).exclude(
        status=ClientOrganisation.Status.OFFBOARDED
    )
    if Role.FIRM_ADMIN not in roles:
        clients = clients.filter(pk__in=assigned_client_ids(user, firm=firm))
    today = timezone.localdate()
    current = (
        Assignment.objects.filter(starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("adviser")
    )
    return (
        clients.select_related("firm")
        .prefetch_related(
            "domains", Prefetch("assignments", queryset=current, to_attr="current_assignments")
        )
        .order_by("name")
    )


def client_get_for_firm(*, firm: Firm, client_id: int) -> ClientOrganisation:
    try:
        return ClientOrganisation.objects.select_related("firm").get(firm=firm, pk=client_id)
    except ClientOrganisation.DoesNotExist:
        raise Http404 from None


def assignment_get_for_firm(*, firm: Firm, assignment_id: int) -> Assignment:
    try:
        return Assignment.objects.select_related("client", "adviser").get(
            client__firm=firm, pk=assignment_id
        )
    except Assignment.DoesNotExist:
        raise Http404 from None


def firm_people(*, firm: Firm) -> list[dict[str, Any]]:
    """Everybody with a role in the firm or one of its clients, with their roles (two queries)."""
    people: dict[int, dict[str, Any]] = {}
    for membership in (
        FirmMembership.objects.filter(firm=firm).select_related("user").order_by("user__email")
    ):
        entry = people.setdefault(membership.user_id, {"user": membership.user, "roles": []})
        entry["roles"].append(membership.get_role_display())
    for client_membership in (
        ClientMembership.objects.filter(client__firm=firm)
        .select_related("user", "client")
        .order_by("user__email")
    ):
        entry = people.setdefault(
            client_membership.user_id, {"user": client_membership.user, "roles": []}
        )
        entry["roles"].append(
            f"{client_membership.get_role_display()} — {client_membership.client.name}"
        )
    return sorted(people.values(), key=lambda entry: entry["user"].email)


def firm_advisers(*, firm: Firm) -> QuerySet[Any]:
    from accounts.models import User

    return (
        User.objects.filter(
            firm_memberships__firm=firm, firm_memberships__role=FirmMembership.Role.ADVISER
        )
        .annotate(
            client_count=Count(
                "assignments",
                filter=Q(assignments__client__firm=firm)
                & Q(assignments__starts_on__lte=timezone.localdate())
                & (
                    Q(assignments__ends_on__isnull=True)
                    | Q(assignments__ends_on__gte=timezone.localdate())
                ),
            )
        )
        .order_by("email")
    )


def organisations_of(*, user: Any) -> list[ClientOrganisation]:
    """Every client organisation where the user has any role today, for the chooser page."""
    today = timezone.localdate()
    ids = set(ClientMembership.objects.filter(user=user).values_list("client_id", flat=True))
    adviser_firms = FirmMembership.objects.filter(
        user=user, role=FirmMembership.Role.ADVISER
    ).values("firm_id")
    ids |= set(
        Assignment.objects.filter(
            adviser=user, client__firm_id__in=adviser_firms, starts_on__lte=today
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list("client_id", flat=True)
    )
    admin_firms = FirmMembership.objects.filter(
        user=user, role=FirmMembership.Role.FIRM_ADMIN
    ).values("firm_id")
    ids |= set(
        ClientOrganisation.objects.filter(firm_id__in=admin_firms).values_list("pk", flat=True)
    )
    return list(
        ClientOrganisation.objects.filter(pk__in=ids, status=ClientOrganisation.Status.ACTIVE)
        .select_related("firm")
        .prefetch_related("domains")
        .order_by("firm__name", "name")
    )


@dataclass(frozen=True)
class ThemeEntry:
    """One theme as the firm sees it: a standard one (label in the reader's language) or its own."""

    code: str
    label: str
    is_standard: bool
    is_active: bool
    position: int
    theme_id: int | None = None  # the FirmTheme of an own theme


def firm_themes(*, firm: Firm) -> list[ThemeEntry]:
    """Every theme of the firm, hidden ones too, in the order case forms show them: standard
    themes, the firm's own, "Other" last (one query)."""
    from cases.models import STANDARD_THEMES

    rows = list(FirmTheme.objects.filter(firm=firm))
    standard_state = {row.code: row.is_active for row in rows if row.is_standard}
    entries = [
        # Positions as seeded by cases/migrations/0002_standard_themes.py.
        ThemeEntry(code, str(label), True, standard_state.get(code, True), index * 10)
        for index, (code, label) in enumerate(STANDARD_THEMES.items(), start=1)
    ]
    entries += [
        ThemeEntry(row.code, row.name, False, row.is_active, row.position, row.pk)
        for row in rows
        if not row.is_standard
    ]
    return sorted(entries, key=lambda entry: (entry.position, entry.code))


def firm_theme_labels(*, firm: Firm) -> dict[str, str]:
    """Label per theme code, hidden themes too, for tables that group by code (one query)."""
    return {entry.code: entry.label for entry in firm_themes(firm=firm)}


def firm_theme_get_for_firm(*, firm: Firm, theme_id: Any) -> FirmTheme:
    """One of the firm's own themes; Http404 for another firm's, a standard one or a bad id."""
    try:
        return FirmTheme.objects.get(firm=firm, pk=int(theme_id), is_standard=False)
    except (FirmTheme.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None
