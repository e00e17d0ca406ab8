"""Reads, always scoped to the firm or user asking: "missing" and "not yours" look the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from tenants.access import Role, assigned_client_ids, served_client_ids
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Firm,
    FirmMembership,
    FirmTheme,
    RoleOffer,
    TrailEntry,
    assignment_in_force_q,
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
    current = Assignment.objects.in_force().select_related("adviser")
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
    """Everybody with a role in the firm or one of its clients, with their roles (two queries).

    Each role is (label, scope, membership id), scope "firm" or "client", for the remove buttons.
    """
    people: dict[int, dict[str, Any]] = {}
    for membership in (
        FirmMembership.objects.filter(firm=firm).select_related("user").order_by("user__email")
    ):
        entry = people.setdefault(membership.user_id, {"user": membership.user, "roles": []})
        entry["roles"].append((membership.get_role_display(), "firm", membership.pk))
    for client_role in (
        ClientMembership.objects.filter(client__firm=firm)
        .select_related("user", "client")
        .order_by("user__email")
    ):
        entry = people.setdefault(client_role.user_id, {"user": client_role.user, "roles": []})
        entry["roles"].append(
            (
                f"{client_role.get_role_display()} — {client_role.client.name}",
                "client",
                client_role.pk,
            )
        )
    return sorted(people.values(), key=lambda entry: entry["user"].email)


def firm_admin_count(*, firm: Firm) -> int:
    return FirmMembership.objects.filter(firm=firm, role=FirmMembership.Role.FIRM_ADMIN).count()


def membership_get_for_firm(*, firm: Firm, scope: str, membership_id: int) -> Any:
    """A firm role ("firm") or a client role ("client") at this firm; Http404 otherwise."""
    found: QuerySet[Any]
    if scope == "firm":
        found = FirmMembership.objects.select_related("user").filter(firm=firm, pk=membership_id)
    elif scope == "client":
        found = ClientMembership.objects.select_related("user", "client").filter(
            client__firm=firm, pk=membership_id
        )
    else:
        raise Http404
    membership = found.first()
    if membership is None:
        raise Http404
    return membership


def firm_role_offers(*, firm: Firm) -> list[RoleOffer]:
    """Offers of this firm not answered yet: only what the firm typed (address, name, role)."""
    return list(
        RoleOffer.objects.filter(firm=firm)
        .select_related("client")
        .only("pk", "email", "full_name", "role", "client__name", "created_at")
        .order_by("email", "pk")
    )


def role_offer_get_for_firm(*, firm: Firm, offer_id: int) -> RoleOffer:
    offer = (
        RoleOffer.objects.select_related("client", "user").filter(firm=firm, pk=offer_id).first()
    )
    if offer is None:
        raise Http404
    return offer


def role_offers_of(*, user: Any) -> list[RoleOffer]:
    """Roles offered to `user`, with the offering firm and client, for them to answer."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(RoleOffer.objects.filter(user=user).select_related("firm", "client").order_by("pk"))


TRAIL_PER_PAGE = 100


def trail_page(*, firm: Firm, page: Any = 1) -> Page:
    """One page of the firm's audit trail, newest first (two queries)."""
    entries = TrailEntry.objects.filter(firm_id=firm.pk).order_by("-at", "-id")
    return Paginator(entries, TRAIL_PER_PAGE).get_page(page)


TRAIL_CSV_COLUMNS = (
    "at",
    "action",
    "actor_email",
    "operator_command",
    "client_name",
    "subject_email",
    "detail",
)


def trail_write_csv(*, firm: Firm, out: Any) -> int:
    """Write the firm's whole trail as CSV to `out`, oldest first; returns the number of rows.

    Cells that a spreadsheet would read as a formula get a leading apostrophe.
    """
    import csv

    writer = csv.writer(out)
    writer.writerow(TRAIL_CSV_COLUMNS)
    count = 0
    for row in (
        TrailEntry.objects.filter(firm_id=firm.pk)
        .order_by("at", "id")
        .values_list(*TRAIL_CSV_COLUMNS)
        .iterator(chunk_size=2000)
    ):
        writer.writerow([_csv_cell(value) for value in row])
        count += 1
    return count


def _csv_cell(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def firm_advisers(*, firm: Firm) -> QuerySet[Any]:
    from accounts.models import User

    return (
        User.objects.filter(
            firm_memberships__firm=firm, firm_memberships__role=FirmMembership.Role.ADVISER
        )
        .annotate(
            client_count=Count(
                "assignments",
                filter=Q(assignments__client__firm=firm) & assignment_in_force_q("assignments__"),
            )
        )
        .order_by("email")
    )


def organisations_of(*, user: Any) -> list[ClientOrganisation]:
    """Every client organisation where the user has any role today, for the chooser page."""
    ids = set(ClientMembership.objects.filter(user=user).values_list("client_id", flat=True))
    ids |= served_client_ids(user)
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
