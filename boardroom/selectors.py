"""Reads for the board's figures, reports and signals, inside one client organisation's schema.

Case rows are read as categorical columns and dates only (never an encrypted field), turned
into `reports.frames.CaseFrames`, and published per year through `reports.suppression`.
Published years come from their frozen annual report, so a published year never changes.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from boardroom.models import Activity, AnnualReport, BoardSignal
from cases.models import (
    STANDARD_THEMES,
    Case,
    CaseType,
    Conversation,
    InternalRegistration,
    Outcome,
    Referral,
    Theme,
    TimeEntry,
)
from reports import frames as report_frames
from reports.frames import CaseFrames, Vocabulary
from reports.suppression import TOTAL, Publication
from tenants.models import ClientOrganisation

PUBLICATION_CACHE_SECONDS = 7 * 24 * 3600


def client_current() -> ClientOrganisation:
    """The client organisation whose schema the connection uses (`tenants.current` owns the
    rule); Http404 on the public schema."""
    from tenants.current import current_client_organisation

    return current_client_organisation()


def threshold_current() -> int:
    """The anonymity threshold k of the current client's firm (one query)."""
    client = client_current()
    return int(
        ClientOrganisation.objects.filter(pk=client.pk)
        .values_list("firm__anonymity_threshold", flat=True)
        .get()
    )


def vocabulary_current() -> Vocabulary:
    """The categories every table lists: all choices, and every theme in use or active."""
    # Every theme of the catalogue, hidden ones too: a row that appeared only while some case
    # had the theme would say "at least one" by being there.
    themes = list(Theme.objects.order_by("position", "code").values_list("code", flat=True))
    return Vocabulary(
        case_type=CaseType.values,
        reporter_role=Case.ReporterRole.values,
        accused_relation=Case.AccusedRelation.values,
        channel=Case.Channel.values,
        theme=themes,
        outcome=Outcome.values,
        referral_target=Referral.Target.values,
    )


def labels_current() -> dict[str, dict[str, str]]:
    """Category labels in the active language, per table key."""
    themes = {
        code: str(STANDARD_THEMES[code]) if standard and code in STANDARD_THEMES else name
        for code, name, standard in Theme.objects.values_list("code", "name", "is_standard")
    }
    by_type = {str(value): str(label) for value, label in CaseType.choices}
    return {
        "cases_by_type": by_type,
        "combined": by_type,
        "cases_by_role": {str(v): str(label) for v, label in Case.ReporterRole.choices},
        "cases_by_accused": {str(v): str(label) for v, label in Case.AccusedRelation.choices},
        "cases_by_channel": {str(v): str(label) for v, label in Case.Channel.choices},
        "themes": themes,
        "outcomes": {str(v): str(label) for v, label in Outcome.choices},
        "referrals": {str(v): str(label) for v, label in Referral.Target.choices},
        "conversations": {"conversations": _("Conversations")},
        "hours": {"minutes": _("Hours")},
    }


def case_frames(*, years: Iterable[int]) -> CaseFrames:
    """Return the categorical rows of the current client's cases touching these years (six
    queries; no encrypted column is read)."""
    years = sorted(set(years))
    if not years:
        return CaseFrames.empty()
    start = datetime.date(years[0], 1, 1)
    end = datetime.date(years[-1], 12, 31)
    case_rows = list(
        Case.objects.filter(
            Q(opened_on__range=(start, end)) | Q(closed_on__range=(start, end))
        ).values_list(
            "id",
            "opened_on",
            "closed_on",
            "case_type",
            "reporter_role",
            "accused_relation",
            "channel",
            "outcome",
        )
    )
    case_ids = [row[0] for row in case_rows]
    theme_rows = list(
        Case.themes.through.objects.filter(case_id__in=case_ids).values_list(
            "case_id", "theme__code"
        )
    )
    referral_rows = list(
        Referral.objects.filter(referred_on__range=(start, end)).values_list(
            "case_id", "referred_on", "target"
        )
    )
    minute_rows = list(
        TimeEntry.objects.filter(worked_on__range=(start, end)).values_list(
            "case_id", "worked_on", "minutes"
        )
    )
    conversation_rows = list(
        Conversation.objects.filter(held_on__range=(start, end)).values_list("case_id", "held_on")
    )
    internal_rows = list(
        InternalRegistration.objects.filter(month__range=(start, end)).values_list(
            "id", "month", "case_type"
        )
    )
    return CaseFrames(
        cases=report_frames.frame_from_rows("cases", case_rows),
        themes=report_frames.frame_from_rows("themes", theme_rows),
        referrals=report_frames.frame_from_rows("referrals", referral_rows),
        minutes=report_frames.frame_from_rows("minutes", minute_rows),
        conversations=report_frames.frame_from_rows("conversations", conversation_rows),
        internal=report_frames.frame_from_rows("internal", internal_rows),
    )


def data_version_current() -> str:
    """A short hash that changes whenever anything the figures count changes (one query):
    case rows (every change bumps their version), themes, referrals, time, conversations,
    internal registrations and published reports; and the themes themselves (the firm adds,
    renames and hides them: rows and labels of the tables)."""
    through = Case.themes.through._meta.db_table
    tables = {
        "themes": Theme._meta.db_table,
        "cases": Case._meta.db_table,
        "referrals": Referral._meta.db_table,
        "minutes": TimeEntry._meta.db_table,
        "conversations": Conversation._meta.db_table,
        "internal": InternalRegistration._meta.db_table,
        "reports": AnnualReport._meta.db_table,
    }
    sql = f"""
        SELECT
          (SELECT concat(count(*), ':', coalesce(sum(version), 0), ':', max(id))
             FROM {tables["cases"]}),
          (SELECT concat(count(*), ':', max(id)) FROM {through}),
          (SELECT concat(count(*), ':', max(id)) FROM {tables["referrals"]}),
          (SELECT concat(count(*), ':', max(id), ':', coalesce(sum(minutes), 0))
             FROM {tables["minutes"]}),
          (SELECT concat(count(*), ':', max(id)) FROM {tables["conversations"]}),
          (SELECT concat(count(*), ':', max(id)) FROM {tables["internal"]}),
          (SELECT concat(count(*), ':', max(published_at)) FROM {tables["reports"]}
             WHERE status = 'published'),
          (SELECT md5(string_agg(concat_ws(':', code, name, is_active, position), '|'
                                 ORDER BY code))
             FROM {tables["themes"]})
    """  # noqa: S608 — table names from the models, no input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return hashlib.sha256(repr(row).encode()).hexdigest()[:24]


def year_publications(
    years: Iterable[int], *, today: datetime.date | None = None
) -> dict[int, Publication]:
    """Return the released figures of each year (`reports.releases`): quarters that closed are
    released once (made here when due and not yet made) and never change; the running quarter
    is pending. A year whose annual report was published before releases existed keeps that
    report's frozen figures (and gets no releases: two versions of one year could be compared).
    """
    from django.utils import timezone

    from reports import releases
    from tenants.current import current_client_organisation

    years = sorted(set(years))
    today = today or timezone.localdate()
    result: dict[int, Publication] = {}
    for year, figures in AnnualReport.objects.filter(
        status=AnnualReport.Status.PUBLISHED, year__in=years
    ).values_list("year", "figures"):
        if figures and figures.get("source") != "releases":
            result[year] = Publication.from_json(figures["canonical"])
    rest = [year for year in years if year not in result]
    if rest:
        result.update(
            releases.client_publications(rest, client=current_client_organisation(), today=today)
        )
    return result


def shown_totals_current(today: datetime.date | None = None) -> list[int]:
    """Every total the current client's readers were shown in the released figures of this and
    last year (row and column totals of every table, every year to date), for the text check's
    percentage rule.
    Reads the releases that exist; checking a text never makes one."""
    from django.utils import timezone

    from reports.frames import YTD_SUFFIX
    from reports.models import FigureRelease
    from reports.releases import last_due_quarter
    from tenants.current import current_client

    due = last_due_quarter(today or timezone.localdate())
    newest: dict[int, Any] = {}
    for year, published in (
        FigureRelease.objects.filter(
            scope=FigureRelease.Scope.CLIENT,
            client_id=current_client().client_id,
            year__in=[due.year - 1, due.year],
        )
        .order_by("year", "quarter")
        .values_list("year", "published")
    ):
        newest[year] = published
    totals: set[int] = set()
    for published in newest.values():
        for key, table in Publication.from_json(published).tables.items():
            year_to_date = key.endswith(YTD_SUFFIX)  # every cell of it is a running total
            for (row, column), (value, status) in table._cells.items():  # type: ignore[attr-defined]
                if status == "shown" and (year_to_date or TOTAL in (row, column)):
                    totals.add(int(value))
    return sorted(totals)


def release_state_current(today: datetime.date | None = None) -> str:
    """A short key that changes when the current client's released figures can change: a new
    release, a new due quarter, a published report, the themes' names (labels). For caches."""
    from django.utils import timezone

    from reports import releases
    from reports.models import FigureRelease

    today = today or timezone.localdate()
    client = client_current()
    newest = (
        FigureRelease.objects.filter(client=client).order_by("-id").values_list("id", flat=True)
    ).first()
    sql = f"""
        SELECT
          (SELECT concat(count(*), ':', max(published_at)) FROM {AnnualReport._meta.db_table}
             WHERE status = 'published'),
          (SELECT md5(string_agg(concat_ws(':', code, name, is_active, position), '|'
                                 ORDER BY code))
             FROM {Theme._meta.db_table})
    """  # noqa: S608 — table names from the models, no input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    due = releases.last_due_quarter(today).label
    return hashlib.sha256(repr((client.pk, newest, due, row)).encode()).hexdigest()[:24]


# --- annual reports ----------------------------------------------------------------------------


def report_get(year: Any, *, published_only: bool) -> AnnualReport:
    """The annual report of `year`; Http404 when missing, or not published for `published_only`."""
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise Http404 from None
    reports = AnnualReport.objects.all()
    if published_only:
        reports = reports.filter(status=AnnualReport.Status.PUBLISHED)
    report = reports.filter(year=year).first()
    if report is None:
        raise Http404
    return report


def report_list(*, published_only: bool) -> list[AnnualReport]:
    reports = AnnualReport.objects.defer("html", "pdf", "draft_pdf", "figures")
    if published_only:
        reports = reports.filter(status=AnnualReport.Status.PUBLISHED)
    return list(reports.order_by("-year"))


def activities_of_year(year: int) -> list[Activity]:
    return list(Activity.objects.filter(held_on__year=year).order_by("held_on", "id"))


def sparring_counts_of_year(year: int) -> dict[str, int]:
    """Sparring threads with the internal advisers started in `year`, per case type (the
    anonymous counts the sparring app keeps; no thread content)."""
    from django.apps import apps
    from django.db.models import Count

    if not apps.is_installed("sparring"):
        return {}
    from sparring.models import SparringCount

    return dict(
        SparringCount.objects.filter(month__year=year)
        .values("case_type")
        .annotate(number=Count("pk"))
        .values_list("case_type", "number")
    )


# --- signals -----------------------------------------------------------------------------------


def signal_list(*, include_drafts: bool) -> list[BoardSignal]:
    signals = BoardSignal.objects.all()
    if not include_drafts:
        signals = signals.exclude(status=BoardSignal.Status.DRAFT)
    return list(signals.order_by("-sent_at", "-created_at", "-id"))


def signal_get(signal_id: Any, *, include_drafts: bool) -> BoardSignal:
    """One signal; Http404 when missing, or a draft for readers who may not see drafts."""
    try:
        signal_id = int(signal_id)
    except (TypeError, ValueError):
        raise Http404 from None
    signals = BoardSignal.objects.all()
    if not include_drafts:
        signals = signals.exclude(status=BoardSignal.Status.DRAFT)
    signal = signals.filter(pk=signal_id).first()
    if signal is None:
        raise Http404
    return signal


def signals_of_year(year: int) -> list[BoardSignal]:
    return list(
        BoardSignal.objects.exclude(status=BoardSignal.Status.DRAFT)
        .filter(sent_at__year=year)
        .order_by("sent_at", "id")
    )
