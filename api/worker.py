"""Where planning runs are carried out: a local worker process, or procrastinate.

- SQLite (the embedded default): ``LocalRunQueue`` runs plans in one worker process
  that the API starts (``multiprocessing`` spawn), so the API stays responsive while
  OR-Tools works. It forgets nothing that matters when the API stops: at start-up, and
  every ``RECOVER_EVERY_S`` after, it puts runs whose worker died back on the queue
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
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Protocol

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import inspect
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


def run_plan(url: str | URL, plan_id: int) -> str | None:
    """Run one queued plan on the database at ``url`` (in whatever process calls it)."""
    from scheduler.runs import execute_run

    engine = create_engine_for(url)
    try:
        factory = create_session_factory(engine)
        with factory() as session:
            return execute_run(session=session, plan_id=plan_id, session_factory=factory)
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


def _run_in_child(url: str, plan_id: int) -> str | None:
    return run_plan(url, plan_id)


# ------------------------------------------------------------------ SQLite: local


class LocalRunQueue:
    """One worker process, started by the API on the first run (spawn: a fresh
    interpreter, no copy of the API's threads and connections)."""

    def __init__(self, url: str | URL) -> None:
        self.url = database_url(url).render_as_string(hide_password=False)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._recovery: threading.Thread | None = None
        #: Plan ids submitted and not finished: recovery does not submit them twice.
        self._pending: set[int] = set()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        return self._pool

    def submit(self, plan_id: int) -> None:
        with self._lock:
            if plan_id in self._pending:
                return
            try:
                future = self._executor().submit(_run_in_child, self.url, plan_id)
            except BrokenProcessPool:
                # The worker process died (killed); its run is recovered by its heartbeat.
                self._pool = None
                future = self._executor().submit(_run_in_child, self.url, plan_id)
            self._pending.add(plan_id)
        future.add_done_callback(self._done(plan_id))

    def _done(self, plan_id: int) -> Callable[[Future[str | None]], None]:
        def finished(future: Future[str | None]) -> None:
            with self._lock:
                self._pending.discard(plan_id)
            error = None if future.cancelled() else future.exception()
            if error is not None:
                logger.error("plan %s: the worker process failed: %s", plan_id, error)

        return finished

    def start(self) -> None:
        """Submit what is queued (runs survive an API restart) and watch for dead runs."""
        self._resubmit(stale_after_s=None)
        self._recovery = threading.Thread(target=self._watch, name="plan-recovery", daemon=True)
        self._recovery.start()

    def _resubmit(self, stale_after_s: float | None) -> None:
        try:
            queued = recover(self.url, stale_after_s)
        except Exception as error:  # the API must start even if the database is down
            logger.error("recovering planning runs failed: %s", error)
            return
        for plan_id in queued:
            self.submit(plan_id)

    def _watch(self) -> None:
        while not self._stop.wait(RECOVER_EVERY_S):
            self._resubmit(stale_after_s=None)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


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
        status = run_plan(url, plan_id)
        logger.info("plan %s: %s", plan_id, status or "not queued (taken or finished)")

    @app.periodic(cron="* * * * *", periodic_id="recover")
    @app.task(name=RECOVER_TASK, queue=QUEUE, queueing_lock=RECOVER_TASK)
    async def recover_runs(timestamp: int) -> None:
        for plan_id in await asyncio.to_thread(recover, url):
            # AlreadyEnqueued: a job for this plan is waiting already.
            with contextlib.suppress(AlreadyEnqueued):
                await plan_run.configure(queueing_lock=_lock(plan_id)).defer_async(plan_id=plan_id)

    return app


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
