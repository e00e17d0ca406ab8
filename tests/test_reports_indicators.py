"""Indicators for the board: every figure rests on counts that passed the anonymity gate."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from cases import services
from cases.models import Case, Theme
from reports.indicators import YearIndicators
from reports.models import FigureRelease
from reports.periods import Quarter
from reports.releases import client_release_make, table_load
from reports.suppression import TOTAL, Publication
from tests.cast import fresh_client

TODAY = timezone.localdate()
YEAR = TODAY.year - 1  # a whole year, released in a client that is new (see `fresh`)
QUARTER_DAYS = [datetime.date(YEAR, month, 10) for month in (2, 5, 8, 11)]


@pytest.fixture
def fresh(cast):
    client = fresh_client(cast, since=datetime.date(YEAR, 1, 1))
    with tenant_context(client):
        yield SimpleNamespace(client=client, adviser_a=cast.adviser_a)


def _open(
    fresh,
    *,
    identity: str = "",
    conversation_after: int | None = None,
    number: int = 0,
    case_type: str = "undesirable_behaviour",
) -> Case:
    """A case of YEAR; `number` spreads cases over the quarters, two roles and two channels
    (so that the year's totals can be shown at all)."""
    opened = QUARTER_DAYS[number % 4]
    case = services.case_open(
        actor=fresh.adviser_a,
        case_type=case_type,
        themes=[Theme.objects.get(code="bullying")],
        reporter_role=("employee", "manager")[number // 4 % 2],
        accused_relation="colleague",
        channel=("phone", "email")[number // 8 % 2],
        opened_on=opened,
    )
    if identity:
        case.reporter_identity = identity
        case.save(update_fields=["reporter_identity"])
    if conversation_after is not None:
        services.conversation_add(
            actor=fresh.adviser_a,
            case=case,
            held_on=opened + datetime.timedelta(days=conversation_after),
            duration_minutes=60,
        )
    return case


def _released(fresh) -> tuple[YearIndicators, Publication]:
    """The year's indicators as its fourth-quarter release froze them, and that release."""
    assert not FigureRelease.objects.filter(client=fresh.client, year=YEAR).exists()
    cases = Case.objects.filter(opened_on__year=YEAR).count()
    release = client_release_make(client=fresh.client, quarter=Quarter(YEAR, 4), today=TODAY)
    assert release is not None
    # The release counted this test's cases (not an empty year released before them).
    counted = table_load("cases_by_type", release.truth["tables"]["cases_by_type"]).frame
    assert int(counted.to_numpy().sum()) == cases
    return YearIndicators(**release.truth["indicators"]), Publication.from_json(release.published)


def test_small_counts_hide_the_ratios_and_medians_built_on_them(fresh):
    for number in range(24):
        _open(fresh, identity="Naam bekend", number=number, conversation_after=number % 9)
    _open(fresh, number=3)  # one anonymous contact
    this, publication = _released(fresh)
    assert this.year == YEAR
    # The anonymous contact is below k, and so is every share that would give it away: with
    # the year's total known, "named" would be the total minus it.
    assert publication["ind_anonymous"].shown("anonymous", "year") is None
    assert this.anonymous_share is None
    assert this.median_days_to_closure is None  # nothing closed: 0 is below k
    assert this.acknowledged_in_time_share is None  # no integrity reports
    conversations = publication["ind_conversation"].shown("with_conversation", "year")
    assert (this.median_days_to_conversation is None) == (conversations is None)


def test_a_share_never_gives_away_the_small_rest(fresh):
    """27 anonymous contacts of 30 would be "90%": with the total shown, that says three gave
    their name. The rest is a cell of the proof like any other, so the share is hidden."""
    for number in range(27):
        _open(fresh, number=number)
    for number in range(3):
        _open(fresh, identity="Naam bekend", number=number)
    this, publication = _released(fresh)
    assert publication["ind_anonymous"].shown("named", "year") is None
    assert this.anonymous_share is None


def test_indicator_counts_are_released_with_the_year_and_tied_to_its_total(fresh):
    for number in range(48):
        _open(fresh, identity="Naam bekend" if number % 2 else "", number=number)
    this, publication = _released(fresh)
    # One number, one mark: the indicators' whole is the released case total (linked cells are
    # one variable of the proof), and every part table's whole is the count it is part of.
    assert publication["ind_anonymous"].cell(TOTAL, "year") == publication["cases_by_type"].cell(
        TOTAL, TOTAL
    )
    assert publication["ind_conversation"].cell(TOTAL, "year") == publication["ind_anonymous"].cell(
        TOTAL, "year"
    )
    assert publication["ind_mailbox"].cell(TOTAL, "year") == publication["ind_anonymous"].cell(
        "anonymous", "year"
    )
    assert publication["cases_by_type"].shown(TOTAL, TOTAL) == 48
    assert publication["ind_anonymous"].shown("anonymous", "year") == 24
    assert (this.contacts, this.contacts_per_100, this.anonymous_share) == (48, 11.4, 50.0)


def _through_mailbox(case: Case, number: int, *, came_back: bool) -> None:
    from intake.models import Contact

    Contact.objects.create(
        lookup_id=f"T{number:07d}",
        key_hash="not-a-key",
        submission_digest=f"{number:064d}",
        kind="message",
        anonymous=True,
        submitted_at=timezone.now(),
        came_back=came_back,
        case=case,
    )


def _mailbox_year(fresh, *, came_back: int) -> None:
    for number in range(10):
        _through_mailbox(_open(fresh, number=number), number, came_back=number < came_back)
    for number in range(6):
        _open(fresh, number=number)  # anonymous by phone: no mailbox, so not in the share
    for number in range(16):
        named = _open(fresh, identity="Naam bekend", number=number)
    _through_mailbox(named, 99, came_back=True)  # not anonymous: not counted


def test_share_of_anonymous_reporters_who_came_back_rests_on_shown_counts(fresh):
    _mailbox_year(fresh, came_back=5)
    this, publication = _released(fresh)
    assert publication["ind_mailbox"].shown("in_mailbox", "year") == 10
    assert publication["ind_came_back"].shown("came_back", "year") == 5
    assert this.came_back_share == 50.0
    assert this.anonymous_share == 50.0


def test_a_came_back_count_below_k_hides_its_share(fresh):
    _mailbox_year(fresh, came_back=4)
    this, publication = _released(fresh)
    assert publication["ind_came_back"].shown("came_back", "year") is None
    assert this.came_back_share is None
