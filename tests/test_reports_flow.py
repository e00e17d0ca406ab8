"""Dashboards, exports, the portfolio and rollups, against real schemas and the cast.

Cases are registered through `cases.services` in client a1 (firm acme, k = 5), then read the
way each role reads them. Every number that leaves is checked against the threshold.
"""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from cases import services as case_services
from cases.models import Theme
from reports.models import CaseRollup, Dimension, ReportBatch, RollupState
from reports.periods import Quarter, period_parse
from reports.rollups import rollup_rebuild_current
from tests.cast import sign_in

TODAY = timezone.localdate()
THIS_QUARTER = Quarter.of(TODAY)
LAST_QUARTER = THIS_QUARTER.shifted(-1)


def register(cast, *, count: int, on: datetime.date, theme: str = "work_pressure", **fields):
    """Register `count` cases in the current schema through the case services."""
    values = {
        "case_type": "undesirable_behaviour",
        "reporter_role": "employee",
        "accused_relation": "manager",
        "channel": "phone",
    }
    values.update(fields)
    return [
        case_services.case_open(
            actor=cast.adviser_a, themes=[Theme.objects.get(code=theme)], opened_on=on, **values
        )
        for _ in range(count)
    ]


@pytest.fixture
def seeded(cast):
    """In a1, last quarter: 12 cases by phone (work pressure), 2 integrity cases by e-mail
    (bullying, one closed), 1 by video (conflict); 90 minutes on one case."""
    with tenant_context(cast.a1):
        day = LAST_QUARTER.starts_on + datetime.timedelta(days=3)
        phone = register(cast, count=12, on=day)
        email = register(
            cast,
            count=2,
            on=day,
            theme="bullying",
            channel="email",
            case_type="integrity",
            reporter_role="manager",
            accused_relation="colleague",
        )
        register(
            cast,
            count=1,
            on=day,
            theme="conflict",
            channel="video",
            reporter_role="manager",
            accused_relation="colleague",
        )
        case_services.case_close(
            actor=cast.adviser_a,
            case=email[0],
            outcome="resolved_informally",
            expected_version=email[0].version,
            closed_on=day,
        )
        case_services.time_entry_add(actor=cast.adviser_a, case=phone[0], worked_on=day, minutes=90)
    return cast


YEAR_START = Quarter(LAST_QUARTER.year, 1)


def _period_query() -> str:
    """The dashboard's default period: the released year to date (one released cell per row)."""
    return f"from={YEAR_START.label}&to={LAST_QUARTER.label}"


def _cells(table: dict):
    for i, row in enumerate(table["rows"]):
        for j, column in enumerate(table["columns"]):
            yield row, column, table["values"][i][j], table["status"][i][j], table["text"][i][j]


def test_contact_person_sees_suppressed_figures_only(seeded, client_for):
    http = client_for(seeded.a1)
    sign_in(http, seeded.contact_a1)
    page = http.get(f"/board/?{_period_query()}")
    assert page.status_code == 200
    body = page.content.decode()
    # Charts are inline SVG drawn on the server: no chart library, no script, nothing foreign.
    drawn = body.count('<svg xmlns="http://www.w3.org/2000/svg"')
    assert drawn >= 1
    assert drawn + body.count('class="chart-empty"') == body.count('aria-labelledby="chart-')
    assert "plotly" not in body and "cdn." not in body.lower()
    assert body.count("<script") == body.count('<script src="/static/')  # no inline script
    data = http.get(f"/board/data.json?{_period_query()}").json()
    assert data["k"] == 5
    with tenant_context(seeded.a1):
        from cases.models import Case

        in_quarter = Case.objects.filter(
            opened_on__range=(YEAR_START.starts_on, LAST_QUARTER.ends_on)
        )
        truth = {
            "cases_by_channel": {
                channel: in_quarter.filter(channel=channel).count()
                for channel in Case.Channel.values
            },
            "cases_by_type": {
                case_type: in_quarter.filter(case_type=case_type).count()
                for case_type in ("undesirable_behaviour", "integrity", "outside_remit")
            },
        }
    assert truth["cases_by_channel"]["email"] == 2
    shown_anywhere = 0
    for key, table in data["tables"].items():
        for row, column, value, status, text in _cells(table):
            if status == "shown":
                shown_anywhere += 1
                if table["kind"] == "count":
                    assert value >= 5, (key, row, column, value)
                if key in truth and column == "period" and row != "total":
                    assert value == truth[key][row]
            else:
                assert value is None and text in {"< 5", "x", "*"}
    assert shown_anywhere > 0
    channel = data["tables"]["cases_by_channel"]
    period = channel["columns"].index("period")
    # 15 cases this quarter, 12 by phone: the quarter's total is shown; phone is shown as 12
    # or hidden as a complement ("x"), never as anything else.
    assert channel["values"][channel["rows"].index("total")][period] == 15
    assert channel["text"][channel["rows"].index("phone")][period] in {"12", "x"}
    email = channel["rows"].index("email")
    assert channel["text"][email][period] == "< 5"
    # 90 minutes on a single case: hidden (fewer than k cases behind it).
    hours = data["tables"]["hours"]
    assert hours["values"][0][hours["columns"].index("period")] is None


def test_a_longer_period_shows_a_sum_only_when_every_quarter_in_it_is_shown(seeded, client_for):
    """A figure for two quarters is the sum of the two published quarter cells, shown only
    when both are: otherwise it and one of them would give the other away."""
    http = client_for(seeded.a1)
    sign_in(http, seeded.contact_a1)
    one = {}
    for quarter in (LAST_QUARTER, THIS_QUARTER):
        query = f"from={quarter.label}&to={quarter.label}"
        one[quarter] = http.get(f"/board/data.json?{query}").json()["tables"]
    query = f"from={LAST_QUARTER.label}&to={THIS_QUARTER.label}"
    both = http.get(f"/board/data.json?{query}").json()["tables"]
    for key in ("cases_by_channel", "cases_by_type", "themes"):
        for row, column, value, _status, _text in _cells(both[key]):
            if column != "period":
                continue
            parts = [
                one[quarter][key]["values"][one[quarter][key]["rows"].index(row)][0]
                for quarter in (LAST_QUARTER, THIS_QUARTER)
            ]
            if None in parts:
                assert value is None
            else:
                assert value == sum(parts)


def test_downloads_carry_the_same_suppressed_cells(seeded, client_for):
    http = client_for(seeded.a1)
    sign_in(http, seeded.contact_a1)
    data = http.get(f"/board/data.json?{_period_query()}").json()["tables"]["cases_by_channel"]
    csv = http.get(f"/board/download/?table=cases_by_channel&fmt=csv&{_period_query()}")
    assert csv.status_code == 200
    assert csv["Content-Disposition"].startswith('attachment; filename="cases_by_channel-')
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert [line.split(",")[1:] for line in lines[1 : 1 + len(data["rows"])]] == data["text"]
    xlsx = http.get(f"/board/download/?table=cases_by_channel&fmt=xlsx&{_period_query()}")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [
        [cell.value for cell in row[1:]]
        for row in sheet.iter_rows(min_row=3, max_row=2 + len(data["rows"]))
    ]
    expected = [
        [
            value if status == "shown" else text
            for value, status, text in zip(values, statuses, texts, strict=True)
        ]
        for values, statuses, texts in zip(
            data["values"], data["status"], data["text"], strict=True
        )
    ]
    assert cells == expected
    assert http.get("/board/download/?table=nonsense&fmt=csv").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-Q3&to=2026-Q1", "ends before it starts"),
        ("from=2000-Q1&to=2019-Q4", "at most 10 years"),
        ("from=2026-Q5&to=2026-Q1", "such as 2025-Q3"),
        ("from=2026-Q1", "both the first and the last"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_error(cast, client_for, query, message):
    http = client_for(cast.a1)
    sign_in(http, cast.contact_a1)
    http.cookies["django_language"] = "en"
    page = http.get(f"/board/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert message in page.content.decode()
    data = http.get(f"/board/data.json?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert data.status_code == 400 and message in json.dumps(data.json())


def test_rollups_count_per_month_without_anything_about_a_person(seeded):
    with tenant_context(seeded.a1):
        rows = rollup_rebuild_current()
    month = LAST_QUARTER.starts_on
    counts = dict(
        CaseRollup.objects.filter(client=seeded.a1, month=month)
        .values_list("dimension", "count")
        .filter(value__in=["", "phone"])
    )
    assert counts[Dimension.CASES] >= 9  # the cast's own case may share the month
    assert (
        CaseRollup.objects.get(
            client=seeded.a1, month=month, dimension=Dimension.CHANNEL, value="email"
        ).count
        == 2
    )
    assert (
        CaseRollup.objects.get(client=seeded.a1, month=month, dimension=Dimension.MINUTES).count
        == 90
    )
    assert RollupState.objects.get(client=seeded.a1).rows == rows
    columns = {field.name for field in CaseRollup._meta.get_fields()}
    assert columns == {"id", "client", "month", "dimension", "value", "count"}


def test_a_case_change_requests_one_debounced_rollup(cast, django_capture_on_commit_callbacks):
    with tenant_context(cast.a1):
        before = CaseRollup.objects.filter(client=cast.a1).count()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            register(cast, count=1, on=TODAY, theme="conflict")
        # Saving the case, its themes and its version: one rebuild, not one per write.
        assert len(callbacks) == 1
    assert CaseRollup.objects.filter(
        client=cast.a1, dimension=Dimension.THEME, value="conflict"
    ).exists()
    assert CaseRollup.objects.filter(client=cast.a1).count() > before


def test_nightly_rollup_rebuilds_every_active_client(cast):
    from reports.tasks import rollup_nightly

    RollupState.objects.all().delete()
    assert rollup_nightly() == 3
    assert set(RollupState.objects.values_list("client__slug", flat=True)) == {"a1", "a2", "b1"}


def test_portfolio_reads_rollups_not_client_schemas(seeded, console):
    with tenant_context(seeded.a1):
        rollup_rebuild_current()
    sign_in(console, seeded.admin_a)
    with CaptureQueriesContext(connection) as queries:
        page = console.get(f"/console/portfolio/?{_period_query()}")
    assert page.status_code == 200
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert seeded.a1.schema_name not in sql and "cases_case" not in sql
    body = page.content.decode()
    assert "Zorggroep Noord" in body and "Gemeente Zuid" in body
    assert "Bouwbedrijf West" not in body  # another firm's client
    csv = console.get(f"/console/portfolio/download/?table=per_client&fmt=csv&{_period_query()}")
    assert csv.status_code == 200 and "Zorggroep Noord" in csv.content.decode("utf-8-sig")


def test_a_repeated_portfolio_view_reads_the_sums_from_cache_until_rollups_change(seeded, console):
    from reports.portfolio import _summed
    from tenants.models import ClientOrganisation

    with tenant_context(seeded.a1):
        rollup_rebuild_current()
    period = period_parse(LAST_QUARTER.label, LAST_QUARTER.label, today=TODAY)
    clients = ClientOrganisation.objects.filter(firm=seeded.acme, status="active")

    def a1_opened() -> int:
        sums, _open, _minutes = _summed(
            firm=seeded.acme,
            clients=sorted(clients.values_list("pk", flat=True)),
            chosen=clients.values("pk"),
            period=period,
        )
        return sum(n for client, _recent, n in sums.per_client if client == seeded.a1.pk)

    assert a1_opened() == 15
    with CaptureQueriesContext(connection) as queries:
        assert a1_opened() == 15
    assert not any("reports_caserollup" in query["sql"] for query in queries.captured_queries)
    sign_in(console, seeded.admin_a)
    assert console.get(f"/console/portfolio/?{_period_query()}").status_code == 200
    with tenant_context(seeded.a1):
        register(seeded, count=3, on=LAST_QUARTER.starts_on + datetime.timedelta(days=5))
        rollup_rebuild_current()  # what the debounced hook runs after commit
    assert a1_opened() == 18


def test_downloads_never_start_a_cell_with_a_formula(cast, console):
    from tenants.models import ClientOrganisation

    ClientOrganisation.objects.filter(pk=cast.a1.pk).update(name='=HYPERLINK("http://x")')
    sign_in(console, cast.admin_a)
    text = console.get("/console/portfolio/download/?table=per_client&fmt=csv").content
    lines = text.decode("utf-8-sig").splitlines()
    assert any(line.startswith("\"'=HYPERLINK(") for line in lines)
    assert not any(line.startswith("=") or line.startswith('"=') for line in lines)


def test_portfolio_and_my_clients_are_for_their_roles(cast, console):
    sign_in(console, cast.adviser_a)
    assert console.get("/console/portfolio/").status_code == 404
    assert console.get("/console/my-clients/").status_code == 200
    sign_in(console, cast.admin_a)
    assert console.get("/console/my-clients/").status_code == 404


def test_my_clients_refuses_unknown_and_foreign_client_ids_alike(cast, console):
    sign_in(console, cast.adviser_a)
    http_ok = console.get(f"/console/my-clients/?clients={cast.a1.pk}")
    assert http_ok.status_code == 200 and "Zorggroep Noord" in http_ok.content.decode()
    for bad in (str(cast.a2.pk), str(cast.b1.pk), "999999", "abc"):
        response = console.get(f"/console/my-clients/?clients={bad}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400


def test_batch_drafts_every_client_and_reports_progress(
    cast, console, django_capture_on_commit_callbacks
):
    sign_in(console, cast.admin_a)
    year = TODAY.year - 4
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/console/annual-reports/", {"year": year})
    assert response.status_code == 302
    batch = ReportBatch.objects.get(firm=cast.acme, year=year)
    assert (batch.status, batch.total, batch.done, batch.failed) == ("done", 2, 2, 0)
    for client in (cast.a1, cast.a2):
        with tenant_context(client):
            from boardroom.models import AnnualReport

            report = AnnualReport.objects.get(year=year)
            assert report.status == "draft" and report.draft_pdf and report.draft_rendered_at
    status = console.get(f"/console/annual-reports/batches/{batch.pk}/").json()
    assert status["status"] == "done" and status["percent"] == 100
    other = ReportBatch.objects.filter(firm=cast.bravo).first()
    assert console.get(f"/console/annual-reports/batches/{other.pk}/").status_code == 404


@pytest.mark.parametrize("year", ["1999", str(TODAY.year + 1), "abc"])
def test_batch_refuses_bad_years_and_queues_nothing(cast, console, year):
    sign_in(console, cast.admin_a)
    before = ReportBatch.objects.count()
    response = console.post("/console/annual-reports/", {"year": year})
    assert response.status_code == 400
    assert ReportBatch.objects.count() == before


def test_batch_message_matches_its_progress_and_the_status_label_follows(
    cast, console, django_capture_on_commit_callbacks
):
    """ "Are being made" stood next to "6 of 6 done"; the label stayed "running"."""
    sign_in(console, cast.admin_a)
    console.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    year = TODAY.year - 5
    with django_capture_on_commit_callbacks(execute=True):
        page = console.post("/console/annual-reports/", {"year": year}, follow=True)
    body = page.content.decode()
    assert f"Drafting the annual reports of {year} has started; see the progress." in body
    assert "data-busy-label=" in body and "js/forms.js" in body
    batch = ReportBatch.objects.get(firm=cast.acme, year=year)
    status = console.get(f"/console/annual-reports/batches/{batch.pk}/").json()
    assert (status["label"], status["text"]) == ("Done", "2 of 2 drafted")


def test_a_double_submitted_batch_starts_once_and_is_not_refused(
    cast, console, django_capture_on_commit_callbacks
):
    """Pressing "Draft them all" twice made a second batch or said "being drafted already"."""
    sign_in(console, cast.admin_a)
    year = TODAY.year - 6
    page = console.get("/console/annual-reports/")
    key = str(page.context["submission_key"])
    assert f'name="submission_key" value="{key}"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        first = console.post("/console/annual-reports/", {"year": year, "submission_key": key})
        second = console.post("/console/annual-reports/", {"year": year, "submission_key": key})
    assert (first.status_code, second.status_code) == (302, 302)
    assert ReportBatch.objects.filter(firm=cast.acme, year=year).count() == 1
    damaged = console.post("/console/annual-reports/", {"year": year, "submission_key": "x"})
    assert damaged.status_code == 400
    assert ReportBatch.objects.filter(firm=cast.acme, year=year).count() == 1
