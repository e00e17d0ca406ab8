"""The board's pages on a client organisation's host (/board/). Thin views.

Contact persons: the dashboard, published annual reports, signals (acknowledge, follow-up).
External advisers (assigned): all of that, drafts, signals to write, activities.
Firm administrators: all of that, review and publication of annual reports.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from boardroom import annual, selectors, services
from boardroom.dashboard import DIMENSION_TABLES, dashboard_build
from boardroom.forms import (
    ActivityForm,
    FollowUpForm,
    ReportTextsForm,
    ReportYearForm,
    ReviewForm,
    SignalDeleteForm,
    SignalEditForm,
    SignalForm,
)
from boardroom.models import BoardSignal
from cases.services import DuplicateSubmission
from reports import frames as report_frames
from reports.benchmark import benchmark_current
from reports.indicators import indicators_current
from reports.periods import period_parse
from reports.presentation import csv_bytes, json_of, legend_text, xlsx_bytes
from reports.releases import last_due_quarter
from tenants.access import Role, allow

READERS = (Role.CONTACT_PERSON, Role.ADVISER, Role.FIRM_ADMIN)
STAFF = (Role.ADVISER, Role.FIRM_ADMIN)
DOWNLOAD_FORMATS = {
    "csv": ("text/csv; charset=utf-8", csv_bytes),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx_bytes),
}


def _is_staff(request: HttpRequest) -> bool:
    return bool(set(request.roles) & set(STAFF))


def _period(request: HttpRequest):
    return period_parse(request.GET.get("from"), request.GET.get("to"), today=timezone.localdate())


def _quarter_choices() -> list[str]:
    # Only released quarters: the running one has no figures yet.
    current = last_due_quarter(timezone.localdate())
    return [current.shifted(-step).label for step in range(0, 40)]


# --- dashboard ---------------------------------------------------------------------------------


@allow(*READERS)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        "quarters": _quarter_choices(),
        "chosen_from": request.GET.get("from", ""),
        "chosen_to": request.GET.get("to", ""),
    }
    try:
        period = _period(request)
    except ValidationError as error:
        context["period_errors"] = error.messages
        return render(request, "reports/dashboard.html", context, status=400)
    board = dashboard_build(period)
    signals = selectors.signal_list(include_drafts=False)[:10]
    indicators = indicators_current()
    context.update(
        indicators=indicators,
        benchmark=benchmark_current(year=indicators[-1].year),
        benchmark_year=indicators[-1].year,
        board=board,
        period=period,
        chosen_from=period.first.label,
        chosen_to=period.last.label,
        legend=legend_text(board.k),
        figures_cache_seconds=selectors.PUBLICATION_CACHE_SECONDS,
        signals=signals,
        query=f"from={period.first.label}&to={period.last.label}",
    )
    return render(request, "reports/dashboard.html", context)


@allow(*READERS)
@require_GET
def dashboard_download(request: HttpRequest) -> HttpResponse:
    """One dashboard table (`?table=`, default the trend) as CSV or XLSX (`?fmt=`, default CSV):
    the same suppressed cells as on the page."""
    table = request.GET.get("table", "trend")
    fmt = request.GET.get("fmt", "csv")
    if fmt not in DOWNLOAD_FORMATS or table not in [*DIMENSION_TABLES, "trend"]:
        raise Http404
    try:
        period = _period(request)
    except ValidationError as error:
        return HttpResponse(
            " ".join(error.messages), status=400, content_type="text/plain; charset=utf-8"
        )
    view = dashboard_build(period).view(table)
    content_type, render_bytes = DOWNLOAD_FORMATS[fmt]
    response = HttpResponse(render_bytes(view), content_type=content_type)
    filename = f"{table}-{period.first.label}-{period.last.label}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@allow(*READERS)
@require_GET
def dashboard_data(request: HttpRequest) -> HttpResponse:
    """The JSON behind the charts: every table of the period, suppressed."""
    try:
        period = _period(request)
    except ValidationError as error:
        return JsonResponse({"errors": error.messages}, status=400)
    board = dashboard_build(period)
    tables = {chart.key: json_of(chart.view) for chart in [board.trend, *board.charts]}
    return JsonResponse({"period": period.label, "k": board.k, "tables": tables})


# --- annual reports ----------------------------------------------------------------------------


@allow(*READERS)
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    staff = _is_staff(request)
    form = ReportYearForm(request.POST or None, initial={"year": timezone.localdate().year - 1})
    if request.method == "POST":
        if not staff:
            raise Http404
        if form.is_valid():
            try:
                report = services.report_draft_create(
                    actor=request.user, year=form.cleaned_data["year"]
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("boardroom:report", year=report.year)
    reports = selectors.report_list(published_only=not staff)
    return render(
        request, "reports/report_list.html", {"reports": reports, "form": form, "staff": staff}
    )


@allow(*READERS)
@require_GET
def report_detail(request: HttpRequest, year: int) -> HttpResponse:
    report = selectors.report_get(year, published_only=not _is_staff(request))
    return _report_page(request, report)


def _report_page(
    request: HttpRequest, report, *, form: ReportTextsForm | None = None, status: int = 200
) -> HttpResponse:
    """The report page; a refused edit or submission passes its bound form, so the typed
    texts stay on the page with the reasons instead of being dropped by a redirect."""
    context: dict = {"report": report, "staff": _is_staff(request), "roles": request.roles}
    if report.is_published:
        context["body"] = report.html
    else:
        content = annual.content_build(report)
        context["body"] = annual.html_render(content, status=report.status, published_on=None)
        context["form"] = form or ReportTextsForm(
            initial={
                "narrative": report.narrative,
                "recommendations": report.recommendations,
                "version": report.version,
            }
        )
        context["review_form"] = ReviewForm()
        context["empty_sections"] = services.report_empty_sections(report)
    return render(request, "reports/report_detail.html", context, status=status)


@allow(*READERS)
@require_GET
def report_pdf(request: HttpRequest, year: int) -> HttpResponse:
    """The published PDF (frozen, its SHA-256 shown on the report page); staff get a draft
    rendered now."""
    report = selectors.report_get(year, published_only=not _is_staff(request))
    if report.is_published:
        pdf = base64.b64decode(report.pdf)
        name = f"annual-report-{report.year}.pdf"
    else:
        content = annual.content_build(report)
        body = annual.html_render(content, status=report.status, published_on=None)
        pdf = annual.pdf_render(annual.document_render(body, title=annual.report_title(content)))
        name = f"annual-report-{report.year}-draft.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@allow(Role.ADVISER)
@require_POST
def report_edit(request: HttpRequest, year: int) -> HttpResponse:
    return _report_texts_post(request, year, submit=False)


def _report_texts_post(request: HttpRequest, year: int, *, submit: bool) -> HttpResponse:
    report = selectors.report_get(year, published_only=False)
    form = ReportTextsForm(request.POST)
    if form.is_valid():
        texts = {
            "narrative": form.cleaned_data["narrative"],
            "recommendations": form.cleaned_data["recommendations"],
            "expected_version": form.cleaned_data["version"],
        }
        try:
            if submit:
                services.report_submit(actor=request.user, report=report, **texts)
            else:
                services.report_update(actor=request.user, report=report, **texts)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Sent for review.") if submit else _("Saved."))
            return redirect("boardroom:report", year=report.year)
    report.refresh_from_db()
    messages.error(request, _("Nothing was saved. Your texts are still in the form below."))
    return _report_page(request, report, form=form, status=400)


def _attempt(request: HttpRequest, action: Callable[[], object], done: str) -> None:
    """Run one service call: its refusal becomes error messages, its success the `done` one."""
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)


@allow(Role.ADVISER)
@require_POST
def report_submit(request: HttpRequest, year: int) -> HttpResponse:
    """Send for review; the page's form sends the texts along, which are saved first."""
    if "version" in request.POST:
        return _report_texts_post(request, year, submit=True)
    report = selectors.report_get(year, published_only=False)
    _attempt(
        request,
        lambda: services.report_submit(actor=request.user, report=report),
        _("Sent for review."),
    )
    return redirect("boardroom:report", year=report.year)


@allow(Role.FIRM_ADMIN)
@require_POST
def report_return(request: HttpRequest, year: int) -> HttpResponse:
    report = selectors.report_get(year, published_only=False)
    form = ReviewForm(request.POST)
    _attempt(
        request,
        lambda: services.report_return(
            actor=request.user, report=report, note=form.data.get("note", "")
        ),
        _("Returned to the adviser."),
    )
    return redirect("boardroom:report", year=report.year)


@allow(Role.FIRM_ADMIN)
@require_POST
def report_publish(request: HttpRequest, year: int) -> HttpResponse:
    report = selectors.report_get(year, published_only=False)
    _attempt(
        request,
        lambda: services.report_publish(
            actor=request.user,
            report=report,
            publish_empty_sections=request.POST.get("publish_empty_sections") == "yes",
        ),
        _("Published. The contact persons can read it now."),
    )
    return redirect("boardroom:report", year=report.year)


# --- signals -----------------------------------------------------------------------------------


def _suggestions() -> list[dict]:
    """Themes that rose markedly in the last completed quarter (for the adviser to decide)."""
    latest = last_due_quarter(timezone.localdate())
    years = sorted({latest.year, latest.shifted(-3).year})
    publications = selectors.year_publications(years)
    labels = selectors.labels_current()["themes"]
    return [
        {
            "code": theme,
            "label": labels.get(theme, theme),
            "quarter": latest.label,
            "title": _("More reports about %(theme)s")
            % {"theme": labels.get(theme, theme).lower()},
            "risk": _(
                "Reports about %(theme)s rose markedly in %(quarter)s against the quarters before."
            )
            % {"theme": labels.get(theme, theme).lower(), "quarter": latest.label},
        }
        for theme, _now, _average in report_frames.theme_rises(publications, latest)
    ]


@allow(*READERS)
@require_http_methods(["GET", "POST"])
def signal_list(request: HttpRequest) -> HttpResponse:
    staff = _is_staff(request)
    writer = Role.ADVISER in request.roles
    form = SignalForm(request.POST or None, initial={"severity": BoardSignal.Severity.MEDIUM})
    if request.method == "POST":
        if not writer:
            raise Http404
        if form.is_valid():
            try:
                signal = services.signal_create(actor=request.user, **form.cleaned_data)
            except DuplicateSubmission as duplicate:
                messages.info(request, _("This signal was already saved."))
                if not duplicate.reference:
                    return redirect("boardroom:signals")
                return redirect("boardroom:signal", signal_id=duplicate.reference)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Saved as a draft. Check it, then send it."))
                return redirect("boardroom:signal", signal_id=signal.pk)
    context = {
        "signals": selectors.signal_list(include_drafts=staff),
        "form": form if writer else None,
        "suggestions": _suggestions() if writer else [],
        "staff": staff,
    }
    if writer and request.method == "GET" and request.GET.get("suggest"):
        chosen = [s for s in context["suggestions"] if s["code"] == request.GET["suggest"]]
        if chosen:
            form.initial.update(
                title=chosen[0]["title"], risk=chosen[0]["risk"], theme_code=chosen[0]["code"]
            )
    return render(request, "reports/signal_list.html", context)


def _add_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        for problem in errors:
            form.add_error(field if field in form.fields else None, problem)


@allow(*READERS)
@require_GET
def signal_detail(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = selectors.signal_get(signal_id, include_drafts=_is_staff(request))
    return render(
        request,
        "reports/signal_detail.html",
        {
            "signal": signal,
            "roles": request.roles,
            "follow_up_form": FollowUpForm(),
            "is_contact": Role.CONTACT_PERSON in request.roles,
            "is_writer": Role.ADVISER in request.roles,
            "delete_form": SignalDeleteForm(),
        },
    )


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def signal_edit(request: HttpRequest, signal_id: int) -> HttpResponse:
    """Change a draft; once sent, the page says so and offers the signal instead."""
    signal = selectors.signal_get(signal_id, include_drafts=True)
    if signal.status != BoardSignal.Status.DRAFT:
        messages.info(request, _("This signal was sent and can no longer be changed."))
        return redirect("boardroom:signal", signal_id=signal.pk)
    form = SignalEditForm(
        request.POST or None,
        initial={
            "title": signal.title,
            "risk": signal.risk,
            "recommendation": signal.recommendation,
            "severity": signal.severity,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.signal_update(actor=request.user, signal=signal, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("boardroom:signal", signal_id=signal.pk)
    return render(request, "reports/signal_edit.html", {"signal": signal, "form": form})


@allow(Role.ADVISER)
@require_POST
def signal_delete(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = selectors.signal_get(signal_id, include_drafts=True)
    form = SignalDeleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["confirm"][0])
        return redirect("boardroom:signal", signal_id=signal.pk)
    try:
        services.signal_delete(actor=request.user, signal=signal)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("boardroom:signal", signal_id=signal.pk)
    messages.success(request, _("The draft is deleted."))
    return redirect("boardroom:signals")


@allow(Role.ADVISER)
@require_POST
def signal_send(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = selectors.signal_get(signal_id, include_drafts=True)
    _attempt(
        request,
        lambda: services.signal_send(actor=request.user, signal=signal),
        _("Sent to the board."),
    )
    return redirect("boardroom:signal", signal_id=signal.pk)


@allow(Role.CONTACT_PERSON)
@require_POST
def signal_acknowledge(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = selectors.signal_get(signal_id, include_drafts=False)
    _attempt(
        request,
        lambda: services.signal_acknowledge(actor=request.user, signal=signal),
        _("Acknowledged."),
    )
    return redirect("boardroom:signal", signal_id=signal.pk)


@allow(Role.CONTACT_PERSON)
@require_POST
def signal_follow_up(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = selectors.signal_get(signal_id, include_drafts=False)
    _attempt(
        request,
        lambda: services.signal_follow_up(
            actor=request.user, signal=signal, text=request.POST.get("follow_up", "")
        ),
        _("Your follow-up was recorded."),
    )
    return redirect("boardroom:signal", signal_id=signal.pk)


# --- activities --------------------------------------------------------------------------------


@allow(Role.ADVISER)
@require_http_methods(["GET", "POST"])
def activities(request: HttpRequest) -> HttpResponse:
    form = ActivityForm(request.POST or None, initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_add(actor=request.user, **form.cleaned_data)
        except DuplicateSubmission:
            messages.info(request, _("This activity was already registered."))
            return redirect("boardroom:activities")
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Activity registered."))
            return redirect("boardroom:activities")
    year = timezone.localdate().year
    recent = selectors.activities_of_year(year) + selectors.activities_of_year(year - 1)
    return render(request, "reports/activities.html", {"form": form, "activities": recent})
