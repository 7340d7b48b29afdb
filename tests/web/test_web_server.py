"""The web pages through the app (TestClient): sign-in, sessions, CSRF, roles, forms.

Every test runs on SQLite and PostgreSQL; the browser tests (``test_web_browser.py``)
drive the same pages in Chromium.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_helpers import CSRF, People, csrf_of, password, sign_in

from api.auth import revoke_tokens, set_password
from api.web import geodata
from api.web.i18n import (
    APPOINTMENT_STATUS_NAMES,
    ENGLISH,
    MODE_NAMES,
    PLAN_STATUS_NAMES,
    REASONS,
    ROLE_NAMES,
)
from api.web.security import CSRF_COOKIE, SESSION_COOKIE
from core.audit import AuditEvent
from scheduler.models import Absence, Caseworker, Household, VisitRequest

WEB = Path(__file__).resolve().parents[2] / "api" / "web"


# ---------------------------------------------------------------------------- sign-in


def test_password_sign_in_sets_a_protected_session_cookie_and_goes_to_the_role_home(
    client: TestClient, people: People
) -> None:
    token = csrf_of(client, "/web/signin")
    answer = client.post(
        "/web/signin",
        data={"csrf_token": token, "name": "cw01", "password": password("cw01"), "next": "/web/"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/web/me"
    cookies = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    session_cookie = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie or "samesite=lax" in session_cookie.lower()
    assert "Secure" not in session_cookie
    # Signing in replaces the CSRF value: a token from before is worthless afterwards.
    assert any(c.startswith(CSRF_COOKIE + "=") for c in cookies)
    assert client.get("/web/me").status_code == 200


def test_wrong_password_and_unknown_user_are_refused_alike(
    client: TestClient, people: People
) -> None:
    for name, secret in (("cw01", "falsch-falsch-falsch"), ("nobody", "whatever-whatever")):
        token = csrf_of(client, "/web/signin")
        answer = client.post(
            "/web/signin",
            data={"csrf_token": token, "name": name, "password": secret, "next": "/web/"},
        )
        assert answer.status_code == 401
        assert "Name oder Passwort stimmen nicht." in answer.text
        assert SESSION_COOKIE not in answer.cookies


def test_token_sign_in_ends_when_the_token_is_revoked(
    client: TestClient, people: People, session: Session
) -> None:
    token = csrf_of(client, "/web/signin")
    answer = client.post(
        "/web/signin",
        data={"csrf_token": token, "token": people.tokens["coordinator"], "next": "/web/week"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/web/week"
    assert client.get("/web/week").status_code == 200
    revoke_tokens(session=session, user_name="coordinator", token_id=None, actor="test")
    again = client.get("/web/week")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/web/signin?next=")


def test_a_password_change_ends_the_sessions_opened_with_the_old_one(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    assert client.get("/web/households").status_code == 200
    set_password(session=session, user_name="coordinator", password="ein-neues-passwort", actor="t")
    assert client.get("/web/households").status_code == 303


def test_a_forged_or_tampered_session_cookie_is_ignored(client: TestClient, people: People) -> None:
    sign_in(client, "cw01")
    value = client.cookies[SESSION_COOKIE]
    payload, mac = value.split(".")
    client.cookies.set(
        SESSION_COOKIE, payload + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB")
    )
    assert client.get("/web/me").status_code == 303


def test_after_sign_in_only_local_paths_are_followed(client: TestClient, people: People) -> None:
    for target in (
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
    ):
        client.cookies.clear()
        token = csrf_of(client, "/web/signin")
        answer = client.post(
            "/web/signin",
            data={
                "csrf_token": token,
                "name": "cw01",
                "password": password("cw01"),
                "next": target,
            },
        )
        assert answer.headers["location"] == "/web/me"


def test_secure_cookies_when_configured(client: TestClient, people: People, app) -> None:  # type: ignore[no-untyped-def]
    app.state.web.settings.secure_cookies = True
    token = csrf_of(client, "/web/signin")
    answer = client.post(
        "/web/signin",
        data={"csrf_token": token, "name": "cw01", "password": password("cw01"), "next": "/web/"},
    )
    cookies = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    assert all("Secure" in cookie for cookie in cookies)


# ------------------------------------------------------------------------------- CSRF


def test_a_form_without_its_csrf_token_changes_nothing(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    household = session.scalars(select(Household).where(Household.pseudonym == "H0001")).one()
    before = household.lat
    form = {"lat": "51.9", "lon": "8.0", "any_time": "1"}
    for token in (None, "forged", CSRF.search(client.get("/web/signin").text)):
        data = dict(form)
        if isinstance(token, str):
            data["csrf_token"] = token
        answer = client.post(f"/web/households/{household.id}", data=data)
        assert answer.status_code == 400
        assert "Formular abgelaufen" in answer.text
    session.refresh(household)
    assert household.lat == before


def test_a_token_made_for_another_browser_is_refused(
    client: TestClient,
    app,
    people: People,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    sign_in(client, "coordinator")
    with TestClient(app, follow_redirects=False) as other:
        foreign = csrf_of(other, "/web/signin")  # valid, but for the other browser's cookie
    caseworker = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
    answer = client.post(
        f"/web/caseworkers/{caseworker.id}/absences",
        data={"csrf_token": foreign, "start": "2026-12-01T08:00", "end": "2026-12-01T12:00"},
    )
    assert answer.status_code == 400
    assert not session.scalars(
        select(Absence).where(Absence.caseworker_id == caseworker.id, Absence.reason.is_(None))
    ).all()


def test_sign_out_needs_the_csrf_token_too(client: TestClient, people: People) -> None:
    sign_in(client, "cw01")
    assert client.post("/web/signout", data={}).status_code == 400
    assert client.get("/web/me").status_code == 200
    token = csrf_of(client, "/web/me")
    assert client.post("/web/signout", data={"csrf_token": token}).status_code == 303
    client.cookies.delete(SESSION_COOKIE)
    assert client.get("/web/me").status_code == 303


# ------------------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("name", "allowed", "refused"),
    [
        (
            "coordinator",
            ["/web/week", "/web/households", "/web/caseworkers", "/web/fleet"],
            ["/web/me"],
        ),
        ("admin", ["/web/week", "/web/households", "/web/fleet"], ["/web/me"]),
        (
            "cw01",
            ["/web/me", "/web/me/households"],
            ["/web/week", "/web/households", "/web/caseworkers", "/web/fleet"],
        ),
        ("fleet", ["/web/fleet"], ["/web/week", "/web/households", "/web/me", "/web/caseworkers"]),
    ],
)
def test_pages_by_role(
    client: TestClient, people: People, name: str, allowed: list[str], refused: list[str]
) -> None:
    sign_in(client, name)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in refused:
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Kein Zugriff" in answer.text


def test_without_a_session_every_page_goes_to_the_sign_in(
    client: TestClient, people: People
) -> None:
    for path in (
        "/web/",
        "/web/week?week=2026-11-30",
        "/web/me",
        "/web/fleet",
        "/web/households/1",
    ):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/web/signin?next=%2Fweb%2F")
    # htmx requests are told where to go instead of getting the page in a fragment.
    answer = client.get("/web/week", headers={"HX-Request": "true"})
    assert answer.headers["HX-Redirect"].startswith("/web/signin")


def test_a_caseworker_reaches_only_their_own_households(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "cw01")
    cw01 = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
    own = session.scalars(
        select(Household).where(Household.primary_caseworker_id == cw01.id)
    ).first()
    other = session.scalars(
        select(Household).where(
            Household.primary_caseworker_id != cw01.id,
            ~Household.allowed_caseworkers.any(Caseworker.id == cw01.id),
        )
    ).first()
    assert own is not None and other is not None
    mine = client.get(f"/web/me/households/{own.id}")
    assert mine.status_code == 200 and own.pseudonym in mine.text
    theirs = client.get(f"/web/me/households/{other.id}")
    assert theirs.status_code == 404
    assert other.pseudonym not in theirs.text
    # exactly like a household that does not exist at all
    assert client.get("/web/me/households/999999").status_code == 404
    listing = client.get("/web/me/households").text
    assert own.pseudonym in listing and f">{other.pseudonym}<" not in listing


# ------------------------------------------------------------------------------ forms


def test_household_form_saves_availability_and_is_audited(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    household = session.scalars(select(Household).where(Household.pseudonym == "H0002")).one()
    token = csrf_of(client, f"/web/households/{household.id}")
    answer = client.post(
        f"/web/households/{household.id}",
        data={
            "csrf_token": token,
            "lat": "51,85",  # a German decimal comma
            "lon": "8.02",
            "primary_caseworker": "cw02",
            "required_skills": "tr, ar",
            "any_time": "0",
            "avail_1_0_start": "09:00",
            "avail_1_0_end": "12:00",
            "avail_3_1_start": "14:00",
            "avail_3_1_end": "16:30",
        },
    )
    assert answer.status_code == 303, answer.text
    session.refresh(household)
    assert household.lat == pytest.approx(51.85)
    assert household.primary_caseworker is not None
    assert household.primary_caseworker.key == "cw02"
    assert [s.skill for s in household.required_skills] == ["ar", "tr"]
    assert [
        (a.weekday, a.start.isoformat(), a.end.isoformat()) for a in household.availability
    ] == [
        (1, "09:00:00", "12:00:00"),
        (3, "14:00:00", "16:30:00"),
    ]
    assert session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity == "household",
            AuditEvent.entity_id == "H0002",
            AuditEvent.action == "update",
            AuditEvent.actor == "coordinator",
        )
    ).first()


def test_household_form_shows_what_is_wrong_and_saves_nothing(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    household = session.scalars(select(Household).where(Household.pseudonym == "H0003")).one()
    before = (household.lat, household.lon)
    token = csrf_of(client, f"/web/households/{household.id}")
    answer = client.post(
        f"/web/households/{household.id}",
        data={
            "csrf_token": token,
            "lat": "95",
            "lon": "8",
            "any_time": "0",
            "avail_0_0_start": "12:00",
            "avail_0_0_end": "09:00",
        },
    )
    assert answer.status_code == 422
    assert "Breite" in answer.text and "Erreichbarkeit" in answer.text
    session.refresh(household)
    assert (household.lat, household.lon) == before


def test_new_household_and_absences(client: TestClient, people: People, session: Session) -> None:
    sign_in(client, "coordinator")
    token = csrf_of(client, "/web/households/new")
    answer = client.post(
        "/web/households/new",
        data={
            "csrf_token": token,
            "pseudonym": "H0999",
            "lat": "51.84",
            "lon": "8.03",
            "primary_caseworker": "cw01",
            "any_time": "1",
        },
    )
    assert answer.status_code == 303
    created = session.scalars(select(Household).where(Household.pseudonym == "H0999")).one()
    assert created.site is not None and created.site.key == "enn"
    cw = session.scalars(select(Caseworker).where(Caseworker.key == "cw03")).one()
    token = csrf_of(client, f"/web/caseworkers/{cw.id}")
    answer = client.post(
        f"/web/caseworkers/{cw.id}/absences",
        data={
            "csrf_token": token,
            "start": "2026-12-02T00:00",
            "end": "2026-12-03T00:00",
            "reason": "Fortbildung",
        },
    )
    assert answer.status_code == 303
    absence = session.scalars(select(Absence).where(Absence.reason == "Fortbildung")).one()
    assert absence.start.isoformat() == "2026-12-01T23:00:00+00:00"  # local midnight, CET
    page = client.get(f"/web/caseworkers/{cw.id}").text
    assert "Fortbildung" in page and "02.12.2026 00:00" in page
    token = csrf_of(client, f"/web/caseworkers/{cw.id}")
    answer = client.post(
        f"/web/caseworkers/{cw.id}/absences/{absence.id}/delete", data={"csrf_token": token}
    )
    assert answer.status_code == 303
    assert session.get(Absence, absence.id) is None


def test_caseworker_form_changes_hours_and_modes(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    cw = session.scalars(select(Caseworker).where(Caseworker.key == "cw04")).one()
    token = csrf_of(client, f"/web/caseworkers/{cw.id}")
    answer = client.post(
        f"/web/caseworkers/{cw.id}",
        data={
            "csrf_token": token,
            "name": "Fachkraft Vier",
            "site": cw.site.key,
            "max_visits_per_day": "4",
            "modes": ["e_bike", "walk"],
            "skills": "tr",
            "hours_0_start": "08:00",
            "hours_0_end": "12:00",
        },
    )
    assert answer.status_code == 303, answer.text
    session.refresh(cw)
    assert cw.name == "Fachkraft Vier" and cw.max_visits_per_day == 4
    assert [m.mode for m in cw.modes] == ["e_bike", "walk"]
    assert [(h.weekday, h.start.hour, h.end.hour) for h in cw.working_hours] == [(0, 8, 12)]
    token = csrf_of(client, f"/web/caseworkers/{cw.id}")
    refused = client.post(
        f"/web/caseworkers/{cw.id}",
        data={"csrf_token": token, "site": cw.site.key, "modes": ["rocket"]},
    )
    assert refused.status_code == 422
    session.refresh(cw)
    assert [m.mode for m in cw.modes] == ["e_bike", "walk"]


def test_pin_and_unpin_a_visit(client: TestClient, people: People, session: Session) -> None:
    sign_in(client, "coordinator")
    visit = session.scalars(select(VisitRequest).where(VisitRequest.key == "H0004/1")).one()
    token = csrf_of(client, "/web/week")
    answer = client.post(
        f"/web/visits/{visit.id}/pin",
        data={
            "csrf_token": token,
            "caseworker": "cw02",
            "start": "2026-12-01T10:00",
            "back": "/web/week?week=2026-11-30",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/web/week?week=2026-11-30&msg=saved"
    session.refresh(visit)
    assert visit.pinned_caseworker is not None and visit.pinned_caseworker.key == "cw02"
    assert visit.pinned_start is not None
    assert visit.pinned_start.isoformat() == "2026-12-01T09:00:00+00:00"
    answer = client.post(
        f"/web/visits/{visit.id}/pin",
        data={"csrf_token": token, "action": "unpin", "back": "//evil.example"},
    )
    assert answer.headers["location"] == "/web/?msg=saved"
    session.refresh(visit)
    assert visit.pinned_caseworker is None and visit.pinned_start is None


# ------------------------------------------------------------------------ language


def test_english_on_request(client: TestClient, people: People) -> None:
    sign_in(client, "coordinator")
    assert "Haushalte" in client.get("/web/households").text
    switch = client.get("/web/lang/en?next=/web/households")
    assert switch.status_code == 303 and switch.headers["location"] == "/web/households"
    page = client.get("/web/households").text
    assert '<html lang="en">' in page and "Households" in page and "Haushalte" not in page


def test_every_german_text_has_an_english_entry() -> None:
    """Every ``_("...")`` of the templates and page modules is in the dictionary."""
    pattern = re.compile(r'_\(\s*"((?:[^"\\]|\\.)*)"\s*\)|_\(\s*\'((?:[^\'\\]|\\.)*)\'\s*\)')
    texts: set[str] = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        for match in pattern.finditer(path.read_text("utf-8")):
            texts.add(match.group(1) or match.group(2))
    texts |= set(MODE_NAMES.values()) | set(REASONS.values()) | set(ROLE_NAMES.values())
    texts |= set(PLAN_STATUS_NAMES.values()) | set(APPOINTMENT_STATUS_NAMES.values())
    missing = sorted(text for text in texts if text not in ENGLISH)
    assert texts and not missing, missing


def test_shipped_map_outlines_are_what_the_generator_makes() -> None:
    assert geodata.OUTLINES.read_text("utf-8") == geodata.text()
    features = json.loads(geodata.text())["features"]
    assert {f["properties"]["name"] for f in features} >= {"Ennigerloh", "Everswinkel", "Rottweil"}
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4


# ------------------------------------------------------ new records, GDPR, vehicles


def test_new_caseworker_and_a_visit_for_a_household(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    token = csrf_of(client, "/web/caseworkers/new")
    refused = client.post(
        "/web/caseworkers/new",
        data={"csrf_token": token, "key": "cw09", "site": "enn"},  # no mode
    )
    assert refused.status_code == 422 and "Verkehrsmittel (erlaubt)" in refused.text
    assert session.scalars(select(Caseworker).where(Caseworker.key == "cw09")).first() is None
    created = client.post(
        "/web/caseworkers/new",
        data={
            "csrf_token": token,
            "key": "cw09",
            "name": "Neu",
            "site": "enn",
            "modes": ["e_bike", "walk"],
            "skills": "tr",
            "hours_0_start": "08:00",
            "hours_0_end": "16:00",
        },
    )
    assert created.status_code == 303, created.text
    cw09 = session.scalars(select(Caseworker).where(Caseworker.key == "cw09")).one()
    assert [m.mode for m in cw09.modes] == ["e_bike", "walk"]
    household = session.scalars(select(Household).where(Household.pseudonym == "H0005")).one()
    token = csrf_of(client, f"/web/households/{household.id}")
    answer = client.post(
        f"/web/households/{household.id}/visits",
        data={
            "csrf_token": token,
            "week": "2026-11-30",
            "key": "H0005/9",
            "duration_minutes": "50",
            "priority": "2",
        },
    )
    assert answer.status_code == 303, answer.text
    visit = session.scalars(select(VisitRequest).where(VisitRequest.key == "H0005/9")).one()
    assert (visit.duration_minutes, visit.priority) == (50, 2)
    duplicate = client.post(
        f"/web/households/{household.id}/visits",
        data={
            "csrf_token": token,
            "week": "2026-11-30",
            "key": "H0005/9",
            "duration_minutes": "50",
        },
    )
    assert duplicate.status_code == 422


def test_gdpr_export_and_erasure_from_the_household_page(
    client: TestClient, people: People, session: Session
) -> None:
    sign_in(client, "coordinator")
    household = session.scalars(select(Household).where(Household.pseudonym == "H0006")).one()
    exported = client.get(f"/web/households/{household.id}/export")
    assert exported.status_code == 200
    assert exported.json()["household"]["pseudonym"] == "H0006"
    token = csrf_of(client, f"/web/households/{household.id}")
    unconfirmed = client.post(f"/web/households/{household.id}/erase", data={"csrf_token": token})
    assert unconfirmed.status_code == 422
    session.refresh(household)
    assert household.erased_at is None
    erased = client.post(
        f"/web/households/{household.id}/erase", data={"csrf_token": token, "confirm": "yes"}
    )
    assert erased.status_code == 303
    session.refresh(household)
    assert household.erased_at is not None and household.lat is None
    assert session.scalars(
        select(AuditEvent).where(AuditEvent.action == "erase", AuditEvent.entity_id == "H0006")
    ).first()


def test_fleet_manager_adds_and_retires_a_vehicle(
    client: TestClient, people: People, session: Session
) -> None:
    from fleet.models import Vehicle

    sign_in(client, "fleet")
    token = csrf_of(client, "/web/fleet")
    bad = client.post(
        "/web/fleet/vehicles",
        data={
            "csrf_token": token,
            "key": "ebike-enn-9",
            "site": "enn",
            "kind": "e_bike",
            "range_km": "-3",
        },
    )
    assert bad.status_code == 422 and "Reichweite" in bad.text
    made = client.post(
        "/web/fleet/vehicles",
        data={
            "csrf_token": token,
            "key": "ebike-enn-9",
            "site": "enn",
            "kind": "e_bike",
            "name": "E-Bike 9",
            "range_km": "40",
            "consumption": "0,8",
        },
    )
    assert made.status_code == 303
    vehicle = session.scalars(select(Vehicle).where(Vehicle.key == "ebike-enn-9")).one()
    assert vehicle.consumption_kwh_per_100km == pytest.approx(0.8)
    assert "ebike-enn-9" in client.get("/web/fleet").text
    retired = client.post(f"/web/fleet/vehicles/{vehicle.id}/retire", data={"csrf_token": token})
    assert retired.status_code == 200 and "außer Dienst" in retired.text
    session.refresh(vehicle)
    assert vehicle.retired_at is not None
    client.cookies.clear()
    sign_in(client, "cw01")
    own_token = csrf_of(client, "/web/me")
    refused = client.post(
        f"/web/fleet/vehicles/{vehicle.id}/retire", data={"csrf_token": own_token}
    )
    assert refused.status_code == 403


def test_run_progress_fragment_and_its_end(
    client: TestClient, people: People, session: Session
) -> None:
    from datetime import date

    from scheduler.runs import queue_run

    sign_in(client, "coordinator")
    plan = queue_run(
        session=session,
        week_start=date(2026, 11, 30),
        sites=None,
        time_limit_s=5,
        seed=0,
        replan=False,
        actor="test",
    )
    week = client.get(f"/web/week?week=2026-11-30&run={plan.id}").text
    assert f'hx-get="/web/runs/{plan.id}/progress"' in week and 'hx-trigger="every 1s"' in week
    fragment = client.get(f"/web/runs/{plan.id}/progress", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "Planungslauf #" in fragment.text
    assert f"#{plan.id}" in fragment.text and "0 / 35" in fragment.text
    plain = client.get(f"/web/runs/{plan.id}/progress")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/web/week?week=2026-11-30&run={plan.id}"
    plan.status = "failed"
    plan.error = "test"
    session.flush()
    over = client.get(f"/web/runs/{plan.id}/progress", headers={"HX-Request": "true"})
    assert over.headers["HX-Redirect"] == f"/web/week?week=2026-11-30&plan={plan.id}"
