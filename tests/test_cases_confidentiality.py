"""Confidentiality under attack: database dumps, the append-only log, key rotation, offboarding."""

from __future__ import annotations

import base64
import datetime
import os
import secrets
import subprocess
from pathlib import Path

import pgserver
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import services
from cases.models import Case, ConsentRecord, Conversation, Note, Theme
from tenants import crypto
from tenants.management.commands.rotate_keys import encrypted_columns
from tenants.models import ClientOrganisation, Domain
from tenants.services import client_offboard
from tests.live import create_firm, remove_firm
from workindex.models import CaseworkEntry

TODAY = timezone.localdate()
PG_DUMP = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"


def _plant_everywhere(actor, marker: str) -> tuple[Case, dict[str, str]]:
    """Create a case with a unique string in every encrypted field of the cases app."""
    planted: dict[str, str] = {}

    def mark(label: str) -> str:
        planted[label] = f"{marker}{label.replace('.', '')}"
        return planted[label]

    case = services.case_open(
        actor=actor,
        case_type="integrity",
        themes=[Theme.objects.get(code="integrity")],
        reporter_role="employee",
        accused_relation="manager",
        channel="email",
    )
    case = services.case_update(
        actor=actor,
        case=case,
        expected_version=case.version,
        reporter_identity=mark("cases.Case.reporter_identity"),
        reporter_department=mark("cases.Case.reporter_department"),
    )
    services.conversation_add(
        actor=actor,
        case=case,
        held_on=TODAY,
        duration_minutes=45,
        summary=mark("cases.Conversation.summary"),
        next_steps=mark("cases.Conversation.next_steps"),
    )
    consent = services.consent_record(
        actor=actor,
        case=case,
        scope="referral",
        third_party=mark("cases.ConsentRecord.third_party"),
    )
    services.step_add(actor=actor, case=case, description=mark("cases.Step.description"))
    services.referral_add(
        actor=actor, case=case, target="coach", consent=consent, note=mark("cases.Referral.note")
    )
    services.followup_add(
        actor=actor,
        case=case,
        due_on=TODAY + datetime.timedelta(days=5),
        description=mark("cases.FollowUp.description"),
    )
    services.time_entry_add(
        actor=actor,
        case=case,
        worked_on=TODAY,
        minutes=20,
        description=mark("cases.TimeEntry.description"),
    )
    services.note_add(actor=actor, case=case, text=mark("cases.Note.text"))
    return Case.objects.get(pk=case.pk), planted


def _dump(schema: str) -> str:
    database = connection.settings_dict
    command = [str(PG_DUMP), "--no-owner", "--schema", schema, "--dbname", database["NAME"]]
    host = database.get("HOST") or ""
    if host:
        command += ["--host", host]
    if database.get("PORT"):
        command += ["--port", str(database["PORT"])]
    command += ["--username", database.get("USER") or "postgres"]
    environment = {**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""}
    done = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_planted_strings_appear_in_no_dump_of_tenant_or_public_schema(committed_db):
    """Plant a unique string in every free-text field, dump both schemas, find it nowhere."""
    live = create_firm(
        clients={"c": "Dump Zorg"},
        users={"adviser": ("adviser", None)},
        assignments={"adviser": ["c"]},
    )
    try:
        client = live.clients["c"]
        marker = f"PLANTED{secrets.token_hex(6)}"
        with tenant_context(client):
            case, planted = _plant_everywhere(live.users["adviser"], marker)
            exported = repr(services.case_export(actor=live.users["adviser"], case=case))
        covered = {
            f"{model._meta.label}.{field.name}"
            for model, fields in encrypted_columns()
            if model._meta.app_label == "cases"
            for field in fields
        }
        assert covered == set(planted), "every encrypted field of a case gets a planted string"
        assert all(value in exported for value in planted.values())  # stored, and readable
        tenant_dump, public_dump = _dump(client.schema_name), _dump("public")
        assert case.reference in tenant_dump and "cases_conversation" in tenant_dump
        assert case.reference in public_dump  # the work index row, without content
        for dump in (tenant_dump, public_dump):
            lowered = dump.lower()
            assert marker not in dump and marker.lower() not in lowered
            for value in planted.values():
                assert value not in dump
                assert value.encode().hex() not in lowered  # nor as plain bytea
    finally:
        remove_firm(live)


@pytest.fixture
def in_a1(cast):
    with tenant_context(cast.a1):
        yield cast


def test_access_log_refuses_update_delete_and_truncate(in_a1):
    services.note_add(
        actor=in_a1.adviser_a, case=Case.objects.get(reference=in_a1.case_reference("a1")), text="x"
    )
    entry = AccessLogEntry.objects.order_by("-id").first()
    attempts = [
        lambda: AccessLogEntry.objects.filter(pk=entry.pk).update(actor_email="someone@else.test"),
        lambda: AccessLogEntry.objects.filter(pk=entry.pk).delete(),
        lambda: connection.cursor().execute("UPDATE audit_accesslogentry SET detail = 'rewritten'"),
        lambda: connection.cursor().execute("DELETE FROM audit_accesslogentry"),
        lambda: connection.cursor().execute("TRUNCATE audit_accesslogentry"),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert (entry.actor_email, entry.detail) == ("adviser@acme.test", "note added")


@pytest.fixture
def clean_keys():
    crypto.master_keys.cache_clear()
    crypto.forget_data_key()
    yield
    crypto.master_keys.cache_clear()
    crypto.forget_data_key()


def _readable(client, case_pk: int) -> tuple[str, str, str]:
    crypto.forget_data_key()
    with tenant_context(client):
        case = Case.objects.get(pk=case_pk)
        return (
            case.reporter_identity,
            Conversation.objects.get(case=case).summary,
            Note.objects.get(case=case).text,
        )


def test_rewrap_under_a_new_master_key_keeps_data_readable(cast, monkeypatch, clean_keys):
    with tenant_context(cast.a1):
        case, planted = _plant_everywhere(cast.adviser_a, "ROTATE")
    before = _readable(cast.a1, case.pk)
    old_master = base64.b64encode(crypto.master_keys()[0]).decode()
    old_wrapped = bytes(ClientOrganisation.objects.get(pk=cast.a1.pk).wrapped_data_key)
    monkeypatch.setenv("MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("MASTER_KEY_PREVIOUS", old_master)
    call_command("rotate_keys", "--rewrap", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert bytes(ClientOrganisation.objects.get(pk=cast.a1.pk).wrapped_data_key) != old_wrapped
    monkeypatch.delenv("MASTER_KEY_PREVIOUS")
    crypto.master_keys.cache_clear()
    assert (
        _readable(cast.a1, case.pk)
        == before
        == (
            planted["cases.Case.reporter_identity"],
            planted["cases.Conversation.summary"],
            planted["cases.Note.text"],
        )
    )
    with tenant_context(cast.b1):  # every client was rewrapped, not only a1
        crypto.forget_data_key()
        assert Case.objects.get(reference=cast.case_reference("b1")).reporter_identity == ""


def test_new_data_key_reencrypts_every_text_and_keeps_it_readable(cast, clean_keys):
    with tenant_context(cast.a1):
        case, planted = _plant_everywhere(cast.adviser_a, "REKEY")
        with connection.cursor() as cursor:
            cursor.execute("SELECT summary FROM cases_conversation WHERE case_id = %s", [case.pk])
            old_ciphertext = bytes(cursor.fetchone()[0])
    old_key = crypto.data_key(cast.a1.schema_name)
    before = _readable(cast.a1, case.pk)
    call_command(
        "rotate_keys",
        "--new-data-key",
        "--firm",
        "acme",
        "--client",
        "a1",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    crypto.forget_data_key()
    assert crypto.data_key(cast.a1.schema_name) != old_key
    assert _readable(cast.a1, case.pk) == before
    with tenant_context(cast.a1):
        with connection.cursor() as cursor:
            cursor.execute("SELECT summary FROM cases_conversation WHERE case_id = %s", [case.pk])
            new_ciphertext = bytes(cursor.fetchone()[0])
        exported = repr(
            services.case_export(actor=cast.adviser_a, case=Case.objects.get(pk=case.pk))
        )
    assert new_ciphertext != old_ciphertext
    assert all(value in exported for value in planted.values())


def test_offboarding_destroys_the_key_and_the_schema(cast, clean_keys):
    with tenant_context(cast.a2):
        case, _planted = _plant_everywhere(cast.adviser_a, "GONE")
        with connection.cursor() as cursor:
            cursor.execute("SELECT text FROM cases_note WHERE case_id = %s", [case.pk])
            ciphertext = bytes(cursor.fetchone()[0])
    host = cast.host(cast.a2)
    assert CaseworkEntry.objects.filter(client=cast.a2).exists()
    client_offboard(client=cast.a2, actor=cast.admin_a)
    stored = ClientOrganisation.objects.get(pk=cast.a2.pk)
    assert (stored.status, bytes(stored.wrapped_data_key)) == ("offboarded", b"")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [cast.a2.schema_name])
        assert cursor.fetchone() is None
    assert not Domain.objects.filter(tenant=cast.a2).exists()
    assert not CaseworkEntry.objects.filter(client=cast.a2).exists()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(ciphertext, schema_name=cast.a2.schema_name, purpose="cases.Note.text")
    assert Client(HTTP_HOST=host).get("/").status_code == 404
    client_offboard(client=stored)  # a second time changes nothing
    assert ClientOrganisation.objects.get(pk=cast.a2.pk).status == "offboarded"


def test_erased_and_destroyed_cases_keep_only_ciphertext_of_nothing(cast):
    with tenant_context(cast.a1):
        case, planted = _plant_everywhere(cast.adviser_a, "WIPE")
        services.case_erase(actor=cast.adviser_a, case=case)
        kept = Case.objects.get(pk=case.pk)
        assert (kept.case_type, kept.reporter_role, kept.accused_relation, kept.channel) == (
            "integrity",
            "employee",
            "manager",
            "email",
        )
        assert ConsentRecord.objects.get(case=kept).scope == "referral"
        assert all(
            value not in repr(services.case_export(actor=cast.adviser_a, case=kept))
            for value in planted.values()
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--new-data-key"], "--new-data-key needs --firm and --client, or --all."),
        (["--rewrap", "--client", "a1"], "--client needs --firm."),
        (
            ["--rewrap", "--firm", "nope", "--client", "a1"],
            "There is no firm with the short name “nope”.",
        ),
        (
            ["--new-data-key", "--firm", "acme", "--client", "b1"],
            "Firm “acme” has no client with the short name “b1”.",
        ),
    ],
)
def test_rotate_keys_refuses_bad_arguments_and_changes_nothing(
    cast, clean_keys, arguments, message
):
    from django.core.management.base import CommandError

    before = list(
        ClientOrganisation.objects.order_by("pk").values_list("wrapped_data_key", flat=True)
    )
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("rotate_keys", *arguments)
    after = list(
        ClientOrganisation.objects.order_by("pk").values_list("wrapped_data_key", flat=True)
    )
    assert [bytes(key) for key in after] == [bytes(key) for key in before]
