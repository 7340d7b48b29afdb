"""Reporting periods: a month (``2026-11``), a quarter (``2026-Q4``), a year (``2026``)
or any ``from``..``to`` (a funding period), as inclusive local dates."""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

#: The longest period a report covers: an ESF Plus funding period (2021-2027) and a
#: little more. Longer requests are refused rather than computed for minutes.
MAX_DAYS = 366 * 8

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValueError(f"the period spans more than {MAX_DAYS} days")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label_de(self) -> str:
        """``November 2026``, ``4. Quartal 2026``, ``2026`` or ``01.11.2026–15.12.2026``."""
        start, end = self.start, self.end
        if start.day == 1 and end == _month_end(start.year, start.month):
            return f"{MONTHS_DE[start.month - 1]} {start.year}"
        if (
            start.day == 1
            and start.month % 3 == 1
            and end == _month_end(start.year, start.month + 2)
        ):
            return f"{(start.month - 1) // 3 + 1}. Quartal {start.year}"
        if start == date(start.year, 1, 1) and end == date(start.year, 12, 31):
            return str(start.year)
        return f"{start:%d.%m.%Y}–{end:%d.%m.%Y}"


MONTHS_DE = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def parse_period(text: str) -> Period:
    """``2026-11``, ``2026-Q4`` or ``2026``; raises ``ValueError`` with the accepted forms."""
    value = text.strip()
    try:
        if match := _MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            return Period(date(year, month, 1), _month_end(year, month))
        if match := _QUARTER.match(value):
            year, quarter = int(match[1]), int(match[2])
            first = 3 * quarter - 2
            return Period(date(year, first, 1), _month_end(year, first + 2))
        if match := _YEAR.match(value):
            year = int(match[1])
            return Period(date(year, 1, 1), date(year, 12, 31))
    except ValueError:
        pass
    raise ValueError(
        f"{text!r} is not a period: use a month (2026-11), a quarter (2026-Q4) or a year (2026)"
    )
