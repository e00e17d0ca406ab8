"""Calendar arithmetic shared by every app: one place for the leap day."""

from __future__ import annotations

import datetime


def years_later(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later (earlier when negative); 29 February becomes 28 February.

    `day.replace(year=...)` raises on 29 February, so every "N years from today" written that
    way answered 500 on a leap day."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
