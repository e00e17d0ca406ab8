"""Template-clone provisioning: clones equal migrated schemas, work, and survive concurrency.

Most tests run in the usual rolled-back transaction (DDL is transactional in PostgreSQL, so
schemas made there vanish too). The concurrency and template-rebuild tests need committed data
and several connections: they use `django_db_blocker` directly and clean up after themselves.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import translation

from tenants import provisioning, services
from tenants.models import ClientOrganisation, Domain, Firm
from tenants.trail import Operator
from tests.locks import waits_for_lock

TEMPLATE = provisioning.TEMPLATE_SCHEMA

# Each query describes one kind of object of the schema named by %(schema)s. pg_catalog alone is
# on the search path meanwhile, so every name the catalog functions print is schema-qualified and
# the schema's own name can be replaced by a placeholder.
CATALOG_QUERIES = {
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, c.reloptions::text, c.relacl::text,
               c.relrowsecurity, obj_description(c.oid, 'pg_class')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s
    """,
    "columns": """
        SELECT c.relname, a.attname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
               format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, co.collname,
               a.attstorage, col_description(c.oid, a.attnum)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "sequences": """
        SELECT s.relname, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, q.seqmax,
               q.seqmin, q.seqcache, q.seqcycle, d.deptype, t.relname, ta.attname
        FROM pg_sequence q
        JOIN pg_class s ON s.oid = q.seqrelid
        JOIN pg_namespace n ON n.oid = s.relnamespace
        LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
             AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        LEFT JOIN pg_class t ON t.oid = d.refobjid
        LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
        WHERE n.nspname = %(schema)s
    """,
    "constraints": """
        SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid),
               con.condeferrable, con.condeferred, con.convalidated, i.relname,
               obj_description(con.oid, 'pg_constraint')
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_class i ON i.oid = con.conindid
        WHERE n.nspname = %(schema)s
    """,
    "indexes": """
        SELECT t.relname, ic.relname, pg_get_indexdef(i.indexrelid), i.indisprimary,
               i.indisunique, i.indisvalid, i.indisclustered, obj_description(ic.oid, 'pg_class')
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = ic.relnamespace
        WHERE n.nspname = %(schema)s
    """,
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(schema)s AND NOT t.tgisinternal
    """,
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prokind, p.proacl::text,
               CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = %(schema)s
    """,
    "types": """
        SELECT t.typname, t.typtype, t.typcategory
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = %(schema)s
    """,
    "rules_and_policies": """
        SELECT 'rule', tablename, rulename, definition FROM pg_rules WHERE schemaname = %(schema)s
        UNION ALL
        SELECT 'policy', tablename, policyname, concat_ws(' ', permissive, roles::text, cmd, qual,
               with_check)
        FROM pg_policies WHERE schemaname = %(schema)s
    """,
}


def describe_schema(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Describe every object and row of `schema` from the catalog, its own name replaced by `<s>`.

    Migration rows are compared as (app, name): ids and times depend on when they ran.
    """
    qualifier = re.compile(rf'(?<![\w"]){re.escape(schema)}\.|"{re.escape(schema)}"\.')

    def normalise(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(qualifier.sub("<s>.", v) if isinstance(v, str) else v for v in row)

    description: dict[str, list[tuple[Any, ...]]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path TO pg_catalog")
        for kind, query in CATALOG_QUERIES.items():
            cursor.execute(query, {"schema": schema})
            description[kind] = sorted(
                (normalise(row) for row in cursor.fetchall()), key=lambda row: repr(row)
            )
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY app, name')  # noqa: S608
        description["django_migrations"] = cursor.fetchall()
        rows = []
        for (table,) in [row[:1] for row in description["relations"] if row[1] == "r"]:
            if table != "django_migrations":
                cursor.execute(f'SELECT row_to_json(t)::text FROM "{schema}"."{table}" t')  # noqa: S608
                rows += [(table, text) for (text,) in cursor.fetchall()]
        description["rows"] = sorted(rows)
    return description


def names(description: dict[str, list[tuple[Any, ...]]], kind: str, column: int = 1) -> set[str]:
    return {row[column] for row in description[kind]}


def schemas_like(prefix: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [prefix])
        return {name for (name,) in cursor.fetchall()}


def migrate_the_stock_way(schema: str) -> None:
    """Build `schema` as stock django-tenants does: CREATE SCHEMA, then replay every migration."""
    ClientOrganisation(schema_name=schema).create_schema(check_if_exists=True, verbosity=0)
    connection.set_schema_to_public()


def insert_log_entry(schema: str, reference: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{schema}".audit_accesslogentry '  # noqa: S608 (fixed names)
            "(at, actor_email, action, object_type, object_reference, detail) "
            "VALUES (now(), 'adviser@acme.test', 'read', 'case', %s, '') RETURNING id",
            [reference],
        )
        return cursor.fetchone()[0]


def test_clone_is_identical_to_a_schema_built_by_the_migrations(db):
    migrated, cloned = provisioning.new_schema_name(), provisioning.new_schema_name()
    migrate_the_stock_way(migrated)
    with transaction.atomic():
        provisioning.clone_template_into(cloned)

    expected = describe_schema(migrated)
    actual = describe_schema(cloned)

    assert actual == expected
    # Not vacuous: the description holds the objects the tenant apps actually define.
    assert {"audit_accesslogentry", "django_migrations"} <= names(actual, "relations", 0)
    assert {"audit_accesslogentry_append_only", "audit_accesslogentry_no_truncate"} == names(
        actual, "triggers"
    )
    assert names(actual, "functions", 0) == {"audit_refuse_change"}
    assert {"audit_accesslogentry_pkey", "django_migrations_pkey"} <= names(actual, "constraints")
    assert len(actual["indexes"]) >= 5  # two pkeys, `at`, and object_reference (plain and _like)
    assert set(actual["django_migrations"]) == provisioning.expected_migrations()
    assert ("audit", "0002_append_only") in actual["django_migrations"]
    assert {"audit_accesslogentry_id_seq", "django_migrations_id_seq"} <= {
        row[0] for row in actual["sequences"]
    }


def test_clone_does_not_depend_on_the_template(db):
    cloned = provisioning.new_schema_name()
    with transaction.atomic():
        provisioning.clone_template_into(cloned)
    before = describe_schema(cloned)

    with connection.cursor() as cursor:
        # CASCADE would take along (and so change) any object of the clone that refers to it.
        cursor.execute(f'DROP SCHEMA "{TEMPLATE}" CASCADE')
    try:
        assert describe_schema(cloned) == before
        assert insert_log_entry(cloned, "R-1") == 1
    finally:
        provisioning.forget_template_state()


def test_clone_can_be_migrated_back_and_forth_like_a_migrated_schema(db):
    migrated, cloned = provisioning.new_schema_name(), provisioning.new_schema_name()
    migrate_the_stock_way(migrated)
    with transaction.atomic():
        provisioning.clone_template_into(cloned)

    # Unapplying drops the triggers, function and table by the names the migrations gave them.
    latest = MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes("audit")[0][1]
    for target in ("zero", latest):
        call_command(
            "migrate_schemas",
            "audit",
            target,
            schema_name=cloned,
            tenant=True,
            interactive=False,
            verbosity=0,
        )
        connection.set_schema_to_public()

    assert describe_schema(cloned) == describe_schema(migrated)


def test_append_only_trigger_refuses_update_delete_and_truncate_in_a_clone(db):
    cloned = provisioning.new_schema_name()
    with transaction.atomic():
        provisioning.clone_template_into(cloned)
    entry = insert_log_entry(cloned, "R-7")

    statements = {
        "UPDATE": f"UPDATE \"{cloned}\".audit_accesslogentry SET detail = 'rewritten'",  # noqa: S608
        "DELETE": f'DELETE FROM "{cloned}".audit_accesslogentry',  # noqa: S608
        "TRUNCATE": f'TRUNCATE "{cloned}".audit_accesslogentry',
    }
    for operation, sql in statements.items():
        refused = pytest.raises(ProgrammingError, match=rf"append-only \({operation} refused\)")
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, object_reference, detail FROM "{cloned}".audit_accesslogentry')  # noqa: S608
        assert cursor.fetchall() == [(entry, "R-7", "")]


def test_identity_sequences_of_a_clone_start_after_the_template_rows(db):
    provisioning.forget_template_state()
    try:
        # Give the template two seed rows (rolled back with the test); the script must copy them.
        template_ids = [insert_log_entry(TEMPLATE, "seed-1"), insert_log_entry(TEMPLATE, "seed-2")]
        first, second = provisioning.new_schema_name(), provisioning.new_schema_name()
        with transaction.atomic():
            provisioning.clone_template_into(first)
            provisioning.clone_template_into(second)

        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT id, object_reference FROM "{first}".audit_accesslogentry ORDER BY id'  # noqa: S608
            )
            assert cursor.fetchall() == [(template_ids[0], "seed-1"), (template_ids[1], "seed-2")]
        after_seeds = max(template_ids) + 1
        assert [insert_log_entry(first, f"R-{n}") for n in range(3)] == [
            after_seeds,
            after_seeds + 1,
            after_seeds + 2,
        ]
        # Each schema has its own sequence: neither the other clone nor the template moved on.
        assert insert_log_entry(second, "R-x") == after_seeds
        assert insert_log_entry(TEMPLATE, "seed-3") == after_seeds

        with connection.cursor() as cursor:
            cursor.execute(f'SELECT max(id) FROM "{first}".django_migrations')  # noqa: S608
            highest = cursor.fetchone()[0]
            cursor.execute(
                f'INSERT INTO "{first}".django_migrations (app, name, applied) '  # noqa: S608
                "VALUES ('audit', '9999_probe', now()) RETURNING id"
            )
            assert cursor.fetchone()[0] == highest + 1
    finally:
        provisioning.forget_template_state()


def test_clone_without_template_rows_numbers_from_one(db):
    cloned = provisioning.new_schema_name()
    with transaction.atomic():
        provisioning.clone_template_into(cloned)
    assert [insert_log_entry(cloned, f"R-{n}") for n in range(3)] == [1, 2, 3]


PROBE_OBJECTS = """
CREATE TABLE <template>.probe_parent (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    code varchar(20) NOT NULL CONSTRAINT probe_parent_code_uniq UNIQUE,
    quantity integer NOT NULL DEFAULT 0
        CONSTRAINT probe_parent_quantity_check CHECK (quantity >= 0),
    obsolete text,
    doubled integer GENERATED ALWAYS AS (quantity * 2) STORED,
    created timestamptz NOT NULL DEFAULT now(),
    serial integer NOT NULL
);
CREATE UNIQUE INDEX probe_parent_serial_uniq ON <template>.probe_parent (serial);
ALTER TABLE <template>.probe_parent DROP COLUMN obsolete;
COMMENT ON TABLE <template>.probe_parent IS 'Probe parent';
COMMENT ON COLUMN <template>.probe_parent.code IS 'Short code';
CREATE TABLE <template>.probe_child (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id bigint NOT NULL
        CONSTRAINT probe_child_parent_fk REFERENCES <template>.probe_parent(id),
    label text NOT NULL COLLATE "C",
    parent_code varchar(20) CONSTRAINT probe_child_code_fk
        REFERENCES <template>.probe_parent(code) DEFERRABLE INITIALLY DEFERRED,
    parent_serial integer
        CONSTRAINT probe_child_serial_fk REFERENCES <template>.probe_parent(serial),
    CONSTRAINT probe_child_label_excl EXCLUDE USING btree (label WITH =)
);
CREATE INDEX probe_child_label_upper ON <template>.probe_child (upper(label)) WHERE label <> '';
CREATE FUNCTION <template>.probe_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.label := NEW.label || '!'; RETURN NEW; END $$;
CREATE TRIGGER probe_child_stamp BEFORE INSERT ON <template>.probe_child
    FOR EACH ROW EXECUTE FUNCTION <template>.probe_stamp();
COMMENT ON INDEX <template>.probe_parent_serial_uniq IS 'Serial';
COMMENT ON CONSTRAINT probe_parent_quantity_check ON <template>.probe_parent IS 'Never negative';
COMMENT ON FUNCTION <template>.probe_stamp() IS 'Stamps';
COMMENT ON TRIGGER probe_child_stamp ON <template>.probe_child IS 'Stamp on insert';
INSERT INTO <template>.probe_parent (code, quantity, serial) VALUES ('a', 1, 10), ('b', 2, 20);
INSERT INTO <template>.probe_child (parent_id, label, parent_code, parent_serial)
    VALUES (2, 'x', 'b', 20), (1, 'y', 'a', 10);
""".replace("<template>", TEMPLATE)


def test_clone_copies_every_kind_of_object_the_cloner_supports(db):
    """Beyond what the tenant apps define today: comments on everything, collations, generated
    and dropped columns, identity ALWAYS, non-deferrable foreign keys (one to a unique index, not
    a constraint), exclusion, expression and partial indexes, and seed rows (copied as they are,
    not fired through the INSERT trigger again)."""
    provisioning.forget_template_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute(PROBE_OBJECTS)
        cloned = provisioning.new_schema_name()
        with transaction.atomic():
            provisioning.clone_template_into(cloned)

        template = describe_schema(TEMPLATE)
        assert describe_schema(cloned) == template
        assert {"probe_parent", "probe_child"} <= names(template, "relations", 0)
        assert (
            "probe_child",
            '{"id":1,"parent_id":2,"label":"x!","parent_code":"b","parent_serial":20}',
        ) in template["rows"]
        assert len([row for row in template["rows"] if row[0].startswith("probe_")]) == 4
        assert ("probe_parent", "Probe parent") in [(r[0], r[6]) for r in template["relations"]]

        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{cloned}".probe_parent (code, quantity, serial) '  # noqa: S608
                "VALUES ('c', 3, 30) RETURNING id, doubled"
            )
            assert cursor.fetchone() == (3, 6)
            cursor.execute(
                f"INSERT INTO \"{cloned}\".probe_child (parent_id, label) VALUES (3, 'z') "  # noqa: S608
                "RETURNING id, label"
            )
            assert cursor.fetchone() == (3, "z!")
    finally:
        provisioning.forget_template_state()


@pytest.mark.parametrize(
    "sql",
    [
        f"CREATE VIEW {TEMPLATE}.probe_view AS SELECT 1 AS one",
        f"CREATE SEQUENCE {TEMPLATE}.probe_counter",
        f"CREATE TYPE {TEMPLATE}.probe_mood AS ENUM ('calm', 'tense')",
    ],
)
def test_clone_refuses_a_template_with_objects_it_cannot_copy(db, sql):
    provisioning.forget_template_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
        before = schemas_like("c_")
        with pytest.raises(provisioning.UnsupportedTemplateObject), transaction.atomic():
            provisioning.clone_template_into(provisioning.new_schema_name())
        assert schemas_like("c_") == before
    finally:
        provisioning.forget_template_state()


@pytest.mark.parametrize(
    "name",
    [
        "public",
        TEMPLATE,
        "c_short",
        "C_ABCDEFGHIJKL",
        "c_abcdefghijk;",
        'c_abc"defghij',
        "c_abcdefghijklm",
        "",
    ],
)
def test_clone_refuses_invalid_schema_names(db, name):
    before = schemas_like("")
    with pytest.raises(ValueError, match="Invalid schema name"), transaction.atomic():
        provisioning.clone_template_into(name)
    assert schemas_like("") == before


def test_clone_refuses_to_run_outside_a_transaction(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        assert not connection.in_atomic_block
        before = schemas_like("c_")
        with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
            provisioning.clone_template_into(provisioning.new_schema_name())
        assert schemas_like("c_") == before
        connection.close()


# --- Committed data, several connections -------------------------------------------------------


def remove_clients(slugs: list[str], schemas_before: set[str]) -> None:
    """Delete the clients we made and every schema that appeared since `schemas_before`."""
    for client in ClientOrganisation.objects.filter(firm__slug="acme", slug__in=slugs):
        for domain in Domain.objects.filter(tenant=client):
            domain.delete()
        client.delete()
    with connection.cursor() as cursor:
        for schema in schemas_like("c_") - schemas_before:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')


def create_at_once(slugs: list[str]) -> dict[str, Any]:
    """Call client_create for each slug in its own thread and connection, released together."""
    firm = Firm.objects.get(slug="acme")
    barrier = threading.Barrier(len(slugs))
    outcomes: dict[str, Any] = {}

    def create(index: int, slug: str) -> None:
        try:
            translation.activate("en")
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index] = services.client_create(
                actor=Operator("test"),
                firm=firm,
                slug=slug,
                name=f"Concurrent {slug}",
                employee_count=50,
            )
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i, s)) for i, s in enumerate(slugs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_two_concurrent_creations_both_succeed(django_db_setup, django_db_blocker):
    slugs = ["conc-one", "conc-two"]
    with django_db_blocker.unblock():
        before = schemas_like("c_")
        try:
            outcomes = create_at_once(slugs)

            assert [type(outcomes[i]) for i in range(2)] == [ClientOrganisation] * 2
            clients = ClientOrganisation.objects.filter(firm__slug="acme", slug__in=slugs)
            assert sorted(c.slug for c in clients) == slugs
            assert schemas_like("c_") - before == {c.schema_name for c in clients}
            assert sorted(
                Domain.objects.filter(tenant__in=clients).values_list("domain", flat=True)
            ) == [
                "conc-one.acme.vertrouwd.localhost",
                "conc-two.acme.vertrouwd.localhost",
            ]
            for client in clients:
                assert describe_schema(client.schema_name)["django_migrations"] == sorted(
                    provisioning.expected_migrations()
                )
        finally:
            remove_clients(slugs, before)
            connection.close()


def test_two_concurrent_creations_with_the_same_slug_one_wins(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        before = schemas_like("c_")
        clients_before = ClientOrganisation.objects.count()
        try:
            outcomes = create_at_once(["conc-same", "conc-same"])

            winners = [o for o in outcomes.values() if isinstance(o, ClientOrganisation)]
            losers = [o for o in outcomes.values() if not isinstance(o, ClientOrganisation)]
            assert len(winners) == 1
            assert [type(loser) for loser in losers] == [ValidationError]
            # Refused up front, or (if both passed the checks) at the unique index.
            assert losers[0].messages[0] in {
                "This firm already has a client with the short name “conc-same”.",
                "The address conc-same.acme.vertrouwd.localhost is already taken.",
            }
            assert ClientOrganisation.objects.count() == clients_before + 1
            assert schemas_like("c_") - before == {winners[0].schema_name}
        finally:
            remove_clients(["conc-same"], before)
            connection.close()


def test_creation_that_loses_the_race_at_insert_leaves_no_schema(
    django_db_setup, django_db_blocker
):
    """Both pass the up-front checks; the second blocks on the unique index, then gives up."""
    with django_db_blocker.unblock():
        firm = Firm.objects.get(slug="acme")
        before = schemas_like("c_")
        created = threading.Event()
        release = threading.Event()
        outcomes: dict[str, Any] = {}
        second_pid: list[int] = []

        def first() -> None:
            try:
                with transaction.atomic():
                    outcomes["first"] = services.client_create(
                        actor=Operator("test"),
                        firm=firm,
                        slug="conc-race",
                        name="First",
                        employee_count=5,
                    )
                    created.set()
                    release.wait(timeout=30)
            except Exception as error:
                outcomes["first"] = error
                created.set()
            finally:
                connection.close()

        def second() -> None:
            try:
                translation.activate("en")
                connection.ensure_connection()
                second_pid.append(connection.connection.info.backend_pid)
                created.wait(timeout=30)
                outcomes["second"] = services.client_create(
                    actor=Operator("test"),
                    firm=firm,
                    slug="conc-race",
                    name="Second",
                    employee_count=5,
                )
            except Exception as error:
                outcomes["second"] = error
            finally:
                connection.close()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        try:
            for thread in threads:
                thread.start()
            # Commit the first creation only once the second waits for its row lock.
            waiting = waits_for_lock(second_pid)
            release.set()
            for thread in threads:
                thread.join(timeout=60)

            assert waiting, "the second creation never blocked on the first one's row"
            assert isinstance(outcomes["first"], ClientOrganisation)
            assert isinstance(outcomes["second"], ValidationError)
            assert outcomes["second"].messages == [
                "The address conc-race.acme.vertrouwd.localhost is already taken."
            ]
            assert schemas_like("c_") - before == {outcomes["first"].schema_name}
            assert ClientOrganisation.objects.get(firm=firm, slug="conc-race").name == "First"
        finally:
            release.set()
            remove_clients(["conc-race"], before)
            connection.close()


def no_op_leaf_migration() -> tuple[str, str]:
    """A migration of a shared app that nothing depends on: applying it in a tenant schema only
    records it, so deleting its row makes the template stale without changing its structure."""
    from django.conf import settings

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    candidates = sorted(
        key
        for key in graph.leaf_nodes()
        if key[0] not in {app.rsplit(".", 1)[-1] for app in settings.TENANT_APPS}
        and not graph.node_map[key].children
    )
    return candidates[0]


def test_ensure_template_rebuilds_a_stale_or_missing_template(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            provisioning.forget_template_state()
            current = provisioning.ensure_template()
            structure = describe_schema(TEMPLATE)
            app, name = no_op_leaf_migration()

            # Stale: one migration missing.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {TEMPLATE}.django_migrations WHERE app = %s AND name = %s",  # noqa: S608
                    [app, name],
                )
                assert cursor.rowcount == 1
                stale = provisioning.template_fingerprint(cursor)
            assert stale not in (None, current)
            provisioning.forget_template_state()
            assert provisioning.ensure_template() == current
            assert describe_schema(TEMPLATE) == structure

            # Missing altogether.
            with connection.cursor() as cursor:
                cursor.execute(f"DROP SCHEMA {TEMPLATE} CASCADE")
                assert provisioning.template_fingerprint(cursor) is None
            provisioning.forget_template_state()
            assert provisioning.ensure_template() == current
            assert describe_schema(TEMPLATE) == structure

            # And the rebuilt template clones as before.
            cloned = provisioning.new_schema_name()
            with transaction.atomic():
                provisioning.clone_template_into(cloned)
                assert describe_schema(cloned) == structure
                transaction.set_rollback(True)
        finally:
            provisioning.forget_template_state()
            provisioning.ensure_template()
            connection.close()
