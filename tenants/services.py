"""State changes of firms, client organisations, people and assignments.

Each function is the one transactional entry point for its change (views and management
commands call these, never the ORM directly). They validate fully before writing, so bad input
raises `ValidationError` with a message for the user and changes nothing.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from accounts.models import User
from saas import hosts
from tenants import crypto, provisioning, themes
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Domain,
    Firm,
    FirmMembership,
)
from tenants.validators import validate_slug_label

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
    *, slug: str, name: str, anonymity_threshold: int = 5, retention_months: int = 12
) -> Firm:
    """Create an advisory firm (one INSERT)."""
    slug = _validate_slug(slug)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("A name is required."))
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
    except IntegrityError:
        raise ValidationError(
            _("The short name “%(slug)s” is already taken.") % {"slug": slug}
        ) from None
    return firm


def client_create(
    *,
    firm: Firm,
    slug: str,
    name: str,
    employee_count: int,
    sector: str = ClientOrganisation.Sector.OTHER,
    contract_starts_on: datetime.date | None = None,
    contract_ends_on: datetime.date | None = None,
    country: str = ClientOrganisation.Country.NETHERLANDS,
) -> ClientOrganisation:
    """Create a client organisation with its own schema, cloned from the template.

    Causes one CREATE SCHEMA plus one DDL batch (tens of milliseconds), the firm's case themes
    (`tenants.themes`, a few queries) and three INSERTs, all in one transaction: a failure
    leaves neither rows nor schema behind.
    """
    slug = _validate_slug(slug)
    host = hosts.client_host(client_slug=slug, firm_slug=firm.slug)
    client = ClientOrganisation(
        firm=firm,
        slug=slug,
        name=(name or "").strip(),
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
            clone = provisioning.clone_template_into(client.schema_name)
            # Shared: creations proceed together; a theme change waits, or waits for us, so
            # the new schema either gets the change here or is listed by its dispatch.
            themes.firm_themes_lock(firm.pk, shared=True)
            with schema_context(client.schema_name):
                themes.theme_catalogue_apply(firm_id=firm.pk)
            client.schema_fingerprint = clone.fingerprint
            client.wrapped_data_key = crypto.new_wrapped_data_key(client.schema_name)
            client.save()
            Domain.objects.create(domain=host, tenant=client, is_primary=True)
            transaction.on_commit(lambda: _check_schema_later(client))
            transaction.on_commit(lambda: _billing_client_count_changed(firm.pk))
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


def client_update(
    *, client: ClientOrganisation, actor: User | None = None, **fields: Any
) -> ClientOrganisation:
    """Change a client's name, sector, size, country, contract period or status (not its address).

    Locks the client's row and checks the change against it, so a page loaded before an
    offboarding cannot bring the client back. A change of country (which decides the legal
    rules that apply) is written to the client's access log.
    """
    allowed = {
        "name",
        "sector",
        "employee_count",
        "country",
        "contract_starts_on",
        "contract_ends_on",
        "status",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Cannot change {sorted(unknown)} here.")
    if fields.get("status") == ClientOrganisation.Status.OFFBOARDED:
        raise ValidationError(_("Offboarding is a separate step that destroys the client's data."))
    if "country" in fields:
        _valid_country(fields["country"])
    with transaction.atomic():
        locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
        _refuse_offboarded(locked)
        status_before, country_before = locked.status, locked.country
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(validate_unique=False, validate_constraints=False)
        if (
            locked.contract_ends_on is not None
            and locked.contract_ends_on < locked.contract_starts_on
        ):
            raise ValidationError(_("The contract ends before it starts."))
        locked.save(update_fields=list(fields))
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
    *, actor: User | None, client: ClientOrganisation, country: str
) -> ClientOrganisation:
    """Change the client's country (NL or BE): locked, validated, logged; see `client_update`."""
    return client_update(client=client, actor=actor, country=country)


def user_create(
    *,
    email: str,
    full_name: str = "",
    password: str | None = None,
    firm: Firm | None = None,
    client: ClientOrganisation | None = None,
    role: str,
) -> User:
    """Create a user, or reuse the existing one with this address, and give them `role`.

    Firm roles (firm_admin, adviser) need `firm`; client roles (contact_person, internal_adviser)
    need `client`. Refuses a role the user already has.
    """
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    if len(full_name) > 150:
        raise ValidationError(_("A name can have at most 150 characters."))
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
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email, password, full_name=full_name)
        if role in FIRM_ROLES:
            created = FirmMembership.objects.get_or_create(user=user, firm=firm, role=role)[1]
        else:
            created = ClientMembership.objects.get_or_create(user=user, client=client, role=role)[1]
        if not created:
            raise ValidationError(_("%(email)s already has this role.") % {"email": email})
    return user


def assignment_create(
    *,
    client: ClientOrganisation,
    adviser: User,
    kind: str = Assignment.Kind.PRIMARY,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    created_by: User | None = None,
) -> Assignment:
    """Assign an adviser of the client's firm to the client for a period.

    Refuses advisers of another firm, periods that end before they start, and a period that
    overlaps an existing assignment of the same adviser to the same client.
    """
    _refuse_offboarded(client)
    starts_on = starts_on or timezone.localdate()
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
    with transaction.atomic():
        # Lock the client row so two overlapping assignments cannot both pass the check.
        ClientOrganisation.objects.select_for_update().filter(pk=client.pk).first()
        overlapping = Assignment.objects.filter(adviser=adviser, client=client).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=starts_on)
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
            created_by=created_by,
        )
        assignment.full_clean()
        assignment.save()
    return assignment


def assignment_end(*, assignment: Assignment, ends_on: datetime.date | None = None) -> Assignment:
    """End an assignment (today by default); access ends the day after `ends_on`."""
    ends_on = ends_on or timezone.localdate()
    if ends_on < assignment.starts_on:
        # Ending before it began: the assignment never took effect, so its period collapses.
        ends_on = assignment.starts_on
    if assignment.ends_on is not None and assignment.ends_on <= ends_on:
        return assignment
    assignment.ends_on = ends_on
    with transaction.atomic():
        assignment.save(update_fields=["ends_on"])
    return assignment


def client_offboard(*, client: ClientOrganisation, actor: User | None = None) -> ClientOrganisation:
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
    today = timezone.localdate()
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
        running = Assignment.objects.filter(client=locked).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=today)
        )
        running.filter(starts_on__gt=today).update(ends_on=models.F("starts_on"))
        running.filter(starts_on__lte=today).update(ends_on=today)
        from django.apps import apps

        if apps.is_installed("workindex"):
            from workindex.services import client_forget

            client_forget(client_id=locked.pk)
        if apps.is_installed("sparring.public"):
            from sparring.index import client_forget as sparring_forget

            sparring_forget(client_id=locked.pk)
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
        getattr(actor, "email", "an operator"),
    )
    client.status, client.wrapped_data_key = locked.status, locked.wrapped_data_key
    client.retired_data_keys = locked.retired_data_keys
    return locked
