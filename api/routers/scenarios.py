"""Scenarios in the planning format: ``POST`` imports one (all or nothing), ``GET``
exports a planning week. Only planners: a scenario holds household data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.crud import audit, writing
from api.deps import Planner, SessionDep
from api.problems import RequestInvalid
from api.schemas import ImportResult, Key
from scheduler import format as fmt
from scheduler.service import export_scenario, import_scenario
from scheduler.validation import validate_scenario

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


@router.post("", status_code=201)
def import_(session: SessionDep, user: Planner, scenario: fmt.Scenario) -> ImportResult:
    """Import a scenario: records are created or updated by their ids, nothing is
    deleted; a scenario the format or the database refuses writes nothing."""
    problems = validate_scenario(scenario)
    if problems:
        raise RequestInvalid(problems, "the scenario breaks rules of the planning format")
    summary = import_scenario(session=session, scenario=scenario, actor=user.name)
    return ImportResult(week=summary.week_start, records=summary.as_dict())


@router.get(
    "",
    response_model=None,
    responses={200: {"model": fmt.Scenario, "description": "the week in the planning format"}},
)
def export(
    session: SessionDep,
    user: Planner,
    week: Annotated[date, Query(description="first date of the planning week")],
    site: Annotated[list[Key] | None, Query(description="only these sites")] = None,
) -> dict[str, Any]:
    """The planning week as a scenario (``fieldwork-scenario/1``)."""
    scenario = export_scenario(session=session, week_start=week, sites=site)
    with writing(session):
        audit(session, user, "export", "planning_week", week.isoformat(), {"sites": site})
    return fmt.dump_document(scenario)
