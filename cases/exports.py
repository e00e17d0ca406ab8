"""One case as data (JSON) or as a document (PDF), for a reporter's access request (AVG art. 15)."""

from __future__ import annotations

import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from audit.labels import note_label
from audit.models import AccessLogEntry
from cases.models import Case
from cases.selectors import case_page, people_by_id

FORMAT_VERSION = 1


def _date(value: datetime.date | datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _coded(case: Case, field: str) -> dict[str, str] | None:
    value = getattr(case, field)
    if not value:
        return None
    return {"code": value, "label": str(getattr(case, f"get_{field}_display")())}


def case_data(case: Case) -> dict[str, Any]:
    """Everything the file holds about this case, decrypted, plus who accessed it when."""
    page = case_page(case)
    log = list(
        AccessLogEntry.objects.filter(object_type="case", object_reference=case.reference).order_by(
            "at", "id"
        )
    )
    ids = {
        case.adviser_id,
        *(c.adviser_id for c in page.conversations),
        *(n.author_id for n in page.notes),
    }
    people = people_by_id(ids)

    def name(user_id: int | None) -> str | None:
        person = people.get(user_id) if user_id else None
        return (person.get_full_name() or person.email) if person else None

    return {
        "format": "vertrouwd.case",
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "case": {
            "reference": case.reference,
            "type": _coded(case, "case_type"),
            "themes": [{"code": theme.code, "label": str(theme)} for theme in case.themes.all()],
            "reporter": {
                "role": _coded(case, "reporter_role"),
                "gender": _coded(case, "reporter_gender"),
                "identity": case.reporter_identity,
                "department_or_location": case.reporter_department,
            },
            "accused": {
                "relation": _coded(case, "accused_relation"),
                "people_involved": _coded(case, "people_involved"),
                "repeated": _coded(case, "repeated"),
            },
            "channel": _coded(case, "channel"),
            "period_of_facts": _coded(case, "period"),
            "phase": _coded(case, "phase"),
            "outcome": _coded(case, "outcome"),
            "opened_on": _date(case.opened_on),
            "closed_on": _date(case.closed_on),
            "kept_until": _date(case.retention_until),
            "whistleblower_report": {
                "received_on": _date(case.report_received_on),
                "acknowledgement_due": _date(case.acknowledgement_due),
                "acknowledged_on": _date(case.acknowledged_on),
                "feedback_due": _date(case.feedback_due),
                "feedback_given_on": _date(case.feedback_given_on),
            },
            "next_conversation_on": _date(case.next_conversation_on),
            "handling_adviser": name(case.adviser_id),
            "erased_at": _date(case.erased_at),
            "destroyed_at": _date(case.destroyed_at),
        },
        "conversations": [
            {
                "date": _date(item.held_on),
                "duration_minutes": item.duration_minutes,
                "summary": item.summary,
                "agreed_next_steps": item.next_steps,
                "adviser": name(item.adviser_id),
            }
            for item in page.conversations
        ],
        "consents": [
            {
                "for": {"code": item.scope, "label": str(item.get_scope_display())},
                "third_party": item.third_party,
                "given_on": _date(item.given_on),
                "withdrawn_on": _date(item.withdrawn_on),
            }
            for item in page.consents
        ],
        "steps": [
            {
                "step": item.description,
                "involves_third_party": item.involves_third_party,
                "done_on": _date(item.done_on),
            }
            for item in page.steps
        ],
        "referrals": [
            {
                "to": {"code": item.target, "label": str(item.get_target_display())},
                "date": _date(item.referred_on),
                "note": item.note,
            }
            for item in page.referrals
        ],
        "follow_ups": [
            {"due_on": _date(item.due_on), "what": item.description, "done_on": _date(item.done_on)}
            for item in page.followups
        ],
        "time_entries": [
            {
                "date": _date(item.worked_on),
                "minutes": item.minutes,
                "billable": item.billable,
                "description": item.description,
            }
            for item in page.time_entries
        ],
        "notes": [
            {
                "written_at": _date(item.created_at),
                "author": name(item.author_id),
                "text": item.text,
            }
            for item in page.notes
        ],
        "access_log": [
            {
                "at": _date(entry.at),
                "who": entry.actor_email,
                "action": entry.action,
                "what": note_label(
                    entry.detail,
                    object_type=entry.object_type,
                    note=entry.note,
                    params=entry.note_params,
                ),
            }
            for entry in log
        ],
    }


def case_pdf(data: dict[str, Any]) -> bytes:
    """Render exported case data as an A4 PDF (WeasyPrint; about a fifth of a second)."""
    from weasyprint import HTML

    html = render_to_string("cases/export_pdf.html", {"data": data})
    return HTML(string=html).write_pdf()
