"""Reporting periods: whole calendar quarters.

Figures are published per calendar year and quarter (see `reports.frames`); a period a reader
chooses is a run of whole quarters, so every figure for it is a sum of published quarter cells
and choosing overlapping periods cannot peel a small number out of two larger ones.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAXIMUM_YEARS = 10
QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1..4

    @classmethod
    def of(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Parse "2025-Q3"; raise ValidationError for anything else."""
        match = QUARTER_PATTERN.match((text or "").strip())
        if not match or not 1900 < int(match.group(1)) < 2200:
            raise ValidationError(_("Enter a quarter such as 2025-Q3."))
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def starts_on(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def ends_on(self) -> datetime.date:
        following = self.shifted(1).starts_on
        return following - datetime.timedelta(days=1)

    def shifted(self, quarters: int) -> Quarter:
        index = self.year * 4 + self.number - 1 + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __str__(self) -> str:
        return self.label


def year_quarters(year: int) -> list[Quarter]:
    return [Quarter(year, number) for number in range(1, 5)]


@dataclass(frozen=True)
class Period:
    """From the first day of `first` to the last day of `last`, both whole quarters."""

    first: Quarter
    last: Quarter

    @property
    def quarters(self) -> list[Quarter]:
        count = (self.last.year - self.first.year) * 4 + self.last.number - self.first.number + 1
        return [self.first.shifted(step) for step in range(count)]

    @property
    def years(self) -> list[int]:
        return list(range(self.first.year, self.last.year + 1))

    @property
    def starts_on(self) -> datetime.date:
        return self.first.starts_on

    @property
    def ends_on(self) -> datetime.date:
        return self.last.ends_on

    def a_year_earlier(self) -> Period:
        return Period(self.first.shifted(-4), self.last.shifted(-4))

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.label
        if self.first.number == 1 and self.last.number == 4 and self.first.year == self.last.year:
            return str(self.first.year)
        return f"{self.first.label} \N{EN DASH} {self.last.label}"


def period_make(first: Quarter, last: Quarter) -> Period:
    """Return the period, or raise ValidationError when it ends first or is too long."""
    if last < first:
        raise ValidationError(_("The period ends before it starts."))
    if (last.year - first.year) * 4 + last.number - first.number + 1 > MAXIMUM_YEARS * 4:
        raise ValidationError(
            _("A period can span at most %(years)d years.") % {"years": MAXIMUM_YEARS}
        )
    return Period(first, last)


def period_parse(first: str | None, last: str | None, *, today: datetime.date) -> Period:
    """Parse a period from "2025-Q1"-style strings; default: the released year to date (the
    last complete year until the first quarter of the new one is released). A run from the
    first quarter is one released cell (its year to date), shown far more often than the sum
    of four small quarters across a year's end."""
    if not first and not last:
        from reports.releases import last_due_quarter

        current = last_due_quarter(today)
        return Period(Quarter(current.year, 1), current)
    if not first or not last:
        raise ValidationError(_("Choose both the first and the last quarter."))
    return period_make(Quarter.parse(first), Quarter.parse(last))


def period_from_dates(starts_on: datetime.date, ends_on: datetime.date) -> Period:
    """Return the whole quarters covering two dates; ValidationError when they are reversed."""
    if ends_on < starts_on:
        raise ValidationError(_("The period ends before it starts."))
    return period_make(Quarter.of(starts_on), Quarter.of(ends_on))
