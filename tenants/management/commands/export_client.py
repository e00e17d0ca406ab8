"""Export one client organisation (its schema and public rows) to one file.

    manage.py export_client --firm acme --slug zorggroep-noord --output /backups/zorggroep.vtar.gz
    manage.py export_client --schema c_ab12cd34ef56 --output /backups/c_ab12cd34ef56.vtar.gz

Reads one consistent snapshot (the client can stay in use meanwhile). The file is written under
a temporary name and renamed when complete; an existing file is never overwritten. The texts
in it that identify people stay encrypted with the client's data key. See tenants.transfer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from tenants.management.commands._common import OperatorCommand, client_get, firm_get
from tenants.models import ClientOrganisation
from tenants.trail import Operator
from tenants.transfer import TransferError, client_export


class Command(OperatorCommand):
    help = "Export a client organisation's schema and public rows to one file (tenants.transfer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--firm", help="Short name of the firm (with --slug).")
        parser.add_argument("--slug", help="Short name of the client (with --firm).")
        parser.add_argument("--schema", help="Or: the client's schema name.")
        parser.add_argument("--output", required=True, help="File to write (must not exist).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schema"]:
            if options["firm"] or options["slug"]:
                raise CommandError("Give either --schema or --firm with --slug, not both.")
            client = ClientOrganisation.objects.filter(schema_name=options["schema"]).first()
            if client is None:
                raise CommandError(f"No client organisation has the schema {options['schema']!r}.")
        elif options["firm"] and options["slug"]:
            client = client_get(firm_get(options["firm"]), options["slug"])
        else:
            raise CommandError("Name the client: --firm and --slug, or --schema.")
        try:
            summary = client_export(
                actor=Operator("export_client"), client=client, path=Path(options["output"])
            )
        except TransferError as error:
            raise CommandError(str(error)) from None
        rows = sum(table.rows for table in summary.tables)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {summary.client} (schema {summary.schema_name}): "
                f"{len(summary.tables)} tables, {rows} rows, to {summary.path}."
            )
        )
        if int(options["verbosity"]) >= 2:
            for table in summary.tables:
                self.stdout.write(f"  {table.name}: {table.rows} rows, sha256 {table.sha256}")
            for name, count in summary.public_rows.items():
                self.stdout.write(f"  public {name}: {count}")
