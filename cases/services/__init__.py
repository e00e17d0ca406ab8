"""State changes of case files: one transactional entry point per change.

Each service validates its input fully before writing (bad input raises `ValidationError`, keyed
by field where there is one, and changes nothing), then, inside its one transaction, locks the
case with `case_for_change` and checks the case's state (erased, closed, version) on the
LOCKED row, never on the caller's copy. It writes one access-log row, brings the public work
index up to date, and requests a rollup rebuild when it changed a counted fact
(`counted_fact_changed`), all in the same transaction, so nothing shows a change that rolled
back. Authorisation is the caller's: views fetch the case with `selectors.case_get_for_user`.

Forms carry an idempotency key (`submission_key`); a repeated key raises `DuplicateSubmission`
and adds nothing. Edits of the case row carry the version the form was based on; a stale
version raises `EditConflict` and changes nothing.

The sections live in their own modules; import from this package (`from cases import
services`; `services.case_open(...)`):

- `_common`: the guard, exceptions, the access log, the work index, the rollup request
- `editing`: opening a case, editing its details, planning the next conversation
- `events`: conversations, consents, steps, referrals, follow-ups, time, notes
- `lifecycle`: phases, closing, handover
- `erasure`: erasure on request, retention, export
- `internal`: internal advisers' counts, the client's case settings
"""

from cases.services._common import (
    CASE_EDITABLE,
    COUNTED_FIELDS,
    OPEN_PHASES,
    REFERRAL_SCOPES,
    DuplicateSubmission,
    EditConflict,
    SystemActor,
    case_for_change,
    client_is_belgian,
    counted_fact_changed,
    index_state,
    next_reference,
    submission_claim,
    submission_link,
)
from cases.services.editing import case_open, case_update, conversation_plan
from cases.services.erasure import case_erase, case_export, retention_destroy_due
from cases.services.events import (
    consent_record,
    consent_withdraw,
    conversation_add,
    followup_add,
    followup_mark_done,
    note_add,
    referral_add,
    step_add,
    step_mark_done,
    time_entry_add,
)
from cases.services.internal import case_settings_update, internal_registration_add
from cases.services.lifecycle import (
    case_close,
    case_handover,
    case_move_phase,
    case_paps_handover,
)

__all__ = [
    "CASE_EDITABLE",
    "COUNTED_FIELDS",
    "OPEN_PHASES",
    "REFERRAL_SCOPES",
    "DuplicateSubmission",
    "EditConflict",
    "SystemActor",
    "case_close",
    "case_erase",
    "case_export",
    "case_for_change",
    "case_handover",
    "case_move_phase",
    "case_open",
    "case_paps_handover",
    "case_settings_update",
    "case_update",
    "client_is_belgian",
    "consent_record",
    "consent_withdraw",
    "conversation_add",
    "conversation_plan",
    "counted_fact_changed",
    "followup_add",
    "followup_mark_done",
    "index_state",
    "internal_registration_add",
    "next_reference",
    "note_add",
    "referral_add",
    "retention_destroy_due",
    "step_add",
    "step_mark_done",
    "submission_claim",
    "submission_link",
    "time_entry_add",
]
