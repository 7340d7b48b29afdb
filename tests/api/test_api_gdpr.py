"""A household's data: export everything (Art. 15), erase it (Art. 17), both audited;
erasure keeps the anonymised km and CO2e of plans."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from session_app import WEEK, Tokens
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from scheduler.models import (
    Appointment,
    Caseworker,
    Household,
    Plan,
    PlanningWeek,
    Tour,
    VisitRequest,
)


def planned_visit(session: Session, pseudonym: str) -> Plan:
    """A plan with one tour of cw01 visiting the household's first visit."""
    household = session.scalars(select(Household).where(Household.pseudonym == pseudonym)).one()
    visit = session.scalars(
        select(VisitRequest).where(VisitRequest.household_id == household.id)
    ).first()
    assert visit is not None
    week = session.scalars(select(PlanningWeek)).one()
    cw01 = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
    plan = Plan(
        week_id=week.id,
        time_limit_s=5,
        status="published",
        scenario={"households": [{"id": pseudonym, "location": {"lat": 51.8, "lon": 8.0}}]},
    )
    depart = datetime(2026, 12, 1, 8, tzinfo=UTC)
    back = datetime(2026, 12, 1, 10, tzinfo=UTC)
    plan.tours = [
        Tour(
            key="cw01/2026-12-01/1",
            caseworker_id=cw01.id,
            date=depart.date(),
            mode="e_bike",
            depart=depart,
            return_=back,
            distance_km=7.5,
            travel_minutes=30,
            co2e_kg=0.015,
            baseline_co2e_kg=1.6,
            legs=[{"from": "enn", "to": visit.key, "km": 3.7, "minutes": 15}],
        )
    ]
    session.add(plan)
    session.flush()
    session.add(
        Appointment(
            plan_id=plan.id,
            visit_request_id=visit.id,
            caseworker_id=cw01.id,
            tour_key="cw01/2026-12-01/1",
            start=datetime(2026, 12, 1, 8, 15, tzinfo=UTC),
            end=datetime(2026, 12, 1, 9, tzinfo=UTC),
            uid=f"{visit.key}@fieldwork",
        )
    )
    session.flush()
    return plan


def test_export_holds_record_visits_appointments_and_audit(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    planned_visit(session, "H0004")
    household_id = session.scalars(select(Household.id).where(Household.pseudonym == "H0004")).one()
    auth = tokens.header("coordinator")
    client.get(f"/households/{household_id}", headers=auth)
    visit = client.get("/visits", params={"household": "H0004"}, headers=auth).json()["items"][1]
    client.patch(f"/visits/{visit['id']}", json={"priority": 3}, headers=auth)
    response = client.get(f"/households/{household_id}/export", headers=auth)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["household"]["pseudonym"] == "H0004"
    assert [visit["key"] for visit in export["visits"]] == ["H0004/1", "H0004/2"]
    assert export["visits"][0]["week"] == WEEK
    assert [(a["visit"], a["caseworker"]) for a in export["appointments"]] == [("H0004/1", "cw01")]
    actions = [(event["entity"], event["action"]) for event in export["audit_events"]]
    assert actions == [
        ("household", "read"),
        ("visit_request", "update"),
        ("household", "export"),
    ]
    assert export["audit_events"][0]["actor"] == "test-coordinator"


def test_erasure_removes_personal_data_and_keeps_km(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    plan = planned_visit(session, "H0004")
    household_id = session.scalars(select(Household.id).where(Household.pseudonym == "H0004")).one()
    auth = tokens.header("coordinator")
    assert client.delete(f"/households/{household_id}", headers=auth).status_code == 204

    session.expire_all()
    household = session.get(Household, household_id)
    assert household is not None and household.erased_at is not None
    assert (household.lat, household.lon, household.primary_caseworker_id) == (None, None, None)
    assert household.allowed_caseworkers == [] and household.required_skills == []
    assert plan.scenario["households"] == [{"id": "H0004", "erased": True}]
    tour = session.scalars(select(Tour).where(Tour.plan_id == plan.id)).one()
    assert (tour.distance_km, tour.co2e_kg) == (7.5, 0.015)
    assert session.scalars(select(Appointment).where(Appointment.plan_id == plan.id)).one()

    read = client.get(f"/households/{household_id}", headers=auth).json()
    assert (read["lat"], read["primary_caseworker"], read["erased_at"] is not None) == (
        None,
        None,
        True,
    )
    assert (
        client.patch(
            f"/households/{household_id}", json={"lat": 51.0, "lon": 8.0}, headers=auth
        ).status_code
        == 409
    )
    exported = client.get("/scenarios", params={"week": WEEK}, headers=auth).json()
    assert "H0004" not in [h["id"] for h in exported["households"]]
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity == "household", AuditEvent.entity_id == "H0004"
        )
    ).all()
    assert "erase" in actions
