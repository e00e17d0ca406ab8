"""State changes of firms, client organisations, people and assignments.

Each function is the one transactional entry point for its change (views and management
commands call these, never the ORM directly). They validate fully before writing, so bad input
raises `ValidationError` with a message for the user and changes nothing.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from accounts.models import User
from mail.outbox import Email, email_enqueue, emails_enqueue, outbox_client_forget
from saas import hosts
from tenants import crypto, provisioning, schema_pool, themes
from tenants.emails import INVITATION, ROLE_OFFER, SELF_ACCESS
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Domain,
    Firm,
    FirmMembership,
    RoleOffer,
)
from tenants.trail import Action, Actor, actor_label, trail_write
from tenants.validators import (
    FULL_NAME_MAX_CHARS,
    NAME_MAX_CHARS,
    date_clean,
    name_clean,
    validate_slug_label,
)

logger = logging.getLogger(__name__)

FIRM_ROLES = {choice.value for choice in FirmMembership.Role}
CLIENT_ROLES = {choice.value for choice in ClientMembership.Role}


def _validate_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    validate_slug_label(slug)
    return slug


def firm_slug_check(slug: str) -> str:
    """The firm short name, normalised, if it is a valid label that no firm has (one query).

    Raises ValidationError otherwise. What `firm_create` checks, for callers that must refuse a
    taken name before anything else (the sign-up checks it before it looks at the address).
    """
    slug = _validate_slug(slug)
    if Firm.objects.filter(slug=slug).exists():
        raise ValidationError(_("The short name “%(slug)s” is already taken.") % {"slug": slug})
    return slug


def firm_create(
    *,
    actor: Actor,
    slug: str,
    name: str,
    anonymity_threshold: int = 5,
    retention_months: int = 12,
) -> Firm:
    """Create an advisory firm (one INSERT and its trail row)."""
    slug = _validate_slug(slug)
    name = name_clean(name, field="name", limit=NAME_MAX_CHARS)
    slug = firm_slug_check(slug)
    firm = Firm(
        slug=slug,
        name=name,
        anonymity_threshold=anonymity_threshold,
        retention_months=retention_months,
    )
    firm.full_clean()
    try:
        with transaction.atomic():
            firm.save()
            trail_write(
                actor=actor,
                action=Action.FIRM_CREATE,
                firm_id=firm.pk,
                detail=f"k={firm.anonymity_threshold} retention={firm.retention_months}",
            )
    except IntegrityError:
        raise ValidationError(
            _("The short name “%(slug)s” is already taken.") % {"slug": slug}
        ) from None
    return firm


def firm_settings_update(
    *, actor: Actor, firm: Firm, anonymity_threshold: int, retention_months: int
) -> Firm:
    """Change the firm's anonymity threshold (k, never below 3) and retention after closure.

    Validates both before writing; one trail row with old → new values (none when nothing
    changes).
    """
    from tenants.models import MINIMUM_ANONYMITY_THRESHOLD

    for value in (anonymity_threshold, retention_months):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_("Enter a whole number."))
    if not MINIMUM_ANONYMITY_THRESHOLD <= anonymity_threshold <= 50:
        raise ValidationError(
            _("The anonymity threshold must be from %(low)s to 50.")
            % {"low": MINIMUM_ANONYMITY_THRESHOLD}
        )
    if not 0 <= retention_months <= 120:
        raise ValidationError(_("Enter a number of months from 0 to 120."))
    with transaction.atomic():
        locked = Firm.objects.select_for_update().get(pk=firm.pk)
        changes = []
        if locked.anonymity_threshold != anonymity_threshold:
            changes.append(f"k {locked.anonymity_threshold} → {anonymity_threshold}")
        if locked.retention_months != retention_months:
            changes.append(f"retention {locked.retention_months} → {retention_months}")
        if not changes:
            return locked
        locked.anonymity_threshold = anonymity_threshold
        locked.retention_months = retention_months
        locked.save(update_fields=["anonymity_threshold", "retention_months"])
        trail_write(
            actor=actor, action=Action.FIRM_SETTINGS, firm_id=firm.pk, detail=", ".join(changes)
        )
    firm.anonymity_threshold, firm.retention_months = anonymity_threshold, retention_months
    return locked


def client_create(
    *,
    actor: Actor,
    firm: Firm,
    slug: str,
    name: str,
    employee_count: int,
    sector: str = ClientOrganisation.Sector.OTHER,
    contract_starts_on: datetime.date | None = None,
    contract_ends_on: datetime.date | None = None,
    country: str = ClientOrganisation.Country.NETHERLANDS,
) -> ClientOrganisation:
    """Create a client organisation with its own schema: a ready one from the pool, else a clone.

    Causes one query to claim a schema cloned in advance (`tenants.schema_pool`; a clone of the
    template, a few hundred milliseconds, when the pool is empty), the firm's case themes
    (`tenants.themes`, a few queries) and three INSERTs, all in one transaction: a failure
    leaves neither rows nor a new schema behind (a claimed one goes back to the pool). Asks
    for a refill of the pool after commit.
    """
    slug = _validate_slug(slug)
    name = name_clean(name, field="name", limit=NAME_MAX_CHARS)
    contract_starts_on = date_clean(contract_starts_on, field="contract_starts_on")
    contract_ends_on = date_clean(contract_ends_on, field="contract_ends_on")
    host = hosts.client_host(client_slug=slug, firm_slug=firm.slug)
    client = ClientOrganisation(
        firm=firm,
        slug=slug,
        name=name,
        sector=sector,
        employee_count=employee_count,
        country=_valid_country(country),
        contract_starts_on=contract_starts_on or timezone.localdate(),
        contract_ends_on=contract_ends_on,
        schema_name=provisioning.new_schema_name(),
    )
    # Constraints are checked below with messages of our own (Django's name the constraint).
    client.full_clean(validate_unique=False, validate_constraints=False)
    if client.contract_ends_on is not None and client.contract_ends_on < client.contract_starts_on:
        raise ValidationError(_("The contract ends before it starts."))
    if ClientOrganisation.objects.filter(firm=firm, slug=slug).exists():
        raise ValidationError(
            _("This firm already has a client with the short name “%(slug)s”.") % {"slug": slug}
        )
    if Domain.objects.filter(domain=host).exists():
        raise ValidationError(_("The address %(host)s is already taken.") % {"host": host})
    try:
        with transaction.atomic():
            clone = schema_pool.client_schema_take()
            client.schema_name = clone.schema_name
            # Shared: creations proceed together; a theme change waits, or waits for us, so
            # the new schema either gets the change here or is listed by its dispatch.
            themes.firm_themes_lock(firm.pk, shared=True)
            with schema_context(client.schema_name):
                themes.theme_catalogue_apply(firm_id=firm.pk)
            client.schema_fingerprint = clone.fingerprint
            client.wrapped_data_key = crypto.new_wrapped_data_key(client.schema_name)
            client.save()
            Domain.objects.create(domain=host, tenant=client, is_primary=True)
            trail_write(actor=actor, action=Action.CLIENT_CREATE, firm_id=firm.pk, client=client)
            transaction.on_commit(lambda: _check_schema_later(client))
            transaction.on_commit(lambda: _billing_client_count_changed(firm.pk))
            transaction.on_commit(_schema_pool_refill_later)
    except IntegrityError:
        # A concurrent creation took the slug or host between our check and our insert.
        raise ValidationError(
            _("The address %(host)s is already taken.") % {"host": host}
        ) from None
    logger.info("Provisioned client %s (%s) for firm %s", client.pk, client.schema_name, firm.slug)
    return client


def _billing_client_count_changed(firm_id: int) -> None:
    """Let the firm's subscription quantity follow its active clients (batched, see billing)."""
    from billing.services import quantity_sync_request

    quantity_sync_request(firm_id)


def _schema_pool_refill_later() -> None:
    if settings.SCHEMA_POOL_SIZE > 0:
        from tenants.tasks import schema_pool_refill

        schema_pool_refill.delay()


def _check_schema_later(client: ClientOrganisation) -> None:
    from tenants.tasks import record_schema_state

    record_schema_state.apply_async(headers={"_schema_name": client.schema_name})


def _refuse_offboarded(client: ClientOrganisation) -> None:
    # An offboarded client has no schema and no key left: it cannot come back or get people.
    if client.status == ClientOrganisation.Status.OFFBOARDED:
        raise ValidationError(
            _("%(name)s is offboarded; its data is gone and it cannot be changed.")
            % {"name": client.name}
        )


def _valid_country(country: Any) -> str:
    if country not in ClientOrganisation.Country.values:
        raise ValidationError(
            {"country": _("Choose the Netherlands or Belgium as the client's country.")}
        )
    return str(country)


def client_update(*, actor: Actor, client: ClientOrganisation, **fields: Any) -> ClientOrganisation:
    """Change a client's name, sector, size, country, contract period or status (not its address).

    Locks the client's row and checks the change against it, so a page loaded before an
    offboarding cannot bring the client back. A change of country (which decides the legal
    rules that apply) is written to the client's access log; every change to the firm's trail.
    """
    allowed = {
        "name",
        "sector",
        "employee_count",
        "country",
        "contract_starts_on",
        "contract_ends_on",
        "status",
        "advisers_named_in_report",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Cannot change {sorted(unknown)} here.")
    if fields.get("status") == ClientOrganisation.Status.OFFBOARDED:
        raise ValidationError(_("Offboarding is a separate step that destroys the client's data."))
    if "country" in fields:
        _valid_country(fields["country"])
    if "name" in fields:
        fields["name"] = name_clean(fields["name"], field="name", limit=NAME_MAX_CHARS)
    for name in ("contract_starts_on", "contract_ends_on"):
        if name in fields:
            fields[name] = date_clean(
                fields[name], field=name, required=name == "contract_starts_on"
            )
    with transaction.atomic():
        locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
        _refuse_offboarded(locked)
        status_before, country_before = locked.status, locked.country
        before = {name: getattr(locked, name) for name in fields}
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(validate_unique=False, validate_constraints=False)
        if (
            locked.contract_ends_on is not None
            and locked.contract_ends_on < locked.contract_starts_on
        ):
            raise ValidationError(_("The contract ends before it starts."))
        locked.save(update_fields=list(fields))
        changed = sorted(name for name in fields if before[name] != getattr(locked, name))
        trail_write(
            actor=actor,
            action=Action.CLIENT_UPDATE,
            firm_id=locked.firm_id,
            client=locked,
            detail=", ".join(
                f"{name} {before[name]} → {getattr(locked, name)}"
                if name in ("status", "country")
                else name
                for name in changed
            )
            or "no change",
        )
        if locked.status != status_before:
            transaction.on_commit(lambda: _billing_client_count_changed(locked.firm_id))
        if locked.country != country_before:
            from audit.services import access_log_write

            with schema_context(locked.schema_name):
                access_log_write(
                    actor=actor,
                    action="update",
                    object_type="client",
                    object_reference=locked.slug,
                    detail=f"country {country_before} → {locked.country}",
                )
    for name in (*fields, "status"):
        setattr(client, name, getattr(locked, name))
    return client


def client_country_set(
    *, actor: Actor, client: ClientOrganisation, country: str
) -> ClientOrganisation:
    """Change the client's country (NL or BE): locked, validated, logged; see `client_update`."""
    return client_update(client=client, actor=actor, country=country)


def _clean_person(email: str, full_name: str, role: str, firm: Any, client: Any) -> tuple[str, str]:
    email = (email or "").strip().lower()
    # Optional here: an invited person may fill in their name later (preferences).
    full_name = name_clean(full_name, field="full_name", limit=FULL_NAME_MAX_CHARS, required=False)
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            _("“%(email)s” is not a valid e-mail address.") % {"email": email}
        ) from None
    if role in FIRM_ROLES:
        if firm is None or client is not None:
            raise ValidationError(_("A firm role needs a firm (and no client organisation)."))
    elif role in CLIENT_ROLES:
        if client is None:
            raise ValidationError(_("A client role needs a client organisation."))
        _refuse_offboarded(client)
    else:
        raise ValidationError(_("Unknown role “%(role)s”.") % {"role": role})
    return email, full_name


def _grant(
    *, actor: Actor, user: User, role: str, firm: Any, client: Any, detail: str = ""
) -> bool:
    """Give `user` the role (and write its trail row); False if they had it already."""
    if role in FIRM_ROLES:
        created = FirmMembership.objects.get_or_create(user=user, firm=firm, role=role)[1]
        firm_id = firm.pk
    else:
        created = ClientMembership.objects.get_or_create(user=user, client=client, role=role)[1]
        firm_id = client.firm_id
    if created:
        trail_write(
            actor=actor,
            action=Action.MEMBERSHIP_ADD,
            firm_id=firm_id,
            client=client,
            subject=user,
            detail=(role + (f" ({detail})" if detail else "")),
        )
    return created


def user_create(
    *,
    actor: Actor,
    email: str,
    full_name: str = "",
    password: str | None = None,
    firm: Firm | None = None,
    client: ClientOrganisation | None = None,
    role: str,
) -> User:
    """Create a user, or reuse the existing one with this address, and give them `role` at once.

    For operators (`create_user`, the sign-up, the demo): the console invites through
    `person_invite`, which never reveals or changes an existing account without its holder's
    consent. Firm roles (firm_admin, adviser) need `firm`; client roles (contact_person,
    internal_adviser) need `client`. Refuses a role the user already has.
    """
    email, full_name = _clean_person(email, full_name, role, firm, client)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email, password, full_name=full_name)
        if not _grant(actor=actor, user=user, role=role, firm=firm, client=client):
            raise ValidationError(_("%(email)s already has this role.") % {"email": email})
    return user


def person_invite(
    *,
    actor: Actor,
    firm: Firm,
    email: str,
    full_name: str = "",
    role: str,
    client: ClientOrganisation | None = None,
) -> RoleOffer | None:
    """Offer `role` to the holder of `email`; the answer is the same whether the address has an
    account or not (nothing of an existing account is shown or changed).

    An unknown address gets an account without a password and an invitation e-mail; setting the
    password accepts the offer. An existing account gets an e-mail asking to sign in and accept
    or decline. A role the person holds, or an offer already waiting, changes nothing (None).
    One trail row (ROLE_OFFER) when an offer is made.
    """
    if client is not None and client.firm_id != firm.pk:
        raise ValidationError(_("A client role needs a client organisation."))
    email, full_name = _clean_person(
        email, full_name, role, firm if client is None else None, client
    )
    with transaction.atomic():
        # The same statements for a known and an unknown address, so neither the answer nor
        # the time it takes tells them apart: always INSERT … ON CONFLICT DO NOTHING, then read
        # the row back. Its random unusable password says whether the row is the one made here
        # (tests/test_tenants_insider_trust.py compares the statements; bench/invitations.py
        # times both).
        candidate = User(email=email, full_name=full_name)
        candidate.set_unusable_password()
        User.objects.bulk_create([candidate], ignore_conflicts=True)
        user = User.objects.get(email__iexact=email)
        made_account = user.password == candidate.password
        if role in FIRM_ROLES:
            holds = FirmMembership.objects.filter(user=user, firm=firm, role=role).exists()
        else:
            holds = ClientMembership.objects.filter(user=user, client=client, role=role).exists()
        if (
            holds
            or RoleOffer.objects.filter(user=user, firm=firm, client=client, role=role).exists()
        ):
            return None
        offer = RoleOffer.objects.create(
            user=user,
            firm=firm,
            client=client,
            role=role,
            email=email,
            full_name=full_name,
            offered_by_id=getattr(actor, "pk", None),
            made_account=made_account,
        )
        trail_write(
            actor=actor,
            action=Action.ROLE_OFFER,
            firm_id=firm.pk,
            client=client,
            subject=user,
            detail=role,
        )
        language = (translation.get_language() or "nl")[:8]
        email_enqueue(
            kind=INVITATION if made_account or not user.has_usable_password() else ROLE_OFFER,
            key=f"offer:{offer.pk}",
            recipient_id=user.pk,
            params={"language": language},
        )
    return offer


def role_offer_answer(*, actor: User, offer_id: Any, accept: bool) -> RoleOffer:
    """The account holder accepts (the role is given) or declines (the offer goes) an offer.

    Only the offer's own holder may answer (anything else: Http404). One trail row.
    """
    from django.http import Http404

    with transaction.atomic():
        try:
            offer = (
                RoleOffer.objects.select_for_update(of=("self",))
                .select_related("firm", "client")
                .get(pk=int(offer_id), user=actor)
            )
        except (RoleOffer.DoesNotExist, TypeError, ValueError, OverflowError):
            raise Http404 from None
        if offer.client is not None and offer.client.status == ClientOrganisation.Status.OFFBOARDED:
            accept = False
        firm = offer.firm if offer.client is None else None
        if accept:
            if offer.role in FIRM_ROLES:
                FirmMembership.objects.get_or_create(user=actor, firm=firm, role=offer.role)
            else:
                ClientMembership.objects.get_or_create(
                    user=actor, client=offer.client, role=offer.role
                )
        trail_write(
            actor=actor,
            action=Action.ROLE_OFFER_ACCEPT if accept else Action.ROLE_OFFER_DECLINE,
            firm_id=offer.firm_id,
            client=offer.client,
            subject=actor,
            detail=offer.role,
        )
        offer.delete()
    return offer


def role_offer_withdraw(*, actor: Actor, offer: RoleOffer) -> None:
    """The firm takes back an offer not answered yet. One trail row (as a declined offer)."""
    with transaction.atomic():
        locked = RoleOffer.objects.select_for_update().filter(pk=offer.pk).first()
        if locked is None:
            return
        trail_write(
            actor=actor,
            action=Action.ROLE_OFFER_DECLINE,
            firm_id=locked.firm_id,
            client=offer.client,
            subject=offer.user,
            detail=f"{locked.role} withdrawn",
        )
        locked.delete()


def role_offers_accept_new_account(*, user: User) -> int:
    """The invited holder of a new account set a password: accept what they were invited to."""
    count = 0
    for offer in RoleOffer.objects.filter(user=user, made_account=True):
        role_offer_answer(actor=user, offer_id=offer.pk, accept=True)
        count += 1
    return count


def user_sessions_end(*, user: User) -> None:
    """Sign the user out on every device (accounts.middleware compares the generation)."""
    User.objects.filter(pk=user.pk).update(session_generation=models.F("session_generation") + 1)


def _end_assignments_now(assignments: Any) -> int:
    now = timezone.now()
    today = timezone.localdate(now)
    assignments = assignments.filter(ended_at__isnull=True).exclude(ends_on__lt=today)
    count = assignments.filter(starts_on__gt=today).update(
        ends_on=models.F("starts_on"), ended_at=now
    )
    return count + assignments.filter(starts_on__lte=today).update(ends_on=today, ended_at=now)


def membership_remove(*, actor: Actor, firm: Firm, membership: Any) -> None:
    """Take a role away: a contact person or internal adviser from one client of `firm`, or an
    adviser or firm admin from `firm` (never its last firm admin).

    Takes effect at once: an adviser's assignments to the firm's clients end now, and every
    session of the person ends (they sign in again to reach what they keep elsewhere). What they
    wrote stays with the client. One trail row.
    """
    with transaction.atomic():
        Firm.objects.select_for_update().filter(pk=firm.pk).first()
        row: FirmMembership | ClientMembership | None
        if isinstance(membership, FirmMembership):
            locked = FirmMembership.objects.select_for_update().filter(pk=membership.pk, firm=firm)
            row = locked.first()
            client = None
        else:
            row = (
                ClientMembership.objects.select_for_update(of=("self",))
                .select_related("client")
                .filter(pk=membership.pk, client__firm=firm)
                .first()
            )
            client = row.client if row is not None else None
        if row is None:
            raise ValidationError(_("This role was removed already."))
        if (
            isinstance(row, FirmMembership)
            and row.role == FirmMembership.Role.FIRM_ADMIN
            and FirmMembership.objects.filter(firm=firm, role=row.role).count() <= 1
        ):
            raise ValidationError(_("The last firm administrator cannot be removed."))
        user = User.objects.get(pk=row.user_id)
        if isinstance(row, FirmMembership) and row.role == FirmMembership.Role.ADVISER:
            _end_assignments_now(Assignment.objects.filter(adviser=user, client__firm=firm))
        row.delete()
        user_sessions_end(user=user)
        trail_write(
            actor=actor,
            action=Action.MEMBERSHIP_REMOVE,
            firm_id=firm.pk,
            client=client,
            subject=user,
            detail=row.role,
        )


def user_deactivate(*, actor: Actor, user: User) -> None:
    """Close an account everywhere (operators): no sign-in, every session and assignment ends.

    Memberships stay on record (the account is inactive, so they give nothing). One trail row
    per firm the person had a role in (or one without a firm).
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            raise ValidationError(_("This account is deactivated already."))
        firm_ids = set(
            FirmMembership.objects.filter(user=locked).values_list("firm_id", flat=True)
        ) | set(
            ClientMembership.objects.filter(user=locked).values_list("client__firm_id", flat=True)
        )
        _end_assignments_now(Assignment.objects.filter(adviser=locked))
        RoleOffer.objects.filter(user=locked).delete()
        User.objects.filter(pk=locked.pk).update(
            is_active=False, session_generation=models.F("session_generation") + 1
        )
        trail_firms: list[int | None] = [*sorted(firm_ids)] or [None]
        for firm_id in trail_firms:
            trail_write(
                actor=actor, action=Action.ACCOUNT_DEACTIVATE, firm_id=firm_id, subject=locked
            )
    user.is_active = False


class SelfAccessNeedsConfirmation(ValidationError):
    """A firm admin assigning herself must confirm on a page that says what it grants."""


def assignment_create(
    *,
    actor: Actor,
    client: ClientOrganisation,
    adviser: User,
    kind: str = Assignment.Kind.PRIMARY,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    self_access_confirmed: bool = False,
) -> Assignment:
    """Assign an adviser of the client's firm to the client for a period.

    Refuses advisers of another firm, periods that end before they start, and a period that
    overlaps an existing assignment of the same adviser to the same client. A firm admin who
    assigns herself must pass `self_access_confirmed` (the console asks on a page); the trail
    records it as self-access and the firm's other admins get a notice without content.
    """
    _refuse_offboarded(client)
    starts_on = date_clean(starts_on, field="starts_on") or timezone.localdate()
    ends_on = date_clean(ends_on, field="ends_on")
    if kind not in Assignment.Kind.values:
        raise ValidationError(_("Unknown kind of assignment."))
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError(_("The period ends before it starts."))
    if not FirmMembership.objects.filter(
        user=adviser, firm_id=client.firm_id, role=FirmMembership.Role.ADVISER
    ).exists():
        raise ValidationError(
            _("%(email)s is not an adviser of this firm.") % {"email": adviser.email}
        )
    self_access = getattr(actor, "pk", None) == adviser.pk
    if self_access and not self_access_confirmed:
        raise SelfAccessNeedsConfirmation(
            _("Assigning yourself gives you access to this client's case files; confirm it first.")
        )
    with transaction.atomic():
        # Lock the client row so two overlapping assignments cannot both pass the check.
        ClientOrganisation.objects.select_for_update().filter(pk=client.pk).first()
        overlapping = (
            Assignment.objects.filter(adviser=adviser, client=client)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on))
            .exclude(ended_at__isnull=False, ends_on__lte=starts_on)
        )
        if ends_on is not None:
            overlapping = overlapping.filter(starts_on__lte=ends_on)
        if overlapping.exists():
            raise ValidationError(
                _("This adviser is already assigned to this client in that period.")
            )
        assignment = Assignment(
            client=client,
            adviser=adviser,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor if isinstance(actor, User) else None,
        )
        assignment.full_clean()
        assignment.save()
        trail_write(
            actor=actor,
            action=Action.SELF_ACCESS if self_access else Action.ASSIGNMENT_CREATE,
            firm_id=client.firm_id,
            client=client,
            subject=adviser,
            detail=f"{kind} {starts_on:%Y-%m-%d} to {ends_on or 'open'}",
        )
        if self_access:
            admins = list(
                FirmMembership.objects.filter(
                    firm_id=client.firm_id, role=FirmMembership.Role.FIRM_ADMIN
                )
                .exclude(user=adviser)
                .values_list("user_id", flat=True)
            )
            emails_enqueue(
                Email(
                    kind=SELF_ACCESS,
                    key=f"{assignment.pk}:{admin_id}",
                    recipient_id=admin_id,
                    client=client,
                    params={"adviser": adviser.pk},
                )
                for admin_id in admins
            )
    return assignment


def assignment_end(
    *, actor: Actor, assignment: Assignment, ends_on: datetime.date | None = None
) -> Assignment:
    """End an assignment now (default: access ends at this moment, on every process and open
    session), or plan its end (`ends_on` in the future: access ends after that day).

    An end date in the past or today means now. Ending an assignment that has ended already
    changes nothing and writes nothing. One trail row.
    """
    ends_on = date_clean(ends_on, field="ends_on")
    today = timezone.localdate()
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update().select_related("client").get(pk=assignment.pk)
        )
        if locked.ended_at is not None or (locked.ends_on is not None and locked.ends_on < today):
            return locked
        if ends_on is not None and ends_on > today:
            if locked.ends_on is not None and locked.ends_on <= ends_on:
                return locked
            locked.ends_on = max(ends_on, locked.starts_on)
            detail = f"planned end {locked.ends_on:%Y-%m-%d}"
        else:
            # Ending before it began: the assignment never took effect, so its period collapses.
            locked.ends_on = max(today, locked.starts_on) if locked.starts_on > today else today
            locked.ended_at = timezone.now()
            detail = "ended now"
        locked.save(update_fields=["ends_on", "ended_at"])
        trail_write(
            actor=actor,
            action=Action.ASSIGNMENT_END,
            firm_id=locked.client.firm_id,
            client=locked.client,
            subject=locked.adviser,
            detail=detail,
        )
    assignment.ends_on, assignment.ended_at = locked.ends_on, locked.ended_at
    return locked


def client_offboard(*, actor: Actor, client: ClientOrganisation) -> ClientOrganisation:
    """Offboard a client: destroy its data keys (crypto-shredding) and drop its schema. Irreversible.

    With the wrapped data keys gone (the current one and any retired by a rotation), every copy
    of the client's encrypted texts, backups included, is unreadable; the schema itself is
    dropped as well. The public row stays (status offboarded) for the firm's records; its host
    names go, assignments end today and the work index forgets it. Idempotent: offboarding twice
    changes nothing the second time.
    """
    schema = client.schema_name
    if not provisioning.is_valid_schema_name(schema):
        raise ValueError(f"Refusing to drop schema {schema!r}: not a client schema.")
    with transaction.atomic():
        locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
        if (
            locked.status == ClientOrganisation.Status.OFFBOARDED
            and not bytes(locked.wrapped_data_key)
            and not bytes(locked.retired_data_keys)
        ):
            return locked
        locked.status = ClientOrganisation.Status.OFFBOARDED
        locked.wrapped_data_key = b""
        locked.retired_data_keys = b""
        locked.save(update_fields=["status", "wrapped_data_key", "retired_data_keys"])
        for domain in Domain.objects.filter(tenant=locked):
            domain.delete()  # one by one: each forgets its cached route
        _end_assignments_now(Assignment.objects.filter(client=locked))
        trail_write(
            actor=actor, action=Action.CLIENT_OFFBOARD, firm_id=locked.firm_id, client=locked
        )
        from django.apps import apps

        if apps.is_installed("workindex"):
            from workindex.services import client_forget

            client_forget(client_id=locked.pk)
        if apps.is_installed("sparring.public"):
            from sparring.index import client_forget as sparring_forget

            sparring_forget(client_id=locked.pk)
        outbox_client_forget(client_id=locked.pk)
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of rows written earlier in this transaction would block
            # the DROP ("pending trigger events"): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        transaction.on_commit(lambda: crypto.forget_data_key(schema))
        transaction.on_commit(lambda: _billing_client_count_changed(locked.firm_id))
    crypto.forget_data_key(schema)
    logger.warning(
        "Offboarded client %s (%s): data key destroyed, schema dropped, by %s",
        locked.pk,
        schema,
        actor_label(actor),
    )
    client.status, client.wrapped_data_key = locked.status, locked.wrapped_data_key
    client.retired_data_keys = locked.retired_data_keys
    return locked
