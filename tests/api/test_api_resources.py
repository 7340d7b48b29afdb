"""Each resource's happy path through the real app: create, read, update, list with
pagination and filters, delete; every change audited."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from session_app import WEEK, Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent


def events(session: Session, entity: str, entity_id: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.id)
        )
    )


def test_sites_crud(client: TestClient, tokens: Tokens, session: Session) -> None:
    auth = tokens.header("coordinator")
    created = client.post(
        "/sites",
        json={"key": "ahl", "name": "Ahlen", "lat": 51.76, "lon": 7.89, "region": "DE-NW"},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["timezone"] == "Europe/Berlin"
    assert client.get(f"/sites/{site['id']}", headers=auth).json() == site
    updated = client.patch(f"/sites/{site['id']}", json={"name": "Ahlen Mitte"}, headers=auth)
    assert updated.json()["name"] == "Ahlen Mitte"
    listed = client.get("/sites", params={"limit": 2}, headers=auth).json()
    assert (listed["total"], len(listed["items"])) == (3, 2)
    assert [s["key"] for s in listed["items"]] == ["ahl", "enn"]
    assert client.delete(f"/sites/{site['id']}", headers=auth).status_code == 204
    assert client.get(f"/sites/{site['id']}", headers=auth).status_code == 404
    assert events(session, "site", "ahl") == ["create", "update", "delete"]


def test_a_site_with_caseworkers_cannot_be_deleted(client: TestClient, tokens: Tokens) -> None:
    auth = tokens.header("coordinator")
    enn = client.get("/sites", headers=auth).json()["items"][0]
    response = client.delete(f"/sites/{enn['id']}", headers=auth)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/sites/{enn['id']}", headers=auth).status_code == 200


def test_caseworkers_crud_and_site_filter(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    auth = tokens.header("admin")
    body = {
        "key": "cw09",
        "name": "Frau Neu",
        "site": "evw",
        "working_hours": [{"weekday": 0, "start": "08:00", "end": "16:00"}],
        "modes": ["e_bike", "walk"],
        "skills": ["tr"],
    }
    created = client.post("/caseworkers", json=body, headers=auth)
    assert created.status_code == 201, created.text
    caseworker = created.json()
    assert caseworker["working_hours"] == [{"weekday": 0, "start": "08:00:00", "end": "16:00:00"}]
    evw = client.get("/caseworkers", params={"site": "evw"}, headers=auth).json()
    assert sorted(c["key"] for c in evw["items"]) == ["cw02", "cw04", "cw09"]
    changed = client.patch(
        f"/caseworkers/{caseworker['id']}", json={"skills": [], "site": "enn"}, headers=auth
    ).json()
    assert (changed["skills"], changed["site"]) == ([], "enn")
    assert client.delete(f"/caseworkers/{caseworker['id']}", headers=auth).status_code == 204
    assert events(session, "caseworker", "cw09") == ["create", "update", "delete"]


def test_a_reference_to_an_unknown_site_is_422(client: TestClient, tokens: Tokens) -> None:
    body = {"key": "cw09", "site": "nowhere", "modes": ["walk"]}
    response = client.post("/caseworkers", json=body, headers=tokens.header("coordinator"))
    assert response.status_code == 422
    assert "unknown site nowhere" in response.json()["detail"]


def test_households_crud_filters_and_audit(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    auth = tokens.header("coordinator")
    body = {
        "pseudonym": "H0100",
        "lat": 51.84,
        "lon": 8.03,
        "primary_caseworker": "cw01",
        "allowed_caseworkers": ["cw03"],
        "required_skills": ["tr"],
        "availability": [{"weekday": 1, "start": "09:00", "end": "12:00"}],
    }
    created = client.post("/households", json=body, headers=auth)
    assert created.status_code == 201, created.text
    household = created.json()
    assert (household["site"], household["primary_caseworker"]) == ("enn", "cw01")
    read = client.get(f"/households/{household['id']}", headers=auth).json()
    assert read == household
    changed = client.patch(
        f"/households/{household['id']}", json={"availability": None}, headers=auth
    ).json()
    assert changed["availability"] is None
    moved = client.patch(
        f"/households/{household['id']}", json={"primary_caseworker": "cw02"}, headers=auth
    ).json()
    assert (moved["primary_caseworker"], moved["site"]) == ("cw02", "evw")
    duplicate = client.post("/households", json=body, headers=auth)
    assert duplicate.status_code == 409

    page = client.get(
        "/households", params={"caseworker": "cw01", "limit": 3, "offset": 1}, headers=auth
    ).json()
    assert (
        page["total"]
        == 1
        + sum(
            1
            for h in client.get("/households", params={"limit": 500}, headers=auth).json()["items"]
            if h["primary_caseworker"] == "cw01" or "cw01" in h["allowed_caseworkers"]
        )
        - 1
    )
    assert len(page["items"]) == 3 and page["offset"] == 1
    evw = client.get("/households", params={"site": "evw", "limit": 500}, headers=auth).json()
    assert evw["items"] and all(h["site"] == "evw" for h in evw["items"])
    assert events(session, "household", "H0100")[:4] == ["create", "read", "update", "update"]
    assert "read" in events(session, "household", evw["items"][0]["pseudonym"])


def test_visits_crud_and_filters(client: TestClient, tokens: Tokens, session: Session) -> None:
    auth = tokens.header("coordinator")
    week = client.get("/visits", params={"week": WEEK, "limit": 500}, headers=auth).json()
    assert week["total"] == 35
    body = {
        "week": WEEK,
        "key": "H0004/9",
        "household": "H0004",
        "duration_minutes": 30,
        "priority": 2,
        "earliest": "2026-12-01",
        "pinned_caseworker": "cw01",
        "pinned_start": "2026-12-01T09:00:00+01:00",
    }
    created = client.post("/visits", json=body, headers=auth)
    assert created.status_code == 201, created.text
    visit = created.json()
    assert datetime.fromisoformat(visit["pinned_start"]) == datetime(2026, 12, 1, 8, tzinfo=UTC)
    of_household = client.get("/visits", params={"household": "H0004"}, headers=auth).json()
    assert "H0004/9" in [v["key"] for v in of_household["items"]]
    of_cw01 = client.get("/visits", params={"caseworker": "cw01", "limit": 500}, headers=auth)
    assert "H0004/9" in [v["key"] for v in of_cw01.json()["items"]]
    unpinned = client.patch(
        f"/visits/{visit['id']}",
        json={"pinned_caseworker": None, "pinned_start": None, "duration_minutes": 50},
        headers=auth,
    ).json()
    assert (unpinned["pinned_caseworker"], unpinned["duration_minutes"]) == (None, 50)
    half_pin = client.patch(
        f"/visits/{visit['id']}", json={"pinned_caseworker": "cw01"}, headers=auth
    )
    assert half_pin.status_code == 422
    assert client.delete(f"/visits/{visit['id']}", headers=auth).status_code == 204
    assert events(session, "visit_request", f"{WEEK}/H0004/9") == ["create", "update", "delete"]
    unknown_week = client.post("/visits", json={**body, "week": "2027-01-04"}, headers=auth)
    assert unknown_week.status_code == 422


def test_vehicles_crud_and_filters(client: TestClient, tokens: Tokens, session: Session) -> None:
    auth = tokens.header("fleet_manager")
    body = {"key": "ebike-enn-9", "site": "enn", "kind": "e_bike", "range_km": 60}
    created = client.post("/vehicles", json=body, headers=auth)
    assert created.status_code == 201, created.text
    vehicle = created.json()
    bikes = client.get("/vehicles", params={"kind": "e_bike", "site": "enn"}, headers=auth).json()
    assert "ebike-enn-9" in [v["key"] for v in bikes["items"]]
    assert all(v["kind"] == "e_bike" and v["site"] == "enn" for v in bikes["items"])
    retired = client.patch(f"/vehicles/{vehicle['id']}", json={"active": False}, headers=auth)
    assert retired.json()["active"] is False
    inactive = client.get("/vehicles", params={"active": False}, headers=auth).json()
    assert [v["key"] for v in inactive["items"]] == ["ebike-enn-9"]
    assert client.delete(f"/vehicles/{vehicle['id']}", headers=auth).status_code == 204
    assert events(session, "vehicle", "ebike-enn-9") == ["create", "update", "delete"]
