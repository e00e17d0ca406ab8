"""The pool of ready client schemas (tenants.schema_pool): a creation claims one instead of
cloning, a rolled-back creation gives it back, two creations at once get two different schemas
without waiting, and a schema behind the template is never handed out but replaced."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from cases.models import Theme
from tenants import provisioning, schema_pool, services
from tenants.models import ClientOrganisation, Domain, Firm, ReadySchema
from tenants.trail import Operator
from tests.test_tenants_provisioning import describe_schema, remove_clients, schemas_like


def _create(firm: Firm, slug: str) -> ClientOrganisation:
    return services.client_create(
        actor=Operator("test"), firm=firm, slug=slug, name="Zorggroep Voorraad", employee_count=40
    )


def test_refill_makes_ready_schemas_identical_to_a_clone_and_creation_claims_one(cast):
    assert schema_pool.pool_refill(size=2) == (2, 0)
    ready = list(ReadySchema.objects.order_by("id").values_list("schema_name", flat=True))
    fingerprint = provisioning.ensure_template_fingerprint_cached()
    assert len(ready) == 2 and set(ready) <= schemas_like("c_")
    assert set(ReadySchema.objects.values_list("fingerprint", flat=True)) == {fingerprint}
    with transaction.atomic():
        reference = provisioning.clone_template_into(provisioning.new_schema_name()).schema_name
        assert describe_schema(ready[0]) == describe_schema(reference)
        transaction.set_rollback(True)
    before = schemas_like("c_")

    client = _create(cast.acme, "voorraad-een")

    assert client.schema_name == ready[0]  # the oldest ready one
    assert client.schema_fingerprint == fingerprint
    assert schemas_like("c_") == before  # claimed, nothing cloned
    assert list(ReadySchema.objects.values_list("schema_name", flat=True)) == ready[1:]
    with tenant_context(client):
        # The firm's themes are applied to the claimed schema as to a clone.
        assert Theme.objects.filter(code="bullying", is_active=True).exists()


def test_a_creation_that_fails_gives_its_schema_back(cast):
    schema_pool.pool_refill(size=1)
    ready = ReadySchema.objects.get().schema_name

    with pytest.raises(RuntimeError), transaction.atomic():
        assert schema_pool.client_schema_take().schema_name == ready
        raise RuntimeError("later step failed")
    assert ReadySchema.objects.get().schema_name == ready
    assert ready in schemas_like("c_")


def test_an_empty_pool_clones(cast):
    assert not ReadySchema.objects.exists()
    before = schemas_like("c_")
    client = _create(cast.acme, "voorraad-leeg")
    assert schemas_like("c_") - before == {client.schema_name}


def test_schemas_behind_the_template_are_never_claimed_and_are_replaced(cast):
    schema_pool.pool_refill(size=1)
    behind = ReadySchema.objects.get()
    ReadySchema.objects.filter(pk=behind.pk).update(fingerprint="0" * 16)  # as after a deploy
    before = schemas_like("c_")

    client = _create(cast.acme, "voorraad-oud")

    assert client.schema_name != behind.schema_name
    assert schemas_like("c_") - before == {client.schema_name}  # cloned instead
    assert schema_pool.pool_refill(size=1) == (1, 1)
    assert behind.schema_name not in schemas_like("c_")
    fingerprint = provisioning.ensure_template_fingerprint_cached()
    assert list(ReadySchema.objects.values_list("fingerprint", flat=True)) == [fingerprint]


@override_settings(SCHEMA_POOL_SIZE=3)
def test_refill_tops_up_to_the_setting_and_a_second_one_adds_nothing(cast):
    assert schema_pool.pool_refill() == (3, 0)
    assert schema_pool.pool_refill() == (0, 0)
    assert ReadySchema.objects.count() == 3


def test_two_creations_at_once_claim_two_schemas_without_waiting(
    django_db_setup, django_db_blocker
):
    slugs = ["voorraad-a", "voorraad-b"]
    with django_db_blocker.unblock():
        before = schemas_like("c_")
        firm = Firm.objects.get(slug="acme")
        try:
            schema_pool.pool_refill(size=2)
            ready = set(ReadySchema.objects.values_list("schema_name", flat=True))
            claimed = threading.Event()
            release = threading.Event()
            outcome: dict[str, object] = {}

            def first() -> None:
                try:
                    with transaction.atomic():
                        outcome["first"] = schema_pool.client_schema_take().schema_name
                        claimed.set()
                        release.wait(timeout=30)  # holds its row lock meanwhile
                        transaction.set_rollback(True)  # as a creation that fails
                except Exception as error:
                    outcome["first"] = error
                finally:
                    claimed.set()
                    connection.close()

            holder = threading.Thread(target=first)
            holder.start()
            assert claimed.wait(timeout=30)
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    # A claim that waited for the other's row lock would fail here, not hang.
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                    second = schema_pool.client_schema_take().schema_name
            finally:
                release.set()
                holder.join(timeout=30)
            assert {outcome["first"], second} == ready
            # The first one rolled back: its schema is ready again; the second one's is gone.
            assert set(ReadySchema.objects.values_list("schema_name", flat=True)) == {
                outcome["first"]
            }
            clients = [_create(firm, slug) for slug in slugs]
            assert clients[0].schema_name == outcome["first"]
            assert Domain.objects.filter(tenant__in=clients).count() == 2
        finally:
            ReadySchema.objects.all().delete()
            remove_clients(slugs, before)
            connection.close()
