"""Rotate encryption keys (see tenants/crypto.py).

    # 1. After setting a new MASTER_KEY (the old one moved to MASTER_KEY_PREVIOUS):
    manage.py rotate_keys --rewrap
    #    then remove MASTER_KEY_PREVIOUS from the environment.

    # 2. Give one client (or every client) a fresh data key and re-encrypt its texts:
    manage.py rotate_keys --new-data-key --firm acme --client zorggroep-noord
    manage.py rotate_keys --new-data-key --all

`--rewrap` unwraps each client's data key with whichever master key opens it and wraps it again
with the current one; the texts themselves do not change, so it is safe while the site runs.

`--new-data-key` decrypts every encrypted column of the client's schema with the old data key
and writes it again under a new one, in one transaction per client (the client's rows are
locked meanwhile, and everything rolls back on any failure). Other processes cache data keys:
run it in a maintenance window, or restart web and worker processes right after.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from tenants import crypto
from tenants.fields import EncryptedTextField
from tenants.management.commands._common import OperatorCommand, client_get, firm_get
from tenants.models import ClientOrganisation


def encrypted_columns() -> list[tuple[Any, list[EncryptedTextField]]]:
    """(model, encrypted fields) for every tenant-schema model that has encrypted columns."""
    tenant_apps = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    result = []
    for model in apps.get_models():
        if model._meta.app_label not in tenant_apps or model._meta.proxy:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            result.append((model, fields))
    return result


def rewrap(client: ClientOrganisation) -> bool:
    """Wrap the client's data key with the current master key; False when it has none."""
    with transaction.atomic():
        locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
        wrapped = bytes(locked.wrapped_data_key)
        if not wrapped:
            return False
        key = crypto.unwrap_data_key(wrapped, locked.schema_name)
        ClientOrganisation.objects.filter(pk=locked.pk).update(
            wrapped_data_key=crypto.wrap_data_key(key, locked.schema_name)
        )
    return True


def reencrypt(client: ClientOrganisation) -> int:
    """Give the client a new data key and re-encrypt all its texts; returns the values written."""
    schema = client.schema_name
    written = 0
    try:
        with transaction.atomic(), tenant_context(client):
            ClientOrganisation.objects.select_for_update().filter(pk=client.pk).first()
            crypto.forget_data_key(schema)
            plain: list[tuple[Any, str, str, list[tuple[Any, list[str | None]]]]] = []
            for model, fields in encrypted_columns():
                table = connection.ops.quote_name(model._meta.db_table)
                columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
                key = connection.ops.quote_name(model._meta.pk.column)
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {key}, {columns} FROM {table} FOR UPDATE")  # noqa: S608
                    rows = [
                        (
                            row[0],
                            [
                                crypto.decrypt_text(
                                    bytes(value), schema_name=schema, purpose=field._purpose()
                                )
                                if value is not None
                                else None
                                for field, value in zip(fields, row[1:], strict=True)
                            ],
                        )
                        for row in cursor.fetchall()
                    ]
                plain.append((model, table, key, rows))
            ClientOrganisation.objects.filter(pk=client.pk).update(
                wrapped_data_key=crypto.new_wrapped_data_key(schema)
            )
            crypto.forget_data_key(schema)  # the next use reads the new key in this transaction
            for model, table, key, rows in plain:
                fields = dict(encrypted_columns())[model]
                assignments = ", ".join(
                    f"{connection.ops.quote_name(f.column)} = %s" for f in fields
                )
                with connection.cursor() as cursor:
                    for pk, values in rows:
                        sealed = [
                            crypto.encrypt_text(value, schema_name=schema, purpose=field._purpose())
                            if value is not None
                            else None
                            for field, value in zip(fields, values, strict=True)
                        ]
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {key} = %s",  # noqa: S608
                            [*sealed, pk],
                        )
                        written += len(fields)
    finally:
        # Whether committed or rolled back, the cached key may be the wrong one now.
        crypto.forget_data_key(schema)
    return written


class Command(OperatorCommand):
    help = (
        "Rewrap data keys under the current MASTER_KEY, or re-encrypt clients with new data keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--rewrap", action="store_true", help="Rewrap every data key (or --client's)."
        )
        action.add_argument(
            "--new-data-key", action="store_true", help="New data key, texts re-encrypted."
        )
        parser.add_argument("--firm", help="Short name of the firm (with --client).")
        parser.add_argument("--client", help="Short name of one client organisation.")
        parser.add_argument(
            "--all", action="store_true", help="Every client (with --new-data-key)."
        )

    def _clients(self, options: dict[str, Any]) -> list[ClientOrganisation]:
        if options["client"]:
            if not options["firm"]:
                raise CommandError("--client needs --firm.")
            return [client_get(firm_get(options["firm"]), options["client"])]
        if options["new_data_key"] and not options["all"]:
            raise CommandError("--new-data-key needs --firm and --client, or --all.")
        return list(
            ClientOrganisation.objects.exclude(schema_name="public")
            .exclude(wrapped_data_key=b"")
            .order_by("pk")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clients = self._clients(options)
        crypto.master_keys.cache_clear()
        if options["rewrap"]:
            done = sum(1 for client in clients if rewrap(client))
            crypto.forget_data_key()
            self.stdout.write(f"Rewrapped {done} data key(s) under the current master key.")
            return
        total = 0
        for client in clients:
            if not bytes(client.wrapped_data_key):
                self.stderr.write(f"{client.slug}: no data key (offboarded?); skipped.")
                continue
            total += reencrypt(client)
            self.stdout.write(f"{client.firm.slug}/{client.slug}: new data key.")
        self.stdout.write(
            f"Re-encrypted {total} value(s) in {len(clients)} client organisation(s)."
        )
