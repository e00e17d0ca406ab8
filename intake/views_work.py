"""The firm's side of the intake on the client's host: the work list, a contact, answering,
oral-report records, linking to a case, closing; the adviser's card; the poster (link + QR).

Lookups go through `intake.selectors` (the excluded adviser gets 404 for everything about the
contact; firm admins see the list without content).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case, CaseType, Theme
from intake import keys, selectors, services
from intake.links import intake_url, short_link_for, short_url
from intake.public import cards
from intake.views import _download, _post
from saas.qr import qr_svg
from tenants.access import Role, allow

READERS = (Role.ADVISER, Role.INTERNAL_ADVISER)


@allow(Role.ADVISER, Role.INTERNAL_ADVISER, Role.FIRM_ADMIN)
@require_GET
def work_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    contacts, with_content = selectors.contacts_for_user(request.user, status=status)
    return render(
        request,
        "intake/work_list.html",
        {"contacts": contacts, "with_content": with_content, "status": status},
    )


def _detail(request: HttpRequest, contact: Any, **extra: Any) -> HttpResponse:
    from cases.selectors import people_by_id, user_reads_cases

    entries = list(contact.entries.prefetch_related("attachments"))
    records = list(contact.oral_records.prefetch_related("versions"))
    handler = people_by_id({contact.handler_id or 0}).get(contact.handler_id or 0)
    context = {
        "contact": contact,
        "entries": entries,
        "records": records,
        "handler_name": (handler.full_name or handler.email) if handler else "",
        "nonce": keys.new_nonce(),
        # To the minute for the handling adviser only; to every other reader a day (issue 15:
        # an hour and minute can say who was on shift, or who was at their desk).
        "time_format": "j F Y H:i" if contact.handler_id == request.user.pk else "j F Y",
        "external": user_reads_cases(request.user),
        "case_types": CaseType.choices,
        "roles": Case.ReporterRole.choices,
        "relations": Case.AccusedRelation.choices,
        "themes": Theme.objects.filter(is_active=True).order_by("position", "name"),
        **extra,
    }
    return render(
        request, "intake/work_detail.html", context, status=400 if "errors" in extra else 200
    )


@allow(*READERS)
@require_GET
def work_detail(request: HttpRequest, contact_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id)
    return _detail(request, contact)


def _call(request: HttpRequest, contact: Any, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as error:
        return _detail(request, contact, errors=list(error.messages))
    messages.success(request, done)
    return redirect("intake:work_detail", contact_id=contact.pk)


@allow(*READERS)
@require_POST
def work_answer(request: HttpRequest, contact_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    data, uploads, errors = _post(request)
    if errors:
        return _detail(request, contact, errors=errors)
    return _call(
        request,
        contact,
        lambda: services.adviser_answer(
            actor=request.user,
            contact=contact,
            nonce=data.get("nonce", ""),
            body=data.get("body", ""),
            uploads=uploads,
        ),
        _("Your answer is in the mailbox."),
    )


@allow(*READERS)
@require_POST
def work_close(request: HttpRequest, contact_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    return _call(
        request,
        contact,
        lambda: services.contact_close(actor=request.user, contact=contact),
        _("The contact is closed."),
    )


@allow(Role.ADVISER)
@require_POST
def work_link(request: HttpRequest, contact_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    return _call(
        request,
        contact,
        lambda: services.contact_link_case(
            actor=request.user, contact=contact, reference=request.POST.get("reference", "")
        ),
        _("The contact is linked to the case."),
    )


@allow(Role.ADVISER)
@require_POST
def work_open_case(request: HttpRequest, contact_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    return _call(
        request,
        contact,
        lambda: services.contact_open_case(
            actor=request.user,
            contact=contact,
            case_type=request.POST.get("case_type", ""),
            reporter_role=request.POST.get("reporter_role", ""),
            accused_relation=request.POST.get("accused_relation", ""),
            themes=request.POST.getlist("themes"),
        ),
        _("A case is opened for this contact."),
    )


@allow(*READERS)
@require_POST
def work_record(request: HttpRequest, contact_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    return _call(
        request,
        contact,
        lambda: services.oral_record_add(
            actor=request.user,
            contact=contact,
            held_on=_date(request.POST.get("held_on", "")),
            text=request.POST.get("text", ""),
        ),
        _("The record is in the mailbox for the reporter to check."),
    )


def _date(value: str | None) -> Any:
    try:
        return parse_date(value or "")
    except ValueError:
        return None


@allow(*READERS)
@require_POST
def work_record_revise(request: HttpRequest, contact_id: Any, record_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    return _call(
        request,
        contact,
        lambda: services.oral_record_revise(
            actor=request.user,
            contact=contact,
            record_id=record_id,
            text=request.POST.get("text", ""),
        ),
        _("The new version is in the mailbox for the reporter to check."),
    )


@allow(*READERS)
@require_GET
def work_file(request: HttpRequest, contact_id: Any, upload_id: Any) -> HttpResponse:
    contact = selectors.contact_get_for_user(request.user, contact_id, write=True)
    try:
        name, content_type, data = services.attachment_read(
            actor=request.user, contact=contact, attachment_id=upload_id
        )
    except ValidationError:
        raise Http404 from None
    response = _download(name, content_type, data)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@allow(*READERS)
@require_http_methods(["GET", "POST"])
def card_edit(request: HttpRequest) -> HttpResponse:
    """The adviser's own card on the intake pages of the organisations they serve."""
    card = cards.card_of(request.user)
    errors: list[str] = []
    if request.method == "POST":
        photo = request.FILES.get("photo")
        try:
            cards.card_update(
                user=request.user,
                languages=request.POST.get("languages", ""),
                reach=request.POST.get("reach", ""),
                photo=photo.read() if photo is not None and photo.size <= 5 * 1024 * 1024 else None,
                photo_too_large=photo is not None and photo.size > 5 * 1024 * 1024,
                remove_photo=request.POST.get("remove_photo") == "1",
            )
        except ValidationError as error:
            errors = list(error.messages)
        else:
            messages.success(request, _("Your card is saved."))
            return redirect("intake:card")
    return render(
        request, "intake/card.html", {"card": card, "errors": errors}, status=400 if errors else 200
    )


@allow(Role.FIRM_ADMIN, Role.ADVISER, Role.CONTACT_PERSON)
@require_GET
def poster(request: HttpRequest) -> HttpResponse:
    """The short link and its QR code, for the firm to print for the organisation."""
    link = short_link_for(request.tenant)
    short = short_url(link, request=request)
    return render(
        request,
        "intake/poster.html",
        {
            "short_url": short,
            "intake_url": intake_url(request.tenant, request=request),
            "qr_svg": qr_svg(short, box_size=10),
            "work_url": reverse("intake:work"),
        },
    )
