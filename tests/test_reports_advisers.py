"""The annual report lists the client's advisers and their training as of its date, without
names when the client asked for none; published reports keep what was true then."""

from __future__ import annotations

import datetime

from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from boardroom import services as board_services
from boardroom.annual import content_build, figures_build, html_render
from boardroom.models import AnnualReport
from credentials import services
from tenants.models import ClientOrganisation
from tenants.services import client_update

TODAY = timezone.localdate()
YEAR = TODAY.year


def _training(cast, user, hours: str, kind: str, days_ago: int = 30) -> None:
    services.training_add(
        actor=cast.admin_a,
        firm=cast.acme,
        user=user,
        done_on=TODAY - datetime.timedelta(days=days_ago),
        hours=hours,
        kind=kind,
        title="Scholing",
    )


def _row(figures, role: str, name: str | None = None) -> dict:
    rows = [row for row in figures["advisers"] if row["role"] == role]
    return next(row for row in rows if name is None or row["name"] == name)


def test_advisers_and_their_training_as_of_the_report_date(cast):
    certified = TODAY - datetime.timedelta(days=400)
    services.credential_set(
        actor=cast.admin_a,
        firm=cast.acme,
        user=cast.adviser_a,
        certification="LVV",
        certified_on=certified,
    )
    _training(cast, cast.adviser_a, "10", "course")
    _training(cast, cast.adviser_a, "8", "intervision")
    _training(cast, cast.adviser_a, "5", "course", days_ago=500)  # before the certificate
    _training(cast, cast.internal_a1, "12.5", "course")
    with tenant_context(cast.a1):
        figures = figures_build(YEAR)
    assert figures["advisers_on"] == TODAY.isoformat()
    adviser = _row(figures, "external", cast.adviser_a.get_full_name())
    assert adviser == {
        "role": "external",
        "name": cast.adviser_a.get_full_name(),
        "certification": "LVV",
        "certified_on": certified.isoformat(),
        "valid": True,
        "expires_on": certified.replace(year=certified.year + 4).isoformat(),
        "hours": {"course": "10", "intervision": "8", "other": "0"},
        "total": "18",
    }
    internal = _row(figures, "internal")
    assert internal["name"] == cast.internal_a1.get_full_name()
    assert (internal["total"], internal["appointed_on"]) == ("12.5", None)
    assert {row["name"] for row in figures["advisers"]} >= {
        cast.adviser_a.get_full_name(),
        cast.internal_a1.get_full_name(),
    }
    assert cast.adviser_b.get_full_name() not in {row["name"] for row in figures["advisers"]}


def test_no_names_when_the_client_asked_for_none(cast):
    client_update(actor=cast.admin_a, client=cast.a1, advisers_named_in_report=False)
    assert ClientOrganisation.objects.get(pk=cast.a1.pk).advisers_named_in_report is False
    with tenant_context(cast.a1):
        figures = figures_build(YEAR)
        assert figures["advisers"] and all(row["name"] is None for row in figures["advisers"])
        report = AnnualReport(year=YEAR, narrative="", recommendations="")
        with translation.override("nl"):
            html = html_render(
                content_build(report, figures=figures), status="draft", published_on=None
            )
    assert "De vertrouwenspersonen en hun opleiding" in html
    assert "Vertrouwenspersoon 1" in html
    for user in (cast.adviser_a, cast.adviser_a_backup, cast.internal_a1):
        assert user.get_full_name() not in html


def test_a_published_report_keeps_its_advisers_list(cast):
    with tenant_context(cast.a1):
        report = board_services.report_draft_create(actor=cast.adviser_a, year=YEAR)
        board_services.report_submit(actor=cast.adviser_a, report=report)
        board_services.report_publish(
            actor=cast.admin_a, report=report, publish_empty_sections=True
        )
        frozen = AnnualReport.objects.get(year=YEAR).figures["advisers"]
    _training(cast, cast.internal_a1, "30", "course", days_ago=1)
    with tenant_context(cast.a1):
        assert AnnualReport.objects.get(year=YEAR).figures["advisers"] == frozen
        assert figures_build(YEAR)["advisers"] != frozen  # the live draft would differ
