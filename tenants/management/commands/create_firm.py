"""Create an advisory firm.

manage.py create_firm --slug acme --name "Acme Vertrouwenspersonen" --anonymity-threshold 5
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from tenants import services
from tenants.management.commands._common import OperatorCommand, refusing
from tenants.trail import Operator

OPTION_NAMES = {
    "slug": "--slug",
    "name": "--name",
    "anonymity_threshold": "--anonymity-threshold",
    "retention_months": "--retention-months",
}


class Command(OperatorCommand):
    help = "Create an advisory firm (the paying customer). Changes nothing on bad input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--slug", required=True, help="Short name, part of every client's host."
        )
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--anonymity-threshold",
            type=int,
            default=5,
            help="k: counts below this are never shown to clients (3..50, default 5).",
        )
        parser.add_argument(
            "--retention-months",
            type=int,
            default=12,
            help="Months a closed case is kept before its narrative is destroyed (0..120).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with refusing(OPTION_NAMES):
            firm = services.firm_create(
                actor=Operator("create_firm"),
                slug=options["slug"],
                name=options["name"],
                anonymity_threshold=options["anonymity_threshold"],
                retention_months=options["retention_months"],
            )
        self.stdout.write(
            self.style.SUCCESS(f"Created firm “{firm.name}” ({firm.slug}).")
            + f" Anonymity threshold {firm.anonymity_threshold}, "
            f"retention {firm.retention_months} months."
        )
