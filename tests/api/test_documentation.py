"""Visit documentation through the HTTP API on SQLite and PostgreSQL: who may note that a
visit's record or a consent was kept digitally, for which appointments, once per kind;
the paperless steps it adds and the sustainability report's paper lines of the month."""

from __future__ import annotations

from datetime import timedelta

from documentation_helpers import PAST, appointments, new_appointment, new_plan
from fastapi.testclient import TestClient
from session_app import Tokens
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import AuditEvent
from core.paperless import PaperlessEvent
from scheduler.models import Appointment, Household, Plan, Site, VisitDocumentation


def _paper(client: TestClient, tokens: Tokens, site: str | None = None) -> dict[str, int]:
    params = {"period": "2026-11"} | ({"site": site} if site else {})
    report = client.get(
        "/reports/sustainability", params=params, headers=tokens.header("coordinator")
    )
    assert report.status_code == 200, report.text
    return {line["kind"]: line["events"] for line in report.json()["paper"]["lines"]}


def test_a_caseworker_documents_their_past_visit_once_per_kind(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    made = appointments(session)
    before = _paper(client, tokens)
    assert (before["visit_record"], before["consent"]) == (0, 0)
    auth = tokens.header("caseworker")  # cw01
    path = f"/appointments/{made.own.id}/documentation"
    assert client.get(path, headers=auth).json() == {
        "appointment_id": made.own.id,
        "uid": made.own.uid,
        "visit_record": False,
        "consent": False,
        "notes": [],
    }

    answer = client.post(path, json={"visit_record": True}, headers=auth)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["visit_record"], body["consent"]) == (True, False)
    assert [(n["kind"], n["recorded_by"]) for n in body["notes"]] == [
        ("visit_record", "test-caseworker")
    ]
    # The same kind again is refused, even together with a new one: nothing is written.
    again = client.post(path, json={"visit_record": True, "consent": True}, headers=auth)
    assert again.status_code == 409
    assert "visit_record documented already" in again.json()["detail"]
    assert client.get(path, headers=auth).json()["consent"] is False
    consent = client.post(path, json={"consent": True}, headers=auth)
    assert consent.status_code == 201, consent.text
    assert client.post(path, json={"consent": True}, headers=auth).status_code == 409
    shown = client.get(path, headers=tokens.header("coordinator")).json()
    assert (shown["visit_record"], shown["consent"]) == (True, True)
    assert [n["kind"] for n in shown["notes"]] == ["visit_record", "consent"]

    # One paperless step per kind, at cw01's site, dated by the visit's start.
    enn = session.scalars(select(Site.id).where(Site.key == "enn")).one()
    steps = session.execute(
        select(
            PaperlessEvent.kind,
            PaperlessEvent.site_id,
            PaperlessEvent.reference,
            PaperlessEvent.at,
            PaperlessEvent.count,
        ).order_by(PaperlessEvent.id)
    ).all()
    assert steps == [
        ("visit_record", enn, f"appointment:{made.own.uid}", PAST, 1),
        ("consent", enn, f"appointment:{made.own.uid}", PAST, 1),
    ]
    audited = session.execute(
        select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.detail)
        .where(AuditEvent.entity == "appointment")
        .order_by(AuditEvent.id)
    ).all()
    assert [(action, uid, detail["kinds"]) for action, uid, detail in audited] == [
        ("document", made.own.uid, ["visit_record"]),
        ("document", made.own.uid, ["consent"]),
    ]
    # The report of the visit's month counts them, for the programme and for the site.
    after = _paper(client, tokens)
    assert (after["visit_record"], after["consent"]) == (1, 1)
    assert after["plan_published"] == before["plan_published"]
    at_enn = _paper(client, tokens, "enn")
    assert (at_enn["visit_record"], at_enn["consent"]) == (1, 1)
    at_evw = _paper(client, tokens, "evw")
    assert (at_evw["visit_record"], at_evw["consent"]) == (0, 0)
    # The household's Art. 15 export says so too (that, not what), with the audit events.
    household_id = session.scalars(select(Household.id).where(Household.pseudonym == "H0001")).one()
    export = client.get(
        f"/households/{household_id}/export", headers=tokens.header("coordinator")
    ).json()
    assert [(n["visit"], n["kind"]) for n in export["documentation"]] == [
        ("H0001/1", "visit_record"),
        ("H0001/1", "consent"),
    ]
    documented = [e for e in export["audit_events"] if e["action"] == "document"]
    assert [e["entity_id"] for e in documented] == [made.own.uid, made.own.uid]


def test_roles_and_which_appointments_can_be_documented(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    made = appointments(session)
    caseworker = tokens.header("caseworker")  # cw01
    body = {"visit_record": True, "consent": True}

    def post(appointment: Appointment, role: str) -> int:
        return client.post(
            f"/appointments/{appointment.id}/documentation", json=body, headers=tokens.header(role)
        ).status_code

    # Another caseworker's appointment does not exist for cw01, reading or writing.
    assert post(made.other, "caseworker") == 404
    assert (
        client.get(f"/appointments/{made.other.id}/documentation", headers=caseworker).status_code
        == 404
    )
    # Appointments name households: not for fleet managers.
    assert post(made.own, "fleet_manager") == 403
    assert (
        client.get(
            f"/appointments/{made.own.id}/documentation", headers=tokens.header("fleet_manager")
        ).status_code
        == 403
    )
    assert client.post(f"/appointments/{made.own.id}/documentation", json=body).status_code == 401
    # Only a published plan's appointments exist here; unknown ids neither.
    assert post(made.draft, "caseworker") == 404
    assert post(made.draft, "coordinator") == 404
    assert (
        client.post("/appointments/999999/documentation", json=body, headers=caseworker).status_code
        == 404
    )
    # Not before the visit, not for a cancelled one.
    future = client.post(
        f"/appointments/{made.future.id}/documentation", json=body, headers=caseworker
    )
    assert future.status_code == 409
    assert "once it has started" in future.json()["detail"]
    cancelled = client.post(
        f"/appointments/{made.cancelled.id}/documentation", json=body, headers=caseworker
    )
    assert cancelled.status_code == 409 and "cancelled" in cancelled.json()["detail"]
    # At least one kind, and nothing but the two.
    for bad in ({}, {"visit_record": False, "consent": False}, {"visit_record": True, "note": "x"}):
        refused = client.post(
            f"/appointments/{made.own.id}/documentation", json=bad, headers=caseworker
        )
        assert refused.status_code == 422, bad
    assert session.scalar(select(func.count()).select_from(VisitDocumentation)) == 0
    assert session.scalar(select(func.count()).select_from(PaperlessEvent)) == 0

    # A coordinator (or an admin) may document anyone's visit; the site is the caseworker's.
    assert post(made.other, "coordinator") == 201
    assert post(made.other, "admin") == 409
    evw = session.scalars(select(Site.id).where(Site.key == "evw")).one()
    sites = session.scalars(select(PaperlessEvent.site_id)).all()
    assert sites == [evw, evw]
    recorder = client.get(
        f"/appointments/{made.other.id}/documentation", headers=tokens.header("admin")
    ).json()["notes"][0]["recorded_by"]
    assert recorder == "test-coordinator"


def test_documentation_follows_the_visit_into_a_re_plan(
    client: TestClient, tokens: Tokens, session: Session
) -> None:
    """A re-plan makes new appointment rows with the same uid: the note stays with the
    visit, and noting it again under the new plan is refused."""
    made = appointments(session)
    auth = tokens.header("caseworker")
    first = client.post(
        f"/appointments/{made.own.id}/documentation", json={"consent": True}, headers=auth
    )
    assert first.status_code == 201, first.text
    old_plan = session.get(Plan, made.own.plan_id)
    assert old_plan is not None
    old_plan.status = "superseded"
    replan = new_plan(session, "published")
    moved = new_appointment(session, replan, "cw01", "H0001/1", PAST + timedelta(minutes=30))
    moved.uid = made.own.uid
    session.flush()
    gone = client.get(f"/appointments/{made.own.id}/documentation", headers=auth)
    assert gone.status_code == 404  # a superseded plan's appointment is no longer current
    now = client.get(f"/appointments/{moved.id}/documentation", headers=auth).json()
    assert (now["visit_record"], now["consent"]) == (False, True)
    again = client.post(
        f"/appointments/{moved.id}/documentation", json={"consent": True}, headers=auth
    )
    assert again.status_code == 409
    record = client.post(
        f"/appointments/{moved.id}/documentation", json={"visit_record": True}, headers=auth
    )
    assert record.status_code == 201, record.text
    assert session.scalar(select(func.count()).select_from(PaperlessEvent)) == 2
