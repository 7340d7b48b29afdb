"""Who may do what: 401 without a valid token, 403 for a role that may not, and 404
for a caseworker asking for another caseworker's household (no existence oracle)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from session_app import WEEK, Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import create_token, hash_token, revoke_tokens
from scheduler.models import ApiToken, Household

ENDPOINTS = ["/sites", "/caseworkers", "/households", "/visits", "/vehicles"]


def household_id(session: Session, pseudonym: str) -> int:
    return session.scalars(select(Household.id).where(Household.pseudonym == pseudonym)).one()


@pytest.mark.parametrize("path", [*ENDPOINTS, f"/scenarios?week={WEEK}", "/households/1"])
def test_no_token_is_401(client: TestClient, tokens: Tokens, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    bad = client.get(path, headers={"Authorization": "Bearer fw_not-a-token"})
    assert bad.status_code == 401


def test_tokens_are_stored_hashed_and_can_be_revoked(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    row, token = create_token(session=session, user_name="test-coordinator", actor="test")
    assert len(token) > 40 and row.token_hash == hash_token(token) and token not in row.token_hash
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/sites", headers=auth).status_code == 200
    revoke_tokens(session=session, user_name="test-coordinator", token_id=row.id, actor="test")
    assert client.get("/sites", headers=auth).status_code == 401
    assert client.get("/sites", headers=tokens.header("coordinator")).status_code == 200


def test_caseworker_sees_only_their_households(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    auth = tokens.header("caseworker")
    listed = client.get("/households", params={"limit": 500}, headers=auth).json()
    pseudonyms = {h["pseudonym"] for h in listed["items"]}
    assert "H0004" in pseudonyms and "H0008" in pseudonyms  # primary, allowed
    assert all(
        h["primary_caseworker"] == "cw01" or "cw01" in h["allowed_caseworkers"]
        for h in listed["items"]
    )
    own = client.get(f"/households/{household_id(session, 'H0004')}", headers=auth)
    assert own.status_code == 200
    other = client.get(f"/households/{household_id(session, 'H0002')}", headers=auth)
    missing = client.get("/households/999999", headers=auth)
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].startswith("no household")
    visits = client.get("/visits", params={"limit": 500}, headers=auth).json()["items"]
    assert visits and {v["household"] for v in visits} <= pseudonyms


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/households", {"pseudonym": "H0200", "lat": 51.8, "lon": 8.0}),
        ("post", "/sites", {"key": "x", "lat": 51.8, "lon": 8.0}),
        ("post", "/vehicles", {"key": "x", "site": "enn", "kind": "e_bike", "range_km": 50}),
        ("delete", "/households/1", None),
        ("get", "/households/1/export", None),
        ("get", f"/scenarios?week={WEEK}", None),
    ],
)
def test_caseworker_may_not_change_or_export(
    client: TestClient, tokens: Tokens, method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body, headers=tokens.header("caseworker"))
    assert response.status_code == 403
    assert response.json()["status"] == 403


@pytest.mark.parametrize(
    "path", ["/households", "/households/1", "/visits", f"/scenarios?week={WEEK}"]
)
def test_fleet_manager_sees_no_household_data(
    client: TestClient, tokens: Tokens, path: str
) -> None:
    response = client.get(path, headers=tokens.header("fleet_manager"))
    assert response.status_code == 403


def test_fleet_manager_sees_vehicles_but_may_not_plan(client: TestClient, tokens: Tokens) -> None:
    auth = tokens.header("fleet_manager")
    assert client.get("/vehicles", headers=auth).json()["total"] == 6
    caseworker = {"key": "cw09", "site": "enn", "modes": ["walk"]}
    assert client.post("/caseworkers", json=caseworker, headers=auth).status_code == 403
