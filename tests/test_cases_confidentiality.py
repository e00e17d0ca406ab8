"""Confidentiality under attack: database dumps, the append-only log, key rotation, offboarding."""

from __future__ import annotations

import base64
import datetime
import io
import os
import secrets
import subprocess
from pathlib import Path

import pgserver
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import services
from cases.models import Case, ConsentRecord, Conversation, Note, Theme
from sparring import services as sparring_services
from sparring.models import Attachment, Thread
from tenants import crypto
from tenants.management.commands.rotate_keys import encrypted_columns, sealed_columns
from tenants.models import ClientOrganisation, Domain
from tenants.services import client_offboard
from tenants.trail import Operator
from tests.cast import TINY_PNG, sparring_objects
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


def _rotate(client_slug: str, firm_slug: str = "acme") -> None:
    call_command(
        "rotate_keys",
        "--new-data-key",
        "--firm",
        firm_slug,
        "--client",
        client_slug,
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )


def _raw(client, table: str, column: str, pk) -> bytes:
    with tenant_context(client), connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return bytes(cursor.fetchone()[0])


def _keys_state() -> list[tuple]:
    return [
        (pk, bytes(wrapped), bytes(retired), rotated_at)
        for pk, wrapped, retired, rotated_at in ClientOrganisation.objects.order_by(
            "pk"
        ).values_list("pk", "wrapped_data_key", "retired_data_keys", "data_key_rotated_at")
    ]


def test_rewrap_under_a_new_master_key_keeps_data_readable(cast, monkeypatch, clean_keys):
    with tenant_context(cast.a1):
        case, planted = _plant_everywhere(cast.adviser_a, "ROTATE")
        note_pk = Note.objects.get(case=case).pk
    # A data-key rotation first: a1 has a retired key, which the rewrap must carry along.
    old_data_key = crypto.data_key(cast.a1.schema_name)
    under_old_key = _raw(cast.a1, "cases_note", "text", note_pk)
    _rotate("a1")
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
    stored = ClientOrganisation.objects.get(pk=cast.a1.pk)
    ring = crypto.unwrap_key_ring(
        bytes(stored.wrapped_data_key), bytes(stored.retired_data_keys), cast.a1.schema_name
    )
    assert ring.retired == (old_data_key,)  # opens under the new master key alone
    crypto.forget_data_key()
    assert (
        crypto.decrypt_text(
            under_old_key, schema_name=cast.a1.schema_name, purpose="cases.Note.text"
        )
        == planted["cases.Note.text"]
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
    old_wrapped = bytes(ClientOrganisation.objects.get(pk=cast.a1.pk).wrapped_data_key)
    attachment_id = sparring_objects(cast.a1)["attachment_id"]
    old_attachment = _raw(cast.a1, "sparring_attachment", "content", attachment_id)
    before = _readable(cast.a1, case.pk)
    started = timezone.now()
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
    stored = ClientOrganisation.objects.get(pk=cast.a1.pk)
    assert bytes(stored.retired_data_keys) == old_wrapped  # kept until --purge-retired
    assert started <= stored.data_key_rotated_at <= timezone.now()
    # Attachment bytes are re-encrypted too, under the new key alone.
    new_attachment = _raw(cast.a1, "sparring_attachment", "content", attachment_id)
    purpose = f"sparring.Attachment.content:{attachment_id}"
    assert new_attachment != old_attachment
    assert crypto.open_sealed(
        new_attachment,
        keys=[crypto.data_key(cast.a1.schema_name)],
        schema_name=cast.a1.schema_name,
        purpose=purpose,
    ) == (0, TINY_PNG)
    with tenant_context(cast.a1):
        with connection.cursor() as cursor:
            cursor.execute("SELECT summary FROM cases_conversation WHERE case_id = %s", [case.pk])
            new_ciphertext = bytes(cursor.fetchone()[0])
        exported = repr(
            services.case_export(actor=cast.adviser_a, case=Case.objects.get(pk=case.pk))
        )
    assert new_ciphertext != old_ciphertext
    assert all(value in exported for value in planted.values())


def test_a_stale_process_loses_nothing_when_a_data_key_is_rotated_under_it(cast, clean_keys):
    """A web process that cached a1's key before the rotation writes under the old key until its
    cache expires: what it writes stays readable, and it reads re-encrypted values at once."""
    schema = cast.a1.schema_name
    with tenant_context(cast.a1):
        case = Case.objects.get(reference=cast.case_reference("a1"))
        earlier = services.note_add(actor=cast.adviser_a, case=case, text="vóór de rotatie")
    old_key = crypto.data_key(schema)
    stale_cache = dict(crypto._data_keys)  # what the other process holds
    assert schema in stale_cache

    _rotate("a1")
    crypto._data_keys.update(stale_cache)
    # The case services lock and re-read the case first, and a sealed value the stale keys cannot
    # open makes the process read its keys again (it heals before it writes). A write that reads
    # nothing sealed first (the intake form, a new thread) still uses the cached old key:
    with tenant_context(cast.a1):
        written = Note.objects.create(
            case_id=case.pk, author_id=cast.adviser_a.pk, text="door een oud proces"
        )
    sealed = _raw(cast.a1, "cases_note", "text", written.pk)
    assert crypto.open_sealed(
        sealed, keys=[old_key], schema_name=schema, purpose="cases.Note.text"
    ) == (0, b"door een oud proces")

    crypto.forget_data_key()  # a fresh process
    with tenant_context(cast.a1):
        assert Note.objects.get(pk=written.pk).text == "door een oud proces"
    assert crypto.data_key(schema) != old_key

    crypto._data_keys.clear()
    crypto._data_keys.update(stale_cache)  # the stale process reads a re-encrypted value
    with tenant_context(cast.a1):
        assert Note.objects.get(pk=earlier.pk).text == "vóór de rotatie"
    assert crypto.data_key(schema) != old_key  # it healed: it writes under the new key now


def _rotated_seconds_ago(client, seconds: float) -> None:
    """Date the last rotation `seconds` before now (not relative to when it ran: on a loaded
    machine the steps between the rotation and the purge take seconds themselves)."""
    ClientOrganisation.objects.filter(pk=client.pk).update(
        data_key_rotated_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


def _seconds_back(client, seconds: float) -> None:
    ClientOrganisation.objects.filter(pk=client.pk).update(
        data_key_rotated_at=F("data_key_rotated_at") - datetime.timedelta(seconds=seconds)
    )


def test_purge_retired_waits_then_reencrypts_stragglers_and_destroys_the_retired_keys(
    cast, settings, clean_keys
):
    settings.DATA_KEY_CACHE_SECONDS = 300
    schema = cast.a1.schema_name
    with tenant_context(cast.a1):
        case = Case.objects.get(reference=cast.case_reference("a1"))
        services.note_add(actor=cast.adviser_a, case=case, text="warm")  # caches the old key
        lost = services.note_add(actor=cast.adviser_a, case=case, text="wordt onleesbaar")
    old_key = crypto.data_key(schema)
    stale_cache = dict(crypto._data_keys)
    _rotate("a1")
    # A stale process writes a note and an attachment under the old key after the rotation.
    # (Writes that read nothing sealed first: the services heal a stale cache on their first read.)
    crypto._data_keys.update(stale_cache)
    with tenant_context(cast.a1):
        straggler = Note.objects.create(
            case_id=case.pk, author_id=cast.adviser_a.pk, text="achterblijver"
        )
    crypto._data_keys.update(stale_cache)
    with tenant_context(cast.a1):
        thread = sparring_services.thread_start(
            actor=cast.internal_a1,
            subject="Na de rotatie",
            body="Geschreven met de oude sleutel",
            uploads=[sparring_services.Upload(name="na.png", data=TINY_PNG)],
        )
        attachment = Attachment.objects.get(message__thread=thread)
        # A value that no key of a1 opens (damaged): reported by the purge, not dropped.
        Note.objects.filter(pk=lost.pk).update(
            text=crypto.seal(
                b"weg", key=secrets.token_bytes(32), schema_name=schema, purpose="cases.Note.text"
            )
        )
    crypto.forget_data_key()
    unreadable = _raw(cast.a1, "cases_note", "text", lost.pk)
    stragglers = 0
    for model, columns in sealed_columns():
        names = ", ".join([model._meta.pk.column, *(c.column for c in columns)])
        with tenant_context(cast.a1), connection.cursor() as cursor:
            cursor.execute(f"SELECT {names} FROM {model._meta.db_table}")  # noqa: S608
            rows = cursor.fetchall()
        for pk, *values in rows:
            for column, value in zip(columns, values, strict=True):
                if value is not None and _opens(value, old_key, schema, column.purpose(pk)):
                    stragglers += 1
    assert stragglers == 5  # note text; thread subject, message body, file name, bytes

    _rotated_seconds_ago(cast.a1, 570)  # short of 2 x DATA_KEY_CACHE_SECONDS
    before = (_keys_state(), _raw(cast.a1, "cases_note", "text", straggler.pk))
    with pytest.raises(CommandError, match=r"Too early to purge .* acme/a1 \(rotated"):
        call_command("rotate_keys", "--purge-retired", "--all")
    with pytest.raises(CommandError, match="Too early"):
        call_command("rotate_keys", "--purge-retired", "--firm", "acme", "--client", "a1")
    assert (_keys_state(), _raw(cast.a1, "cases_note", "text", straggler.pk)) == before

    _rotated_seconds_ago(cast.a1, 601)
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", "--purge-retired", "--all", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [
        "acme/a1: re-encrypted 5 value(s) that opened only with a retired key; "
        "destroyed 1 retired data key(s).",
        "Destroyed the retired data keys of 1 client organisation(s).",
    ]
    assert err.getvalue() == (
        f"acme/a1: 1 value(s) open with no key and were left as they are: cases_note.text "
        f"{lost.pk}.\n"
    )
    stored = ClientOrganisation.objects.get(pk=cast.a1.pk)
    assert bytes(stored.retired_data_keys) == b""
    assert _raw(cast.a1, "cases_note", "text", lost.pk) == unreadable
    new_key = crypto.data_key(schema)
    content = _raw(cast.a1, "sparring_attachment", "content", attachment.pk)
    assert crypto.open_sealed(
        content, keys=[new_key], schema_name=schema, purpose=attachment.purpose()
    ) == (0, TINY_PNG)
    resealed = _raw(cast.a1, "cases_note", "text", straggler.pk)
    assert not _opens(resealed, old_key, schema, "cases.Note.text")
    crypto.forget_data_key()
    with tenant_context(cast.a1):
        assert Note.objects.get(pk=straggler.pk).text == "achterblijver"
        assert Thread.objects.get(pk=thread.pk).subject == "Na de rotatie"
        assert Attachment.objects.get(pk=attachment.pk).file_name == "na.png"
        with pytest.raises(crypto.DecryptionError):
            Note.objects.get(pk=lost.pk)
    # Nothing is left to purge.
    out = io.StringIO()
    call_command("rotate_keys", "--purge-retired", "--firm", "acme", "--client", "a1", stdout=out)
    assert out.getvalue().splitlines()[0] == "acme/a1: no retired data keys."


def _opens(value, key: bytes, schema: str, purpose: str) -> bool:
    try:
        crypto.open_sealed(bytes(value), keys=[key], schema_name=schema, purpose=purpose)
    except crypto.DecryptionError:
        return False
    return True


def test_offboarding_destroys_the_keys_and_the_schema(cast, clean_keys):
    with tenant_context(cast.a2):
        case, _planted = _plant_everywhere(cast.adviser_a, "GONE")
        with connection.cursor() as cursor:
            cursor.execute("SELECT text FROM cases_note WHERE case_id = %s", [case.pk])
            ciphertext = bytes(cursor.fetchone()[0])
    _rotate("a2")  # the key that sealed `ciphertext` is retired now, not gone
    assert len(bytes(ClientOrganisation.objects.get(pk=cast.a2.pk).retired_data_keys)) == (
        crypto.WRAPPED_KEY_BYTES
    )
    host = cast.host(cast.a2)
    assert CaseworkEntry.objects.filter(client=cast.a2).exists()
    client_offboard(actor=cast.admin_a, client=cast.a2)
    stored = ClientOrganisation.objects.get(pk=cast.a2.pk)
    assert (
        stored.status,
        bytes(stored.wrapped_data_key),
        bytes(stored.retired_data_keys),
    ) == ("offboarded", b"", b"")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [cast.a2.schema_name])
        assert cursor.fetchone() is None
    assert not Domain.objects.filter(tenant=cast.a2).exists()
    assert not CaseworkEntry.objects.filter(client=cast.a2).exists()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(ciphertext, schema_name=cast.a2.schema_name, purpose="cases.Note.text")
    assert Client(HTTP_HOST=host).get("/").status_code == 404
    client_offboard(actor=Operator("test"), client=stored)  # a second time changes nothing
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
        (["--new-data-key", "--firm", "acme"], "--firm needs --client."),
        (
            ["--new-data-key", "--all", "--firm", "acme", "--client", "a1"],
            "Give --firm and --client, or --all, not both.",
        ),
        (["--purge-retired"], "--purge-retired needs --firm and --client, or --all."),
        (["--purge-retired", "--client", "a1"], "--client needs --firm."),
        (
            ["--purge-retired", "--firm", "acme", "--client", "nope"],
            "Firm “acme” has no client with the short name “nope”.",
        ),
        (
            ["--purge-retired", "--rewrap", "--all"],
            "argument --rewrap: not allowed with argument --purge-retired",
        ),
        (
            ["--purge-retired", "--new-data-key", "--all"],
            "argument --new-data-key: not allowed with argument --purge-retired",
        ),
    ],
)
def test_rotate_keys_refuses_bad_arguments_and_changes_nothing(
    cast, clean_keys, arguments, message
):
    _rotate("a1")  # long ago: a purge would change something
    _seconds_back(cast.a1, 3600)
    before = _keys_state()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("rotate_keys", *arguments)
    assert _keys_state() == before


def test_rewrap_with_a_wrong_master_key_says_what_to_set(cast, monkeypatch, clean_keys):
    """A wrong MASTER_KEY printed a traceback."""
    from django.core.management.base import CommandError

    before = _keys_state()
    monkeypatch.setenv("MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.delenv("MASTER_KEY_PREVIOUS", raising=False)
    with pytest.raises(
        CommandError, match=r"opens with neither MASTER_KEY nor any MASTER_KEY_PREVIOUS"
    ):
        call_command("rotate_keys", "--rewrap", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert _keys_state() == before


def test_intake_planted_strings_addresses_and_browsers_appear_in_no_dump_or_log(committed_db):
    """The reporter's texts, files and journal, typed through the pages: nowhere in a dump;
    the client address and user agent of every request: nowhere in a dump or a log line."""
    import logging

    from intake import keys
    from intake import services as intake
    from intake.models import Contact

    live = create_firm(
        clients={"c": "Dump Intake"},
        users={"adviser": ("adviser", None)},
        assignments={"adviser": ["c"]},
    )
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep, root = Keep(level=logging.DEBUG), logging.getLogger()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    address, browser = "203.0.113.77", f"CanaryBrowser/{secrets.token_hex(4)}"
    try:
        client = live.clients["c"]
        marker = f"PLANTED{secrets.token_hex(6)}"
        planted = {
            label: f"{marker}{label.replace('.', '')}"
            for label in (
                "intake.Contact.reporter_name",
                "intake.Contact.reach",
                "intake.Entry.body",
                "intake.Attachment.file_name",
                "intake.OralRecordVersion.text",
                "journal",
            )
        }
        notify = f"{marker.lower()}@example.org"
        http = Client(HTTP_HOST=live.hosts["c"], REMOTE_ADDR=address, HTTP_USER_AGENT=browser)
        upload = io.BytesIO(TINY_PNG)
        upload.name = f"{planted['intake.Attachment.file_name']}.png"
        page = http.get("/intake/nl/").content.decode()
        nonce = page.split('name="nonce" value="', 1)[1].split('"', 1)[0]
        receipt = http.post(
            "/intake/nl/send/",
            {
                "nonce": nonce,
                "kind": "callback",
                "body": planted["intake.Entry.body"],
                "reach": planted["intake.Contact.reach"],
                "named": "1",
                "name": planted["intake.Contact.reporter_name"],
                "notify_email": notify,
                "attachments": upload,
            },
        ).content.decode()
        key = receipt.split("data-receipt-key>", 1)[1].split("<", 1)[0]
        with tenant_context(client):
            contact = Contact.objects.get()
            intake.oral_record_add(
                actor=live.users["adviser"],
                contact=contact,
                held_on=TODAY,
                text=planted["intake.OralRecordVersion.text"],
            )
            mailbox = intake.mailbox_open(raw_key=key)
            intake.journal_add(mailbox=mailbox, occurred_on=TODAY, what=planted["journal"])
            assert intake.journal_read(mailbox=mailbox)[0].fields["what"] == planted["journal"]
        assert http.post("/intake/nl/mailbox/", {"key": key}).status_code == 303
        assert planted["intake.Entry.body"] in http.get("/intake/nl/mailbox/").content.decode()
        covered = {
            f"{model._meta.label}.{field.name}"
            for model, fields in encrypted_columns()
            if model._meta.app_label == "intake"
            for field in fields
        }
        assert covered == (set(planted) - {"journal"}) | {"intake.Contact.notify_email"}
        tenant_dump, public_dump = _dump(client.schema_name), _dump("public")
        assert "intake_contact" in tenant_dump and "intake_public_intakeindexentry" in public_dump
        for dump in (tenant_dump, public_dump):
            lowered = dump.lower()
            for value in [*planted.values(), notify, key, key.replace("-", "")[8:]]:
                assert value not in dump and value.lower() not in lowered
                assert value.encode().hex() not in lowered
            for trace in (address, browser):
                assert trace not in dump and trace.encode().hex() not in lowered
        logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in records)
        assert address not in logged and browser not in logged
        assert keys.lookup_of(key.replace("-", "")) not in logged
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
        remove_firm(live)
