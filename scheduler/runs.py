"""Planning runs: a week queued as a plan row, planned by a worker, its progress kept.

The plan row is the source of truth, whatever queue carries the run: ``queue_run``
exports the week (with the vehicles' existing bookings as blocked time) into
``Plan.scenario`` and leaves the row ``queued``; a worker calls ``execute_run``, which
claims the row (``queued`` -> ``running``, one ``UPDATE ... WHERE status = 'queued'``,
so two workers never run the same plan), reports progress into the row while the
planner works and writes the plan document (``done``) or the reason it failed
(``failed``). A queue only carries plan ids; losing one loses nothing.

A worker that dies (killed, machine gone) leaves its run ``running`` with a heartbeat
that stops: ``recover_runs`` puts such a run back to ``queued`` once (``attempts``
counts the tries) and marks it ``failed`` on the second death, so a run that kills its
worker (memory) does not loop. ``attempts`` is also the run's fencing token: a worker
declared dead that wakes up again cannot overwrite the row of the retry.

Re-planning: a run of a week that has a published plan starts from it by default
(``previous``): the planner keeps every tour that still fits and reports what moved.

A run has a "now": the moment it is queued (``Plan.created_at``; ``queue_run`` takes it
as an argument so tests can set it). A re-plan in the middle of a week does not move
the past: every tour of the published plans that departed before now (or has an
appointment that starts before now) is *kept* with its appointments and vehicle
booking (``past_of``). The run plans the rest only (``remaining_scenario``): the kept
visits are left out, every caseworker is absent until now and all day on a day with a
kept tour (so a new tour of that day cannot collide with the kept one), and the kept
tours' bookings stay blocked time. Publishing carries the kept tours, appointments and
bookings into the new plan unchanged (``scheduler.publishing``).
"""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.audit import record
from core.db import transaction, utc_now, write_transaction
from core.errors import Conflict, Infeasible, NotFound
from scheduler import format as fmt
from scheduler.models import (
    Appointment,
    Caseworker,
    Plan,
    PlanningWeek,
    Site,
    Tour,
    VisitRequest,
)
from scheduler.planner import PlanProgress, plan_scenario
from scheduler.service import export_scenario
from scheduler.validation import validate_scenario

#: A worker that has not beaten for this long is taken for dead.
STALE_AFTER_S = 60.0
#: How often a running worker writes its heartbeat.
HEARTBEAT_EVERY_S = 5.0
#: Progress is written at most this often (the planner reports many small steps).
PROGRESS_EVERY_S = 0.5
#: A run whose worker died this many times fails instead of being tried again.
MAX_ATTEMPTS = 2
#: What a coordinator may cancel (a done plan: discard it).
CANCELLABLE = ("queued", "running", "done")
#: Bounds of a run's time limit (seconds): the API promises an answer within minutes.
MIN_TIME_LIMIT_S = 0.5
MAX_TIME_LIMIT_S = 3600.0


@dataclass(frozen=True, slots=True)
class Recovered:
    """What ``recover_runs`` found: runs to put (back) on the queue and runs given up."""

    requeued: list[int]
    failed: list[int]
    queued: list[int]


def site_keys(session: Session, sites: Sequence[str] | None) -> list[str]:
    """The site keys a run plans: the given ones (checked) or every site, sorted."""
    known = list(session.scalars(select(Site.key).order_by(Site.key)))
    if sites is None:
        if not known:
            raise NotFound("no sites: import a scenario first")
        return known
    missing = sorted(set(sites) - set(known))
    if missing:
        raise NotFound(f"unknown site(s): {', '.join(missing)}")
    return sorted(set(sites))


def published_plans(session: Session, week_id: int, sites: Sequence[str]) -> list[Plan]:
    """The week's current (published) plans that plan any of these sites."""
    wanted = set(sites)
    plans = session.scalars(
        select(Plan).where(Plan.week_id == week_id, Plan.status == "published").order_by(Plan.id)
    )
    return [plan for plan in plans if wanted & set(plan.sites or ())]


@dataclass(frozen=True, slots=True)
class Past:
    """What a re-plan keeps exactly as it is: tours of the published plans that started
    before the run's now, and their (confirmed) appointments."""

    tours: list[Tour]
    appointments: list[Appointment]

    def tour_keys(self) -> set[tuple[int, str]]:
        return {(tour.plan_id, tour.key) for tour in self.tours}

    def visit_ids(self) -> set[int]:
        return {appointment.visit_request_id for appointment in self.appointments}


def past_of(session: Session, plans: Sequence[Plan], now: datetime) -> Past:
    """The tours of ``plans`` that departed before ``now`` or have an appointment that
    starts before it (a tour under way is kept whole), with their appointments."""
    ids = [plan.id for plan in plans]
    if not ids:
        return Past(tours=[], appointments=[])
    appointments = list(
        session.scalars(
            select(Appointment)
            .where(Appointment.plan_id.in_(ids), Appointment.status == "confirmed")
            .order_by(Appointment.start, Appointment.id)
        )
    )
    started = {(a.plan_id, a.tour_key) for a in appointments if a.start < now}
    tours = [
        tour
        for tour in session.scalars(
            select(Tour).where(Tour.plan_id.in_(ids)).order_by(Tour.depart, Tour.id)
        )
        if tour.depart < now or (tour.plan_id, tour.key) in started
    ]
    keys = {(tour.plan_id, tour.key) for tour in tours}
    return Past(
        tours=tours,
        appointments=[a for a in appointments if (a.plan_id, a.tour_key) in keys],
    )


def remaining_scenario(
    scenario: fmt.Scenario,
    *,
    now: datetime,
    kept_visits: set[str],
    kept_days: set[tuple[str, date]],
) -> fmt.Scenario:
    """The part of a week a mid-week re-plan may still plan (see the module's text).

    ``kept_visits``: visit keys of kept appointments (left out); ``kept_days``:
    ``(caseworker key, date)`` of kept tours (the caseworker is absent all that day).
    Raises ``Conflict`` when the week is over.
    """
    zone = ZoneInfo(scenario.timezone)
    local = now.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    if local < now.astimezone(zone).replace(tzinfo=None):
        local += timedelta(minutes=1)  # absent up to the next full minute
    first = datetime.combine(scenario.horizon.start, datetime.min.time())
    if local <= first and not kept_days:
        return scenario
    if local.date() > scenario.horizon.end:
        raise Conflict(
            f"the week {scenario.horizon.start}..{scenario.horizon.end} is over: "
            "nothing left to re-plan"
        )
    caseworkers = []
    for caseworker in scenario.caseworkers:
        absences = list(caseworker.absences)
        if local > first:
            absences.append(fmt.Absence(start=first, end=local, reason="vergangen"))
        absences.extend(
            fmt.Absence(start=day, end=day, reason="Tour bleibt wie veröffentlicht")
            for key, day in sorted(kept_days)
            if key == caseworker.id and day >= local.date()
        )
        caseworkers.append(caseworker.model_copy(update={"absences": absences}))
    return scenario.model_copy(
        update={
            "caseworkers": caseworkers,
            "visits": [visit for visit in scenario.visits if visit.id not in kept_visits],
        }
    )


def queue_run(
    *,
    session: Session,
    week_start: date,
    sites: Sequence[str] | None,
    time_limit_s: float,
    seed: int,
    replan: bool | None,
    actor: str,
    user_id: int | None = None,
    now: datetime | None = None,
) -> Plan:
    """Export the week and queue a run of it: the new ``queued`` plan row.

    ``now`` (default: the current time) is the run's now: what the week's published
    plans have before it stays as it is (see the module's text).

    ``replan``: None re-plans from the week's published plan of these sites if there is
    one; True requires one (``Conflict`` otherwise); False plans from scratch. Raises
    ``NotFound`` for an unknown week or site and ``Conflict`` when the sites cannot be
    planned together (see ``export_scenario``) or their published plans do not fit.
    """
    if not MIN_TIME_LIMIT_S <= time_limit_s <= MAX_TIME_LIMIT_S:
        raise Infeasible(f"time_limit_s must lie between {MIN_TIME_LIMIT_S} and {MAX_TIME_LIMIT_S}")
    # One write transaction: on SQLite the checks, the export and the insert see one
    # state even while workers write their progress and others publish.
    with write_transaction(session):
        week = session.scalars(
            select(PlanningWeek).where(PlanningWeek.start == week_start)
        ).one_or_none()
        if week is None:
            raise NotFound(
                f"no planning week starts on {week_start}: import a scenario for it first"
            )
        keys = site_keys(session, sites)
        current = published_plans(session, week.id, keys)
        wider = [plan for plan in current if not set(plan.sites or ()) <= set(keys)]
        if wider:
            raise Conflict(
                f"plan {wider[0].id} is published for sites {', '.join(wider[0].sites or ())}; "
                f"a plan of {', '.join(keys)} alone would drop the others' appointments"
            )
        previous: Plan | None = None
        if replan is not False:
            if len(current) == 1:
                previous = current[0]
            elif replan and not current:
                raise Conflict(f"no published plan of week {week_start} to re-plan")
            elif replan:
                raise Conflict(
                    f"plans {', '.join(str(plan.id) for plan in current)} are published for "
                    "these sites; re-plan each site on its own"
                )
        now = now or utc_now()
        past = past_of(session, current, now)
        # The plans this one will supersede hold bookings it may take over (but not
        # those of the tours it keeps); every other booking of the sites' vehicles (ad
        # hoc, other weeks, other sites) is blocked time.
        scenario = export_scenario(
            session=session,
            week_start=week_start,
            sites=sites,
            bookings_as_blocks=True,
            except_plans=[plan.id for plan in current],
            kept_tours=past.tour_keys(),
        )
        if current:
            scenario = _remaining(session, scenario, past, now)
        plan = Plan(
            created_at=now,
            week_id=week.id,
            sites=keys,
            status="queued",
            time_limit_s=time_limit_s,
            seed=seed,
            created_by_id=user_id,
            scenario=fmt.dump_document(scenario),
            previous_plan_id=previous.id if previous is not None else None,
            progress=_progress_document(0.0, time_limit_s, 0, len(scenario.visits), None),
        )
        session.add(plan)
        session.flush()
        record(
            session=session,
            actor=actor,
            user_id=user_id,
            action="queue",
            entity="plan",
            entity_id=str(plan.id),
            detail={
                "week": week_start.isoformat(),
                "sites": keys,
                "time_limit_s": time_limit_s,
                "seed": seed,
                "previous_plan": plan.previous_plan_id,
            },
        )
    return plan


def _remaining(session: Session, scenario: fmt.Scenario, past: Past, now: datetime) -> fmt.Scenario:
    visit_keys = {
        visit_id: key
        for visit_id, key in session.execute(
            select(VisitRequest.id, VisitRequest.key).where(VisitRequest.id.in_(past.visit_ids()))
        )
    }
    caseworker_keys = {
        caseworker_id: key
        for caseworker_id, key in session.execute(
            select(Caseworker.id, Caseworker.key).where(
                Caseworker.id.in_({tour.caseworker_id for tour in past.tours})
            )
        )
    }
    return remaining_scenario(
        scenario,
        now=now,
        kept_visits=set(visit_keys.values()),
        kept_days={(caseworker_keys[tour.caseworker_id], tour.date) for tour in past.tours},
    )


def _progress_document(
    elapsed_s: float, time_limit_s: float, placed: int, visits: int, cost: float | None
) -> dict[str, Any]:
    return {
        "elapsed_s": round(elapsed_s, 2),
        "time_limit_s": time_limit_s,
        "placed": placed,
        "visits": visits,
        "cost": None if cost is None else round(cost, 3),
    }


def claim(*, session: Session, plan_id: int) -> int | None:
    """Take a queued run: ``running``, one more attempt; the attempt, or None if the
    run is not queued (taken by another worker, finished, or unknown)."""
    now = utc_now()
    with transaction(session):
        taken = session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.status == "queued")
            .values(
                status="running",
                attempts=Plan.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                error=None,
            )
            .returning(Plan.attempts)
        ).scalar_one_or_none()
    return taken


def _running(plan_id: int, attempt: int) -> Any:
    """The row of this attempt of a run, while it still runs (the fencing condition)."""
    return (Plan.id == plan_id) & (Plan.status == "running") & (Plan.attempts == attempt)


def beat(*, session: Session, plan_id: int, attempt: int) -> bool:
    """Write the run's heartbeat; False if the run is no longer this attempt's."""
    with transaction(session):
        result = session.execute(
            update(Plan).where(_running(plan_id, attempt)).values(heartbeat_at=utc_now())
        )
    return bool(getattr(result, "rowcount", 0))


@contextmanager
def heartbeat(
    session_factory: Callable[[], Session],
    plan_id: int,
    attempt: int,
    on_lost: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Beat in a thread of its own (with its own session) while the block runs, so a
    long search without progress reports does not look like a dead worker.

    ``on_lost`` is called (once) when the run is no longer this attempt's: cancelled by
    a coordinator, or given to another worker; the supervisor then stops its child.
    """
    stop = threading.Event()

    def loop() -> None:
        with session_factory() as session:
            while not stop.wait(HEARTBEAT_EVERY_S):
                try:
                    ours = beat(session=session, plan_id=plan_id, attempt=attempt)
                except Exception:  # a missed beat is retried next time
                    session.rollback()
                    continue
                if not ours:
                    if on_lost is not None:
                        on_lost()
                    return

    thread = threading.Thread(target=loop, name=f"heartbeat-plan-{plan_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_EVERY_S + 5)


def cancel_run(*, session: Session, plan_id: int, actor: str, user_id: int | None = None) -> Plan:
    """Cancel a queued or running run, or discard a done plan: status ``cancelled``.

    A running run's worker notices at its next heartbeat and stops planning; whatever
    it would still write is refused by the fence. Raises ``NotFound`` and ``Conflict``
    (a failed, published, superseded or cancelled plan stays as it is).
    """
    with transaction(session):
        changed = session.execute(
            update(Plan)
            .where(Plan.id == plan_id, Plan.status.in_(CANCELLABLE))
            .values(status="cancelled", finished_at=utc_now())
        )
        plan = session.get(Plan, plan_id)
        if plan is None:
            raise NotFound(f"no plan {plan_id}")
        if not getattr(changed, "rowcount", 0):
            raise Conflict(
                f"plan {plan_id} is {plan.status}; only a queued, running or done plan "
                "can be cancelled"
            )
        record(
            session=session,
            actor=actor,
            user_id=user_id,
            action="cancel",
            entity="plan",
            entity_id=str(plan_id),
        )
    session.refresh(plan)
    return plan


def execute_run(*, session: Session, plan_id: int) -> str | None:
    """Claim a queued plan and run it to its end in this thread: the status it ended
    in, or None if it was not queued (nothing done). See ``run_claimed``."""
    attempt = claim(session=session, plan_id=plan_id)
    if attempt is None:
        return None
    return run_claimed(session=session, plan_id=plan_id, attempt=attempt)


def run_claimed(*, session: Session, plan_id: int, attempt: int) -> str:
    """Run a plan this worker claimed (``attempt`` from ``claim``): ``done`` or ``failed``.

    The planner's progress goes into ``Plan.progress`` as it works; the plan document
    into ``Plan.result`` (``done``); an error into ``Plan.error`` (``failed``). Every
    write is fenced by the attempt: if the run was given to another worker meanwhile,
    this one writes nothing.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    session.refresh(plan)
    try:
        scenario = fmt.Scenario.model_validate(plan.scenario)
        problems = validate_scenario(scenario)
        if problems:
            raise Conflict(
                "the week breaks rules of the planning format: "
                + "; ".join(f"{p.path}: {p.message}" for p in problems[:5])
            )
        previous = _previous_document(session, plan)
        # End the read transaction before planning: on SQLite a write from a snapshot
        # that the heartbeat's writes made stale fails at once ("database is locked").
        session.commit()
        last_write = 0.0

        def on_progress(progress: PlanProgress) -> None:
            nonlocal last_write
            now = clock.monotonic()
            if now - last_write < PROGRESS_EVERY_S:
                return
            last_write = now
            _write_progress(session, plan_id, attempt, progress)

        document = plan_scenario(
            scenario,
            time_limit_s=plan.time_limit_s,
            seed=plan.seed,
            on_progress=on_progress,
            previous=previous,
        )
    except Exception as error:  # whatever broke, the coordinator sees why
        session.rollback()
        _finish(
            session,
            plan_id,
            attempt,
            status="failed",
            error=str(error) if isinstance(error, Conflict) else f"{type(error).__name__}: {error}",
        )
        return "failed"
    _finish(
        session,
        plan_id,
        attempt,
        status="done",
        result=fmt.dump_document(document),
        progress=_progress_document(
            document.solver.wall_s,
            plan.time_limit_s,
            document.kpis.scheduled,
            document.kpis.visits,
            None,
        ),
    )
    return "done"


def _previous_document(session: Session, plan: Plan) -> fmt.Plan | None:
    """The published plan the run starts from, without the tours the run keeps as they
    are (``past_of``): those are neither re-planned nor reported as dropped."""
    if plan.previous_plan_id is None:
        return None
    previous = session.get(Plan, plan.previous_plan_id)
    if previous is None or previous.result is None:
        return None
    document = fmt.Plan.model_validate(previous.result)
    kept = {tour.key for tour in past_of(session, [previous], plan.created_at).tours}
    if not kept:
        return document
    return document.model_copy(
        update={
            "appointments": [a for a in document.appointments if a.tour not in kept],
            "tours": [tour for tour in document.tours if tour.id not in kept],
            "vehicle_bookings": [b for b in document.vehicle_bookings if b.tour not in kept],
        }
    )


def _write_progress(session: Session, plan_id: int, attempt: int, progress: PlanProgress) -> None:
    with transaction(session):
        session.execute(
            update(Plan)
            .where(_running(plan_id, attempt))
            .values(
                progress=_progress_document(
                    progress.elapsed_s,
                    progress.time_limit_s,
                    progress.placed,
                    progress.visits,
                    progress.cost,
                ),
                heartbeat_at=utc_now(),
            )
        )


def _finish(
    session: Session,
    plan_id: int,
    attempt: int,
    *,
    status: str,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    progress: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "finished_at": utc_now(),
        "result": result,
        "error": error,
    }
    if progress is not None:
        values["progress"] = progress
    with transaction(session):
        session.execute(update(Plan).where(_running(plan_id, attempt)).values(**values))
        record(
            session=session,
            actor="worker",
            action="run",
            entity="plan",
            entity_id=str(plan_id),
            detail={"status": status, "attempt": attempt, "error": error},
        )
    session.expire_all()


def abandon(*, session: Session, plan_id: int, attempt: int) -> None:
    """The process running this attempt died: date its heartbeat back so the next
    ``recover_runs`` takes the run back at once instead of after ``STALE_AFTER_S``."""
    with transaction(session):
        session.execute(
            update(Plan)
            .where(_running(plan_id, attempt))
            .values(heartbeat_at=utc_now() - timedelta(days=1))
        )


def recover_runs(
    *, session: Session, stale_after_s: float = STALE_AFTER_S, now: datetime | None = None
) -> Recovered:
    """Runs whose worker died go back to ``queued`` (or fail after ``MAX_ATTEMPTS``).

    Returns those re-queued, those given up, and every plan now ``queued`` (a queue
    that lost its memory, such as the API's local worker after a restart, submits them
    again; a submission of a run already taken does nothing, see ``claim``).
    """
    cutoff = (now or utc_now()) - timedelta(seconds=stale_after_s)
    requeued: list[int] = []
    failed: list[int] = []
    with write_transaction(session):
        dead = session.scalars(
            select(Plan)
            .where(Plan.status == "running", Plan.heartbeat_at < cutoff)
            .order_by(Plan.id)
        ).all()
        for plan in dead:
            again = plan.attempts < MAX_ATTEMPTS
            values: dict[str, Any] = (
                {"status": "queued", "heartbeat_at": None}
                if again
                else {
                    "status": "failed",
                    "finished_at": utc_now(),
                    "error": f"the worker running this plan stopped {plan.attempts} times "
                    "without finishing it; queue a new run (a shorter time limit?)",
                }
            )
            changed = session.execute(
                update(Plan)
                .where(_running(plan.id, plan.attempts), Plan.heartbeat_at < cutoff)
                .values(**values)
            )
            if getattr(changed, "rowcount", 0):
                (requeued if again else failed).append(plan.id)
                record(
                    session=session,
                    actor="worker",
                    action="requeue" if again else "fail",
                    entity="plan",
                    entity_id=str(plan.id),
                    detail={"attempts": plan.attempts, "reason": "worker stopped"},
                )
    session.expire_all()
    queued = list(session.scalars(select(Plan.id).where(Plan.status == "queued").order_by(Plan.id)))
    session.commit()
    return Recovered(requeued=requeued, failed=failed, queued=queued)
