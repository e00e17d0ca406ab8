"""Fast, parallel, resumable migrations of all client schemas; "is this schema current?".

Stock `migrate_schemas` runs Django's whole `migrate` command once per schema: it rebuilds the
migration graph, replays the project state of every applied migration and renders the models,
costing a few hundred milliseconds per schema before any SQL runs. All our client schemas are
copies of one template and migrated by the same code, so nearly all of them have the *same*
applied set and need the same plan. Per worker process we therefore

* build the migration graph once, and the project states once per distinct applied set;
* apply a plan for real on the first schema that needs it (the *reference*), recording every
  statement the schema editor executes (schema operations such as AddField or RunSQL compose
  deterministic SQL whose names do not depend on the schema);
* replay that recorded SQL, statement by statement, on every other schema with
  the same applied set, calling only RunPython and operations from outside Django's core
  (whose effect may depend on data) for real, with the cached model states.

Each schema migrates in one transaction that also records the migrations and the schema's new
fingerprint on its public row: a schema is either fully migrated or untouched. A failure is
written to `ClientOrganisation.migration_error` and does not stop or roll back the others;
`migrate_tenants --retry-failed` runs only those again. Until then routing shows the client a
maintenance page (`schema_is_current`), so no code ever serves a schema that is behind it.

Fallbacks: a plan with a non-atomic migration, or a partly applied squashed migration, is
migrated with Django's own executor for that schema (correct, just slower).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.special import RunPython
from django.db.migrations.state import ProjectState
from django.utils import timezone

from tenants.schemas import schema_fingerprint

logger = logging.getLogger(__name__)

Key = tuple[str, str]

# Operations whose database effect is fully described by the SQL they send through the schema
# editor, given the same prior structure. Everything else runs for real in every schema.
_RECORDABLE_MODULES = (
    "django.db.migrations.operations.",
    "django.contrib.postgres.operations",
)


def fingerprint_of(applied: Iterable[Key]) -> str:
    """Hash of a set of applied migrations (the one formula: tenants.schemas)."""
    return schema_fingerprint(applied)


# ---------------------------------------------------------------------------------------------
# What the code expects (once per process)

_expected: tuple[frozenset[Key], str] | None = None
_servable: dict[str, bool] = {}
_expected_lock = threading.Lock()


def _disk_loader() -> MigrationLoader:
    return MigrationLoader(None, ignore_no_migrations=True)


def expected_applied() -> frozenset[Key]:
    """The rows a fully migrated schema has in `django_migrations` for the code running now."""
    return _expected_state()[0]


def expected_fingerprint() -> str:
    return _expected_state()[1]


def _expected_state() -> tuple[frozenset[Key], str]:
    global _expected
    if _expected is None:
        with _expected_lock:
            if _expected is None:
                graph = _disk_loader().graph
                keys = set(graph.nodes)
                # Django records the replaced migrations of a squash as well as the squash.
                for key in graph.nodes:
                    keys.update(graph.nodes[key].replaces or ())
                applied = frozenset(keys)
                _expected = (applied, fingerprint_of(applied))
    return _expected


def forget_expected_state() -> None:
    """Drop the per-process caches (tests that change migrations, or after a code reload)."""
    global _expected
    with _expected_lock:
        _expected = None
        _servable.clear()


def applied_in_schema(schema_name: str) -> frozenset[Key]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema_name}".django_migrations')  # noqa: S608
        return frozenset((app, name) for app, name in cursor.fetchall())


def schema_is_current(*, schema_name: str, fingerprint: str, client_id: int) -> bool:
    """Whether a client's schema has every migration this code expects (may serve it).

    Free when the recorded fingerprint is the expected one (the common case). Otherwise one
    query per distinct fingerprint and process: a schema *ahead* of the code (a rolling deploy,
    migrations already applied for the next release) is served; a schema *behind* is not. A
    recorded fingerprint that disagrees with the schema is corrected on the spot.
    """
    applied_expected, expected = _expected_state()
    if fingerprint == expected:
        return True
    known = _servable.get(fingerprint)
    if known is not None:
        return known
    try:
        applied = applied_in_schema(schema_name)
    except Exception:  # a missing schema or table is simply not servable
        logger.exception("Cannot read the migrations of schema %s", schema_name)
        return False
    current = applied >= applied_expected
    actual = fingerprint_of(applied)
    if actual == fingerprint:
        _servable[fingerprint] = current
    else:
        _record_fingerprint(client_id, actual)
    return current


def _record_fingerprint(client_id: int, fingerprint: str) -> None:
    from tenants.models import ClientOrganisation
    from tenants.routing import forget_client

    ClientOrganisation.objects.filter(pk=client_id).update(
        schema_fingerprint=fingerprint, schema_checked_at=timezone.now()
    )
    forget_client(client_id)


# ---------------------------------------------------------------------------------------------
# Plans


class TenantMigrationError(Exception):
    """A schema cannot be migrated by the fast path for a reason the operator must see."""


@dataclass
class _Python:
    """An operation to run for real in every schema, with the states recorded around it."""

    app_label: str
    operation: Operation
    from_state: ProjectState
    to_state: ProjectState


@dataclass
class _Plan:
    migrations: list[Migration]
    records: list[Key]
    # Filled by the reference run: runs of SQL statements and _Python steps, in order.
    steps: list[tuple[str, ...] | _Python] | None = None
    fallback: str = ""


@dataclass
class SchemaResult:
    client_id: int | None
    schema_name: str
    applied: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    fingerprint: str = ""
    how: str = ""  # "current", "reference", "replay", "django"


class SchemaMigrator:
    """Migrates schemas one at a time on this process's connection, reusing compiled plans."""

    def __init__(self) -> None:
        self.loader = _disk_loader()
        self.graph = self.loader.graph
        self.expected, self.expected_fingerprint = _expected_state()
        self.leaves = self.graph.leaf_nodes()
        self.full_order = self._full_order()
        self.plans: dict[frozenset[Key], _Plan] = {}
        self.states: dict[frozenset[Key], ProjectState] = {}

    def _full_order(self) -> list[Migration]:
        seen: set[Key] = set()
        order: list[Migration] = []
        for leaf in self.leaves:
            for key in self.graph.forwards_plan(leaf):
                if key not in seen:
                    seen.add(key)
                    order.append(self.graph.nodes[key])
        return order

    # -- planning -------------------------------------------------------------------------

    def _effective(self, applied: frozenset[Key]) -> frozenset[Key]:
        """Applied graph nodes, counting a squash as applied when all it replaces is."""
        effective = {key for key in applied if key in self.graph.nodes}
        for key in self.graph.nodes:
            replaces = self.graph.nodes[key].replaces
            if replaces and key not in effective:
                done = [tuple(replaced) in applied for replaced in replaces]
                if all(done):
                    effective.add(key)
                elif any(done):
                    raise TenantMigrationError(f"partly applied squashed migration {key}")
        return frozenset(effective)

    def plan_for(self, applied: frozenset[Key]) -> _Plan:
        plan = self.plans.get(applied)
        if plan is not None:
            return plan
        effective = self._effective(applied)
        migrations = [m for m in self.full_order if (m.app_label, m.name) not in effective]
        for migration in migrations:
            for child in self.graph.node_map[(migration.app_label, migration.name)].children:
                if child.key in effective:
                    raise TenantMigrationError(
                        f"inconsistent history: {child.key} is applied before its dependency "
                        f"{(migration.app_label, migration.name)}"
                    )
        records: list[Key] = []
        for migration in migrations:
            for key in [
                *(tuple(r) for r in migration.replaces or ()),
                (migration.app_label, migration.name),
            ]:
                if key not in applied and key not in records:
                    records.append(key)
        plan = _Plan(migrations=migrations, records=records)
        if any(not m.atomic for m in migrations):
            plan.fallback = "a non-atomic migration"
        self.plans[applied] = plan
        return plan

    def _pre_state(self, applied: frozenset[Key]) -> ProjectState:
        effective = self._effective(applied)
        state = ProjectState(real_apps=self.loader.unmigrated_apps)
        for migration in self.full_order:
            if (migration.app_label, migration.name) in effective:
                migration.mutate_state(state, preserve=False)
        return state

    # -- running --------------------------------------------------------------------------

    def migrate(self, schema_name: str, client_id: int | None) -> SchemaResult:
        """Bring one schema to the code's migrations, in one transaction; never raises."""
        started = time.monotonic()
        result = SchemaResult(client_id=client_id, schema_name=schema_name)
        try:
            connection.set_schema(schema_name)
            applied = applied_in_schema(schema_name)
            plan = self.plan_for(applied)
            if not plan.migrations:
                result.how = "current"
                result.fingerprint = fingerprint_of(applied)
                if client_id is not None:
                    self._mark_current(client_id, result.fingerprint)
            else:
                result.fingerprint = fingerprint_of(applied | set(plan.records))
                if plan.fallback:
                    # Non-atomic migrations cannot run inside our transaction: Django's executor
                    # commits migration by migration; the fingerprint follows afterwards.
                    result.how = "django"
                    self._run_with_django()
                    result.fingerprint = fingerprint_of(applied_in_schema(schema_name))
                    with transaction.atomic():
                        self._record(schema_name, [], client_id, result.fingerprint)
                else:
                    with transaction.atomic():
                        if plan.steps is None:
                            result.how = "reference"
                            steps = self._run_reference(applied, plan)
                        else:
                            result.how = "replay"
                            self._replay(plan)
                        self._record(schema_name, plan.records, client_id, result.fingerprint)
                    if result.how == "reference":
                        plan.steps = steps  # only once the reference run has committed
                result.applied = [f"{app}.{name}" for app, name in plan.records]
        except Exception as error:  # reported per schema; the run goes on
            result.error = f"{type(error).__name__}: {error}".strip()[:2000]
            result.how = "failed"
            logger.warning("Migrating schema %s failed: %s", schema_name, result.error)
            self._record_failure(client_id, result.error)
        finally:
            connection.set_schema_to_public()
        result.seconds = time.monotonic() - started
        if client_id is not None and result.how in {"reference", "replay", "django"}:
            _forget_route(client_id)
        return result

    def _run_reference(
        self, applied: frozenset[Key], plan: _Plan
    ) -> list[tuple[str, ...] | _Python]:
        """Apply the plan for real, recording what can be replayed elsewhere."""
        if applied not in self.states:
            self.states[applied] = self._pre_state(applied)
        state = self.states[applied].clone()
        steps: list[tuple[str, ...] | _Python] = []
        batch: list[str] = []

        def flush() -> None:
            # Kept apart, never joined into one string: Citus forwards each DDL string to the
            # node holding the schema as a single command and refuses a string of several.
            if batch:
                steps.append(tuple(batch))
                batch.clear()

        for migration in plan.migrations:
            with connection.schema_editor(atomic=False) as editor:
                real_execute = editor.execute
                recording = {"on": True, "skip": set()}

                def execute(sql: Any, params: Any = (), _real=real_execute, _rec=recording) -> Any:
                    if not _rec["on"] or id(sql) in _rec["skip"]:
                        return _real(sql, params)
                    composed = (
                        connection.ops.compose_sql(str(sql), params)
                        if params is not None
                        else str(sql)
                    )
                    batch.append(composed)
                    return _real(composed, None)

                editor.execute = execute  # type: ignore[method-assign]
                for operation in migration.operations:
                    before = state.clone()
                    operation.state_forwards(migration.app_label, state)
                    if _recordable(operation):
                        operation.database_forwards(migration.app_label, editor, before, state)
                        continue
                    flush()
                    after = state.clone()
                    deferred = len(editor.deferred_sql)
                    recording["on"] = False
                    try:
                        operation.database_forwards(migration.app_label, editor, before, after)
                    finally:
                        recording["on"] = True
                    # Deferred SQL of a per-schema operation runs per schema on replay too.
                    recording["skip"].update(id(s) for s in editor.deferred_sql[deferred:])
                    steps.append(_Python(migration.app_label, operation, before, after))
            flush()  # the editor's deferred SQL (indexes, foreign keys) ran at its exit
        return steps

    def _replay(self, plan: _Plan) -> None:
        assert plan.steps is not None
        with connection.schema_editor(atomic=False) as editor:
            for step in plan.steps:
                if isinstance(step, tuple):
                    with connection.cursor() as cursor:
                        for statement in step:
                            cursor.execute(statement)
                else:
                    step.operation.database_forwards(
                        step.app_label, editor, step.from_state, step.to_state
                    )

    def _run_with_django(self) -> None:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        executor.migrate(self.leaves)

    def _record(
        self, schema_name: str, records: list[Key], client_id: int | None, fingerprint: str
    ) -> None:
        now = timezone.now()
        with connection.cursor() as cursor:
            if records:
                values = ", ".join(["(%s, %s, %s)"] * len(records))
                params: list[Any] = []
                for app, name in records:
                    params += [app, name, now]
                cursor.execute(
                    f'INSERT INTO "{schema_name}".django_migrations (app, name, applied) '  # noqa: S608
                    f"VALUES {values}",
                    params,
                )
            if client_id is not None:
                cursor.execute(
                    f"UPDATE public.{_client_table()} SET schema_fingerprint = %s, "  # noqa: S608
                    "schema_checked_at = %s, migration_error = '', migration_failed_at = NULL "
                    "WHERE id = %s",
                    [fingerprint, now, client_id],
                )

    def _mark_current(self, client_id: int, fingerprint: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE public.{_client_table()} SET schema_fingerprint = %s, "  # noqa: S608
                "migration_error = '', migration_failed_at = NULL "
                "WHERE id = %s AND (schema_fingerprint <> %s OR migration_error <> '')",
                [fingerprint, client_id, fingerprint],
            )
            changed = cursor.rowcount
        if changed:
            _forget_route(client_id)

    def _record_failure(self, client_id: int | None, error: str) -> None:
        if client_id is None:
            return
        try:
            connection.set_schema_to_public()
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE public.{_client_table()} SET migration_error = %s, "  # noqa: S608
                    "migration_failed_at = %s WHERE id = %s",
                    [error, timezone.now(), client_id],
                )
        except Exception:  # the failure is still in the report
            logger.exception("Could not record the failure of client %s", client_id)


def _recordable(operation: Operation) -> bool:
    if isinstance(operation, RunPython):
        return False
    module = type(operation).__module__ + "."
    return module.startswith(_RECORDABLE_MODULES)


def _client_table() -> str:
    from tenants.models import ClientOrganisation

    return connection.ops.quote_name(ClientOrganisation._meta.db_table)


def _forget_route(client_id: int) -> None:
    try:
        from tenants.routing import forget_client

        forget_client(client_id)
    except Exception:  # the cache entry expires by itself
        logger.exception("Could not drop the cached route of client %s", client_id)


# ---------------------------------------------------------------------------------------------
# Parallel runs

_worker: SchemaMigrator | None = None


def _worker_migrate(item: tuple[str, int | None]) -> SchemaResult:
    global _worker
    if _worker is None:
        _worker = SchemaMigrator()
    return _worker.migrate(*item)


def _worker_init() -> None:
    # The parent closed its connections before forking; make sure nothing inherited is reused.
    for alias in connections:
        connections[alias].connection = None  # type: ignore[attr-defined]


def migrate_schemas(
    items: list[tuple[str, int | None]],
    *,
    processes: int,
    progress: Callable[[SchemaResult, int, int], None] | None = None,
) -> list[SchemaResult]:
    """Migrate (schema, client id) pairs, `processes` at a time; return one result per schema."""
    results: list[SchemaResult] = []
    total = len(items)
    if not items:
        return results
    if processes <= 1 or total == 1:
        migrator = SchemaMigrator()
        for item in items:
            results.append(migrator.migrate(*item))
            if progress:
                progress(results[-1], len(results), total)
        return results
    connections.close_all()
    context = multiprocessing.get_context("fork")
    # Small chunks keep the progress output lively and the load balanced.
    chunk = max(1, min(8, total // (processes * 8) or 1))
    with context.Pool(processes=min(processes, total), initializer=_worker_init) as pool:
        for result in _iterate(pool.imap_unordered(_worker_migrate, items, chunksize=chunk)):
            results.append(result)
            if progress:
                progress(result, len(results), total)
    return results


def _iterate(iterator: Iterator[SchemaResult]) -> Iterator[SchemaResult]:
    yield from iterator
