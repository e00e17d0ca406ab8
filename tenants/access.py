"""Who may reach which view: the one place where authorisation is decided.

Every view declares a policy with one of the decorators below (`public`, `signed_in`, `verified`,
`allow(*roles)`); `AccessMiddleware` enforces it before the view runs. A view without a policy is
refused (fail closed), and `tests/test_url_access.py` walks every URL pattern for every role.

Roles are not stored on the user: they follow from memberships and assignments, in context. On a
client organisation's host they are the user's roles in that organisation; on the console (base
host) they are the user's roles in their firm.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from tenants.models import Assignment, ClientMembership, Firm, FirmMembership

if TYPE_CHECKING:
    from django.db.models import QuerySet

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


class Role(StrEnum):
    FIRM_ADMIN = "firm_admin"
    ADVISER = "adviser"
    CONTACT_PERSON = "contact_person"
    INTERNAL_ADVISER = "internal_adviser"
    # Belgium: the employer's prevention adviser reads the register of acts by third parties.
    PREVENTION_ADVISER = "prevention_adviser"
    # Belgium: the inspection reads the same register (and nothing else).
    INSPECTOR = "inspector"


class Policy(StrEnum):
    PUBLIC = "public"  # anybody: sign-in, password reset, language switch
    SIGNED_IN = "signed_in"  # password given, second factor not yet: 2FA enrolment and check
    VERIFIED = "verified"  # two factors passed, no particular role
    ROLES = "roles"  # two factors and one of the listed roles in the current context
    PLATFORM_STAFF = "platform_staff"  # Django admin, operators of Vertrouwd itself


FIRM_STAFF = (Role.FIRM_ADMIN, Role.ADVISER)
ANY_CLIENT_ROLE = tuple(Role)


def _mark(view: ViewFunc, policy: Policy, roles: frozenset[Role] = frozenset()) -> ViewFunc:
    view.access_policy = (policy, roles)  # type: ignore[attr-defined]
    return view


def public(view: ViewFunc) -> ViewFunc:
    return _mark(view, Policy.PUBLIC)


def signed_in(view: ViewFunc) -> ViewFunc:
    return _mark(view, Policy.SIGNED_IN)


def verified(view: ViewFunc) -> ViewFunc:
    return _mark(view, Policy.VERIFIED)


def allow(*roles: Role) -> Callable[[ViewFunc], ViewFunc]:
    if not roles:
        raise ValueError("allow() needs at least one role; use verified() for any signed-in user.")

    def decorate(view: ViewFunc) -> ViewFunc:
        return _mark(view, Policy.ROLES, frozenset(roles))

    return decorate


def policy_of(view: Callable[..., Any]) -> tuple[Policy, frozenset[Role]] | None:
    return getattr(view, "access_policy", None)


def serving_adviser_ids(
    *, client_id: int, firm_id: int, day: datetime.date | None = None
) -> QuerySet[Assignment, Any]:
    """THE adviser rule as a list: ids (`adviser_id`) of the active external advisers of the
    client's firm with an assignment to this client in force, for a subquery or a set. The
    one-user question, `serves_client`, asks it."""
    return (
        Assignment.objects.in_force(day)
        .filter(
            client_id=client_id,
            adviser__is_active=True,
            adviser__firm_memberships__firm_id=firm_id,
            adviser__firm_memberships__role=FirmMembership.Role.ADVISER,
        )
        .values("adviser_id")
    )


def serves_client(
    user: Any, *, client_id: int, firm_id: int, day: datetime.date | None = None
) -> bool:
    """THE adviser rule: `user` is an external adviser of the client's firm with an assignment to
    this client in force now (`Assignment.objects.in_force`). One query. The ADVISER role on a
    client host, case reads (`cases.selectors.user_reads_cases`) and sparring all ask this.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return (
        serving_adviser_ids(client_id=client_id, firm_id=firm_id, day=day)
        .filter(adviser=user)
        .exists()
    )


def roles_in_client(
    user: Any, *, client_id: int, firm_id: int, day: datetime.date | None = None
) -> frozenset[Role]:
    """The user's roles in one client organisation today (causes two or three queries)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    roles: set[Role] = set()
    firm_roles = set(
        FirmMembership.objects.filter(user=user, firm_id=firm_id).values_list("role", flat=True)
    )
    if Role.FIRM_ADMIN in firm_roles:
        roles.add(Role.FIRM_ADMIN)
    if Role.ADVISER in firm_roles and serves_client(
        user, client_id=client_id, firm_id=firm_id, day=day
    ):
        roles.add(Role.ADVISER)
    roles |= {
        Role(role)
        for role in ClientMembership.objects.filter(user=user, client_id=client_id).values_list(
            "role", flat=True
        )
    }
    return frozenset(roles)


def firms_of(user: Any) -> list[Firm]:
    """Firms in which the user holds a firm role, oldest membership first."""
    if not user.is_authenticated:
        return []
    firm_ids = list(
        FirmMembership.objects.filter(user=user)
        .order_by("created_at", "pk")
        .values_list("firm_id", flat=True)
    )
    firms = {firm.pk: firm for firm in Firm.objects.filter(pk__in=firm_ids)}
    return [firms[pk] for pk in dict.fromkeys(firm_ids)]


def roles_in_firm(user: Any, firm: Firm | None) -> frozenset[Role]:
    if firm is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(
        Role(role)
        for role in FirmMembership.objects.filter(user=user, firm=firm).values_list(
            "role", flat=True
        )
    )


def served_client_ids(
    user: Any, *, firm: Firm | None = None, day: datetime.date | None = None
) -> set[int]:
    """THE adviser rule from the adviser's side: the clients `user` serves now (an active
    adviser of the client's firm with an assignment in force), of `firm` or of every firm
    where they are an adviser. One query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    adviser_firms = FirmMembership.objects.filter(
        user=user, role=FirmMembership.Role.ADVISER
    ).values("firm_id")
    assignments = Assignment.objects.in_force(day).filter(
        adviser=user, client__firm_id__in=adviser_firms
    )
    if firm is not None:
        assignments = assignments.filter(client__firm=firm)
    return set(assignments.values_list("client_id", flat=True))


def assigned_client_ids(user: Any, *, firm: Firm, day: datetime.date | None = None) -> set[int]:
    """Client organisations of `firm` the adviser serves today (`served_client_ids`)."""
    return served_client_ids(user, firm=firm, day=day)
