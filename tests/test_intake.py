"""The employee's intake: the page, submitting, the receipt key, the mailbox, the firm's side,
the oral-report record, the journal, metadata removal and the short link."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from intake import keys, scrub, services
from intake.models import (
    Attachment,
    Contact,
    Entry,
    JournalEntry,
    JournalFile,
    MailboxSession,
    OralRecord,
)
from intake.public.models import IntakeIndexEntry, IntakeLink
from intake.services import NO_ROW
from intake.web import CONTENT_SECURITY_POLICY
from mail.models import OutgoingEmail
from sparring import filetypes
from tenants import crypto
from tests.cast import sign_in
from tests.intake_files import AUTHOR, docx_with_author, jpeg_with_gps, pdf_with_author

TODAY = timezone.localdate()


def _host(client) -> str:
    return client.domains.get(is_primary=True).domain


def _nonce() -> str:
    return keys.new_nonce()


def _submit(cast, client=None, **fields):
    client = client or cast.a1
    with tenant_context(client):
        defaults = {"nonce": _nonce(), "kind": "message", "body": "Mijn leidinggevende pest mij."}
        return services.contact_submit(**{**defaults, **fields})


def _state(client) -> tuple[int, int, int, int]:
    with tenant_context(client):
        return (
            Contact.objects.count(),
            Entry.objects.count(),
            Attachment.objects.count(),
            IntakeIndexEntry.objects.count(),
        )


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_intake_page_lists_the_advisers_sets_no_cookie_and_loads_nothing_foreign(cast, lang):
    http = Client(HTTP_HOST=_host(cast.a1))
    response = http.get(f"/intake/{lang}/")
    assert response.status_code == 200
    assert response.cookies == {} and "Set-Cookie" not in response.headers
    body = response.content.decode()
    for user in (cast.adviser_a, cast.adviser_a_backup, cast.internal_a1):
        assert user.full_name in body
    assert cast.adviser_b.full_name not in body
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "form-action 'self';" in policy
    assert "http" not in policy and "*" not in policy and "data:" not in policy
    assert response["Cache-Control"] == "no-store"
    # Nothing on the page points at another origin, and no inline script.
    assert not re.search(r'(src|href|action)="(https?:)?//', body)
    assert "<script>" not in body and "onclick" not in body and "onchange" not in body
    expected = "Vertrouwenspersoon" if lang == "nl" else "Confidential adviser"
    assert expected in body


def test_intake_root_follows_the_browser_language_without_a_cookie(cast):
    http = Client(HTTP_HOST=_host(cast.a1))
    response = http.get("/intake/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/intake/en/"
    assert response.cookies == {}
    # Pages that are not there: the intake's own 404, without the site's CSRF cookie.
    for path in (
        "/intake/de/",
        f"/intake/en/mailbox/file/{NO_ROW}/",
        f"/intake/nl/journal/file/{NO_ROW}/",
        "/intake/nl/journal/file/not-a-uuid/",
        "/intake/en/no-such-page/",
    ):
        missing = http.get(path)
        assert missing.status_code == 404 and missing.cookies == {}, path
        assert missing["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


# --- submitting ---------------------------------------------------------------------------------


def test_submit_shows_the_key_once_stores_only_its_hash_and_is_idempotent(cast):
    http = Client(HTTP_HOST=_host(cast.a1))
    nonce = _nonce()
    data = {
        "nonce": nonce,
        "kind": "message",
        "topic": "integrity",
        "body": "Er wordt gefraudeerd.",
    }
    first = http.post("/intake/nl/send/", data)
    assert first.status_code == 200 and first.cookies == {}
    key = re.search(r"data-receipt-key>([0-9A-Z-]+)<", first.content.decode())[1]
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", key)
    again = http.post("/intake/nl/send/", data)
    assert key in again.content.decode() and "already sent" in again.content.decode().replace(
        "al verstuurd", "already sent"
    )
    with tenant_context(cast.a1):
        contact = Contact.objects.get()
        assert contact.lookup_id == key.replace("-", "")[:8]
        assert contact.key_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert key.replace("-", "")[8:] not in contact.key_hash
        assert contact.anonymous and contact.handler_id == cast.adviser_a.pk
        assert contact.acknowledgement_due == TODAY + datetime.timedelta(days=7)
        assert contact.entries.get().body == "Er wordt gefraudeerd."
        log = AccessLogEntry.objects.filter(object_type="intake contact").get()
        assert (log.actor_id, log.actor_email, log.action) == (None, "reporter", "create")
    entry = IntakeIndexEntry.objects.get(client=cast.a1)
    assert (entry.handler_id, entry.received_on, entry.awaiting_adviser) == (
        cast.adviser_a.pk,
        TODAY,
        True,
    )
    notice = OutgoingEmail.objects.get(kind__startswith="intake.", client=cast.a1)
    assert (notice.kind, notice.recipient_id) == ("intake.adviser", cast.adviser_a.pk)
    assert notice.params == {"contact": str(contact.pk)}  # nothing the reporter wrote


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": ""}, "This field is required."),
        ({"body": "x" * 1_000_000}, "This text is too long"),
        ({"body": "hallo\x00daar"}, "NUL"),  # refused by saas.guards
        ({"body": "bel\x1bme"}, "characters that cannot be stored"),
        ({"kind": "callback", "body": ""}, "This field is required."),  # a number is needed
        ({"named": "1", "name": ""}, "This field is required."),
        ({"notify_email": "geen-adres"}, "Enter a valid e-mail address"),
        ({"adviser": "999999"}, "Choose one of the advisers"),
        ({"kind": "journal"}, "Choose how you want to be in touch."),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(cast, fields, message):
    http = Client(HTTP_HOST=_host(cast.a1))
    before = _state(cast.a1)
    data = {"nonce": _nonce(), "kind": "message", "body": "tekst", **fields}
    with translation.override("en"):
        response = http.post("/intake/en/send/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _state(cast.a1) == before
    assert not OutgoingEmail.objects.filter(kind__startswith="intake.").exists()


def test_oversized_and_wrong_files_are_refused_before_anything_is_stored(cast):
    http = Client(HTTP_HOST=_host(cast.a1))
    before = _state(cast.a1)
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))
    big.name = "groot.pdf"
    script = io.BytesIO(b"<html><script>alert(1)</script></html>")
    script.name = "brief.pdf"
    for upload, text in ((big, "larger than 10 MB"), (script, "is not a PDF")):
        with translation.override("en"):
            response = http.post(
                "/intake/en/send/",
                {
                    "nonce": _nonce(),
                    "kind": "message",
                    "body": "zie bijlage",
                    "attachments": upload,
                },
            )
        assert response.status_code == 400 and text in response.content.decode()
    assert _state(cast.a1) == before


OVERSIZE_WORDS = {
    "nl": (
        "Deze tekst is te lang",
        "Een tekst die u verstuurde is veel te lang",
        "groter dan 52 MB",
    ),
    "en": ("This text is too long", "A text you sent is far too long", "larger than 52 MB"),
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_megabyte_of_text_and_sixty_megabytes_of_files_get_a_clear_answer_in_the_pages_language(
    cast, lang
):
    """As a browser sends the form (multipart): a million characters, a million characters of
    three bytes each (past Django's 2.5 MB for form texts) and three files of 20 MB (past the
    52 MB a request may have). The browser asks for the other language; the page's path wins."""
    http = Client(HTTP_HOST=_host(cast.a1), HTTP_ACCEPT_LANGUAGE="en" if lang == "nl" else "nl")
    too_long, far_too_long, too_large = OVERSIZE_WORDS[lang]
    before = _state(cast.a1)

    def send(body: str, files: list[io.BytesIO]):
        data = {"nonce": _nonce(), "kind": "message", "body": body, "attachments": files}
        response = http.post(f"/intake/{lang}/send/", data)
        assert response.cookies == {} and response["Cache-Control"] == "no-store"
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert f'<html lang="{lang}">' in response.content.decode()
        return response.status_code, response.content.decode()

    empty = io.BytesIO(b"")
    empty.name = ""
    status, page = send("x" * 1_000_000, [empty])
    assert status == 400 and too_long in page
    status, page = send("€" * 1_000_000, [empty])
    assert status == 413 and far_too_long in page
    files = []
    for number in range(3):
        upload = io.BytesIO(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))
        upload.name = f"scan-{number}.pdf"
        files.append(upload)
    status, page = send("Zie de scans.", files)
    assert status == 413 and too_large in page
    assert _state(cast.a1) == before
    assert not OutgoingEmail.objects.filter(kind__startswith="intake.").exists()


def test_html_is_stored_as_text_and_shown_escaped(cast):
    receipt = _submit(cast, body="<script>alert('x')</script> <b>vet</b>")
    adviser = Client(HTTP_HOST=_host(cast.a1))
    sign_in(adviser, cast.adviser_a)
    page = adviser.get(f"/intake/work/{receipt.contact.pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_choosing_and_excluding_the_same_adviser_is_refused(cast):
    with pytest.raises(services.ValidationError):
        _submit(cast, chosen_adviser=cast.adviser_a.pk, excluded_adviser=cast.adviser_a.pk)
    assert _state(cast.a1)[0] == 0


# --- the mailbox --------------------------------------------------------------------------------


def _open(http: Client, key: str, lang: str = "nl"):
    return http.post(f"/intake/{lang}/mailbox/", {"key": key})


def test_key_opens_a_mailbox_with_a_scoped_cookie_and_reads_the_answer(cast):
    receipt = _submit(cast, notify_email="prive@example.org")
    with tenant_context(cast.a1):
        services.adviser_answer(
            actor=cast.adviser_a, contact=receipt.contact, nonce=_nonce(), body="Dank, ik bel u."
        )
    http = Client(HTTP_HOST=_host(cast.a1))
    # Typed loosely: lower case, spaces, O for 0.
    typed = receipt.formatted_key.lower().replace("-", " ").replace("0", "o")
    response = _open(http, typed)
    assert response.status_code == 303 and response["Location"] == "/intake/nl/mailbox/"
    cookie = response.cookies["vt_mailbox"]
    assert cookie["path"] == "/intake/" and cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["domain"] == "" and cookie["expires"] == ""
    assert set(response.cookies) == {"vt_mailbox"}
    page = http.get("/intake/nl/mailbox/").content.decode()
    assert "Dank, ik bel u." in page and "In gesprek" in page
    with tenant_context(cast.a1):
        session = MailboxSession.objects.get()
        assert cookie.value not in session.token_hash
    # The reporter's notice went to the outbox without content.
    assert OutgoingEmail.objects.filter(kind="intake.reporter", client=cast.a1).count() == 1


def test_wrong_key_and_another_clients_key_get_the_same_answer(cast):
    own = _submit(cast)
    other = _submit(cast, client=cast.b1)
    http = Client(HTTP_HOST=_host(cast.a1))
    wrong = own.key[:8] + ("A" if own.key[8] != "A" else "B") + own.key[9:]
    answers = [_open(http, key) for key in (wrong, other.formatted_key, "ABCD-EFGH")]
    assert {a.status_code for a in answers} == {400}
    assert answers[0].content == answers[1].content == answers[2].content
    assert all(a.cookies == {} for a in answers)
    assert _open(http, own.formatted_key).status_code == 303


def test_key_guessing_is_limited_per_key_without_storing_an_address(cast, settings):
    settings.INTAKE_KEY_FAILURES_PER_KEY = 3
    receipt = _submit(cast)
    wrong = receipt.key[:8] + "0" * 20
    statuses = []
    for number in range(4):
        http = Client(HTTP_HOST=_host(cast.a1), REMOTE_ADDR=f"10.0.0.{number}")
        statuses.append(_open(http, wrong).status_code)
    assert statuses == [400, 400, 400, 429]
    # Blocked for this key even with the right secret now; other keys still open.
    assert _open(Client(HTTP_HOST=_host(cast.a1)), receipt.key).status_code == 429
    second = _submit(cast)
    assert _open(Client(HTTP_HOST=_host(cast.a1)), second.key).status_code == 303
    from django.core.cache import caches

    cache = caches["routing"]
    stored = {key: cache.get(key) for key in cache._cache} if hasattr(cache, "_cache") else {}
    assert not any("10.0.0" in str(key) for key in stored)


def test_key_guessing_is_limited_per_client_across_keys_and_other_clients_still_open(
    cast, settings
):
    """Guessing many lookup ids, one try each, passes the per-key limit: the per-client count
    stops it, for every key of that client (the right one too) and no other client."""
    settings.INTAKE_KEY_FAILURES_PER_KEY = 100
    settings.INTAKE_KEY_FAILURES_PER_CLIENT = 3
    receipt = _submit(cast)
    other = _submit(cast, client=cast.b1)
    statuses = []
    for number in range(4):
        guess = f"{number:08d}" + "0" * 20
        http = Client(HTTP_HOST=_host(cast.a1), REMOTE_ADDR=f"10.0.1.{number}")
        statuses.append(_open(http, guess).status_code)
    assert statuses == [400, 400, 400, 429]
    assert _open(Client(HTTP_HOST=_host(cast.a1)), receipt.key).status_code == 429
    with tenant_context(cast.a1):
        assert MailboxSession.objects.count() == 0
    assert _open(Client(HTTP_HOST=_host(cast.b1)), other.key).status_code == 303


def test_mailbox_forms_need_the_cookie_and_its_token(cast):
    receipt = _submit(cast)
    http = Client(HTTP_HOST=_host(cast.a1))
    _open(http, receipt.key)
    page = http.get("/intake/nl/mailbox/").content.decode()
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page)[1]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)[1]
    before = _state(cast.a1)
    forged = http.post(
        "/intake/nl/mailbox/write/", {"form_token": "0" * 32, "nonce": nonce, "body": "x"}
    )
    assert forged.status_code == 403 and _state(cast.a1) == before
    stranger = Client(HTTP_HOST=_host(cast.a1))
    response = stranger.post(
        "/intake/nl/mailbox/write/", {"form_token": token, "nonce": nonce, "body": "x"}
    )
    assert response.status_code == 403 and _state(cast.a1) == before
    ok = http.post(
        "/intake/nl/mailbox/write/", {"form_token": token, "nonce": nonce, "body": "Nog iets."}
    )
    assert ok.status_code == 303
    twice = http.post(
        "/intake/nl/mailbox/write/", {"form_token": token, "nonce": nonce, "body": "Nog iets."}
    )
    assert twice.status_code == 303
    with tenant_context(cast.a1):
        assert [e.body for e in Entry.objects.order_by("created_at")] == [
            "Mijn leidinggevende pest mij.",
            "Nog iets.",
        ]


def test_closing_ends_the_mailbox_session_and_a_closed_contact_takes_no_more(cast):
    receipt = _submit(cast)
    http = Client(HTTP_HOST=_host(cast.a1))
    _open(http, receipt.key)
    with tenant_context(cast.a1):
        services.contact_close(actor=cast.adviser_a, contact=receipt.contact)
        assert MailboxSession.objects.count() == 0
    assert "Open your mailbox" in http.get("/intake/en/mailbox/").content.decode()
    _open(http, receipt.key)
    with tenant_context(cast.a1), pytest.raises(services.ValidationError):
        services.reporter_write(contact=receipt.contact, nonce=_nonce(), body="nog")
    assert not IntakeIndexEntry.objects.filter(client=cast.a1).exists()


# --- the firm's side ----------------------------------------------------------------------------


def _as(user, client) -> Client:
    http = Client(HTTP_HOST=_host(client))
    sign_in(http, user)
    return http


def test_the_intake_list_is_in_the_top_bar_of_everyone_who_reads_it(cast):
    """Issue 14 walk: the intake list (open and closed contacts) had no link anywhere; an
    internal adviser, to whom employees write too, had no way to it but an e-mail's link."""
    link = '<a href="/intake/work/"'
    for user in (cast.adviser_a, cast.internal_a1, cast.admin_a):
        assert link in _as(user, cast.a1).get("/").content.decode(), user.email
        assert _as(user, cast.a1).get("/intake/work/").status_code == 200, user.email
    assert link not in _as(cast.contact_a1, cast.a1).get("/").content.decode()


def test_excluded_adviser_gets_404_everywhere_and_sees_no_trace(cast):
    jpeg = jpeg_with_gps()
    receipt = _submit(
        cast,
        excluded_adviser=cast.adviser_a.pk,
        uploads=[services.Upload(name="foto.jpg", data=jpeg)],
    )
    contact = receipt.contact
    assert contact.handler_id == cast.adviser_a_backup.pk
    with tenant_context(cast.a1):
        attachment = Attachment.objects.get()
    excluded = _as(cast.adviser_a, cast.a1)
    paths = [
        f"/intake/work/{contact.pk}/",
        f"/intake/work/{contact.pk}/file/{attachment.pk}/",
    ]
    for path in paths:
        assert excluded.get(path).status_code == 404
    for action in ("answer", "close", "link", "case", "record"):
        assert (
            excluded.post(f"/intake/work/{contact.pk}/{action}/", {"body": "x"}).status_code == 404
        )
    listing = excluded.get("/intake/work/").content.decode()
    assert str(contact.pk) not in listing and "Geen meldingen." in listing
    assert str(contact.pk) not in Client(HTTP_HOST=settings.BASE_DOMAIN).get("/").content.decode()
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    assert str(contact.pk) not in console.get("/console/my-day/").content.decode()
    backup = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(backup, cast.adviser_a_backup)
    assert str(contact.pk) in backup.get("/console/my-day/").content.decode()
    assert _as(cast.adviser_a_backup, cast.a1).get(paths[0]).status_code == 200
    # Firm admins who are also excluded see nothing either.
    with tenant_context(cast.a1):
        from intake.selectors import contacts_for_user

        assert contacts_for_user(cast.admin_a)[0] == [Contact.objects.get()]


def test_firm_admin_sees_existence_and_deadlines_never_content(cast):
    receipt = _submit(cast, body="Geheime inhoud van de melding")
    admin = _as(cast.admin_a, cast.a1)
    listing = admin.get("/intake/work/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Geheime inhoud" not in body and f"/intake/work/{receipt.contact.pk}/" not in body
    assert (TODAY + datetime.timedelta(days=7)).strftime("%Y") in body
    assert admin.get(f"/intake/work/{receipt.contact.pk}/").status_code == 404
    assert _as(cast.contact_a1, cast.a1).get("/intake/work/").status_code == 404


def test_times_are_a_day_for_everyone_but_the_handling_adviser(cast):
    """The handler sees the minute; the other assigned adviser, and firm admins in the access
    log, see the day of what the reporter did."""
    receipt = _submit(cast)
    with tenant_context(cast.a1):
        submitted = timezone.localtime(Contact.objects.get().submitted_at)
    minute = submitted.strftime("%H:%M")
    path = f"/intake/work/{receipt.contact.pk}/"
    handler = _as(cast.adviser_a, cast.a1).get(path).content.decode()
    assert receipt.contact.handler_id == cast.adviser_a.pk and minute in handler
    other = _as(cast.adviser_a_backup, cast.a1).get(path).content.decode()
    assert minute not in other and str(submitted.year) in other
    log = _as(cast.admin_a, cast.a1).get("/cases/administration/access-log/").content.decode()
    rows = [line for line in log.splitlines() if str(receipt.contact.pk) in line]
    reporter = [row for row in rows if "<td>reporter</td>" in row]
    assert len(reporter) == 1 and len(rows) > 1  # the advisers' reads keep their time
    assert minute not in reporter[0] and str(submitted.year) in reporter[0]
    assert all(re.search(r"\d\d:\d\d:\d\d", row) for row in rows if row not in reporter)


def test_internal_adviser_reads_only_what_was_addressed_to_them(cast):
    mine = _submit(cast, chosen_adviser=cast.internal_a1.pk)
    theirs = _submit(cast)
    internal = _as(cast.internal_a1, cast.a1)
    assert internal.get(f"/intake/work/{mine.contact.pk}/").status_code == 200
    assert internal.get(f"/intake/work/{theirs.contact.pk}/").status_code == 404
    with tenant_context(cast.a1):
        log = AccessLogEntry.objects.filter(action="read", object_type="intake contact").get()
        assert (log.actor_id, log.object_reference) == (cast.internal_a1.pk, str(mine.contact.pk))


def test_adviser_answers_links_a_new_case_and_closes(cast):
    receipt = _submit(cast)
    adviser = _as(cast.adviser_a, cast.a1)
    page = adviser.get(f"/intake/work/{receipt.contact.pk}/").content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', page)[1]
    for _twice in range(2):
        response = adviser.post(
            f"/intake/work/{receipt.contact.pk}/answer/", {"nonce": nonce, "body": "Ik lees mee."}
        )
        assert response.status_code == 302
    with tenant_context(cast.a1):
        from cases.models import Theme

        theme = Theme.objects.get(code="bullying")
    response = adviser.post(
        f"/intake/work/{receipt.contact.pk}/case/",
        {
            "case_type": "undesirable_behaviour",
            "reporter_role": "employee",
            "accused_relation": "manager",
            "themes": [theme.pk],
        },
    )
    assert response.status_code == 302
    adviser.post(f"/intake/work/{receipt.contact.pk}/close/")
    with tenant_context(cast.a1):
        contact = Contact.objects.get(pk=receipt.contact.pk)
        assert contact.status == "closed" and contact.acknowledged_at is not None
        assert contact.entries.filter(author="adviser").count() == 1
        assert contact.case.channel == "portal"
        # Counting: the linked case carries the contact and its anonymity.
        from cases.models import Case

        assert Case.objects.filter(intake_contacts__anonymous=True).get() == contact.case
    assert not IntakeIndexEntry.objects.filter(client=cast.a1).exists()


# --- oral report record -------------------------------------------------------------------------


def test_oral_record_is_approved_or_corrected_and_every_version_is_kept(cast):
    receipt = _submit(cast, kind="callback", body="", reach="06 12345678")
    with tenant_context(cast.a1):
        record = services.oral_record_add(
            actor=cast.adviser_a,
            contact=receipt.contact,
            held_on=TODAY,
            text="Melder vertelt over drie incidenten.",
        )
    http = Client(HTTP_HOST=_host(cast.a1))
    _open(http, receipt.key)
    page = http.get("/intake/nl/mailbox/").content.decode()
    assert "drie incidenten" in page
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page)[1]
    response = http.post(
        f"/intake/nl/mailbox/record/{record.pk}/",
        {"form_token": token, "answer": "correct", "correction": "Het waren vier incidenten."},
    )
    assert response.status_code == 303
    with tenant_context(cast.a1):
        services.oral_record_revise(
            actor=cast.adviser_a,
            contact=receipt.contact,
            record_id=record.pk,
            text="Melder vertelt over vier incidenten.",
        )
    http.post(f"/intake/nl/mailbox/record/{record.pk}/", {"form_token": token, "answer": "approve"})
    with tenant_context(cast.a1):
        record = OralRecord.objects.get(pk=record.pk)
        versions = [(v.number, v.author, v.text) for v in record.versions.all()]
        assert versions == [
            (1, "adviser", "Melder vertelt over drie incidenten."),
            (2, "reporter", "Het waren vier incidenten."),
            (3, "adviser", "Melder vertelt over vier incidenten."),
        ]
        assert (record.state, record.approved_version) == ("approved", 3)
        assert receipt.contact.reach == Contact.objects.get(pk=receipt.contact.pk).reach


# --- the journal --------------------------------------------------------------------------------


def test_journal_is_sealed_under_the_reporters_key_until_shared(cast):
    with tenant_context(cast.a1):
        receipt = services.journal_start(nonce=_nonce())
        assert receipt.contact.submitted_at is None
    assert not IntakeIndexEntry.objects.filter(client=cast.a1).exists()
    http = Client(HTTP_HOST=_host(cast.a1))
    _open(http, receipt.key)
    page = http.get("/intake/nl/journal/").content.decode()
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page)[1]
    upload = io.BytesIO(jpeg_with_gps())
    upload.name = "bewijs.jpg"
    response = http.post(
        "/intake/nl/journal/",
        {
            "form_token": token,
            "occurred_on": TODAY.isoformat(),
            "what": "Uitgescholden in de kantine",
            "where": "Kantine",
            "who_saw": "Twee collega's",
            "felt": "Vernederd",
            "attachments": upload,
        },
    )
    assert response.status_code == 303
    http.post(
        "/intake/nl/journal/",
        {"form_token": token, "occurred_on": TODAY.isoformat(), "what": "Tweede keer"},
    )
    with tenant_context(cast.a1):
        for entry in JournalEntry.objects.all():
            # Not readable with the client's data key, nor in plain.
            assert b"kantine" not in bytes(entry.sealed).lower()
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt_bytes(
                    bytes(entry.sealed), schema_name=cast.a1.schema_name, purpose=entry.purpose()
                )
        assert JournalFile.objects.count() == 1
        entries = services.journal_read(mailbox=services.mailbox_open(raw_key=receipt.key))
        kantine = next(e for e in entries if e.fields["where"] == "Kantine")
        # Sharing needs a submitted contact: write to an adviser first.
        mailbox = services.mailbox_open(raw_key=receipt.key)
        with pytest.raises(services.ValidationError):
            services.journal_share(mailbox=mailbox, entry_ids=[kantine.id])
        services.reporter_write(
            contact=mailbox.contact,
            nonce=_nonce(),
            body="Ik wil praten.",
            chosen_adviser=cast.adviser_a_backup.pk,
        )
        mailbox = services.mailbox_open(raw_key=receipt.key)
        shared = services.journal_share(mailbox=mailbox, entry_ids=[kantine.id])
        assert "Uitgescholden in de kantine" in shared.body and "Tweede keer" not in shared.body
        assert shared.attachments.get().cleaning == scrub.CLEANED
        contact = Contact.objects.get(pk=receipt.contact.pk)
        assert contact.handler_id == cast.adviser_a_backup.pk and contact.is_submitted
        # Deleting the journal leaves the shared copy in the mailbox.
        assert services.journal_delete(mailbox=mailbox) >= 2
        assert JournalEntry.objects.count() == 0 and JournalFile.objects.count() == 0
        assert Entry.objects.filter(pk=shared.pk).exists()


# --- metadata -----------------------------------------------------------------------------------


def test_jpeg_gps_exif_docx_author_and_pdf_author_are_removed():
    from PIL import Image

    jpeg, kind = scrub.clean(jpeg_with_gps(), filetypes.JPEG)
    assert kind == scrub.CLEANED
    with Image.open(io.BytesIO(jpeg)) as image:
        assert dict(image.getexif()) == {} and image.size == (32, 24)
    assert AUTHOR.encode() not in jpeg and AUTHOR.encode() in jpeg_with_gps()
    docx, kind = scrub.clean(docx_with_author(), filetypes.DOCX)
    assert kind == scrub.CLEANED and filetypes.detect(docx) is filetypes.DOCX
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
        assert b"Wat er gebeurde" in archive.read("word/document.xml")
    assert AUTHOR.encode() not in everything and b"rsidR" not in everything
    pdf, kind = scrub.clean(pdf_with_author(), filetypes.PDF)
    assert kind == scrub.CLEANED and AUTHOR.encode() not in pdf
    assert filetypes.detect(pdf) is filetypes.PDF


def test_attachments_are_stored_cleaned_and_encrypted(cast):
    receipt = _submit(
        cast,
        uploads=[
            services.Upload(name="foto.jpg", data=jpeg_with_gps()),
            services.Upload(name="brief.docx", data=docx_with_author()),
        ],
    )
    with tenant_context(cast.a1):
        for attachment in Attachment.objects.filter(entry__contact=receipt.contact):
            assert AUTHOR.encode() not in bytes(attachment.content)
            _name, _type, data = services.attachment_read(
                actor=cast.adviser_a, contact=receipt.contact, attachment_id=attachment.pk
            )
            assert AUTHOR.encode() not in data and attachment.cleaning == "cleaned"


# --- short link and closed channel --------------------------------------------------------------


def test_short_link_forwards_and_says_where_to_go_when_the_client_is_closed(cast):
    admin = _as(cast.admin_a, cast.a1)
    poster = admin.get("/intake/work/poster/")
    assert poster.status_code == 200 and "<svg" in poster.content.decode()
    code = IntakeLink.objects.get(client=cast.a1).code
    assert f"/m/{code}/" in poster.content.decode()
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    response = console.get(f"/m/{code}/")
    assert response.status_code == 302
    assert response["Location"] == f"http://{_host(cast.a1)}/intake/" and response.cookies == {}
    cast.a1.status = "suspended"
    cast.a1.save()
    closed = console.get(f"/m/{code}/?lang=en")
    assert closed.status_code == 410 and closed.cookies == {}
    assert "Huis voor Klokkenluiders" in closed.content.decode()
    assert "federal coordinator" in closed.content.decode()
    mistyped = console.get("/m/nothing/")
    assert mistyped.status_code == 404 and mistyped.cookies == {}
    assert mistyped["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_closed_clients_intake_address_says_the_channel_is_closed_and_where_to_go(cast, lang):
    """Suspended: the host resolves no more. Offboarded: its domains are gone (here: a host no
    domain names). Either way a reporter's bookmark gets the closed page, in the path's language,
    without a cookie; other paths of such a host stay the plain unknown-host page."""
    from tenants.routing import forget_client

    host = _host(cast.a1)
    cast.a1.status = "suspended"
    cast.a1.save()
    forget_client(cast.a1.pk)
    words = {"nl": "Dit meldpunt is gesloten", "en": "This channel is closed"}[lang]
    gone = f"weg.acme.{settings.BASE_DOMAIN}"
    for where, path in ((host, f"/intake/{lang}/"), (gone, f"/intake/{lang}/mailbox/")):
        response = Client(HTTP_HOST=where).get(path)
        body = response.content.decode()
        assert response.status_code == 410 and words in body, where
        assert "Huis voor Klokkenluiders" in body and "federaalombudsman.be" in body
        assert response.cookies == {} and response["Cache-Control"] == "no-store"
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert f'<html lang="{lang}">' in body
    assert Client(HTTP_HOST=host).get("/cases/").status_code == 404
    # The short link says the same for an offboarded client.
    code = services_links_code(cast)
    cast.a1.status = "offboarded"
    cast.a1.save()
    closed = Client(HTTP_HOST=settings.BASE_DOMAIN).get(f"/m/{code}/?lang={lang}")
    assert closed.status_code == 410 and words in closed.content.decode()


def services_links_code(cast) -> str:
    from intake.links import short_link_for

    return short_link_for(cast.a1).code


def test_adviser_card_photo_is_reencoded_without_exif_and_shown_only_for_this_clients_advisers(
    cast,
):
    adviser = _as(cast.adviser_a, cast.a1)
    photo = io.BytesIO(jpeg_with_gps())
    photo.name = "ik.jpg"
    response = adviser.post(
        "/intake/work/card/",
        {"languages": "Nederlands, English", "reach": "06-11111111", "photo": photo},
    )
    assert response.status_code == 302
    anonymous = Client(HTTP_HOST=_host(cast.a1))
    image = anonymous.get(f"/intake/photo/{cast.adviser_a.pk}/")
    assert image.status_code == 200 and AUTHOR.encode() not in image.content
    assert image.cookies == {}
    assert "06-11111111" in anonymous.get("/intake/en/").content.decode()
    assert (
        Client(HTTP_HOST=_host(cast.b1)).get(f"/intake/photo/{cast.adviser_a.pk}/").status_code
        == 404
    )


def test_my_day_forgets_contacts_of_an_assignment_ended_by_hand_and_of_other_firms(cast):
    """The intake half of "my day" asks the rule the others ask (assigned_clients): an
    assignment ended now ("end now" sets ended_at) hides the client's contacts at once."""
    from intake.my_day import intake_my_day
    from tenants.models import Assignment

    receipt = _submit(cast)
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    link = f"/intake/work/{receipt.contact.pk}/"
    assert link in console.get("/console/my-day/").content.decode()
    assert intake_my_day(cast.adviser_a, firm=cast.bravo) == []  # another firm's page

    Assignment.objects.filter(adviser=cast.adviser_a, client=cast.a1).update(
        ended_at=timezone.now()
    )

    assert link not in console.get("/console/my-day/").content.decode()
    assert intake_my_day(cast.adviser_a, firm=cast.acme) == []


def test_my_day_lists_the_handlers_contacts_with_deadlines(cast):
    receipt = _submit(cast)
    console = Client(HTTP_HOST=settings.BASE_DOMAIN)
    sign_in(console, cast.adviser_a)
    page = console.get("/console/my-day/").content.decode()
    assert f"/intake/work/{receipt.contact.pk}/" in page
    with tenant_context(cast.a1):
        assert connection.schema_name == cast.a1.schema_name


# --- key rotation -------------------------------------------------------------------------------


@pytest.fixture
def fresh_keys():
    crypto.master_keys.cache_clear()
    crypto.forget_data_key()
    yield
    crypto.master_keys.cache_clear()
    crypto.forget_data_key()


def _attachment_cipher(client, pk) -> bytes:
    with tenant_context(client), connection.cursor() as cursor:
        cursor.execute("SELECT content FROM intake_attachment WHERE id = %s", [pk])
        return bytes(cursor.fetchone()[0])


def test_intake_files_texts_and_journal_survive_a_new_data_key_and_the_purge(cast, fresh_keys):
    """rotate_keys re-encrypts the mailbox's files and texts under the new data key; the journal,
    sealed under the reporter's own key, is not the firm's to rotate and opens as before."""
    import os

    from django.core.management import call_command

    from tenants.models import ClientOrganisation

    receipt = _submit(
        cast,
        body="Tekst voor de rotatie.",
        uploads=[
            services.Upload(name="foto.jpg", data=jpeg_with_gps()),
            services.Upload(name="brief.docx", data=docx_with_author()),
        ],
    )
    with tenant_context(cast.a1):
        mailbox = services.mailbox_open(raw_key=receipt.key)
        services.journal_add(
            mailbox=mailbox,
            occurred_on=TODAY,
            what="Dagboek voor de rotatie",
            uploads=[services.Upload(name="bewijs.jpg", data=jpeg_with_gps())],
        )
        attachments = list(Attachment.objects.filter(entry__contact=receipt.contact))

        def read_all() -> dict:
            contact = Contact.objects.get(pk=receipt.contact.pk)
            files = {
                a.file_name: services.attachment_read(
                    actor=services.REPORTER, contact=contact, attachment_id=a.pk
                )[2]
                for a in attachments
            }
            opened = services.mailbox_open(raw_key=receipt.key)
            journal = services.journal_read(mailbox=opened)
            journal_file = services.journal_file(mailbox=opened, file_id=journal[0].files[0][0])
            return {
                "files": files,
                "body": contact.entries.get().body,
                "journal": journal[0].fields["what"],
                "journal file": journal_file[2],
            }

        before = read_all()
    assert len(attachments) == 2 and before["body"] == "Tekst voor de rotatie."
    old_key = crypto.data_key(cast.a1.schema_name)
    old_ciphers = {a.pk: _attachment_cipher(cast.a1, a.pk) for a in attachments}
    quiet = open(os.devnull, "w")  # noqa: SIM115

    call_command("rotate_keys", "--new-data-key", "--firm", "acme", "--client", "a1", stdout=quiet)
    crypto.forget_data_key()
    new_key = crypto.data_key(cast.a1.schema_name)
    assert new_key != old_key
    for attachment in attachments:
        cipher = _attachment_cipher(cast.a1, attachment.pk)
        assert cipher != old_ciphers[attachment.pk]
        # Under the new key alone; the old one no longer opens it.
        with pytest.raises(crypto.DecryptionError):
            crypto.open_sealed(
                cipher,
                keys=[old_key],
                schema_name=cast.a1.schema_name,
                purpose=attachment.purpose(),
            )
    with tenant_context(cast.a1):
        assert read_all() == before

    # The purge, once no process can still hold the old key, destroys it: all still reads.
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(
        data_key_rotated_at=timezone.now() - datetime.timedelta(days=1)
    )
    call_command("rotate_keys", "--purge-retired", "--firm", "acme", "--client", "a1", stdout=quiet)
    assert bytes(ClientOrganisation.objects.get(pk=cast.a1.pk).retired_data_keys) == b""
    crypto.forget_data_key()
    with tenant_context(cast.a1):
        assert read_all() == before
    assert AUTHOR.encode() not in before["files"]["brief.docx"]


def test_a_mistyped_address_on_any_host_leaves_no_cookie(cast):
    """A reporter who mistypes an address, on the client's host or the firm's, gets the site's
    not-found page without the CSRF cookie it used to set for every host for a year."""
    for host in (_host(cast.a1), settings.BASE_DOMAIN):
        response = Client(HTTP_HOST=host).get("/no-such-page/")
        assert response.status_code == 404
        assert response.cookies == {} and "Set-Cookie" not in response.headers
    # Signed in, the page keeps its language switch (the cookie is there already).
    http = Client(HTTP_HOST=settings.BASE_DOMAIN)
    http.force_login(cast.admin_a)
    assert 'class="lang-switch"' in http.get("/no-such-page/").content.decode()
