"""`{% intake_my_day_section %}`: the intake part of an adviser's "my day" page."""

from __future__ import annotations

from typing import Any

from django import template

from intake.my_day import intake_my_day

register = template.Library()


@register.inclusion_tag("intake/_my_day.html", takes_context=True)
def intake_my_day_section(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    return {
        "intake_items": intake_my_day(
            request.user, firm=getattr(request, "firm", None), request=request
        )
    }
