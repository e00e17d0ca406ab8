from __future__ import annotations

from typing import Any, Protocol

from audit.models import AccessLogEntry


class LogActor(Protocol):
    """Who the access log names: a person (`accounts.User`) or a scheduled job
    (`cases.services.SystemActor`, no id). None is "nobody signed in" (a reporter by key, a
    retention job without a name)."""

    @property
    def pk(self) -> Any: ...

    @property
    def email(self) -> str: ...


def access_log_write(
    *,
    actor: LogActor | None,
    action: str,
    object_type: str,
    object_reference: str,
    detail: str = "",
) -> AccessLogEntry:
    """Append one row to the current tenant's access log (causes one INSERT)."""
    return AccessLogEntry.objects.create(
        actor_id=getattr(actor, "pk", None),
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        object_type=object_type,
        object_reference=object_reference[:40],
        detail=detail[:200],
    )
