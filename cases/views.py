"""Case handling on a client organisation's host. Thin views: parse, authorise, call, render.

Case pages are for the external advisers assigned to this client (`Role.ADVISER`, then
`selectors.case_get_for_user` per case); firm admins get administration without narratives;
internal advisers register anonymous counts. Contact persons reach none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit import labels as audit_labels
from cases import exports, forms, selectors, services
from cases.models import Case
from cases.services import DuplicateSubmission, EditConflict
from tenants.access import Role, allow
from tenants.current import current_client_organisation


def _detail(case: Case | str) -> HttpResponse:
    reference = case if isinstance(case, str) else case.reference
    return redirect("cases:detail", reference=reference)


def _case_forms(case: Case, page: selectors.CasePage) -> dict[str, Any]:
    consents = page.consents
    return {
        "conversation_form": forms.ConversationForm(prefix="conversation"),
        "plan_form": forms.PlanForm(prefix="plan", initial={"on": case.next_conversation_on}),
        "consent_form": forms.ConsentForm(prefix="consent"),
        "step_form": forms.StepForm(prefix="step"),
        "referral_form": forms.ReferralForm(prefix="referral", consents=consents),
        "followup_form": forms.FollowUpForm(prefix="followup"),
        "time_form": forms.TimeEntryForm(prefix="time"),
        "note_form": forms.NoteForm(prefix="note"),
        "phase_form": forms.PhaseForm(
            prefix="phase", initial={"phase": case.phase, "version": case.version}
        ),
        "step_done_form": forms.StepDoneForm(prefix="done", consents=consents),
        "paps_form": forms.PapsHandoverForm(
            prefix="paps", consents=consents, initial={"version": case.version}
        ),
    }


def _render_case(
    request: HttpRequest, reference: str, *, bound: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, reference)
    page = selectors.case_page(case)
    people = selectors.people_by_id(
        {
            case.adviser_id,
            *(c.adviser_id for c in page.conversations),
            *(n.author_id for n in page.notes),
        }
    )
    context = {
        "case": case,
        "page": page,
        "people": people,
        "today": timezone.localdate(),
        "open_case": not case.is_closed and not case.is_stripped,
        "belgian": services.client_is_belgian(),
        **_case_forms(case, page),
        **(bound or {}),
    }
    return render(request, "cases/case_detail.html", context, status=status)


@allow(Role.ADVISER)
def case_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in {"open", "closed", "all"}:
        status = "open"
    mine = request.GET.get("mine") == "1"
    page = selectors.case_list_for_user(
        request.user, status=status, mine=mine, page=request.GET.get("page", 1)
    )
    people = selectors.people_by_id({case.adviser_id for case in page.object_list})
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "status": status,
            "mine": mine,
            "people": people,
            "today": timezone.localdate(),
        },
    )


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    if not selectors.user_reads_cases(request.user):
        raise Http404
    form = forms.CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_open(actor=request.user, **data)
        except DuplicateSubmission as duplicate:
            messages.info(request, _("This contact was already registered."))
            return _detail(duplicate.reference)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Registered as %(reference)s.") % {"reference": case.reference}
            )
            return _detail(case)
    return render(request, "cases/case_new.html", {"form": form})


@allow(Role.ADVISER)
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_case(request, reference)


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, reference, write=request.method == "POST")
    current = None
    if request.method == "POST":
        form = forms.CaseEditForm(request.POST, case=case)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            try:
                services.case_update(
                    actor=request.user, case=case, expected_version=version, **data
                )
            except EditConflict as conflict:
                # Keep the adviser's input, show what is stored now, and base a resubmit on it.
                posted = request.POST.copy()
                posted["version"] = str(conflict.current_version)
                form = forms.CaseEditForm(posted, case=case)
                form.is_valid()
                form.add_error(None, conflict)
                current = selectors.case_get_for_user(request.user, reference)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Saved."))
                return _detail(case)
    else:
        form = forms.CaseEditForm(initial=forms.CaseEditForm.initial_for(case), case=case)
    return render(request, "cases/case_edit.html", {"case": case, "form": form, "current": current})


def _case_action(
    request: HttpRequest,
    reference: str,
    *,
    form_name: str,
    make_form: Callable[[Case], Any],
    perform: Callable[[Case, dict[str, Any]], Any],
    done: str,
) -> HttpResponse:
    """Handle one POST form of the case page; on refusal show the page again with the input."""
    case = selectors.case_get_for_user(request.user, reference, write=True)
    form = make_form(case)
    if form.is_valid():
        try:
            perform(case, form.cleaned_data)
        except DuplicateSubmission:
            messages.info(request, _("This was already saved."))
            return _detail(case)
        except EditConflict as conflict:
            messages.error(request, conflict.messages[0])
            return _detail(case)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, done)
            return _detail(case)
    return _render_case(
        request, reference, bound={form_name: form, "open_form": form_name}, status=400
    )


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _consents(case: Case) -> list[Any]:
    return list(case.consents.all())


@allow(Role.ADVISER)
@require_POST
def conversation_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="conversation_form",
        make_form=lambda case: forms.ConversationForm(request.POST, prefix="conversation"),
        perform=lambda case, data: services.conversation_add(actor=request.user, case=case, **data),
        done=_("Conversation recorded."),
    )


@allow(Role.ADVISER)
@require_POST
def conversation_plan(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="plan_form",
        make_form=lambda case: forms.PlanForm(request.POST, prefix="plan"),
        perform=lambda case, data: services.conversation_plan(
            actor=request.user, case=case, on=data["on"]
        ),
        done=_("Next conversation planned."),
    )


@allow(Role.ADVISER)
@require_POST
def consent_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="consent_form",
        make_form=lambda case: forms.ConsentForm(request.POST, prefix="consent"),
        perform=lambda case, data: services.consent_record(actor=request.user, case=case, **data),
        done=_("Consent recorded."),
    )


@allow(Role.ADVISER)
@require_POST
def consent_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(case: Case, data: dict[str, Any]) -> None:
        consent = selectors.consent_in_case(case, data["consent_id"])
        services.consent_withdraw(
            actor=request.user, case=case, consent=consent, withdrawn_on=data["withdrawn_on"]
        )

    return _case_action(
        request,
        reference,
        form_name="withdraw_form",
        make_form=lambda case: forms.ConsentWithdrawForm(request.POST, prefix="withdraw"),
        perform=perform,
        done=_("Consent withdrawn."),
    )


@allow(Role.ADVISER)
@require_POST
def step_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="step_form",
        make_form=lambda case: forms.StepForm(request.POST, prefix="step"),
        perform=lambda case, data: services.step_add(actor=request.user, case=case, **data),
        done=_("Step added."),
    )


@allow(Role.ADVISER)
@require_POST
def step_done(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(case: Case, data: dict[str, Any]) -> None:
        step = selectors.step_in_case(case, data["step_id"])
        consent = (
            selectors.consent_in_case(case, data["consent_id"]) if data["consent_id"] else None
        )
        services.step_mark_done(actor=request.user, case=case, step=step, consent=consent)

    return _case_action(
        request,
        reference,
        form_name="step_done_form",
        make_form=lambda case: forms.StepDoneForm(
            request.POST, prefix="done", consents=_consents(case)
        ),
        perform=perform,
        done=_("Step done."),
    )


@allow(Role.ADVISER)
@require_POST
def referral_add(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(case: Case, data: dict[str, Any]) -> None:
        consent_id = data.pop("consent_id")
        consent = selectors.consent_in_case(case, consent_id) if consent_id else None
        services.referral_add(actor=request.user, case=case, consent=consent, **data)

    return _case_action(
        request,
        reference,
        form_name="referral_form",
        make_form=lambda case: forms.ReferralForm(
            request.POST, prefix="referral", consents=_consents(case)
        ),
        perform=perform,
        done=_("Referral recorded."),
    )


@allow(Role.ADVISER)
@require_POST
def paps_handover(request: HttpRequest, reference: str) -> HttpResponse:
    """Belgium: hand the case over to the PAPS, with the reporter's consent."""

    def perform(case: Case, data: dict[str, Any]) -> None:
        consent_id = data.pop("consent_id")
        consent = selectors.consent_in_case(case, consent_id) if consent_id else None
        services.case_paps_handover(
            actor=request.user,
            case=case,
            consent=consent,
            expected_version=data["version"],
            handed_on=data["handed_on"],
            note=data["note"],
        )

    return _case_action(
        request,
        reference,
        form_name="paps_form",
        make_form=lambda case: forms.PapsHandoverForm(
            request.POST, prefix="paps", consents=_consents(case)
        ),
        perform=perform,
        done=_("Handed over to the PAPS."),
    )


@allow(Role.ADVISER)
@require_POST
def followup_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="followup_form",
        make_form=lambda case: forms.FollowUpForm(request.POST, prefix="followup"),
        perform=lambda case, data: services.followup_add(actor=request.user, case=case, **data),
        done=_("Follow-up planned."),
    )


@allow(Role.ADVISER)
@require_POST
def followup_done(request: HttpRequest, reference: str) -> HttpResponse:
    def perform(case: Case, data: dict[str, Any]) -> None:
        followup = selectors.followup_in_case(case, data["followup_id"])
        services.followup_mark_done(actor=request.user, case=case, followup=followup)

    return _case_action(
        request,
        reference,
        form_name="followup_done_form",
        make_form=lambda case: forms.FollowUpDoneForm(request.POST, prefix="fdone"),
        perform=perform,
        done=_("Follow-up done."),
    )


@allow(Role.ADVISER)
@require_POST
def time_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="time_form",
        make_form=lambda case: forms.TimeEntryForm(request.POST, prefix="time"),
        perform=lambda case, data: services.time_entry_add(actor=request.user, case=case, **data),
        done=_("Time recorded."),
    )


@allow(Role.ADVISER)
@require_POST
def note_add(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="note_form",
        make_form=lambda case: forms.NoteForm(request.POST, prefix="note"),
        perform=lambda case, data: services.note_add(actor=request.user, case=case, **data),
        done=_("Note added."),
    )


@allow(Role.ADVISER)
@require_POST
def phase_move(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_action(
        request,
        reference,
        form_name="phase_form",
        make_form=lambda case: forms.PhaseForm(request.POST, prefix="phase"),
        perform=lambda case, data: services.case_move_phase(
            actor=request.user, case=case, phase=data["phase"], expected_version=data["version"]
        ),
        done=_("Phase changed."),
    )


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, reference, write=request.method == "POST")
    if case.is_closed:
        messages.info(request, _("This case is already closed."))
        return _detail(case)
    form = forms.CloseForm(
        request.POST or None,
        initial={"version": case.version, "closed_on": timezone.localdate()},
        belgian=services.client_is_belgian(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(
                actor=request.user,
                case=case,
                outcome=form.cleaned_data["outcome"],
                closed_on=form.cleaned_data["closed_on"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Case closed."))
            return _detail(case)
    return render(
        request,
        "cases/case_close.html",
        {"case": case, "form": form, "retention_months": selectors.retention_months()},
    )


@allow(Role.ADVISER, Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def case_handover(request: HttpRequest, reference: str) -> HttpResponse:
    """Hand a case to another assigned adviser: by an adviser, or a firm admin (without reading)."""
    if Role.ADVISER in request.roles and selectors.user_reads_cases(request.user):
        case = selectors.case_get_for_user(request.user, reference, write=True)
    elif Role.FIRM_ADMIN in request.roles:
        case = selectors.case_get_for_admin(reference)
    else:
        raise Http404
    advisers = selectors.advisers_of_client()
    form = forms.HandoverForm(
        request.POST or None, advisers=advisers, initial={"version": case.version}
    )
    if request.method == "POST" and form.is_valid():
        adviser = form.advisers[form.cleaned_data["adviser"]]
        try:
            services.case_handover(
                actor=request.user,
                case=case,
                to_adviser=adviser,
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(reference)s is now handled by %(name)s.")
                % {"reference": case.reference, "name": adviser.get_full_name() or adviser.email},
            )
            if Role.ADVISER in request.roles and selectors.user_reads_cases(request.user):
                return _detail(case)
            return redirect("cases:administration")
    current = selectors.people_by_id({case.adviser_id}).get(case.adviser_id)
    return render(
        request, "cases/case_handover.html", {"case": case, "form": form, "current": current}
    )


@allow(Role.ADVISER)
def case_export(request: HttpRequest, reference: str) -> HttpResponse:
    """The case for a reporter's access request: JSON (default) or PDF (`?format=pdf`)."""
    case = selectors.case_get_for_user(request.user, reference, write=True)
    data = services.case_export(actor=request.user, case=case)
    filename = f"case-{case.reference}"
    if request.GET.get("format") == "pdf":
        response = HttpResponse(exports.case_pdf(data), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    else:
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    response["Cache-Control"] = "no-store"
    return response


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def case_erase(request: HttpRequest, reference: str) -> HttpResponse:
    case = selectors.case_get_for_user(request.user, reference, write=True)
    if request.method == "POST":
        if request.POST.get("confirm") != case.reference:
            messages.error(request, _("Type the case reference to confirm the erasure."))
        else:
            services.case_erase(actor=request.user, case=case)
            messages.success(
                request,
                _("The narrative and identifying data of %(reference)s are erased.")
                % {"reference": case.reference},
            )
            return _detail(case)
    return render(request, "cases/case_erase.html", {"case": case})


# --- firm administration (no narratives) -------------------------------------------------------


@allow(Role.FIRM_ADMIN)
def administration(request: HttpRequest) -> HttpResponse:
    page = selectors.case_admin_list(page=request.GET.get("page", 1))
    people = selectors.people_by_id({case.adviser_id for case in page.object_list})
    settings_row = selectors.case_settings()
    form = forms.CaseSettingsForm(initial={"retention_months": settings_row.retention_months})
    client = current_client_organisation()
    return render(
        request,
        "cases/administration.html",
        {"page": page, "people": people, "settings_form": form, "client": client},
    )


@allow(Role.FIRM_ADMIN)
@require_POST
def settings_update(request: HttpRequest) -> HttpResponse:
    form = forms.CaseSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.case_settings_update(
                actor=request.user, retention_months=form.cleaned_data["retention_months"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Saved."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("cases:administration")


@allow(Role.FIRM_ADMIN)
def access_log(request: HttpRequest) -> HttpResponse:
    reference = (request.GET.get("reference") or "").strip()[:40]
    page = selectors.access_log_page(reference=reference, page=request.GET.get("page", 1))
    # Each row's note is a code with values, said in the reader's language.
    rows = [
        (
            entry,
            audit_labels.kind_label(entry.object_type),
            audit_labels.note_label(
                entry.detail,
                object_type=entry.object_type,
                note=entry.note,
                params=entry.note_params,
            ),
        )
        for entry in page.object_list
    ]
    return render(
        request, "cases/access_log.html", {"page": page, "rows": rows, "reference": reference}
    )


# --- internal advisers -------------------------------------------------------------------------


@allow(Role.INTERNAL_ADVISER)
@require_http_methods(["GET", "POST"])
def internal_registrations(request: HttpRequest) -> HttpResponse:
    form = forms.InternalRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.internal_registration_add(actor=request.user, **form.cleaned_data)
        except DuplicateSubmission:
            messages.info(request, _("This was already saved."))
            return redirect("cases:internal")
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Counted."))
            return redirect("cases:internal")
    registrations = selectors.internal_registrations_of(request.user)[:200]
    return render(request, "cases/internal.html", {"form": form, "registrations": registrations})


@allow(Role.ADVISER)
@require_http_methods(["GET"])
def reports_register(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = selectors.reports_register_for_user(request.user)
    return render(
        request,
        "cases/reports_register.html",
        {
            "rows": rows,
            "today": today,
            "overdue": sum(1 for row in rows if row.overdue(today)),
        },
    )


@allow(Role.ADVISER)
@require_http_methods(["GET"])
def reports_register_export(request: HttpRequest) -> HttpResponse:
    body = selectors.reports_register_csv(request.user)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"register-reports-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
