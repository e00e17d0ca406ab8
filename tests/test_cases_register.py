"""The register of reports of wrongdoing: integrity cases with a report date, their deadlines."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import services
from cases.models import Case, Theme
from tests.cast import sign_in

TODAY = timezone.localdate()


def _case(cast, *, case_type: str = "integrity", opened_days_ago: int = 120) -> Case:
    case = services.case_open(
        actor=cast.adviser_a,
        case_type=case_type,
        themes=[Theme.objects.get(code="integrity")],
        reporter_role="employee",
        accused_relation="manager",
        channel="phone",
        opened_on=TODAY - datetime.timedelta(days=opened_days_ago),
    )
    case.reporter_identity = "Jansen, afdeling inkoop"
    case.save(update_fields=["reporter_identity"])
    return case


def _report(cast, case: Case, **dates: datetime.date) -> Case:
    case.refresh_from_db()
    return services.case_update(
        actor=cast.adviser_a, case=case, expected_version=case.version, **dates
    )


def test_the_register_lists_reports_with_their_deadlines_and_nothing_identifying(cast, client_for):
    with tenant_context(cast.a1):
        answered = _report(
            cast,
            _case(cast),
            report_received_on=TODAY - datetime.timedelta(days=100),
            acknowledged_on=TODAY - datetime.timedelta(days=97),
            feedback_given_on=TODAY - datetime.timedelta(days=10),
        )
        late = _report(
            cast,
            _case(cast, opened_days_ago=30),
            report_received_on=TODAY - datetime.timedelta(days=20),
        )
        slow = _report(
            cast,
            _case(cast),
            report_received_on=TODAY - datetime.timedelta(days=40),
            acknowledged_on=TODAY - datetime.timedelta(days=30),
        )
        unreported = _case(cast)  # an integrity case without a report: not in the register
        other = _case(cast, case_type="undesirable_behaviour")
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    page = adviser.get("/cases/register/")
    body = page.content.decode()
    assert page.status_code == 200
    assert answered.reference in body and late.reference in body
    assert unreported.reference not in body and other.reference not in body
    assert "Jansen" not in body  # the register holds references and dates only
    assert answered.reference in body and slow.reference in body
    assert "op tijd" in body  # acknowledged after 3 days, feedback given before 3 months
    assert "te laat" in body  # acknowledged after 10 days
    assert "verlopen" in body  # 20 days without an acknowledgement
    assert "1 melding heeft een termijn" in body
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]


def test_the_export_is_csv_of_references_and_dates_and_is_logged(cast, client_for):
    with tenant_context(cast.a1):
        case = _report(cast, _case(cast), report_received_on=TODAY - datetime.timedelta(days=3))
        before = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).count()
    adviser = client_for(cast.a1)
    sign_in(adviser, cast.adviser_a)
    response = adviser.get("/cases/register/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("reference,received_on,acknowledgement_due")
    received = (TODAY - datetime.timedelta(days=3)).isoformat()
    assert any(line.startswith(f"{case.reference},{received},") for line in lines[1:])
    with tenant_context(cast.a1):
        rows = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT)
        assert rows.count() == before + 1
        assert rows.order_by("-id").first().note == "reports_exported"


def test_only_the_clients_advisers_read_the_register(cast, client_for):
    for user in (cast.contact_a1, cast.internal_a1, cast.admin_a):
        visitor = client_for(cast.a1)
        sign_in(visitor, user)
        assert visitor.get("/cases/register/").status_code in (403, 404)
        assert visitor.get("/cases/register/export.csv").status_code in (403, 404)
    stranger = client_for(cast.a2)
    sign_in(stranger, cast.adviser_a)  # assigned to a1, not to a2
    assert stranger.get("/cases/register/").status_code in (403, 404)
