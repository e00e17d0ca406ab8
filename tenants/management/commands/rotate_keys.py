"""Rotate encryption keys (see tenants/crypto.py) while the site runs.

    # 1. After setting a new MASTER_KEY (the old one moved to MASTER_KEY_PREVIOUS):
    manage.py rotate_keys --rewrap
    #    then remove MASTER_KEY_PREVIOUS from the environment.

    # 2. Give one client (or every client) a fresh data key and re-encrypt its values:
    manage.py rotate_keys --new-data-key --firm acme --client zorggroep-noord
    manage.py rotate_keys --new-data-key --all
    #    wait at least 2 x DATA_KEY_CACHE_SECONDS (10 minutes by default), then destroy the old key:
    manage.py rotate_keys --purge-retired --firm acme --client zorggroep-noord
    manage.py rotate_keys --purge-retired --all

`--rewrap` unwraps each client's data keys, current and retired, with whichever master key opens
them and wraps them again with the current one; the values themselves do not change.

`--new-data-key` decrypts every encrypted value of the client's schema (texts and attachment
bytes) with any of the client's keys and writes it again under a new data key, in one
transaction per client (rows locked as they are rewritten; everything rolls back on any failure,
also when a value opens with no key). The old key is kept, wrapped, in `retired_data_keys`, and
`data_key_rotated_at` is set. Web and worker processes keep the old key cached for up to
DATA_KEY_CACHE_SECONDS: they read re-encrypted values at once (a cached key that does not open a
value is read again), and they may still write new values under the old key, which stay readable
because the old key is kept. No restart and no maintenance window are needed.

`--purge-retired` destroys the retired keys once no process can still write under one: it is
refused until 2 x DATA_KEY_CACHE_SECONDS after the client's last rotation (the margin covers a
request that took the key just before its cache entry expired). In one transaction per client it
re-encrypts under the current key every value that opens only with a retired key (written by a
process with a stale cache), reports values that no key opens (left as they are: no key that
could open them is destroyed) and empties `retired_data_keys`. Until the purge the old key still
exists; a rotation after a suspected leak is complete only after it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenants import crypto
from tenants.fields import EncryptedTextField
from tenants.management.commands._common import OperatorCommand, client_get, firm_get
from tenants.models import ClientOrganisation
from tenants.trail import Action, Operator, trail_write

# Byte columns sealed with `crypto.encrypt_bytes` under a purpose per row (the model's
# `purpose()`): no field type marks them, so they are named here to be rotated with the texts.
SEALED_BYTE_COLUMNS = {"sparring.Attachment": "content", "intake.Attachment": "content"}
# Rows decrypted and rewritten per query; attachments are up to 10 MB each.
_BATCH_ROWS = 200
_BATCH_ROWS_WITH_BYTES = 4


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


@dataclass(frozen=True)
class SealedColumn:
    model: Any
    column: str
    # Texts: one purpose per field. Bytes: None, bound per row by the model's `purpose()`.
    text_purpose: str | None = None

    @property
    def holds_bytes(self) -> bool:
        return self.text_purpose is None

    def purpose(self, pk: Any) -> str:
        if self.text_purpose is not None:
            return self.text_purpose
        return self.model(pk=pk).purpose()


def sealed_columns() -> list[tuple[Any, list[SealedColumn]]]:
    """(model, sealed columns) for every tenant-schema model: encrypted texts and bytes."""
    result: dict[Any, list[SealedColumn]] = {
        model: [SealedColumn(model, text.column, text._purpose()) for text in fields]
        for model, fields in encrypted_columns()
    }
    for label, field_name in SEALED_BYTE_COLUMNS.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        column = model._meta.get_field(field_name).column
        result.setdefault(model, []).append(SealedColumn(model, column))
    return list(result.items())


@dataclass
class Resealed:
    """What a pass over a client's values did."""

    written: int = 0  # values encrypted again
    # "table.column primary-key" of every value that no key opened
    unreadable: list[str] = field(default_factory=list)


def reseal(schema: str, *, keys: Sequence[bytes], new_key: bytes, keep_current: bool) -> Resealed:
    """Decrypt every sealed value of the current schema with `keys`; write it under `new_key`.

    With `keep_current`, values that `keys[0]` opens are left as they are. Values that no key
    opens are left as they are and listed in `unreadable`. Locks the rows it reads (FOR UPDATE).
    """
    result = Resealed()
    for model, columns in sealed_columns():
        table = connection.ops.quote_name(model._meta.db_table)
        key = connection.ops.quote_name(model._meta.pk.column)
        names = ", ".join(connection.ops.quote_name(c.column) for c in columns)
        batch = _BATCH_ROWS_WITH_BYTES if any(c.holds_bytes for c in columns) else _BATCH_ROWS
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {key} FROM {table} ORDER BY {key}")  # noqa: S608
            primary_keys = [pk for (pk,) in cursor.fetchall()]
            for start in range(0, len(primary_keys), batch):
                cursor.execute(
                    f"SELECT {key}, {names} FROM {table} WHERE {key} = ANY(%s) "  # noqa: S608
                    f"ORDER BY {key} FOR UPDATE",
                    [primary_keys[start : start + batch]],
                )
                for pk, *values in cursor.fetchall():
                    changed: dict[str, bytes] = {}
                    for column, value in zip(columns, values, strict=True):
                        if value is None:
                            continue
                        purpose = column.purpose(pk)
                        try:
                            position, plain = crypto.open_sealed(
                                bytes(value), keys=keys, schema_name=schema, purpose=purpose
                            )
                        except crypto.DecryptionError:
                            result.unreadable.append(f"{model._meta.db_table}.{column.column} {pk}")
                            continue
                        if keep_current and position == 0:
                            continue
                        changed[column.column] = crypto.seal(
                            plain, key=new_key, schema_name=schema, purpose=purpose
                        )
                    if changed:
                        assignments = ", ".join(
                            f"{connection.ops.quote_name(name)} = %s" for name in changed
                        )
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {key} = %s",  # noqa: S608
                            [*changed.values(), pk],
                        )
                        result.written += len(changed)
    return result


def rewrap(client: ClientOrganisation) -> bool:
    """Wrap the client's data keys (current and retired) with the current master key; False
    when it has none."""
    with transaction.atomic():
        locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
        wrapped = bytes(locked.wrapped_data_key)
        if not wrapped:
            return False
        schema = locked.schema_name
        ring = crypto.unwrap_key_ring(wrapped, bytes(locked.retired_data_keys), schema)
        ClientOrganisation.objects.filter(pk=locked.pk).update(
            wrapped_data_key=crypto.wrap_data_key(ring.current, schema),
            retired_data_keys=b"".join(crypto.wrap_data_key(key, schema) for key in ring.retired),
        )
        _trail(locked, "data keys rewrapped under the current master key")
    return True


def _trail(client: ClientOrganisation, detail: str) -> None:
    trail_write(
        actor=Operator("rotate_keys"),
        action=Action.KEY_ROTATION,
        firm_id=client.firm_id,
        client=client,
        detail=detail,
    )


def reencrypt(client: ClientOrganisation) -> int:
    """Give the client a new data key, keep the old one as retired and re-encrypt all its
    values; returns the values written. Refuses (CommandError, nothing changed) when a value
    opens with none of the client's keys."""
    schema = client.schema_name
    try:
        with transaction.atomic(), tenant_context(client):
            locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
            wrapped, retired = bytes(locked.wrapped_data_key), bytes(locked.retired_data_keys)
            ring = crypto.unwrap_key_ring(wrapped, retired, schema)
            new_key = crypto.new_data_key()
            # Other processes see the new key at commit; what they write under the old one until
            # their cache expires opens with it retired.
            ClientOrganisation.objects.filter(pk=client.pk).update(
                wrapped_data_key=crypto.wrap_data_key(new_key, schema),
                retired_data_keys=retired + wrapped,
                data_key_rotated_at=timezone.now(),
            )
            crypto.forget_data_key(schema)
            result = reseal(schema, keys=ring.keys, new_key=new_key, keep_current=False)
            if result.unreadable:
                raise CommandError(
                    f"{client.firm.slug}/{client.slug}: {len(result.unreadable)} value(s) open "
                    f"with no key of this client ({_listing(result.unreadable)}); nothing changed."
                )
            _trail(locked, f"new data key, {result.written} values re-encrypted")
    finally:
        # Whether committed or rolled back, the cached key may be the wrong one now.
        crypto.forget_data_key(schema)
    return result.written


def purge_allowed_from(client: ClientOrganisation) -> datetime.datetime | None:
    """When the client's retired keys may be destroyed: 2 x DATA_KEY_CACHE_SECONDS after its last
    rotation, when no process can still have one cached as its current key."""
    if client.data_key_rotated_at is None:
        return None
    return client.data_key_rotated_at + datetime.timedelta(
        seconds=2 * settings.DATA_KEY_CACHE_SECONDS
    )


def _too_early(client: ClientOrganisation, now: datetime.datetime) -> str | None:
    allowed_from = purge_allowed_from(client)
    if allowed_from is None or now >= allowed_from:
        return None
    return (
        f"{client.firm.slug}/{client.slug} (rotated {client.data_key_rotated_at:%Y-%m-%d %H:%M:%S}"
        f", purge from {allowed_from:%Y-%m-%d %H:%M:%S} UTC)"
    )


def purge_retired(client: ClientOrganisation) -> tuple[int, Resealed]:
    """Re-encrypt under the current key what opens only with a retired key, then destroy the
    retired keys: (keys destroyed, what was re-encrypted and what no key opens)."""
    schema = client.schema_name
    try:
        with transaction.atomic(), tenant_context(client):
            locked = ClientOrganisation.objects.select_for_update().get(pk=client.pk)
            retired = bytes(locked.retired_data_keys)
            if not retired:
                return 0, Resealed()
            waiting = _too_early(locked, timezone.now())
            if waiting:  # rotated again since the check before the transaction
                raise CommandError(f"Too early to purge the retired keys of {waiting}.")
            ring = crypto.unwrap_key_ring(bytes(locked.wrapped_data_key), retired, schema)
            result = reseal(schema, keys=ring.keys, new_key=ring.current, keep_current=True)
            ClientOrganisation.objects.filter(pk=client.pk).update(retired_data_keys=b"")
            _trail(locked, f"{len(ring.retired)} retired data key(s) destroyed")
    finally:
        crypto.forget_data_key(schema)
    return len(ring.retired), result


def _listing(items: list[str], shown: int = 20) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


class Command(OperatorCommand):
    help = (
        "Rewrap data keys under the current MASTER_KEY, re-encrypt clients with new data keys, "
        "or destroy the data keys retired by a re-encryption."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument(
            "--rewrap", action="store_true", help="Rewrap every data key (or --client's)."
        )
        action.add_argument(
            "--new-data-key", action="store_true", help="New data key, values re-encrypted."
        )
        action.add_argument(
            "--purge-retired",
            action="store_true",
            help="Destroy retired data keys (from 2 x DATA_KEY_CACHE_SECONDS after rotating).",
        )
        parser.add_argument("--firm", help="Short name of the firm (with --client).")
        parser.add_argument("--client", help="Short name of one client organisation.")
        parser.add_argument(
            "--all",
            action="store_true",
            help="Every client (with --new-data-key or --purge-retired).",
        )

    def _clients(self, options: dict[str, Any]) -> list[ClientOrganisation]:
        if options["all"] and (options["client"] or options["firm"]):
            raise CommandError("Give --firm and --client, or --all, not both.")
        if options["client"]:
            if not options["firm"]:
                raise CommandError("--client needs --firm.")
            return [client_get(firm_get(options["firm"]), options["client"])]
        if options["firm"]:
            raise CommandError("--firm needs --client.")
        for option in ("new_data_key", "purge_retired"):
            if options[option] and not options["all"]:
                name = "--" + option.replace("_", "-")
                raise CommandError(f"{name} needs --firm and --client, or --all.")
        return list(
            ClientOrganisation.objects.exclude(schema_name="public")
            .exclude(wrapped_data_key=b"")
            .select_related("firm")
            .order_by("pk")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        clients = self._clients(options)
        crypto.master_keys.cache_clear()
        if options["rewrap"]:
            done = 0
            for client in clients:
                try:
                    done += rewrap(client)
                except crypto.DecryptionError:
                    # Each client commits alone: say how far it got and what to check.
                    raise CommandError(
                        f"{client.firm.slug}/{client.slug}: its data key opens with neither "
                        "MASTER_KEY nor any MASTER_KEY_PREVIOUS. Set MASTER_KEY_PREVIOUS to the "
                        f"master key in use until now and run again ({done} client "
                        "organisation(s) rewrapped before this one; nothing else changed)."
                    ) from None
            crypto.forget_data_key()
            self.stdout.write(
                f"Rewrapped the data keys of {done} client organisation(s) under the current "
                "master key."
            )
            return
        if options["purge_retired"]:
            if options["all"]:  # only those with something to purge, not a line per client
                clients = [client for client in clients if bytes(client.retired_data_keys)]
            self._purge(clients)
            return
        total = 0
        for client in clients:
            if not bytes(client.wrapped_data_key):
                self.stderr.write(f"{client.slug}: no data key (offboarded?); skipped.")
                continue
            total += reencrypt(client)
            client.refresh_from_db(fields=["data_key_rotated_at"])
            self.stdout.write(
                f"{client.firm.slug}/{client.slug}: new data key; the old one is kept until "
                f"--purge-retired (from {purge_allowed_from(client):%Y-%m-%d %H:%M:%S} UTC)."
            )
        self.stdout.write(
            f"Re-encrypted {total} value(s) in {len(clients)} client organisation(s)."
        )

    def _purge(self, clients: list[ClientOrganisation]) -> None:
        now = timezone.now()
        waiting = [text for client in clients if (text := _too_early(client, now))]
        if waiting:
            raise CommandError(
                "Too early to purge retired data keys: a process may still write under them. "
                f"Wait for {', '.join(waiting)}; nothing changed."
            )
        purged = 0
        for client in clients:
            name = f"{client.firm.slug}/{client.slug}"
            if not bytes(client.retired_data_keys):
                self.stdout.write(f"{name}: no retired data keys.")
                continue
            destroyed, result = purge_retired(client)
            if not destroyed:
                self.stdout.write(f"{name}: no retired data keys.")
                continue
            purged += 1
            self.stdout.write(
                f"{name}: re-encrypted {result.written} value(s) that opened only with a retired "
                f"key; destroyed {destroyed} retired data key(s)."
            )
            if result.unreadable:
                self.stderr.write(
                    f"{name}: {len(result.unreadable)} value(s) open with no key and were left "
                    f"as they are: {_listing(result.unreadable)}."
                )
        self.stdout.write(f"Destroyed the retired data keys of {purged} client organisation(s).")
