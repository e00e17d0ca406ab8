"""Dates as each language writes them, for every template (a builtin library, see settings).

Django's `date` filter writes the `M` format (a month's short name) with a capital everywhere:
"26 Nov 2026". Dutch writes month names in lower case ("26 nov 2026"), so a Dutch page showed an
English-looking date. `local_date` takes the same format strings and, in a language that writes
months in lower case, uses Django's `b` (the lower-case short name) for `M`.
"""

from __future__ import annotations

import datetime as dt
import re

from django import template
from django.template.defaultfilters import date as django_date
from django.utils import translation

register = template.Library()

LOWER_CASE_MONTHS = frozenset({"nl"})
_UNESCAPED_M = re.compile(r"(?<!\\)M")


def month_format(format_string: str, language: str | None) -> str:
    """`format_string` with every unescaped `M` as `b` where `language` writes months in lower
    case; unchanged otherwise. "Unescaped" as Django's own format parser reads it (no backslash
    just before: `django.utils.dateformat.re_formatchars`)."""
    if (language or "").split("-")[0] not in LOWER_CASE_MONTHS:
        return format_string
    return _UNESCAPED_M.sub("b", format_string)


@register.filter(expects_localtime=True, is_safe=False)
def local_date(value: dt.date | dt.datetime | None, format_string: str) -> str:
    """Like `|date:"j M Y"`, with the month's short name as the active language writes it."""
    return django_date(value, month_format(format_string, translation.get_language()))
