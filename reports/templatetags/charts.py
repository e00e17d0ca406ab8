"""`{% chart figure_json title %}`: a figure as inline SVG (reports.chart_svg), or a note when
every value is hidden."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from reports.chart_svg import svg_of

register = template.Library()


@register.simple_tag
def chart(figure_json: str, title: str) -> SafeString:
    svg = svg_of(figure_json, label=str(title))
    if svg is None:
        return format_html(
            '<p class="chart-empty">{}</p>',
            _("Too few contacts to draw this chart. The table shows what can be shown."),
        )
    # Built from escaped text and numbers only (reports.chart_svg).
    return mark_safe(f'<div class="chart">{svg}</div>')  # noqa: S308
