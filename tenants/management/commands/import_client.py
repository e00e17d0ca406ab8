"""Import a client organisation from an export_client file, into this database.

    manage.py import_client /backups/zorggroep.vtar.gz

Restores a removed client, or moves one here from another database or cluster (same release).
Refuses, changing nothing, a missing or damaged file, an export of another release, a client
whose schema, short name or host exists here, users whose ids collide, and a data key that no
configured master key opens. Every table is verified (rows and checksum) before the one
transaction commits. See tenants.transfer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from tenants.management.commands._common import OperatorCommand
from tenants.trail import Operator
from tenants.transfer import TransferError, client_import


class Command(OperatorCommand):
    help = "Import a client organisation exported with export_client (tenants.transfer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The export file.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = client_import(actor=Operator("import_client"), path=Path(options["path"]))
        except TransferError as error:
            raise CommandError(str(error)) from None
        rows = sum(table.rows for table in summary.tables)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.client} (schema {summary.schema_name}): "
                f"{len(summary.tables)} tables and {rows} rows, every table verified."
            )
        )
        if int(options["verbosity"]) >= 2:
            for table in summary.tables:
                self.stdout.write(f"  {table.name}: {table.rows} rows, sha256 {table.sha256}")
            for name, count in summary.public_rows.items():
                self.stdout.write(f"  public {name}: {count}")
