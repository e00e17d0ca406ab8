"""On a Citus cluster with schema-based sharding (tests/citus.py): a client created through the
product is a distributed schema placed whole on a worker, its case flow works there (append-only
access log included), it survives an export/import round trip, and offboarding removes it from
every node. The template stays on the coordinator.

Run with CITUS_URL naming the coordinator; skipped with a message otherwise. The other tenant
test files run against Citus the same way (docs/scaling.md lists which were run).
"""

from __future__ import annotations

import datetime
import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases.models import Case, Theme
from tenants import crypto, provisioning, schema_pool, services
from tenants.models import ClientOrganisation, Firm, ReadySchema
from tenants.trail import Operator
from tests import citus
from tests.cast import sign_in
from tests.live import LiveFirm, create_firm, remove_firm

pytestmark = [
    pytest.mark.citus,
    pytest.mark.skipif(not citus.citus_url(), reason=citus.SKIP_REASON),
]


def _placement(schema: str) -> tuple[int, set[int]]:
    """(colocation id, ports of the nodes holding its tables) of a distributed schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT colocation_id FROM citus_schemas WHERE schema_name = %s::regnamespace",
            [schema],
        )
        row = cursor.fetchone()
        assert row is not None, f"{schema} is not a distributed schema"
        cursor.execute(
            "SELECT DISTINCT nodeport FROM citus_shards WHERE table_name::text LIKE %s",
            [f"{schema}.%"],
        )
        return row[0], {port for (port,) in cursor.fetchall()}


def _worker_ports() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nodeport FROM pg_dist_node WHERE groupid <> 0")
        return {port for (port,) in cursor.fetchall()}


def _schema_on_node(port: int, schema: str) -> bool:
    url = citus._with_database(
        citus.citus_url(), connection.settings_dict["NAME"], host="127.0.0.1", port=port
    )
    with psycopg.connect(url) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
            is not None
        )


def _create(cast, slug: str) -> ClientOrganisation:
    return services.client_create(
        actor=Operator("test"), firm=cast.acme, slug=slug, name="Zorggroep Citus", employee_count=80
    )


def _distributed_schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name::text FROM citus_schemas")
        return {name for (name,) in cursor.fetchall()}


def test_a_new_client_is_one_distributed_schema_on_one_worker(cast):
    client = _create(cast, "citus-plaats")

    colocation, ports = _placement(client.schema_name)
    assert colocation > 0 and len(ports) == 1 and ports <= _worker_ports()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'",
            [client.schema_name],
        )
        tables = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*), count(DISTINCT colocation_id) FROM citus_tables "
            "WHERE table_name::text LIKE %s AND citus_table_type = 'schema'",
            [f"{client.schema_name}.%"],
        )
        assert cursor.fetchone() == (tables, 1)
    # The template is read by the cloner on the coordinator: never distributed.
    assert provisioning.TEMPLATE_SCHEMA not in _distributed_schemas()
    # The cast's clients landed on both workers: schemas are spread, not piled on one node.
    spread = set().union(*(_placement(c.schema_name)[1] for c in (cast.a1, cast.a2, cast.b1)))
    assert spread == _worker_ports()


def test_ready_schemas_are_distributed_before_they_are_claimed(cast):
    assert schema_pool.pool_refill(size=1) == (1, 0)
    ready = ReadySchema.objects.get().schema_name
    assert len(_placement(ready)[1]) == 1
    client = _create(cast, "citus-voorraad")
    assert client.schema_name == ready


def test_the_case_flow_runs_through_the_pages_of_a_client_on_a_worker(cast):
    client = _create(cast, "citus-zaak")
    services.assignment_create(
        actor=Operator("test"),
        client=client,
        adviser=cast.adviser_a,
        starts_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    browser = Client(HTTP_HOST=client.domains.get(is_primary=True).domain)
    sign_in(browser, cast.adviser_a)
    with tenant_context(client):
        themes = list(Theme.objects.filter(code__in=["bullying", "threats"]))
        # Ids continue after the template's seed rows: the coordinator's sequence numbers them.
        template_ids = _template_theme_ids()
        assert sorted(t.pk for t in themes) == sorted(
            template_ids[code] for code in ("bullying", "threats")
        )
    page = browser.get("/cases/new/")
    assert page.status_code == 200
    data = {
        "submission_key": str(page.context["form"].initial["submission_key"]),
        "channel": "phone",
        "case_type": "undesirable_behaviour",
        "themes": [t.pk for t in themes],
        "reporter_role": "employee",
        "accused_relation": "manager",
        "opened_on": timezone.localdate().isoformat(),
    }
    response = browser.post("/cases/new/", data)
    assert response.status_code == 302
    reference = response["Location"].strip("/").split("/")[-1]
    assert browser.get(f"/cases/{reference}/").status_code == 200
    assert browser.get("/cases/").status_code == 200

    with tenant_context(client):
        case = Case.objects.get(reference=reference)
        assert sorted(case.themes.values_list("code", flat=True)) == ["bullying", "threats"]
        assert case.pk == 1  # the template has no cases: the first one
        reads = AccessLogEntry.objects.filter(object_reference=reference, action="read")
        assert reads.count() == 1
        entry = reads.get()
        # The append-only trigger fires on the worker that holds the table.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AccessLogEntry.objects.filter(pk=entry.pk).update(actor_email="x@example.test")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AccessLogEntry.objects.filter(pk=entry.pk).delete()
        assert AccessLogEntry.objects.get(pk=entry.pk).actor_email == entry.actor_email
    # Another adviser of the firm, not assigned: the same 404 as on one server.
    other = Client(HTTP_HOST=client.domains.get(is_primary=True).domain)
    sign_in(other, cast.adviser_a_unassigned)
    assert other.get(f"/cases/{reference}/").status_code == 404


def _template_theme_ids() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT code, id FROM "{provisioning.TEMPLATE_SCHEMA}".cases_theme'  # noqa: S608
        )
        return dict(cursor.fetchall())


def test_export_offboard_import_round_trip_lands_on_a_worker_again(committed_db, tmp_path):
    from cases import services as case_services
    from cases.models import Note

    live = create_firm(
        clients={"x": "Xeno Citus"},
        users={"adviser": ("adviser", None)},
        assignments={"adviser": ["x"]},
    )
    client = live.clients["x"]
    schema = client.schema_name
    try:
        with tenant_context(client):
            case = case_services.case_open(
                actor=live.users["adviser"],
                case_type="undesirable_behaviour",
                themes=[Theme.objects.get(code="bullying")],
                reporter_role="employee",
                accused_relation="colleague",
                channel="phone",
            )
            Note.objects.create(case=case, text="Vertrouwelijk", author_id=live.users["adviser"].pk)
        path = tmp_path / "xeno.vtar.gz"
        call_command("export_client", schema=schema, output=str(path), stdout=io.StringIO())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1",
                [schema],
            )
            tables = [t for (t,) in cursor.fetchall()]

        # Out of the way as an operator moving it would: the schema and public rows go.
        remove_firm(live)
        assert schema not in _distributed_schemas()
        assert not any(_schema_on_node(port, schema) for port in _worker_ports())
        call_command("import_client", str(path), stdout=io.StringIO())  # the firm too

        imported = ClientOrganisation.objects.get(schema_name=schema)
        _colocation, ports = _placement(schema)
        assert len(ports) == 1 and _schema_on_node(ports.pop(), schema)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM citus_tables WHERE table_name::text LIKE %s", [f"{schema}.%"]
            )
            assert cursor.fetchone()[0] == len(tables)
        crypto.forget_data_key()
        with tenant_context(imported):
            assert Note.objects.get().text == "Vertrouwelijk"
            assert Case.objects.get().reference == case.reference

        services.client_offboard(actor=Operator("test"), client=imported)
        assert schema not in _distributed_schemas()
        assert not any(_schema_on_node(port, schema) for port in _worker_ports())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM citus_shards WHERE table_name::text LIKE %s", [f"{schema}.%"]
            )
            assert cursor.fetchone()[0] == 0
    finally:
        again = Firm.objects.filter(slug=live.firm.slug).exclude(pk=live.firm.pk).first()
        if again is not None:  # the imported firm, its users with their old ids
            remove_firm(LiveFirm(firm=again, users=live.users))
        remove_firm(live)
