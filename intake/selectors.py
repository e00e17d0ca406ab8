"""Reads of the intake: who the client's confidential advisers are, and who may see a contact.

Visibility of a contact (`contact_get_for_user`, `contacts_for_user`):
- the adviser the reporter excluded: never, whatever other role they hold (404 everywhere);
- external advisers assigned to the client today: every submitted contact, with content;
- the internal adviser the reporter chose: that contact, with content;
- firm admins: that contacts exist, their received day, deadlines and status; never content.
Every read with content writes an access-log row.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from audit.models import AccessLogEntry
from audit.services import access_log_write
from cases.selectors import advisers_of_client, current_client, user_reads_cases
from intake.models import Contact
from intake.public.models import AdviserCard
from tenants.access import serving_adviser_ids
from tenants.models import ClientMembership, ClientOrganisation, FirmMembership


@dataclass(frozen=True)
class AdviserInfo:
    id: int
    name: str
    internal: bool
    languages: str
    reach: str
    has_photo: bool


def _internal_advisers() -> list[Any]:
    from accounts.models import User

    client = current_client()
    return list(
        User.objects.filter(
            is_active=True,
            client_memberships__client_id=client.client_id,
            client_memberships__role=ClientMembership.Role.INTERNAL_ADVISER,
        )
        .distinct()
        .order_by("full_name", "email")
    )


def intake_advisers(*, day: datetime.date | None = None) -> list[AdviserInfo]:
    """The client's external advisers assigned today, then its internal advisers (3 queries)."""
    externals = advisers_of_client(day=day)
    internals = [user for user in _internal_advisers() if user not in externals]
    cards = {
        card.user_id: card
        for card in AdviserCard.objects.filter(
            user_id__in=[user.pk for user in externals + internals]
        ).defer("photo")
    }
    with_photo = set(
        AdviserCard.objects.filter(user_id__in=list(cards))
        .exclude(photo=b"")
        .values_list("user_id", flat=True)
    )
    result = []
    for internal, users in ((False, externals), (True, internals)):
        for user in users:
            card = cards.get(user.pk)
            result.append(
                AdviserInfo(
                    id=user.pk,
                    name=user.full_name or user.email.split("@")[0],
                    internal=internal,
                    languages=card.languages if card else "",
                    reach=card.reach if card else "",
                    has_photo=user.pk in with_photo,
                )
            )
    return result


def intake_adviser_ids(*, day: datetime.date | None = None) -> set[int]:
    """The ids of the advisers `intake_advisers` lists (2 queries, no cards, no users): what a
    submission checks the reporter's choice against."""
    client = current_client()
    externals = serving_adviser_ids(client_id=client.client_id, firm_id=client.firm_id, day=day)
    internals = ClientMembership.objects.filter(
        user__is_active=True,
        client_id=client.client_id,
        role=ClientMembership.Role.INTERNAL_ADVISER,
    )
    return set(externals.values_list("adviser_id", flat=True)) | set(
        internals.values_list("user_id", flat=True)
    )


def anonymous_reports_possible(*, client: ClientOrganisation) -> bool:
    """Whether the client's intake takes anonymous reports (the Belgian whistleblower law's
    check from 250 workers, `credentials.selectors.client_problems`): whenever the channel is
    open, since anonymity is the intake's default and no setting turns it off. Reads the row,
    not the current schema, so the console can ask (no query: the caller holds the row)."""
    return client.status == ClientOrganisation.Status.ACTIVE


def intake_state() -> str:
    """'open', or why the channel is closed ('suspended', 'offboarded')."""
    client = current_client()
    status = (
        ClientOrganisation.objects.filter(pk=client.client_id)
        .values_list("status", flat=True)
        .first()
    )
    return "open" if status == ClientOrganisation.Status.ACTIVE else (status or "offboarded")


# --- the firm's side ----------------------------------------------------------------------------


def _is_firm_admin(user: Any) -> bool:
    client = current_client()
    return FirmMembership.objects.filter(
        user=user, firm_id=client.firm_id, role=FirmMembership.Role.FIRM_ADMIN
    ).exists()


def _is_internal_adviser(user: Any) -> bool:
    client = current_client()
    return ClientMembership.objects.filter(
        user=user, client_id=client.client_id, role=ClientMembership.Role.INTERNAL_ADVISER
    ).exists()


@dataclass(frozen=True)
class Access:
    content: Q | None  # contacts the user may read, with content
    existence: bool  # firm admin: may see that contacts exist


def _access(user: Any) -> Access:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Access(content=None, existence=False)
    content: Q | None = None
    if user_reads_cases(user):
        content = Q()
    elif _is_internal_adviser(user):
        content = Q(chosen_adviser_id=user.pk)
    return Access(content=content, existence=_is_firm_admin(user))


def _submitted(user: Any) -> QuerySet[Contact]:
    # The excluded adviser is filtered out first, whatever else they are.
    return (
        Contact.objects.filter(submitted_at__isnull=False)
        .exclude(excluded_adviser_id=user.pk)
        .defer("reporter_name", "reach", "notify_email")
    )


def contacts_for_user(user: Any, *, status: str = "open") -> tuple[list[Contact], bool]:
    """(contacts the user may see in the list, whether they may open them). Http404 for others."""
    access = _access(user)
    if access.content is None and not access.existence:
        raise Http404
    contacts = _submitted(user)
    if access.content is not None:
        contacts = contacts.filter(access.content)
    if status == "open":
        contacts = contacts.exclude(status=Contact.Status.CLOSED)
    elif status == "closed":
        contacts = contacts.filter(status=Contact.Status.CLOSED)
    return list(contacts.order_by("-submitted_at")[:500]), access.content is not None


def contact_get_for_user(user: Any, contact_id: Any, *, write: bool = False) -> Contact:
    """One contact with content for a reader allowed to see it (logs a READ); else Http404."""
    access = _access(user)
    if access.content is None:
        raise Http404
    try:
        wanted = uuid.UUID(str(contact_id))
    except ValueError:
        raise Http404 from None
    contact = (
        Contact.objects.filter(pk=wanted, submitted_at__isnull=False)
        .exclude(excluded_adviser_id=user.pk)
        .filter(access.content)
        .first()
    )
    if contact is None:
        raise Http404
    if not write:
        access_log_write(
            actor=user,
            action=AccessLogEntry.Action.READ,
            object_type="intake contact",
            object_reference=str(contact.pk),
        )
    return contact


def may_read(user: Any, contact: Contact) -> bool:
    """For the notice task: does `user` still see this contact's content?"""
    if contact.excluded_adviser_id == user.pk:
        return False
    access = _access(user)
    return access.content is not None and (
        Contact.objects.filter(pk=contact.pk).filter(access.content).exists()
    )


def handler_for(
    *, chosen: int | None, excluded: int | None, day: datetime.date | None = None
) -> int | None:
    """The chosen adviser, else the client's first external adviser who is not excluded."""
    if chosen:
        return chosen
    from tenants.models import Assignment

    client = current_client()
    day = day or timezone.localdate()
    serving = serving_adviser_ids(client_id=client.client_id, firm_id=client.firm_id, day=day)
    ordered = (
        Assignment.objects.in_force(day)
        .filter(client_id=client.client_id, adviser_id__in=serving)
        .exclude(adviser_id=excluded)
        .order_by("kind", "starts_on", "pk")  # "backup" < "primary": reversed below
        .values_list("adviser_id", "kind")
    )
    primaries = [pk for pk, kind in ordered if kind == "primary"]
    others = [pk for pk, _kind in ordered]
    candidates = primaries or others
    return candidates[0] if candidates else None
