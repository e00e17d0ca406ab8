"""Writes for annual reports, board signals and activities (inside one client's schema).

Each service validates completely before it writes: bad input raises ValidationError and
changes nothing. Each writes one access-log row. Authorisation (who may call which) is the
views'; the state rules (a published report never changes) are enforced here.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import AccessLogEntry
from audit.services import access_log_write
from boardroom import annual, selectors
from boardroom.emails import SIGNAL_REMINDER, SIGNAL_SENT, contact_person_ids
from boardroom.models import ACKNOWLEDGEMENT_DAYS, Activity, AnnualReport, BoardSignal
from boardroom.textcheck import text_problems
from cases.services import submission_claim, submission_link
from mail.outbox import Email, emails_enqueue
from tenants.current import current_client_organisation

logger = logging.getLogger(__name__)
Action = AccessLogEntry.Action
FIRST_YEAR = 2000
TEXT_LIMIT = 20_000
REMINDER_INTERVAL_DAYS = 7


def _log(
    actor: User | None, action: str, object_type: str, reference: str, detail: str = ""
) -> None:
    access_log_write(
        actor=actor,
        action=action,
        object_type=object_type,
        object_reference=reference,
        detail=detail,
    )


def _check_texts(fields: dict[str, str], *, k: int) -> None:
    """Raise ValidationError (per field) when a text names someone or shows a small number."""
    client = current_client_organisation()
    known = client.name.split()
    # A percentage of a total the board was shown can give a small number away ("25% of 12").
    totals = selectors.shown_totals_current()
    errors: dict[str, list[str]] = {}
    for name, text in fields.items():
        if len(text) > TEXT_LIMIT:
            errors[name] = [_("Keep this under %(limit)d characters.") % {"limit": TEXT_LIMIT}]
            continue
        problems = text_problems(text, k=k, known=known, totals=totals)
        if problems:
            errors[name] = problems
    if errors:
        raise ValidationError(errors)


def _year(year: Any) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": _("Enter a year.")}) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise ValidationError(
            {"year": _("Choose a year from %(first)d to this year.") % {"first": FIRST_YEAR}}
        )
    return year


# --- annual reports ----------------------------------------------------------------------------


def report_draft_create(*, actor: User, year: Any) -> AnnualReport:
    """Start the annual report of a year as a draft; ValidationError when it exists already."""
    year = _year(year)
    with transaction.atomic():
        if AnnualReport.objects.filter(year=year).exists():
            raise ValidationError(
                {"year": _("The annual report of %(year)d exists already.") % {"year": year}}
            )
        report = AnnualReport.objects.create(year=year, created_by_id=getattr(actor, "pk", None))
        _log(actor, Action.CREATE, "annual_report", str(year))
    return report


def _locked(report: AnnualReport, expected_version: int | None = None) -> AnnualReport:
    locked = AnnualReport.objects.select_for_update().get(pk=report.pk)
    if locked.is_published:
        raise ValidationError(_("This annual report is published and can no longer be changed."))
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError(
            _(
                "Somebody changed this report while you were editing it. Nothing was saved: "
                "reload the page and make your changes again."
            )
        )
    return locked


def report_update(
    *,
    actor: User,
    report: AnnualReport,
    narrative: str,
    recommendations: str,
    expected_version: int,
) -> AnnualReport:
    """Save the adviser's texts of a draft. Published or in review: refused, nothing changed."""
    narrative, recommendations = (narrative or "").strip(), (recommendations or "").strip()
    _check_texts(
        {"narrative": narrative, "recommendations": recommendations},
        k=selectors.threshold_current(),
    )
    with transaction.atomic():
        locked = _locked(report, expected_version)
        if locked.status != AnnualReport.Status.DRAFT:
            raise ValidationError(
                _("This annual report is in review. The reviewer can return it to draft.")
            )
        locked.narrative = narrative
        locked.recommendations = recommendations
        locked.version = F("version") + 1
        locked.updated_at = timezone.now()
        locked.save(update_fields=["narrative", "recommendations", "version", "updated_at"])
        _log(actor, Action.UPDATE, "annual_report", str(locked.year), "texts")
    locked.refresh_from_db()
    return locked


def report_submit(
    *,
    actor: User,
    report: AnnualReport,
    narrative: str | None = None,
    recommendations: str | None = None,
    expected_version: int | None = None,
) -> AnnualReport:
    """Send a draft to review by a firm administrator.

    With texts (the page's form always sends them), they are saved first in the same
    transaction: a refused text refuses the submission and changes nothing, so text typed
    without pressing "Save" is never lost behind a locked report.
    """
    texts: tuple[str, str] | None = None
    if narrative is not None or recommendations is not None:
        texts = ((narrative or "").strip(), (recommendations or "").strip())
        _check_texts(
            {"narrative": texts[0], "recommendations": texts[1]},
            k=selectors.threshold_current(),
        )
    with transaction.atomic():
        locked = _locked(report, expected_version)
        if locked.status != AnnualReport.Status.DRAFT:
            raise ValidationError(_("Only a draft can be sent for review."))
        fields = ["status", "submitted_at", "submitted_by_id"]
        if texts is not None and texts != (locked.narrative, locked.recommendations):
            locked.narrative, locked.recommendations = texts
            locked.version = F("version") + 1
            locked.updated_at = timezone.now()
            fields += ["narrative", "recommendations", "version", "updated_at"]
            _log(actor, Action.UPDATE, "annual_report", str(locked.year), "texts")
        locked.status = AnnualReport.Status.REVIEW
        locked.submitted_at = timezone.now()
        locked.submitted_by_id = actor.pk
        locked.save(update_fields=fields)
        _log(actor, Action.UPDATE, "annual_report", str(locked.year), "sent for review")
    locked.refresh_from_db()
    return locked


def report_empty_sections(report: AnnualReport) -> list[str]:
    """The adviser's sections of a report that are still empty (their field names)."""
    return [name for name in ("narrative", "recommendations") if not getattr(report, name).strip()]


def report_return(*, actor: User, report: AnnualReport, note: str) -> AnnualReport:
    """Return a report in review to draft, with the reviewer's note."""
    note = (note or "").strip()
    _check_texts({"note": note}, k=selectors.threshold_current())
    with transaction.atomic():
        locked = _locked(report)
        if locked.status != AnnualReport.Status.REVIEW:
            raise ValidationError(_("Only a report in review can be returned."))
        locked.status = AnnualReport.Status.DRAFT
        locked.review_note = note
        locked.save(update_fields=["status", "review_note"])
        _log(actor, Action.UPDATE, "annual_report", str(locked.year), "returned to draft")
    return locked


def report_publish(
    *, actor: User, report: AnnualReport, publish_empty_sections: bool = False
) -> AnnualReport:
    """Publish a reviewed report: freeze its figures, HTML and PDF, with the PDF's SHA-256.

    A report published before is refused with a clear error and stays as it was. A report
    with an empty section ("Not written yet." frozen forever) needs the reviewer's explicit
    ``publish_empty_sections``.
    """
    with transaction.atomic():
        locked = _locked(report)  # refuses a published report
        if locked.status != AnnualReport.Status.REVIEW:
            raise ValidationError(
                _("A report is published after review; send it for review first.")
            )
        if report_empty_sections(locked) and not publish_empty_sections:
            raise ValidationError(
                _(
                    "Some texts of this report are empty. Return it to the adviser, or tick "
                    "that you publish it with empty texts."
                )
            )
        figures = annual.figures_build(locked.year)
        content = annual.content_build(locked, figures=figures)
        published_on = timezone.localdate()
        body = annual.html_render(
            content, status=AnnualReport.Status.PUBLISHED, published_on=published_on
        )
        pdf = annual.pdf_render(annual.document_render(body, title=annual.report_title(content)))
        locked.status = AnnualReport.Status.PUBLISHED
        locked.figures = figures
        locked.html = body
        locked.pdf = base64.b64encode(pdf).decode()
        locked.sha256 = hashlib.sha256(pdf).hexdigest()
        locked.published_at = timezone.now()
        locked.published_by_id = actor.pk
        locked.save()
        _log(
            actor,
            Action.UPDATE,
            "annual_report",
            str(locked.year),
            f"published {locked.sha256[:16]}",
        )
    return locked


def report_draft_prepare(*, year: int, actor: User | None = None) -> AnnualReport | None:
    """For the firm's batch: make sure a draft of `year` exists and render its PDF preview.

    Reports in review or published are left alone (returns them unchanged).
    """
    year = _year(year)
    with transaction.atomic():
        report, created = AnnualReport.objects.select_for_update().get_or_create(
            year=year, defaults={"created_by_id": getattr(actor, "pk", None)}
        )
        if report.status != AnnualReport.Status.DRAFT:
            return report
        content = annual.content_build(report)
        body = annual.html_render(content, status=report.status, published_on=None)
        pdf = annual.pdf_render(annual.document_render(body, title=annual.report_title(content)))
        report.draft_pdf = base64.b64encode(pdf).decode()
        report.draft_rendered_at = timezone.now()
        report.save(update_fields=["draft_pdf", "draft_rendered_at"])
        _log(
            actor,
            Action.CREATE if created else Action.UPDATE,
            "annual_report",
            str(year),
            "draft prepared",
        )
    return report


# --- board signals -----------------------------------------------------------------------------


def _signal_fields(title: str, risk: str, recommendation: str, severity: str) -> dict[str, str]:
    fields = {
        "title": (title or "").strip(),
        "risk": (risk or "").strip(),
        "recommendation": (recommendation or "").strip(),
    }
    errors = {name: [_("This field is required.")] for name, value in fields.items() if not value}
    if len(fields["title"]) > 200:
        errors["title"] = [_("Keep the title under 200 characters.")]
    if severity not in BoardSignal.Severity.values:
        errors["severity"] = [_("Choose one of the options.")]
    if errors:
        raise ValidationError(errors)
    _check_texts(fields, k=selectors.threshold_current())
    return fields


def signal_create(
    *,
    actor: User,
    title: str,
    risk: str,
    recommendation: str,
    severity: str,
    theme_code: str = "",
    submission_key: uuid.UUID | str | None = None,
) -> BoardSignal:
    """Save a signal as a draft (checked: no names, contact details or small numbers). A
    repeated `submission_key` raises DuplicateSubmission naming the first draft."""
    fields = _signal_fields(title, risk, recommendation, severity)
    with transaction.atomic():
        claimed = submission_claim(submission_key, "board_signal")
        signal = BoardSignal.objects.create(
            **fields, severity=severity, theme_code=(theme_code or "")[:40], created_by_id=actor.pk
        )
        submission_link(claimed, str(signal.pk))
        _log(actor, Action.CREATE, "board_signal", str(signal.pk))
    return signal


def signal_update(
    *, actor: User, signal: BoardSignal, title: str, risk: str, recommendation: str, severity: str
) -> BoardSignal:
    """Change a draft signal; a sent signal is refused."""
    fields = _signal_fields(title, risk, recommendation, severity)
    with transaction.atomic():
        locked = BoardSignal.objects.select_for_update().get(pk=signal.pk)
        if locked.status != BoardSignal.Status.DRAFT:
            raise ValidationError(_("This signal was sent and can no longer be changed."))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.severity = severity
        locked.save()
        _log(actor, Action.UPDATE, "board_signal", str(locked.pk))
    return locked


def signal_delete(*, actor: User, signal: BoardSignal) -> None:
    """Delete a draft signal (nobody but advisers has seen it); a sent signal is refused."""
    with transaction.atomic():
        locked = BoardSignal.objects.select_for_update().filter(pk=signal.pk).first()
        if locked is None:
            return  # deleted by a request before this one: the outcome the adviser asked for
        if locked.status != BoardSignal.Status.DRAFT:
            raise ValidationError(_("This signal was sent and can no longer be deleted."))
        locked.delete()
        _log(actor, Action.ERASE, "board_signal", str(signal.pk), "draft deleted")


def _contact_persons_notify(*, kind: str, key: str) -> None:
    """In the caller's transaction: one outbox e-mail per contact person of the current client
    (sent by a worker after commit; an SMTP failure never reaches the request)."""
    client = current_client_organisation()
    emails_enqueue(
        Email(kind=kind, key=f"{key}:{user_id}", recipient_id=user_id, client=client)
        for user_id in contact_person_ids(client.pk)
    )


def signal_send(*, actor: User, signal: BoardSignal) -> BoardSignal:
    """Send a draft to the board (checked again), with an acknowledgement deadline."""
    with transaction.atomic():
        locked = BoardSignal.objects.select_for_update().get(pk=signal.pk)
        if locked.status != BoardSignal.Status.DRAFT:
            raise ValidationError(_("This signal was sent already."))
        _signal_fields(locked.title, locked.risk, locked.recommendation, locked.severity)
        locked.status = BoardSignal.Status.SENT
        locked.sent_at = timezone.now()
        locked.acknowledgement_due = timezone.localdate() + datetime.timedelta(
            days=ACKNOWLEDGEMENT_DAYS
        )
        locked.save(update_fields=["status", "sent_at", "acknowledgement_due"])
        _log(actor, Action.UPDATE, "board_signal", str(locked.pk), "sent")
        _contact_persons_notify(kind=SIGNAL_SENT, key=str(locked.pk))
    return locked


def signal_acknowledge(*, actor: User, signal: BoardSignal) -> BoardSignal:
    """Record that a contact person read the signal; a second time changes nothing."""
    with transaction.atomic():
        locked = BoardSignal.objects.select_for_update().get(pk=signal.pk)
        if locked.status == BoardSignal.Status.DRAFT:
            raise ValidationError(_("This signal has not been sent."))
        if locked.acknowledged_at is not None:
            return locked
        locked.status = BoardSignal.Status.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by_id = actor.pk
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by_id"])
        _log(actor, Action.UPDATE, "board_signal", str(locked.pk), "acknowledged")
    return locked


def signal_follow_up(*, actor: User, signal: BoardSignal, text: str) -> BoardSignal:
    """Record what the organisation did about a signal (acknowledging it if not done yet)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"follow_up": _("Describe what the organisation did.")})
    _check_texts({"follow_up": text}, k=selectors.threshold_current())
    with transaction.atomic():
        locked = BoardSignal.objects.select_for_update().get(pk=signal.pk)
        if locked.status == BoardSignal.Status.DRAFT:
            raise ValidationError(_("This signal has not been sent."))
        now = timezone.now()
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.pk
        locked.follow_up = text
        locked.followed_up_at = now
        locked.followed_up_by_id = actor.pk
        locked.status = BoardSignal.Status.FOLLOWED_UP
        locked.save()
        _log(actor, Action.UPDATE, "board_signal", str(locked.pk), "follow-up recorded")
    return locked


def signal_reminders_send(*, today: datetime.date | None = None) -> int:
    """Remind contact persons of sent signals past their acknowledgement date (at most weekly
    per signal). Returns the number of signals reminded about."""
    today = today or timezone.localdate()
    with transaction.atomic():
        overdue = list(
            BoardSignal.objects.select_for_update(skip_locked=True)
            .filter(
                status=BoardSignal.Status.SENT,
                acknowledged_at__isnull=True,
                acknowledgement_due__lt=today,
            )
            .exclude(last_reminded_on__gt=today - datetime.timedelta(days=REMINDER_INTERVAL_DAYS))
            .values_list("pk", flat=True)
        )
        if not overdue:
            return 0
        # One e-mail per contact person and day, however often the task is delivered.
        _contact_persons_notify(kind=SIGNAL_REMINDER, key=today.isoformat())
        BoardSignal.objects.filter(pk__in=overdue).update(last_reminded_on=today)
    return len(overdue)


# --- activities --------------------------------------------------------------------------------


def activity_add(
    *,
    actor: User,
    kind: str,
    held_on: Any,
    minutes: Any,
    submission_key: uuid.UUID | str | None = None,
) -> Activity:
    """Register an activity (information session, training, advice to management). A repeated
    `submission_key` raises DuplicateSubmission and adds nothing."""
    errors: dict[str, list[str]] = {}
    if kind not in Activity.Kind.values:
        errors["kind"] = [_("Choose one of the options.")]
    if not isinstance(held_on, datetime.date):
        errors["held_on"] = [_("Enter a date.")]
    elif held_on > timezone.localdate():
        errors["held_on"] = [_("This date is in the future.")]
    elif held_on.year < FIRST_YEAR:
        errors["held_on"] = [
            _("Choose a year from %(first)d to this year.") % {"first": FIRST_YEAR}
        ]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        errors["minutes"] = [_("Enter a number of minutes from 1 to 1440.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        submission_claim(submission_key, "activity")
        activity = Activity.objects.create(
            kind=kind, held_on=held_on, minutes=minutes, registered_by_id=actor.pk
        )
        _log(actor, Action.CREATE, "activity", str(activity.pk), kind)
    return activity
