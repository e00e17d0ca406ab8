from __future__ import annotations

from typing import Any

from audit.models import AccessLogEntry


def access_log_write(
    *, actor: Any, action: str, object_type: str, object_reference: str, detail: str = ""
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
