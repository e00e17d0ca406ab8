"""Reads: the checks shown as open problems on a client's page, and the firm's "who is due".

Public schema only: no client schema is opened. Each function says what it queries.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from credentials.models import (
    ANONYMOUS_REPORTS_FROM_WORKERS,
    BASIC_TRAINING_HOURS,
    INTERNAL_ADVISER_FROM_WORKERS,
    AdviserCredential,
    CredentialPolicy,
    InternalAdviserAppointment,
    TrainingEntry,
)
from tenants.models import ClientOrganisation, Firm, FirmMembership


def hours_text(value: Decimal) -> str:
    """Hours as people write them: 30, 12.5 (not 30.0)."""
    return format(value.quantize(Decimal("0.1")).normalize(), "f")


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str
    message: str


def _hours(
    firm_id: int, user_id: int, *, since: datetime.date | None, until: datetime.date
) -> dict[str, Decimal]:
    rows = TrainingEntry.objects.filter(firm_id=firm_id, user_id=user_id, done_on__lte=until)
    if since is not None:
        rows = rows.filter(done_on__gte=since)
    totals = {kind: Decimal(0) for kind in TrainingEntry.Kind.values}
    for row in rows.values("kind").annotate(total=Sum("hours")):
        totals[row["kind"]] = row["total"]
    return totals


def anonymous_reports_possible(client: ClientOrganisation) -> bool | None:
    """Whether the client's intake channel takes anonymous reports; None when unknown.

    The hook for the employee intake channel (`intake/`, built separately): when that app
    offers `intake.selectors.anonymous_reports_possible(client=...)`, its answer is used;
    until then the requirement shows as an open problem that the adviser must confirm.
    """
    try:
        from intake import selectors as intake_selectors
    except ImportError:
        return None
    check = getattr(intake_selectors, "anonymous_reports_possible", None)
    if check is None:
        return None
    return bool(check(client=client))


def appointment_training_hours(appointment: InternalAdviserAppointment) -> Decimal:
    """Hours of training counted toward the basic training (until its deadline; one query)."""
    totals = _hours(
        appointment.client.firm_id,
        appointment.user_id,
        since=None,
        until=appointment.training_due_on,
    )
    return sum(totals.values(), Decimal(0))


def client_problems(
    *, client: ClientOrganisation, today: datetime.date | None = None
) -> list[Problem]:
    """The Belgian obligations the client does not meet (yet), as messages for the firm.

    Empty for Dutch clients. Causes a few queries per appointment.
    """
    if client.country != ClientOrganisation.Country.BELGIUM:
        return []
    today = today or timezone.localdate()
    problems: list[Problem] = []
    current = list(
        InternalAdviserAppointment.objects.filter(client=client)
        .in_force(today)
        .select_related("user", "client")
    )
    if client.employee_count >= INTERNAL_ADVISER_FROM_WORKERS and not current:
        problems.append(
            Problem(
                "internal_adviser_missing",
                _(
                    "With %(count)s workers (50 or more) at least one confidential adviser must "
                    "be on the client's payroll: record the appointment of an internal adviser."
                )
                % {"count": client.employee_count},
            )
        )
    for appointment in current:
        name = appointment.user.get_full_name() or appointment.user.email
        if appointment.representatives_agreed_on is None:
            problems.append(
                Problem(
                    "agreement_missing",
                    _(
                        "%(name)s: the worker representatives' prior agreement to the "
                        "appointment is not recorded."
                    )
                    % {"name": name},
                )
            )
        if not appointment.declarations_complete:
            problems.append(
                Problem(
                    "declarations_missing",
                    _(
                        "%(name)s: the declarations (not in the works council, the committee "
                        "for prevention and protection, the union delegation, not a candidate "
                        "in the social elections, not management) are not all recorded."
                    )
                    % {"name": name},
                )
            )
        hours = appointment_training_hours(appointment)
        if hours < BASIC_TRAINING_HOURS:
            due = appointment.training_due_on
            message = (
                _("%(name)s: basic training %(hours)s of 30 hours; it was due on %(due)s.")
                if due < today
                else _("%(name)s: basic training %(hours)s of 30 hours, due by %(due)s.")
            )
            problems.append(
                Problem(
                    "training_overdue" if due < today else "training_due",
                    message % {"name": name, "hours": hours_text(hours), "due": due.isoformat()},
                )
            )
    if client.employee_count >= ANONYMOUS_REPORTS_FROM_WORKERS:
        possible = anonymous_reports_possible(client)
        if possible is not True:
            problems.append(
                Problem(
                    "anonymous_reports",
                    _(
                        "With 250 workers or more, anonymous reports must be possible "
                        "(whistleblower law): the intake channel's anonymous mode must be on."
                    ),
                )
            )
    return problems


def due_label(code: str) -> str:
    """What falls due, in the active language: the overview (the reader's) and each reminder
    e-mail (its recipient's, at sending) translate the same code."""
    labels = {
        "certificate": _("Certificate"),
        "certificate_expires": _("Certificate expires"),
        "recertification_hours": _("Recertification hours"),
        "conduct_certificate": _("Certificate of conduct (VOG)"),
        "basic_training": _("Basic training (30 hours)"),
    }
    return labels[code]


@dataclasses.dataclass
class DueRow:
    """One line of the firm's overview: a person, what is due and when."""

    user: Any
    role: str
    client: ClientOrganisation | None
    what: str
    due_on: datetime.date | None
    detail: str
    overdue: bool
    code: str = ""


def firm_due(*, firm: Firm, today: datetime.date | None = None) -> list[DueRow]:
    """Everything of the firm's advisers and its clients' internal advisers that is due within
    the firm's reminder period, or overdue (a handful of queries per person)."""
    today = today or timezone.localdate()
    policy = CredentialPolicy.objects.filter(firm=firm).first() or CredentialPolicy(firm=firm)
    horizon = today + datetime.timedelta(days=policy.reminder_days)
    rows: list[DueRow] = []
    credentials = {
        credential.user_id: credential for credential in AdviserCredential.objects.filter(firm=firm)
    }
    advisers = (
        FirmMembership.objects.filter(firm=firm, role=FirmMembership.Role.ADVISER)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    for membership in advisers:
        user = membership.user
        credential = credentials.get(user.pk)
        if credential is None or credential.expires_on is None:
            rows.append(
                DueRow(
                    user,
                    "adviser",
                    None,
                    due_label("certificate"),
                    None,
                    _("not recorded"),
                    True,
                    code="certificate",
                )
            )
            continue
        if credential.expires_on <= horizon:
            rows.append(
                DueRow(
                    user,
                    "adviser",
                    None,
                    due_label("certificate_expires"),
                    credential.expires_on,
                    credential.certification,
                    credential.expires_on < today,
                    code="certificate_expires",
                )
            )
        totals = _hours(
            firm.pk, user.pk, since=credential.certified_on, until=credential.expires_on
        )
        total = sum(totals.values(), Decimal(0))
        intervision = totals[TrainingEntry.Kind.INTERVISION]
        short = total < policy.required_hours or intervision < policy.required_intervision_hours
        if short and credential.expires_on <= horizon:
            rows.append(
                DueRow(
                    user,
                    "adviser",
                    None,
                    due_label("recertification_hours"),
                    credential.expires_on,
                    _(
                        "%(total)s of %(required)s hours, %(intervision)s of %(required_intervision)s intervision"
                    )
                    % {
                        "total": hours_text(total),
                        "required": hours_text(Decimal(policy.required_hours)),
                        "intervision": hours_text(intervision),
                        "required_intervision": hours_text(
                            Decimal(policy.required_intervision_hours)
                        ),
                    },
                    credential.expires_on < today,
                    code="recertification_hours",
                )
            )
        if credential.conduct_certificate_on is None:
            rows.append(
                DueRow(
                    user,
                    "adviser",
                    None,
                    due_label("conduct_certificate"),
                    None,
                    _("not recorded"),
                    True,
                    code="conduct_certificate",
                )
            )
    appointments = (
        InternalAdviserAppointment.objects.filter(client__firm=firm)
        .in_force(today)
        .exclude(client__status=ClientOrganisation.Status.OFFBOARDED)
        .select_related("user", "client")
        .order_by("client__name", "appointed_on")
    )
    for appointment in appointments:
        due = appointment.training_due_on
        hours = appointment_training_hours(appointment)
        if hours < BASIC_TRAINING_HOURS and due <= horizon:
            rows.append(
                DueRow(
                    appointment.user,
                    "internal_adviser",
                    appointment.client,
                    due_label("basic_training"),
                    due,
                    _("%(hours)s of 30 hours") % {"hours": hours_text(hours)},
                    due < today,
                    code="basic_training",
                )
            )
    rows.sort(key=lambda row: (row.due_on or datetime.date.min, str(row.user)))
    return rows


def adviser_overview(*, firm: Firm, today: datetime.date | None = None) -> list[dict[str, Any]]:
    """Per adviser of the firm: certificate, VOG and education hours in the current period."""
    today = today or timezone.localdate()
    policy = CredentialPolicy.objects.filter(firm=firm).first() or CredentialPolicy(firm=firm)
    credentials = {c.user_id: c for c in AdviserCredential.objects.filter(firm=firm)}
    result = []
    for membership in (
        FirmMembership.objects.filter(firm=firm, role=FirmMembership.Role.ADVISER)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    ):
        credential = credentials.get(membership.user_id)
        since = credential.certified_on if credential else None
        until = credential.expires_on if credential and credential.expires_on else today
        totals = _hours(firm.pk, membership.user_id, since=since, until=until)
        result.append(
            {
                "user": membership.user,
                "credential": credential,
                "hours": totals,
                "total": sum(totals.values(), Decimal(0)),
                "policy": policy,
            }
        )
    return result


def report_advisers(
    *,
    client: ClientOrganisation,
    external: list[Any],
    on: datetime.date,
    named: bool,
) -> list[dict[str, Any]]:
    """The client's advisers and their training as of `on`, for its annual report (JSON: it is
    frozen with the report's figures at publication, so the report keeps saying what was true
    on its date).

    `external`: the advisers assigned to the client that day (`cases.selectors.
    advisers_of_client`, the one rule). External advisers: certificate and education hours in
    the current certification period (kinds as codes); internal advisers: appointment date
    and training hours so far. `named=False` (the client asked for no names) leaves the names
    out, so the report says "external adviser 1". Two queries per adviser.
    """
    from tenants.models import ClientMembership

    credentials = {
        credential.user_id: credential
        for credential in AdviserCredential.objects.filter(
            firm_id=client.firm_id, user__in=[user.pk for user in external]
        )
    }
    result: list[dict[str, Any]] = []
    for user in external:
        credential = credentials.get(user.pk)
        since = credential.certified_on if credential else None
        totals = _hours(client.firm_id, user.pk, since=since, until=on)
        expires = credential.expires_on if credential else None
        result.append(
            {
                "role": "external",
                "name": (user.get_full_name() or user.email) if named else None,
                "certification": credential.certification if credential else "",
                "certified_on": since.isoformat() if since else None,
                "valid": bool(expires and since and since <= on <= expires),
                "expires_on": expires.isoformat() if expires else None,
                "hours": {kind: hours_text(value) for kind, value in totals.items()},
                "total": hours_text(sum(totals.values(), Decimal(0))),
            }
        )
    appointments = {
        appointment.user_id: appointment
        for appointment in InternalAdviserAppointment.objects.filter(client=client).in_force(on)
    }
    internal = (
        ClientMembership.objects.filter(
            client=client, role=ClientMembership.Role.INTERNAL_ADVISER, user__is_active=True
        )
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    for membership in internal:
        user = membership.user
        appointment = appointments.get(user.pk)
        totals = _hours(client.firm_id, user.pk, since=None, until=on)
        result.append(
            {
                "role": "internal",
                "name": (user.get_full_name() or user.email) if named else None,
                "appointed_on": appointment.appointed_on.isoformat() if appointment else None,
                "hours": {kind: hours_text(value) for kind, value in totals.items()},
                "total": hours_text(sum(totals.values(), Decimal(0))),
            }
        )
    return result
