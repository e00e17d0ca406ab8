"""Create a client organisation of a firm, with its own schema.

    manage.py create_client --firm acme --slug zorggroep-noord --name "Zorggroep Noord" \\
        --employees 420 --sector healthcare --country NL --contract-start 2025-01-01
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from saas import hosts
from tenants import services
from tenants.management.commands._common import OperatorCommand, firm_get, parse_date, refusing
from tenants.models import ClientOrganisation
from tenants.trail import Operator

OPTION_NAMES = {
    "slug": "--slug",
    "name": "--name",
    "employee_count": "--employees",
    "sector": "--sector",
    "country": "--country",
    "contract_starts_on": "--contract-start",
    "contract_ends_on": "--contract-end",
}


class Command(OperatorCommand):
    help = (
        "Create a client organisation (cloning its schema from the template) and print its "
        "address and schema name. Changes nothing on bad input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firm", required=True, help="Short name of the firm.")
        parser.add_argument("--slug", required=True, help="Short name, part of the client's host.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--employees", type=int, required=True, help="Number of employees.")
        parser.add_argument(
            "--sector",
            choices=ClientOrganisation.Sector.values,
            default=ClientOrganisation.Sector.OTHER,
        )
        parser.add_argument(
            "--country",
            choices=ClientOrganisation.Country.values,
            default=ClientOrganisation.Country.NETHERLANDS,
            help="NL or BE: which legal rules apply (default NL).",
        )
        parser.add_argument("--contract-start", type=parse_date, help="YYYY-MM-DD (default today).")
        parser.add_argument("--contract-end", type=parse_date, help="YYYY-MM-DD (default open).")

    def handle(self, *args: Any, **options: Any) -> None:
        firm = firm_get(options["firm"])
        starts_on = options["contract_start"] or timezone.localdate()
        ends_on = options["contract_end"]
        if ends_on is not None and ends_on < starts_on:
            # The model's check constraint would say so too, but only by its name.
            raise CommandError(f"The contract ends ({ends_on}) before it starts ({starts_on}).")
        with refusing(OPTION_NAMES):
            client = services.client_create(
                actor=Operator("create_client"),
                firm=firm,
                slug=options["slug"],
                name=options["name"],
                employee_count=options["employees"],
                sector=options["sector"],
                country=options["country"],
                contract_starts_on=starts_on,
                contract_ends_on=ends_on,
            )
        host = client.domains.get(is_primary=True).domain
        self.stdout.write(self.style.SUCCESS(f"Created client “{client.name}” of {firm.slug}."))
        self.stdout.write(f"URL:    {hosts.absolute_url(host)}")
        self.stdout.write(f"Host:   {host}")
        self.stdout.write(f"Schema: {client.schema_name}")
