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


def test_every_fixed_note_and_kind_the_code_writes_is_translated():
    notes = _written_notes()
    assert {"conversation added", "sent for review", "draft deleted", "intake"} <= notes
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
