"""export_client / import_client: a client round-trips through one file, into the same database
and into a fresh one, with every table's rows and checksums equal and its texts still readable;
bad files and clashes are refused with a clear message and change nothing.

The checks here compute row counts and checksums on their own (md5 of each table's rows as
text), independently of the checksums the commands keep in the file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants import crypto
from tenants.models import Assignment, ClientMembership, ClientOrganisation, Domain
from tenants.trail import Operator
from tests.live import create_firm, database_url, remove_firm

ROOT = Path(settings.BASE_DIR)
SECRET_NOTE = "Melding over intimidatie door leidinggevende; naam: J. de Vries"
SECRET_IDENTITY = "Anna Jansen, 06-12345678"


def table_snapshot(cursor, schema: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of the rows as text in a fixed order)} of every table of `schema`."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1",
        [schema],
    )
    snapshot = {}
    for (table,) in cursor.fetchall():
        cursor.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "  # noqa: S608
            f'FROM "{schema}"."{table}" t'
        )
        snapshot[table] = tuple(cursor.fetchone())
    return snapshot


def public_snapshot(client: ClientOrganisation) -> dict[str, Any]:
    from workindex.models import CaseworkEntry

    return {
        "client": ClientOrganisation.objects.filter(pk=client.pk)
        .values_list("firm__slug", "slug", "name", "sector", "employee_count", "status")
        .get(),
        "domains": sorted(Domain.objects.filter(tenant=client).values_list("domain", "is_primary")),
        "memberships": sorted(
            ClientMembership.objects.filter(client=client).values_list("user__email", "role")
        ),
        "assignments": sorted(
            Assignment.objects.filter(client=client).values_list(
                "adviser__email", "kind", "starts_on", "ends_on"
            )
        ),
        "workindex": sorted(
            CaseworkEntry.objects.filter(client=client).values_list(
                "case_reference", "phase", "adviser_id", "opened_on"
            )
        ),
    }


def everything_count() -> tuple[int, int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'c\\_%%'")
        schemas = cursor.fetchone()[0]
    return (
        schemas,
        ClientOrganisation.objects.count(),
        User.objects.count(),
        Domain.objects.count(),
    )


def trail_of(client: ClientOrganisation) -> list[tuple[str, str]]:
    """(action, operator command) of the client's trail rows, oldest first."""
    from tenants.models import TrailEntry

    return list(
        TrailEntry.objects.filter(client_id=client.pk)
        .order_by("pk")
        .values_list("action", "operator_command")
    )


def drop_client(client: ClientOrganisation) -> None:
    """Lose a client entirely (rows and schema), as a disaster or an offboarding would."""
    with transaction.atomic():
        Assignment.objects.filter(client=client).delete()
        ClientOrganisation.objects.filter(pk=client.pk).delete()  # cascades domains, index
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{client.schema_name}" CASCADE')
    crypto.forget_data_key()


def read_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def write_members(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def rewrite(source: Path, target: Path, change) -> None:
    """Copy an export with `change(members)` applied, the member checksums made to match."""
    members = read_members(source)
    change(members)
    manifest = json.loads(members["manifest.json"])
    manifest["members"] = {
        name: hashlib.sha256(members[name]).hexdigest() for name in manifest["members"]
    }
    members["manifest.json"] = json.dumps(manifest).encode()
    write_members(target, members)


@pytest.fixture
def live_client(committed_db):
    from cases import services as case_services
    from cases.models import Theme

    live = create_firm(
        clients={"x": "Xeno Zorg"},
        users={"adviser": ("adviser", None), "contact": ("contact_person", "x")},
        assignments={"adviser": ["x"]},
    )
    client = live.clients["x"]
    with tenant_context(client):
        case = case_services.case_open(
            actor=live.users["adviser"],
            case_type="undesirable_behaviour",
            themes=[Theme.objects.get(code="bullying")],
            reporter_role="employee",
            accused_relation="colleague",
            channel="phone",
        )
        case = case_services.case_update(
            actor=live.users["adviser"],
            case=case,
            expected_version=case.version,
            reporter_identity=SECRET_IDENTITY,
        )
        case_services.note_add(actor=live.users["adviser"], case=case, text=SECRET_NOTE)
    try:
        yield live
    finally:
        remove_firm(live)


def read_case_texts(client: ClientOrganisation) -> tuple[str, str]:
    from cases.models import Case, Note

    crypto.forget_data_key()
    with tenant_context(client):
        return Note.objects.get().text, Case.objects.get().reporter_identity


def test_round_trip_in_the_same_database_restores_everything(live_client, tmp_path):
    client = live_client.clients["x"]
    schema = client.schema_name
    # A data-key rotation not yet purged: the retired key travels with the current one.
    call_command(
        "rotate_keys",
        "--new-data-key",
        "--firm",
        live_client.firm.slug,
        "--client",
        client.slug,
        stdout=io.StringIO(),
    )
    client.refresh_from_db()
    keys_before = crypto.unwrap_key_ring(
        bytes(client.wrapped_data_key), bytes(client.retired_data_keys), schema
    )
    assert len(keys_before.retired) == 1
    path = tmp_path / "xeno.vtar.gz"
    out = io.StringIO()
    trail_before = trail_of(client)
    call_command(
        "export_client", firm=live_client.firm.slug, slug=client.slug, output=str(path), stdout=out
    )
    assert f"schema {schema}" in out.getvalue() and path.is_file()
    # One trail row per export, by the operator command (the trail is append-only: counted).
    assert trail_of(client)[len(trail_before) :] == [("client_export", "export_client")]
    with connection.cursor() as cursor:
        tables_before = table_snapshot(cursor, schema)
    assert tables_before["cases_case"][0] == 1 and tables_before["audit_accesslogentry"][0] >= 1
    public_before = public_snapshot(client)
    assert public_before["workindex"] and public_before["assignments"]
    with pytest.raises(CommandError, match="exists"):  # never overwrites
        call_command("export_client", schema=schema, output=str(path))

    drop_client(client)
    before = everything_count()

    # A file damaged after its checksums were taken: read back, found wrong, rolled back.
    tampered = tmp_path / "tampered.vtar.gz"

    def change_a_row(members: dict[str, bytes]) -> None:
        data = members["tables/cases_case.copy"]
        members["tables/cases_case.copy"] = data.replace(b"phone", b"email", 1)

    rewrite(path, tampered, change_a_row)
    trail_before = trail_of(client)
    with pytest.raises(CommandError, match="does not read back as exported"):
        call_command("import_client", str(tampered))
    assert everything_count() == before
    assert trail_of(client) == trail_before  # refused: no row

    out = io.StringIO()
    call_command("import_client", str(path), stdout=out, verbosity=2)
    assert trail_of(client)[len(trail_before) :] == [("client_import", "import_client")]
    assert "every table verified" in out.getvalue()
    restored = ClientOrganisation.objects.get(schema_name=schema)
    assert restored.pk == client.pk  # the id was free again, so it is kept
    with connection.cursor() as cursor:
        assert table_snapshot(cursor, schema) == tables_before
    assert public_snapshot(restored) == public_before
    assert read_case_texts(restored) == (SECRET_NOTE, SECRET_IDENTITY)
    assert (
        crypto.unwrap_key_ring(
            bytes(restored.wrapped_data_key), bytes(restored.retired_data_keys), schema
        ),
        restored.data_key_rotated_at,
    ) == (keys_before, client.data_key_rotated_at)
    # The restored client is served (its schema is current).
    from django.test import Client

    assert Client(HTTP_HOST=live_client.hosts["x"]).get("/i18n/setlang/").status_code == 302


@pytest.fixture
def other_database():
    """A fresh database on the same server, migrated by migrate_tenants as on a new install."""
    url = database_url()
    name = f"{connection.settings_dict['NAME']}_other"
    other_url = url.rsplit("/", 1)[0] + f"/{name}"
    admin = psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield other_url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def manage(database: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database, "VERTROUWD_TESTING": "1", "LOG_LEVEL": "ERROR"}
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_into_another_database(live_client, other_database, tmp_path):
    from tenants import themes

    client = live_client.clients["x"]
    schema = client.schema_name
    # The firm's case themes (committed, so applied to its client at once) go along.
    themes.firm_theme_add(
        actor=Operator("test"), firm=live_client.firm, name="Werkdruk in de nachtdienst"
    )
    themes.standard_theme_set_active(
        actor=Operator("test"), firm=live_client.firm, code="threats", active=False
    )
    path = tmp_path / "xeno.vtar.gz"
    call_command("export_client", schema=schema, output=str(path), stdout=io.StringIO())
    with connection.cursor() as cursor:
        tables_before = table_snapshot(cursor, schema)

    fresh = manage(other_database, "migrate_tenants", "--processes", "1")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "0 migrated, 0 already current, 0 failed" in fresh.stdout
    imported = manage(other_database, "import_client", str(path))
    assert imported.returncode == 0, imported.stderr
    again = manage(other_database, "import_client", str(path))
    assert again.returncode == 1
    assert f"The schema {schema} exists here already." in again.stderr

    with psycopg.connect(other_database) as other, other.cursor() as cursor:
        assert table_snapshot(cursor, schema) == tables_before
        cursor.execute(
            "SELECT c.id, c.slug, c.wrapped_data_key, f.slug FROM tenants_clientorganisation c "
            "JOIN tenants_firm f ON f.id = c.firm_id WHERE c.schema_name = %s",
            [schema],
        )
        client_id, slug, wrapped, firm_slug = cursor.fetchone()
        cursor.execute("SELECT domain FROM tenants_domain WHERE tenant_id = %s", [client_id])
        domains = [domain for (domain,) in cursor.fetchall()]
        cursor.execute(
            "SELECT u.id, u.email, m.role FROM tenants_clientmembership m "
            "JOIN accounts_user u ON u.id = m.user_id WHERE m.client_id = %s",
            [client_id],
        )
        memberships = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM workindex_caseworkentry WHERE client_id = %s", [client_id]
        )
        index_rows = cursor.fetchone()[0]
        cursor.execute(
            "SELECT t.code, t.name, t.is_active FROM tenants_firmtheme t "
            "JOIN tenants_firm f ON f.id = t.firm_id WHERE f.slug = %s ORDER BY t.code",
            [live_client.firm.slug],
        )
        firm_themes = cursor.fetchall()
        cursor.execute(
            f'SELECT code, is_active FROM "{schema}".cases_theme '  # noqa: S608
            "WHERE code IN ('own_werkdruk_in_de_nachtdienst', 'threats') ORDER BY code"
        )
        schema_themes = cursor.fetchall()
    assert firm_themes == [
        ("own_werkdruk_in_de_nachtdienst", "Werkdruk in de nachtdienst", True),
        ("threats", "", False),
    ]
    assert schema_themes == [("own_werkdruk_in_de_nachtdienst", True), ("threats", False)]
    assert (slug, firm_slug) == (client.slug, live_client.firm.slug)
    assert domains == [live_client.hosts["x"]]
    contact = live_client.users["contact"]
    assert memberships == [(contact.pk, contact.email, "contact_person")]  # same id there
    assert index_rows == 1
    # The same data key opens there (re-wrapped) and the ciphertexts are byte for byte the same
    # (the checksums above), so every encrypted text reads as here.
    assert crypto.unwrap_data_key(bytes(wrapped), schema) == crypto.data_key(schema)
    assert read_case_texts(client) == (SECRET_NOTE, SECRET_IDENTITY)


def test_bad_input_is_refused_and_changes_nothing(live_client, tmp_path):
    client = live_client.clients["x"]
    path = tmp_path / "xeno.vtar.gz"
    call_command("export_client", schema=client.schema_name, output=str(path), stdout=io.StringIO())
    before = everything_count()

    # The client exists here: refused.
    with pytest.raises(CommandError, match="exists here already"):
        call_command("import_client", str(path))
    assert everything_count() == before

    drop_client(client)
    before = everything_count()

    def refused(file: Path, message: str) -> None:
        with pytest.raises(CommandError, match=message):
            call_command("import_client", str(file))
        assert everything_count() == before

    refused(tmp_path / "missing.vtar.gz", "There is no file")
    garbage = tmp_path / "garbage.vtar.gz"
    garbage.write_bytes(os.urandom(4096))
    refused(garbage, "damaged or not a client export")
    truncated = tmp_path / "truncated.vtar.gz"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    refused(truncated, "damaged or not a client export")
    not_export = tmp_path / "other.tar.gz"
    with tarfile.open(not_export, "w:gz") as archive:
        info = tarfile.TarInfo("notes.txt")
        archive.addfile(info, io.BytesIO(b""))
    refused(not_export, "not a client export")

    # A member changed after export, its checksum left as it was.
    members = read_members(path)
    members["public.json"] = members["public.json"].replace(b'"name"', b'"naam"', 1)
    edited = tmp_path / "edited.vtar.gz"
    write_members(edited, members)
    refused(edited, "public.json does not match its checksum")

    # A data key wrapped with a master key this installation does not have.
    def foreign_key(members: dict[str, bytes]) -> None:
        public = json.loads(members["public.json"])
        wrapped = bytearray(base64.b64decode(public["client"]["wrapped_data_key"]))
        wrapped[-1] ^= 1
        public["client"]["wrapped_data_key"] = base64.b64encode(bytes(wrapped)).decode()
        members["public.json"] = json.dumps(public).encode()

    wrong_key = tmp_path / "wrong-key.vtar.gz"
    rewrite(path, wrong_key, foreign_key)
    refused(wrong_key, "does not open with this installation's master key")

    # An export made by another release (other migrations).
    def older_release(members: dict[str, bytes]) -> None:
        manifest = json.loads(members["manifest.json"])
        manifest["migrations"] = manifest["migrations"][:-1]
        members["manifest.json"] = json.dumps(manifest).encode()

    older = tmp_path / "older.vtar.gz"
    rewrite(path, older, older_release)
    refused(older, "other migrations than this release")

    # And the original still imports.
    call_command("import_client", str(path), stdout=io.StringIO())
    assert everything_count() == (before[0] + 1, before[1] + 1, before[2], before[3] + 1)


def test_export_refuses_unknown_clients_and_stale_schemas(live_client, tmp_path):
    with pytest.raises(CommandError, match="no client with the short name"):
        call_command("export_client", firm=live_client.firm.slug, slug="nope", output="x")
    with pytest.raises(CommandError, match="Name the client"):
        call_command("export_client", output=str(tmp_path / "x"))
    client = live_client.clients["x"]
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{client.schema_name}".django_migrations WHERE id = '  # noqa: S608
            f'(SELECT max(id) FROM "{client.schema_name}".django_migrations)'
        )
    target = tmp_path / "stale.vtar.gz"
    with pytest.raises(CommandError, match="not at this release's migrations"):
        call_command("export_client", schema=client.schema_name, output=str(target))
    assert not target.exists() and not Path(f"{target}.partial").exists()


@pytest.mark.django_db
def test_an_archive_that_unpacks_far_beyond_its_size_is_refused_while_reading(
    tmp_path, settings, monkeypatch
):
    """import_client unpacked the whole archive before checking it: 1 GiB from a 1 MB file."""
    settings.IMPORT_MIN_UNPACKED_BYTES = 1024 * 1024
    settings.IMPORT_MAX_UNPACKED_RATIO = 50
    bomb = tmp_path / "bomb.vtar.gz"
    manifest = {"format": "vertrouwd-client-export", "version": 1, "members": {}}
    manifest["members"] = {"public.json": "0" * 64, "tables/cases_case.copy": "0" * 64}
    zeros = 64 * 1024 * 1024  # compresses to about 64 KB
    with tarfile.open(bomb, "w:gz") as archive:
        for name, data in [
            ("manifest.json", json.dumps(manifest).encode()),
            ("public.json", b"{}"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("tables/cases_case.copy")
        info.size = zeros

        class Zeros(io.RawIOBase):
            left = zeros

            def readable(self) -> bool:
                return True

            def readinto(self, buffer) -> int:
                count = min(len(buffer), self.left)
                buffer[:count] = bytes(count)
                self.left -= count
                return count

        archive.addfile(info, io.BufferedReader(Zeros()))
    assert bomb.stat().st_size < 1024 * 1024
    written: list[str] = []
    real_open = Path.open

    def counting_open(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        if "w" in mode and "vertrouwd-import-" in str(self):
            written.append(self.name)
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    limit = f"{bomb.stat().st_size * 50:,}"
    with pytest.raises(CommandError, match=f"unpacks to more than {limit} bytes"):
        call_command("import_client", str(bomb))
    # The manifest and public.json were written; the oversized member never was.
    assert written == ["manifest.json", "public.json"]

    # A member the manifest does not name is refused too, before it is written.
    stray = tmp_path / "stray.vtar.gz"
    with tarfile.open(stray, "w:gz") as archive:
        for name, data in [("manifest.json", json.dumps(manifest).encode()), ("evil.sh", b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with pytest.raises(CommandError, match=r"unexpected entry 'evil\.sh'"):
        call_command("import_client", str(stray))
