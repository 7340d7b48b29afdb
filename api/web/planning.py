"""Planning runs from the week page: start one, watch its progress, publish the plan.

The run itself is ``scheduler.runs``'s (queued as a plan row, carried by the app's run
queue to a worker); the page polls the row with htmx every second and reloads the week
once the run is done. Publishing is ``scheduler.publishing.publish``: one transaction
that books the vehicles and makes the appointments current, or a list of clashes.
"""

from __future__ import annotations

import logging
from datetime import date

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.routers.plans import RunClockDep, announce
from api.web import forms
from api.web.pages import (
    PREFIX,
    CheckedForm,
    CoordinatorPage,
    PageError,
    not_found,
    redirect,
    render,
)
from core.errors import DomainError
from scheduler.models import Plan, PlanningWeek
from scheduler.publishing import PublishConflict, publish
from scheduler.runs import MAX_TIME_LIMIT_S, MIN_TIME_LIMIT_S, queue_run

router = APIRouter(prefix=PREFIX, include_in_schema=False)
logger = logging.getLogger(__name__)

#: The choices of the form: re-plan from the published plan, or from scratch.
REPLAN = {"auto": None, "replan": True, "fresh": False}


@router.post("/runs")
def start_run(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    form: CheckedForm,
    now: RunClockDep,
) -> Response:
    try:
        week = date.fromisoformat(forms.text(form, "week"))
        limit = float(forms.number(form, "time_limit_s") or "10")
    except ValueError:
        raise PageError(422, "Bitte prüfen:", "Rechenzeit (Sekunden)") from None
    if not MIN_TIME_LIMIT_S <= limit <= MAX_TIME_LIMIT_S:
        raise PageError(422, "Bitte prüfen:", "Rechenzeit (Sekunden)")
    try:
        plan = queue_run(
            session=session,
            week_start=week,
            sites=None,
            time_limit_s=limit,
            seed=0,
            replan=REPLAN.get(forms.text(form, "replan")),
            actor=user.name,
            user_id=user.id,
            now=now,
        )
    except DomainError as error:
        raise PageError(409, "Planungslauf nicht möglich", str(error)) from None
    try:
        request.app.state.run_queue.submit(plan.id)
    except Exception as error:  # the row stays queued; the queue's recovery submits it
        logger.error("plan %s: could not be put on the queue: %s", plan.id, error)
    return redirect(f"{PREFIX}/week?week={week}&run={plan.id}")


@router.get("/runs/{plan_id}/progress")
def run_progress(
    request: Request, session: SessionDep, user: CoordinatorPage, plan_id: int
) -> Response:
    """The progress fragment; once the run is over, htmx reloads the week with its plan."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise not_found()
    session.refresh(plan)
    week = session.get(PlanningWeek, plan.week_id)
    assert week is not None
    over = plan.status in ("done", "failed", "published", "superseded")
    target = f"{PREFIX}/week?week={week.start}&" + (f"plan={plan.id}" if over else f"run={plan.id}")
    if not request.headers.get("HX-Request"):
        # Without JavaScript the whole week page is the progress report (reload it).
        return redirect(target)
    if over:
        return Response(status_code=200, headers={"HX-Redirect": target})
    return render(request, "_progress.html", run=plan, week=week)


@router.post("/plans/{plan_id}/publish")
def publish_plan(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    plan_id: int,
    form: CheckedForm,
    background: BackgroundTasks,
) -> Response:
    """Publish as ``POST /plans/{id}/publish`` does, e-mails and CalDAV pushes included."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise not_found()
    week = session.get(PlanningWeek, plan.week_id)
    assert week is not None
    try:
        result = publish(session=session, plan_id=plan_id, actor=user.name, user_id=user.id)
    except PublishConflict as error:
        clashes = [
            f"{clash.vehicle}: {clash.tour} ({clash.start:%d.%m. %H:%M}-{clash.end:%H:%M} UTC)"
            for clash in error.clashes
        ]
        return render(
            request,
            "error.html",
            status_code=409,
            title="Veröffentlichen nicht möglich",
            message="Fahrzeuge wurden inzwischen gebucht: " + "; ".join(clashes),
        )
    except DomainError as error:
        raise PageError(409, "Veröffentlichen nicht möglich", str(error)) from None
    announce(request, session, background, result)
    counts = result.counts()
    return redirect(
        f"{PREFIX}/week?week={week.start}&plan={plan_id}&msg=published"
        f"&new={counts['new']}&moved={counts['moved']}&cancelled={counts['cancelled']}"
        f"&unchanged={counts['unchanged']}"
    )
