"""Case services: what each one writes, refuses and logs, and the work index it keeps."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from audit.models import AccessLogEntry
from cases import rules, selectors, services
from cases.models import Case, CaseCounter, Theme
from tenants.trail import Operator
from workindex.models import CaseworkEntry

TODAY = timezone.localdate()


@pytest.fixture
def a1(cast):
    with tenant_context(cast.a1):
        yield cast


def _open(cast, **overrides):
    values = {
        "actor": cast.adviser_a,
        "case_type": "undesirable_behaviour",
        "themes": [Theme.objects.get(code="bullying")],
        "reporter_role": "employee",
        "accused_relation": "manager",
        "channel": "phone",
    }
    values.update(overrides)
    return services.case_open(**values)


def test_open_gives_a_yearly_reference_logs_and_indexes(a1):
    first = _open(a1)
    second = _open(a1)
    year = TODAY.year
    assert first.reference.startswith(f"{year}-") and len(first.reference) == 9
    assert int(second.reference[-4:]) == int(first.reference[-4:]) + 1
    assert [t.code for t in first.themes.all()] == ["bullying"]
    entry = CaseworkEntry.objects.get(client=a1.a1, case_reference=first.reference)
    assert (entry.phase, entry.adviser_id, entry.opened_on) == ("intake", a1.adviser_a.pk, TODAY)
    log = AccessLogEntry.objects.filter(object_reference=first.reference)
    assert list(log.values_list("action", "actor_email")) == [("create", "adviser@acme.test")]


def _themes(*codes):
    return list(Theme.objects.filter(code__in=codes))


def test_references_are_unique_within_a_client_and_may_repeat_across_clients(cast):
    with tenant_context(cast.a1):
        in_a1 = _open(cast)
        year, number = in_a1.reference.split("-")
    with tenant_context(cast.b1):
        CaseCounter.objects.update_or_create(
            year=int(year), defaults={"last_number": int(number) - 1}
        )
        in_b1 = _open(cast, actor=cast.adviser_b)
        assert in_b1.reference == in_a1.reference
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.create(
                reference=in_b1.reference,
                case_type="integrity",
                reporter_role="employee",
                accused_relation="unknown",
                channel="email",
                opened_on=TODAY,
                adviser_id=1,
            )


def test_open_refuses_bad_choices_and_dates_and_changes_nothing(a1):
    before = (Case.objects.count(), CaseworkEntry.objects.filter(client=a1.a1).count())
    bad = [
        {"case_type": "gossip"},
        {"themes": []},
        {"themes": [999_999]},
        {"reporter_role": "king"},
        {"accused_relation": ""},
        {"channel": "pigeon"},
        {"opened_on": TODAY + datetime.timedelta(days=1)},
        {"opened_on": TODAY.replace(year=TODAY.year - 6)},
    ]
    for overrides in bad:
        with pytest.raises(ValidationError):
            _open(a1, **overrides)
    assert (Case.objects.count(), CaseworkEntry.objects.filter(client=a1.a1).count()) == before


def test_whistleblower_deadlines_follow_the_received_date(a1):
    case = _open(a1, case_type="integrity", themes=_themes("integrity"))
    received = TODAY - datetime.timedelta(days=3)
    case = services.case_update(
        actor=a1.adviser_a, case=case, expected_version=case.version, report_received_on=None
    )
    case = Case.objects.get(pk=case.pk)
    case.opened_on = received - datetime.timedelta(days=1)
    Case.objects.filter(pk=case.pk).update(opened_on=case.opened_on)
    updated = services.case_update(
        actor=a1.adviser_a, case=case, expected_version=case.version, report_received_on=received
    )
    assert updated.acknowledgement_due == received + datetime.timedelta(days=7)
    assert updated.feedback_due == rules.add_months(received, 3)
    entry = CaseworkEntry.objects.get(client=a1.a1, case_reference=case.reference)
    assert (entry.acknowledgement_due_on, entry.feedback_due_on) == (
        updated.acknowledgement_due,
        updated.feedback_due,
    )
    acknowledged = services.case_update(
        actor=a1.adviser_a, case=updated, expected_version=updated.version, acknowledged_on=TODAY
    )
    entry.refresh_from_db()
    assert (
        entry.acknowledgement_due_on is None and entry.feedback_due_on == acknowledged.feedback_due
    )


def test_add_months_clips_to_the_end_of_shorter_months():
    assert rules.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert rules.add_months(datetime.date(2028, 1, 31), 1) == datetime.date(2028, 2, 29)
    assert rules.add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)
    assert rules.add_months(datetime.date(2026, 10, 15), 12) == datetime.date(2027, 10, 15)


def test_conversation_records_time_clears_the_plan_and_counts_minutes(a1):
    from workindex.models import WorkMinutes

    case = _open(a1)
    services.conversation_plan(actor=a1.adviser_a, case=case, on=TODAY)
    assert CaseworkEntry.objects.get(case_reference=case.reference).next_conversation_on == TODAY
    conversation = services.conversation_add(
        actor=a1.adviser_a,
        case=case,
        held_on=TODAY,
        duration_minutes=75,
        summary="Melder beschrijft het gedrag",
        next_steps="Volgende week bellen",
    )
    assert conversation.time_entry.minutes == 75 and conversation.time_entry.billable is True
    case.refresh_from_db()
    assert case.next_conversation_on is None
    assert CaseworkEntry.objects.get(case_reference=case.reference).next_conversation_on is None
    services.time_entry_add(
        actor=a1.adviser_a,
        case=case,
        worked_on=TODAY,
        minutes=15,
        billable=False,
        description="Mail",
    )
    minutes = WorkMinutes.objects.get(client=a1.a1, adviser_id=a1.adviser_a.pk)
    assert (minutes.month, minutes.minutes, minutes.billable_minutes) == (
        TODAY.replace(day=1),
        90,
        75,
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": TODAY + datetime.timedelta(days=1)}, "held_on"),
        ({"held_on": TODAY - datetime.timedelta(days=1)}, "held_on"),  # before the case opened
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": -30}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"summary": "x" * 1_048_576}, "summary"),
        ({"next_steps": "y" * 20_001}, "next_steps"),
    ],
)
def test_conversation_refuses_bad_input_and_changes_nothing(a1, overrides, field):
    from cases.models import Conversation, TimeEntry

    case = _open(a1)
    values = {"held_on": TODAY, "duration_minutes": 60, "summary": "s", "next_steps": "n"}
    values.update(overrides)
    log_before = AccessLogEntry.objects.count()
    with pytest.raises(ValidationError) as error:
        services.conversation_add(actor=a1.adviser_a, case=case, **values)
    assert field in error.value.message_dict
    assert (Conversation.objects.count(), TimeEntry.objects.count()) == (0, 0)
    assert AccessLogEntry.objects.count() == log_before


def test_text_limit_message_names_the_limit_and_the_length(a1):
    case = _open(a1)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.note_add(actor=a1.adviser_a, case=case, text="z" * 1_048_576)
    assert error.value.message_dict["text"] == [
        "This text is too long: at most 20,000 characters, this one has 1,048,576."
    ]
    # Numbers grouped the Dutch way in Dutch (it said "20,000" there too).
    with translation.override("nl"), pytest.raises(ValidationError) as error:
        services.note_add(actor=a1.adviser_a, case=case, text="z" * 1_048_576)
    assert error.value.message_dict["text"] == [
        "Deze tekst is te lang: hooguit 20.000 tekens, deze heeft er 1.048.576."
    ]


def test_third_party_step_needs_a_current_consent(a1):
    from cases.models import Step

    case = _open(a1)
    step = services.step_add(
        actor=a1.adviser_a, case=case, description="Gesprek met HR", involves_third_party=True
    )
    with pytest.raises(ValidationError) as error:
        services.step_mark_done(actor=a1.adviser_a, case=case, step=step)
    assert "consent" in error.value.message_dict
    assert Step.objects.get(pk=step.pk).done_on is None
    consent = services.consent_record(
        actor=a1.adviser_a, case=case, scope="talk_to_hr", third_party="HR-adviseur", given_on=TODAY
    )
    services.consent_withdraw(actor=a1.adviser_a, case=case, consent=consent, withdrawn_on=TODAY)
    with pytest.raises(ValidationError):
        services.step_mark_done(actor=a1.adviser_a, case=case, step=step, consent=consent)
    current = services.consent_record(
        actor=a1.adviser_a, case=case, scope="talk_to_hr", given_on=TODAY
    )
    done = services.step_mark_done(actor=a1.adviser_a, case=case, step=step, consent=current)
    assert (done.done_on, done.consent_id) == (TODAY, current.pk)
    plain = services.step_add(actor=a1.adviser_a, case=case, description="Informatie opzoeken")
    assert services.step_mark_done(actor=a1.adviser_a, case=case, step=plain).done_on == TODAY


def test_referral_needs_a_matching_current_consent(a1):
    from cases.models import Referral

    case = _open(a1)
    for consent in (
        None,
        services.consent_record(
            actor=a1.adviser_a, case=case, scope="talk_to_manager", given_on=TODAY
        ),
    ):
        with pytest.raises(ValidationError) as error:
            services.referral_add(actor=a1.adviser_a, case=case, target="gp", consent=consent)
        assert "consent" in error.value.message_dict
    assert Referral.objects.count() == 0
    consent = services.consent_record(
        actor=a1.adviser_a, case=case, scope="referral", given_on=TODAY
    )
    referral = services.referral_add(
        actor=a1.adviser_a,
        case=case,
        target="victim_support",
        consent=consent,
        note="Folder gegeven",
    )
    assert (referral.target, referral.consent_id, referral.referred_on) == (
        "victim_support",
        consent.pk,
        TODAY,
    )


def test_close_sets_retention_from_firm_then_client_setting_and_leaves_the_index(a1):
    case = _open(a1)
    services.followup_add(actor=a1.adviser_a, case=case, due_on=TODAY + datetime.timedelta(days=14))
    assert CaseworkEntry.objects.get(case_reference=case.reference).followup_due_on == (
        TODAY + datetime.timedelta(days=14)
    )
    closed = services.case_close(
        actor=a1.adviser_a, case=case, outcome="resolved_informally", expected_version=case.version
    )
    assert (closed.phase, closed.closed_on, closed.retention_until) == (
        "closed",
        TODAY,
        rules.add_months(TODAY, 12),
    )
    assert not CaseworkEntry.objects.filter(case_reference=case.reference).exists()
    with pytest.raises(ValidationError):
        services.conversation_add(
            actor=a1.adviser_a, case=closed, held_on=TODAY, duration_minutes=5
        )
    services.case_settings_update(actor=a1.admin_a, retention_months=3)
    other = _open(a1)
    closed = services.case_close(
        actor=a1.adviser_a, case=other, outcome="withdrawn", expected_version=other.version
    )
    assert closed.retention_until == rules.add_months(TODAY, 3)


def test_move_phase_and_close_refuse_stale_versions(a1):
    case = _open(a1)
    moved = services.case_move_phase(
        actor=a1.adviser_a, case=case, phase="advice", expected_version=case.version
    )
    assert (moved.phase, moved.version) == ("advice", case.version + 1)
    with pytest.raises(services.EditConflict):
        services.case_move_phase(
            actor=a1.adviser_a, case=case, phase="guidance", expected_version=1
        )
    with pytest.raises(ValidationError):
        services.case_move_phase(
            actor=a1.adviser_a, case=moved, phase="closed", expected_version=moved.version
        )
    assert Case.objects.get(pk=case.pk).phase == "advice"


def test_concurrent_edit_second_save_conflicts_and_first_is_kept(a1):
    case = _open(a1)
    seen_by_first = Case.objects.get(pk=case.pk)
    seen_by_second = Case.objects.get(pk=case.pk)
    services.case_update(
        actor=a1.adviser_a,
        case=seen_by_first,
        expected_version=seen_by_first.version,
        reporter_department="Afdeling Noord",
    )
    with pytest.raises(services.EditConflict) as error:
        services.case_update(
            actor=a1.adviser_a_backup,
            case=seen_by_second,
            expected_version=seen_by_second.version,
            reporter_department="Afdeling Zuid",
        )
    assert error.value.current_version == seen_by_first.version + 1
    stored = Case.objects.get(pk=case.pk)
    assert (stored.reporter_department, stored.version) == ("Afdeling Noord", case.version + 1)


def test_double_submit_adds_nothing_the_second_time(a1):
    import uuid

    from cases.models import Conversation

    key = uuid.uuid4()
    before = Case.objects.count()
    case = _open(a1, submission_key=key)
    with pytest.raises(services.DuplicateSubmission) as error:
        _open(a1, submission_key=key)
    assert error.value.reference == case.reference
    assert Case.objects.count() == before + 1
    conversation_key = uuid.uuid4()
    services.conversation_add(
        actor=a1.adviser_a,
        case=case,
        held_on=TODAY,
        duration_minutes=30,
        submission_key=conversation_key,
    )
    with pytest.raises(services.DuplicateSubmission):
        services.conversation_add(
            actor=a1.adviser_a,
            case=case,
            held_on=TODAY,
            duration_minutes=30,
            submission_key=conversation_key,
        )
    assert Conversation.objects.count() == 1


def test_handover_is_logged_and_only_to_assigned_advisers(a1):
    case = _open(a1)
    before = (Case.objects.get(pk=case.pk).adviser_id, AccessLogEntry.objects.count())
    for outsider in (a1.adviser_a_unassigned, a1.adviser_b, a1.contact_a1):
        with pytest.raises(ValidationError):
            services.case_handover(actor=a1.admin_a, case=case, to_adviser=outsider)
    assert (Case.objects.get(pk=case.pk).adviser_id, AccessLogEntry.objects.count()) == before
    handed = services.case_handover(actor=a1.admin_a, case=case, to_adviser=a1.adviser_a_backup)
    assert handed.adviser_id == a1.adviser_a_backup.pk
    entry = AccessLogEntry.objects.filter(object_reference=case.reference).order_by("-id").first()
    assert (entry.action, entry.actor_email, entry.detail) == (
        "handover",
        "admin@acme.test",
        "from adviser@acme.test to backup@acme.test",
    )
    assert (
        CaseworkEntry.objects.get(case_reference=case.reference).adviser_id
        == a1.adviser_a_backup.pk
    )


def test_handover_then_unassigning_the_old_adviser_ends_their_access(a1):
    from tenants.models import Assignment
    from tenants.services import assignment_end

    case = _open(a1)
    services.case_handover(actor=a1.adviser_a, case=case, to_adviser=a1.adviser_a_backup)
    assert selectors.case_get_for_user(a1.adviser_a, case.reference).pk == case.pk  # still assigned
    assignment = Assignment.objects.get(adviser=a1.adviser_a, client=a1.a1)
    Assignment.objects.filter(pk=assignment.pk).update(
        starts_on=TODAY - datetime.timedelta(days=30)
    )
    assignment.refresh_from_db()
    assignment_end(
        actor=Operator("test"), assignment=assignment, ends_on=TODAY - datetime.timedelta(days=1)
    )
    with pytest.raises(Http404):
        selectors.case_get_for_user(a1.adviser_a, case.reference)
    assert selectors.case_get_for_user(a1.adviser_a_backup, case.reference).pk == case.pk


def _full_case(cast, marker="M"):
    case = _open(cast)
    case = services.case_update(
        actor=cast.adviser_a,
        case=case,
        expected_version=case.version,
        reporter_identity=f"{marker}-identity",
        reporter_department=f"{marker}-department",
        reporter_gender="female",
    )
    services.conversation_add(
        actor=cast.adviser_a,
        case=case,
        held_on=TODAY,
        duration_minutes=60,
        summary=f"{marker}-summary",
        next_steps=f"{marker}-next",
    )
    consent = services.consent_record(
        actor=cast.adviser_a,
        case=case,
        scope="referral",
        third_party=f"{marker}-third",
        given_on=TODAY,
    )
    services.step_add(actor=cast.adviser_a, case=case, description=f"{marker}-step")
    services.referral_add(
        actor=cast.adviser_a, case=case, target="gp", consent=consent, note=f"{marker}-ref"
    )
    services.followup_add(
        actor=cast.adviser_a,
        case=case,
        due_on=TODAY + datetime.timedelta(days=30),
        description=f"{marker}-fu",
    )
    services.time_entry_add(
        actor=cast.adviser_a, case=case, worked_on=TODAY, minutes=10, description=f"{marker}-time"
    )
    services.note_add(actor=cast.adviser_a, case=case, text=f"{marker}-note")
    return Case.objects.get(pk=case.pk)


def test_export_holds_everything_decrypted_and_is_logged(a1):
    case = _full_case(a1, marker="EXP")
    with translation.override("en"):
        data = services.case_export(actor=a1.adviser_a, case=case)
    text = repr(data)
    for suffix in (
        "identity",
        "department",
        "summary",
        "next",
        "third",
        "step",
        "ref",
        "fu",
        "time",
        "note",
    ):
        assert f"EXP-{suffix}" in text, suffix
    assert data["case"]["reference"] == case.reference
    assert data["case"]["themes"] == [{"code": "bullying", "label": "Bullying"}]
    assert len(data["conversations"]) == 1 and data["conversations"][0]["duration_minutes"] == 60
    assert (
        AccessLogEntry.objects.filter(object_reference=case.reference, action="export").count() == 1
    )


def test_erase_keeps_only_the_categorical_fields(a1):
    from cases.models import ConsentRecord, Conversation, FollowUp, Note, Referral, Step, TimeEntry

    case = _full_case(a1, marker="ERA")
    erased = services.case_erase(actor=a1.adviser_a, case=case)
    assert (erased.reporter_identity, erased.reporter_department, erased.reporter_gender) == (
        "",
        "",
        "",
    )
    assert (erased.phase, erased.outcome, erased.case_type, erased.reporter_role) == (
        "closed",
        "withdrawn",
        "undesirable_behaviour",
        "employee",
    )
    assert [t.code for t in erased.themes.all()] == ["bullying"]
    conversation = Conversation.objects.get(case=erased)
    assert (conversation.summary, conversation.next_steps, conversation.duration_minutes) == (
        "",
        "",
        60,
    )
    assert ConsentRecord.objects.get(case=erased).third_party == ""
    assert (
        Referral.objects.get(case=erased).note == ""
        and Referral.objects.get(case=erased).target == "gp"
    )
    assert FollowUp.objects.get(case=erased).description == ""
    assert sorted(TimeEntry.objects.filter(case=erased).values_list("minutes", "description")) == [
        (10, ""),
        (60, ""),
    ]
    assert (Step.objects.filter(case=erased).count(), Note.objects.filter(case=erased).count()) == (
        0,
        0,
    )
    assert "ERA-" not in repr(services.case_export(actor=a1.adviser_a, case=erased))
    assert not CaseworkEntry.objects.filter(case_reference=case.reference).exists()
    assert (
        AccessLogEntry.objects.filter(object_reference=case.reference, action="erase").count() == 1
    )


def test_retention_destroys_due_cases_once_and_logs_it(a1):
    due = _full_case(a1, marker="RET")
    due = services.case_close(
        actor=a1.adviser_a, case=due, outcome="referred", expected_version=due.version
    )
    kept = _open(a1)
    kept = services.case_close(
        actor=a1.adviser_a, case=kept, outcome="referred", expected_version=kept.version
    )
    still_open = _open(a1)
    Case.objects.filter(pk=due.pk).update(retention_until=TODAY - datetime.timedelta(days=1))
    assert services.retention_destroy_due(today=TODAY) == [due.reference]
    assert services.retention_destroy_due(today=TODAY) == []
    stripped = Case.objects.get(pk=due.pk)
    assert stripped.destroyed_at is not None and stripped.reporter_identity == ""
    assert "RET-" not in repr(services.case_export(actor=a1.adviser_a, case=stripped))
    assert Case.objects.get(pk=kept.pk).destroyed_at is None
    assert Case.objects.get(pk=still_open.pk).destroyed_at is None
    log = AccessLogEntry.objects.filter(object_reference=due.reference, action="destroy")
    assert list(log.values_list("actor_email", "detail")) == [
        ("retention", "retention deadline passed")
    ]


def test_internal_registration_holds_counts_only(a1):
    registration = services.internal_registration_add(
        actor=a1.internal_a1,
        month=TODAY.replace(day=17),
        case_type="undesirable_behaviour",
        themes=_themes("bullying", "conflict"),
        outcome="resolved_informally",
    )
    assert registration.month == TODAY.replace(day=1)
    assert sorted(t.code for t in registration.themes.all()) == ["bullying", "conflict"]
    with pytest.raises(ValidationError):
        services.internal_registration_add(
            actor=a1.internal_a1,
            month=rules.add_months(TODAY.replace(day=1), 1),
            case_type="integrity",
            themes=_themes("integrity"),
        )
