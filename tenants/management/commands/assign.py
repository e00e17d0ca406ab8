"""Assign an external adviser to a client organisation for a period.

    manage.py assign --firm acme --client zorggroep-noord --adviser a@acme.nl --kind backup \\
        --from 2025-01-01 --until 2025-12-31
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from tenants import services
from tenants.management.commands._common import (
    OperatorCommand,
    client_get,
    firm_get,
    parse_date,
    refusing,
    user_get,
)
from tenants.models import Assignment
from tenants.trail import Operator

OPTION_NAMES = {"kind": "--kind", "starts_on": "--from", "ends_on": "--until"}


class Command(OperatorCommand):
    help = (
        "Assign an adviser of the firm to one of its clients (primary or backup) for a period. "
        "Changes nothing on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firm", required=True, help="Short name of the firm.")
        parser.add_argument("--client", required=True, help="Short name of the client.")
        parser.add_argument("--adviser", required=True, help="E-mail address of the adviser.")
        parser.add_argument(
            "--kind", choices=Assignment.Kind.values, default=Assignment.Kind.PRIMARY
        )
        parser.add_argument(
            "--from", dest="starts_on", type=parse_date, help="YYYY-MM-DD (default today)."
        )
        parser.add_argument(
            "--until", dest="ends_on", type=parse_date, help="YYYY-MM-DD, last day (default open)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        firm = firm_get(options["firm"])
        client = client_get(firm, options["client"])
        adviser = user_get(options["adviser"])
        with refusing(OPTION_NAMES):
            assignment = services.assignment_create(
                actor=Operator("assign"),
                client=client,
                adviser=adviser,
                kind=options["kind"],
                starts_on=options["starts_on"],
                ends_on=options["ends_on"],
            )
        until = assignment.ends_on.isoformat() if assignment.ends_on else "open end"
        self.stdout.write(
            self.style.SUCCESS(
                f"Assigned {adviser.email} to {firm.slug}/{client.slug} as {assignment.kind}, "
                f"{assignment.starts_on.isoformat()} to {until}."
            )
        )
