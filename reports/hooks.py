"""Keep the portfolio rollups in step with case changes.

Why signals here, against the house rule: case handling (`cases.services`) is written by
another work stream, and every path that changes a counted fact (a case, its themes, a
referral, time) must request a rebuild. The receivers only call `rollup_request()`, which is
debounced and runs after commit; no business logic lives in them. The nightly rebuild catches
anything that bypasses the ORM (bulk updates).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

_CONNECTED = False


def _changed(sender: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures
    from reports.rollups import rollup_request

    rollup_request()


def connect() -> None:
    """Connect the receivers once (AppConfig.ready)."""
    global _CONNECTED
    if _CONNECTED:
        return
    from cases.models import Case, Referral, TimeEntry

    for model in (Case, Referral, TimeEntry):
        post_save.connect(
            _changed, sender=model, dispatch_uid=f"reports-rollup-save-{model.__name__}"
        )
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"reports-rollup-delete-{model.__name__}"
        )
    m2m_changed.connect(_changed, sender=Case.themes.through, dispatch_uid="reports-rollup-themes")
    _CONNECTED = True
