"""Where planning runs are carried out: a local worker, or procrastinate's workers.

Every run is planned in a process of its own (``multiprocessing`` spawn: a fresh,
single-threaded interpreter, so OR-Tools' memory goes when it ends and the planner may
fork its own helpers safely), supervised by a thread that claims the run, beats its
heartbeat while the child works and notices when the child dies.

- SQLite (the embedded default): ``LocalRunQueue`` supervises runs one at a time from
  a thread of the API, so the API stays responsive while OR-Tools works. It forgets
  nothing that matters when the API stops: at start-up, and every ``RECOVER_EVERY_S``
  after, it puts runs whose worker died back on the queue
  (``scheduler.runs.recover_runs``) and submits every queued plan again.
- PostgreSQL (a deployment): ``ProcrastinateRunQueue`` defers a procrastinate job per
  run on the same database; ``fieldwork worker`` processes (as many as wanted, on any
  machine) take them. procrastinate's tables are created by ``fieldwork db upgrade``
  (``apply_queue_schema``). A periodic job in the workers recovers runs whose worker
  died, as the local queue does.

Either way the plan row is the truth; a queue only carries plan ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from sqlalchemy import inspect, select
from sqlalchemy.engine import URL

from core.db import create_engine_for, create_session_factory, database_url

logger = logging.getLogger(__name__)

#: How often the local queue looks for runs whose worker died.
RECOVER_EVERY_S = 15.0
#: procrastinate's queue and task names.
QUEUE = "planning"
RUN_TASK = "fieldwork.plan_run"
RECOVER_TASK = "fieldwork.recover_runs"


class RunQueue(Protocol):
    """Carries plan ids to whatever runs them."""

    def submit(self, plan_id: int) -> None: ...

    def start(self) -> None: ...

    def close(self) -> None: ...


def run_queue_for(url: str | URL) -> RunQueue:
    """The queue of a database: procrastinate on PostgreSQL, a local process on SQLite."""
    if database_url(url).get_backend_name() == "postgresql":
        return ProcrastinateRunQueue(url)
    return LocalRunQueue(url)


# ------------------------------------------------------------------------ one run


def run_supervised(
    url: str | URL,
    plan_id: int,
    *,
    started: Callable[[BaseProcess], None] | None = None,
) -> str | None:
    """Claim a queued plan, plan it in a child process and beat while it works.

    Returns the status the run ended in, ``None`` if it was not queued (taken by
    another worker, or finished), or ``"abandoned"`` if the child died: the run is then
    left for ``recover_runs`` at once (queued again, or failed after too many tries).
    ``started`` is told the child process (the local queue stops it on shutdown).
    """
    from scheduler.models import Plan
    from scheduler.runs import abandon, claim, heartbeat

    shown = database_url(url).render_as_string(hide_password=False)
    engine = create_engine_for(shown)
    try:
        factory = create_session_factory(engine)
        with factory() as session:
            attempt = claim(session=session, plan_id=plan_id)
        if attempt is None:
            return None
        child = get_context("spawn").Process(
            target=_plan_in_child, args=(shown, plan_id, attempt), name=f"fieldwork-plan-{plan_id}"
        )
        # Cancelled (or given to another worker) meanwhile: stop planning at once.
        with heartbeat(factory, plan_id, attempt, on_lost=child.terminate):
            child.start()
            if started is not None:
                started(child)
            child.join()
        with factory() as session:
            row = session.execute(
                select(Plan.status, Plan.attempts).where(Plan.id == plan_id)
            ).one_or_none()
            if row is None:
                return None
            unfinished = row.status == "running" and row.attempts == attempt
            # A child stopped after it wrote the outcome (at shutdown) is no loss.
            if child.exitcode != 0 and unfinished:
                logger.error(
                    "plan %s: the planning process died (exit %s)", plan_id, child.exitcode
                )
                abandon(session=session, plan_id=plan_id, attempt=attempt)
                return "abandoned"
            return str(row.status)
    finally:
        engine.dispose()


def _plan_in_child(url: str, plan_id: int, attempt: int) -> None:
    """The child process: plan the claimed run, write the outcome into its row."""
    from scheduler.runs import run_claimed

    engine = create_engine_for(url)
    try:
        with create_session_factory(engine)() as session:
            run_claimed(session=session, plan_id=plan_id, attempt=attempt)
    finally:
        engine.dispose()


def recover(url: str | URL, stale_after_s: float | None = None) -> list[int]:
    """Recover runs whose worker died; the ids of the plans now queued."""
    from scheduler.runs import STALE_AFTER_S, recover_runs

    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            if "plan" not in inspect(connection).get_table_names():
                return []  # not migrated yet: nothing to recover
        with create_session_factory(engine)() as session:
            found = recover_runs(
                session=session,
                stale_after_s=STALE_AFTER_S if stale_after_s is None else stale_after_s,
            )
    finally:
        engine.dispose()
    for plan_id in found.requeued:
        logger.warning("plan %s: its worker stopped; queued again", plan_id)
    for plan_id in found.failed:
        logger.warning("plan %s: its worker stopped too often; failed", plan_id)
    return found.queued


# ------------------------------------------------------------------ SQLite: local


class LocalRunQueue:
    """Runs plans one after the other, each in a child process, supervised from a
    thread of the API process."""

    def __init__(self, url: str | URL) -> None:
        self.url = database_url(url).render_as_string(hide_password=False)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._supervisor: ThreadPoolExecutor | None = None
        self._recovery: threading.Thread | None = None
        #: Plan ids submitted and not finished: recovery does not submit them twice.
        self._pending: set[int] = set()
        self._children: set[BaseProcess] = set()

    def submit(self, plan_id: int) -> None:
        with self._lock:
            if plan_id in self._pending or self._stop.is_set():
                return
            if self._supervisor is None:
                self._supervisor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plans")
            self._pending.add(plan_id)
            future = self._supervisor.submit(self._supervise, plan_id)
        future.add_done_callback(self._done(plan_id))

    def _supervise(self, plan_id: int) -> str | None:
        def started(child: BaseProcess) -> None:
            with self._lock:
                self._children.add(child)

        try:
            return run_supervised(self.url, plan_id, started=started)
        finally:
            with self._lock:
                self._children = {child for child in self._children if child.is_alive()}

    def _done(self, plan_id: int) -> Callable[[Future[str | None]], None]:
        def finished(future: Future[str | None]) -> None:
            with self._lock:
                self._pending.discard(plan_id)
            if future.cancelled():
                return  # shut down before it started: the plan is still queued
            error = future.exception()
            if error is not None:
                logger.error("plan %s: supervising the run failed: %s", plan_id, error)
            elif future.result() == "abandoned":
                self._resubmit()

        return finished

    def start(self) -> None:
        """Submit what is queued (runs survive an API restart) and watch for dead runs."""
        self._resubmit()
        self._recovery = threading.Thread(target=self._watch, name="plan-recovery", daemon=True)
        self._recovery.start()

    def _resubmit(self) -> None:
        try:
            queued = recover(self.url)
        except Exception as error:  # the API must start even if the database is down
            logger.error("recovering planning runs failed: %s", error)
            return
        for plan_id in queued:
            self.submit(plan_id)

    def _watch(self) -> None:
        while not self._stop.wait(RECOVER_EVERY_S):
            self._resubmit()

    def close(self) -> None:
        """Stop: runs not started stay queued; a running one is stopped and planned
        again after the next start (its heartbeat stops)."""
        self._stop.set()
        with self._lock:
            supervisor, self._supervisor = self._supervisor, None
            children = list(self._children)
        for child in children:
            child.terminate()
        if supervisor is not None:
            supervisor.shutdown(wait=True, cancel_futures=True)


# ------------------------------------------------------------- PostgreSQL: procrastinate


def _conninfo(url: str | URL) -> str:
    """libpq's form of the SQLAlchemy URL (procrastinate talks to psycopg directly)."""
    parsed = database_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(url: str | URL) -> Any:
    """The procrastinate app on the database at ``url``, with fieldwork's tasks."""
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=_conninfo(url)),
        worker_defaults={"queues": [QUEUE], "concurrency": 1, "install_signal_handlers": True},
    )

    @app.task(name=RUN_TASK, queue=QUEUE)
    def plan_run(plan_id: int) -> None:
        status = run_supervised(url, plan_id)
        logger.info("plan %s: %s", plan_id, status or "not queued (taken or finished)")
        if status == "abandoned":
            for queued in recover(url):
                _defer(plan_run, queued)

    @app.periodic(cron="* * * * *", periodic_id="recover")
    @app.task(name=RECOVER_TASK, queue=QUEUE, queueing_lock=RECOVER_TASK)
    async def recover_runs(timestamp: int) -> None:
        await close_stalled_jobs(app)
        for plan_id in await asyncio.to_thread(recover, url):
            # AlreadyEnqueued: a job for this plan is waiting already.
            with contextlib.suppress(AlreadyEnqueued):
                await plan_run.configure(queueing_lock=_lock(plan_id)).defer_async(plan_id=plan_id)

    return app


async def close_stalled_jobs(app: Any) -> list[int]:
    """Mark the planning jobs of workers that stopped beating (killed, machine gone) as
    failed in procrastinate's table, where they would stay ``doing`` for ever; the ids.

    Their plans are ``recover``'s business: it queues them again (a new job) or gives
    them up, by the plan's own heartbeat.
    """
    closed = []
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, task_name=RUN_TASK):
        await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        logger.warning("job %s (%s): its worker stopped; marked failed", job.id, job.task_kwargs)
        closed.append(job.id)
    return closed


def _lock(plan_id: int) -> str:
    return f"plan-{plan_id}"


def _defer(task: Any, plan_id: int) -> None:
    # AlreadyEnqueued: a job for this plan is waiting already.
    with contextlib.suppress(AlreadyEnqueued):
        task.configure(queueing_lock=_lock(plan_id)).defer(plan_id=plan_id)


class ProcrastinateRunQueue:
    def __init__(self, url: str | URL) -> None:
        self.url = url
        self._app: Any = None
        self._lock = threading.Lock()

    def _opened(self) -> Any:
        with self._lock:
            if self._app is None:
                app = queue_app(self.url)
                app.open()
                self._app = app
            return self._app

    def submit(self, plan_id: int) -> None:
        app = self._opened()
        _defer(app.tasks[RUN_TASK], plan_id)

    def start(self) -> None:
        """Nothing to start: the jobs wait in the database for ``fieldwork worker``."""

    def close(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
                self._app = None


def apply_queue_schema(url: str | URL) -> bool:
    """Create procrastinate's tables on a PostgreSQL database if they are missing
    (``fieldwork db upgrade``); True if it created them. SQLite has no queue."""
    parsed = database_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    engine = create_engine_for(parsed)
    try:
        with engine.connect() as connection:
            if "procrastinate_jobs" in inspect(connection).get_table_names():
                return False
    finally:
        engine.dispose()
    app = queue_app(parsed)
    with app.open():
        app.schema_manager.apply_schema()
    return True


def run_worker(url: str | URL, *, name: str | None = None) -> None:
    """Take planning runs from the queue until stopped (SIGINT/SIGTERM).

    It first recovers runs whose worker died and makes sure every queued plan has a
    job (a plan queued while the database refused the job, say).
    """
    queued = recover(url)
    if queued:
        app = queue_app(url)
        with app.open():
            for plan_id in queued:
                _defer(app.tasks[RUN_TASK], plan_id)
    queue_app(url).run_worker(name=name, wait=True)
