"""Export one client organisation to a file and import it again, here or in another database.

The file (`.vtar.gz`, a gzip-compressed tar) holds

* `manifest.json`: format, client, the applied migrations, per table of the client's schema its
  columns, row count and SHA-256 of its rows (PostgreSQL text COPY, ordered by primary key), and
  the SHA-256 of every other member;
* `public.json`: the client's public rows: the firm, the client organisation with its wrapped
  data keys (the current one and any retired by a rotation not yet purged), domains, client
  memberships, assignments, the users they name with their firm memberships (password hashes
  included; authenticator devices not: those users enrol again where they are new), the firm's
  case themes (`tenants.themes`; a firm that exists in the target keeps its own and gains what
  it lacks, and the imported schema then follows the target's), and the rows of every other
  public table with a foreign key to the client (billing contract, work index);
* `tables/<table>.copy`: the rows of each table of the schema.

It is plain data, no SQL and no pg_dump: any PostgreSQL version reads it back, and the import
builds the schema's structure by cloning this installation's template. Both sides must run the
same release (the same migrations), which the import checks first.

Everything that identifies a person inside the schema is already encrypted with the client's
data key; that key (and any retired key, which opens values written by processes with a stale
key cache) travels wrapped with the master key and bound to the schema name, which the import
therefore keeps. The import opens them with any configured master key (where the source's
differs, put it in MASTER_KEY_PREVIOUS for the import) and wraps them with the current one.

An import runs in one transaction and verifies every table's count and checksum before it
commits: on any problem nothing is changed. Users keep their ids (tenant data refers to them by
id): a user missing in the target is created with the same id, and an e-mail address that
belongs to another id there is refused, as is a client whose schema, short name or host exists.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants import crypto, migration_runner, provisioning, themes
from tenants.models import (
    Assignment,
    ClientMembership,
    ClientOrganisation,
    Domain,
    Firm,
    FirmMembership,
    FirmTheme,
    RoleOffer,
)
from tenants.trail import Action as TrailAction
from tenants.trail import Actor, trail_write

FORMAT = "vertrouwd-client-export"
VERSION = 1
_CHUNK = 1 << 20
# Deterministic text output of COPY, whatever the server's or the session's defaults.
_SESSION = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "bytea_output": "hex",
    "extra_float_digits": "3",
}


class TransferError(Exception):
    """The export or import was refused; the message says why. Nothing was changed."""


@dataclass
class TableSummary:
    name: str
    rows: int
    sha256: str


@dataclass
class TransferSummary:
    client: str
    schema_name: str
    path: Path
    tables: list[TableSummary] = field(default_factory=list)
    public_rows: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _set_session(cursor) -> None:
    for name, value in _SESSION.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def _tables(cursor, schema: str) -> list[tuple[str, list[str], list[str]]]:
    """(table, columns in order, primary key columns) of every table of `schema`."""
    cursor.execute(
        """
        SELECT c.relname,
               array(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid
                     AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                     ORDER BY a.attnum),
               coalesce(array(SELECT a.attname FROM pg_index i
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                     WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY a.attnum), '{}')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname
        """,
        [schema],
    )
    return [(name, list(columns), list(keys)) for name, columns, keys in cursor.fetchall()]


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _ordered_copy(schema: str, table: str, columns: list[str], keys: list[str]) -> str:
    order = ", ".join(_quote(c) for c in (keys or columns))
    names = ", ".join(_quote(c) for c in columns)
    return f"COPY (SELECT {names} FROM {_quote(schema)}.{_quote(table)} ORDER BY {order}) TO STDOUT"  # noqa: S608


def _copy_out(cursor, statement: str, sink: io.BufferedWriter | None) -> tuple[int, str]:
    """Run a COPY … TO STDOUT; return (rows, sha256), writing the data to `sink` if given."""
    digest = hashlib.sha256()
    rows = 0
    with cursor.cursor.copy(statement) as copy:
        for chunk in copy:
            data = bytes(chunk)
            digest.update(data)
            rows += data.count(b"\n")
            if sink is not None:
                sink.write(data)
    return rows, digest.hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _foreign_public_tables(cursor) -> list[tuple[str, str]]:
    """(table, column) of public tables, other than ours, with a foreign key to the client."""
    client_table = ClientOrganisation._meta.db_table
    # Role offers are not exported: they name accounts of this database, waiting for an answer.
    handled = {
        Domain._meta.db_table,
        ClientMembership._meta.db_table,
        Assignment._meta.db_table,
        RoleOffer._meta.db_table,
    }
    cursor.execute(
        """
        SELECT c.relname, a.attname FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
        WHERE con.contype = 'f' AND n.nspname = 'public'
          AND con.confrelid = ('public.' || %s)::regclass AND array_length(con.conkey, 1) = 1
        ORDER BY 1, 2
        """,
        [client_table],
    )
    return [(table, column) for table, column in cursor.fetchall() if table not in handled]


# ---------------------------------------------------------------------------------------------
# Export


def client_export(*, actor: Actor, client: ClientOrganisation, path: Path) -> TransferSummary:
    """Write `client` (schema and public rows) to `path`, from one consistent snapshot.

    Refuses a schema that is not exactly at this release's migrations, and an existing `path`.
    Once the file is complete, one row on the firm's audit trail.
    """
    path = Path(path)
    if _stat(path, Path.exists):
        raise TransferError(f"{path} exists already; choose a new file name.")
    if not _stat(path.parent, Path.is_dir):
        raise TransferError(f"The directory {path.parent} does not exist.")
    schema = client.schema_name
    with connection.cursor() as cursor:
        if not provisioning.schema_exists(cursor, schema):
            raise TransferError(f"The schema {schema} of this client does not exist.")
    applied = migration_runner.applied_in_schema(schema)
    if applied != migration_runner.expected_applied():
        raise TransferError(
            f"The schema {schema} is not at this release's migrations "
            "(run migrate_tenants first, with the code of this release)."
        )
    summary = TransferSummary(
        client=f"{client.firm.slug}/{client.slug}", schema_name=schema, path=path
    )
    with tempfile.TemporaryDirectory(prefix="vertrouwd-export-") as temporary:
        work = Path(temporary)
        (work / "tables").mkdir()
        # One snapshot for the schema and the public rows: a consistent copy while others write.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            _set_session(cursor)
            tables = []
            for table, columns, keys in _tables(cursor, schema):
                with (work / "tables" / f"{table}.copy").open("wb") as sink:
                    rows, sha = _copy_out(cursor, _ordered_copy(schema, table, columns, keys), sink)
                tables.append({"name": table, "columns": columns, "rows": rows, "sha256": sha})
                summary.tables.append(TableSummary(table, rows, sha))
            public = _public_rows(cursor, client)
        (work / "public.json").write_text(json.dumps(public, default=_json_default, indent=1))
        summary.public_rows = {
            key: len(value) for key, value in public.items() if isinstance(value, list)
        }
        members = {"public.json": _sha256_file(work / "public.json")}
        for table in tables:
            name = f"tables/{table['name']}.copy"
            members[name] = _sha256_file(work / name)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": timezone.now().isoformat(),
            "client": {"firm": client.firm.slug, "slug": client.slug, "schema_name": schema},
            "migrations": sorted([app, name] for app, name in applied),
            "fingerprint": migration_runner.fingerprint_of(applied),
            "tables": tables,
            "members": members,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
        partial = path.with_name(path.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                for name in ["manifest.json", "public.json", *sorted(members)[1:]]:
                    archive.add(work / name, arcname=name, recursive=False)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    trail_write(
        actor=actor,
        action=TrailAction.CLIENT_EXPORT,
        firm_id=client.firm_id,
        client=client,
        detail=path.name[:200],
    )
    return summary


def _public_rows(cursor, client: ClientOrganisation) -> dict[str, Any]:
    firm = client.firm
    memberships = list(
        ClientMembership.objects.filter(client=client).values("user_id", "role", "created_at")
    )
    assignments = list(
        Assignment.objects.filter(client=client).values(
            "adviser_id", "kind", "starts_on", "ends_on", "ended_at", "created_by_id", "created_at"
        )
    )
    user_ids = {m["user_id"] for m in memberships} | {a["adviser_id"] for a in assignments}
    user_ids |= {a["created_by_id"] for a in assignments if a["created_by_id"]}
    from accounts.models import User

    users = list(
        User.objects.filter(pk__in=user_ids)
        .order_by("pk")
        .values("id", "email", "full_name", "password", "is_active", "date_joined", "language")
    )
    firm_memberships = list(
        FirmMembership.objects.filter(firm=firm, user_id__in=user_ids).values(
            "user_id", "role", "created_at"
        )
    )
    others: dict[str, list[str]] = {}
    for table, column in _foreign_public_tables(cursor):
        cursor.execute(
            f"SELECT row_to_json(t)::text FROM public.{_quote(table)} t "  # noqa: S608
            f"WHERE {_quote(column)} = %s ORDER BY 1",
            [client.pk],
        )
        others[f"{table}.{column}"] = [text for (text,) in cursor.fetchall()]
    return {
        "firm": {
            "slug": firm.slug,
            "name": firm.name,
            "anonymity_threshold": firm.anonymity_threshold,
            "retention_months": firm.retention_months,
            "created_at": firm.created_at,
        },
        "client": {
            "id": client.pk,
            "slug": client.slug,
            "name": client.name,
            "sector": client.sector,
            "employee_count": client.employee_count,
            "contract_starts_on": client.contract_starts_on,
            "contract_ends_on": client.contract_ends_on,
            "status": client.status,
            "created_at": client.created_at,
            "schema_name": client.schema_name,
            "wrapped_data_key": bytes(client.wrapped_data_key),
            "retired_data_keys": bytes(client.retired_data_keys),
            "data_key_rotated_at": client.data_key_rotated_at,
        },
        "domains": list(Domain.objects.filter(tenant=client).values("domain", "is_primary")),
        "users": users,
        "firm_memberships": firm_memberships,
        "firm_themes": list(
            FirmTheme.objects.filter(firm=firm)
            .order_by("pk")
            .values("code", "name", "is_standard", "is_active", "position", "created_at")
        ),
        "client_memberships": memberships,
        "assignments": assignments,
        "other_public_rows": others,
    }


# ---------------------------------------------------------------------------------------------
# Import


@dataclass
class _Archive:
    manifest: dict[str, Any]
    public: dict[str, Any]
    directory: Path


def _unpack_limit(path: Path) -> int:
    """Bytes the archive at `path` may unpack to: IMPORT_MAX_UNPACKED_RATIO times its size, and
    at least IMPORT_MIN_UNPACKED_BYTES (a small client's export is mostly headers)."""
    return max(
        settings.IMPORT_MIN_UNPACKED_BYTES, path.stat().st_size * settings.IMPORT_MAX_UNPACKED_RATIO
    )


def _unpack(path: Path, directory: Path) -> set[str]:
    """Unpack the archive member by member, checking each header before a byte is written.

    One pass over the stream (`r|gz`): the manifest comes first and names every other member;
    anything else, a second copy of a name, or more bytes in all than `_unpack_limit` is
    refused before it is written. A 1 MB file once wrote 1 GiB to the disk before the check.
    """
    limit = _unpack_limit(path)
    unpacked = 0
    allowed = {"manifest.json"}
    seen: set[str] = set()
    with tarfile.open(path, "r|gz") as archive:
        for member in archive:
            name = member.name
            if not member.isfile() or name not in allowed or name in seen:
                if not seen and name != "manifest.json":
                    raise TransferError(f"{path} is not a client export (no manifest).")
                raise TransferError(f"{path} holds an unexpected entry {name!r}.")
            unpacked += member.size
            if unpacked > limit:
                raise TransferError(
                    f"{path} unpacks to more than {limit:,} bytes, more than an export of its "
                    "size holds; it is damaged or not a client export (IMPORT_MAX_UNPACKED_RATIO "
                    "raises the limit for an export that really is this large)."
                )
            source = archive.extractfile(member)
            if source is None:
                raise TransferError(f"{path} holds an unexpected entry {name!r}.")
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
            seen.add(name)
            if name == "manifest.json":
                try:
                    members = json.loads(target.read_text())["members"]
                    allowed |= {str(listed) for listed in members}
                except (ValueError, KeyError, TypeError):
                    raise TransferError(f"{path} is not a client export.") from None
    return seen


def _stat(path: Path, question: Callable[[Path], bool]) -> bool:
    """Ask `question` about `path`; a name the system refuses (too long, say) is refused here
    instead of ending an operator's command in a traceback."""
    try:
        return question(path)
    except OSError as error:
        shown = str(path) if len(str(path)) <= 120 else f"{str(path)[:120]}…"
        raise TransferError(f"{shown} cannot be used: {error.strerror}.") from None


def _read_archive(path: Path, directory: Path) -> _Archive:
    """Unpack and verify the file completely before anything is written to the database."""
    if not _stat(path, Path.is_file):
        raise TransferError(f"There is no file {path}.")
    try:
        seen = _unpack(path, directory)
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, OSError, zlib.error) as error:
        raise TransferError(f"{path} is damaged or not a client export ({error}).") from None
    if "manifest.json" not in seen or "public.json" not in seen:
        raise TransferError(f"{path} is not a client export (no manifest).")
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise TransferError(f"{path} is not a client export.")
        if manifest.get("version") != VERSION:
            raise TransferError(f"{path} has format version {manifest.get('version')!r}.")
        for name, expected in manifest["members"].items():
            member = directory / name
            if not member.is_file() or _sha256_file(member) != expected:
                raise TransferError(f"{path} is damaged: {name} does not match its checksum.")
        listed = {f"tables/{t['name']}.copy" for t in manifest["tables"]} | {"public.json"}
        if listed != set(manifest["members"]):
            raise TransferError(f"{path} is damaged: its manifest is inconsistent.")
        public = json.loads((directory / "public.json").read_text())
    except (ValueError, KeyError, TypeError) as error:
        raise TransferError(f"{path} is damaged ({type(error).__name__}: {error}).") from None
    return _Archive(manifest=manifest, public=public, directory=directory)


def client_import(*, actor: Actor, path: Path) -> TransferSummary:
    """Create the client of the export at `path` here: schema, rows and public rows.

    All in one transaction, verified table by table before it commits; refuses (TransferError,
    nothing changed) a damaged file, another release's export, or a client that exists.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="vertrouwd-import-") as temporary:
        archive = _read_archive(path, Path(temporary))
        manifest, public = archive.manifest, archive.public
        applied = {tuple(pair) for pair in manifest["migrations"]}
        if applied != migration_runner.expected_applied():
            raise TransferError(
                "The export was made with other migrations than this release has "
                f"({manifest['fingerprint']} there, {migration_runner.expected_fingerprint()} "
                "here): import it with the release that made it."
            )
        client_data = public["client"]
        schema = client_data["schema_name"]
        if not provisioning.is_valid_schema_name(schema):
            raise TransferError(f"The export names an invalid schema {schema!r}.")
        wrapped, retired = _data_keys_for_here(client_data, schema)
        summary = TransferSummary(
            client=f"{public['firm']['slug']}/{client_data['slug']}", schema_name=schema, path=path
        )
        try:
            with transaction.atomic():
                _refuse_existing(public)
                client = _create_public_rows(public, wrapped, retired)
                _load_schema(archive, schema, summary)
                # After the checksums: the schema now follows its firm's themes here (the
                # firm's theme lock is held since _create_public_rows).
                with schema_context(schema):
                    themes.theme_catalogue_apply(firm_id=client.firm_id)
                summary.public_rows = _load_other_public_rows(public, client)
                trail_write(
                    actor=actor,
                    action=TrailAction.CLIENT_IMPORT,
                    firm_id=client.firm_id,
                    client=client,
                    detail=path.name[:200],
                )
        except TransferError:
            raise
        except Exception as error:
            raise TransferError(
                f"The import failed and was rolled back ({type(error).__name__}: {error})."
            ) from error
    crypto.forget_data_key(schema)
    return summary


def _data_keys_for_here(client_data: dict[str, Any], schema: str) -> tuple[bytes, bytes]:
    """Open the data keys (current, retired) with a master key of this installation; wrap them
    with the current one."""
    wrapped = base64.b64decode(client_data["wrapped_data_key"])
    retired = base64.b64decode(client_data.get("retired_data_keys") or "")
    try:
        ring = crypto.unwrap_key_ring(wrapped, retired, schema)
    except crypto.DecryptionError:
        raise TransferError(
            "The client's data key does not open with this installation's master key: add the "
            "source's master key to MASTER_KEY_PREVIOUS for the import."
        ) from None
    return (
        crypto.wrap_data_key(ring.current, schema),
        b"".join(crypto.wrap_data_key(key, schema) for key in ring.retired),
    )


def _refuse_existing(public: dict[str, Any]) -> None:
    client_data = public["client"]
    schema = client_data["schema_name"]
    with connection.cursor() as cursor:
        if provisioning.schema_exists(cursor, schema):
            raise TransferError(f"The schema {schema} exists here already.")
    if ClientOrganisation.objects.filter(schema_name=schema).exists():
        raise TransferError(f"A client organisation with the schema {schema} exists here already.")
    if ClientOrganisation.objects.filter(
        firm__slug=public["firm"]["slug"], slug=client_data["slug"]
    ).exists():
        raise TransferError(
            f"The firm {public['firm']['slug']} has a client {client_data['slug']} here already."
        )
    hosts = [d["domain"] for d in public["domains"]]
    taken = list(Domain.objects.filter(domain__in=hosts).values_list("domain", flat=True))
    if taken:
        raise TransferError(f"The address {', '.join(sorted(taken))} is taken here already.")


def _parse_datetime(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def _parse_date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _create_public_rows(
    public: dict[str, Any], wrapped: bytes, retired: bytes
) -> ClientOrganisation:
    from accounts.models import User

    firm_data = public["firm"]
    firm = Firm.objects.filter(slug=firm_data["slug"]).first()
    if firm is None:
        firm = Firm.objects.create(
            slug=firm_data["slug"],
            name=firm_data["name"],
            anonymity_threshold=firm_data["anonymity_threshold"],
            retention_months=firm_data["retention_months"],
            created_at=_parse_datetime(firm_data["created_at"]),
        )
    _merge_firm_themes(firm, public.get("firm_themes", []))
    created_users = False
    for user in public["users"]:
        existing = User.objects.filter(email__iexact=user["email"]).values_list("pk", flat=True)
        existing_id = existing.first()
        if existing_id is not None:
            if existing_id != user["id"]:
                raise TransferError(
                    f"The user {user['email']} has another id here ({existing_id}, "
                    f"{user['id']} in the export); tenant data refers to users by id."
                )
            continue
        if User.objects.filter(pk=user["id"]).exists():
            raise TransferError(
                f"The id {user['id']} of {user['email']} belongs to another user here."
            )
        User.objects.create(
            id=user["id"],
            email=user["email"],
            full_name=user["full_name"],
            password=user["password"],
            is_active=user["is_active"],
            date_joined=_parse_datetime(user["date_joined"]),
            language=user["language"],
        )
        created_users = True
    if created_users:
        _move_sequence_past("accounts_user")
    for membership in public["firm_memberships"]:
        FirmMembership.objects.get_or_create(
            user_id=membership["user_id"],
            firm=firm,
            role=membership["role"],
            defaults={"created_at": _parse_datetime(membership["created_at"])},
        )
    client_data = public["client"]
    keep_id = not ClientOrganisation.objects.filter(pk=client_data["id"]).exists()
    client = ClientOrganisation(
        id=client_data["id"] if keep_id else None,
        firm=firm,
        slug=client_data["slug"],
        name=client_data["name"],
        sector=client_data["sector"],
        employee_count=client_data["employee_count"],
        contract_starts_on=_parse_date(client_data["contract_starts_on"]),
        contract_ends_on=_parse_date(client_data["contract_ends_on"]),
        status=client_data["status"],
        created_at=_parse_datetime(client_data["created_at"]),
        schema_name=client_data["schema_name"],
        wrapped_data_key=wrapped,
        retired_data_keys=retired,
        data_key_rotated_at=_parse_datetime(client_data.get("data_key_rotated_at")),
    )
    client.save()
    if keep_id:
        _move_sequence_past(ClientOrganisation._meta.db_table)
    for domain in public["domains"]:
        Domain.objects.create(
            domain=domain["domain"], tenant=client, is_primary=domain["is_primary"]
        )
    for membership in public["client_memberships"]:
        ClientMembership.objects.create(
            user_id=membership["user_id"],
            client=client,
            role=membership["role"],
            created_at=_parse_datetime(membership["created_at"]),
        )
    for assignment in public["assignments"]:
        Assignment.objects.create(
            adviser_id=assignment["adviser_id"],
            client=client,
            kind=assignment["kind"],
            starts_on=_parse_date(assignment["starts_on"]),
            ends_on=_parse_date(assignment["ends_on"]),
            ended_at=_parse_datetime(assignment.get("ended_at")),
            created_by_id=assignment["created_by_id"],
            created_at=_parse_datetime(assignment["created_at"]),
        )
    return client


def _merge_firm_themes(firm: Firm, exported: list[dict[str, Any]]) -> None:
    """Add the exported themes the firm lacks here (by code; an own theme also by name)."""
    themes.firm_themes_lock(firm.pk)
    rows = FirmTheme.objects.filter(firm=firm)
    codes = set(rows.values_list("code", flat=True))
    names = {name.lower() for name in rows.filter(is_standard=False).values_list("name", flat=True)}
    for theme in exported:
        if theme["code"] in codes or (not theme["is_standard"] and theme["name"].lower() in names):
            continue
        FirmTheme.objects.create(
            firm=firm,
            code=theme["code"],
            name=theme["name"],
            is_standard=theme["is_standard"],
            is_active=theme["is_active"],
            position=theme["position"],
            created_at=_parse_datetime(theme["created_at"]),
        )
        codes.add(theme["code"])
        names.add(theme["name"].lower())


def _move_sequence_past(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
            f"GREATEST((SELECT max(id) FROM public.{_quote(table)}), 1))",
            [f"public.{table}"],
        )


def _load_schema(archive: _Archive, schema: str, summary: TransferSummary) -> None:
    provisioning.clone_template_into(schema)
    with connection.cursor() as cursor:
        _set_session(cursor)
        here = {name: (columns, keys) for name, columns, keys in _tables(cursor, schema)}
        exported = {table["name"]: table for table in archive.manifest["tables"]}
        if set(here) != set(exported):
            raise TransferError(
                f"The tables differ from this installation's: {sorted(set(here) ^ set(exported))}."
            )
        # The clone carries the template's seed rows; the export brings the client's own.
        filled = [t for t in here if _has_rows(cursor, schema, t)]
        if filled:
            tables = ", ".join(f"{_quote(schema)}.{_quote(t)}" for t in filled)
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        for name, table in sorted(exported.items()):
            columns, keys = here[name]
            if columns != table["columns"]:
                raise TransferError(f"The columns of {name} differ from this installation's.")
            names = ", ".join(_quote(c) for c in columns)
            statement = f"COPY {_quote(schema)}.{_quote(name)} ({names}) FROM STDIN"
            data = archive.directory / "tables" / f"{name}.copy"
            with data.open("rb") as source, cursor.cursor.copy(statement) as copy:
                while chunk := source.read(_CHUNK):
                    copy.write(chunk)
            rows, sha = _copy_out(cursor, _ordered_copy(schema, name, columns, keys), None)
            if (rows, sha) != (table["rows"], table["sha256"]):
                raise TransferError(
                    f"The table {name} does not read back as exported "
                    f"({rows} rows, expected {table['rows']})."
                )
            summary.tables.append(TableSummary(name, rows, sha))
            _move_identities(cursor, schema, name)
        # Deferred foreign keys (to users, within the schema) are checked here, not at COMMIT,
        # so a violation is reported as such.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _has_rows(cursor, schema: str, table: str) -> bool:
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(schema)}.{_quote(table)})")  # noqa: S608
    return cursor.fetchone()[0]


def _move_identities(cursor, schema: str, table: str) -> None:
    cursor.execute(
        """
        SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass
          AND a.attnum > 0 AND NOT a.attisdropped
          AND pg_get_serial_sequence(quote_ident(%s) || '.' || quote_ident(%s), a.attname)
              IS NOT NULL
        """,
        [schema, table, schema, table],
    )
    qualified = f"{_quote(schema)}.{_quote(table)}"
    for (column,) in cursor.fetchall():
        # Two statements: on Citus one that read the table would run on the worker holding it,
        # where the sequence has that node's own range; the coordinator's is the one that counts.
        cursor.execute(f"SELECT max({_quote(column)}) FROM {qualified}")  # noqa: S608
        (highest,) = cursor.fetchone()
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, %s), %s, %s)",
            [qualified, column, highest or 1, highest is not None],
        )


def _load_other_public_rows(public: dict[str, Any], client: ClientOrganisation) -> dict[str, int]:
    counts = {
        "domains": len(public["domains"]),
        "users": len(public["users"]),
        "firm_memberships": len(public["firm_memberships"]),
        "client_memberships": len(public["client_memberships"]),
        "assignments": len(public["assignments"]),
    }
    with connection.cursor() as cursor:
        for key, rows in public["other_public_rows"].items():
            table, column = key.split(".", 1)
            cursor.execute(
                "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass "
                "AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' "
                "AND pg_get_serial_sequence(%s, a.attname) IS NULL ORDER BY a.attnum",
                [f"public.{table}", f"public.{table}"],
            )
            # Their own ids are generated anew; the client column points at the new row.
            columns = [name for (name,) in cursor.fetchall()]
            if not columns:
                raise TransferError(f"The public table {table} does not exist here.")
            names = ", ".join(_quote(c) for c in columns)
            for text in rows:
                record = json.loads(text)
                record[column] = client.pk
                cursor.execute(
                    f"INSERT INTO public.{_quote(table)} ({names}) "  # noqa: S608
                    f"SELECT {names} FROM json_populate_record(NULL::public.{_quote(table)}, %s)",
                    [json.dumps(record)],
                )
            counts[table] = len(rows)
    return counts
