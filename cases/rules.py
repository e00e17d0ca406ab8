"""Limits and date rules shared by forms and services, so both refuse the same input alike."""

from __future__ import annotations

import calendar
import datetime
import re
from typing import Literal, overload

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from tenants.dates import years_later

# A conversation summary of a few pages is long; anything far beyond is a paste accident.
MAX_TEXT_CHARS = 20_000
# Control characters other than tab and line breaks (pasted binary, terminal escapes): refused
# in every free text of a case, as the register of acts by third parties does.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_SHORT_TEXT_CHARS = 500
MAX_CONVERSATION_MINUTES = 8 * 60
MAX_TIME_ENTRY_MINUTES = 12 * 60
MAX_BACKDATE_YEARS = 5
MAX_PLAN_AHEAD_DAYS = 366
MAX_FOLLOWUP_AHEAD_DAYS = 2 * 366


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, clipped to a shorter month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def text(
    value: str | None, *, field: str, required: bool = False, limit: int = MAX_TEXT_CHARS
) -> str:
    """Strip a free text and refuse it when missing (if required), when it holds a control
    character, or when it is longer than `limit`."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if CONTROL_CHARACTERS.search(value):
        raise ValidationError({field: _("This text contains control characters; remove them.")})
    if len(value) > limit:
        raise ValidationError(
            {
                field: _(
                    "This text is too long: at most %(limit)s characters, this one has %(length)s."
                )
                # Grouped in the reader's language: 20.000 in Dutch, 20,000 in English.
                % {
                    "limit": number_format(limit, force_grouping=True),
                    "length": number_format(len(value), force_grouping=True),
                }
            }
        )
    return value


@overload
def past_date(
    value: datetime.date | None,
    *,
    field: str,
    not_before: datetime.date | None = None,
    required: Literal[True] = True,
) -> datetime.date: ...


@overload
def past_date(
    value: datetime.date | None,
    *,
    field: str,
    not_before: datetime.date | None = None,
    required: bool,
) -> datetime.date | None: ...


def past_date(
    value: datetime.date | None,
    *,
    field: str,
    not_before: datetime.date | None = None,
    required: bool = True,
) -> datetime.date | None:
    """A date that happened: not in the future and not before `not_before` (the case's opening)."""
    if value is None:
        if required:
            raise ValidationError({field: _("Enter a date.")})
        return None
    today = timezone.localdate()
    if value > today:
        raise ValidationError({field: _("This date is in the future.")})
    if not_before is not None and value < not_before:
        raise ValidationError(
            {
                field: _("This date is before the case was opened (%(date)s).")
                % {"date": not_before.isoformat()}
            }
        )
    if value < years_later(today, -MAX_BACKDATE_YEARS):
        raise ValidationError(
            {
                field: _("This date is more than %(years)s years ago.")
                % {"years": MAX_BACKDATE_YEARS}
            }
        )
    return value


@overload
def planned_date(
    value: datetime.date, *, field: str, ahead_days: int, not_before: datetime.date | None = None
) -> datetime.date: ...


@overload
def planned_date(
    value: datetime.date | None,
    *,
    field: str,
    ahead_days: int,
    not_before: datetime.date | None = None,
) -> datetime.date | None: ...


def planned_date(
    value: datetime.date | None,
    *,
    field: str,
    ahead_days: int,
    not_before: datetime.date | None = None,
) -> datetime.date | None:
    """A date to plan for: from `not_before` (today by default) up to `ahead_days` from today."""
    if value is None:
        return None
    today = timezone.localdate()
    earliest = not_before or today
    if value < earliest:
        raise ValidationError(
            {field: _("Choose a date from %(date)s on.") % {"date": earliest.isoformat()}}
        )
    if value > today + datetime.timedelta(days=ahead_days):
        raise ValidationError(
            {field: _("Choose a date within %(days)s days from today.") % {"days": ahead_days}}
        )
    return value


def minutes(value: int | None, *, field: str, maximum: int) -> int:
    """A duration in whole minutes from 1 to `maximum`."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: _("Enter the number of minutes.")})
    if not 1 <= value <= maximum:
        raise ValidationError(
            {field: _("Enter between 1 and %(maximum)s minutes.") % {"maximum": maximum}}
        )
    return value


def choice(value: str | None, *, field: str, choices: list[str], required: bool = True) -> str:
    value = value or ""
    if not value and not required:
        return ""
    if value not in choices:
        raise ValidationError({field: _("Choose one of the options.")})
    return value
