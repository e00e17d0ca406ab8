"""Writes in the public schema for reports: the firm's batch of annual report drafts."""

from __future__ import annotations

import threading
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


def report_batch_request(*, firm: Firm, year: Any, actor: User) -> ReportBatch:
    """Queue drafting the annual reports of `year` for every active client of the firm.

    Refused (nothing queued) for a year outside 2000..this year, or while a batch of the same
    year is still running.
    """
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
        batch = ReportBatch.objects.create(firm=firm, year=year, requested_by=actor)

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
