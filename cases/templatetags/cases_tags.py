"""Small template helpers for case pages."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()

SOON_DAYS = 7


@register.filter
def person_name(people: dict[int, Any], user_id: int | None) -> str:
    """The name of a user in `people` (from selectors.people_by_id), or an em dash."""
    person = people.get(user_id) if user_id else None
    if person is None:
        return "—"
    return person.get_full_name() or person.email


@register.filter
def due_state(day: datetime.date | None, today: datetime.date | None = None) -> str:
    """ "overdue", "soon" (within a week) or "later", for styling a deadline."""
    if day is None:
        return ""
    today = today or timezone.localdate()
    if day < today:
        return "overdue"
    if day <= today + datetime.timedelta(days=SOON_DAYS):
        return "soon"
    return "later"


@register.filter
def hours(minutes: int | None) -> str:
    """Minutes as hours and minutes, e.g. 95 → "1:35"."""
    minutes = minutes or 0
    return f"{minutes // 60}:{minutes % 60:02d}"
