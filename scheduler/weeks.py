"""Planning weeks: naming them ("next", "this", a date) and moving a scenario to one.

The demo scenarios in ``examples/`` describe one fixed week; ``fieldwork import
--week next`` moves such a scenario by whole weeks, so weekdays, working hours,
availability and the rhythm of absences stay as they are while the dates become the
coming week's. Public holidays follow from the region and the new dates.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from scheduler.format import Scenario

#: Words a coordinator may give instead of a date.
WEEK_WORDS = ("this", "next")
_WEEK_IN_NAME = re.compile(r"\bKW \d{1,2} \d{4}\b")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(value: str, *, today: date | None = None) -> date:
    """A week's first date: ``this`` or ``next`` (the Monday of this or next week), or
    a date ``YYYY-MM-DD`` as given.

    Raises ``ValueError`` with a message naming what was expected.
    """
    today = today or date.today()
    word = value.strip().lower()
    if word == "this":
        return monday_of(today)
    if word == "next":
        return monday_of(today) + timedelta(days=7)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ValueError(f"expected this, next or a date YYYY-MM-DD, got {value!r}") from None


def moved_to_week(scenario: Scenario, monday: date) -> Scenario:
    """The scenario moved by whole weeks so that its horizon starts in ``monday``'s
    week (a horizon starting on a Wednesday still starts on a Wednesday)."""
    weeks = (monday_of(monday) - monday_of(scenario.horizon.start)).days // 7
    if weeks == 0:
        return scenario
    delta = timedelta(weeks=weeks)
    moved = _shifted(scenario, delta)
    assert isinstance(moved, Scenario)
    iso = moved.horizon.start.isocalendar()
    name = _WEEK_IN_NAME.sub(f"KW {iso.week} {iso.year}", moved.name)
    return moved.model_copy(update={"name": name})


def _shifted(value: Any, delta: timedelta) -> Any:
    """Every date and datetime inside ``value`` (models, lists, dicts) moved by
    ``delta``; local datetimes keep their wall-clock time."""
    if isinstance(value, datetime | date):
        return value + delta
    if isinstance(value, BaseModel):
        changes = {name: _shifted(getattr(value, name), delta) for name in type(value).model_fields}
        return value.model_copy(update=changes)
    if isinstance(value, list):
        return [_shifted(item, delta) for item in value]
    if isinstance(value, dict):
        return {key: _shifted(item, delta) for key, item in value.items()}
    return value
