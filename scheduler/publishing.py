"""Publishing a plan: its appointments and vehicle bookings become what everyone sees.

``publish`` writes, in ONE transaction, the plan's tours, its appointments (status
``confirmed``) and a vehicle booking (source ``plan``) for every tour with a vehicle,
and supersedes the week's published plans of the same sites (their bookings are freed,
their status becomes ``superseded``). If a vehicle was booked meanwhile (an ad-hoc
booking, another plan, a maintenance block entered after the run was queued), nothing
is written and ``PublishConflict`` lists every clash.

Calendars follow the published plan from one version to the next:

- An appointment keeps the ``uid`` of the same visit's appointment in the plan it
  supersedes (or of its latest appointment in any earlier plan of the week), so a
  calendar updates the event instead of adding another.
- ``sequence`` rises and ``updated_at`` is set when its time or caseworker changes
  (``moved``), when it is dropped (``cancelled``), or when a cancelled visit is planned
  again (``new``); otherwise both stay (``unchanged``).
- A visit that was published but is no longer planned stays in the new plan as a
  ``cancelled`` appointment with its old time and caseworker and no tour; cancelled
  appointments are carried on to later plans of the week, so a calendar that syncs
  late still learns about the cancellation.

A re-plan queued in the middle of a week keeps the past (``scheduler.runs.past_of``:
tours of the superseded plans that departed before the run's now): publishing carries
those tours, their appointments (same uid, sequence and ``updated_at``: ``unchanged``)
and their vehicle bookings (the same rows, moved to the new plan) over as they are.

Publishing also counts a paperless step per site (``plan_published``: the caseworkers
with appointments in the plan there, each a printed weekly roster nobody needs).

``PublishResult.changes`` lists every appointment with what happened to it, so the API
can tell caseworkers about changes on short notice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import record
from core.db import utc_now, write_transaction
from core.errors import Conflict, NotFound
from core.paperless import record_paperless
from fleet.bookings import (
    BookingConflict,
    BookingConflictItem,
    ConflictKind,
    book,
    cancel_tour_bookings,
)
from fleet.models import Vehicle, VehicleBooking
from scheduler import format as fmt
from scheduler.models import Appointment, Caseworker, Plan, PlanningWeek, Tour, VisitRequest
from scheduler.rules import emission_factors, travel_params
from scheduler.runs import Past, past_of, published_plans

ChangeKind = Literal["new", "moved", "cancelled", "unchanged"]


@dataclass(frozen=True, slots=True)
class AppointmentChange:
    """What publishing did to one appointment (times are UTC instants)."""

    uid: str
    visit: str
    caseworker_id: int
    caseworker: str
    kind: ChangeKind
    old_caseworker_id: int | None
    old_start: datetime | None
    old_end: datetime | None
    new_start: datetime | None
    new_end: datetime | None
    sequence: int


@dataclass(frozen=True, slots=True)
class VehicleClash:
    """Why a tour's vehicle cannot be booked (``fleet.bookings``' rules): another
    booking or a maintenance block in the way, the day's range, or a retired vehicle."""

    vehicle: str
    tour: str
    start: datetime
    end: datetime
    kind: ConflictKind
    #: The booking or block in the way and the interval it takes (handover included).
    other_id: int | None
    other_start: datetime | None
    other_end: datetime | None
    #: For a booking in the way: ``adhoc`` or ``plan``, and which plan.
    other_source: str | None
    other_plan_id: int | None
    reason: str
    reason_de: str


class PublishConflict(Conflict):
    """Vehicles of the plan were booked or blocked meanwhile; nothing was written."""

    def __init__(self, plan_id: int, clashes: list[VehicleClash]) -> None:
        first = clashes[0]
        super().__init__(
            f"plan {plan_id} cannot be published: {len(clashes)} clash(es) of its tours' "
            f"vehicles with what was booked or blocked meanwhile (e.g. tour {first.tour}: "
            f"{first.reason}); re-plan the week"
        )
        self.plan_id = plan_id
        self.clashes = clashes


@dataclass(frozen=True, slots=True)
class PublishResult:
    plan_id: int
    week_start: str
    superseded: list[int]
    bookings: int
    changes: list[AppointmentChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "moved": 0, "cancelled": 0, "unchanged": 0}
        for change in self.changes:
            counts[change.kind] += 1
        return counts


def publish(
    *, session: Session, plan_id: int, actor: str, user_id: int | None = None
) -> PublishResult:
    """Publish a ``done`` plan; see the module's description. Raises ``NotFound``,
    ``Conflict`` (not ``done``, or sites that overlap a wider published plan) and
    ``PublishConflict`` (vehicles taken meanwhile); ``Conflict`` also for a plan queued
    before another plan of its sites was published (it would undo that one)."""
    try:
        with write_transaction(session):
            return _Publisher(session, plan_id, actor, user_id).run()
    except IntegrityError as error:
        # PostgreSQL's exclusion constraint caught a booking written concurrently.
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise Conflict(
            f"plan {plan_id} cannot be published: the database refused it ({reason}); "
            "a vehicle was probably booked at the same moment, try again or re-plan"
        ) from error


class _Publisher:
    def __init__(self, session: Session, plan_id: int, actor: str, user_id: int | None) -> None:
        self.session = session
        self.plan_id = plan_id
        self.actor = actor
        self.user_id = user_id
        self.now = utc_now()

    def run(self) -> PublishResult:
        session = self.session
        # A write transaction: on SQLite it holds the write lock from its first read, so
        # the checks below see every committed booking. The first statement makes a
        # second publish of the same plan find nothing to do.
        taken = session.execute(
            update(Plan)
            .where(Plan.id == self.plan_id, Plan.status == "done")
            .values(status="published", published_at=self.now)
        )
        plan = session.get(Plan, self.plan_id)
        if plan is None:
            raise NotFound(f"no plan {self.plan_id}")
        if not getattr(taken, "rowcount", 0):
            raise Conflict(f"plan {plan.id} is {plan.status}; only a done plan can be published")
        session.refresh(plan)
        assert plan.result is not None
        document = fmt.Plan.model_validate(plan.result)
        scenario = fmt.Scenario.model_validate(plan.scenario)
        week = session.get(PlanningWeek, plan.week_id)
        assert week is not None

        current = [
            p for p in published_plans(session, plan.week_id, plan.sites or []) if p.id != plan.id
        ]
        wider = [p for p in current if not set(p.sites or ()) <= set(plan.sites or ())]
        if wider:
            raise Conflict(
                f"plan {wider[0].id} is published for sites {', '.join(wider[0].sites or ())}; "
                f"publishing plan {plan.id} ({', '.join(plan.sites or ())}) would drop the "
                "others' appointments"
            )
        # A plan made before another one was published does not know that one's
        # changes (and a re-plan of a plan superseded since): publishing it would undo
        # them without a word.
        newer = [
            p
            for p in current
            if p.id != plan.previous_plan_id
            and p.published_at is not None
            and p.published_at > plan.created_at
        ]
        if newer:
            raise Conflict(
                f"plan {newer[0].id} was published after plan {plan.id} was queued; "
                f"plan {plan.id} would undo it: queue a new run of the week"
            )
        superseded = [p.id for p in current]
        past = past_of(session, current, plan.created_at)
        clashing = sorted({key for _, key in past.tour_keys()} & {t.id for t in document.tours})
        if clashing:
            raise Conflict(
                f"plan {plan.id} plans tour(s) {', '.join(clashing[:5])} again, which the "
                "published plan has under way already; queue a new run of the week"
            )

        visits = self._visits(week, document)
        caseworkers = self._caseworkers(document)
        vehicles = self._vehicles(document)

        self._write_tours(plan, document, scenario, caseworkers, vehicles)
        self._carry_tours(plan, past)
        session.flush()
        # The kept tours' bookings move to the new plan as they are (same rows, so a
        # trip that names its booking still does; their tours are written above); the
        # superseded plans' other bookings are freed: the new plan may take their slots.
        carried = 0
        for old_plan_id, tour_key in sorted(past.tour_keys()):
            moved = session.execute(
                update(VehicleBooking)
                .where(
                    VehicleBooking.plan_id == old_plan_id,
                    VehicleBooking.tour_key == tour_key,
                    VehicleBooking.status == "active",
                )
                .values(plan_id=plan.id)
            )
            carried += int(getattr(moved, "rowcount", 0) or 0)
        for old in superseded:
            cancel_tour_bookings(session, plan_id=old, actor=self.actor)
        if superseded:
            session.execute(
                update(Plan)
                .where(Plan.id.in_(superseded), Plan.status == "published")
                .values(status="superseded")
            )
        bookings = self._book(plan, document, vehicles) + carried
        changes = self._write_appointments(plan, document, visits, caseworkers, current, past)
        session.flush()
        self._count_paperless(plan)
        result = PublishResult(
            plan_id=plan.id,
            week_start=week.start.isoformat(),
            superseded=superseded,
            bookings=bookings,
            changes=changes,
        )
        record(
            session=session,
            actor=self.actor,
            user_id=self.user_id,
            action="publish",
            entity="plan",
            entity_id=str(plan.id),
            detail={
                "week": week.start.isoformat(),
                "sites": plan.sites,
                "superseded": superseded,
                "bookings": bookings,
                "appointments": result.counts(),
            },
        )
        return result

    # ------------------------------------------------------------------ references

    def _visits(self, week: PlanningWeek, document: fmt.Plan) -> dict[str, VisitRequest]:
        rows = {
            visit.key: visit
            for visit in self.session.scalars(
                select(VisitRequest).where(VisitRequest.week_id == week.id)
            )
        }
        missing = sorted({a.visit for a in document.appointments} - set(rows))
        if missing:
            raise Conflict(
                f"visit(s) {', '.join(missing[:5])} of plan {self.plan_id} no longer exist; "
                "re-plan the week"
            )
        return rows

    def _caseworkers(self, document: fmt.Plan) -> dict[str, Caseworker]:
        keys = {tour.caseworker for tour in document.tours}
        rows = {
            row.key: row
            for row in self.session.scalars(select(Caseworker).where(Caseworker.key.in_(keys)))
        }
        missing = sorted(keys - set(rows))
        if missing:
            raise Conflict(
                f"caseworker(s) {', '.join(missing)} of plan {self.plan_id} no longer exist; "
                "re-plan the week"
            )
        return rows

    def _vehicles(self, document: fmt.Plan) -> dict[str, Vehicle]:
        keys = {tour.vehicle for tour in document.tours if tour.vehicle is not None}
        # fleet.bookings.book locks each vehicle's row as it books (PostgreSQL).
        rows = {
            row.key: row
            for row in self.session.scalars(select(Vehicle).where(Vehicle.key.in_(keys)))
        }
        missing = sorted(keys - set(rows))
        if missing:
            raise Conflict(
                f"vehicle(s) {', '.join(missing)} of plan {self.plan_id} no longer exist; "
                "re-plan the week"
            )
        return rows

    # ---------------------------------------------------------------------- writes

    def _write_tours(
        self,
        plan: Plan,
        document: fmt.Plan,
        scenario: fmt.Scenario,
        caseworkers: dict[str, Caseworker],
        vehicles: dict[str, Vehicle],
    ) -> None:
        travel = travel_params(scenario)
        factors = emission_factors(scenario)
        baseline = scenario.baseline_mode
        for tour in document.tours:
            # The km the baseline mode would have driven on the same legs, as the
            # planner's KPI computes it (geodesic km times each mode's detour factor).
            baseline_g = sum(
                leg.km
                / travel[tour.mode].detour_factor
                * travel[baseline].detour_factor
                * factors[baseline]
                for leg in tour.legs
            )
            self.session.add(
                Tour(
                    plan_id=plan.id,
                    key=tour.id,
                    caseworker_id=caseworkers[tour.caseworker].id,
                    date=tour.date,
                    mode=tour.mode,
                    vehicle_id=vehicles[tour.vehicle].id if tour.vehicle else None,
                    depart=tour.depart,
                    return_=tour.return_,
                    distance_km=tour.distance_km,
                    travel_minutes=tour.travel_minutes,
                    co2e_kg=tour.co2e_kg,
                    baseline_co2e_kg=round(baseline_g / 1000, 4),
                    legs=[leg.model_dump(mode="json", by_alias=True) for leg in tour.legs],
                )
            )

    def _carry_tours(self, plan: Plan, past: Past) -> None:
        for tour in past.tours:
            self.session.add(
                Tour(
                    plan_id=plan.id,
                    key=tour.key,
                    caseworker_id=tour.caseworker_id,
                    date=tour.date,
                    mode=tour.mode,
                    vehicle_id=tour.vehicle_id,
                    depart=tour.depart,
                    return_=tour.return_,
                    distance_km=tour.distance_km,
                    travel_minutes=tour.travel_minutes,
                    co2e_kg=tour.co2e_kg,
                    baseline_co2e_kg=tour.baseline_co2e_kg,
                    legs=tour.legs,
                )
            )

    def _count_paperless(self, plan: Plan) -> None:
        """One ``plan_published`` step per site: its caseworkers with appointments in
        the plan get them in fieldwork instead of a printed weekly roster."""
        rows = self.session.execute(
            select(Caseworker.site_id, func.count(distinct(Caseworker.id)))
            .join(Appointment, Appointment.caseworker_id == Caseworker.id)
            .where(Appointment.plan_id == plan.id, Appointment.status == "confirmed")
            .group_by(Caseworker.site_id)
            .order_by(Caseworker.site_id)
        )
        for site_id, count in rows:
            record_paperless(
                session=self.session,
                kind="plan_published",
                site_id=site_id,
                count=int(count),
                ref=f"plan:{plan.id}",
                at=self.now,
            )

    def _book(self, plan: Plan, document: fmt.Plan, vehicles: dict[str, Vehicle]) -> int:
        """A booking per tour with a vehicle (``fleet.bookings.book``, which checks
        overlaps with the handover buffer, maintenance and range); every clash is
        collected before failing, so the coordinator sees them all at once."""
        clashes: list[VehicleClash] = []
        tours = {tour.id: tour for tour in document.tours}
        for booking in document.vehicle_bookings:
            try:
                book(
                    self.session,
                    vehicle_id=vehicles[booking.vehicle].id,
                    start=booking.start,
                    end=booking.end,
                    source="plan",
                    plan_id=plan.id,
                    tour_key=booking.tour,
                    km_planned=tours[booking.tour].distance_km,
                    booked_by_id=self.user_id,
                    actor=self.actor,
                )
            except BookingConflict as conflict:
                clashes.extend(self._clash(booking.tour, item) for item in conflict.conflicts)
        if clashes:
            raise PublishConflict(plan.id, clashes)
        return len(document.vehicle_bookings)

    def _clash(self, tour: str, item: BookingConflictItem) -> VehicleClash:
        other = (
            self.session.get(VehicleBooking, item.booking_id)
            if item.booking_id is not None
            else None
        )
        return VehicleClash(
            vehicle=item.vehicle,
            tour=tour,
            start=item.start,
            end=item.end,
            kind=item.kind,
            other_id=item.booking_id if item.booking_id is not None else item.block_id,
            other_start=item.other_start,
            other_end=item.other_end,
            other_source=other.source if other is not None else None,
            other_plan_id=other.plan_id if other is not None else None,
            reason=item.reason_en,
            reason_de=item.reason_de,
        )

    def _write_appointments(
        self,
        plan: Plan,
        document: fmt.Plan,
        visits: dict[str, VisitRequest],
        caseworkers: dict[str, Caseworker],
        current: list[Plan],
        past: Past,
    ) -> list[AppointmentChange]:
        session = self.session
        by_visit_id = {visit.id: visit for visit in visits.values()}
        before: dict[int, Appointment] = {}
        if current:
            for earlier in session.scalars(
                select(Appointment)
                .where(Appointment.plan_id.in_([p.id for p in current]))
                .order_by(Appointment.plan_id)
            ):
                before[earlier.visit_request_id] = earlier
        keys_by_id = {row.id: row.key for row in session.scalars(select(Caseworker))}
        changes: list[AppointmentChange] = []
        # What the run kept (the past): copied as it is, unchanged for every calendar.
        for kept in past.appointments:
            before.pop(kept.visit_request_id, None)
            session.add(
                Appointment(
                    plan_id=plan.id,
                    visit_request_id=kept.visit_request_id,
                    caseworker_id=kept.caseworker_id,
                    tour_key=kept.tour_key,
                    start=kept.start,
                    end=kept.end,
                    uid=kept.uid,
                    sequence=kept.sequence,
                    status=kept.status,
                    updated_at=kept.updated_at,
                )
            )
            row = by_visit_id.get(kept.visit_request_id)
            changes.append(
                AppointmentChange(
                    uid=kept.uid,
                    visit=row.key if row is not None else str(kept.visit_request_id),
                    caseworker_id=kept.caseworker_id,
                    caseworker=keys_by_id.get(kept.caseworker_id, str(kept.caseworker_id)),
                    kind="unchanged",
                    old_caseworker_id=kept.caseworker_id,
                    old_start=kept.start,
                    old_end=kept.end,
                    new_start=kept.start,
                    new_end=kept.end,
                    sequence=kept.sequence,
                )
            )
        planned = {a.visit: a for a in document.appointments}
        earlier_uids = self._earlier_uids(
            plan,
            [visits[key].id for key in planned if visits[key].id not in before],
        )
        for appointment in document.appointments:
            visit = visits[appointment.visit]
            caseworker = caseworkers[appointment.caseworker]
            old: Appointment | None = before.pop(visit.id, None)
            start, end = appointment.start, appointment.end
            if old is None:
                kind: ChangeKind = "new"
                carried = earlier_uids.get(visit.id)
                # A visit an earlier version of the week had (and a later one dropped)
                # keeps its uid; a visit never published gets a new one.
                uid, sequence, updated = f"{uuid.uuid4()}@fieldwork", 0, self.now
                if carried is not None:
                    uid, sequence = carried[0], carried[1] + 1
            elif old.status == "cancelled":
                kind, uid, sequence, updated = "new", old.uid, old.sequence + 1, self.now
            elif (old.caseworker_id, old.start, old.end) != (caseworker.id, start, end):
                kind, uid, sequence, updated = "moved", old.uid, old.sequence + 1, self.now
            else:
                kind, uid, sequence, updated = "unchanged", old.uid, old.sequence, old.updated_at
            session.add(
                Appointment(
                    plan_id=plan.id,
                    visit_request_id=visit.id,
                    caseworker_id=caseworker.id,
                    tour_key=appointment.tour,
                    start=start,
                    end=end,
                    uid=uid,
                    sequence=sequence,
                    status="confirmed",
                    updated_at=updated,
                )
            )
            changes.append(
                AppointmentChange(
                    uid=uid,
                    visit=visit.key,
                    caseworker_id=caseworker.id,
                    caseworker=caseworker.key,
                    kind=kind,
                    old_caseworker_id=old.caseworker_id if old is not None else None,
                    old_start=old.start if old is not None and old.status != "cancelled" else None,
                    old_end=old.end if old is not None and old.status != "cancelled" else None,
                    new_start=start,
                    new_end=end,
                    sequence=sequence,
                )
            )
        # What the superseded plans had and this one does not plan: cancelled.
        for old in sorted(before.values(), key=lambda a: (a.start, a.uid)):
            was_cancelled = old.status == "cancelled"
            sequence = old.sequence if was_cancelled else old.sequence + 1
            updated = old.updated_at if was_cancelled else self.now
            session.add(
                Appointment(
                    plan_id=plan.id,
                    visit_request_id=old.visit_request_id,
                    caseworker_id=old.caseworker_id,
                    tour_key=None,
                    start=old.start,
                    end=old.end,
                    uid=old.uid,
                    sequence=sequence,
                    status="cancelled",
                    updated_at=updated,
                )
            )
            dropped = by_visit_id.get(old.visit_request_id)
            changes.append(
                AppointmentChange(
                    uid=old.uid,
                    visit=dropped.key if dropped is not None else str(old.visit_request_id),
                    caseworker_id=old.caseworker_id,
                    caseworker=keys_by_id.get(old.caseworker_id, str(old.caseworker_id)),
                    kind="unchanged" if was_cancelled else "cancelled",
                    old_caseworker_id=old.caseworker_id,
                    old_start=old.start,
                    old_end=old.end,
                    new_start=None,
                    new_end=None,
                    sequence=sequence,
                )
            )
        return changes

    def _earlier_uids(self, plan: Plan, visit_ids: list[int]) -> dict[int, tuple[str, int]]:
        """The uid and sequence of each visit's latest appointment in an earlier
        published (now superseded) plan of the week, for visits the current plans lack."""
        if not visit_ids:
            return {}
        rows = self.session.execute(
            select(Appointment.visit_request_id, Appointment.uid, Appointment.sequence)
            .join(Plan, Plan.id == Appointment.plan_id)
            .where(
                Appointment.visit_request_id.in_(visit_ids),
                Plan.week_id == plan.week_id,
                Plan.status.in_(("published", "superseded")),
                Plan.id != plan.id,
            )
            .order_by(Plan.published_at, Appointment.id)
        )
        return {visit_id: (uid, sequence) for visit_id, uid, sequence in rows}
