"""Naming planning weeks and moving a scenario (the demo week) to another week."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from scheduler.format import dump_document
from scheduler.validation import load_scenario, validate_scenario
from scheduler.weeks import moved_to_week, parse_week

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ennigerloh-everswinkel.scenario.json"
SUNDAY = date(2026, 12, 6)


def test_week_words_and_dates() -> None:
    assert parse_week("this", today=SUNDAY) == date(2026, 11, 30)
    assert parse_week("next", today=SUNDAY) == date(2026, 12, 7)
    assert parse_week(" Next ", today=date(2026, 12, 7)) == date(2026, 12, 14)
    assert parse_week("2026-12-02") == date(2026, 12, 2)
    with pytest.raises(ValueError, match="expected this, next or a date YYYY-MM-DD, got 'soon'"):
        parse_week("soon")


def test_the_demo_week_moves_by_whole_weeks() -> None:
    week = load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE))
    assert week.horizon.start == date(2026, 11, 30) and "KW 49 2026" in week.name
    moved = moved_to_week(week, date(2027, 3, 10))  # a Wednesday: its week is meant
    assert (moved.horizon.start, moved.horizon.end) == (date(2027, 3, 8), date(2027, 3, 12))
    assert "KW 10 2027" in moved.name and validate_scenario(moved) == []
    before, after = dump_document(week), dump_document(moved)
    # Everything but the dates stays: ids, hours, availability, durations.
    assert [v["id"] for v in before["visits"]] == [v["id"] for v in after["visits"]]
    assert before["households"] == after["households"]
    for old, new in zip(week.caseworkers, moved.caseworkers, strict=True):
        assert old.working_hours == new.working_hours
        for a, b in zip(old.absences, new.absences, strict=True):
            assert (b.start - a.start).days == 14 * 7 and b.reason == a.reason
            if isinstance(a.start, datetime):
                assert b.start.time() == a.start.time()  # wall-clock time kept
    blocked = [(v.id, b.start) for v in moved.vehicles for b in v.blocked]
    assert blocked and all(start.date() >= moved.horizon.start for _, start in blocked)
    windows = [v.window for v in moved.visits if v.window is not None]
    assert windows and all(
        w.latest is None or moved.horizon.start <= w.latest <= moved.horizon.end for w in windows
    )
    assert moved_to_week(week, date(2026, 12, 2)) is week
