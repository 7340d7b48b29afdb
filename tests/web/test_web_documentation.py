"""The caseworker's week page notes THAT a visit's record or a consent was kept digitally:
a form per past appointment, CSRF-checked, own appointments only, once per kind; on
SQLite and PostgreSQL through the app (TestClient)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from documentation_helpers import PAST, new_appointment, new_plan
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web_helpers import CSRF, People, sign_in

from api.web.caseworker import DOCUMENTATION_LABELS
from api.web.i18n import ENGLISH
from core.paperless import PaperlessEvent
from scheduler.models import (
    Appointment,
    VisitDocumentation,
)

#: Monday of a week long past; its Tuesday 09:00 (CET) is the visit (PAST).
WEEK = date(2026, 11, 16)


def _published(session: Session) -> dict[str, Appointment]:
    plan = new_plan(session, "published")
    return {
        "own": new_appointment(session, plan, "cw01", "H0001/1", PAST),
        "cancelled": new_appointment(
            session, plan, "cw01", "H0003/1", PAST + timedelta(hours=3), "cancelled"
        ),
        "later": new_appointment(
            session, plan, "cw01", "H0004/1", datetime.now(UTC) + timedelta(days=30)
        ),
        "other": new_appointment(session, plan, "cw02", "H0002/1", PAST),
    }


def _forms(page: str) -> list[str]:
    return re.findall(r'action="/web/me/appointments/(\d+)/documentation"', page)


def test_a_caseworker_notes_digital_records_of_a_past_visit(
    client: TestClient, people: People, session: Session
) -> None:
    made = _published(session)
    own = made["own"]
    sign_in(client, "cw01")
    page = client.get(f"/web/me?week={WEEK}").text
    # One form: the past, confirmed appointment (not the cancelled one), both boxes.
    assert _forms(page) == [str(own.id)]
    assert page.count('name="kind"') == 2
    assert "Besuchsdokumentation digital abgelegt" in page
    assert "Einwilligung digital erfasst" in page
    action = f"/web/me/appointments/{own.id}/documentation"

    # Without the page's CSRF token nothing is noted.
    forged = client.post(action, data={"kind": "visit_record"})
    assert forged.status_code == 400
    assert session.scalar(select(func.count()).select_from(VisitDocumentation)) == 0

    match = CSRF.search(page)
    assert match is not None
    token = match.group(1)
    nothing = client.post(action, data={"csrf_token": token})
    assert nothing.status_code == 422
    assert "mindestens ein Kästchen" in nothing.text

    saved = client.post(action, data={"csrf_token": token, "kind": "visit_record"})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == (f"/web/me?week={WEEK}&msg=documented#appointment-{own.id}")
    after = client.get(saved.headers["location"].split("#")[0]).text
    assert "Digitale Ablage vermerkt." in after
    assert "✓ Besuchsdokumentation digital abgelegt" in after
    # The form now offers only what is not noted yet.
    assert _forms(after) == [str(own.id)] and after.count('name="kind"') == 1
    assert 'value="consent"' in after and 'value="visit_record"' not in after

    again = client.post(action, data={"csrf_token": token, "kind": "visit_record"})
    assert again.status_code == 409
    assert "Bereits vermerkt: Besuchsdokumentation." in again.text

    consent = client.post(action, data={"csrf_token": token, "kind": "consent"})
    assert consent.status_code == 303, consent.text
    done = client.get(f"/web/me?week={WEEK}").text
    assert _forms(done) == []
    assert "✓ Einwilligung digital erfasst" in done
    steps = session.execute(
        select(PaperlessEvent.kind, PaperlessEvent.reference).order_by(PaperlessEvent.id)
    ).all()
    assert steps == [
        ("visit_record", f"appointment:{own.uid}"),
        ("consent", f"appointment:{own.uid}"),
    ]


def test_only_own_started_confirmed_appointments(
    client: TestClient, people: People, session: Session
) -> None:
    made = _published(session)
    sign_in(client, "cw01")
    match = CSRF.search(client.get(f"/web/me?week={WEEK}").text)
    assert match is not None
    token = match.group(1)

    def post(appointment: Appointment) -> int:
        return client.post(
            f"/web/me/appointments/{appointment.id}/documentation",
            data={"csrf_token": token, "kind": ["visit_record", "consent"]},
        ).status_code

    assert post(made["other"]) == 404  # cw02's: not there for cw01
    assert post(made["later"]) == 409  # not before the visit
    assert post(made["cancelled"]) == 409
    assert (
        client.post(
            "/web/me/appointments/999999/documentation",
            data={"csrf_token": token, "kind": "consent"},
        ).status_code
        == 404
    )
    assert session.scalar(select(func.count()).select_from(VisitDocumentation)) == 0
    # The page is a caseworker's: a coordinator documents through the API.
    client.cookies.clear()
    sign_in(client, "coordinator")
    match = CSRF.search(client.get("/web/week").text)
    assert match is not None
    token = match.group(1)
    assert post(made["own"]) == 403


def test_the_page_in_english() -> None:
    for label in DOCUMENTATION_LABELS.values():
        assert label in ENGLISH
