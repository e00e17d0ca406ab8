"""Fast creation of client-organisation schemas by cloning a template schema.

Stock django-tenants replays every migration for a new tenant (seconds, growing with the app)
and its `clone_schema` drops and recreates a large PL/pgSQL function per call, which is unsafe when
two clients are created at once. We instead keep one template schema at the latest migration and
copy its structure with plain DDL generated from the catalog:

* tables with `CREATE TABLE … (LIKE template.table INCLUDING DEFAULTS, IDENTITY, …)`;
* constraints and indexes re-created under their *original names* (Django drops named
  constraints and indexes by name in later migrations, so `INCLUDING INDEXES`, which renames
  them, would break the next migration);
* functions and triggers from `pg_get_functiondef` / `pg_get_triggerdef`;
* the template's rows (`django_migrations` and any seed data), with identity sequences moved on.

The DDL is generated once per process and template state, and runs as one statement batch.
Only shared advisory locks are taken while cloning, so concurrent creations proceed in parallel;
rebuilding the template takes the exclusive lock.
`tests/test_provisioning.py` checks that a clone is identical, object by object, to a schema
built by running the migrations.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

TEMPLATE_SCHEMA = "vertrouwd_template"
# Any fixed 64-bit number; shared by every process that clones or rebuilds the template.
_TEMPLATE_LOCK = 7_202_611_260

_SCHEMA_NAME = re.compile(r"^c_[a-z0-9]{12}$")
_script_cache: dict[str, str] = {}
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
    applied = sorted(applied_migrations(cursor, TEMPLATE_SCHEMA))
    return hashlib.sha256(repr(applied).encode()).hexdigest()[:16]


def ensure_template(*, verbosity: int = 0) -> str:
    """Make sure the template schema exists at the latest migration; return its fingerprint.

    Causes a few queries when the template is current; runs the migrations (seconds) under an
    exclusive advisory lock when it is missing or behind, e.g. once after a deploy.
    """
    with connection.cursor() as cursor:
        fingerprint = template_fingerprint(cursor)
        if fingerprint is not None and applied_migrations(cursor, TEMPLATE_SCHEMA) >= expected_migrations():
            return fingerprint
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_TEMPLATE_LOCK])
            if not schema_exists(cursor, TEMPLATE_SCHEMA):
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


def _clone_script(cursor, fingerprint: str) -> str:
    """Generate (or reuse) the DDL that copies the template into a schema named `__TARGET__`."""
    with _lock:
        if fingerprint in _script_cache:
            return _script_cache[fingerprint]
    script = _generate_clone_script(cursor)
    with _lock:
        _script_cache[fingerprint] = script
    return script


def _generate_clone_script(cursor) -> str:
    template = TEMPLATE_SCHEMA
    # With only pg_catalog on the search path every name the catalog functions print is
    # schema-qualified, so replacing the template's qualifier is exact.
    cursor.execute("SET LOCAL search_path TO pg_catalog")

    cursor.execute(
        """
        SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind NOT IN ('r', 'i', 'S')
        """,
        [template],
    )
    unsupported = cursor.fetchall()
    if unsupported:
        raise UnsupportedTemplateObject(f"Cannot clone {unsupported!r}: teach tenants.provisioning.")

    cursor.execute(
        """
        SELECT s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
        WHERE n.nspname = %s AND s.relkind = 'S'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = s.oid AND d.deptype IN ('i', 'a'))
        """,
        [template],
    )
    standalone_sequences = cursor.fetchall()
    if standalone_sequences:
        raise UnsupportedTemplateObject(f"Standalone sequences {standalone_sequences!r} are not cloned.")

    statements: list[str] = []

    cursor.execute(
        """
        SELECT p.oid, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = %s ORDER BY p.proname
        """,
        [template],
    )
    statements += [definition for _oid, definition in cursor.fetchall()]

    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname
        """,
        [template],
    )
    tables = [name for (name,) in cursor.fetchall()]
    for table in tables:
        statements.append(
            f'CREATE TABLE __TARGET__."{table}" (LIKE __TEMPLATE__."{table}" INCLUDING DEFAULTS '
            "INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
        )

    # Primary keys, unique and exclusion constraints before foreign keys, which need them.
    cursor.execute(
        """
        SELECT c.relname, con.conname, pg_get_constraintdef(con.oid), con.contype
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND con.contype IN ('p', 'u', 'x', 'c', 'f')
        ORDER BY CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END,
                 c.relname, con.conname
        """,
        [template],
    )
    for table, name, definition, _kind in cursor.fetchall():
        statements.append(f'ALTER TABLE __TARGET__."{table}" ADD CONSTRAINT "{name}" {definition}')

    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        [template],
    )
    statements += [definition for (definition,) in cursor.fetchall()]

    cursor.execute(
        """
        SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY t.tgname
        """,
        [template],
    )
    statements += [definition for (definition,) in cursor.fetchall()]

    # Rows: django_migrations plus whatever data migrations seeded (a handful of small tables).
    for table in tables:
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{template}"."{table}")')  # noqa: S608
        if not cursor.fetchone()[0]:
            continue
        statements.append(f'INSERT INTO __TARGET__."{table}" SELECT * FROM __TEMPLATE__."{table}"')
        cursor.execute(
            """
            SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relname = %s AND a.attidentity <> '' AND a.attnum > 0
            """,
            [template, table],
        )
        for (column,) in cursor.fetchall():
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('__TARGET__.\"{table}\"', '{column}'), "
                f'(SELECT max("{column}") FROM __TARGET__."{table}"))'
            )
    cursor.execute("SET LOCAL search_path TO public")

    qualifier = re.compile(rf'(?<![\w"]){re.escape(template)}\.|"{re.escape(template)}"\.')
    # Our own references to the template (LIKE, INSERT … SELECT) are placeholders until now.
    script = ";\n".join(qualifier.sub("__TARGET__.", statement) for statement in statements)
    return script.replace("__TEMPLATE__.", f'"{template}".') + ";"


@dataclass(frozen=True)
class CloneResult:
    schema_name: str
    fingerprint: str


def clone_template_into(schema_name: str) -> CloneResult:
    """Create `schema_name` as a copy of the template (structure and seed rows).

    Must run inside a transaction (the caller's): if anything after it fails, the schema goes too.
    Causes a few catalog queries the first time per process, then two statements.
    """
    if not is_valid_schema_name(schema_name):
        raise ValueError(f"Invalid schema name {schema_name!r}.")
    if not connection.in_atomic_block:
        raise RuntimeError("clone_template_into() must run inside transaction.atomic().")
    fingerprint = ensure_template_fingerprint_cached()
    with connection.cursor() as cursor:
        # Shared: any number of clones at once; a template rebuild waits for them (and vice versa).
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_TEMPLATE_LOCK])
        script = _clone_script(cursor, fingerprint)
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        cursor.execute(script.replace("__TARGET__.", f'"{schema_name}".'))
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
