"""Reports in the firm console: the portfolio (firm admins), an adviser's clients side by side,
and the batch of annual report drafts with its progress. Thin views over `reports.portfolio`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases.models import STANDARD_THEMES
from reports import services
from reports.models import ReportBatch
from reports.periods import Period, period_parse
from reports.portfolio import EARLIER, RECENT, Portfolio, portfolio_figures
from reports.presentation import (
    View,
    csv_bytes,
    legend_text,
    plotly_bar,
    plotly_heatmap,
    view_of,
    xlsx_bytes,
)
from reports.releases import last_due_quarter
from reports.suppression import TOTAL
from tenants.access import Role, allow, assigned_client_ids
from tenants.models import ClientOrganisation
from tenants.selectors import firm_theme_labels

PORTFOLIO_TABLES = ["per_client", "themes_by_sector", "per_adviser", "hours_per_adviser"]
DOWNLOAD_FORMATS = {
    "csv": ("text/csv; charset=utf-8", csv_bytes),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx_bytes),
}
CLIENTS_SHOWN = 50


def _quarter_choices() -> list[str]:
    # Only released quarters: the running one has no figures yet.
    current = last_due_quarter(timezone.localdate())
    return [current.shifted(-step).label for step in range(0, 40)]


def _views(portfolio: Portfolio, theme_labels: dict[str, str]) -> dict[str, View]:
    """Label the portfolio's tables in the reader's language (themes: the firm's names)."""
    publication = portfolio.publication
    period = portfolio.period
    clients = {str(pk): client.name for pk, client in portfolio.clients.items()}
    sectors = {str(v): str(label) for v, label in ClientOrganisation.Sector.choices}
    themes = {**{code: str(label) for code, label in STANDARD_THEMES.items()}, **theme_labels}
    advisers = {
        str(pk): name or _("Adviser %(id)s") % {"id": pk}
        for pk, name in portfolio.adviser_names.items()
    }
    return {
        "per_client": view_of(
            publication["per_client"],
            title=_("Cases per client, %(period)s") % {"period": period.label},
            labels=clients,
            headings={EARLIER: _("First half"), RECENT: _("Second half"), TOTAL: _("Period")},
        ),
        "themes_by_sector": view_of(
            publication["themes_by_sector"],
            title=_("Themes by sector"),
            labels=sectors,
            headings={**themes, TOTAL: _("Total")},
        ),
        "per_adviser": view_of(
            publication["per_adviser"],
            title=_("Caseload per adviser"),
            labels=advisers,
            headings={"open_now": _("Open cases today")},
        ),
        "hours_per_adviser": view_of(
            publication["hours_per_adviser"],
            title=_("Hours per adviser"),
            labels=advisers,
            headings={"minutes": _("Hours")},
        ),
    }


def _period_or_error(request: HttpRequest) -> tuple[Period | None, list[str]]:
    try:
        return period_parse(
            request.GET.get("from"), request.GET.get("to"), today=timezone.localdate()
        ), []
    except ValidationError as error:
        return None, error.messages


def _page(
    request: HttpRequest, *, template: str, client_ids: list[int] | None, extra: dict[str, Any]
) -> HttpResponse:
    period, errors = _period_or_error(request)
    context: dict[str, Any] = {
        "quarters": _quarter_choices(),
        "chosen_from": request.GET.get("from", ""),
        "chosen_to": request.GET.get("to", ""),
        **extra,
    }
    if errors:
        context["period_errors"] = errors
        return render(request, template, context, status=400)
    portfolio = portfolio_figures(firm=request.firm, period=period, client_ids=client_ids)
    if portfolio is None:
        context.update(period=period, no_clients=True)
        return render(request, template, context)
    views = _views(portfolio, firm_theme_labels(firm=request.firm))
    rows = []
    for row in views["per_client"].rows:
        if row.is_total:
            continue
        client_id = int(row.code)
        rows.append(
            {
                "row": row,
                "rate": portfolio.rates[client_id],
                "rising": client_id in portfolio.rising,
            }
        )
    rows.sort(key=lambda item: (item["rate"] is None, -(item["rate"] or 0), item["row"].label))
    total_row = next(row for row in views["per_client"].rows if row.is_total)
    sector_labels = {str(v): str(label) for v, label in ClientOrganisation.Sector.choices}
    charts = {
        "themes_by_sector": plotly_heatmap(
            views["themes_by_sector"], x_title=_("Theme"), y_title=_("Sector")
        ),
        "per_adviser": plotly_bar(
            views["per_adviser"],
            columns=["open_now"],
            names=[_("Open cases today")],
            axis=_("Cases"),
        ),
        "hours_per_adviser": plotly_bar(
            views["hours_per_adviser"], columns=["minutes"], names=[_("Hours")], axis=_("Hours")
        ),
    }
    context.update(
        period=period,
        chosen_from=period.first.label,
        chosen_to=period.last.label,
        views=views,
        client_rows=rows[:CLIENTS_SHOWN],
        client_count=len(rows),
        total_row=total_row,
        # Sector labels looked up once: get_sector_display per client (lazy translations) was
        # a quarter of a warm portfolio at a thousand clients.
        rising=[
            {"name": client.name, "sector": sector_labels.get(client.sector, client.sector)}
            for client in (portfolio.clients[pk] for pk in portfolio.rising)
        ],
        charts=charts,
        legend=legend_text(portfolio.publication.k),
        query=f"from={period.first.label}&to={period.last.label}",
    )
    return render(request, template, context)


@allow(Role.FIRM_ADMIN)
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    return _page(request, template="reports/portfolio.html", client_ids=None, extra={})


@allow(Role.FIRM_ADMIN)
@require_GET
def portfolio_download(request: HttpRequest) -> HttpResponse:
    """One portfolio table (`?table=`, default per client) as CSV or XLSX (`?fmt=`)."""
    portfolio_table = request.GET.get("table", "per_client")
    fmt = request.GET.get("fmt", "csv")
    if fmt not in DOWNLOAD_FORMATS or portfolio_table not in PORTFOLIO_TABLES:
        raise Http404
    period, errors = _period_or_error(request)
    if errors:
        return HttpResponse(" ".join(errors), status=400, content_type="text/plain; charset=utf-8")
    portfolio = portfolio_figures(firm=request.firm, period=period)
    if portfolio is None:
        raise Http404
    view = _views(portfolio, firm_theme_labels(firm=request.firm))[portfolio_table]
    content_type, render_bytes = DOWNLOAD_FORMATS[fmt]
    response = HttpResponse(render_bytes(view), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{portfolio_table}-{period.first.label}-{period.last.label}.{fmt}"'
    )
    return response


@allow(Role.ADVISER)
@require_GET
def adviser_clients(request: HttpRequest) -> HttpResponse:
    """The adviser's clients side by side; `?clients=1,2` narrows to some of them."""
    mine = assigned_client_ids(request.user, firm=request.firm)
    chosen = request.GET.get("clients", "").strip()
    if chosen:
        try:
            wanted = {int(part) for part in chosen.split(",") if part.strip()}
        except ValueError:
            wanted = {-1}
        unknown = wanted - mine
        if unknown:
            # Unknown and not-assigned look alike: neither tells whether the id exists.
            return render(
                request,
                "reports/adviser_clients.html",
                {
                    "client_errors": [
                        _("These are not clients of yours: %(ids)s.")
                        % {"ids": ", ".join(str(pk) for pk in sorted(unknown))}
                    ],
                    "quarters": _quarter_choices(),
                },
                status=400,
            )
        mine = wanted
    return _page(
        request,
        template="reports/adviser_clients.html",
        client_ids=sorted(mine),
        extra={"chosen_clients": chosen},
    )


@allow(Role.FIRM_ADMIN)
@require_http_methods(["GET", "POST"])
def batches(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    if request.method == "POST":
        try:
            batch = services.report_batch_request(
                firm=request.firm,
                year=request.POST.get("year"),
                actor=request.user,
                submission_key=request.POST.get("submission_key"),
            )
        except ValidationError as error:
            errors = error.messages
        else:
            batch.refresh_from_db()
            if batch.status == ReportBatch.Status.DONE:
                text = _("The drafts of %(year)d are made: %(done)d of %(total)d.")
            else:
                text = _("Drafting the annual reports of %(year)d has started; see the progress.")
            messages.success(
                request, text % {"year": batch.year, "done": batch.done, "total": batch.total}
            )
            return redirect("reports:batches")
    recent = list(ReportBatch.objects.filter(firm=request.firm).order_by("-created_at", "-id")[:10])
    return render(
        request,
        "reports/batches.html",
        {
            "batches": recent,
            "errors": errors,
            "default_year": timezone.localdate().year - 1,
            # A fresh key per page view; a refused POST keeps its key (nothing was started).
            "submission_key": request.POST.get("submission_key") or uuid.uuid4(),
        },
        status=400 if errors else 200,
    )


@allow(Role.FIRM_ADMIN)
@require_GET
def batch_status(request: HttpRequest, batch_id: int) -> JsonResponse:
    batch = ReportBatch.objects.filter(pk=batch_id, firm=request.firm).first()
    if batch is None:
        raise Http404
    text = _("%(done)d of %(total)d drafted") % {"done": batch.done, "total": batch.total}
    if batch.failed:
        text += " · " + _("%(failed)d failed") % {"failed": batch.failed}
    return JsonResponse(
        {
            "status": batch.status,
            "total": batch.total,
            "done": batch.done,
            "failed": batch.failed,
            "percent": batch.percent,
            "label": str(batch.get_status_display()),
            "text": text,
        }
    )
