"""The reporter's pages on the client's host: public, no account, no cookie before the key.

Thin: parse, call one service or selector, render. `intake.web.reporter_view` adds the language
from the path, the strict headers and the cookie rules to every page.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intake import keys, selectors, services
from intake.models import Contact, OralRecord
from intake.public.models import AdviserCard
from intake.web import (
    COOKIE,
    clear_mailbox_cookie,
    reporter_view,
    set_mailbox_cookie,
    strict_headers,
)
from sparring.filetypes import MAX_FILE_BYTES
from tenants.access import public


def _errors(error: ValidationError) -> list[str]:
    return list(error.messages)


def _post(request: HttpRequest) -> tuple[Any, list[services.Upload], list[str]]:
    """(POST data, uploads, errors) without raising on oversized input."""
    try:
        data = request.POST
        files = request.FILES.getlist("attachments")
    except RequestDataTooBig:
        return {}, [], [_("What you sent is too large. Texts can have at most 20,000 characters.")]
    uploads, errors = [], []
    for upload in files:
        if upload.size > MAX_FILE_BYTES:
            errors.append(
                _("“%(name)s” is larger than %(limit)d MB.")
                % {"name": upload.name[:100], "limit": MAX_FILE_BYTES // (1024 * 1024)}
            )
            continue
        uploads.append(services.Upload(name=upload.name or "", data=upload.read()))
    return data, uploads, errors


def _page_context(lang: str, **extra: Any) -> dict[str, Any]:
    return {
        "lang": lang,
        "other_lang": "en" if lang == "nl" else "nl",
        "advisers": selectors.intake_advisers(),
        "nonce": keys.new_nonce(),
        "kinds": [(k, label) for k, label in Contact.Kind.choices if k != Contact.Kind.JOURNAL],
        "topics": Contact.Topic.choices,
        **extra,
    }


@public
@require_GET
def intake_root(request: HttpRequest) -> HttpResponse:
    lang = request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("nl", "en") else "nl"
    return strict_headers(HttpResponseRedirect(reverse("intake:page", kwargs={"lang": lang})))


@reporter_view
@require_GET
def page(request: HttpRequest, lang: str) -> HttpResponse:
    if selectors.intake_state() != "open":
        return render(request, "intake/closed.html", {"lang": lang})
    return render(request, "intake/page.html", _page_context(lang))


@reporter_view
@require_POST
def submit(request: HttpRequest, lang: str) -> HttpResponse:
    data, uploads, errors = _post(request)
    if not errors:
        try:
            receipt = services.contact_submit(
                nonce=data.get("nonce", ""),
                kind=data.get("kind", ""),
                topic=data.get("topic", Contact.Topic.UNSURE),
                body=data.get("body", ""),
                anonymous=data.get("named") != "1",
                name=data.get("name", ""),
                reach=data.get("reach", ""),
                notify_email=data.get("notify_email", ""),
                chosen_adviser=data.get("adviser") or None,
                excluded_adviser=data.get("excluded") or None,
                uploads=uploads,
            )
        except ValidationError as error:
            errors = _errors(error)
        else:
            return render(request, "intake/receipt.html", {"lang": lang, "receipt": receipt})
    context = _page_context(lang, errors=errors, form=data)
    return render(request, "intake/page.html", context, status=400)


@reporter_view
@require_POST
def journal_start(request: HttpRequest, lang: str) -> HttpResponse:
    try:
        receipt = services.journal_start(nonce=request.POST.get("nonce", ""))
    except ValidationError as error:
        return render(
            request, "intake/page.html", _page_context(lang, errors=_errors(error)), status=400
        )
    return render(request, "intake/receipt.html", {"lang": lang, "receipt": receipt})


@reporter_view
@require_POST
def saved(request: HttpRequest, lang: str) -> HttpResponse:
    return render(request, "intake/saved.html", {"lang": lang})


# --- the mailbox ---------------------------------------------------------------------------------


def _mailbox(request: HttpRequest) -> services.OpenMailbox | None:
    return services.mailbox_session(request.COOKIES.get(COOKIE, ""))


def _posted_mailbox(request: HttpRequest) -> services.OpenMailbox | None:
    """The open mailbox, if the form's token matches the cookie (else: an expired page)."""
    mailbox = _mailbox(request)
    if mailbox is None or request.POST.get("form_token") != keys.form_token(mailbox.token):
        return None
    return mailbox


def _expired(request: HttpRequest, lang: str) -> HttpResponse:
    response = render(
        request,
        "intake/key.html",
        {"lang": lang, "errors": [_("Your mailbox was closed. Enter your key again.")]},
        status=403,
    )
    if _mailbox(request) is None:
        clear_mailbox_cookie(response)
    return response


def _mailbox_page(
    request: HttpRequest, lang: str, mailbox: services.OpenMailbox, **extra: Any
) -> HttpResponse:
    contact = Contact.objects.get(pk=mailbox.contact.pk)
    entries = list(contact.entries.prefetch_related("attachments"))
    records = list(contact.oral_records.prefetch_related("versions"))
    context = {
        "lang": lang,
        "contact": contact,
        "entries": entries,
        "records": records,
        "form_token": keys.form_token(mailbox.token),
        "nonce": keys.new_nonce(),
        "advisers": selectors.intake_advisers() if not contact.is_submitted else [],
        "journal_count": contact.journal.count(),
        "awaiting": OralRecord.State.AWAITING,
        **extra,
    }
    return render(request, "intake/mailbox.html", context, status=400 if "errors" in extra else 200)


@reporter_view
@require_http_methods(["GET", "POST"])
def mailbox(request: HttpRequest, lang: str) -> HttpResponse:
    if request.method == "GET":
        opened = _mailbox(request)
        if opened is None:
            return render(request, "intake/key.html", {"lang": lang})
        return _mailbox_page(request, lang, opened)
    try:
        opened = services.mailbox_open(raw_key=request.POST.get("key", ""))
    except services.TooManyAttempts:
        message = _("Too many wrong keys were tried. Please wait a quarter of an hour.")
        return render(request, "intake/key.html", {"lang": lang, "errors": [message]}, status=429)
    except services.KeyRefused:
        message = _("This key does not open a mailbox here. Check it and try again.")
        return render(request, "intake/key.html", {"lang": lang, "errors": [message]}, status=400)
    response = HttpResponseRedirect(reverse("intake:mailbox", kwargs={"lang": lang}), status=303)
    response.status_code = 303
    set_mailbox_cookie(response, opened.token)
    return response


def _back(lang: str, anchor: str = "") -> HttpResponse:
    url = reverse("intake:mailbox", kwargs={"lang": lang}) + anchor
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@reporter_view
@require_POST
def mailbox_write(request: HttpRequest, lang: str) -> HttpResponse:
    opened = _posted_mailbox(request)
    if opened is None:
        return _expired(request, lang)
    data, uploads, errors = _post(request)
    if not errors:
        try:
            services.reporter_write(
                contact=opened.contact,
                nonce=data.get("nonce", ""),
                body=data.get("body", ""),
                uploads=uploads,
                chosen_adviser=data.get("adviser") or None,
                excluded_adviser=data.get("excluded") or None,
            )
        except ValidationError as error:
            errors = _errors(error)
        else:
            return _back(lang, "#latest")
    return _mailbox_page(request, lang, opened, errors=errors, form=data)


@reporter_view
@require_POST
def mailbox_notice(request: HttpRequest, lang: str) -> HttpResponse:
    opened = _posted_mailbox(request)
    if opened is None:
        return _expired(request, lang)
    try:
        services.notify_email_set(
            contact=opened.contact, email=request.POST.get("notify_email", "")
        )
    except ValidationError as error:
        return _mailbox_page(request, lang, opened, errors=_errors(error))
    return _back(lang)


@reporter_view
@require_POST
def record_respond(request: HttpRequest, lang: str, record_id: Any) -> HttpResponse:
    opened = _posted_mailbox(request)
    if opened is None:
        return _expired(request, lang)
    try:
        services.oral_record_respond(
            contact=opened.contact,
            record_id=record_id,
            approve=request.POST.get("answer") == "approve",
            correction=request.POST.get("correction", ""),
        )
    except ValidationError as error:
        return _mailbox_page(request, lang, opened, errors=_errors(error))
    return _back(lang, "#records")


def _download(name: str, content_type: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "._- ")[:100] or "file"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


@reporter_view
@require_GET
def mailbox_file(request: HttpRequest, lang: str, upload_id: Any) -> HttpResponse:
    opened = _mailbox(request)
    if opened is None:
        raise Http404
    try:
        name, content_type, data = services.attachment_read(
            actor=services.REPORTER, contact=opened.contact, attachment_id=upload_id
        )
    except ValidationError:
        raise Http404 from None
    return _download(name, content_type, data)


@reporter_view
@require_POST
def mailbox_close(request: HttpRequest, lang: str) -> HttpResponse:
    opened = _posted_mailbox(request)
    if opened is not None:
        services.mailbox_close(token=opened.token)
    response = render(request, "intake/key.html", {"lang": lang, "closed": True})
    clear_mailbox_cookie(response)
    return response


# --- the journal ---------------------------------------------------------------------------------


def _journal_page(
    request: HttpRequest, lang: str, opened: services.OpenMailbox, **extra: Any
) -> HttpResponse:
    context = {
        "lang": lang,
        "contact": opened.contact,
        "entries": services.journal_read(mailbox=opened),
        "form_token": keys.form_token(opened.token),
        "today": datetime.date.today().isoformat(),
        **extra,
    }
    return render(request, "intake/journal.html", context, status=400 if "errors" in extra else 200)


@reporter_view
@require_http_methods(["GET", "POST"])
def journal(request: HttpRequest, lang: str) -> HttpResponse:
    if request.method == "GET":
        opened = _mailbox(request)
        if opened is None:
            return render(request, "intake/key.html", {"lang": lang})
        return _journal_page(request, lang, opened)
    opened = _posted_mailbox(request)
    if opened is None:
        return _expired(request, lang)
    data, uploads, errors = _post(request)
    if not errors:
        try:
            occurred = datetime.date.fromisoformat(data.get("occurred_on", "") or "")
        except ValueError:
            occurred = None
        try:
            services.journal_add(
                mailbox=opened,
                occurred_on=occurred,
                what=data.get("what", ""),
                where=data.get("where", ""),
                who_saw=data.get("who_saw", ""),
                felt=data.get("felt", ""),
                uploads=uploads,
            )
        except ValidationError as error:
            errors = _errors(error)
        else:
            response = HttpResponseRedirect(reverse("intake:journal", kwargs={"lang": lang}))
            response.status_code = 303
            return response
    return _journal_page(request, lang, opened, errors=errors, form=data)


@reporter_view
@require_POST
def journal_share(request: HttpRequest, lang: str) -> HttpResponse:
    opened = _posted_mailbox(request)
    if opened is None:
        return _expired(request, lang)
    try:
        services.journal_share(mailbox=opened, entry_ids=request.POST.getlist("entry"))
    except ValidationError as error:
        return _journal_page(request, lang, opened, errors=_errors(error))
    return _back(lang, "#latest")


@reporter_view
@require_POST
def journal_delete(request: HttpRequest, lang: str) -> HttpResponse:
    opened = _posted_mailbox(request)
    if opened is None:
        return _expired(request, lang)
    if request.POST.get("confirm") != "1":
        return _journal_page(
            request, lang, opened, errors=[_("Tick the box to confirm deleting your journal.")]
        )
    services.journal_delete(mailbox=opened)
    response = HttpResponseRedirect(reverse("intake:journal", kwargs={"lang": lang}))
    response.status_code = 303
    return response


@reporter_view
@require_GET
def journal_file(request: HttpRequest, lang: str, file_id: Any) -> HttpResponse:
    opened = _mailbox(request)
    if opened is None:
        raise Http404
    try:
        name, content_type, data = services.journal_file(mailbox=opened, file_id=file_id)
    except ValidationError:
        raise Http404 from None
    return _download(name, content_type, data)


@reporter_view
def not_found(request: HttpRequest, lang: str, rest: str) -> HttpResponse:
    """A path under /intake/<lang>/ that is no page: reporter_view answers the intake's 404."""
    raise Http404


@public
@require_GET
def photo(request: HttpRequest, user_id: int) -> HttpResponse:
    """An adviser's photo, only if they are one of this organisation's advisers."""
    if user_id not in {info.id for info in selectors.intake_advisers() if info.has_photo}:
        raise Http404
    card = AdviserCard.objects.filter(user_id=user_id).first()
    if card is None or not card.photo:
        raise Http404
    response = HttpResponse(bytes(card.photo), content_type="image/jpeg")
    strict_headers(response)
    response["Cache-Control"] = "public, max-age=3600"
    return response
