"""Scenario files of the database tests and a comparison that ignores list order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import Base
from scheduler.format import Scenario, dump_document
from scheduler.validation import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
SMALL_WEEK = ROOT / "tests" / "data" / "spec" / "small-week.scenario.json"


def read(path: Path) -> Scenario:
    return load_scenario(path.read_bytes(), source=str(path))


def normalised(scenario: Scenario) -> dict[str, Any]:
    """The scenario's document with every list that has no meaningful order sorted.

    Only order is normalised: working-hour and availability pairs stay (start, end).
    """
    document = dump_document(scenario)
    for section in ("sites", "caseworkers", "vehicles", "households", "visits"):
        document[section] = sorted(document.get(section, []), key=lambda entry: entry["id"])
    for caseworker in document["caseworkers"]:
        caseworker["modes"] = sorted(caseworker["modes"])
        caseworker["skills"] = sorted(caseworker["skills"])
        caseworker["absences"] = sorted(caseworker["absences"], key=json.dumps)
    for vehicle in document["vehicles"]:
        vehicle["blocked"] = sorted(vehicle["blocked"], key=json.dumps)
    for household in document["households"]:
        household["allowed_caseworkers"] = sorted(household["allowed_caseworkers"])
        household["required_skills"] = sorted(household["required_skills"])
        if "availability" in household:
            household["availability"] = {
                day: sorted(intervals) for day, intervals in household["availability"].items()
            }
    return document


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table (every table of the models)."""
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }
