"""Planning runs carried by real workers: on PostgreSQL ``fieldwork worker`` processes
taking procrastinate jobs, on SQLite the API's own worker process. A run is observed
through the HTTP API from queued to done to published, including a run that was queued
before any worker or API was up (runs survive a restart); and runs whose worker died
are queued again, then given up."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import pytest
from cli_process import FIELDWORK
from cli_process import run_fieldwork as run_cli
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from api.auth import add_user, create_token
from api.main import create_app
from api.worker import (
    RUN_TASK,
    apply_queue_schema,
    close_stalled_jobs,
    queue_app,
    recover,
    run_supervised,
)
from core.db import create_session_factory, utc_now
from core.settings import Settings
from scheduler.format import Scenario
from scheduler.models import Plan
from scheduler.runs import MAX_ATTEMPTS, cancel_run, execute_run, queue_run, recover_runs
from scheduler.service import import_scenario
from scheduler.validation import load_scenario
from scheduler.weeks import moved_to_week, parse_week

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
#: The demo week moved to next week: a run plans what has not happened yet.
WEEK_START = parse_week("next")
WEEK = WEEK_START.isoformat()
TIME_LIMIT_S = 2.0
#: Generous: a spawned worker imports OR-Tools first, and the CPU is shared.
DEADLINE_S = 120.0


#: A Monday with no planning week in the database.
LATER = (WEEK_START + timedelta(weeks=5)).isoformat()


def demo_week() -> Scenario:
    return moved_to_week(load_scenario(EXAMPLE.read_bytes()), WEEK_START)


def fieldwork(*args: str | Path, url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A command that must succeed."""
    result = run_cli(*args, url=url, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def database(new_database: Callable[[str], Engine], tmp_path: Path) -> tuple[Engine, str]:
    """A new database, set up by the CLI as a deployment would: migrated (with the
    queue's tables on PostgreSQL) and the demo week imported."""
    engine = new_database("worker")
    url = engine.url.render_as_string(hide_password=False)
    upgraded = fieldwork("db", "upgrade", url=url, cwd=tmp_path)
    if engine.dialect.name == "postgresql":
        assert "queue of planning runs created" in upgraded.stdout
        again = fieldwork("db", "upgrade", url=url, cwd=tmp_path)
        assert "queue" not in again.stdout  # idempotent
    # As make run does it: the demo week moved to next week (WEEK is that Monday).
    fieldwork("import", EXAMPLE, "--week", "next", url=url, cwd=tmp_path)
    return engine, url


@pytest.fixture
def worker(database: tuple[Engine, str], tmp_path: Path) -> Iterator[Callable[[], None]]:
    """Starts ``fieldwork worker`` on PostgreSQL when called (SQLite: the API's own)."""
    engine, url = database
    processes: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "worker.log"

    def start() -> None:
        if engine.dialect.name != "postgresql":
            return
        with log.open("wb") as output:
            processes.append(
                subprocess.Popen(
                    [str(FIELDWORK), "worker", "--name", "test-worker"],
                    cwd=tmp_path,
                    env={**os.environ, "FIELDWORK_DATABASE_URL": url},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text()


def watch(
    client: TestClient, header: dict[str, str], plan_id: int
) -> tuple[dict[str, Any], list[str]]:
    """Poll the plan until it is done or failed; the plan and the states seen."""
    seen: list[str] = []
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        plan = client.get(f"/plans/{plan_id}", headers=header)
        assert plan.status_code == 200, plan.text
        body: dict[str, Any] = plan.json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        if body["status"] in ("done", "failed"):
            return body, seen
        time.sleep(0.2)
    pytest.fail(f"plan {plan_id} did not finish within {DEADLINE_S} s (states: {seen})")


def test_runs_from_queued_to_published_with_real_workers(
    database: tuple[Engine, str], worker: Callable[[], None]
) -> None:
    engine, url = database
    factory = create_session_factory(engine)
    with factory() as session:
        add_user(session=session, name="coord", role="coordinator", caseworker_key=None, actor="t")
        token = create_token(session=session, user_name="coord", actor="t")[1]
        # Queued while neither an API nor a worker runs (say, the API stopped right
        # after queueing it): whoever starts next must pick it up.
        early = queue_run(
            session=session,
            week_start=WEEK_START,
            sites=None,
            time_limit_s=TIME_LIMIT_S,
            seed=0,
            replan=None,
            actor="t",
        ).id
    header = {"Authorization": f"Bearer {token}"}
    worker()
    with TestClient(create_app(Settings(database_url=url))) as client:
        done, seen = watch(client, header, early)
        assert done["status"] == "done", done["error"]
        assert done["attempts"] == 1 and done["kpis"]["scheduled"] > 25
        published = client.post(f"/plans/{early}/publish", headers=header)
        assert published.status_code == 200, published.text

        # A re-plan through the API, observed from queued to published.
        queued = client.post(
            "/plans", json={"week": WEEK, "time_limit_s": TIME_LIMIT_S}, headers=header
        )
        assert queued.status_code == 202, queued.text
        plan_id = queued.json()["id"]
        assert queued.json()["status"] == "queued"
        assert queued.json()["previous_plan_id"] == early
        done, seen = watch(client, header, plan_id)
        assert done["status"] == "done", done["error"]
        assert seen[0] in ("queued", "running") and seen[-1] == "done"
        assert done["progress"]["placed"] == done["kpis"]["scheduled"]
        assert done["replanning"]["previous_appointments"] == done["kpis"]["scheduled"]
        published = client.post(f"/plans/{plan_id}/publish", headers=header)
        assert published.status_code == 200, published.text
        assert published.json()["superseded"] == [early]
        assert published.json()["counts"]["unchanged"] == done["replanning"]["kept"]
        assert client.get(f"/plans/{plan_id}", headers=header).json()["status"] == "published"
        appointments = client.get("/appointments", params={"limit": 500}, headers=header)
        assert {item["plan_id"] for item in appointments.json()["items"]} == {plan_id}


def test_a_run_whose_worker_died_is_queued_again_then_given_up(session: Session) -> None:
    import_scenario(session=session, scenario=demo_week(), actor="test")
    plan = queue_run(
        session=session,
        week_start=WEEK_START,
        sites=["enn"],
        time_limit_s=TIME_LIMIT_S,
        seed=0,
        replan=None,
        actor="test",
    )

    def die(attempts: int) -> None:
        # What a worker leaves behind when it is killed: running, a stale heartbeat.
        session.execute(
            update(Plan)
            .where(Plan.id == plan.id)
            .values(
                status="running", attempts=attempts, heartbeat_at=utc_now() - timedelta(minutes=5)
            )
        )
        session.commit()

    die(1)
    alive = recover_runs(session=session, stale_after_s=600)
    assert alive.requeued == []
    assert session.scalar(select(Plan.status).where(Plan.id == plan.id)) == "running"
    found = recover_runs(session=session, stale_after_s=60)
    assert found.requeued == [plan.id] and found.queued == [plan.id]
    assert session.scalar(select(Plan.status).where(Plan.id == plan.id)) == "queued"

    die(MAX_ATTEMPTS)
    found = recover_runs(session=session, stale_after_s=60)
    assert found.failed == [plan.id] and found.queued == []
    failed = session.scalars(select(Plan).where(Plan.id == plan.id)).one()
    session.refresh(failed)
    assert failed.status == "failed" and "stopped 2 times" in (failed.error or "")
    # A failed run is not taken again.
    assert execute_run(session=session, plan_id=plan.id) is None


def test_a_killed_planning_process_is_planned_again(database: tuple[Engine, str]) -> None:
    engine, url = database
    with create_session_factory(engine)() as session:
        plan_id = queue_run(
            session=session,
            week_start=WEEK_START,
            sites=["evw"],
            time_limit_s=TIME_LIMIT_S,
            seed=0,
            replan=None,
            actor="test",
        ).id

    # The process planning the run is killed (out of memory, say) while it works.
    assert run_supervised(url, plan_id, started=lambda child: child.kill()) == "abandoned"
    with create_session_factory(engine)() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None and plan.status == "running" and plan.attempts == 1
    # Recovery takes it back at once (no waiting for the heartbeat to go stale) ...
    assert recover(url) == [plan_id]
    # ... and the next worker plans it.
    assert run_supervised(url, plan_id) == "done"
    assert run_supervised(url, plan_id) is None  # done: nothing to take
    with create_session_factory(engine)() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None and plan.attempts == 2 and plan.result is not None


def test_plans_run_and_publish_on_the_command_line(
    database: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = database
    first = run_cli(
        "plans", "run", "--week", "next", "--time-limit", "2", "--publish", url=url, cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert f"Plan 1: week of {WEEK}, sites enn, evw" in first.stdout
    assert "Published plan 1: " in first.stdout and " new, 0 moved, 0 cancelled" in first.stdout

    again = run_cli("plans", "run", "--week", WEEK, "--time-limit", "2", url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "re-planning plan 1" in again.stdout and "Re-planned:" in again.stdout
    published = run_cli("plans", "publish", "2", url=url, cwd=tmp_path)
    assert published.returncode == 0, published.stderr
    assert "Published plan 2: 0 new, 0 moved, 0 cancelled" in published.stdout

    for args, message in (
        (("plans", "run", "--week", LATER), f"no planning week starts on {LATER}"),
        (("plans", "run", "--week", "someday"), "--week: expected this, next or a date"),
        (("plans", "run", "--week", WEEK, "--site", "nowhere"), "unknown site(s): nowhere"),
        (("plans", "publish", "2"), "plan 2 is published; only a done plan can be published"),
        (("plans", "publish", "99"), "no plan 99"),
    ):
        refused = run_cli(*args, url=url, cwd=tmp_path)
        assert refused.returncode == 2, (args, refused.stdout)
        assert message in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    if engine.dialect.name == "sqlite":
        worker = run_cli("worker", url=url, cwd=tmp_path)
        assert worker.returncode == 2
        assert "with SQLite the API runs them" in worker.stderr


def test_a_cancelled_run_stops_its_planning_process(database: tuple[Engine, str]) -> None:
    engine, url = database
    factory = create_session_factory(engine)
    with factory() as session:
        plan_id = queue_run(
            session=session,
            week_start=WEEK_START,
            sites=None,
            time_limit_s=600,
            seed=0,
            replan=None,
            actor="test",
        ).id

    def cancel_once_started(child: BaseProcess) -> None:
        with factory() as session:
            assert cancel_run(session=session, plan_id=plan_id, actor="test").status == "cancelled"

    # The supervisor notices at its next heartbeat, stops the child, and nothing the
    # child might still write gets through the fence.
    assert run_supervised(url, plan_id, started=cancel_once_started) == "cancelled"
    with factory() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        assert plan.status == "cancelled" and plan.result is None and plan.attempts == 1


def test_the_job_of_a_dead_worker_is_closed(new_database: Callable[[str], Engine]) -> None:
    """procrastinate keeps the job of a killed worker ``doing`` for ever; the periodic
    recovery marks it failed (the plan itself is queued again by ``recover``)."""
    engine = new_database("stalled")
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no job queue: the API's own worker process runs the plans")
    url = engine.url.render_as_string(hide_password=False)
    assert apply_queue_schema(url)
    app = queue_app(url)

    async def scenario() -> tuple[list[int], list[int], str]:
        async with app.open_async():
            task = app.tasks[RUN_TASK]
            dead = await task.configure(queueing_lock="plan-98").defer_async(plan_id=98)
            waiting = await task.configure(queueing_lock="plan-99").defer_async(plan_id=99)
            # A worker took the first job and died; its row in procrastinate_workers is
            # gone (pruned), so the job has no worker any more.
            await app.connector.execute_query_async(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL "
                "WHERE id = %(id)s",
                id=dead,
            )
            closed = await close_stalled_jobs(app)
            statuses = {
                job.id: job.status for job in await app.job_manager.list_jobs_async(task=RUN_TASK)
            }
            return closed, [dead], f"{statuses[dead]}/{statuses[waiting]}"

    closed, dead, statuses = asyncio.run(scenario())
    assert closed == dead
    assert statuses == "failed/todo"  # the waiting job is left alone
