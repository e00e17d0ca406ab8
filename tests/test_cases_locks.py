"""Case services lock the case and check its state on the locked row; they request the rollup
rebuild themselves, once, when they change a counted fact (no model signals).

The rollups (`reports.CaseRollup`) no longer feed the portfolio, which reads releases (made from
the case tables, so they need no rebuild); the count below still holds every service to its
one explicit request, and goes with the rollups when they are removed (docs/architecture.md)."""

from __future__ import annotations

import datetime
import inspect
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from cases import services
from cases.models import Case, Conversation, Note, Theme
from cases.services import _common
from tenants.models import ClientOrganisation
from tests.live import create_firm, remove_firm
from tests.locks import waits_for_lock

TODAY = timezone.localdate()
ERASED = "This case was erased; nothing can be added to it."
CLOSED = "This case is closed; nothing can be added to it."


def _open(actor) -> Case:
    return services.case_open(
        actor=actor,
        case_type="undesirable_behaviour",
        themes=[Theme.objects.filter(is_active=True).order_by("pk").first()],
        reporter_role="employee",
        accused_relation="manager",
        channel="phone",
        opened_on=TODAY - datetime.timedelta(days=10),
    )


# Every service that adds to a case, called with a (stale) copy of the case.
ADDERS: dict[str, Callable[[Any, Case], Any]] = {
    "note_add": lambda actor, case: services.note_add(
        actor=actor, case=case, text="Naam melder: J. Jansen"
    ),
    "conversation_add": lambda actor, case: services.conversation_add(
        actor=actor, case=case, held_on=TODAY, duration_minutes=30, summary="Gesprek"
    ),
    "consent_record": lambda actor, case: services.consent_record(
        actor=actor, case=case, scope="talk_to_hr", given_on=TODAY
    ),
    "step_add": lambda actor, case: services.step_add(actor=actor, case=case, description="Bel"),
    "followup_add": lambda actor, case: services.followup_add(
        actor=actor, case=case, due_on=TODAY + datetime.timedelta(days=7)
    ),
    "time_entry_add": lambda actor, case: services.time_entry_add(
        actor=actor, case=case, worked_on=TODAY, minutes=15
    ),
    "conversation_plan": lambda actor, case: services.conversation_plan(
        actor=actor, case=case, on=TODAY + datetime.timedelta(days=3)
    ),
    "case_move_phase": lambda actor, case: services.case_move_phase(
        actor=actor, case=case, phase="advice", expected_version=case.version
    ),
}
# What a closed (not erased) case still takes: time and notes after closing.
ALLOWED_WHEN_CLOSED = {"note_add", "time_entry_add"}


@pytest.fixture
def a1(cast):
    with tenant_context(cast.a1), translation.override("en"):
        yield cast


def _content(case: Case) -> tuple[int, ...]:
    from cases.models import ConsentRecord, FollowUp, Step, TimeEntry

    counts = [
        model.objects.filter(case_id=case.pk).count()
        for model in (Note, Conversation, ConsentRecord, Step, FollowUp, TimeEntry)
    ]
    return (*counts, Case.objects.get(pk=case.pk).version)


@pytest.mark.parametrize("name", sorted(ADDERS))
def test_a_stale_copy_adds_nothing_to_an_erased_case(a1, name):
    case = _open(a1.adviser_a)
    stale = Case.objects.get(pk=case.pk)  # the page was loaded before the erasure
    services.case_erase(actor=a1.adviser_a, case=case)
    before = _content(case)
    with pytest.raises(ValidationError) as error:
        ADDERS[name](a1.adviser_a, stale)
    assert error.value.messages == [ERASED]
    assert _content(case) == before


@pytest.mark.parametrize("name", sorted(ADDERS))
def test_a_stale_copy_adds_to_a_closed_case_only_what_closing_allows(a1, name):
    case = _open(a1.adviser_a)
    stale = Case.objects.get(pk=case.pk)
    services.case_close(
        actor=a1.adviser_a, case=case, outcome="resolved_informally", expected_version=case.version
    )
    before = _content(case)
    if name in ALLOWED_WHEN_CLOSED:
        ADDERS[name](a1.adviser_a, stale)
        assert _content(case) != before
        return
    with pytest.raises(ValidationError) as error:
        ADDERS[name](a1.adviser_a, stale)
    assert error.value.messages == [CLOSED]
    assert _content(case) == before


def test_a_stale_copy_cannot_edit_an_erased_case_nor_close_it_twice(a1):
    case = _open(a1.adviser_a)
    stale = Case.objects.get(pk=case.pk)
    services.case_close(
        actor=a1.adviser_a, case=case, outcome="resolved_informally", expected_version=case.version
    )
    with pytest.raises(ValidationError) as error:
        services.case_close(
            actor=a1.adviser_a, case=stale, outcome="referred", expected_version=stale.version
        )
    assert error.value.messages == [CLOSED]
    services.case_erase(actor=a1.adviser_a, case=stale)
    with pytest.raises(ValidationError) as error:
        services.case_update(
            actor=a1.adviser_a,
            case=stale,
            expected_version=stale.version,
            reporter_identity="J. Jansen",
        )
    assert error.value.messages == ["This case was erased; its details can no longer be changed."]
    with pytest.raises(ValidationError) as error:
        services.case_handover(actor=a1.admin_a, case=stale, to_adviser=a1.adviser_a_backup)
    assert error.value.messages == [ERASED]
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.outcome, fresh.reporter_identity, fresh.adviser_id) == (
        "resolved_informally",
        "",
        a1.adviser_a.pk,
    )


def test_the_guard_refuses_to_run_outside_a_transaction(a1):
    case = _open(a1.adviser_a)
    # pytest-django wraps each test in a transaction; leave it for this one call.
    connection.in_atomic_block, was = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="inside the service's transaction"):
            services.case_for_change(case)
    finally:
        connection.in_atomic_block = was


# --- two sessions ------------------------------------------------------------------------------


def _race(
    client, first: Callable[[], Any], second: Callable[[], Any]
) -> tuple[bool, dict[str, Any]]:
    """Run `first` in a transaction that stays open until `second` (in another session, same
    client schema) waits for its lock; then commit `first` and let `second` go on."""
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}
    second_pid: list[int] = []

    def run_first() -> None:
        try:
            with tenant_context(client), transaction.atomic():
                outcomes["first"] = first()
                holding.set()
                release.wait(timeout=30)
        except Exception as error:
            outcomes["first"] = error
            holding.set()
        finally:
            connection.close()

    def run_second() -> None:
        try:
            translation.activate("en")
            connection.ensure_connection()
            second_pid.append(connection.connection.info.backend_pid)
            holding.wait(timeout=30)
            with tenant_context(client):
                outcomes["second"] = second()
        except Exception as error:
            outcomes["second"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    try:
        waiting = waits_for_lock(second_pid)
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=60)
    return waiting, outcomes


def test_a_note_waits_for_an_erasure_in_flight_and_is_refused(committed_db):
    live = create_firm(
        clients={"c": "Slot Zorg"},
        users={"adviser": ("adviser", None)},
        assignments={"adviser": ["c"]},
    )
    try:
        client, adviser = live.clients["c"], live.users["adviser"]
        with tenant_context(client):
            case = _open(adviser)
            stale = Case.objects.get(pk=case.pk)
        waiting, outcomes = _race(
            client,
            lambda: services.case_erase(actor=adviser, case=case),
            lambda: services.note_add(actor=adviser, case=stale, text="Naam melder: J. Jansen"),
        )
        assert waiting, "the note never waited for the erasure's lock"
        assert isinstance(outcomes["first"], Case) and outcomes["first"].erased_at is not None
        assert isinstance(outcomes["second"], ValidationError), outcomes["second"]
        assert outcomes["second"].messages == [ERASED]
        with tenant_context(client):
            assert Note.objects.filter(case_id=case.pk).count() == 0
    finally:
        remove_firm(live)


def test_a_conversation_waits_for_a_closure_in_flight_and_is_refused(committed_db):
    live = create_firm(
        clients={"c": "Slot Zorg"},
        users={"adviser": ("adviser", None)},
        assignments={"adviser": ["c"]},
    )
    try:
        client, adviser = live.clients["c"], live.users["adviser"]
        with tenant_context(client):
            case = _open(adviser)
            stale = Case.objects.get(pk=case.pk)
        waiting, outcomes = _race(
            client,
            lambda: services.case_close(
                actor=adviser,
                case=case,
                outcome="resolved_informally",
                expected_version=case.version,
            ),
            lambda: services.conversation_add(
                actor=adviser, case=stale, held_on=TODAY, duration_minutes=45, summary="Gesprek"
            ),
        )
        assert waiting, "the conversation never waited for the closure's lock"
        assert isinstance(outcomes["first"], Case) and outcomes["first"].is_closed
        assert isinstance(outcomes["second"], ValidationError), outcomes["second"]
        assert outcomes["second"].messages == [CLOSED]
        with tenant_context(client):
            assert Conversation.objects.filter(case_id=case.pk).count() == 0
    finally:
        remove_firm(live)


# --- rollup requests ---------------------------------------------------------------------------


@pytest.fixture
def rollup_requests(monkeypatch):
    """Count the rollup rebuilds the services request (the request itself still runs)."""
    calls: list[str] = []
    request = _common.rollup_request

    def counted() -> None:
        calls.append(connection.schema_name)
        request()

    monkeypatch.setattr(_common, "rollup_request", counted)
    return calls


def _scenarios(cast) -> dict[str, tuple[int, Callable[[], Any], Callable[[Any], Any]]]:
    """Per public service: (rebuilds it must request, set-up, the one call under test)."""
    adviser = cast.adviser_a
    themes = list(Theme.objects.filter(is_active=True).order_by("pk")[:2])

    def opened() -> Case:
        return _open(adviser)

    def closed() -> Case:
        case = _open(adviser)
        return services.case_close(
            actor=adviser, case=case, outcome="resolved_informally", expected_version=case.version
        )

    def nothing() -> None:
        return None

    def with_consent(scope: str, belgian: bool = False) -> Callable[[], tuple[Case, Any]]:
        def setup() -> tuple[Case, Any]:
            if belgian:
                ClientOrganisation.objects.filter(pk=cast.a1.pk).update(country="BE")
            case = _open(adviser)
            return case, services.consent_record(actor=adviser, case=case, scope=scope)

        return setup

    def with_step() -> tuple[Case, Any]:
        case = _open(adviser)
        return case, services.step_add(actor=adviser, case=case, description="Bel")

    def with_followup() -> tuple[Case, Any]:
        case = _open(adviser)
        due = TODAY + datetime.timedelta(days=1)
        return case, services.followup_add(actor=adviser, case=case, due_on=due)

    def past_retention() -> Case:
        case = closed()
        Case.objects.filter(pk=case.pk).update(retention_until=TODAY - datetime.timedelta(days=1))
        return case

    def update(**fields: Any) -> Callable[[Case], Any]:
        return lambda case: services.case_update(
            actor=adviser, case=case, expected_version=case.version, **fields
        )

    return {
        "case_open": (1, nothing, lambda _none: _open(adviser)),
        "case_update": (1, opened, update(channel="email")),
        "case_update (themes)": (1, opened, update(themes=themes)),
        "case_update (uncounted)": (0, opened, update(period="past", reporter_identity="X")),
        "conversation_add": (
            1,
            opened,
            lambda case: services.conversation_add(
                actor=adviser, case=case, held_on=TODAY, duration_minutes=30
            ),
        ),
        "time_entry_add": (
            1,
            opened,
            lambda case: services.time_entry_add(
                actor=adviser, case=case, worked_on=TODAY, minutes=10
            ),
        ),
        "referral_add": (
            1,
            with_consent("referral"),
            lambda pair: services.referral_add(
                actor=adviser, case=pair[0], target="gp", consent=pair[1]
            ),
        ),
        "case_close": (
            1,
            opened,
            lambda case: services.case_close(
                actor=adviser,
                case=case,
                outcome="resolved_informally",
                expected_version=case.version,
            ),
        ),
        "case_handover": (
            1,
            opened,
            lambda case: services.case_handover(
                actor=cast.admin_a, case=case, to_adviser=cast.adviser_a_backup
            ),
        ),
        "case_erase": (1, opened, lambda case: services.case_erase(actor=adviser, case=case)),
        "case_erase (closed)": (
            0,
            closed,
            lambda case: services.case_erase(actor=adviser, case=case),
        ),
        "case_move_phase": (
            0,
            opened,
            lambda case: services.case_move_phase(
                actor=adviser, case=case, phase="advice", expected_version=case.version
            ),
        ),
        "conversation_plan": (
            0,
            opened,
            lambda case: services.conversation_plan(
                actor=adviser, case=case, on=TODAY + datetime.timedelta(days=2)
            ),
        ),
        "consent_record": (
            0,
            opened,
            lambda case: services.consent_record(actor=adviser, case=case, scope="talk_to_hr"),
        ),
        "consent_withdraw": (
            0,
            with_consent("talk_to_hr"),
            lambda pair: services.consent_withdraw(actor=adviser, case=pair[0], consent=pair[1]),
        ),
        "step_add": (
            0,
            opened,
            lambda case: services.step_add(actor=adviser, case=case, description="Bel"),
        ),
        "step_mark_done": (
            0,
            with_step,
            lambda pair: services.step_mark_done(actor=adviser, case=pair[0], step=pair[1]),
        ),
        "followup_add": (
            0,
            opened,
            lambda case: services.followup_add(
                actor=adviser, case=case, due_on=TODAY + datetime.timedelta(days=1)
            ),
        ),
        "followup_mark_done": (
            0,
            with_followup,
            lambda pair: services.followup_mark_done(actor=adviser, case=pair[0], followup=pair[1]),
        ),
        "note_add": (
            0,
            opened,
            lambda case: services.note_add(actor=adviser, case=case, text="Notitie"),
        ),
        "retention_destroy_due": (
            0,
            past_retention,
            lambda _case: services.retention_destroy_due(),
        ),
        "case_export": (0, opened, lambda case: services.case_export(actor=adviser, case=case)),
        "internal_registration_add": (
            0,
            nothing,
            lambda _none: services.internal_registration_add(
                actor=cast.internal_a1,
                month=TODAY.replace(day=1),
                case_type="integrity",
                themes=themes[:1],
            ),
        ),
        "case_settings_update": (
            0,
            nothing,
            lambda _none: services.case_settings_update(actor=cast.admin_a, retention_months=24),
        ),
        # Last: it makes a1 a Belgian client for the rest of this test.
        "case_paps_handover": (
            1,
            with_consent("paps", belgian=True),
            lambda pair: services.case_paps_handover(
                actor=adviser, case=pair[0], consent=pair[1], expected_version=pair[0].version
            ),
        ),
    }


def test_every_case_service_requests_exactly_one_rollup_rebuild_per_counted_change(
    a1, rollup_requests
):
    scenarios = _scenarios(a1)
    # Every public service is classified here: a new one must say whether it changes a count.
    helpers = {
        "case_for_change",
        "client_is_belgian",
        "counted_fact_changed",
        "index_state",
        "next_reference",
        # A form's idempotency key: a record of a submission, never a counted fact.
        "submission_claim",
        "submission_link",
    }
    public = {
        name
        for name in services.__all__
        if inspect.isfunction(getattr(services, name)) and name not in helpers
    }
    assert public == {name.split(" ")[0] for name in scenarios}
    requested = {}
    for name, (_expected, setup, act) in scenarios.items():
        prepared = setup()
        before = len(rollup_requests)
        act(prepared)
        requested[name] = len(rollup_requests) - before
    assert requested == {name: expected for name, (expected, _setup, _act) in scenarios.items()}
    assert set(rollup_requests) == {a1.a1.schema_name}
