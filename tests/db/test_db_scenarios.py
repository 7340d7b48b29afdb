"""import_scenario / export_scenario on SQLite and PostgreSQL: round trips, updates,
all-or-nothing imports and the limits of a per-site export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from scenario_documents import EXAMPLE, SMALL_WEEK, normalised, read, row_counts
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from core.errors import Conflict, NotFound
from scheduler import format as fmt
from scheduler import service
from scheduler.models import Absence, Household, Site
from scheduler.service import export_scenario, import_scenario
from scheduler.validation import DocumentInvalid, validate_scenario

WEEK = date(2026, 11, 30)


def round_trip(session: Session, scenario: fmt.Scenario) -> fmt.Scenario:
    import_scenario(session=session, scenario=scenario, actor="test")
    return export_scenario(session=session, week_start=scenario.horizon.start, sites=None)


@pytest.mark.parametrize("path", [EXAMPLE, SMALL_WEEK], ids=lambda path: path.name)
def test_import_then_export_gives_the_scenario_back(session: Session, path: Path) -> None:
    scenario = read(path)
    exported = round_trip(session, scenario)
    assert normalised(exported) == normalised(scenario)
    assert validate_scenario(exported) == []


def test_import_counts_and_a_second_import_changes_nothing(session: Session) -> None:
    scenario = read(EXAMPLE)
    first = import_scenario(session=session, scenario=scenario, actor="test")
    assert (first.sites.created, first.caseworkers.created, first.vehicles.created) == (2, 5, 6)
    assert (first.households.created, first.visits.created) == (30, 35)
    counts = row_counts(session)

    second = import_scenario(session=session, scenario=scenario, actor="test")
    assert second.households.created == 0 and second.households.updated == 30
    assert second.visits.created == 0 and second.visits.updated == 35
    after = row_counts(session)
    assert after.pop("audit_event") == counts.pop("audit_event") + 1
    assert after == counts
    exported = export_scenario(session=session, week_start=WEEK, sites=None)
    assert normalised(exported) == normalised(scenario)


def test_import_records_an_audit_event(session: Session) -> None:
    import_scenario(session=session, scenario=read(SMALL_WEEK), actor="coordinator-1")
    event = session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.entity, event.entity_id) == (
        "coordinator-1",
        "import",
        "planning_week",
        "2026-11-30",
    )
    assert event.detail is not None and event.detail["records"]["visits"]["created"] == 8
    assert event.at.tzinfo is not None


def test_a_changed_scenario_updates_every_part(session: Session) -> None:
    scenario = read(EXAMPLE)
    import_scenario(session=session, scenario=scenario, actor="test")

    changed = scenario.model_copy(deep=True)
    caseworker = changed.caseworkers[0]
    caseworker.working_hours.pop("fri")
    caseworker.working_hours["sat"] = (time(9), time(12))
    caseworker.skills = ["ar", "tr"]
    caseworker.modes = ["walk"]
    caseworker.absences = [fmt.Absence(start=date(2026, 12, 1), end=datetime(2026, 12, 2, 12))]
    household = changed.households[0]
    household.availability = None
    household.allowed_caseworkers = []
    household.required_skills = ["tr"]
    changed.households[1].availability = {}
    changed.vehicles[0].range_km = 150
    changed.vehicles[0].blocked = [
        fmt.Blocked(start=datetime(2026, 12, 1, 8), end=datetime(2026, 12, 1, 10), reason="TÜV")
    ]
    visit = next(v for v in changed.visits if v.pinned is not None)
    visit.pinned = None
    visit.window = fmt.DateWindow(earliest=date(2026, 12, 2))
    changed.visits[0].priority = 3
    changed.travel = {"e_bike": fmt.TravelMode(speed_kmh=15)}
    changed.objective = fmt.Objective(co2e_kg=60)
    changed.name = "renamed week"

    import_scenario(session=session, scenario=changed, actor="test")
    exported = export_scenario(session=session, week_start=WEEK, sites=None)
    assert normalised(exported) == normalised(changed)


def test_absences_and_blocks_of_other_weeks_stay(session: Session) -> None:
    week49 = read(SMALL_WEEK)
    import_scenario(session=session, scenario=week49, actor="test")
    cw001_week49 = next(c for c in week49.caseworkers if c.id == "cw001").absences
    assert cw001_week49, "the small week has an absence of cw001"

    week50 = week49.model_copy(deep=True)
    week50.horizon = fmt.Horizon(start=WEEK + timedelta(days=7), end=WEEK + timedelta(days=11))
    week50.name = "week 50"
    for caseworker in week50.caseworkers:
        caseworker.absences = []
    next(c for c in week50.caseworkers if c.id == "cw001").absences = [
        fmt.Absence(start=date(2026, 12, 9), end=date(2026, 12, 10), reason="training")
    ]
    for visit in week50.visits:
        visit.window = None
    import_scenario(session=session, scenario=week50, actor="test")

    assert len(session.scalars(select(Absence)).all()) == 2
    again49 = export_scenario(session=session, week_start=WEEK, sites=None)
    assert next(c for c in again49.caseworkers if c.id == "cw001").absences == cw001_week49
    assert again49.name == week49.name and len(again49.visits) == len(week49.visits)
    exported50 = export_scenario(session=session, week_start=week50.horizon.start, sites=None)
    assert normalised(exported50) == normalised(week50)


def test_absence_across_the_dst_change_keeps_its_wall_clock_times(session: Session) -> None:
    scenario = read(SMALL_WEEK).model_copy(deep=True)
    scenario.horizon = fmt.Horizon(start=date(2026, 10, 19), end=date(2026, 10, 30))
    scenario.caseworkers[0].absences = [
        fmt.Absence(start=datetime(2026, 10, 23, 13, 0), end=datetime(2026, 10, 26, 10, 0)),
        fmt.Absence(start=date(2026, 10, 25), end=date(2026, 10, 25)),
    ]
    for visit in scenario.visits:
        visit.window = None
    exported = round_trip(session, scenario)
    assert normalised(exported) == normalised(scenario)
    whole_day = session.scalars(select(Absence).where(Absence.start_is_date)).one()
    # 25 October 2026 has 25 hours in Berlin (CEST -> CET).
    assert whole_day.end - whole_day.start == timedelta(hours=25)


def test_invalid_scenario_writes_nothing(session: Session) -> None:
    scenario = read(SMALL_WEEK).model_copy(deep=True)
    scenario.visits[-1].household = "H9999"
    with pytest.raises(DocumentInvalid) as raised:
        import_scenario(session=session, scenario=scenario, actor="test")
    assert [problem.path for problem in raised.value.problems] == [
        f"$.visits[{len(scenario.visits) - 1}].household"
    ]
    assert set(row_counts(session).values()) == {0}


def test_import_refused_by_the_database_half_way_writes_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last visit breaks a CHECK constraint after sites, caseworkers, vehicles,
    households and the other visits were written: all of it goes."""
    scenario = read(EXAMPLE).model_copy(deep=True)
    scenario.visits[-1].duration_minutes = 0
    monkeypatch.setattr(service, "validate_scenario", lambda scenario: [])
    with pytest.raises(Conflict, match="refused"):
        import_scenario(session=session, scenario=scenario, actor="test")
    assert set(row_counts(session).values()) == {0}


def test_failed_reimport_leaves_the_earlier_import_as_it_was(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = read(EXAMPLE)
    import_scenario(session=session, scenario=scenario, actor="test")
    counts = row_counts(session)

    broken = scenario.model_copy(deep=True)
    broken.sites[0].name = "changed in the first half"
    broken.households[0].location = fmt.Location(lat=51.0, lon=7.0)
    broken.visits[-1].priority = 7
    monkeypatch.setattr(service, "validate_scenario", lambda scenario: [])
    with pytest.raises(Conflict):
        import_scenario(session=session, scenario=broken, actor="test")

    session.expire_all()
    assert row_counts(session) == counts
    exported = export_scenario(session=session, week_start=WEEK, sites=None)
    assert normalised(exported) == normalised(scenario)


def test_erased_household_cannot_be_imported_again(session: Session) -> None:
    scenario = read(SMALL_WEEK)
    import_scenario(session=session, scenario=scenario, actor="test")
    household = session.scalars(select(Household).where(Household.pseudonym == "H0001")).one()
    household.erased_at = datetime(2026, 12, 10, tzinfo=UTC)
    household.lat = household.lon = None
    session.flush()
    with pytest.raises(Conflict, match="H0001"):
        import_scenario(session=session, scenario=scenario, actor="test")
    exported = export_scenario(session=session, week_start=WEEK, sites=None)
    assert "H0001" not in {h.id for h in exported.households}
    assert all(visit.household != "H0001" for visit in exported.visits)


def test_households_get_the_responsible_site(session: Session) -> None:
    scenario = read(EXAMPLE)
    import_scenario(session=session, scenario=scenario, actor="test")
    sites = {site.id: site.key for site in session.scalars(select(Site))}
    caseworker_sites = {c.id: c.site for c in scenario.caseworkers}
    households = {h.pseudonym: h for h in session.scalars(select(Household))}
    for entry in scenario.households:
        site = sites[households[entry.id].site_id or 0]
        if entry.primary_caseworker:
            assert site == caseworker_sites[entry.primary_caseworker]
    # H0015 has neither primary nor allowed caseworkers: the nearest office takes it.
    assert sites[households["H0015"].site_id or 0] == "enn"


def test_export_of_one_site(session: Session) -> None:
    scenario = read(EXAMPLE)
    import_scenario(session=session, scenario=scenario, actor="test")
    enn = export_scenario(session=session, week_start=WEEK, sites=["enn"])
    assert validate_scenario(enn) == []
    assert [site.id for site in enn.sites] == ["enn"]
    assert {c.site for c in enn.caseworkers} == {"enn"}
    assert {v.site for v in enn.vehicles} == {"enn"}
    evw = export_scenario(session=session, week_start=WEEK, sites=["evw"])
    assert {h.id for h in enn.households} | {h.id for h in evw.households} == {
        h.id for h in scenario.households
    }
    assert not {h.id for h in enn.households} & {h.id for h in evw.households}
    assert len(enn.visits) + len(evw.visits) == len(scenario.visits)


def test_export_of_one_site_refuses_references_to_other_sites(session: Session) -> None:
    scenario = read(EXAMPLE).model_copy(deep=True)
    enn_caseworker = next(c.id for c in scenario.caseworkers if c.site == "enn")
    evw_caseworker = next(c.id for c in scenario.caseworkers if c.site == "evw")
    household = next(
        h
        for h in scenario.households
        if h.primary_caseworker == enn_caseworker and not h.allowed_caseworkers
    )
    household.allowed_caseworkers = [evw_caseworker]
    visit = next(v for v in scenario.visits if v.household == household.id)
    visit.pinned = fmt.Pin(caseworker=evw_caseworker, start=datetime(2026, 12, 1, 10))
    import_scenario(session=session, scenario=scenario, actor="test")

    with pytest.raises(Conflict) as raised:
        export_scenario(session=session, week_start=WEEK, sites=["enn"])
    assert f"visit {visit.id} is pinned to {evw_caseworker}" in str(raised.value)

    visit.pinned = None
    import_scenario(session=session, scenario=scenario, actor="test")
    enn = export_scenario(session=session, week_start=WEEK, sites=["enn"])
    exported = next(h for h in enn.households if h.id == household.id)
    # Allowing fewer caseworkers narrows who may visit; the primary still may.
    assert exported.allowed_caseworkers == []
    assert validate_scenario(enn) == []


def test_export_errors(session: Session) -> None:
    with pytest.raises(NotFound, match="2026-11-30"):
        export_scenario(session=session, week_start=WEEK, sites=None)
    import_scenario(session=session, scenario=read(SMALL_WEEK), actor="test")
    with pytest.raises(NotFound, match="unknown site"):
        export_scenario(session=session, week_start=WEEK, sites=["enn", "nowhere"])
    session.scalars(select(Site).where(Site.key == "evw")).one().region = "DE-BW"
    with pytest.raises(Conflict, match="region"):
        export_scenario(session=session, week_start=WEEK, sites=None)
    assert export_scenario(session=session, week_start=WEEK, sites=["enn"]).region == "DE-NW"


def test_long_free_text_is_kept(session: Session) -> None:
    scenario = read(SMALL_WEEK).model_copy(deep=True)
    scenario.name = "W" * 1000
    scenario.sites[0].name = "Büro " * 100
    scenario.caseworkers[0].skills = ["s" * 300]
    scenario.caseworkers[0].absences = [
        fmt.Absence(start=date(2026, 12, 1), end=date(2026, 12, 1), reason="r" * 2000)
    ]
    exported = round_trip(session, scenario)
    assert normalised(exported) == normalised(scenario)


def test_number_too_large_for_the_database_is_a_conflict(session: Session) -> None:
    scenario = read(SMALL_WEEK).model_copy(deep=True)
    scenario.visits[-1].duration_minutes = 2**40
    if session.get_bind().dialect.name == "sqlite":
        # SQLite integers have 64 bits: it keeps the number.
        assert normalised(round_trip(session, scenario)) == normalised(scenario)
        return
    with pytest.raises(Conflict, match="refused"):
        import_scenario(session=session, scenario=scenario, actor="test")
    assert set(row_counts(session).values()) == {0}
