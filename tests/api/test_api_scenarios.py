"""POST /scenarios (validated, all or nothing) and GET /scenarios (planning format)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from session_app import EXAMPLE, WEEK, Tokens
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from scheduler.models import Household, VisitRequest


def counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Household)) or 0,
        session.scalar(select(func.count()).select_from(VisitRequest)) or 0,
    )


def test_a_bad_scenario_is_422_with_paths_and_writes_nothing(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    before = counts(session)
    document = json.loads(EXAMPLE.read_text())
    document["name"] = "another week"
    document["horizon"] = {"start": "2027-01-04", "end": "2027-01-08"}
    document["households"].append({**document["households"][0], "id": "H0999"})
    document["visits"][2]["household"] = "H0404"
    response = client.post("/scenarios", json=document, headers=tokens.header("coordinator"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {"path": "$.visits[2].household", "message": "unknown household 'H0404'"} in (
        response.json()["errors"]
    )
    assert counts(session) == before

    document["visits"][2]["durration_minutes"] = 30
    structural = client.post("/scenarios", json=document, headers=tokens.header("coordinator"))
    assert structural.status_code == 422
    assert "$.visits[2].durration_minutes" in [e["path"] for e in structural.json()["errors"]]
    assert counts(session) == before


def test_import_then_export_round_trip(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    auth = tokens.header("coordinator")
    document = json.loads(EXAMPLE.read_text())
    document["horizon"] = {"start": "2026-12-07", "end": "2026-12-11"}
    document["name"] = "KW 50"
    document["visits"] = [visit for visit in document["visits"] if "window" not in visit][:10]
    response = client.post("/scenarios", json=document, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["week"] == "2026-12-07"
    assert response.json()["records"]["visits"] == {"created": 10, "updated": 0}
    assert session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "import", AuditEvent.actor == "test-coordinator"
        )
    ).one()

    exported = client.get("/scenarios", params={"week": "2026-12-07"}, headers=auth)
    assert exported.status_code == 200
    scenario = exported.json()
    assert scenario["format"] == "fieldwork-scenario/1" and scenario["name"] == "KW 50"
    assert sorted(v["id"] for v in scenario["visits"]) == sorted(
        v["id"] for v in document["visits"]
    )
    again = client.post("/scenarios", json=scenario, headers=auth)
    assert again.json()["records"]["visits"] == {"created": 0, "updated": 10}

    one_site = client.get("/scenarios", params={"week": WEEK, "site": "enn"}, headers=auth)
    assert one_site.status_code in (200, 409)
    assert client.get("/scenarios", params={"week": "2030-01-07"}, headers=auth).status_code == 404
    assert client.get("/scenarios", params={"week": "soon"}, headers=auth).status_code == 422


def test_records_made_through_the_api_export_as_a_valid_scenario(
    client: TestClient, tokens: Tokens
) -> None:
    auth = tokens.header("coordinator")
    caseworker = {
        "key": "cw09",
        "site": "enn",
        "working_hours": [{"weekday": 0, "start": "08:00", "end": "16:00"}],
        "modes": ["walk"],
    }
    assert client.post("/caseworkers", json=caseworker, headers=auth).status_code == 201
    no_modes = client.post(
        "/caseworkers", json={**caseworker, "key": "cw10", "modes": []}, headers=auth
    )
    assert no_modes.status_code == 422
    household = {"pseudonym": "H0100", "lat": 51.84, "lon": 8.03, "primary_caseworker": "cw09"}
    assert client.post("/households", json=household, headers=auth).status_code == 201
    visit = {"week": WEEK, "key": "H0100/1", "household": "H0100", "duration_minutes": 45}
    assert client.post("/visits", json=visit, headers=auth).status_code == 201

    exported = client.get("/scenarios", params={"week": WEEK}, headers=auth)
    assert exported.status_code == 200, exported.text
    scenario = exported.json()
    assert "H0100/1" in [v["id"] for v in scenario["visits"]]
    assert client.post("/scenarios", json=scenario, headers=auth).status_code == 201
