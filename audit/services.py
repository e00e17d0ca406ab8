from __future__ import annotations

from typing import Any, Protocol

from audit.labels import note_encode
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
    """Append one row to the current tenant's access log (causes one INSERT).

    The note is stored as a code with its values (`audit.labels.note_encode`), so the page says
    it in the reader's language without reading the English phrase again."""
    detail = detail[:200]
    note, note_params = note_encode(detail, object_type=object_type)
    return AccessLogEntry.objects.create(
        actor_id=getattr(actor, "pk", None),
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        object_type=object_type,
        object_reference=object_reference[:40],
        detail=detail,
        note=note,
        note_params=note_params or None,
    )
