"""Writes in the public schema for reports: the firm's batch of annual report drafts."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from reports.models import ReportBatch
from tenants.models import Firm

FIRST_YEAR = 2000


def report_batch_request(
    *, firm: Firm, year: Any, actor: User, submission_key: uuid.UUID | str | None = None
) -> ReportBatch:
    """Queue drafting the annual reports of `year` for every active client of the firm.

    Refused (nothing queued) for a year outside 2000..this year, or while a batch of the same
    year is still running. A repeated `submission_key` returns the batch the first submission
    started (a double click neither starts a second batch nor reads as refused).
    """
    key: uuid.UUID | None = None
    if submission_key:
        try:
            key = uuid.UUID(str(submission_key))
        except ValueError:
            raise ValidationError(
                _("This form is damaged; reload the page and try again.")
            ) from None
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": _("Enter a year.")}) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise ValidationError(
            {"year": _("Choose a year from %(first)d to this year.") % {"first": FIRST_YEAR}}
        )
    with transaction.atomic():
        Firm.objects.select_for_update().get(pk=firm.pk)
        if key is not None:
            # Under the firm's lock: the first submission has committed or not started.
            earlier = ReportBatch.objects.filter(submission_key=key).first()
            if earlier is not None:
                if earlier.firm_id != firm.pk:
                    raise ValidationError(_("This form is damaged; reload the page and try again."))
                return earlier
        if (
            ReportBatch.objects.filter(firm=firm, year=year)
            .exclude(status=ReportBatch.Status.DONE)
            .exists()
        ):
            raise ValidationError(
                {
                    "year": _("The annual reports of %(year)d are being drafted already.")
                    % {"year": year}
                }
            )
        batch = ReportBatch.objects.create(
            firm=firm, year=year, requested_by=actor, submission_key=key
        )

        def start() -> None:
            from reports.tasks import report_batch_start

            if settings.CELERY_TASK_ALWAYS_EAGER and not settings.TESTING:
                # No broker (development): in-process tasks would hold the POST for the whole
                # batch (12 s for six clients, the browser frozen). Run them beside the
                # response; the page polls the progress.
                threading.Thread(target=_batch_run, args=(batch.pk,), daemon=True).start()
            else:
                report_batch_start.delay(batch.pk)

        transaction.on_commit(start)
    return batch


def _batch_run(batch_id: int) -> None:
    from django.db import connections

    from reports.tasks import report_batch_start

    try:
        report_batch_start.delay(batch_id)
    finally:
        connections.close_all()
