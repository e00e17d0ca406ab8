"""Validation of names: the short names that become part of host names, and the one rule for
every name a person types (firm, client organisation, a person's full name), on the web and in
the operator commands alike."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
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


def name_clean(value: Any, *, field: str, limit: int, required: bool = True) -> str:
    """The name as it is stored: NFC, runs of white space as one space, trimmed.

    Refuses (ValidationError keyed by `field`) an empty name when `required`, invisible or
    control characters (a name of zero-width spaces only among them) and names longer than
    `limit` characters. Callers: firm and client creation and change, invitations and
    `create_user`, sign-up, a person's own preferences.
    """
    text = " ".join(unicodedata.normalize("NFC", str(value or "")).split())
    if any(unicodedata.category(character) in _INVISIBLE for character in text):
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
                % {"limit": limit, "length": len(text)}
            },
            code="too_long",
        )
    return text
