"""`{% sparring_my_day_section %}`: the sparring part of an adviser's "my day" page."""

from __future__ import annotations

from typing import Any

from django import template

from sparring.my_day import sparring_my_day

register = template.Library()


@register.inclusion_tag("sparring/_my_day.html", takes_context=True)
def sparring_my_day_section(context: dict[str, Any]) -> dict[str, Any]:
    """Open and unread threads of the signed-in adviser's clients (four queries, public index)."""
    request = context["request"]
    return {"sparring_items": sparring_my_day(request.user, firm=request.firm, request=request)}
