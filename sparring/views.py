"""Sparring on a client organisation's host. Thin views: parse, look up (scoped), call, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cases.services import DuplicateSubmission
from sparring import selectors, services
from sparring.forms import ReplyForm, ThreadCountForm, ThreadStartForm, uploads_of
from sparring.models import Thread
from sparring.services import IdentifiersFound
from tenants.access import Role, allow

PARTICIPANTS = (Role.INTERNAL_ADVISER, Role.ADVISER)


def _call(form: Any, action: Any) -> tuple[Any, list[Any]]:
    """Run a service; put its errors on the form. Returns (result or None, identifier findings);
    a repeated submission returns its DuplicateSubmission as the result."""
    try:
        return action(), []
    except DuplicateSubmission as duplicate:
        return duplicate, []
    except IdentifiersFound as found:
        return None, found.findings
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        form.add_error(None, error)
        return None, []


@allow(Role.INTERNAL_ADVISER, Role.ADVISER, Role.FIRM_ADMIN)
def thread_list(request: HttpRequest) -> HttpResponse:
    """A participant's threads (with search); for a firm admin only counts and ages."""
    if selectors.participant_role(request.roles) is None:
        return render(
            request, "sparring/thread_admin.html", {"overview": selectors.admin_overview()}
        )
    query = request.GET.get("q", "")[:100]
    status = request.GET.get("status", "")
    rows = selectors.thread_list_for_user(
        request.user, roles=request.roles, query=query, status=status
    )
    return render(
        request,
        "sparring/thread_list.html",
        {
            "rows": rows,
            "query": query,
            "status": status,
            "statuses": Thread.Status.choices,
            "may_start": Role.INTERNAL_ADVISER in request.roles,
        },
    )


@allow(Role.INTERNAL_ADVISER)
@require_http_methods(["GET", "POST"])
def thread_new(request: HttpRequest) -> HttpResponse:
    form = ThreadStartForm(request.POST or None, request.FILES or None)
    findings: list[Any] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        thread, findings = _call(
            form,
            lambda: services.thread_start(
                actor=request.user,
                subject=data["subject"],
                body=data["body"],
                uploads=uploads_of(data["attachments"]),
                send_anyway=data["send_anyway"],
                submission_key=data["submission_key"],
            ),
        )
        if isinstance(thread, DuplicateSubmission):
            messages.info(request, _("This thread was already started."))
            if not thread.reference:
                return redirect("sparring:thread_list")
            return redirect("sparring:thread_detail", thread_id=thread.reference)
        if thread is not None:
            messages.success(
                request, _("Your thread is started; the external adviser is notified.")
            )
            return redirect("sparring:thread_detail", thread_id=thread.pk)
    return render(
        request,
        "sparring/thread_new.html",
        {"form": form, "findings": findings, "had_files": bool(request.FILES)},
    )


def _detail(
    request: HttpRequest, thread: Thread, form: ReplyForm, findings: list[Any]
) -> HttpResponse:
    # Every page that shows the messages is a read, also the one re-rendered after a refused
    # answer (its thread was fetched without logging, as for a write).
    selectors.thread_read_log(request.user, thread)
    thread_messages = selectors.messages_of(thread)
    people = selectors.people_by_id(
        {message.author_id for message in thread_messages} | {thread.started_by_id}
    )
    is_adviser = selectors.participant_role(request.roles) is Role.ADVISER
    return render(
        request,
        "sparring/thread_detail.html",
        {
            "thread": thread,
            "thread_messages": [
                (message, people.get(message.author_id)) for message in thread_messages
            ],
            "form": form,
            "findings": findings,
            "had_files": bool(request.FILES),
            "is_adviser": is_adviser,
            "count": selectors.count_of(thread) if is_adviser else None,
        },
    )


@allow(*PARTICIPANTS)
def thread_detail(request: HttpRequest, thread_id: Any) -> HttpResponse:
    thread = selectors.thread_get_for_user(
        request.user, thread_id, roles=request.roles, log_read=False
    )
    services.thread_mark_read(user=request.user, thread=thread)
    return _detail(request, thread, ReplyForm(), [])


@allow(*PARTICIPANTS)
@require_POST
def message_add(request: HttpRequest, thread_id: Any) -> HttpResponse:
    thread = selectors.thread_get_for_user(
        request.user, thread_id, roles=request.roles, log_read=False
    )
    form = ReplyForm(request.POST, request.FILES)
    findings: list[Any] = []
    if form.is_valid():
        data = form.cleaned_data
        message, findings = _call(
            form,
            lambda: services.message_add(
                actor=request.user,
                thread=thread,
                body=data["body"],
                uploads=uploads_of(data["attachments"]),
                send_anyway=data["send_anyway"],
                submission_key=data["submission_key"],
            ),
        )
        if isinstance(message, DuplicateSubmission):
            messages.info(request, _("This answer was already sent."))
            url = reverse("sparring:thread_detail", kwargs={"thread_id": thread.pk})
            return redirect(url)
        if message is not None:
            messages.success(request, _("Your answer is sent."))
            url = reverse("sparring:thread_detail", kwargs={"thread_id": thread.pk})
            return redirect(f"{url}#message-{message.pk}")
    return _detail(request, thread, form, findings)


def _status_change(request: HttpRequest, thread_id: Any, change: Any, done: str) -> HttpResponse:
    thread = selectors.thread_get_for_user(
        request.user, thread_id, roles=request.roles, log_read=False
    )
    try:
        change(actor=request.user, thread=thread)
    except PermissionDenied:
        raise Http404 from None
    messages.success(request, done)
    return redirect("sparring:thread_detail", thread_id=thread.pk)


@allow(*PARTICIPANTS)
@require_POST
def thread_close(request: HttpRequest, thread_id: Any) -> HttpResponse:
    return _status_change(request, thread_id, services.thread_close, _("The thread is closed."))


@allow(*PARTICIPANTS)
@require_POST
def thread_reopen(request: HttpRequest, thread_id: Any) -> HttpResponse:
    return _status_change(
        request, thread_id, services.thread_reopen, _("The thread is open again.")
    )


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def thread_count(request: HttpRequest, thread_id: Any) -> HttpResponse:
    """Count a thread for the annual report: type and themes, never content."""
    thread = selectors.thread_get_for_user(
        request.user, thread_id, roles=request.roles, log_read=False
    )
    existing = selectors.count_of(thread)
    form = ThreadCountForm(request.POST or None)
    if request.method == "POST" and existing is None and form.is_valid():
        count, _findings = _call(
            form,
            lambda: services.thread_count_add(
                actor=request.user,
                thread=thread,
                case_type=form.cleaned_data["case_type"],
                themes=form.cleaned_data["themes"],
            ),
        )
        if count is not None:
            messages.success(request, _("The thread is counted for the annual report."))
            return redirect("sparring:thread_detail", thread_id=thread.pk)
    return render(
        request,
        "sparring/thread_count.html",
        {"thread": thread, "form": form, "existing": existing},
    )


@allow(*PARTICIPANTS)
def attachment_download(request: HttpRequest, attachment_id: Any) -> HttpResponse:
    """The decrypted file, as a download only (never shown inline); logged in the access log."""
    attachment = selectors.attachment_get_for_user(request.user, attachment_id, roles=request.roles)
    data = services.attachment_read(user=request.user, attachment=attachment)
    response = HttpResponse(data, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.file_name
    )
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response
