"""Planning runs and their plans: queue a week, watch it, publish it. Only planners
(a plan names households); caseworkers read their published appointments under
``/appointments``."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import problems
from api.crud import Limit, Offset, RecordId, get_or_404, page
from api.deps import Planner, SessionDep
from api.routers.feeds import sessions_for
from api.schemas import Body, Key, Page, ProblemDetails
from api.worker import RunQueue
from calendars.caldav_push import push_after_publish
from calendars.notify import deliver, prepare_mails
from calendars.service import options_from
from core.db import utc_now
from scheduler.models import Plan, PlanningWeek, PlanStatus
from scheduler.publishing import PublishConflict, PublishResult, VehicleClash, publish
from scheduler.runs import MAX_TIME_LIMIT_S, MIN_TIME_LIMIT_S, cancel_run, queue_run

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/plans", tags=["plans"])


def get_run_queue(request: Request) -> RunQueue:
    """The app's run queue (tests replace it to run plans in their own transaction)."""
    queue: RunQueue = request.app.state.run_queue
    return queue


RunQueueDep = Annotated[RunQueue, Depends(get_run_queue)]


def run_clock() -> datetime:
    """A run's "now", the moment it is queued: what the week's published plan has
    before it stays as it is (tests override it to re-plan in the middle of a week)."""
    return utc_now()


RunClockDep = Annotated[datetime, Depends(run_clock)]


class PlanCreate(Body):
    week: date = Field(description="first date of the planning week")
    sites: list[Key] | None = Field(
        default=None, min_length=1, max_length=100, description="site ids (default: all)"
    )
    time_limit_s: float = Field(default=10.0, ge=MIN_TIME_LIMIT_S, le=MAX_TIME_LIMIT_S)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    replan: bool | None = Field(
        default=None,
        description=(
            "true: start from the week's published plan (keep what still fits, report "
            "what moved), false: plan from scratch; default: re-plan if one is published"
        ),
    )


class Progress(BaseModel):
    elapsed_s: float
    time_limit_s: float
    placed: int
    visits: int
    cost: float | None = None


class Moved(BaseModel):
    previous_appointments: int
    kept: int
    moved: list[str]
    dropped: list[str]


class PlanSummary(BaseModel):
    id: int
    week: date
    sites: list[str]
    status: PlanStatus
    time_limit_s: float
    seed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    published_at: datetime | None
    attempts: int
    previous_plan_id: int | None
    progress: Progress | None
    error: str | None
    kpis: dict[str, Any] | None = Field(default=None, description="the plan's KPIs when done")


class PlanPublic(PlanSummary):
    replanning: Moved | None = Field(
        default=None, description="for a re-plan: what stayed, moved or was dropped"
    )
    plan: dict[str, Any] | None = Field(
        default=None, description="the plan document (fieldwork-plan/1) once the run is done"
    )


class ChangePublic(BaseModel):
    uid: str
    visit: str
    caseworker_id: int
    caseworker: str
    kind: Literal["new", "moved", "cancelled", "unchanged"]
    old_start: datetime | None
    old_end: datetime | None
    new_start: datetime | None
    new_end: datetime | None
    sequence: int


class PublishPublic(BaseModel):
    plan_id: int
    week: date
    superseded: list[int]
    bookings: int
    counts: dict[str, int]
    changes: list[ChangePublic]


class ClashPublic(BaseModel):
    vehicle: str
    tour: str
    start: datetime
    end: datetime
    kind: Literal["booking", "block", "range", "retired"] = Field(
        description="another booking or a maintenance block in the way, the day's range "
        "used up, or a retired vehicle"
    )
    other_id: int | None = Field(description="the booking's or block's id")
    other_start: datetime | None
    other_end: datetime | None = Field(description="a booking's end includes the handover")
    other_source: str | None = Field(description="adhoc or plan, for a booking")
    other_plan_id: int | None
    reason: str
    reason_de: str


class PublishConflictProblem(ProblemDetails):
    conflicts: list[ClashPublic]


def _summary_fields(plan: Plan, week: date) -> dict[str, Any]:
    result = plan.result or {}
    return {
        "id": plan.id,
        "week": week,
        "sites": plan.sites or [],
        "status": plan.status,
        "time_limit_s": plan.time_limit_s,
        "seed": plan.seed,
        "created_at": plan.created_at,
        "started_at": plan.started_at,
        "finished_at": plan.finished_at,
        "published_at": plan.published_at,
        "attempts": plan.attempts,
        "previous_plan_id": plan.previous_plan_id,
        "progress": plan.progress,
        "error": plan.error,
        "kpis": result.get("kpis"),
    }


def _week_start(session: SessionDep, plan: Plan) -> date:
    week = session.get(PlanningWeek, plan.week_id)
    assert week is not None
    return week.start


def public(session: SessionDep, plan: Plan) -> PlanPublic:
    result = plan.result
    return PlanPublic(
        **_summary_fields(plan, _week_start(session, plan)),
        replanning=(result or {}).get("replanning"),
        plan=result,
    )


def _clash(clash: VehicleClash) -> ClashPublic:
    return ClashPublic(
        vehicle=clash.vehicle,
        tour=clash.tour,
        start=clash.start,
        end=clash.end,
        kind=clash.kind,
        other_id=clash.other_id,
        other_start=clash.other_start,
        other_end=clash.other_end,
        other_source=clash.other_source,
        other_plan_id=clash.other_plan_id,
        reason=clash.reason,
        reason_de=clash.reason_de,
    )


def _published(result: PublishResult) -> PublishPublic:
    return PublishPublic(
        plan_id=result.plan_id,
        week=date.fromisoformat(result.week_start),
        superseded=result.superseded,
        bookings=result.bookings,
        counts=result.counts(),
        changes=[
            ChangePublic(
                uid=change.uid,
                visit=change.visit,
                caseworker_id=change.caseworker_id,
                caseworker=change.caseworker,
                kind=change.kind,
                old_start=change.old_start,
                old_end=change.old_end,
                new_start=change.new_start,
                new_end=change.new_end,
                sequence=change.sequence,
            )
            for change in result.changes
        ],
    )


def changed_caseworkers(result: PublishResult) -> set[int]:
    """The caseworkers whose calendars a publish changed (old and new caseworker of
    every appointment that is not unchanged): their CalDAV calendars are pushed."""
    changed = [change for change in result.changes if change.kind != "unchanged"]
    return {change.caseworker_id for change in changed} | {
        change.old_caseworker_id for change in changed if change.old_caseworker_id is not None
    }


@router.post("", status_code=202)
def create_plan(
    session: SessionDep, user: Planner, queue: RunQueueDep, now: RunClockDep, body: PlanCreate
) -> PlanPublic:
    """Queue a planning run of the week: the answer is the queued plan; follow it with
    ``GET /plans/{id}`` (status, progress, and the plan once done). In the middle of a
    week a re-plan keeps every published tour that has started as it is and plans the
    rest of the week only."""
    plan = queue_run(
        session=session,
        week_start=body.week,
        sites=body.sites,
        time_limit_s=body.time_limit_s,
        seed=body.seed,
        replan=body.replan,
        actor=user.name,
        user_id=user.id,
        now=now,
    )
    try:
        queue.submit(plan.id)
    except Exception as error:  # the row stays queued; recovery submits it again
        logger.error("plan %s: could not be put on the queue: %s", plan.id, error)
    return public(session, plan)


@router.get("")
def list_plans(
    session: SessionDep,
    user: Planner,
    limit: Limit = 100,
    offset: Offset = 0,
    week: Annotated[date | None, Query(description="first date of the planning week")] = None,
    status: Annotated[PlanStatus | None, Query(description="only plans in this state")] = None,
) -> Page[PlanSummary]:
    """Plans, newest first, without their documents."""
    query = select(Plan).order_by(Plan.id.desc())
    if week is not None:
        query = query.where(
            Plan.week_id.in_(select(PlanningWeek.id).where(PlanningWeek.start == week))
        )
    if status is not None:
        query = query.where(Plan.status == status)
    rows, total = page(session, query, limit, offset)
    weeks = {row.id: row.start for row in session.scalars(select(PlanningWeek))}
    return Page(
        items=[PlanSummary(**_summary_fields(row, weeks[row.week_id])) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{plan_id}")
def read_plan(session: SessionDep, user: Planner, plan_id: RecordId) -> PlanPublic:
    plan = get_or_404(session, Plan, plan_id, "plan")
    session.refresh(plan)
    return public(session, plan)


@router.post("/{plan_id}/cancel")
def cancel_plan(session: SessionDep, user: Planner, plan_id: RecordId) -> PlanPublic:
    """Cancel a queued or running run (its worker stops at its next heartbeat), or
    discard a done plan; published and failed plans stay as they are (409)."""
    plan = cancel_run(session=session, plan_id=plan_id, actor=user.name, user_id=user.id)
    return public(session, plan)


@router.post(
    "/{plan_id}/publish",
    responses={
        409: {
            "description": (
                "not done, or vehicles of the plan were booked meanwhile (conflicts lists "
                "them; nothing was written)"
            ),
            # "model" puts the schema into the components; the answer is problem+json.
            "model": PublishConflictProblem,
            "content": {
                problems.MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/PublishConflictProblem"}
                }
            },
        }
    },
    response_model=PublishPublic,
)
def publish_plan(
    request: Request,
    session: SessionDep,
    user: Planner,
    plan_id: RecordId,
    background: BackgroundTasks,
) -> PublishPublic | JSONResponse:
    """Publish a done plan: appointments (confirmed) and vehicle bookings in one
    transaction; the week's previously published plan of the same sites is superseded.
    ``changes`` says, per appointment, whether it is new, moved, cancelled or unchanged."""
    get_or_404(session, Plan, plan_id, "plan")
    try:
        result = publish(session=session, plan_id=plan_id, actor=user.name, user_id=user.id)
    except PublishConflict as conflict:
        body = ProblemDetails(
            title="Conflict", status=409, detail=str(conflict), instance=request.url.path
        ).model_dump(exclude_none=True)
        body["conflicts"] = [_clash(clash).model_dump(mode="json") for clash in conflict.clashes]
        return JSONResponse(body, status_code=409, media_type=problems.MEDIA_TYPE)
    announce(request, session, background, result)
    return _published(result)


def announce(
    request: Request, session: Session, background: BackgroundTasks, result: PublishResult
) -> None:
    """After a publish (API or web page): same-day changes by e-mail (calendars.notify)
    and the CalDAV calendars of the caseworkers whose appointments changed, both sent
    after the answer; a failure there never undoes the publish."""
    settings = request.app.state.settings
    options = options_from(settings)
    outbox = prepare_mails(
        session=session, changes=result.changes, settings=settings, options=options
    )
    background.add_task(deliver, outbox, settings)
    background.add_task(
        push_after_publish, sessions_for(request), changed_caseworkers(result), options
    )
