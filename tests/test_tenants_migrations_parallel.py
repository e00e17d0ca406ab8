"""migrate_tenants: same result as Django's executor, parallel, failures isolated and retried,
and no client is served while its schema is behind the code.

Schemas are put "behind" by unapplying the non-initial migrations of the tenant apps with
Django's own executor (the audit trigger's RunSQL and the cases themes' RunPython, among
others), then recording their real fingerprint as tenants.tasks.record_schema_state would.
"""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from tenants import migration_runner, services
from tenants.models import ClientOrganisation
from tenants.trail import Operator
from tests.live import create_firm, remove_firm
from tests.test_tenants_provisioning import describe_schema


def rollback_targets() -> list[tuple[str, str]]:
    """(app, first migration) of every tenant app that has later migrations to unapply."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    targets = []
    for app in settings.TENANT_APPS:
        label = apps.get_app_config(app.rsplit(".", 1)[-1]).label
        names = sorted(name for app_label, name in graph.nodes if app_label == label)
        if len(names) >= 2:
            targets.append((label, names[0]))
    assert targets, "no tenant app has a second migration to unapply"
    return targets


def put_behind(schema: str) -> frozenset[tuple[str, str]]:
    """Unapply later tenant migrations in `schema`; record its fingerprint; return what is gone."""
    before = migration_runner.applied_in_schema(schema)
    with connection.cursor() as cursor:
        # Empty the seeded tables first: the data migrations' reverse functions then have
        # nothing to delete (Django's collector trips over state models when they do).
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname <> 'django_migrations' "
            # Not the append-only access log (it refuses TRUNCATE; no data migration touches it).
            # Only the schema's own trigger functions count: Citus puts a TRUNCATE trigger of its
            # own on every distributed table.
            "AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = c.oid AND t.tgtype & 32 <> 0 AND p.pronamespace = n.oid)",
            [schema],
        )
        seeded = [table for (table,) in cursor.fetchall() if _has_rows(cursor, schema, table)]
        if seeded:
            tables = ", ".join(f'"{schema}"."{table}"' for table in seeded)
            cursor.execute(f"TRUNCATE {tables} CASCADE")
    connection.set_schema(schema)
    try:
        MigrationExecutor(connection).migrate(rollback_targets())
    finally:
        connection.set_schema_to_public()
    after = migration_runner.applied_in_schema(schema)
    ClientOrganisation.objects.filter(schema_name=schema).update(
        schema_fingerprint=migration_runner.fingerprint_of(after)
    )
    return before - after


def _has_rows(cursor, schema: str, table: str) -> bool:
    cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{schema}"."{table}")')  # noqa: S608
    return cursor.fetchone()[0]


def migrate_with_django(schema: str) -> None:
    connection.set_schema(schema)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        connection.set_schema_to_public()


def new_client(firm, slug: str) -> ClientOrganisation:
    return services.client_create(
        actor=Operator("test"), firm=firm, slug=slug, name=slug.title(), employee_count=10
    )


def host_of(client: ClientOrganisation) -> str:
    return client.domains.get(is_primary=True).domain


def test_expected_fingerprint_is_that_of_a_fresh_client(cast):
    assert cast.a1.schema_fingerprint == migration_runner.expected_fingerprint()
    assert migration_runner.applied_in_schema(cast.a1.schema_name) == (
        migration_runner.expected_applied()
    )


def test_reference_run_and_replay_equal_djangos_executor(cast):
    """One schema by Django, one by our reference run, one by replaying its recorded SQL."""
    schemas = [new_client(cast.acme, slug).schema_name for slug in ("m-django", "m-ref", "m-re")]
    missing = {put_behind(schema) for schema in schemas}
    assert len(missing) == 1 and missing.pop()  # the same migrations are gone from each
    kinds = {
        type(op).__name__
        for app, name in rollback_targets()
        for migration in MigrationLoader(None).disk_migrations.values()
        if migration.app_label == app and migration.name != name
        for op in migration.operations
    }
    assert {"RunPython", "RunSQL"} <= kinds  # both paths of the replay are exercised

    migrate_with_django(schemas[0])
    migrator = migration_runner.SchemaMigrator()
    client_ids = dict(
        ClientOrganisation.objects.filter(schema_name__in=schemas).values_list("schema_name", "pk")
    )
    reference = migrator.migrate(schemas[1], client_ids[schemas[1]])
    replay = migrator.migrate(schemas[2], client_ids[schemas[2]])

    assert (reference.how, reference.error) == ("reference", "")
    assert (replay.how, replay.error) == ("replay", "")
    assert replay.applied == reference.applied and reference.applied
    by_django, by_reference, by_replay = (describe_schema(schema) for schema in schemas)
    # describe_schema's SET LOCAL outlives its savepoint inside the test's transaction.
    connection.set_schema_to_public()
    assert by_reference == by_django
    assert by_replay == by_django
    expected = migration_runner.expected_fingerprint()
    assert reference.fingerprint == replay.fingerprint == expected
    assert set(
        ClientOrganisation.objects.filter(schema_name__in=schemas[1:]).values_list(
            "schema_fingerprint", "migration_error"
        )
    ) == {(expected, "")}
    # Nothing left to do: a second pass changes nothing.
    again = migrator.migrate(schemas[2], client_ids[schemas[2]])
    assert (again.how, again.applied) == ("current", [])


def test_a_client_whose_schema_is_behind_gets_a_maintenance_page(cast):
    http = Client(HTTP_HOST=host_of(cast.a1))
    assert http.get("/i18n/setlang/").status_code == 302
    put_behind(cast.a1.schema_name)
    # The recorded fingerprint changed (save() was bypassed, as a migration job would): the cached
    # route still carries the old one, so drop it as the job does.
    from tenants.routing import forget_client

    forget_client(cast.a1.pk)
    response = http.get("/i18n/setlang/")
    assert response.status_code == 503
    assert response["Retry-After"] == "120"
    assert b"onderhoud" in response.content and b"being updated" in response.content
    # Other clients are served as before.
    assert Client(HTTP_HOST=host_of(cast.a2)).get("/i18n/setlang/").status_code == 302

    result = migration_runner.SchemaMigrator().migrate(cast.a1.schema_name, cast.a1.pk)
    assert result.error == "" and result.how == "reference"
    assert http.get("/i18n/setlang/").status_code == 302


def test_a_schema_ahead_of_the_code_is_served_and_a_wrong_record_is_corrected(cast):
    schema = cast.a1.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{schema}".django_migrations (app, name, applied) '  # noqa: S608
            "VALUES ('cases', '9999_from_the_next_release', now())"
        )
    ahead = migration_runner.fingerprint_of(migration_runner.applied_in_schema(schema))
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(schema_fingerprint=ahead)
    migration_runner.forget_expected_state()
    assert migration_runner.schema_is_current(
        schema_name=schema, fingerprint=ahead, client_id=cast.a1.pk
    )
    # A record that disagrees with the schema: judged by the schema, and the record corrected.
    assert migration_runner.schema_is_current(
        schema_name=schema, fingerprint="0" * 16, client_id=cast.a1.pk
    )
    assert ClientOrganisation.objects.get(pk=cast.a1.pk).schema_fingerprint == ahead
    assert not migration_runner.schema_is_current(
        schema_name="c_doesnotexist", fingerprint="1" * 16, client_id=cast.a1.pk
    )


@pytest.fixture
def three_live_clients(committed_db):
    live = create_firm(clients={"x": "Xeno", "y": "Yuko", "z": "Zeta"})
    try:
        yield live
    finally:
        remove_firm(live)


def run_command(*args: str) -> tuple[str, str, BaseException | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("migrate_tenants", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def test_parallel_run_isolates_a_failure_and_retries_it_alone(three_live_clients):
    live = three_live_clients
    x, y, z = (live.clients[key] for key in "xyz")
    for client in (x, y, z):
        put_behind(client.schema_name)
    # Make y fail: an object that one of its migrations creates already exists.
    plant = (
        f'CREATE FUNCTION "{y.schema_name}".audit_refuse_change() RETURNS trigger '
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END; $$"
    )
    with connection.cursor() as cursor:
        cursor.execute(plant)

    out, err, error = run_command("--processes", "2")

    assert isinstance(error, CommandError) and "1 client schema(s) failed" in str(error)
    assert f"FAILED {y.schema_name}" in err and "already exists" in err
    assert "[" in out and "100%" in out  # progress lines
    expected = migration_runner.expected_fingerprint()
    rows = {
        row[0]: row[1:]
        for row in ClientOrganisation.objects.filter(pk__in=[x.pk, y.pk, z.pk]).values_list(
            "pk", "schema_fingerprint", "migration_error", "migration_failed_at"
        )
    }
    assert rows[x.pk][:2] == rows[z.pk][:2] == (expected, "")
    assert rows[y.pk][0] != expected and "already exists" in rows[y.pk][1]
    assert rows[y.pk][2] is not None
    for client in (x, z):
        assert migration_runner.applied_in_schema(client.schema_name) == (
            migration_runner.expected_applied()
        )
    # y is exactly as before the run: nothing of its plan applied, the planted function intact.
    assert migration_runner.applied_in_schema(y.schema_name) < migration_runner.expected_applied()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
            "AND NOT t.tgisinternal",
            [y.schema_name],
        )
        assert cursor.fetchone()[0] == 0
    assert Client(HTTP_HOST=live.hosts["y"]).get("/i18n/setlang/").status_code == 503
    assert Client(HTTP_HOST=live.hosts["x"]).get("/i18n/setlang/").status_code == 302

    # Fix the cause, retry the failed ones only.
    with connection.cursor() as cursor:
        cursor.execute(f'DROP FUNCTION "{y.schema_name}".audit_refuse_change()')
    out, err, error = run_command("--retry-failed", "--processes", "2")
    assert error is None, err
    assert "Migrating 1 client schemas" in out
    assert "1 migrated, 0 already current, 0 failed" in out
    assert ClientOrganisation.objects.filter(pk=y.pk).values_list(
        "schema_fingerprint", "migration_error", "migration_failed_at"
    ).get() == (expected, "", None)
    assert Client(HTTP_HOST=live.hosts["y"]).get("/i18n/setlang/").status_code == 302

    # Everything current: a full run applies nothing.
    out, err, error = run_command("--processes", "2")
    assert error is None, err
    assert " 0 migrated," in out and "0 failed" in out


def test_allow_failures_reports_but_exits_zero_and_schema_option_limits_the_run(
    three_live_clients,
):
    live = three_live_clients
    x, y = live.clients["x"], live.clients["y"]
    put_behind(x.schema_name)
    put_behind(y.schema_name)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{x.schema_name}".django_migrations')

    out, err, error = run_command("--schema", x.schema_name, "--allow-failures", "-v", "0")
    assert error is None
    assert "0 migrated, 0 already current, 1 failed" in out
    assert f"FAILED {x.schema_name}" in err
    # y was not part of the run.
    assert ClientOrganisation.objects.get(pk=y.pk).schema_fingerprint != (
        migration_runner.expected_fingerprint()
    )

    out, err, error = run_command("--schema", "c_nosuchschema")
    assert isinstance(error, CommandError) and "c_nosuchschema" in str(error)
    out, err, error = run_command("--processes", "0")
    assert isinstance(error, CommandError) and "--processes" in str(error)


def test_plan_with_a_non_atomic_migration_falls_back_to_djangos_executor(cast):
    client = new_client(cast.acme, "m-fallback")
    put_behind(client.schema_name)
    migrator = migration_runner.SchemaMigrator()
    plan = migrator.plan_for(migration_runner.applied_in_schema(client.schema_name))
    assert plan.migrations and plan.fallback == ""
    plan.fallback = "a non-atomic migration"  # as plan_for marks one with atomic = False

    result = migrator.migrate(client.schema_name, client.pk)

    assert (result.how, result.error) == ("django", "")
    assert migration_runner.applied_in_schema(client.schema_name) == (
        migration_runner.expected_applied()
    )
    assert ClientOrganisation.objects.get(pk=client.pk).schema_fingerprint == (
        migration_runner.expected_fingerprint()
    )
