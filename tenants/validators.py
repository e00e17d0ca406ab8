"""Validation of the names that become part of host names."""

from __future__ import annotations

import re

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
