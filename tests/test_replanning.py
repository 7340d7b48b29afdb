"""Re-planning around a published plan: what need not move stays where it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scheduler.check import check_plan
from scheduler.format import Plan, Scenario
from scheduler.planner import plan_scenario

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
FIELDWORK = Path(sys.executable).parent / "fieldwork"


@pytest.fixture(scope="module")
def published() -> tuple[dict[str, Any], Plan]:
    document = json.loads(DEMO.read_text("utf-8"))
    scenario = Scenario.model_validate(document)
    plan = plan_scenario(scenario, time_limit_s=5)
    assert check_plan(scenario, plan) == []
    return document, plan


def starts(plan: Plan) -> dict[str, tuple[str, str]]:
    return {a.visit: (a.caseworker, a.start.isoformat()) for a in plan.appointments}


def test_a_cancelled_visit_moves_nothing_else(published: tuple[dict[str, Any], Plan]) -> None:
    document, before = published
    cancelled = before.appointments[0].visit
    changed = json.loads(json.dumps(document))
    changed["visits"] = [v for v in changed["visits"] if v["id"] != cancelled]
    scenario = Scenario.model_validate(changed)

    after = plan_scenario(scenario, time_limit_s=5, previous=before)

    assert check_plan(scenario, after) == []
    assert after.replanning is not None
    assert after.replanning.dropped == [cancelled]
    assert after.replanning.moved == []
    old = starts(before)
    for visit, where in starts(after).items():
        if visit in old:
            assert where == old[visit]
    assert after.replanning.kept == len(before.appointments) - 1


def test_an_ill_caseworker_moves_only_their_appointments(
    published: tuple[dict[str, Any], Plan], tmp_path: Path
) -> None:
    document, before = published
    ill = before.appointments[0].caseworker
    changed = json.loads(json.dumps(document))
    for caseworker in changed["caseworkers"]:
        if caseworker["id"] == ill:
            caseworker.setdefault("absences", []).append(
                {"start": "2026-12-02", "end": "2026-12-04", "reason": "krank"}
            )
    previous_file = tmp_path / "published.json"
    previous_file.write_text(before.model_dump_json(by_alias=True, exclude_none=True))
    scenario_file = tmp_path / "ill.json"
    scenario_file.write_text(json.dumps(changed))

    result = subprocess.run(
        [FIELDWORK, "plan", scenario_file, "-o", tmp_path / "re.json", "--previous", previous_file],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "Re-planned:" in result.stdout
    after = Plan.model_validate_json((tmp_path / "re.json").read_text("utf-8"))
    assert check_plan(Scenario.model_validate(changed), after) == []
    assert after.replanning is not None
    untouched = {
        a.visit
        for a in before.appointments
        if not (a.caseworker == ill and a.start.date().isoformat() >= "2026-12-02")
    }
    old, new = starts(before), starts(after)
    # Every appointment the illness does not touch stays exactly where it was.
    assert all(new.get(visit) == old[visit] for visit in untouched)
    affected = {a.visit for a in before.appointments} - untouched
    assert set(after.replanning.moved) | set(after.replanning.dropped) <= affected
    assert affected, "the test needs an appointment of the ill caseworker on Wed-Fri"
