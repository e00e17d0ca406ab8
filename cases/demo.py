"""Realistic synthetic case files for demos and benchmarks (`manage.py seed_demo`).

`seed_cases` runs inside one client's schema and writes with bulk inserts (a few dozen statements
per client, whatever `count`), so a thousand clients with two hundred cases each stay quick.
Nobody real appears: reporters are pseudonyms ("Melder 17"), texts are generic situations.
Old cases are closed, and those past their retention deadline are already stripped, as the
retention task would have left them.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from audit.models import AccessLogEntry
from cases import rules
from cases.models import (
    ACKNOWLEDGEMENT_DAYS,
    FEEDBACK_MONTHS,
    Case,
    CaseCounter,
    CaseType,
    ConsentRecord,
    Conversation,
    FollowUp,
    InternalRegistration,
    Note,
    Outcome,
    Referral,
    Theme,
    TimeEntry,
)
from tenants.models import Assignment, ClientOrganisation, FirmMembership
from workindex import services as workindex

SUMMARIES = {
    CaseType.UNDESIRABLE_BEHAVIOUR: (
        "Melder ervaart al enkele maanden kleinerende opmerkingen tijdens het teamoverleg.",
        "Melder voelt zich buitengesloten door collega's sinds een reorganisatie van het team.",
        "Melder beschrijft grensoverschrijdende opmerkingen over uiterlijk tijdens nachtdiensten.",
        "Melder werd tijdens een conflict over roosters hard toegesproken en voelt zich onveilig.",
        "Melder krijgt onevenredig veel werk toebedeeld en ervaart dit als bewuste tegenwerking.",
        "Melder ontving berichten buiten werktijd die als intimiderend worden ervaren.",
        "Melder maakte agressie van een cliënt mee en mist opvang door de organisatie.",
        "Melder hoort grappen over afkomst en weet niet hoe dit bespreekbaar te maken.",
        "Melder twijfelt of het gedrag van een leidinggevende nog binnen de normen valt.",
        "Melder wil vooral haar verhaal kwijt en overweegt nog geen vervolgstappen.",
    ),
    CaseType.INTEGRITY: (
        "Melder vermoedt dat declaraties binnen de afdeling niet kloppen en zoekt advies.",
        "Melder heeft signalen dat inkoopregels bij een leverancier worden omzeild.",
        "Melder twijfelt of een nevenfunctie van een collega tot belangenverstrengeling leidt.",
        "Melder overweegt een melding van een vermoede misstand en vraagt naar de procedure.",
        "Melder zag dat gegevens van cliënten zonder noodzaak werden gedeeld.",
    ),
    CaseType.OUTSIDE_REMIT: (
        "Melder heeft een arbeidsconflict over de beoordeling; uitgelegd wat de rol van de VP is.",
        "Melder zoekt steun bij persoonlijke omstandigheden die het werk beïnvloeden.",
        "Melder heeft vragen over een re-integratietraject; doorverwezen.",
    ),
}
NEXT_STEPS = (
    "Melder denkt na over een gesprek met de leidinggevende; over twee weken opnieuw contact.",
    "Samen een tijdlijn van de gebeurtenissen opstellen.",
    "Melder leest de klachtenregeling door en laat weten of zij verder wil.",
    "Met toestemming van melder contact opnemen met HR.",
    "Geen vervolgstappen afgesproken; melder neemt zelf contact op indien nodig.",
    "Informatie over de bedrijfsarts meegegeven.",
)
DEPARTMENTS = (
    "Team Zorg Noord",
    "Afdeling Inkoop",
    "Locatie Centrum",
    "Klantenservice",
    "Magazijn",
    "Financiën",
    "Facilitair",
    "Onderwijsteam bovenbouw",
    "Nachtdienst",
    "Buitendienst",
    "Secretariaat",
    "ICT",
    "Productie lijn 2",
    "Receptie",
    "Planning",
)
NOTES = (
    "Melder gaf aan het gesprek als prettig te hebben ervaren.",
    "Afspraak verzet op verzoek van melder.",
    "Geanonimiseerd besproken in intervisie.",
    "Melder stuurde een bericht met aanvullende informatie.",
)
FOLLOWUP_TEXTS = (
    "Nabellen hoe het nu gaat.",
    "Navragen of het gesprek met HR heeft plaatsgevonden.",
    "",
)

TYPE_WEIGHTS = {
    CaseType.UNDESIRABLE_BEHAVIOUR: 75,
    CaseType.INTEGRITY: 15,
    CaseType.OUTSIDE_REMIT: 10,
}
THEME_WEIGHTS = {
    "bullying": 22,
    "sexual_harassment": 10,
    "aggression_violence": 9,
    "threats": 4,
    "discrimination": 7,
    "intimidation": 12,
    "work_pressure": 14,
    "conflict": 16,
    "integrity": 0,
    "other": 6,
}
ROLE_WEIGHTS = {
    Case.ReporterRole.EMPLOYEE: 70,
    Case.ReporterRole.MANAGER: 9,
    Case.ReporterRole.TEMPORARY: 8,
    Case.ReporterRole.INTERN: 5,
    Case.ReporterRole.VOLUNTEER: 3,
    Case.ReporterRole.FORMER_EMPLOYEE: 3,
    Case.ReporterRole.THIRD_PARTY: 2,
}
RELATION_WEIGHTS = {
    Case.AccusedRelation.COLLEAGUE: 38,
    Case.AccusedRelation.MANAGER: 34,
    Case.AccusedRelation.SUBORDINATE: 4,
    Case.AccusedRelation.CLIENT: 10,
    Case.AccusedRelation.THIRD_PARTY: 4,
    Case.AccusedRelation.UNKNOWN: 6,
    Case.AccusedRelation.NOT_APPLICABLE: 4,
}
CHANNEL_WEIGHTS = {
    Case.Channel.PHONE: 40,
    Case.Channel.IN_PERSON: 22,
    Case.Channel.VIDEO: 18,
    Case.Channel.EMAIL: 14,
    Case.Channel.CHAT: 3,
    Case.Channel.PORTAL: 3,
}
OUTCOME_WEIGHTS = {
    Outcome.RESOLVED_INFORMALLY: 34,
    Outcome.NO_FURTHER_STEPS: 28,
    Outcome.REFERRED: 16,
    Outcome.FORMAL_COMPLAINT: 7,
    Outcome.REPORTER_LEFT: 6,
    Outcome.OUTSIDE_REMIT: 6,
    Outcome.WITHDRAWN: 3,
}
OPEN_PHASE_WEIGHTS = {
    Case.Phase.INTAKE: 30,
    Case.Phase.ADVICE: 30,
    Case.Phase.GUIDANCE: 20,
    Case.Phase.REFERRAL: 8,
    Case.Phase.AFTERCARE: 12,
}
REFERRAL_TARGETS = (
    Referral.Target.OCCUPATIONAL_PHYSICIAN,
    Referral.Target.GP,
    Referral.Target.PSYCHOLOGICAL_HELP,
    Referral.Target.VICTIM_SUPPORT,
    Referral.Target.COACH,
    Referral.Target.MEDIATOR,
    Referral.Target.HR,
    Referral.Target.COMPLAINTS_COMMITTEE,
)
HISTORY_DAYS = 3 * 365
BATCH = 2000


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _advisers(client: ClientOrganisation, today: datetime.date) -> list[int]:
    current = (
        Assignment.objects.in_force(today)
        .filter(client=client)
        .order_by("kind", "pk")
        .values_list("adviser_id", flat=True)
    )
    ids = list(dict.fromkeys(current))
    if not ids:
        ids = list(
            FirmMembership.objects.filter(firm_id=client.firm_id, role=FirmMembership.Role.ADVISER)
            .order_by("pk")
            .values_list("user_id", flat=True)[:1]
        )
    return ids or [0]


def seed_cases(*, client: ClientOrganisation, count: int, rng: random.Random) -> int:
    """Create exactly `count` synthetic cases in the current schema (the client's); return it."""
    if connection.schema_name != client.schema_name:
        raise RuntimeError("seed_cases must run inside the client's schema (tenant_context).")
    if count <= 0:
        return 0
    today = timezone.localdate()
    now = timezone.now()
    themes = {theme.code: theme for theme in Theme.objects.filter(is_active=True)}
    advisers = _advisers(client, today)
    retention = client.firm.retention_months

    # No case (so no conversation or time entry) before the client's contract starts: the
    # firm's invoicing would otherwise bill hours from before it worked for the client.
    history = HISTORY_DAYS
    if client.contract_starts_on and client.contract_starts_on <= today:
        history = min(history, (today - client.contract_starts_on).days)
    drafts = []
    for _ in range(count):
        # More recent cases than old ones: a fuller caseload now.
        age = int(rng.expovariate(1 / 320)) % (history + 1)
        opened_on = today - datetime.timedelta(days=age)
        case_type = _pick(rng, TYPE_WEIGHTS)
        if case_type == CaseType.INTEGRITY:
            codes = ["integrity"] + (["other"] if rng.random() < 0.1 else [])
        else:
            codes = list(
                dict.fromkeys(_pick(rng, THEME_WEIGHTS) for _ in range(rng.choice((1, 1, 2, 2, 3))))
            )
        closed = age > 150 or (age > 20 and rng.random() < 0.55)
        drafts.append((opened_on, case_type, codes, closed))
    drafts.sort(key=lambda draft: draft[0])

    # Numbers per year continue after any existing ones.
    existing = dict(CaseCounter.objects.values_list("year", "last_number"))
    numbers: dict[int, int] = defaultdict(int)
    cases: list[Case] = []
    theme_links: list[tuple[int, list[str]]] = []
    for opened_on, case_type, codes, closed in drafts:
        year = opened_on.year
        numbers[year] += 1
        number = existing.get(year, 0) + numbers[year]
        adviser_id = rng.choice(advisers)
        case = Case(
            reference=f"{year}-{number:04d}",
            case_type=case_type,
            reporter_role=_pick(rng, ROLE_WEIGHTS),
            reporter_gender=rng.choice(("", "", "female", "female", "male", "other")),
            reporter_identity=f"Melder {number}" if rng.random() < 0.4 else "",
            reporter_department=rng.choice(DEPARTMENTS) if rng.random() < 0.6 else "",
            accused_relation=(
                Case.AccusedRelation.NOT_APPLICABLE
                if case_type == CaseType.OUTSIDE_REMIT
                else _pick(rng, RELATION_WEIGHTS)
            ),
            people_involved=rng.choice(Case.PeopleInvolved.values),
            repeated=rng.choice(Case.Repeated.values),
            channel=_pick(rng, CHANNEL_WEIGHTS),
            period=rng.choice((Case.Period.RECENT, Case.Period.RECENT, Case.Period.PAST)),
            opened_on=opened_on,
            adviser_id=adviser_id,
            created_by_id=adviser_id,
            created_at=now,
            updated_at=now,
        )
        if case_type == CaseType.INTEGRITY and rng.random() < 0.4:
            case.report_received_on = opened_on
            case.acknowledgement_due = opened_on + datetime.timedelta(days=ACKNOWLEDGEMENT_DAYS)
            case.feedback_due = rules.add_months(opened_on, FEEDBACK_MONTHS)
            if case.acknowledgement_due <= today and rng.random() < 0.9:
                case.acknowledged_on = min(
                    today, opened_on + datetime.timedelta(days=rng.randint(1, 7))
                )
            if case.feedback_due <= today and rng.random() < 0.85:
                case.feedback_given_on = min(
                    today, opened_on + datetime.timedelta(days=rng.randint(20, 90))
                )
        if closed:
            case.phase = Case.Phase.CLOSED
            case.outcome = (
                Outcome.OUTSIDE_REMIT
                if case_type == CaseType.OUTSIDE_REMIT
                else _pick(rng, OUTCOME_WEIGHTS)
            )
            case.closed_on = min(today, opened_on + datetime.timedelta(days=rng.randint(3, 140)))
            case.retention_until = rules.add_months(case.closed_on, retention)
            if case.retention_until < today:
                case.destroyed_at = now
                case.reporter_identity = case.reporter_department = case.reporter_gender = ""
        else:
            case.phase = _pick(rng, OPEN_PHASE_WEIGHTS)
            if rng.random() < 0.35:
                case.next_conversation_on = today + datetime.timedelta(days=rng.randint(0, 14))
        cases.append(case)
        theme_links.append((len(cases) - 1, codes))
    Case.objects.bulk_create(cases, batch_size=BATCH)
    for year, added in numbers.items():
        CaseCounter.objects.update_or_create(
            year=year, defaults={"last_number": existing.get(year, 0) + added}
        )
    Through = Case.themes.through
    Through.objects.bulk_create(
        [
            Through(case_id=cases[index].pk, theme_id=themes[code].pk)
            for index, codes in theme_links
            for code in codes
            if code in themes
        ],
        batch_size=BATCH,
    )
    followups_due = _seed_files(cases, rng=rng, today=today, now=now)
    _seed_index(client, cases, followups_due, today=today)
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                at=now,
                actor_id=case.adviser_id,
                action=AccessLogEntry.Action.CREATE,
                object_type="case",
                object_reference=case.reference,
                detail="opened (demo data)",
            )
            for case in cases
        ],
        batch_size=BATCH,
    )
    _seed_internal(client, rng=rng, today=today, themes=themes, count=max(1, count // 10))
    _seed_rollups()
    return len(cases)


def _seed_rollups() -> None:
    # Bulk inserts bypass the case services, which request the rollup rebuild that keeps the
    # portfolio's anonymous counts current; rebuild them now rather than leave the portfolio empty until the nightly run.
    from django.apps import apps

    if apps.is_installed("reports"):
        from reports.rollups import rollup_rebuild_current

        rollup_rebuild_current()


def _seed_files(
    cases: list[Case], *, rng: random.Random, today: datetime.date, now: datetime.datetime
) -> dict[int, datetime.date]:
    """Conversations with their time, consents, referrals, follow-ups and notes (bulk).

    Returns the due date of each case's open follow-up, for the work index.
    """
    conversations: list[Conversation] = []
    consents: list[ConsentRecord] = []
    followups: list[FollowUp] = []
    notes: list[Note] = []
    stripped = {case.pk for case in cases if case.destroyed_at is not None}
    for case in cases:
        last = case.closed_on or today
        span = max(0, (last - case.opened_on).days)
        for number in range(rng.choice((1, 1, 2, 2, 3, 4))):
            held_on = case.opened_on + datetime.timedelta(
                days=0 if number == 0 else rng.randint(0, span)
            )
            conversations.append(
                Conversation(
                    case=case,
                    held_on=held_on,
                    duration_minutes=rng.choice((30, 45, 60, 60, 75, 90)),
                    summary="" if case.pk in stripped else rng.choice(SUMMARIES[case.case_type]),
                    next_steps="" if case.pk in stripped else rng.choice(NEXT_STEPS),
                    adviser_id=case.adviser_id,
                    created_at=now,
                )
            )
        if rng.random() < 0.3:
            consents.append(
                ConsentRecord(
                    case=case,
                    scope=rng.choice(
                        (ConsentRecord.Scope.REFERRAL, ConsentRecord.Scope.TALK_TO_HR)
                    ),
                    third_party=""
                    if case.pk in stripped
                    else rng.choice(("HR-adviseur", "Bedrijfsarts", "Leidinggevende")),
                    given_on=case.opened_on,
                    recorded_by_id=case.adviser_id,
                    created_at=now,
                )
            )
        if case.phase == Case.Phase.AFTERCARE or (case.is_closed and rng.random() < 0.15):
            due_on = max(case.opened_on, today + datetime.timedelta(days=rng.randint(-3, 21)))
            done = case.is_closed
            followups.append(
                FollowUp(
                    case=case,
                    due_on=min(due_on, last) if done else due_on,
                    done_on=min(due_on, last) if done else None,
                    description="" if case.pk in stripped else rng.choice(FOLLOWUP_TEXTS),
                    adviser_id=case.adviser_id,
                    created_at=now,
                )
            )
        if case.pk not in stripped and rng.random() < 0.25:
            notes.append(
                Note(case=case, text=rng.choice(NOTES), author_id=case.adviser_id, created_at=now)
            )
    Conversation.objects.bulk_create(conversations, batch_size=BATCH)
    TimeEntry.objects.bulk_create(
        [
            TimeEntry(
                case_id=conversation.case_id,
                worked_on=conversation.held_on,
                minutes=conversation.duration_minutes,
                adviser_id=conversation.adviser_id,
                billable=True,
                conversation=conversation,
                description="",
                created_at=now,
            )
            for conversation in conversations
        ],
        batch_size=BATCH,
    )
    ConsentRecord.objects.bulk_create(consents, batch_size=BATCH)
    Referral.objects.bulk_create(
        [
            Referral(
                case_id=consent.case_id,
                target=rng.choice(REFERRAL_TARGETS)
                if consent.scope == ConsentRecord.Scope.REFERRAL
                else Referral.Target.HR,
                referred_on=consent.given_on,
                consent=consent,
                note="",
                adviser_id=consent.recorded_by_id,
                created_at=now,
            )
            for consent in consents
            if rng.random() < 0.7
        ],
        batch_size=BATCH,
    )
    FollowUp.objects.bulk_create(followups, batch_size=BATCH)
    Note.objects.bulk_create(notes, batch_size=BATCH)
    return {followup.case_id: followup.due_on for followup in followups if followup.done_on is None}


def _seed_index(
    client: ClientOrganisation,
    cases: list[Case],
    followups_due: dict[int, datetime.date],
    *,
    today: datetime.date,
) -> None:
    """Work index rows of the open cases, and this month's minutes per adviser."""
    from cases.services import index_state

    workindex.entries_put(
        client_id=client.pk,
        states=[
            index_state(case, followups_due.get(case.pk)) for case in cases if not case.is_closed
        ],
    )
    month = today.replace(day=1)
    totals = (
        TimeEntry.objects.filter(worked_on__gte=month, worked_on__lte=today)
        .values_list("adviser_id")
        .annotate(total=Sum("minutes"), billable=Sum("minutes", filter=Q(billable=True)))
        .order_by()
    )
    for adviser_id, total, billable in totals:
        workindex.minutes_put(
            client_id=client.pk,
            adviser_id=adviser_id,
            month=month,
            minutes=total or 0,
            billable_minutes=billable or 0,
        )


def _seed_internal(
    client: ClientOrganisation,
    *,
    rng: random.Random,
    today: datetime.date,
    themes: dict[str, Theme],
    count: int,
) -> None:
    internal = list(
        client.memberships.filter(role="internal_adviser")
        .order_by("pk")
        .values_list("user_id", flat=True)[:1]
    )
    if not internal:
        return
    registrations = []
    links = []
    for _ in range(count):
        month = rules.add_months(today.replace(day=1), -rng.randint(0, 18))
        case_type = _pick(rng, TYPE_WEIGHTS)
        registrations.append(
            InternalRegistration(
                month=month,
                case_type=case_type,
                outcome=_pick(rng, OUTCOME_WEIGHTS) if rng.random() < 0.8 else "",
                registered_by_id=internal[0],
            )
        )
        links.append("integrity" if case_type == CaseType.INTEGRITY else _pick(rng, THEME_WEIGHTS))
    InternalRegistration.objects.bulk_create(registrations, batch_size=BATCH)
    Through = InternalRegistration.themes.through
    Through.objects.bulk_create(
        [
            Through(internalregistration_id=registration.pk, theme_id=themes[code].pk)
            for registration, code in zip(registrations, links, strict=True)
            if code in themes
        ],
        batch_size=BATCH,
    )
