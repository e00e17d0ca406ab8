"""Shared parsing and error handling for the operator commands (not a command: leading `_`)."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.models import User
from tenants.models import ClientOrganisation, Firm
from tenants.validators import date_bounds, has_invisible, validate_date_in_range


def parse_date(value: str) -> datetime.date:
    """Parse a strict YYYY-MM-DD date for argparse (fromisoformat also takes week dates etc.)
    inside the one date range of forms and services (`tenants.validators.date_bounds`)."""
    try:
        day = datetime.datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"“{value}” is not a date in the form YYYY-MM-DD."
        ) from None
    try:
        validate_date_in_range(day)
    except ValidationError:
        low, high = date_bounds()
        raise argparse.ArgumentTypeError(
            f"{value} is not within fifty years of today ({low} to {high})."
        ) from None
    return day


def check_range(value: int, *, option: str, low: int, high: int) -> None:
    """Refuse a number outside `low..high` (also when call_command skipped argparse types)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CommandError(f"{option}: give a whole number from {low} to {high} (got {value!r}).")


def describe(error: ValidationError, option_names: Mapping[str, str] | None = None) -> str:
    """Flatten a ValidationError into one line, naming fields by the command's options."""
    option_names = option_names or {}
    if hasattr(error, "error_dict"):
        parts = []
        for field, messages in error.message_dict.items():
            label = option_names.get(field, field)
            text = " ".join(messages)
            parts.append(text if field == "__all__" else f"{label}: {text}")
        return "; ".join(parts)
    return " ".join(error.messages)


@contextmanager
def refusing(option_names: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a service's ValidationError into a CommandError (non-zero exit, nothing written)."""
    try:
        yield
    except ValidationError as error:
        raise CommandError(describe(error, option_names)) from None


class OperatorCommand(BaseCommand):
    """A command for platform operators: English output, whatever the default UI language.

    Every text argument (names, short names, addresses, paths, confirmations) is refused when it
    holds a control or invisible character, by the rule the web's names follow
    (`tenants.validators.has_invisible`): a NUL would reach PostgreSQL as a traceback, and a
    look-up can never match such a value anyway.
    """

    def execute(self, *args: Any, **options: Any) -> str | None:
        # Service messages are translated; operators get the same language as the rest of
        # the command's output rather than a mix.
        with translation.override("en"):
            self._refuse_invisible(args, options)
            return super().execute(*args, **options)

    def _refuse_invisible(self, args: tuple[Any, ...], options: Mapping[str, Any]) -> None:
        flags = {
            action.dest: (action.option_strings or [action.dest])[-1]
            for action in self.create_parser("manage.py", "command")._actions
        }
        values = [(flags.get(dest, dest), value) for dest, value in options.items()]
        values += [(str(position), value) for position, value in enumerate(args, start=1)]
        for flag, value in values:
            # White space is tidied by the services (a tab between words is no error).
            if isinstance(value, str) and has_invisible(" ".join(value.split())):
                raise CommandError(f"{flag}: Remove the invisible or control characters.")


def firm_get(slug: str) -> Firm:
    firm = Firm.objects.filter(slug=(slug or "").strip().lower()).first()
    if firm is None:
        raise CommandError(f"There is no firm with the short name “{slug}”.")
    return firm


def client_get(firm: Firm, slug: str) -> ClientOrganisation:
    client = ClientOrganisation.objects.filter(firm=firm, slug=(slug or "").strip().lower()).first()
    if client is None:
        raise CommandError(f"Firm “{firm.slug}” has no client with the short name “{slug}”.")
    return client


def user_get(email: str) -> User:
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    if user is None:
        raise CommandError(f"There is no user with the e-mail address “{email}”.")
    return user


def check_length(value: str, *, option: str, limit: int) -> None:
    """Refuse an over-long value with a message instead of truncating or a database error."""
    if len(value) > limit:
        raise CommandError(f"{option}: at most {limit} characters (got {len(value)}).")
