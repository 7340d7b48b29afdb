"""Publishing from the week page mails same-day changes, as ``POST /plans/{id}/publish``
and ``fieldwork plans publish`` do: to a real SMTP server (aiosmtpd) on this machine, on
SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from scenarios import build, caseworker, household, visit
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_helpers import csrf_of, password, sign_in

from api.auth import add_user, set_password
from calendars.models import CaseworkerCalendar
from scheduler.models import Caseworker, Plan
from scheduler.runs import execute_run, queue_run
from scheduler.service import import_scenario

ZONE = ZoneInfo("Europe/Berlin")
EVERY_DAY = {day: ["08:00", "16:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    found = Inbox()
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield found, port
    finally:
        controller.stop()


def test_publishing_on_the_week_page_mails_tomorrows_appointment(
    app: FastAPI, client: TestClient, session: Session, inbox: tuple[Inbox, int]
) -> None:
    found, port = inbox
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False}
    )
    # A one-day week tomorrow: its appointment is a change on short notice.
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    scenario = build(
        caseworkers=[caseworker("cw-a", hours=EVERY_DAY)],
        households=[household("H1")],
        visits=[visit("H1/1", "H1", duration=60)],
        horizon={"start": tomorrow.isoformat(), "end": tomorrow.isoformat()},
    )
    import_scenario(session=session, scenario=scenario, actor="test")
    worker = session.scalars(select(Caseworker.id).where(Caseworker.key == "cw-a")).one()
    session.add(CaseworkerCalendar(caseworker_id=worker, email="anna@team.example"))
    add_user(
        session=session, name="coordinator", role="coordinator", caseworker_key=None, actor="t"
    )
    set_password(
        session=session, user_name="coordinator", password=password("coordinator"), actor="t"
    )
    plan = queue_run(
        session=session,
        week_start=tomorrow,
        sites=None,
        time_limit_s=1.0,
        seed=0,
        replan=None,
        actor="test",
    )
    assert execute_run(session=session, plan_id=plan.id) == "done"

    sign_in(client, "coordinator")
    token = csrf_of(client, f"/web/week?week={tomorrow}&plan={plan.id}")
    answer = client.post(f"/web/plans/{plan.id}/publish", data={"csrf_token": token})
    assert answer.status_code == 303, answer.text
    assert "new=1" in answer.headers["location"]
    row = session.get(Plan, plan.id)
    assert row is not None and row.status == "published"
    (message,) = found.messages
    assert message["To"] == "anna@team.example"
    methods = [
        part.get_param("method")
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]
    assert methods[:1] == ["REQUEST"]
