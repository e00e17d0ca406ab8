"""Indicators for the board: every figure rests on counts that passed the anonymity gate."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tenants.utils import tenant_context

from cases import services
from cases.models import Case, Theme
from reports.indicators import indicators_for

TODAY = timezone.localdate()
OPENED = TODAY - datetime.timedelta(days=10)
YEAR = OPENED.year


def _open(cast, *, identity: str = "", conversation_after: int | None = None) -> Case:
    case = services.case_open(
        actor=cast.adviser_a,
        case_type="undesirable_behaviour",
        themes=[Theme.objects.get(code="bullying")],
        reporter_role="employee",
        accused_relation="colleague",
        channel="phone",
        opened_on=OPENED,
    )
    if identity:
        case.reporter_identity = identity
        case.save(update_fields=["reporter_identity"])
    if conversation_after is not None:
        services.conversation_add(
            actor=cast.adviser_a,
            case=case,
            held_on=OPENED + datetime.timedelta(days=conversation_after),
            duration_minutes=60,
        )
    return case


def test_small_counts_hide_the_ratios_and_medians_built_on_them(cast):
    with tenant_context(cast.a1):
        Case.objects.all().delete()
        for days in (1, 2, 3, 4, 9):
            _open(cast, identity="Naam bekend", conversation_after=days)
        _open(cast)  # one anonymous contact
        (before, this), publication = indicators_for(
            years=[YEAR - 1, YEAR], k=5, employee_count=400
        )
    assert publication["indicators"].shown("contacts", f"y{YEAR}") == 6
    assert (this.contacts, this.contacts_per_100) == (6, 1.5)
    assert this.anonymous_share is None  # 1 anonymous contact: below k, so no share either
    assert this.median_days_to_conversation == 3.0  # five conversations: shown
    assert this.median_days_to_closure is None  # nothing closed
    assert this.acknowledged_in_time_share is None
    assert (before.contacts, before.contacts_per_100, before.anonymous_share) == (None, None, None)


def test_shares_appear_once_the_counts_behind_them_are_shown(cast):
    with tenant_context(cast.a1):
        Case.objects.all().delete()
        for _number in range(5):
            _open(cast, identity="Naam bekend")
        for _number in range(5):
            _open(cast)
        (this,), _publication = indicators_for(years=[YEAR], k=5, employee_count=200)
    assert (this.contacts, this.contacts_per_100, this.anonymous_share) == (10, 5.0, 50.0)
    assert this.median_days_to_conversation is None  # no conversations: count 0 < k


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


def test_share_of_anonymous_reporters_who_came_back_rests_on_shown_counts(cast):
    with tenant_context(cast.a1):
        Case.objects.all().delete()
        for number in range(10):
            _through_mailbox(_open(cast), number, came_back=number < 5)
        for _number in range(3):
            _open(cast)  # anonymous by phone: no mailbox, so not in the share at all
        named = _open(cast, identity="Naam bekend")
        _through_mailbox(named, 99, came_back=True)  # not anonymous: not counted
        (this,), publication = indicators_for(years=[YEAR], k=5, employee_count=200)
        assert publication["indicators"].shown("anonymous_in_mailbox", f"y{YEAR}") == 10
        assert this.came_back_share == 50.0
        assert this.anonymous_share == round(100 * 13 / 14, 1)
        # One fewer came back: four is below k, so the share built on it is hidden too.
        from intake.models import Contact

        Contact.objects.filter(lookup_id="T0000000").update(came_back=False)
        (this,), publication = indicators_for(years=[YEAR], k=5, employee_count=200)
        assert publication["indicators"].shown("anonymous_came_back", f"y{YEAR}") is None
        assert this.came_back_share is None
