"""Offboard a client organisation for good: destroy its data key and drop its schema.

    manage.py offboard_client --firm acme --client zorggroep-noord --confirm zorggroep-noord

Irreversible, so the short name must be given twice: once to find the client, once to confirm.
Export first (`export_client`) when the firm must keep anything.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from tenants import services
from tenants.management.commands._common import OperatorCommand, client_get, firm_get
from tenants.models import ClientOrganisation
from tenants.trail import Operator


class Command(OperatorCommand):
    help = (
        "Offboard a client organisation: destroy its data key, drop its schema, end its "
        "assignments. Cannot be undone; --confirm must repeat the client's short name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firm", required=True, help="Short name of the firm.")
        parser.add_argument("--client", required=True, help="Short name of the client.")
        parser.add_argument(
            "--confirm", required=True, help="The client's short name again, to confirm."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        firm = firm_get(options["firm"])
        client = client_get(firm, options["client"])
        if (options["confirm"] or "").strip().lower() != client.slug:
            raise CommandError(
                f"--confirm must repeat the short name “{client.slug}”; nothing was changed."
            )
        if client.status == ClientOrganisation.Status.OFFBOARDED:
            self.stdout.write(f"{firm.slug}/{client.slug} is offboarded already; nothing to do.")
            return
        services.client_offboard(actor=Operator("offboard_client"), client=client)
        self.stdout.write(
            self.style.SUCCESS(
                f"Offboarded {firm.slug}/{client.slug}: data key destroyed, schema "
                f"{client.schema_name} dropped, assignments ended."
            )
        )
