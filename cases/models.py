"""Case files of one client organisation (tenant schema). See ../shared/DOMAIN.md.

What is categorical (type, themes, roles, channel, phase, outcome, dates, minutes) stays in plain
columns: the annual report counts it, and it survives erasure and the retention deadline. Every
free text and everything that could name a person is an `EncryptedTextField`, encrypted with the
client's data key; the database and its dumps only ever hold ciphertext.

People are referred to by plain user ids (`adviser_id`, …), not foreign keys: users live in the
public schema and the file must outlive their accounts.
"""

from __future__ import annotations

import datetime
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.fields import EncryptedTextField

# Whistleblower act (Wet bescherming klokkenluiders): acknowledge in 7 days, feedback in 3 months.
ACKNOWLEDGEMENT_DAYS = 7
FEEDBACK_MONTHS = 3


class CaseType(models.TextChoices):
    UNDESIRABLE_BEHAVIOUR = "undesirable_behaviour", _("Undesirable behaviour")
    INTEGRITY = "integrity", _("Integrity")
    OUTSIDE_REMIT = "outside_remit", _("Outside the adviser's remit")


class Outcome(models.TextChoices):
    RESOLVED_INFORMALLY = "resolved_informally", _("Resolved informally")
    FORMAL_COMPLAINT = "formal_complaint", _("Formal complaint filed")
    REFERRED = "referred", _("Referred")
    NO_FURTHER_STEPS = "no_further_steps", _("Reporter chose no further steps")
    REPORTER_LEFT = "reporter_left", _("Reporter left the organisation")
    OUTSIDE_REMIT = "outside_remit", _("Outside the adviser's remit")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # Belgium: a formal request goes to the prevention adviser psychosocial aspects (PAPS).
    HANDED_TO_PAPS = "handed_to_paps", _("Handed over to the PAPS (Belgium)")


# Standard themes, seeded by migration 0002; firms may add their own rows later.
STANDARD_THEMES: dict[str, str] = {
    "bullying": _("Bullying"),
    "sexual_harassment": _("Sexual harassment"),
    "aggression_violence": _("Aggression and violence"),
    "threats": _("Threats"),
    "discrimination": _("Discrimination"),
    "intimidation": _("Intimidation"),
    "work_pressure": _("Work pressure and stress"),
    "conflict": _("Conflict"),
    "integrity": _("Integrity (abuse of power, theft, corruption, extortion)"),
    "other": _("Other"),
}


class Theme(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    # Shown for themes a firm adds; standard themes are shown in the reader's language instead.
    name = models.CharField(_("name"), max_length=80)
    is_standard = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self) -> str:
        return str(STANDARD_THEMES.get(self.code, self.name)) if self.is_standard else self.name


class Case(models.Model):
    # Display labels that cases.selectors.label_cases attaches to listed cases (not columns).
    type_label: str
    phase_label: str
    theme_labels: str

    """A registered contact (melding) and everything the adviser holds about it."""

    class ReporterRole(models.TextChoices):
        EMPLOYEE = "employee", _("Employee")
        MANAGER = "manager", _("Manager")
        TEMPORARY = "temporary", _("Temporary or flexible worker")
        INTERN = "intern", _("Intern or student")
        VOLUNTEER = "volunteer", _("Volunteer")
        FORMER_EMPLOYEE = "former_employee", _("Former employee")
        THIRD_PARTY = "third_party", _("Third party")

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class AccusedRelation(models.TextChoices):
        COLLEAGUE = "colleague", _("Colleague")
        MANAGER = "manager", _("Manager")
        SUBORDINATE = "subordinate", _("Subordinate")
        CLIENT = "client", _("Client, customer or patient")
        THIRD_PARTY = "third_party", _("Third party")
        UNKNOWN = "unknown", _("Unknown")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    class PeopleInvolved(models.TextChoices):
        ONE = "one", _("One person")
        SEVERAL = "several", _("Several people")
        UNKNOWN = "unknown", _("Unknown")

    class Repeated(models.TextChoices):
        YES = "yes", _("Yes, repeatedly")
        NO = "no", _("No, once")
        UNKNOWN = "unknown", _("Unknown")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        VIDEO = "video", _("Video call")
        IN_PERSON = "in_person", _("In person")
        EMAIL = "email", _("E-mail")
        CHAT = "chat", _("Chat")
        PORTAL = "portal", _("Portal")

    class Period(models.TextChoices):
        RECENT = "recent", _("Recent")
        PAST = "past", _("In the past")

    class Phase(models.TextChoices):
        INTAKE = "intake", _("Intake")
        ADVICE = "advice", _("Advice")
        GUIDANCE = "guidance", _("Guidance")
        REFERRAL = "referral", _("Referral")
        AFTERCARE = "aftercare", _("Aftercare")
        CLOSED = "closed", _("Closed")

    reference = models.CharField(_("reference"), max_length=12, unique=True)
    case_type = models.CharField(_("type"), max_length=30, choices=CaseType.choices)
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), related_name="cases")
    reporter_role = models.CharField(
        _("reporter's role"), max_length=20, choices=ReporterRole.choices
    )
    reporter_gender = models.CharField(
        _("reporter's gender"), max_length=10, choices=Gender.choices, blank=True
    )
    reporter_identity = EncryptedTextField(_("reporter's identity"), blank=True)
    reporter_department = EncryptedTextField(_("department or location"), blank=True)
    accused_relation = models.CharField(
        _("relation of the accused"), max_length=20, choices=AccusedRelation.choices
    )
    people_involved = models.CharField(
        _("people involved"),
        max_length=10,
        choices=PeopleInvolved.choices,
        default=PeopleInvolved.UNKNOWN,
    )
    repeated = models.CharField(
        _("repeated"), max_length=10, choices=Repeated.choices, default=Repeated.UNKNOWN
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    period = models.CharField(
        _("period of the facts"), max_length=10, choices=Period.choices, default=Period.RECENT
    )
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.INTAKE)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    retention_until = models.DateField(_("kept until"), null=True, blank=True)
    # Whistleblower act: set when an integrity concern becomes a report (melding).
    report_received_on = models.DateField(_("report received on"), null=True, blank=True)
    acknowledgement_due = models.DateField(_("acknowledgement due"), null=True, blank=True)
    feedback_due = models.DateField(_("feedback due"), null=True, blank=True)
    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    feedback_given_on = models.DateField(_("feedback given on"), null=True, blank=True)
    adviser_id = models.BigIntegerField(_("handling adviser"))
    next_conversation_on = models.DateField(_("next conversation"), null=True, blank=True)
    # Optimistic locking: every change of the case row increments it; a stale form is refused.
    version = models.PositiveIntegerField(default=1)
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Narrative and identifying data removed: on the reporter's request, or after retention.
    erased_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_on", "-id"]
        indexes = [
            models.Index(fields=["phase", "-opened_on"], name="cases_case_phase_idx"),
            models.Index(fields=["retention_until"], name="cases_case_retention_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="cases_case_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=(Q(phase="closed") & Q(closed_on__isnull=False) & ~Q(outcome=""))
                | (~Q(phase="closed") & Q(closed_on__isnull=True)),
                name="cases_case_closed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.phase == self.Phase.CLOSED

    @property
    def is_stripped(self) -> bool:
        """Whether the narrative is gone (erased on request or destroyed after retention)."""
        return self.erased_at is not None or self.destroyed_at is not None


class CaseCounter(models.Model):
    """The last case number handed out per year, so references never collide or repeat."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Conversation(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="conversations")
    held_on = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    summary = EncryptedTextField(_("summary"), blank=True)
    next_steps = EncryptedTextField(_("agreed next steps"), blank=True)
    adviser_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["held_on", "id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=480),
                name="cases_conversation_duration_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_on}"


class ConsentRecord(models.Model):
    """The reporter's consent for a step that involves a third party. No consent, no step."""

    class Scope(models.TextChoices):
        TALK_TO_HR = "talk_to_hr", _("Talk to HR")
        TALK_TO_MANAGER = "talk_to_manager", _("Talk to the manager")
        TALK_TO_ACCUSED = "talk_to_accused", _("Talk to the accused")
        REFERRAL = "referral", _("Refer to another professional")
        INTERNAL_ADVISER = "internal_adviser", _("Involve the internal adviser")
        COMPLAINTS_COMMITTEE = "complaints_committee", _("Contact the complaints committee")
        PAPS = "paps", _("Hand over to the PAPS (Belgium)")
        OTHER = "other", _("Other step")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(_("for"), max_length=30, choices=Scope.choices)
    third_party = EncryptedTextField(_("third party"), blank=True)
    given_on = models.DateField(_("given on"))
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["given_on", "id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                name="cases_consent_withdrawn_after_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.scope} {self.given_on}"

    def is_current(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.given_on <= day and (self.withdrawn_on is None or day < self.withdrawn_on)


class Step(models.Model):
    """An agreed action; one that involves a third party needs a current consent to be done."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    description = EncryptedTextField(_("step"))
    involves_third_party = models.BooleanField(_("involves a third party"), default=False)
    consent = models.ForeignKey(
        ConsentRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="steps"
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)
    adviser_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        constraints = [
            models.CheckConstraint(
                condition=Q(involves_third_party=False)
                | Q(done_on__isnull=True)
                | Q(consent__isnull=False),
                name="cases_step_third_party_needs_consent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} step {self.pk}"


class Referral(models.Model):
    class Target(models.TextChoices):
        OCCUPATIONAL_PHYSICIAN = "occupational_physician", _("Occupational physician")
        GP = "gp", _("General practitioner")
        PSYCHOLOGICAL_HELP = "psychological_help", _("Psychological help")
        VICTIM_SUPPORT = "victim_support", _("Victim support (Slachtofferhulp)")
        DEBT_COUNSELLING = "debt_counselling", _("Debt counselling")
        COACH = "coach", _("Coach")
        MEDIATOR = "mediator", _("Mediator")
        HR = "hr", _("HR")
        MANAGEMENT = "management", _("Management")
        COMPLAINTS_COMMITTEE = "complaints_committee", _("Complaints committee")
        WHISTLEBLOWER_AUTHORITY = (
            "whistleblower_authority",
            _("Whistleblower authority (Huis voor Klokkenluiders)"),
        )
        POLICE = "police", _("Police")
        PAPS = "paps", _("Prevention adviser psychosocial aspects (Belgium)")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    target = models.CharField(_("referred to"), max_length=30, choices=Target.choices)
    referred_on = models.DateField(_("date"))
    consent = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="referrals")
    note = EncryptedTextField(_("note"), blank=True)
    adviser_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["referred_on", "id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return f"{self.case_id} → {self.target}"


class FollowUp(models.Model):
    """Aftercare (nazorg): a planned check-in with the reporter."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followups")
    due_on = models.DateField(_("due on"))
    description = EncryptedTextField(_("what to follow up"), blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    adviser_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(fields=["case", "done_on", "due_on"], name="cases_followup_open_idx")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} follow-up {self.due_on}"


class TimeEntry(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="time_entries")
    worked_on = models.DateField(_("date"))
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    adviser_id = models.BigIntegerField()
    billable = models.BooleanField(_("billable"), default=True)
    conversation = models.OneToOneField(
        Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="time_entry"
    )
    description = EncryptedTextField(_("description"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["worked_on", "id"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [models.Index(fields=["adviser_id", "worked_on"], name="cases_time_adviser_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=720), name="cases_time_minutes_sane"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.worked_on} {self.minutes} min"


class Note(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(_("note"))
    author_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return f"{self.case_id} note {self.pk}"


class InternalRegistration(models.Model):
    """An internal adviser's contact, as an anonymous count only: no narrative, no person."""

    month = models.DateField(_("month"), help_text="The first day of the month.")
    case_type = models.CharField(_("type"), max_length=30, choices=CaseType.choices)
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), related_name="internal_registrations"
    )
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, blank=True)
    registered_by_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-month", "-id"]
        verbose_name = _("internal registration")
        verbose_name_plural = _("internal registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(month__day=1), name="cases_internal_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.case_type}"


class FormSubmission(models.Model):
    """Idempotency keys of submitted forms: a double submit finds its key taken and adds nothing."""

    key = models.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = models.CharField(max_length=30)
    # What the first submission made: a case reference, a thread's UUID, a signal's id.
    reference = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class CaseSettings(models.Model):
    """Settings of case handling for this client organisation (one row at most)."""

    # Overrides the firm's retention when set: months after closure before the narrative goes.
    retention_months = models.PositiveSmallIntegerField(
        _("retention after closure (months)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(retention_months__isnull=True) | Q(retention_months__lte=120),
                name="cases_settings_retention_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"retention {self.retention_months}"
