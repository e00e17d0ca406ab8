"""The firm's audit trail (`tenants.models.TrailEntry`): who granted, removed or widened access,
or changed a confidentiality setting, when, and for whom.

Every service that makes such a change takes `actor` as a required keyword: a `User` acting
through the site, or an `Operator` (a management command, named). It calls `trail_write` in its
own transaction, once, after its checks passed: a refused change writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from tenants.models import TrailEntry

if TYPE_CHECKING:
    from accounts.models import User

Action = TrailEntry.Action


@dataclass(frozen=True)
class Operator:
    """An operator acting through a management command (no person signed in)."""

    command: str
    pk: None = None
    email: str = ""
    is_authenticated: bool = False


# Who changes access: a person through the site, or an operator command. Services that grant,
# remove or widen access take `actor: Actor`.
Actor: TypeAlias = "User | Operator"


def actor_label(actor: Actor) -> str:
    if isinstance(actor, Operator):
        return f"operator command {actor.command}"
    return getattr(actor, "email", "") or "?"


def trail_write(
    *,
    actor: Actor,
    action: str,
    firm_id: int | None,
    client: Any = None,
    subject: Any = None,
    detail: str = "",
) -> TrailEntry:
    """Append one row to the trail (one INSERT). Call inside the change's transaction."""
    if actor is None:
        raise ValueError("The trail needs an actor: a user or tenants.trail.Operator(command).")
    operator = isinstance(actor, Operator)
    return TrailEntry.objects.create(
        firm_id=firm_id,
        actor_id=None if operator else actor.pk,
        actor_email="" if operator else (actor.email or ""),
        operator_command=actor.command[:60] if operator else "",
        action=action,
        client_id=getattr(client, "pk", None),
        client_name=(getattr(client, "name", "") or "")[:200],
        subject_id=getattr(subject, "pk", None),
        subject_email=(getattr(subject, "email", "") or "")[:254],
        detail=detail[:300],
    )
