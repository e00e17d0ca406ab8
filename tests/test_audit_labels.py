"""The access log in the reader's language: every note the code writes is known to
audit.labels, and the page shows kinds and notes translated (it showed "consent recorded
(talk_to_hr)" on Dutch pages, and one "Reference" column mixed cases, threads and signals)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from audit import labels
from audit.models import AccessLogEntry
from tests.cast import sign_in

ROOT = Path(settings.BASE_DIR)


def _written_notes() -> set[str]:
    """Fixed notes the code passes to the access log (f-strings are the patterns' job)."""
    notes = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"_log\(\s*[\w.]+,\s*Action\.\w+,\s*[^,]+,\s*\"([^\"{]+)\"", text):
            notes.add(call.group(1))
        for call in re.finditer(
            r"_log\(\s*[\w.]+,\s*[\w.]+,\s*\"\w+\",\s*[^,]+,\s*\"([^\"{]+)\"", text
        ):
            notes.add(call.group(1))
    return notes


def test_every_fixed_note_and_kind_the_code_writes_has_a_code_and_is_translated():
    notes = _written_notes()
    assert {"conversation added", "sent for review", "draft deleted", "intake"} <= notes
    assert [note for note in notes if labels.note_encode(note)[0] == ""] == []
    with translation.override("nl"):
        untranslated = [note for note in notes if labels.note_label(note) == note]
        assert untranslated == []
        for kind in labels.KINDS:
            assert labels.kind_label(kind) != kind


def test_notes_with_values_are_said_with_the_products_labels():
    with translation.override("nl"):
        assert labels.note_label("consent recorded (talk_to_hr)") == (
            "toestemming vastgelegd (Praten met HR)"
        )
        assert labels.note_label("answered, 2 attachment(s)") == "beantwoord, 2 bijlagen"
        assert labels.note_label("changed reporter_role, period").startswith("gewijzigd: ")
        assert "_" not in labels.note_label("changed reporter_role, period")
        # A note this release does not know is shown as stored, never dropped.
        assert labels.note_label("something new") == "something new"
    with translation.override("en"):
        assert labels.note_label("consent recorded (talk_to_hr)") == "consent recorded (Talk to HR)"


def test_the_access_log_page_shows_kinds_and_notes_in_dutch(cast, client_for):
    from django_tenants.utils import tenant_context

    from audit.services import access_log_write

    with tenant_context(cast.a1):
        access_log_write(
            actor=cast.adviser_a,
            action=AccessLogEntry.Action.UPDATE,
            object_type="case",
            object_reference="2026-0999",
            detail="consent recorded (talk_to_hr)",
        )
    admin = client_for(cast.a1)
    sign_in(admin, cast.admin_a)
    page = admin.get("/cases/administration/access-log/?reference=2026-0999").content.decode()
    assert "toestemming vastgelegd (Praten met HR)" in page
    assert "talk_to_hr" not in page
    assert '<th scope="col">Soort</th>' in page and "<td>Dossier</td>" in page


def test_a_new_row_stores_a_code_and_values_and_is_said_from_them(cast):
    from django_tenants.utils import tenant_context

    from audit.services import access_log_write

    with tenant_context(cast.a1):
        entry = access_log_write(
            actor=cast.adviser_a,
            action=AccessLogEntry.Action.UPDATE,
            object_type="case",
            object_reference="2026-0998",
            detail="referral added (occupational_physician)",
        )
        stored = AccessLogEntry.objects.get(pk=entry.pk)
        assert (stored.note, stored.note_params) == (
            "referral_added",
            {"target": "occupational_physician"},
        )
        plain = access_log_write(
            actor=cast.adviser_a,
            action=AccessLogEntry.Action.UPDATE,
            object_type="case",
            object_reference="2026-0998",
            detail="conversation added",
        )
        assert AccessLogEntry.objects.get(pk=plain.pk).note == "conversation_added"
        unknown = access_log_write(
            actor=None, action="read", object_type="case", object_reference="x", detail="new kind"
        )
        assert (unknown.note, unknown.note_params) == ("", None)
    # Said from the code, not the phrase: a row whose phrase says something else shows its code.
    with translation.override("nl"):
        said = labels.note_label(
            "garbage", note="referral_added", params={"target": "occupational_physician"}
        )
        assert said == labels.note_label("referral added (occupational_physician)") != "garbage"
        assert said.startswith("verwijzing vastgelegd (") and "_" not in said
    with translation.override("en"):
        assert labels.note_label("", note="conversation_added") == "conversation added"
        # A code of a newer release, or values it cannot use: the phrase as stored.
        assert labels.note_label("as stored", note="from_the_future") == "as stored"
        assert labels.note_label("as stored", note="retention_months", params={}) == "as stored"


def test_rows_written_before_codes_are_still_said_in_the_readers_language(cast, client_for):
    """Append-only rows are never rewritten: an old row (no code) is read by its phrase."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    with tenant_context(cast.a1), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accesslogentry (at, actor_id, actor_email, action, object_type,"
            " object_reference, detail)"
            " VALUES (now(), NULL, 'old@acme.test', 'update', 'case', '2026-0997',"
            " 'consent withdrawn (talk_to_hr)')"
        )
    admin = client_for(cast.a1)
    sign_in(admin, cast.admin_a)
    page = admin.get("/cases/administration/access-log/?reference=2026-0997").content.decode()
    assert "toestemming ingetrokken (Praten met HR)" in page
    assert "talk_to_hr" not in page
