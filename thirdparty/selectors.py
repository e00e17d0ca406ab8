"""Reads of the register of acts by third parties; every read and export is logged."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractYear

from accounts.models import User
from audit.models import AccessLogEntry
from audit.services import access_log_write
from thirdparty.models import Declaration
from thirdparty.services import OBJECT_TYPE

EXPORT_COLUMNS = [
    "declared_on",
    "facts_on",
    "kind",
    "outsider",
    "description",
    "kept_until",
]


def declaration_list(*, actor: User) -> list[Declaration]:
    """Every declaration in the register, newest first; logs one READ (causes two queries)."""
    declarations = list(Declaration.objects.all())
    access_log_write(
        actor=actor,
        action=AccessLogEntry.Action.READ,
        object_type=OBJECT_TYPE,
        object_reference="register",
        detail=f"{len(declarations)} declaration(s) shown",
    )
    return declarations


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register_export_csv(*, actor: User) -> str:
    """The register as CSV (for the inspection, the risk analysis and the yearly report).

    Codes for the kind of act and of outsider (stable across languages), the facts as written.
    Logs one EXPORT.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    rows = Declaration.objects.order_by("declared_on", "created_at")
    count = 0
    for declaration in rows:
        writer.writerow(
            [
                _cell(declaration.declared_on.isoformat()),
                _cell(declaration.facts_on.isoformat() if declaration.facts_on else ""),
                _cell(declaration.kind),
                _cell(declaration.outsider),
                _cell(declaration.description),
                _cell(declaration.destroy_after.isoformat()),
            ]
        )
        count += 1
    access_log_write(
        actor=actor,
        action=AccessLogEntry.Action.EXPORT,
        object_type=OBJECT_TYPE,
        object_reference="register",
        detail=f"{count} declaration(s) exported as CSV",
    )
    return out.getvalue()


SUMMARY_COLUMNS = ["year", "kind", "outsider", "declarations"]


def register_summary_csv(*, actor: User) -> str:
    """Declarations counted per year of declaration, kind of act and kind of outsider, as CSV:
    what the employer's risk analysis and yearly report need, without the facts.

    Only the register's readers get it, and they may read every declaration anyway, so small
    counts are shown as they are (nothing here may go to a board or a contact person: their
    figures pass `reports.suppression` through the releases). Every combination of kind and
    outsider is a row, zeros too, so a reader sees the same rows every year. Logs one EXPORT.
    """
    counts = {
        (row["year"], row["kind"], row["outsider"]): row["number"]
        for row in Declaration.objects.annotate(year=ExtractYear("declared_on"))
        .values("year", "kind", "outsider")
        .annotate(number=Count("pk"))
    }
    years = sorted({year for year, _kind, _outsider in counts})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SUMMARY_COLUMNS)
    for year in years:
        for kind in Declaration.Kind.values:
            for outsider in Declaration.Outsider.values:
                writer.writerow([year, kind, outsider, counts.get((year, kind, outsider), 0)])
    access_log_write(
        actor=actor,
        action=AccessLogEntry.Action.EXPORT,
        object_type=OBJECT_TYPE,
        object_reference="register",
        detail=f"summary of {sum(counts.values())} declaration(s) in {len(years)} year(s) "
        "exported as CSV",
    )
    return out.getvalue()
