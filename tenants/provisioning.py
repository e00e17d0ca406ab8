"""Fast creation of client-organisation schemas by cloning a template schema.

Stock django-tenants replays every migration for a new tenant (seconds, growing with the app)
and its `clone_schema` drops and recreates a large PL/pgSQL function per call, which is unsafe when
two clients are created at once. We instead keep one template schema at the latest migration and
copy its structure with plain DDL generated from the catalog:

* tables with `CREATE TABLE … (LIKE template.table INCLUDING DEFAULTS, IDENTITY, …)`;
* the template's rows (`django_migrations` and any seed data), with identity sequences moved on,
  copied before any foreign key or trigger exists, so they arrive exactly as they are;
* functions from `pg_get_functiondef`;
* constraints and indexes re-created under their *original names* (Django drops named
  constraints and indexes by name in later migrations, so `INCLUDING INDEXES`, which renames
  them, would break the next migration); foreign keys last;
* triggers from `pg_get_triggerdef`, then the comments LIKE does not carry.

Object kinds it does not copy (views, enums and other types, standalone sequences, row security,
rules, extended statistics, aggregates, defaults calling the template's own functions) make it
refuse the template rather than produce a schema that differs.

The DDL is generated once per process and template state, and runs statement by statement
(Citus refuses several DDL statements in one string; docs/scaling.md). Its cost is per relation
of the template (about 100 ms of server CPU for 17 tables and 44 indexes) and does not grow with
the number of tenants. `client_create` takes a schema cloned in advance (tenants.schema_pool)
and clones only when none is ready.
Only shared advisory locks are taken while cloning, so concurrent creations proceed in parallel;
rebuilding the template takes the exclusive lock.
`tests/test_tenants_provisioning.py` checks that a clone is identical, object by object, to a schema
built by running the migrations.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from tenants.schemas import schema_fingerprint

TEMPLATE_SCHEMA = "vertrouwd_template"
# Any fixed 64-bit number; shared by every process that clones or rebuilds the template.
_TEMPLATE_LOCK = 7_202_611_260

_SCHEMA_NAME = re.compile(r"^c_[a-z0-9]{12}$")
_script_cache: dict[str, tuple[str, ...]] = {}
_expected_migrations: frozenset[tuple[str, str]] | None = None
_lock = threading.Lock()


class UnsupportedTemplateObject(RuntimeError):
    """The template holds an object kind the cloner does not copy; refuse rather than differ."""


def new_schema_name() -> str:
    """Return a fresh random schema name, never derived from a client's name."""
    alphabet = string.ascii_lowercase + string.digits
    return "c_" + "".join(secrets.choice(alphabet) for _ in range(12))


def is_valid_schema_name(name: str) -> bool:
    return bool(_SCHEMA_NAME.match(name))


def expected_migrations() -> frozenset[tuple[str, str]]:
    """Every migration the code defines (app, name); computed once per process."""
    global _expected_migrations
    if _expected_migrations is None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        _expected_migrations = frozenset(loader.graph.nodes.keys())
    return _expected_migrations


def schema_exists(cursor, schema: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
    return cursor.fetchone() is not None


def applied_migrations(cursor, schema: str) -> frozenset[tuple[str, str]]:
    cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608 (fixed name)
    return frozenset((app, name) for app, name in cursor.fetchall())


def template_fingerprint(cursor) -> str | None:
    """A hash of the template's applied migrations, or None when the template is missing."""
    if not schema_exists(cursor, TEMPLATE_SCHEMA):
        return None
    return schema_fingerprint(applied_migrations(cursor, TEMPLATE_SCHEMA))


def ensure_template(*, verbosity: int = 0) -> str:
    """Make sure the template schema exists at the latest migration; return its fingerprint.

    Causes a few queries when the template is current; runs the migrations (seconds) under an
    exclusive advisory lock when it is missing or behind, e.g. once after a deploy.
    """
    with connection.cursor() as cursor:
        fingerprint = template_fingerprint(cursor)
        if (
            fingerprint is not None
            and applied_migrations(cursor, TEMPLATE_SCHEMA) >= expected_migrations()
        ):
            return fingerprint
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TEMPLATE_LOCK])
            if not schema_exists(cursor, TEMPLATE_SCHEMA):
                # On Citus with schema-based sharding every new schema would be distributed; the
                # template stays on the coordinator, so that the cloner reads it there (an inert
                # placeholder setting on plain PostgreSQL).
                cursor.execute("SET LOCAL citus.enable_schema_based_sharding = off")
                cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
        call_command(
            "migrate_schemas",
            schema_name=TEMPLATE_SCHEMA,
            tenant=True,
            interactive=False,
            verbosity=verbosity,
        )
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        fingerprint = template_fingerprint(cursor)
    assert fingerprint is not None
    return fingerprint


def _clone_script(cursor, fingerprint: str) -> tuple[str, ...]:
    """Generate (or reuse) the DDL that copies the template into a schema named `__TARGET__`."""
    with _lock:
        if fingerprint in _script_cache:
            return _script_cache[fingerprint]
    script = _generate_clone_script(cursor)
    with _lock:
        _script_cache[fingerprint] = script
    return script


# Objects the cloner does not copy; a template holding any of them is refused rather than cloned
# into something different. Each row: (kind, name).
_UNSUPPORTED_OBJECTS = """
    SELECT 'relation ' || c.relkind::text, c.relname FROM pg_class c
    WHERE c.relnamespace = %(ns)s::oid AND c.relkind NOT IN ('r', 'i', 'S')
    UNION ALL
    SELECT 'standalone sequence', s.relname FROM pg_class s
    WHERE s.relnamespace = %(ns)s::oid AND s.relkind = 'S' AND NOT EXISTS (
        SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid
        AND d.deptype IN ('i', 'a'))
    UNION ALL
    SELECT 'type ' || t.typtype::text, t.typname FROM pg_type t
    WHERE t.typnamespace = %(ns)s::oid
      AND (t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'b' AND t.typcategory <> 'A'))
    UNION ALL
    SELECT 'row security or rule', c.relname FROM pg_class c
    WHERE c.relnamespace = %(ns)s::oid AND (c.relrowsecurity OR c.relhasrules)
    UNION ALL
    SELECT 'extended statistics', x.stxname FROM pg_statistic_ext x
    WHERE x.stxnamespace = %(ns)s::oid
    UNION ALL
    SELECT 'routine kind ' || p.prokind::text, p.proname FROM pg_proc p
    WHERE p.pronamespace = %(ns)s::oid AND (p.prokind NOT IN ('f', 'p') OR EXISTS (
        SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
        AND d.deptype = 'e'))
    UNION ALL
    -- LIKE copies a default bound to the template's own function, type or sequence.
    SELECT 'default referring to the template', c.relname || '.' || a.attname
    FROM pg_attrdef ad
    JOIN pg_class c ON c.oid = ad.adrelid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
    WHERE c.relnamespace = %(ns)s::oid AND (
        (d.refclassid = 'pg_proc'::regclass
            AND d.refobjid IN (SELECT oid FROM pg_proc WHERE pronamespace = %(ns)s::oid))
        OR (d.refclassid = 'pg_type'::regclass
            AND d.refobjid IN (SELECT oid FROM pg_type WHERE typnamespace = %(ns)s::oid))
        OR (d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
            AND d.refobjid IN (SELECT oid FROM pg_class WHERE relnamespace = %(ns)s::oid)))
"""


def _generate_clone_script(cursor) -> tuple[str, ...]:
    """Read the template from the catalog; return DDL and row copies targeting `__TARGET__.`.

    One statement per string: Citus forwards each DDL string to the node that holds the schema
    as a single command, and refuses a string of several.

    Order: tables, their rows (so seed rows are copied as they are, before any foreign key or
    trigger could object or fire), functions, constraints, indexes, triggers, comments.
    """
    template = TEMPLATE_SCHEMA
    cursor.execute("SELECT current_setting('search_path'), %s::regnamespace::oid", [template])
    search_path, namespace = cursor.fetchone()
    # With only pg_catalog on the search path every name the catalog functions print is
    # schema-qualified, so replacing the template's qualifier is exact.
    cursor.execute("SELECT set_config('search_path', 'pg_catalog', true)")
    cursor.execute(_UNSUPPORTED_OBJECTS, {"ns": namespace})
    unsupported = sorted(cursor.fetchall())
    statements = [] if unsupported else _template_statements(cursor, namespace)
    cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])
    if unsupported:
        raise UnsupportedTemplateObject(
            f"Cannot clone {unsupported!r} from the template: teach tenants.provisioning."
        )

    qualifier = re.compile(rf'(?<![\w"]){re.escape(template)}\.|"{re.escape(template)}"\.')
    # Our own references to the template (LIKE, INSERT … SELECT) are placeholders until now.
    return tuple(
        qualifier.sub("__TARGET__.", statement).replace("__TEMPLATE__.", f'"{template}".')
        for statement in statements
    )


def _template_statements(cursor, namespace: int) -> list[str]:
    statements: list[str] = []

    cursor.execute(
        "SELECT c.oid, c.relname FROM pg_class c "
        "WHERE c.relnamespace = %s::oid AND c.relkind = 'r' ORDER BY c.relname",
        [namespace],
    )
    tables = cursor.fetchall()
    for _oid, table in tables:
        statements.append(
            f'CREATE TABLE __TARGET__."{table}" (LIKE __TEMPLATE__."{table}" INCLUDING DEFAULTS '
            "INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS "
            "INCLUDING COMPRESSION)"
        )

    # Rows: django_migrations plus whatever data migrations seeded (a handful of small tables).
    for oid, table in tables:
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{TEMPLATE_SCHEMA}"."{table}")')  # noqa: S608
        if not cursor.fetchone()[0]:
            continue
        cursor.execute(
            "SELECT a.attname, a.attidentity FROM pg_attribute a WHERE a.attrelid = %s::oid "
            "AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
            [oid],
        )
        columns = cursor.fetchall()
        names = ", ".join(f'"{name}"' for name, _identity in columns)
        # Identity GENERATED ALWAYS refuses explicit values unless told to keep them.
        overriding = " OVERRIDING SYSTEM VALUE" if any(i == "a" for _n, i in columns) else ""
        statements.append(
            f'INSERT INTO __TARGET__."{table}" ({names}){overriding} '  # noqa: S608 (catalog names)
            f'SELECT {names} FROM __TEMPLATE__."{table}"'
        )
        for name, identity in columns:
            if identity:
                # The maximum is read from the template, whose rows were just copied as they
                # are: a statement that read the new table would, on Citus, run on the worker
                # holding it, where the sequence has a range of that node's own (and the value
                # the coordinator hands out is the one that counts).
                statements.append(
                    f"SELECT setval(pg_get_serial_sequence('__TARGET__.\"{table}\"', '{name}'), "  # noqa: S608
                    f'(SELECT max("{name}") FROM __TEMPLATE__."{table}"))'
                )

    cursor.execute(
        "SELECT pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = %s::oid "
        "ORDER BY p.proname, p.oid",
        [namespace],
    )
    statements += [definition for (definition,) in cursor.fetchall()]

    # Under their original names (see the module docstring). Foreign keys last: they need the
    # unique constraint or index they point at.
    constraint = """
        SELECT format('ALTER TABLE __TARGET__.%%I ADD CONSTRAINT %%I %%s',
                      c.relname, con.conname, pg_get_constraintdef(con.oid))
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE c.relnamespace = %s::oid AND con.contype::text = ANY(%s)
        ORDER BY array_position(%s, con.contype::text), c.relname, con.conname
    """
    cursor.execute(constraint, [namespace, ["p", "u", "x", "c"], ["p", "u", "x", "c"]])
    statements += [statement for (statement,) in cursor.fetchall()]

    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = %s::oid AND NOT EXISTS (
            SELECT 1 FROM pg_constraint con
            WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
        ORDER BY c.relname
        """,
        [namespace],
    )
    statements += [definition for (definition,) in cursor.fetchall()]

    cursor.execute(constraint, [namespace, ["f"], ["f"]])
    statements += [statement for (statement,) in cursor.fetchall()]

    cursor.execute(
        """
        SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = %s::oid AND NOT t.tgisinternal ORDER BY c.relname, t.tgname
        """,
        [namespace],
    )
    triggers = [definition for (definition,) in cursor.fetchall()]
    if triggers:
        # As in the migrations that made them (audit/migrations/0002): Citus refuses triggers on
        # distributed tables unless allowed; ours only raise, on the row's own node.
        statements.append("SET LOCAL citus.enable_unsafe_triggers = on")
    statements += triggers

    # LIKE … INCLUDING COMMENTS carries column comments only (we copy no index or constraint
    # through LIKE); the rest goes here.
    cursor.execute(
        """
        SELECT format('COMMENT ON %%s IS %%L', target, description) FROM (
            SELECT CASE c.relkind WHEN 'i' THEN 'INDEX ' ELSE 'TABLE ' END
                   || format('__TARGET__.%%I', c.relname) AS target, d.description
            FROM pg_class c JOIN pg_description d
              ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
            WHERE c.relnamespace = %s::oid AND c.relkind IN ('r', 'i')
            UNION ALL
            SELECT format('CONSTRAINT %%I ON __TARGET__.%%I', con.conname, c.relname),
                   d.description
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_description d ON d.classoid = 'pg_constraint'::regclass AND d.objoid = con.oid
            WHERE c.relnamespace = %s::oid
            UNION ALL
            SELECT format('FUNCTION __TARGET__.%%I(%%s)', p.proname,
                          pg_get_function_identity_arguments(p.oid)), d.description
            FROM pg_proc p JOIN pg_description d
              ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
            WHERE p.pronamespace = %s::oid
            UNION ALL
            SELECT format('TRIGGER %%I ON __TARGET__.%%I', t.tgname, c.relname), d.description
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_description d ON d.classoid = 'pg_trigger'::regclass AND d.objoid = t.oid
            WHERE c.relnamespace = %s::oid
        ) comments ORDER BY 1
        """,
        [namespace] * 4,
    )
    statements += [statement for (statement,) in cursor.fetchall()]
    return statements


@dataclass(frozen=True)
class CloneResult:
    schema_name: str
    fingerprint: str


def clone_template_into(schema_name: str) -> CloneResult:
    """Create `schema_name` as a copy of the template (structure and seed rows).

    Must run inside a transaction (the caller's): if anything after it fails, the schema goes too.
    Causes a few catalog queries the first time per process and template state, then the shared
    lock, the template's fingerprint, CREATE SCHEMA and one statement per object of the template.
    """
    if not is_valid_schema_name(schema_name):
        raise ValueError(f"Invalid schema name {schema_name!r}.")
    if not connection.in_atomic_block:
        raise RuntimeError("clone_template_into() must run inside transaction.atomic().")
    ensure_template_fingerprint_cached()
    with connection.cursor() as cursor:
        # Shared: any number of clones at once; a template rebuild waits for them (and vice versa).
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_TEMPLATE_LOCK])
        # Read under the lock: another process may have migrated the template since we cached
        # a script, and the client must record the state it was really cloned from.
        fingerprint = template_fingerprint(cursor)
        if fingerprint is None:
            raise RuntimeError(f"The template schema {TEMPLATE_SCHEMA} has disappeared.")
        script = _clone_script(cursor, fingerprint)
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        for statement in script:
            cursor.execute(statement.replace("__TARGET__.", f'"{schema_name}".'))
    return CloneResult(schema_name=schema_name, fingerprint=fingerprint)


_known_fingerprint: str | None = None


def ensure_template_fingerprint_cached() -> str:
    """The template's fingerprint, checking the database once per process (then free)."""
    global _known_fingerprint
    if _known_fingerprint is None:
        _known_fingerprint = ensure_template()
    return _known_fingerprint


def forget_template_state() -> None:
    """Drop the per-process caches (after migrations ran in this process, and in tests)."""
    global _known_fingerprint, _expected_migrations
    _known_fingerprint = None
    _expected_migrations = None
    with _lock:
        _script_cache.clear()
