"""Validation of names and dates: the short names that become part of host names, the one rule
for every name a person types (firm, client organisation, a person's full name, a case theme),
and the one range for dates typed into a form or an operator command, on the web and in the
operator commands alike."""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Any, Literal, overload

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# Labels that would shadow infrastructure or confuse users if a firm or client took them.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "app",
        "static",
        "media",
        "mail",
        "smtp",
        "imap",
        "ftp",
        "console",
        "login",
        "auth",
        "accounts",
        "billing",
        "status",
        "help",
        "support",
        "docs",
        "assets",
        "cdn",
        "public",
        "template",
        "test",
        "localhost",
        "healthz",
        "readyz",
    }
)

NAME_MAX_CHARS = 200  # Firm.name, ClientOrganisation.name
FULL_NAME_MAX_CHARS = 150  # User.full_name

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def validate_slug_label(value: str) -> None:
    """Refuse anything that is not a lower-case DNS label of 2 to 40 characters, or is reserved."""
    if not isinstance(value, str) or not _LABEL.match(value) or len(value) < 2:
        raise ValidationError(
            _(
                "Use 2 to 40 lower-case letters, digits or hyphens, not starting or ending with a hyphen."
            ),
            code="invalid_slug",
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is reserved."), code="reserved_slug", params={"slug": value}
        )


# Control, format (zero-width, bidi overrides), surrogate and private-use characters: invisible
# on a page, and some make an XLSX export fail (openpyxl refuses control characters).
_INVISIBLE = {"Cc", "Cf", "Cs", "Co"}


def has_invisible(text: str) -> bool:
    """Whether `text` holds a control or invisible character (white space between words aside:
    callers tidy that first). Also asked by the operator commands for every text argument."""
    return any(unicodedata.category(character) in _INVISIBLE for character in text)


def name_clean(value: Any, *, field: str, limit: int, required: bool = True) -> str:
    """The name as it is stored: NFC, runs of white space as one space, trimmed.

    Refuses (ValidationError keyed by `field`) an empty name when `required`, invisible or
    control characters (a name of zero-width spaces only among them) and names longer than
    `limit` characters. Callers: firm and client creation and change, invitations and
    `create_user`, sign-up, a person's own preferences, case themes (`tenants.themes`).
    """
    text = " ".join(unicodedata.normalize("NFC", str(value or "")).split())
    if has_invisible(text):
        raise ValidationError(
            {field: _("Remove the invisible or control characters.")},
            code="invisible",
        )
    if required and not text:
        raise ValidationError({field: _("A name is required.")}, code="required")
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("A name can have at most %(limit)s characters; this one has %(length)s.")
                # Grouped in the reader's language: 10.000 in Dutch, 10,000 in English.
                % {
                    "limit": number_format(limit, force_grouping=True),
                    "length": number_format(len(text), force_grouping=True),
                }
            },
            code="too_long",
        )
    return text


# Dates a person types (contract, assignment, billing, certificates): a wider range is a typing
# error (0001-01-01, 9999-12-31), and far ends overflow date arithmetic further on.
DATE_YEARS_AROUND_TODAY = 50


def date_bounds(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The first and last date accepted: 1 January fifty years ago to 31 December fifty years on
    (whole years, so 29 February never makes the bound itself invalid)."""
    today = today or timezone.localdate()
    return (
        datetime.date(today.year - DATE_YEARS_AROUND_TODAY, 1, 1),
        datetime.date(today.year + DATE_YEARS_AROUND_TODAY, 12, 31),
    )


def validate_date_in_range(value: datetime.date | None) -> None:
    """The one date range, as a form field validator (forms) and through `date_clean`
    (services, operator commands). `None` (an empty optional field) passes."""
    if value is None:
        return
    low, high = date_bounds()
    if not low <= value <= high:
        raise ValidationError(
            _("Enter a date within fifty years of today."), code="date_out_of_range"
        )


@overload
def date_clean(value: Any, *, field: str, required: Literal[True]) -> datetime.date: ...


@overload
def date_clean(value: Any, *, field: str, required: bool = False) -> datetime.date | None: ...


def date_clean(value: Any, *, field: str, required: bool = False) -> datetime.date | None:
    """A date as a service takes it: a `datetime.date` (not a datetime) inside `date_bounds`,
    or None when not `required`. Refusals are keyed by `field`."""
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("Enter a date.")}, code="required")
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationError({field: _("Enter a valid date.")}, code="invalid")
    try:
        validate_date_in_range(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}, code="date_out_of_range") from None
    return value
