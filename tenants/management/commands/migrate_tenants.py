"""Migrate the public schema, the template schema and every client schema (in parallel).

    manage.py migrate_tenants                    # what a deploy runs (docker/entrypoint.sh migrate)
    manage.py migrate_tenants --processes 4
    manage.py migrate_tenants --retry-failed     # only the clients whose last migration failed
    manage.py migrate_tenants --schema c_ab12cd34ef56

A client whose schema fails is reported, recorded on its row (`migration_error`) and shown a
maintenance page; the others are migrated (and stay migrated). The exit status is non-zero when
any schema failed, unless --allow-failures is given (a deploy may then go ahead and the failed
clients wait for --retry-failed). See tenants.migration_runner for how it is fast.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import connection

from tenants import migration_runner, provisioning
from tenants.management.commands._common import OperatorCommand, check_range
from tenants.models import ClientOrganisation


class Command(OperatorCommand):
    help = (
        "Migrate public, the template and all client schemas in parallel worker processes; "
        "failures are recorded per client and can be retried with --retry-failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="Worker processes for the client schemas (default: CPUs, at most 4).",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="Only the clients whose previous migration failed.",
        )
        parser.add_argument("--schema", help="Only this client schema.")
        parser.add_argument(
            "--allow-failures",
            action="store_true",
            help="Exit 0 even when client schemas failed (they are recorded and reported).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        processes = options["processes"]
        check_range(processes, option="--processes", low=1, high=64)
        verbosity = int(options["verbosity"])
        started = time.monotonic()

        self._say(verbosity, "Migrating the public schema")
        call_command(
            "migrate_schemas",
            shared=True,
            interactive=False,
            verbosity=max(0, verbosity - 1),
            stdout=self.stdout,
        )
        self._say(verbosity, f"Migrating the template schema {provisioning.TEMPLATE_SCHEMA}")
        provisioning.forget_template_state()
        migration_runner.forget_expected_state()
        provisioning.ensure_template(verbosity=max(0, verbosity - 1))
        connection.set_schema_to_public()
        public_seconds = time.monotonic() - started

        # Read only now: on a fresh database the table did not exist before the public migration.
        items, missing = self._existing(self._clients(options))
        self._say(
            verbosity,
            f"Migrating {len(items)} client schemas with {min(processes, max(1, len(items)))} "
            f"processes (code fingerprint {migration_runner.expected_fingerprint()})",
        )
        every = max(1, len(items) // 20)
        tenants_started = time.monotonic()
        failures: list[migration_runner.SchemaResult] = []

        def progress(result: migration_runner.SchemaResult, done: int, total: int) -> None:
            if result.error:
                failures.append(result)
                self.stderr.write(f"  FAILED {result.schema_name}: {result.error}")
            if verbosity >= 1 and (done % every == 0 or done == total):
                elapsed = time.monotonic() - tenants_started
                left = elapsed / done * (total - done)
                self.stdout.write(
                    f"  [{done:>{len(str(total))}}/{total}] {100 * done // total:3d}%  "
                    f"{elapsed:6.1f} s elapsed, ~{left:5.1f} s left, {len(failures)} failed"
                )
            if verbosity >= 2 and not result.error:
                applied = ", ".join(result.applied) or "nothing to apply"
                self.stdout.write(f"    {result.schema_name} ({result.how}): {applied}")

        results = migration_runner.migrate_schemas(items, processes=processes, progress=progress)
        connection.set_schema_to_public()
        for client_id, schema in missing:
            error = f"schema {schema} does not exist"
            ClientOrganisation.objects.filter(pk=client_id).update(migration_error=error)
            failures.append(
                migration_runner.SchemaResult(client_id=client_id, schema_name=schema, error=error)
            )
            self.stderr.write(f"  FAILED {schema}: {error}")

        tenant_seconds = time.monotonic() - tenants_started
        counts: dict[str, int] = {}
        for result in results:
            counts[result.how] = counts.get(result.how, 0) + 1
        migrated = sum(counts.get(how, 0) for how in ("reference", "replay", "django"))
        self.stdout.write(
            f"Done in {time.monotonic() - started:.1f} s (public and template "
            f"{public_seconds:.1f} s, clients {tenant_seconds:.1f} s): {migrated} migrated, "
            f"{counts.get('current', 0)} already current, {len(failures)} failed."
        )
        if failures:
            self.stderr.write(
                "Failed client schemas (fix, then run migrate_tenants --retry-failed):"
            )
            for failure in failures:
                self.stderr.write(
                    f"  client {failure.client_id} {failure.schema_name}: {failure.error}"
                )
            if not options["allow_failures"]:
                raise CommandError(f"{len(failures)} client schema(s) failed to migrate.")

    def _say(self, verbosity: int, message: str) -> None:
        if verbosity >= 1:
            self.stdout.write(message)

    def _clients(self, options: dict[str, Any]) -> list[tuple[int, str, str]]:
        """(id, schema, status) of the clients to migrate, before anything runs."""
        clients = ClientOrganisation.objects.exclude(schema_name="public").order_by("pk")
        if options["retry_failed"]:
            clients = clients.exclude(migration_error="")
        if options["schema"]:
            clients = clients.filter(schema_name=options["schema"])
            if not clients.exists():
                raise CommandError(f"No client organisation has the schema {options['schema']!r}.")
        return list(clients.values_list("pk", "schema_name", "status"))

    def _existing(
        self, clients: list[tuple[int, str, str]]
    ) -> tuple[list[tuple[str, int | None]], list[tuple[int, str]]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                [[schema for _pk, schema, _status in clients]],
            )
            existing = {name for (name,) in cursor.fetchall()}
        items: list[tuple[str, int | None]] = []
        missing: list[tuple[int, str]] = []
        for pk, schema, status in clients:
            if schema in existing:
                items.append((schema, pk))
            elif status != ClientOrganisation.Status.OFFBOARDED:
                missing.append((pk, schema))
        return items, missing
