"""Scheduler services: planning-format scenarios into and out of the database.

Plain keyword-only functions that take the session explicitly, so the CLI, the HTTP API,
workers and tests call the same code:

- ``import_scenario`` upserts a scenario's sites, caseworkers, vehicles, households,
  planning week and visits by their ids, in one transaction: all of it or nothing.
- ``export_scenario`` writes a planning week back as a scenario. Import then export
  gives the scenario back, up to the order of lists.

What an import replaces and what it keeps: a record's own fields and parts (working
hours, skills, modes, availability, allowed caseworkers, required skills) become the
scenario's; time-bound parts (absences, vehicle blocks) are replaced only where they
overlap the scenario's horizon, so other weeks' absences stay. Nothing is deleted: a
caseworker or visit missing from the scenario stays in the database.

What an export holds: the week's visits, the households they visit, the caseworkers and
active vehicles of the chosen sites (all sites by default), and the blocks and absences
that overlap the horizon. For a planning run (``bookings_as_blocks``) the vehicles'
bookings become blocked time too, widened by the vehicle's handover buffer, except those
of the plans the run will replace: the planner never plans into a vehicle someone took.
With ``sites``, only households the chosen sites are responsible for are exported, and a
household or pin that depends on a caseworker of another site is a ``Conflict`` (dropping
the reference would change who may visit).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.audit import record
from core.db import transaction
from core.errors import Conflict, NotFound
from fleet.models import Vehicle as VehicleRow
from fleet.models import VehicleBooking
from fleet.modes import VEHICLE_KINDS, Mode, VehicleKind
from fleet.service import BlockedInterval, upsert_vehicle, vehicles_at
from scheduler import format as fmt
from scheduler.models import (
    Absence,
    Caseworker,
    CaseworkerMode,
    CaseworkerSkill,
    Household,
    HouseholdAvailability,
    HouseholdSkill,
    PlanningWeek,
    Site,
    VisitRequest,
    WorkingHours,
)
from scheduler.travel import geodesic_km
from scheduler.validation import DocumentInvalid, validate_scenario

_TRAVEL = TypeAdapter(dict[Mode, fmt.TravelMode])
_EMISSION_FACTORS = TypeAdapter(dict[Mode, float])

Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class Counts:
    created: int = 0
    updated: int = 0


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import wrote, per kind of record."""

    week_start: date
    sites: Counts
    caseworkers: Counts
    vehicles: Counts
    households: Counts
    visits: Counts

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            kind: {"created": counts.created, "updated": counts.updated}
            for kind, counts in (
                ("sites", self.sites),
                ("caseworkers", self.caseworkers),
                ("vehicles", self.vehicles),
                ("households", self.households),
                ("visits", self.visits),
            )
        }


# ---------------------------------------------------------------------------- time


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time of the scenario's zone as a UTC instant."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    """A UTC instant as the zone's wall-clock time (naive, as the format writes it)."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return _instant(datetime.combine(day, time()), zone)


def horizon_window(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of a horizon: local 00:00 of ``start`` to 00:00 after ``end``."""
    return _midnight(start, zone), _midnight(end + timedelta(days=1), zone)


def _overlaps(start: datetime, end: datetime, window: tuple[datetime, datetime]) -> bool:
    return start < window[1] and end > window[0]


# --------------------------------------------------------------------------- import


def import_scenario(*, session: Session, scenario: fmt.Scenario, actor: str) -> ImportSummary:
    """Write a scenario into the database, all of it in one transaction or nothing.

    Raises ``DocumentInvalid`` (before writing anything) if the scenario breaks a rule
    of the planning format, and ``Conflict`` if the database refuses it (a constraint,
    a number too large for its column, or a household that was erased).
    """
    problems = validate_scenario(scenario)
    if problems:
        raise DocumentInvalid(problems, source="scenario")
    try:
        with transaction(session):
            summary = _Importer(session, scenario).run()
            record(
                session=session,
                actor=actor,
                action="import",
                entity="planning_week",
                entity_id=summary.week_start.isoformat(),
                detail={"scenario": scenario.name, "records": summary.as_dict()},
            )
            session.flush()
    except (IntegrityError, DataError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise Conflict(f"the database refused the scenario: {reason}") from error
    return summary


def _by_key(rows: Iterable[Row], key: Any) -> dict[str, Row]:
    return {key(row): row for row in rows}


class _Importer:
    """One import: the scenario, its zone and horizon, and the records written so far."""

    def __init__(self, session: Session, scenario: fmt.Scenario) -> None:
        self.session = session
        self.scenario = scenario
        self.zone = ZoneInfo(scenario.timezone)
        self.window = horizon_window(scenario.horizon.start, scenario.horizon.end, self.zone)
        self.sites: dict[str, Site] = {}
        self.caseworkers: dict[str, Caseworker] = {}
        self.households: dict[str, Household] = {}

    def run(self) -> ImportSummary:
        sites = self.import_sites()
        caseworkers = self.import_caseworkers()
        vehicles = self.import_vehicles()
        households = self.import_households()
        week = self.import_week()
        visits = self.import_visits(week)
        return ImportSummary(
            week_start=week.start,
            sites=sites,
            caseworkers=caseworkers,
            vehicles=vehicles,
            households=households,
            visits=visits,
        )

    def import_sites(self) -> Counts:
        keys = [site.id for site in self.scenario.sites]
        existing = _by_key(
            self.session.scalars(select(Site).where(Site.key.in_(keys))), lambda s: s.key
        )
        for entry in self.scenario.sites:
            site = existing.get(entry.id)
            if site is None:
                site = Site(key=entry.id)
                self.session.add(site)
            site.name = entry.name
            site.lat = entry.location.lat
            site.lon = entry.location.lon
            site.timezone = self.scenario.timezone
            site.region = self.scenario.region
            self.sites[entry.id] = site
        self.session.flush()
        return Counts(created=len(keys) - len(existing), updated=len(existing))

    def import_caseworkers(self) -> Counts:
        keys = [caseworker.id for caseworker in self.scenario.caseworkers]
        existing = _by_key(
            self.session.scalars(
                select(Caseworker)
                .where(Caseworker.key.in_(keys))
                .options(
                    selectinload(Caseworker.working_hours),
                    selectinload(Caseworker.skills),
                    selectinload(Caseworker.modes),
                    selectinload(Caseworker.absences),
                )
            ),
            lambda c: c.key,
        )
        for entry in self.scenario.caseworkers:
            caseworker = existing.get(entry.id)
            if caseworker is None:
                caseworker = Caseworker(key=entry.id)
                self.session.add(caseworker)
            caseworker.name = entry.name
            caseworker.site = self.sites[entry.site]
            caseworker.max_visits_per_day = entry.max_visits_per_day
            self._set_working_hours(caseworker, entry)
            have_skills = _by_key(caseworker.skills, lambda s: s.skill)
            caseworker.skills = [
                have_skills.get(skill) or CaseworkerSkill(skill=skill)
                for skill in sorted(set(entry.skills))
            ]
            have_modes = _by_key(caseworker.modes, lambda m: m.mode)
            caseworker.modes = [
                have_modes.get(mode) or CaseworkerMode(mode=mode)
                for mode in sorted(set(entry.modes))
            ]
            caseworker.absences = [
                absence
                for absence in caseworker.absences
                if not _overlaps(absence.start, absence.end, self.window)
            ] + [self._absence(absence) for absence in entry.absences]
            self.caseworkers[entry.id] = caseworker
        self.session.flush()
        return Counts(created=len(keys) - len(existing), updated=len(existing))

    def _set_working_hours(self, caseworker: Caseworker, entry: fmt.Caseworker) -> None:
        have = _by_key(caseworker.working_hours, lambda h: fmt.WEEKDAYS[h.weekday])
        hours: list[WorkingHours] = []
        for weekday, (start, end) in sorted(
            entry.working_hours.items(), key=lambda item: fmt.WEEKDAYS.index(item[0])
        ):
            row = have.get(weekday) or WorkingHours(weekday=fmt.WEEKDAYS.index(weekday))
            row.start, row.end = start, end
            hours.append(row)
        caseworker.working_hours = hours

    def _absence(self, entry: fmt.Absence) -> Absence:
        if isinstance(entry.start, datetime):
            start, start_is_date = _instant(entry.start, self.zone), False
        else:
            start, start_is_date = _midnight(entry.start, self.zone), True
        if isinstance(entry.end, datetime):
            end, end_is_date = _instant(entry.end, self.zone), False
        else:
            end, end_is_date = _midnight(entry.end + timedelta(days=1), self.zone), True
        return Absence(
            start=start,
            end=end,
            start_is_date=start_is_date,
            end_is_date=end_is_date,
            reason=entry.reason,
        )

    def import_vehicles(self) -> Counts:
        created = 0
        for entry in self.scenario.vehicles:
            _, new = upsert_vehicle(
                session=self.session,
                key=entry.id,
                site_id=self.sites[entry.site].id,
                kind=entry.kind,
                name=entry.name,
                range_km=entry.range_km,
                blocked=[
                    BlockedInterval(
                        start=_instant(block.start, self.zone),
                        end=_instant(block.end, self.zone),
                        reason=block.reason,
                    )
                    for block in entry.blocked
                ],
                window=self.window,
            )
            created += new
        self.session.flush()
        return Counts(created=created, updated=len(self.scenario.vehicles) - created)

    def import_households(self) -> Counts:
        keys = [household.id for household in self.scenario.households]
        existing = _by_key(
            self.session.scalars(
                select(Household)
                .where(Household.pseudonym.in_(keys))
                .options(
                    selectinload(Household.allowed_caseworkers),
                    selectinload(Household.availability),
                    selectinload(Household.required_skills),
                )
            ),
            lambda h: h.pseudonym,
        )
        erased = sorted(key for key, household in existing.items() if household.erased_at)
        if erased:
            raise Conflict(f"household(s) {', '.join(erased)} were erased and cannot return")
        for entry in self.scenario.households:
            household = existing.get(entry.id)
            if household is None:
                household = Household(pseudonym=entry.id)
                self.session.add(household)
            household.lat = entry.location.lat
            household.lon = entry.location.lon
            household.site = self._responsible_site(entry)
            household.primary_caseworker = (
                self.caseworkers[entry.primary_caseworker] if entry.primary_caseworker else None
            )
            household.allowed_caseworkers = [
                self.caseworkers[key] for key in dict.fromkeys(entry.allowed_caseworkers)
            ]
            household.available_any_time = entry.availability is None
            household.availability = [
                HouseholdAvailability(weekday=fmt.WEEKDAYS.index(weekday), start=start, end=end)
                for weekday, intervals in (entry.availability or {}).items()
                for start, end in intervals
            ]
            have_skills = _by_key(household.required_skills, lambda s: s.skill)
            household.required_skills = [
                have_skills.get(skill) or HouseholdSkill(skill=skill)
                for skill in sorted(set(entry.required_skills))
            ]
            self.households[entry.id] = household
        self.session.flush()
        return Counts(created=len(keys) - len(existing), updated=len(existing))

    def _responsible_site(self, entry: fmt.Household) -> Site:
        """The primary caseworker's site, else the first allowed one's, else the nearest
        (as a coordinator would hand out a household anyone may visit)."""
        for key in [entry.primary_caseworker, *entry.allowed_caseworkers]:
            if key is not None:
                return self.caseworkers[key].site
        sites = list(self.sites.values())
        count = len(sites)
        km = geodesic_km(
            np.full(count, entry.location.lat),
            np.full(count, entry.location.lon),
            np.array([site.lat for site in sites]),
            np.array([site.lon for site in sites]),
        )
        return sites[int(np.argmin(km))]

    def import_week(self) -> PlanningWeek:
        scenario = self.scenario
        week = self.session.scalars(
            select(PlanningWeek).where(PlanningWeek.start == scenario.horizon.start)
        ).one_or_none()
        if week is None:
            week = PlanningWeek(start=scenario.horizon.start)
            self.session.add(week)
        week.end = scenario.horizon.end
        week.name = scenario.name
        week.travel = (
            None
            if scenario.travel is None
            else _TRAVEL.dump_python(scenario.travel, mode="json", exclude_none=True)
        )
        week.emission_factors_g_per_km = (
            None
            if scenario.emission_factors_g_per_km is None
            else _EMISSION_FACTORS.dump_python(scenario.emission_factors_g_per_km, mode="json")
        )
        week.baseline_mode = scenario.baseline_mode
        week.objective = None if scenario.objective is None else scenario.objective.model_dump()
        self.session.flush()
        return week

    def import_visits(self, week: PlanningWeek) -> Counts:
        existing = _by_key(
            self.session.scalars(select(VisitRequest).where(VisitRequest.week_id == week.id)),
            lambda v: v.key,
        )
        created = 0
        for entry in self.scenario.visits:
            visit = existing.get(entry.id)
            if visit is None:
                visit = VisitRequest(key=entry.id, week=week)
                self.session.add(visit)
                created += 1
            visit.household = self.households[entry.household]
            visit.duration_minutes = entry.duration_minutes
            visit.priority = entry.priority
            visit.earliest = entry.window.earliest if entry.window else None
            visit.latest = entry.window.latest if entry.window else None
            if entry.pinned is None:
                visit.pinned_caseworker, visit.pinned_start = None, None
            else:
                visit.pinned_caseworker = self.caseworkers[entry.pinned.caseworker]
                visit.pinned_start = _instant(entry.pinned.start, self.zone)
        self.session.flush()
        return Counts(created=created, updated=len(self.scenario.visits) - created)


# --------------------------------------------------------------------------- export


def export_scenario(
    *,
    session: Session,
    week_start: date,
    sites: Sequence[str] | None = None,
    bookings_as_blocks: bool = False,
    except_plans: Collection[int] = (),
    kept_tours: Collection[tuple[int, str]] = (),
) -> fmt.Scenario:
    """The planning week starting on ``week_start`` as a planning-format scenario.

    ``sites``: the site keys to export (default: every site). Raises ``NotFound`` for an
    unknown week or site, ``Conflict`` when the chosen sites differ in timezone or
    region (one scenario has one of each) or depend on caseworkers of other sites.

    ``bookings_as_blocks``: the scenario of a planning run; every booking of an exported
    vehicle that overlaps the horizon is blocked time, except the bookings of the plans
    in ``except_plans`` (the ones the run's plan will supersede when published) other
    than those of ``kept_tours`` (``(plan id, tour key)``: tours a mid-week re-plan keeps
    as they are, see ``scheduler.runs``).
    """
    week = session.scalars(
        select(PlanningWeek).where(PlanningWeek.start == week_start)
    ).one_or_none()
    if week is None:
        raise NotFound(f"no planning week starts on {week_start}: import a scenario for it first")
    site_rows = _sites(session, sites)
    zone_name, region = _one_zone_and_region(site_rows)
    zone = ZoneInfo(zone_name)
    window = horizon_window(week.start, week.end, zone)
    site_keys = {site.id: site.key for site in site_rows}
    site_ids = set(site_keys)

    caseworkers = list(
        session.scalars(
            select(Caseworker)
            .where(Caseworker.site_id.in_(site_ids))
            .options(
                selectinload(Caseworker.site),
                selectinload(Caseworker.working_hours),
                selectinload(Caseworker.skills),
                selectinload(Caseworker.modes),
                selectinload(Caseworker.absences),
            )
            .order_by(Caseworker.key)
        )
    )
    visit_query = (
        select(VisitRequest)
        .join(VisitRequest.household)
        .where(VisitRequest.week_id == week.id, Household.erased_at.is_(None))
        .options(
            selectinload(VisitRequest.household).selectinload(Household.primary_caseworker),
            selectinload(VisitRequest.household).selectinload(Household.allowed_caseworkers),
            selectinload(VisitRequest.household).selectinload(Household.availability),
            selectinload(VisitRequest.household).selectinload(Household.required_skills),
            selectinload(VisitRequest.pinned_caseworker),
        )
        .order_by(VisitRequest.key)
    )
    if sites is not None:
        visit_query = visit_query.where(Household.site_id.in_(site_ids))
    visits = list(session.scalars(visit_query))
    households = sorted(
        {visit.household.id: visit.household for visit in visits}.values(),
        key=lambda h: h.pseudonym,
    )

    exported = {caseworker.key for caseworker in caseworkers}
    conflicts = _references_outside(households, visits, exported)
    if conflicts:
        raise Conflict(
            f"sites {', '.join(site.key for site in site_rows)} cannot be exported alone: "
            + "; ".join(conflicts)
        )

    # Fleet-only kinds (cargo bikes) are booked ad hoc, never planned: the planning
    # format has no such kind, so they stay out of the scenario.
    vehicle_rows = [
        vehicle
        for vehicle in vehicles_at(session=session, site_ids=site_ids)
        if vehicle.kind in VEHICLE_KINDS
    ]
    booked = (
        _bookings_as_blocks(session, vehicle_rows, window, except_plans, kept_tours)
        if bookings_as_blocks
        else {}
    )
    return fmt.Scenario(
        format=fmt.SCENARIO_FORMAT,
        name=week.name,
        timezone=zone_name,
        region=region,
        horizon=fmt.Horizon(start=week.start, end=week.end),
        sites=[
            fmt.Site(id=site.key, name=site.name, location=fmt.Location(lat=site.lat, lon=site.lon))
            for site in site_rows
        ],
        caseworkers=[_caseworker(caseworker, zone, window) for caseworker in caseworkers],
        vehicles=[
            _vehicle(vehicle, site_keys, zone, window, booked.get(vehicle.id, []))
            for vehicle in vehicle_rows
        ],
        households=[_household(household, exported) for household in households],
        visits=[_visit(visit, zone) for visit in visits],
        travel=None if week.travel is None else _TRAVEL.validate_python(week.travel),
        emission_factors_g_per_km=(
            None
            if week.emission_factors_g_per_km is None
            else _EMISSION_FACTORS.validate_python(week.emission_factors_g_per_km)
        ),
        baseline_mode=week.baseline_mode,
        objective=None if week.objective is None else fmt.Objective.model_validate(week.objective),
    )


def _sites(session: Session, keys: Sequence[str] | None) -> list[Site]:
    query = select(Site).order_by(Site.key)
    if keys is not None:
        query = query.where(Site.key.in_(keys))
    rows = list(session.scalars(query))
    missing = sorted(set(keys or ()) - {site.key for site in rows})
    if missing:
        raise NotFound(f"unknown site(s): {', '.join(missing)}")
    if not rows:
        raise NotFound("no sites to export")
    return rows


def _one_zone_and_region(sites: Sequence[Site]) -> tuple[str, str | None]:
    for attribute in ("timezone", "region"):
        values = {str(getattr(site, attribute)) for site in sites}
        if len(values) > 1:
            detail = ", ".join(f"{site.key}: {getattr(site, attribute)}" for site in sites)
            raise Conflict(
                f"one scenario has one {attribute}, these sites differ ({detail}); "
                "export them separately"
            )
    return sites[0].timezone, sites[0].region


def _references_outside(
    households: Sequence[Household], visits: Sequence[VisitRequest], exported: set[str]
) -> list[str]:
    conflicts: list[str] = []
    for household in households:
        primary = household.primary_caseworker
        allowed = [caseworker.key for caseworker in household.allowed_caseworkers]
        if primary is not None and primary.key not in exported:
            conflicts.append(
                f"household {household.pseudonym}'s primary caseworker {primary.key} "
                "works at another site"
            )
        elif primary is None and allowed and not set(allowed) & exported:
            conflicts.append(
                f"household {household.pseudonym} may only be visited by caseworkers of "
                f"other sites ({', '.join(allowed)})"
            )
    for visit in visits:
        pinned = visit.pinned_caseworker
        if pinned is not None and pinned.key not in exported:
            conflicts.append(f"visit {visit.key} is pinned to {pinned.key} of another site")
    return conflicts


def _caseworker(
    caseworker: Caseworker, zone: ZoneInfo, window: tuple[datetime, datetime]
) -> fmt.Caseworker:
    return fmt.Caseworker(
        id=caseworker.key,
        name=caseworker.name,
        site=caseworker.site.key,
        working_hours={
            fmt.WEEKDAYS[hours.weekday]: (hours.start, hours.end)
            for hours in caseworker.working_hours
        },
        absences=[
            _absence(absence, zone)
            for absence in caseworker.absences
            if _overlaps(absence.start, absence.end, window)
        ],
        modes=[mode.mode for mode in caseworker.modes],
        skills=[skill.skill for skill in caseworker.skills],
        max_visits_per_day=caseworker.max_visits_per_day,
    )


def _absence(absence: Absence, zone: ZoneInfo) -> fmt.Absence:
    start: date | datetime = _local(absence.start, zone)
    end: date | datetime = _local(absence.end, zone)
    if absence.start_is_date:
        start = _local(absence.start, zone).date()
    if absence.end_is_date:
        end = _local(absence.end, zone).date() - timedelta(days=1)
    return fmt.Absence(start=start, end=end, reason=absence.reason)


def _bookings_as_blocks(
    session: Session,
    vehicles: Sequence[VehicleRow],
    window: tuple[datetime, datetime],
    except_plans: Collection[int],
    kept_tours: Collection[tuple[int, str]] = (),
) -> dict[int, list[BlockedInterval]]:
    """Per vehicle id: its active bookings in the horizon as blocked time.

    A booking takes its vehicle until ``blocked_until`` (its end plus the handover
    buffer), and a new booking must leave the buffer free before it starts too
    (``fleet.bookings``' rule), so the block runs from ``start`` minus the buffer.
    """
    buffers = {
        vehicle.id: timedelta(minutes=vehicle.handover_buffer_minutes) for vehicle in vehicles
    }
    widest = max(buffers.values(), default=timedelta())
    query = (
        select(VehicleBooking)
        .where(
            VehicleBooking.vehicle_id.in_(buffers),
            VehicleBooking.status == "active",
            VehicleBooking.start < window[1] + widest,
            VehicleBooking.blocked_until > window[0],
        )
        .order_by(VehicleBooking.vehicle_id, VehicleBooking.start)
    )
    kept = set(kept_tours)
    blocks: dict[int, list[BlockedInterval]] = {}
    for booking in session.scalars(query):
        if (
            booking.plan_id in except_plans
            and (booking.plan_id, booking.tour_key or "") not in kept
        ):
            continue
        reason = (
            f"gebucht (Plan {booking.plan_id}, Tour {booking.tour_key})"
            if booking.plan_id is not None
            else "gebucht (Einzelbuchung)"
        )
        blocks.setdefault(booking.vehicle_id, []).append(
            BlockedInterval(
                start=booking.start - buffers[booking.vehicle_id],
                end=booking.blocked_until,
                reason=reason,
            )
        )
    return blocks


def _vehicle(
    vehicle: VehicleRow,
    site_keys: dict[int, str],
    zone: ZoneInfo,
    window: tuple[datetime, datetime],
    booked: Sequence[BlockedInterval] = (),
) -> fmt.Vehicle:
    blocked = [
        BlockedInterval(start=block.start, end=block.end, reason=block.reason)
        for block in vehicle.blocks
    ] + list(booked)
    return fmt.Vehicle(
        id=vehicle.key,
        name=vehicle.name,
        kind=cast(VehicleKind, vehicle.kind),  # export_scenario keeps planner kinds only
        site=site_keys[vehicle.site_id],
        range_km=vehicle.range_km,
        blocked=[
            fmt.Blocked(
                start=_local(block.start, zone), end=_local(block.end, zone), reason=block.reason
            )
            for block in sorted(blocked, key=lambda block: block.start)
            if _overlaps(block.start, block.end, window)
        ],
    )


def _household(household: Household, exported: set[str]) -> fmt.Household:
    if household.lat is None or household.lon is None:
        raise Conflict(f"household {household.pseudonym} has no location")
    availability: dict[fmt.Weekday, list[tuple[time, time]]] | None = None
    if not household.available_any_time:
        availability = {}
        for interval in household.availability:
            availability.setdefault(fmt.WEEKDAYS[interval.weekday], []).append(
                (interval.start, interval.end)
            )
    primary = household.primary_caseworker
    return fmt.Household(
        id=household.pseudonym,
        location=fmt.Location(lat=household.lat, lon=household.lon),
        availability=availability,
        primary_caseworker=None if primary is None else primary.key,
        allowed_caseworkers=[
            caseworker.key
            for caseworker in household.allowed_caseworkers
            if caseworker.key in exported
        ],
        required_skills=[skill.skill for skill in household.required_skills],
    )


def _visit(visit: VisitRequest, zone: ZoneInfo) -> fmt.Visit:
    window = None
    if visit.earliest is not None or visit.latest is not None:
        window = fmt.DateWindow(earliest=visit.earliest, latest=visit.latest)
    pinned = None
    if visit.pinned_caseworker is not None and visit.pinned_start is not None:
        pinned = fmt.Pin(
            caseworker=visit.pinned_caseworker.key, start=_local(visit.pinned_start, zone)
        )
    return fmt.Visit(
        id=visit.key,
        household=visit.household.pseudonym,
        duration_minutes=visit.duration_minutes,
        priority=visit.priority,
        window=window,
        pinned=pinned,
    )
