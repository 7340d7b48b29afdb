"""``fieldwork plans publish ID`` as a process mails same-day changes, as
``POST /plans/{id}/publish`` does: to a real SMTP server (aiosmtpd) on this machine,
on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar
from scenarios import build, caseworker, household, visit
from sqlalchemy import Engine, select
from test_replan_and_notify import Mailbox, itip_of, smtp  # noqa: F401 (fixture)

import migrations
from calendars.models import CaseworkerCalendar
from core.db import create_session_factory
from scheduler.models import Appointment, Caseworker, Plan
from scheduler.runs import execute_run, queue_run
from scheduler.service import import_scenario

FIELDWORK = Path(sys.executable).parent / "fieldwork"
ZONE = ZoneInfo("Europe/Berlin")
EVERY_DAY = {day: ["08:00", "16:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def fieldwork(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(FIELDWORK), *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def test_cli_publish_mails_same_day_changes(
    tmp_path: Path,
    new_database: Callable[[str], Engine],
    smtp: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp
    engine = new_database("publish_cli")
    migrations.upgrade(engine)
    # A one-day week tomorrow: its appointment is a change on short notice.
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    scenario = build(
        caseworkers=[caseworker("cw-a", hours=EVERY_DAY)],
        households=[household("H1")],
        visits=[visit("H1/1", "H1", duration=60)],
        horizon={"start": tomorrow.isoformat(), "end": tomorrow.isoformat()},
    )
    factory = create_session_factory(engine)
    with factory() as session:
        import_scenario(session=session, scenario=scenario, actor="test")
        cw = session.scalars(select(Caseworker.id).where(Caseworker.key == "cw-a")).one()
        session.add(CaseworkerCalendar(caseworker_id=cw, email="anna@team.example"))
        session.commit()
        queued = queue_run(
            session=session,
            week_start=tomorrow,
            sites=None,
            time_limit_s=1.0,
            seed=0,
            replan=None,
            actor="test",
        )
        assert execute_run(session=session, plan_id=queued.id) == "done"
        plan_id = queued.id

    env = {
        "FIELDWORK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FIELDWORK_SMTP_HOST": "127.0.0.1",
        "FIELDWORK_SMTP_PORT": str(port),
        "FIELDWORK_SMTP_STARTTLS": "false",
    }
    missing = fieldwork("plans", "publish", "9999", env=env, cwd=tmp_path)
    assert missing.returncode == 2 and "no plan 9999" in missing.stderr
    assert mailbox.messages == []

    published = fieldwork("plans", "publish", str(plan_id), env=env, cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    assert f"Published plan {plan_id}: 1 new" in published.stdout
    assert "Same-day changes: 1 e-mail(s) sent" in published.stdout
    assert mailbox.recipients == [["anna@team.example"]]
    method, payload = itip_of(mailbox.messages[0])
    assert method == "REQUEST"
    with factory() as session:
        row = session.get(Plan, plan_id)
        assert row is not None and row.status == "published"
        appointment = session.scalars(
            select(Appointment).where(Appointment.plan_id == plan_id)
        ).one()
    (event,) = Calendar.from_ical(payload).walk("VEVENT")
    assert str(event["UID"]) == appointment.uid
    assert event.decoded("DTSTART") == appointment.start

    # Publishing again changes nothing and sends nothing.
    again = fieldwork("plans", "publish", str(plan_id), env=env, cwd=tmp_path)
    assert again.returncode == 2 and "only a done plan" in again.stderr
    assert len(mailbox.messages) == 1
