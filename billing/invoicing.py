"""The figures a firm invoices its own clients with, and their exports (CSV, XLSX, PDF).

Per client organisation and period: the annual fee pro rata (fixed, or by employee count from
BILLING_CLIENT_FEE_TIERS), hours spent (sums per month, never case detail), the included hours
pro rata, hours above them and the amount. Arithmetic is in Decimal, rounded to cents per line.
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from billing import conf, selectors
from billing.models import ClientContract
from tenants.dates import years_later
from tenants.models import ClientOrganisation, Firm

CENT = Decimal("0.01")
MAX_PERIOD_YEARS = 5


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @property
    def months(self) -> list[datetime.date]:
        """First day of every month the period touches."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(day)
            day = (day + datetime.timedelta(days=32)).replace(day=1)
        return months


def period_make(start: datetime.date, end: datetime.date) -> Period:
    """A validated period: ends on or after its start, spans at most five years."""
    if end < start:
        raise ValidationError(_("The period ends before it starts."))
    limit = years_later(start, MAX_PERIOD_YEARS)
    if end >= limit:
        raise ValidationError(_("A period can span at most five years."))
    return Period(start, end)


def year_fraction(start: datetime.date, end: datetime.date) -> Decimal:
    """The share of a year from start to end inclusive, each day weighted by its own year."""
    total, day = Decimal("0"), start
    while day <= end:
        segment_end = min(end, datetime.date(day.year, 12, 31))
        days = (segment_end - day).days + 1
        total += Decimal(days) / Decimal(366 if calendar.isleap(day.year) else 365)
        day = segment_end + datetime.timedelta(days=1)
    return total


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Line:
    client: ClientOrganisation
    contract: ClientContract | None
    months: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    hours_spent: Decimal = Decimal("0")
    annual_fee: Decimal | None = None
    fee_due: Decimal | None = None
    hours_included: Decimal | None = None
    hours_above: Decimal | None = None
    hourly_rate: Decimal | None = None
    amount: Decimal | None = None


def line_compute(
    client: ClientOrganisation,
    contract: ClientContract | None,
    period: Period,
    monthly_hours: dict[datetime.date, Decimal],
) -> Line:
    """One client's figures for the period. Without a contract only the hours are known.

    With a contract, only the hours of the months from the month billing starts count: hours
    before ``billed_from`` are not billable under it, just as its fee and included hours are
    pro-rated from that day. Hours after the contract ended still count (work that runs on is
    billed at the hourly rate).
    """
    if contract is None:
        months = [(month, monthly_hours.get(month, Decimal("0"))) for month in period.months]
        return Line(
            client=client,
            contract=None,
            months=months,
            hours_spent=sum((h for _m, h in months), Decimal("0")),
        )
    billed_from = max(period.start, contract.starts_on)
    billed_until = (
        min(period.end, client.contract_ends_on) if client.contract_ends_on else period.end
    )
    first_month = billed_from.replace(day=1)
    months = [
        (month, monthly_hours.get(month, Decimal("0")))
        for month in period.months
        if month >= first_month
    ]
    line = Line(
        client=client,
        contract=contract,
        months=months,
        hours_spent=sum((h for _m, h in months), Decimal("0")),
    )
    share = (
        year_fraction(billed_from, billed_until) if billed_from <= billed_until else Decimal("0")
    )
    if contract.fee_mode == ClientContract.FeeMode.FIXED:
        annual = contract.annual_fee or Decimal("0")
    else:
        annual = conf.tiered_annual_fee(client.employee_count)
    line.annual_fee = annual
    line.fee_due = _money(annual * share)
    line.hours_included = _money(contract.hours_included_per_year * share)
    line.hours_above = max(Decimal("0.00"), line.hours_spent - line.hours_included)
    line.hourly_rate = contract.hourly_rate
    line.amount = line.fee_due + _money(line.hours_above * contract.hourly_rate)
    return line


def lines_for(*, firm: Firm, period: Period) -> list[Line]:
    """Every invoiceable client of the firm with its figures for the period."""
    hours = selectors.hours_by_client_and_month(firm, period.start, period.end)
    return [
        line_compute(client, client.billing_contract, period, hours.get(client.pk, {}))  # type: ignore[attr-defined]
        for client in selectors.billable_clients(firm=firm)
    ]


def line_for(*, client: ClientOrganisation, period: Period) -> Line:
    """One client's figures (its statement)."""
    hours = selectors.hours_by_client_and_month(
        client.firm, period.start, period.end, client_ids=[client.pk]
    )
    contract = ClientContract.objects.filter(client=client).first()
    return line_compute(client, contract, period, hours.get(client.pk, {}))


def _headers() -> list[str]:
    return [
        _("Client organisation"),
        _("Short name"),
        _("From"),
        _("Until"),
        _("Annual fee"),
        _("Fee due"),
        _("Hours spent"),
        _("Hours included"),
        _("Hours above included"),
        _("Hourly rate"),
        _("Amount"),
    ]


def _row(line: Line, period: Period) -> list[object]:
    return [
        line.client.name,
        line.client.slug,
        period.start,
        period.end,
        line.annual_fee,
        line.fee_due,
        line.hours_spent,
        line.hours_included,
        line.hours_above,
        line.hourly_rate,
        line.amount,
    ]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    # A cell starting with these is a formula to spreadsheet programs: neutralise it.
    return (
        "'" + text
        if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text)
        else text
    )


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def export_csv(lines: list[Line], period: Period) -> bytes:
    """CSV (UTF-8 with BOM so spreadsheet programs pick the encoding), one row per client."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    for line in lines:
        writer.writerow([_cell_text(value) for value in _row(line, period)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(lines: list[Line], period: Period) -> bytes:
    """An XLSX workbook with the same columns; numbers as numbers, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Invoicing")[:31]
    sheet.append(_headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in lines:
        values = []
        for value in _row(line, period):
            if isinstance(value, Decimal):
                values.append(float(value))
            elif isinstance(value, str):
                # Names from before the one name rule may hold control characters, which
                # openpyxl refuses (the export answered 500): leave them out of the cell.
                values.append(ILLEGAL_CHARACTERS_RE.sub("", _cell_text(value)))
            else:
                values.append(value)
        sheet.append(values)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.00"
            elif isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    sheet.column_dimensions["A"].width = 32
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def statement_html(*, firm: Firm, line: Line, period: Period) -> str:
    """The statement of one client: hours per month and the totals, without any case detail."""
    return render_to_string(
        "billing/statement.html",
        {"firm": firm, "line": line, "period": period, "client": line.client},
    )


def statement_pdf(*, firm: Firm, line: Line, period: Period) -> bytes:
    from weasyprint import HTML

    return HTML(string=statement_html(firm=firm, line=line, period=period)).write_pdf()
