"""Sparring threads: who sees what, bad input, read state, search, counts, notification e-mails.

The cast holds one thread in a1 (started by internal_a1, with the attachment `schets.png`) and
one in b1 (internal_b1). E-mails run in-process here (no REDIS_URL): `on_commit` callbacks are
executed with pytest-django's `django_capture_on_commit_callbacks`. The real worker, the broker
and the kill in the middle of sending are in test_sparring_worker.py.
"""

from __future__ import annotations

import datetime
import html
import uuid
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases.models import Theme
from mail import outbox
from mail.models import OutgoingEmail
from saas.celery import app
from sparring import index, notifications, services
from sparring.models import Attachment, Message, SparringCount, Thread
from sparring.my_day import firm_thread_stats, sparring_my_day
from sparring.public.models import (
    DigestNotice,
    NotificationPreference,
    ThreadIndexEntry,
    ThreadUnread,
)
from sparring.selectors import thread_list_for_user
from tenants import services as tenant_services
from tenants.access import Role
from tenants.models import Assignment, ClientOrganisation
from tenants.trail import Operator
from tests.cast import TINY_PNG, sign_in, sparring_objects
from tests.test_sparring_checks import EXE, PDF, zip_bomb

CAST_SUBJECT = "Een lastige situatie op de afdeling"
CAST_BODY = "Hoe zouden jullie hiermee omgaan?"


def _http(user, organisation=None) -> Client:
    host = (
        organisation.domains.get(is_primary=True).domain if organisation else settings.BASE_DOMAIN
    )
    http = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    sign_in(http, user)
    return http


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _cast_thread(cast) -> Thread:
    with tenant_context(cast.a1):
        return Thread.objects.get(pk=sparring_objects(cast.a1)["thread_id"])


def _state(organisation) -> dict[str, int]:
    """Row counts that a refused request must leave as they were."""
    with tenant_context(organisation):
        tenant = {
            "threads": Thread.objects.count(),
            "messages": Message.objects.count(),
            "attachments": Attachment.objects.count(),
            "counts": SparringCount.objects.count(),
        }
    return {
        **tenant,
        "outbox": OutgoingEmail.objects.count(),
        "notices": DigestNotice.objects.count(),
        "index": ThreadIndexEntry.objects.count(),
        "unread": ThreadUnread.objects.count(),
    }


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


@contextmanager
def _broker_down():
    """Publish to a broker that refuses connections (nothing listens on port 9)."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = "redis://127.0.0.1:9/0", False
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved


# --- starting, reading, answering --------------------------------------------------------------


def test_internal_adviser_starts_a_thread_and_both_external_advisers_hear_of_it(
    cast, django_capture_on_commit_callbacks
):
    http = _http(cast.internal_a1, cast.a1)

    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            "/sparring/new/",
            {
                "subject": "Conflict tussen twee teams",
                "body": "Twee teams spreken elkaar niet meer aan.",
                "attachments": [_upload("notitie.pdf", PDF)],
            },
        )

    with tenant_context(cast.a1):
        thread = Thread.objects.exclude(pk=sparring_objects(cast.a1)["thread_id"]).get()
        message = thread.messages.get()
        attachment = message.attachments.get()
        with connection.cursor() as cursor:
            cursor.execute("SELECT subject FROM sparring_thread WHERE id = %s", [thread.pk])
            stored_subject = bytes(cursor.fetchone()[0])
            cursor.execute("SELECT body FROM sparring_message WHERE id = %s", [message.pk])
            stored_body = bytes(cursor.fetchone()[0])
        log = list(
            AccessLogEntry.objects.filter(object_reference=str(thread.pk)).values_list(
                "action", "object_type", "actor_id"
            )
        )
    assert response.status_code == 302
    assert response["Location"] == f"/sparring/{thread.pk}/"
    assert (thread.subject, thread.started_by_id, thread.status) == (
        "Conflict tussen twee teams",
        cast.internal_a1.pk,
        "open",
    )
    assert (message.body, message.author_role) == (
        "Twee teams spreken elkaar niet meer aan.",
        "internal_adviser",
    )
    assert (attachment.file_name, attachment.content_type, attachment.size) == (
        "notitie.pdf",
        "application/pdf",
        len(PDF),
    )
    # Only ciphertext in the database.
    assert b"Conflict" not in stored_subject and b"teams" not in stored_body
    assert b"%PDF" not in bytes(attachment.content)
    assert log == [("create", "sparring_thread", cast.internal_a1.pk)]
    # Index and unread flags for both external advisers, one e-mail each, sent.
    entry = ThreadIndexEntry.objects.get(thread_id=thread.pk)
    assert (entry.client_id, entry.is_open) == (cast.a1.pk, True)
    assert set(
        ThreadUnread.objects.filter(thread_id=thread.pk).values_list("user_id", flat=True)
    ) == {cast.adviser_a.pk, cast.adviser_a_backup.pk}
    assert sorted(message.to[0] for message in mail.outbox) == [
        "adviser@acme.test",
        "backup@acme.test",
    ]
    assert set(
        OutgoingEmail.objects.filter(params__thread=str(thread.pk)).values_list(
            "recipient_id", "status"
        )
    ) == {(cast.adviser_a.pk, "sent"), (cast.adviser_a_backup.pk, "sent")}


def test_external_adviser_reads_and_answers_and_the_others_are_notified(
    cast, django_capture_on_commit_callbacks
):
    thread = _cast_thread(cast)
    http = _http(cast.adviser_a, cast.a1)

    page = http.get(f"/sparring/{thread.pk}/")

    assert page.status_code == 200
    assert CAST_SUBJECT in _text(page) and CAST_BODY in _text(page)
    assert "schets.png" in _text(page)
    # Reading cleared adviser_a's unread flag only.
    assert set(
        ThreadUnread.objects.filter(thread_id=thread.pk).values_list("user_id", flat=True)
    ) == {cast.adviser_a_backup.pk}

    with django_capture_on_commit_callbacks(execute=True):
        answer = http.post(f"/sparring/{thread.pk}/answer/", {"body": "Begin met luisteren."})

    with tenant_context(cast.a1):
        message = thread.messages.order_by("-created_at").first()
        thread.refresh_from_db()
        internal_rows = thread_list_for_user(
            cast.internal_a1, roles=frozenset({Role.INTERNAL_ADVISER})
        )
        read_log = AccessLogEntry.objects.filter(
            object_reference=str(thread.pk), action="read", actor_id=cast.adviser_a.pk
        ).count()
    assert answer.status_code == 302
    assert answer["Location"] == f"/sparring/{thread.pk}/#message-{message.pk}"
    assert (message.body, message.author_id, message.author_role) == (
        "Begin met luisteren.",
        cast.adviser_a.pk,
        "adviser",
    )
    assert thread.message_count == 2
    assert read_log == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["backup@acme.test", "internal@client-a1.test"]
    # The starter sees the answer as unread; the backup adviser's flag moved to the answer.
    assert [(row.thread.pk, row.is_unread) for row in internal_rows] == [(thread.pk, True)]
    assert ThreadUnread.objects.get(thread_id=thread.pk).since == message.created_at


def test_read_state_is_per_participant(cast):
    thread = _cast_thread(cast)
    adviser_roles = frozenset({Role.ADVISER})

    with tenant_context(cast.a1):
        before = {
            user.email: thread_list_for_user(user, roles=adviser_roles)[0].is_unread
            for user in (cast.adviser_a, cast.adviser_a_backup)
        }
    _http(cast.adviser_a_backup, cast.a1).get(f"/sparring/{thread.pk}/")
    with tenant_context(cast.a1):
        after = {
            user.email: thread_list_for_user(user, roles=adviser_roles)[0].is_unread
            for user in (cast.adviser_a, cast.adviser_a_backup)
        }

    assert before == {"adviser@acme.test": True, "backup@acme.test": True}
    assert after == {"adviser@acme.test": True, "backup@acme.test": False}


def test_read_marks_and_unread_flags_never_move_back(cast):
    thread = _cast_thread(cast)
    early = thread.last_message_at
    late = early + datetime.timedelta(minutes=5)

    with tenant_context(cast.a1):
        index.read_mark_put(thread=thread, user_id=cast.adviser_a.pk, read_at=late)
        index.read_mark_put(thread=thread, user_id=cast.adviser_a.pk, read_at=early)
        mark = thread.read_marks.get(user_id=cast.adviser_a.pk).read_at
    index.unread_put(
        client_id=cast.a1.pk, thread_id=thread.pk, user_ids=[cast.adviser_a.pk], since=late
    )
    # A reader who saw the thread only up to `early` does not clear the newer flag.
    index.unread_clear(
        client_id=cast.a1.pk, thread_id=thread.pk, user_id=cast.adviser_a.pk, until=early
    )
    kept = ThreadUnread.objects.get(thread_id=thread.pk, user_id=cast.adviser_a.pk).since
    index.unread_clear(
        client_id=cast.a1.pk, thread_id=thread.pk, user_id=cast.adviser_a.pk, until=late
    )

    assert mark == late
    assert kept == late
    assert not ThreadUnread.objects.filter(thread_id=thread.pk, user_id=cast.adviser_a.pk).exists()


# --- who sees what -----------------------------------------------------------------------------


def test_firm_admin_sees_counts_and_age_but_no_content(cast):
    thread = _cast_thread(cast)
    attachment_id = sparring_objects(cast.a1)["attachment_id"]
    http = _http(cast.admin_a, cast.a1)

    overview = http.get("/sparring/")

    assert overview.status_code == 200
    text = _text(overview)
    assert "never what they say" in text
    assert CAST_SUBJECT not in text and CAST_BODY not in text and "schets.png" not in text
    assert f"/sparring/{thread.pk}/" not in text
    for path in (
        f"/sparring/{thread.pk}/",
        f"/sparring/attachments/{attachment_id}/",
        f"/sparring/{thread.pk}/count/",
        "/sparring/new/",
    ):
        assert http.get(path).status_code == 404, path


def test_contact_persons_never_see_threads(cast):
    thread = _cast_thread(cast)
    objects = sparring_objects(cast.a1)
    before = _state(cast.a1)
    http = _http(cast.contact_a1, cast.a1)

    for path in (
        "/sparring/",
        "/sparring/new/",
        f"/sparring/{thread.pk}/",
        f"/sparring/attachments/{objects['attachment_id']}/",
        f"/sparring/{thread.pk}/count/",
    ):
        assert http.get(path).status_code == 404, path
    for path in (
        f"/sparring/{thread.pk}/answer/",
        f"/sparring/{thread.pk}/close/",
        "/sparring/new/",
    ):
        assert http.post(path, {"subject": "x", "body": "y"}).status_code == 404, path

    assert _state(cast.a1) == before


def test_another_internal_adviser_of_the_same_client_does_not_see_the_thread(cast):
    thread = _cast_thread(cast)
    colleague = tenant_services.user_create(
        actor=Operator("test"),
        email="second-internal@client-a1.test",
        full_name="Tweede Interne",
        password="correct horse battery staple",
        role="internal_adviser",
        client=cast.a1,
    )
    TOTPDevice.objects.create(user=colleague, name="Authenticator", confirmed=True)
    http = _http(colleague, cast.a1)

    listing = http.get("/sparring/?q=lastige")
    detail = http.get(f"/sparring/{thread.pk}/")

    assert listing.status_code == 200
    assert CAST_SUBJECT not in _text(listing)
    assert detail.status_code == 404


def test_a_thread_of_another_client_is_not_found(cast):
    foreign = sparring_objects(cast.b1)
    before = (_state(cast.a1), _state(cast.b1))

    for user in (cast.internal_a1, cast.adviser_a):
        http = _http(user, cast.a1)
        assert http.get(f"/sparring/{foreign['thread_id']}/").status_code == 404
        assert http.get(f"/sparring/attachments/{foreign['attachment_id']}/").status_code == 404
        answer = http.post(f"/sparring/{foreign['thread_id']}/answer/", {"body": "Hallo"})
        assert answer.status_code == 404
        assert http.post(f"/sparring/{foreign['thread_id']}/close/").status_code == 404

    assert (_state(cast.a1), _state(cast.b1)) == before


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "files", "error"),
    [
        ({"subject": "", "body": "Tekst"}, [], "Enter a subject."),
        ({"subject": "Onderwerp", "body": "   "}, [], "Write a message."),
        (
            {"subject": "x" * 201, "body": "Tekst"},
            [],
            "The subject can have at most 200 characters.",
        ),
        (
            {"subject": "Onderwerp", "body": "x" * 20_001},
            [],
            "This message is too long: at most 20000 characters, it has 20001.",
        ),
        (
            {"subject": "Onderwerp", "body": "Tekst"},
            [("rapport.pdf", EXE)],
            "rapport.pdf: This file is not a PDF, a PNG or JPEG image, or a Word, Excel or "
            "OpenDocument text.",
        ),
        (
            {"subject": "Onderwerp", "body": "Tekst"},
            [("bom.docx", zip_bomb())],
            "bom.docx: This document expands to far more than its size (a zip bomb?).",
        ),
        (
            {"subject": "Onderwerp", "body": "Tekst"},
            [("groot.pdf", b"%PDF-" + bytes(10 * 1024 * 1024))],
            "The file groot.pdf is larger than 10 MB.",
        ),
        (
            {"subject": "Onderwerp", "body": "Tekst"},
            [(f"schets{n}.png", TINY_PNG) for n in range(6)],
            "Attach at most 5 files.",
        ),
    ],
    ids=["no-subject", "empty-body", "long-subject", "long-body", "exe", "zip-bomb", "big", "many"],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_is_stored(
    cast, django_capture_on_commit_callbacks, data, files, error
):
    before = _state(cast.a1)
    http = _http(cast.internal_a1, cast.a1)

    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            "/sparring/new/",
            {**data, "attachments": [_upload(name, content) for name, content in files]},
        )

    assert response.status_code == 200
    assert error in _text(response)
    assert _state(cast.a1) == before
    assert mail.outbox == []


def test_html_and_script_are_stored_as_typed_and_shown_escaped(cast):
    http = _http(cast.internal_a1, cast.a1)

    response = http.post(
        "/sparring/new/",
        {"subject": "<b>Vet</b> onderwerp", "body": "<script>alert('x')</script>\nregel twee"},
    )
    page = http.get(response["Location"])

    with tenant_context(cast.a1):
        thread = Thread.objects.exclude(pk=sparring_objects(cast.a1)["thread_id"]).get()
        body = thread.messages.get().body
    raw = page.content.decode()
    assert (thread.subject, body) == (
        "<b>Vet</b> onderwerp",
        "<script>alert('x')</script>\nregel twee",
    )
    assert "&lt;b&gt;Vet&lt;/b&gt; onderwerp" in raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<br>regel twee" in raw
    assert "<script>alert" not in raw and "<b>Vet</b>" not in raw


def test_answering_a_closed_thread_is_refused_until_it_is_reopened(
    cast, django_capture_on_commit_callbacks
):
    thread = _cast_thread(cast)
    adviser = _http(cast.adviser_a, cast.a1)
    internal = _http(cast.internal_a1, cast.a1)

    closed = adviser.post(f"/sparring/{thread.pk}/close/")
    before = _state(cast.a1)
    with django_capture_on_commit_callbacks(execute=True):
        refused = internal.post(f"/sparring/{thread.pk}/answer/", {"body": "Nog een vraag"})
    after_refusal = _state(cast.a1)
    emails_after_refusal = len(mail.outbox)
    entry_closed = ThreadIndexEntry.objects.get(thread_id=thread.pk).is_open
    reopened = internal.post(f"/sparring/{thread.pk}/reopen/")
    with django_capture_on_commit_callbacks(execute=True):
        answered = internal.post(f"/sparring/{thread.pk}/answer/", {"body": "Nog een vraag"})

    assert closed.status_code == 302 and reopened.status_code == 302
    assert refused.status_code == 200
    assert "This thread is closed. Reopen it to answer." in _text(refused)
    assert after_refusal == before
    assert emails_after_refusal == 0 and entry_closed is False
    assert answered.status_code == 302
    assert ThreadIndexEntry.objects.get(thread_id=thread.pk).is_open is True
    with tenant_context(cast.a1):
        thread.refresh_from_db()
        assert (thread.status, thread.message_count) == ("open", 2)
        assert list(
            AccessLogEntry.objects.filter(
                object_reference=str(thread.pk), action="update"
            ).values_list("detail", flat=True)
        ) == ["answered, 0 attachment(s)", "reopened", "closed"]


def test_the_service_refuses_an_answer_to_a_closed_thread(cast):
    thread = _cast_thread(cast)

    with tenant_context(cast.a1):
        services.thread_close(actor=cast.internal_a1, thread=thread)
        with pytest.raises(ValidationError) as refused:
            services.message_add(actor=cast.adviser_a, thread=thread, body="Antwoord")
        count = Message.objects.filter(thread=thread).count()

    assert refused.value.code == "closed"
    assert count == 1


# --- identifiers -------------------------------------------------------------------------------


def test_identifiers_make_the_writer_confirm_before_anything_is_sent(
    cast, django_capture_on_commit_callbacks
):
    thread = _cast_thread(cast)
    http = _http(cast.internal_a1, cast.a1)
    text = "Je kunt haar bellen op 06-12345678 of mailen: m.jansen@voorbeeld.nl"
    before = _state(cast.a1)

    with django_capture_on_commit_callbacks(execute=True):
        warned = http.post(f"/sparring/{thread.pk}/answer/", {"body": text})
    after_warning = _state(cast.a1)
    emails_after_warning = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        sent = http.post(f"/sparring/{thread.pk}/answer/", {"body": text, "send_anyway": "on"})

    page = _text(warned)
    assert warned.status_code == 200
    assert "Your text seems to contain details that can identify someone." in page
    assert "a phone number: 06-12345678" in html.unescape(
        page.replace("<code>", "").replace("</code>", "")
    )
    assert "m.jansen@voorbeeld.nl" in page and 'name="send_anyway"' in page
    assert text in page  # the text stays in the form to edit
    assert after_warning == before and emails_after_warning == 0
    assert sent.status_code == 302
    with tenant_context(cast.a1):
        message = thread.messages.order_by("-created_at").first()
    assert (message.body, message.sent_despite_identifiers) == (text, True)


def test_identifiers_in_a_subject_or_file_name_count_too(cast):
    with tenant_context(cast.a1):
        with pytest.raises(services.IdentifiersFound) as in_subject:
            services.thread_start(actor=cast.internal_a1, subject="Over 1234 AB", body="Tekst")
        with pytest.raises(services.IdentifiersFound) as in_name:
            services.thread_start(
                actor=cast.internal_a1,
                subject="Onderwerp",
                body="Tekst",
                uploads=[services.Upload(name="bel 0612345678.png", data=TINY_PNG)],
            )

    assert [(f.kind, f.text) for f in in_subject.value.findings] == [("address", "1234 AB")]
    assert [(f.kind, f.text) for f in in_name.value.findings] == [("phone", "0612345678")]


# --- attachments -------------------------------------------------------------------------------


def test_attachment_downloads_decrypt_and_are_logged(cast):
    attachment_id = sparring_objects(cast.a1)["attachment_id"]

    responses = {
        user.email: _http(user, cast.a1).get(f"/sparring/attachments/{attachment_id}/")
        for user in (cast.adviser_a, cast.internal_a1)
    }

    with tenant_context(cast.a1):
        stored = bytes(Attachment.objects.get(pk=attachment_id).content)
        log = list(
            AccessLogEntry.objects.filter(object_reference=str(attachment_id)).values_list(
                "action", "actor_id"
            )
        )
    for response in responses.values():
        assert response.status_code == 200
        assert response.content == TINY_PNG
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == 'attachment; filename="schets.png"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "no-store, private"
    assert stored != TINY_PNG and b"PNG" not in stored
    assert sorted(log) == sorted([("export", cast.adviser_a.pk), ("export", cast.internal_a1.pk)])


def test_an_attachment_cannot_be_moved_to_another_row(cast):
    """The ciphertext is bound to its attachment's id: swapping rows does not decrypt."""
    attachment_id = sparring_objects(cast.a1)["attachment_id"]
    with tenant_context(cast.a1):
        original = Attachment.objects.select_related("message").get(pk=attachment_id)
        copy = Attachment.objects.create(
            message=original.message,
            file_name="kopie.png",
            content_type="image/png",
            size=original.size,
            content=bytes(original.content),
        )
        from tenants.crypto import DecryptionError

        with pytest.raises(DecryptionError):
            services.attachment_read(user=cast.adviser_a, attachment=copy)


# --- search ------------------------------------------------------------------------------------


def test_search_finds_words_in_subject_and_messages_of_ones_own_threads(cast):
    thread = _cast_thread(cast)
    http = _http(cast.internal_a1, cast.a1)

    by_subject = http.get("/sparring/?q=LASTIGE")
    by_body = http.get("/sparring/?q=omgaan")
    nothing = http.get("/sparring/?q=reorganisatie")

    assert f"/sparring/{thread.pk}/" in _text(by_subject)
    assert f"/sparring/{thread.pk}/" in _text(by_body)
    assert f"/sparring/{thread.pk}/" not in _text(nothing)
    assert "No thread of yours matches this search." in _text(nothing)


def test_status_filter(cast):
    thread = _cast_thread(cast)
    with tenant_context(cast.a1):
        services.thread_close(actor=cast.adviser_a, thread=thread)
        roles = frozenset({Role.ADVISER})
        open_rows = thread_list_for_user(cast.adviser_a, roles=roles, status="open")
        closed_rows = thread_list_for_user(cast.adviser_a, roles=roles, status="closed")

    assert open_rows == []
    assert [row.thread.pk for row in closed_rows] == [thread.pk]


# --- anonymous count ---------------------------------------------------------------------------


def test_external_adviser_counts_a_thread_for_the_annual_report_once(cast):
    thread = _cast_thread(cast)
    with tenant_context(cast.a1):
        bullying = Theme.objects.get(code="bullying").pk
    http = _http(cast.adviser_a, cast.a1)

    counted = http.post(
        f"/sparring/{thread.pk}/count/",
        {"case_type": "undesirable_behaviour", "themes": [bullying]},
    )
    again = http.post(
        f"/sparring/{thread.pk}/count/", {"case_type": "integrity", "themes": [bullying]}
    )
    internal = _http(cast.internal_a1, cast.a1).get(f"/sparring/{thread.pk}/count/")

    with tenant_context(cast.a1):
        count = SparringCount.objects.get()
        themes = list(count.themes.values_list("code", flat=True))
        with pytest.raises(ValidationError) as twice:
            services.thread_count_add(
                actor=cast.adviser_a, thread=thread, case_type="integrity", themes=[bullying]
            )
    assert counted.status_code == 302
    assert again.status_code == 200 and "This thread is already counted" in _text(again)
    assert internal.status_code == 404
    assert (count.thread_id, count.case_type, count.registered_by_id, themes) == (
        thread.pk,
        "undesirable_behaviour",
        cast.adviser_a.pk,
        ["bullying"],
    )
    assert count.month == timezone.localtime(thread.created_at).date().replace(day=1)
    assert twice.value.code == "counted"
    # The count holds no text at all.
    assert {field.get_internal_type() for field in SparringCount._meta.concrete_fields} == {
        "BigAutoField",
        "OneToOneField",
        "DateField",
        "CharField",
        "BigIntegerField",
        "DateTimeField",
    }


# --- notification e-mails ----------------------------------------------------------------------


def test_no_email_holds_content_or_names(cast, django_capture_on_commit_callbacks):
    """Every e-mail of a whole exchange, immediate and digest: no text, no names, no client."""
    cast.adviser_a.language = "en"
    cast.adviser_a.save(update_fields=["language"])
    NotificationPreference.objects.create(user=cast.adviser_a_backup, mode="digest")
    internal = _http(cast.internal_a1, cast.a1)
    adviser = _http(cast.adviser_a, cast.a1)
    secrets = [
        "Ruzie bij de inkoop",
        "Sinds de reorganisatie roept de chef",
        "verslag-inkoop.pdf",
        "Het is fijn dat je belt",
    ]

    with django_capture_on_commit_callbacks(execute=True):
        started = internal.post(
            "/sparring/new/",
            {
                "subject": secrets[0],
                "body": secrets[1],
                "attachments": [_upload(secrets[2], PDF)],
            },
        )
        thread_path = started["Location"]
        adviser.post(f"{thread_path}answer/", {"body": secrets[3]})
        notifications.digests_prepare()

    assert len(mail.outbox) == 3  # adviser_a at once, the backup's digest, the starter at once
    forbidden_in_text = [
        *secrets,
        cast.a1.name,
        cast.acme.name,
        cast.host(cast.a1),
        *(user.get_full_name() for user in cast.users.values()),
        *(user.email for user in cast.users.values()),
    ]
    for message in mail.outbox:
        raw = message.message().as_string()
        text = f"{message.subject}\n{message.body}"
        for secret in secrets:
            assert secret not in raw, (secret, message.to)
        for value in forbidden_in_text:
            assert value not in text, (value, message.to)
        assert message.extra_headers["Message-ID"].startswith("<mail.")
    by_recipient = {message.to[0]: message for message in mail.outbox}
    immediate = by_recipient["adviser@acme.test"]
    new_thread_id = thread_path.strip("/").split("/")[-1]
    email = OutgoingEmail.objects.get(recipient=cast.adviser_a, params__thread=new_thread_id)
    assert immediate.subject == "Vertrouwd: a new sparring message"
    assert f"http://{settings.BASE_DOMAIN}/sparring/open/{email.pk}/" in immediate.body
    digest = by_recipient["backup@acme.test"]
    assert "http://vertrouwd.localhost/sparring/" in digest.body
    assert set(by_recipient) == {"adviser@acme.test", "backup@acme.test", "internal@client-a1.test"}


def test_the_link_in_an_email_forwards_only_its_recipient(cast):
    thread = _cast_thread(cast)
    email = OutgoingEmail.objects.get(params__thread=str(thread.pk), recipient=cast.adviser_a)

    own = _http(cast.adviser_a).get(f"/sparring/open/{email.pk}/")
    other = _http(cast.adviser_a_backup).get(f"/sparring/open/{email.pk}/")

    assert own.status_code == 302
    assert own["Location"] == f"http://{cast.host(cast.a1)}/sparring/{thread.pk}/"
    assert other.status_code == 302 and other["Location"] == "/"


def test_digest_readers_get_one_email_a_day_instead(cast, django_capture_on_commit_callbacks):
    thread = _cast_thread(cast)
    cast.adviser_a.language = "en"
    cast.adviser_a.save(update_fields=["language"])
    console = _http(cast.adviser_a)

    chosen = console.post("/sparring/preferences/", {"mode": "digest"})
    with django_capture_on_commit_callbacks(execute=True):
        _http(cast.internal_a1, cast.a1).post(f"/sparring/{thread.pk}/answer/", {"body": "Eén"})
        _http(cast.internal_a1, cast.a1).post(f"/sparring/{thread.pk}/answer/", {"body": "Twee"})
    immediate = sorted(message.to[0] for message in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        first = notifications.digests_prepare()
    with django_capture_on_commit_callbacks(execute=True):
        second = notifications.digests_prepare()

    assert chosen.status_code == 302
    assert NotificationPreference.objects.get(user=cast.adviser_a).mode == "digest"
    assert immediate == ["backup@acme.test", "backup@acme.test"]
    assert len(first) == 1 and second == []
    digest = mail.outbox[-1]
    assert digest.to == ["adviser@acme.test"]
    assert digest.subject == "Vertrouwd: new sparring messages today"
    assert "There are new messages in 1 sparring thread." in digest.body
    assert DigestNotice.objects.filter(recipient=cast.adviser_a, email__isnull=True).count() == 0
    assert OutgoingEmail.objects.get(pk=first[0]).status == "sent"


def test_sending_an_outbox_email_twice_sends_it_once(cast, django_capture_on_commit_callbacks):
    thread = _cast_thread(cast)
    with tenant_context(cast.a1):
        # Saved without running the commit hooks: the e-mails wait in the outbox.
        with django_capture_on_commit_callbacks(execute=False):
            services.message_add(actor=cast.internal_a1, thread=thread, body="Nog iets")
        pending = list(
            OutgoingEmail.objects.filter(kind="sparring.message", status="pending").values_list(
                "pk", flat=True
            )
        )
        results = [outbox.email_send(email_id=pk) for pk in pending * 2]

    assert len(pending) == 2
    assert results == ["sent", "sent", "sent", "sent"]
    assert len(mail.outbox) == 2
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == {
        f"<mail.{pk}@{settings.BASE_DOMAIN}>" for pk in pending
    }


def test_a_message_email_is_only_sent_from_its_clients_schema(cast):
    thread = _cast_thread(cast)
    email = OutgoingEmail.objects.create(
        kind="sparring.message",
        key="schema",
        recipient=cast.adviser_a,
        client=cast.a1,
        params={"thread": str(thread.pk)},
    )

    with pytest.raises(RuntimeError):
        outbox.email_send(email_id=email.pk)
    with tenant_context(cast.b1), pytest.raises(RuntimeError):
        outbox.email_send(email_id=email.pk)

    email.refresh_from_db()
    assert (email.status, mail.outbox) == ("pending", [])


def test_with_the_broker_down_the_message_is_saved_shown_and_sent_later(
    cast, django_capture_on_commit_callbacks
):
    thread = _cast_thread(cast)
    http = _http(cast.internal_a1, cast.a1)

    with _broker_down(), django_capture_on_commit_callbacks(execute=True):
        answered = http.post(f"/sparring/{thread.pk}/answer/", {"body": "Ook zonder broker"})
        page = http.get(f"/sparring/{thread.pk}/")
    sent_while_down = len(mail.outbox)
    waiting = set(
        OutgoingEmail.objects.filter(params__thread=str(thread.pk), status="pending").values_list(
            "recipient_id", "status"
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        swept = outbox.outbox_sweep(min_age_seconds=0)

    assert answered.status_code == 302
    assert "Ook zonder broker" in _text(page)
    assert sent_while_down == 0
    assert waiting == {(cast.adviser_a.pk, "pending"), (cast.adviser_a_backup.pk, "pending")}
    assert swept == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["adviser@acme.test", "backup@acme.test"]
    assert (
        set(
            OutgoingEmail.objects.filter(
                params__thread=str(thread.pk), status="pending"
            ).values_list("pk")
        )
        == set()
    )


def test_an_email_for_someone_who_lost_access_is_dropped(cast, django_capture_on_commit_callbacks):
    thread = _cast_thread(cast)
    earlier = set(OutgoingEmail.objects.values_list("pk", flat=True))
    with tenant_context(cast.a1):
        # Committed hooks do not run here (no capture): the e-mails wait in the outbox.
        services.message_add(actor=cast.internal_a1, thread=thread, body="Nog een vraag")
    Assignment.objects.filter(adviser=cast.adviser_a_backup, client=cast.a1).update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        outbox.outbox_sweep(min_age_seconds=0)

    statuses = dict(
        OutgoingEmail.objects.exclude(pk__in=earlier).values_list("recipient_id", "status")
    )
    assert statuses == {cast.adviser_a.pk: "sent", cast.adviser_a_backup.pk: "dropped"}
    assert [m.to for m in mail.outbox] == [["adviser@acme.test"]]


def test_sweeper_leaves_young_and_backed_off_rows_alone(cast):
    thread = _cast_thread(cast)
    young = OutgoingEmail.objects.create(
        kind="sparring.message",
        key="young",
        recipient=cast.adviser_a,
        client=cast.a1,
        params={"thread": str(thread.pk)},
    )
    later = OutgoingEmail.objects.create(
        kind="sparring.message",
        key="later",
        recipient=cast.adviser_a,
        client=cast.a1,
        params={"thread": str(thread.pk)},
        created_at=timezone.now() - datetime.timedelta(hours=1),
        next_attempt_at=timezone.now() + datetime.timedelta(minutes=10),
    )

    swept = outbox.outbox_sweep(min_age_seconds=60)

    assert swept == 0
    assert set(
        OutgoingEmail.objects.filter(pk__in=[young.pk, later.pk]).values_list("status", flat=True)
    ) == {"pending"}


# --- my day and the console ---------------------------------------------------------------------


def test_my_day_lists_open_and_unread_threads_of_assigned_clients(cast):
    thread = _cast_thread(cast)
    b1_thread = sparring_objects(cast.b1)["thread_id"]

    before = sparring_my_day(cast.adviser_a, firm=cast.acme)
    _http(cast.adviser_a, cast.a1).get(f"/sparring/{thread.pk}/")
    after_reading = sparring_my_day(cast.adviser_a, firm=cast.acme)
    with tenant_context(cast.a1):
        services.thread_close(actor=cast.adviser_a, thread=thread)
    after_closing = sparring_my_day(cast.adviser_a, firm=cast.acme)

    assert [(i.client_name, i.thread_id, i.is_open, i.is_unread) for i in before] == [
        ("Zorggroep Noord", thread.pk, True, True)
    ]
    assert before[0].url == f"http://{cast.host(cast.a1)}/sparring/{thread.pk}/"
    assert [(i.thread_id, i.is_unread) for i in after_reading] == [(thread.pk, False)]
    assert after_closing == []
    assert [i.thread_id for i in sparring_my_day(cast.adviser_b, firm=cast.bravo)] == [b1_thread]
    assert sparring_my_day(cast.adviser_a_unassigned, firm=cast.acme) == []
    assert sparring_my_day(cast.internal_a1, firm=cast.acme) == []


def test_both_halves_of_my_day_reach_the_same_clients(cast):
    """One rule: the adviser's clients in the firm of the page, active ones only."""
    from workindex.selectors import my_day

    thread = _cast_thread(cast)
    assert [i.thread_id for i in sparring_my_day(cast.adviser_a, firm=cast.acme)] == [thread.pk]
    assert sparring_my_day(cast.adviser_a, firm=cast.bravo) == []  # another firm's page
    before = my_day(user=cast.adviser_a, firm=cast.acme)
    assert cast.a1.pk in {row.client.pk for row in before.clients}
    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(status="suspended")
    assert sparring_my_day(cast.adviser_a, firm=cast.acme) == []
    assert cast.a1.pk not in {
        row.client.pk for row in my_day(user=cast.adviser_a, firm=cast.acme).clients
    }


def test_firm_stats_count_threads_without_content(cast):
    stats = firm_thread_stats(firm=cast.acme)

    assert [
        (s.client_name, s.open_count, s.closed_count, s.unanswered_by_adviser) for s in stats
    ] == [("Zorggroep Noord", 1, 0, 1)]
    assert stats[0].oldest_open_age_days == 0


def test_console_sparring_page_for_advisers_and_firm_admins(cast):
    thread = _cast_thread(cast)

    adviser_page = _http(cast.adviser_a).get("/sparring/")
    admin_page = _http(cast.admin_a).get("/sparring/")

    assert adviser_page.status_code == 200
    assert f"http://{cast.host(cast.a1)}/sparring/{thread.pk}/" in _text(adviser_page)
    assert "You get an e-mail for every new message." in _text(adviser_page)
    assert admin_page.status_code == 200
    assert "Zorggroep Noord" in _text(admin_page)
    assert f"/sparring/{thread.pk}/" not in _text(admin_page)
    assert CAST_SUBJECT not in _text(admin_page) and CAST_SUBJECT not in _text(adviser_page)


def test_the_advisers_my_day_page_shows_the_sparring_section(cast):
    thread = _cast_thread(cast)

    page = _http(cast.adviser_a).get("/console/my-day/")

    assert page.status_code == 200
    text = _text(page)
    assert 'id="sparring-day-title"' in text
    assert f"http://{cast.host(cast.a1)}/sparring/{thread.pk}/" in text
    assert CAST_SUBJECT not in text


def test_offboarding_a_client_forgets_its_threads_and_unsent_emails(cast):
    thread = _cast_thread(cast)
    with tenant_context(cast.a1):
        services.message_add(actor=cast.internal_a1, thread=thread, body="Nog niet verstuurd")
    assert OutgoingEmail.objects.filter(client=cast.a1, status="pending").count() == 2

    tenant_services.client_offboard(actor=cast.admin_a, client=cast.a1)

    assert not ThreadIndexEntry.objects.filter(client=cast.a1).exists()
    assert not ThreadUnread.objects.filter(client=cast.a1).exists()
    assert not OutgoingEmail.objects.filter(client=cast.a1, status="pending").exists()
    assert OutgoingEmail.objects.filter(client=cast.a1, status="dropped").count() == 2
    assert sparring_my_day(cast.adviser_a, firm=cast.acme) == []
    assert ThreadIndexEntry.objects.filter(client=cast.b1).count() == 1


def test_old_sent_emails_are_pruned_with_their_notices_pending_ones_never(cast):
    thread = _cast_thread(cast)
    long_ago = timezone.now() - datetime.timedelta(days=91)
    old_digest = OutgoingEmail.objects.create(
        kind="sparring.digest",
        key="old",
        recipient=cast.adviser_a,
        status="sent",
        sent_at=long_ago,
        created_at=long_ago,
    )
    notice = DigestNotice.objects.create(
        recipient=cast.adviser_a, client=cast.a1, thread_id=thread.pk, email=old_digest
    )
    old_pending = OutgoingEmail.objects.create(
        kind="sparring.message",
        key="old",
        recipient=cast.adviser_a,
        client=cast.a1,
        params={"thread": str(thread.pk)},
        created_at=long_ago,
    )
    recent = set(
        OutgoingEmail.objects.exclude(pk__in=[old_digest.pk, old_pending.pk]).values_list("pk")
    )

    pruned = outbox.outbox_prune()

    assert pruned == 1
    assert not OutgoingEmail.objects.filter(pk=old_digest.pk).exists()
    assert not DigestNotice.objects.filter(pk=notice.pk).exists()
    assert OutgoingEmail.objects.filter(pk=old_pending.pk, status="pending").exists()
    assert set(OutgoingEmail.objects.exclude(pk=old_pending.pk).values_list("pk")) == recent


def test_a_double_submitted_thread_or_answer_is_sent_once(cast, django_capture_on_commit_callbacks):
    """No idempotency key: a double click started two threads and sent every e-mail twice."""
    http = _http(cast.internal_a1, cast.a1)
    page = http.get("/sparring/new/")
    key = str(page.context["form"].initial["submission_key"])
    assert f'value="{key}"' in page.content.decode()
    posted = {
        "subject": "Twee teams",
        "body": "Ze spreken elkaar niet meer.",
        "submission_key": key,
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = http.post("/sparring/new/", posted)
    before = _state(cast.a1)
    with django_capture_on_commit_callbacks(execute=True):
        second = http.post("/sparring/new/", posted)
    assert _state(cast.a1) == before
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]

    thread = _cast_thread(cast)
    answer = {"body": "Begin met luisteren.", "submission_key": str(uuid.uuid4())}
    adviser = _http(cast.adviser_a, cast.a1)
    with django_capture_on_commit_callbacks(execute=True):
        assert adviser.post(f"/sparring/{thread.pk}/answer/", answer).status_code == 302
    before = _state(cast.a1)
    with django_capture_on_commit_callbacks(execute=True):
        again = adviser.post(f"/sparring/{thread.pk}/answer/", answer, follow=True)
    assert _state(cast.a1) == before
    assert "This answer was already sent." in _text(again)


def test_the_required_sparring_fields_are_not_marked_optional(cast):
    """Subject and message were labelled "(optional)" though the service refuses them empty."""
    http = _http(cast.internal_a1, cast.a1)
    page = _text(http.get("/sparring/new/"))
    assert page.count("(optional)") == 1  # the attachments only
    refused = _text(http.post("/sparring/new/", {"subject": "", "body": ""}))
    assert "Enter a subject." in refused and "Write a message." in refused
