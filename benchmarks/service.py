"""The HTTP service, the fleet and the web pages, measured through a real server.

    .venv/bin/python -m benchmarks.service service|fleet|web   # prints one section
    .venv/bin/python -m benchmarks.run --only service,fleet,web  # writes BENCHMARKS.md

Each section builds a fresh SQLite database with the Ennigerloh/Everswinkel demo records
and a user of every role (token and web password), and runs the API under uvicorn on a
free port of this machine (one process, as `fieldwork serve`, with its local planning
worker). Requests come from this process over keep-alive connections (httpx); latency is
measured from sending a request to having read its whole answer.

- ``service`` (issue 4): lists, queueing a run, a demo-week run from queued to done,
  publishing it.
- ``fleet`` (issue 5): bookings, "find me a vehicle", a month's usage, and sixty
  bookings of one slot at the same moment.
- ``web`` (issue 7): the coordinator's pages, signed in with a password as a browser is.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.feeds import Server

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
#: The demo week's Monday, and the Monday after it (free of plans, for the fleet rows).
WEEK = date(2026, 11, 30)
NEXT = WEEK + timedelta(days=7)
ROLES: tuple[tuple[str, str | None], ...] = (
    ("admin", None),
    ("coordinator", None),
    ("caseworker", "cw01"),
    ("fleet_manager", None),
)
CONTENDERS = 60
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def password(role: str) -> str:
    return f"bench-passwort-{role}-123"


def build_database(path: Path) -> tuple[str, dict[str, str]]:
    """The demo records and a user of every role; the URL and a token per role."""
    from sqlalchemy.orm import Session

    import migrations
    from api.auth import add_user, create_token, set_password
    from core.db import create_engine_for
    from scheduler.service import import_scenario
    from scheduler.validation import load_scenario

    url = f"sqlite:///{path}"
    engine = create_engine_for(url)
    migrations.upgrade(engine)
    tokens: dict[str, str] = {}
    with Session(engine) as session:
        import_scenario(
            session=session,
            scenario=load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE)),
            actor="bench",
        )
        for role, caseworker in ROLES:
            name = f"bench-{role}"
            add_user(session=session, name=name, role=role, caseworker_key=caseworker, actor="b")  # type: ignore[arg-type]
            set_password(session=session, user_name=name, password=password(role), actor="b")
            tokens[role] = create_token(session=session, user_name=name, actor="bench")[1]
    engine.dispose()
    return url, tokens


@dataclass
class Service:
    base: str
    tokens: dict[str, str]

    def client(self, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=300)


@contextmanager
def running_service() -> Iterator[Service]:
    with tempfile.TemporaryDirectory() as directory:
        url, tokens = build_database(Path(directory) / "service.db")
        server = Server(url)
        try:
            yield Service(f"http://127.0.0.1:{server.port}", tokens)
        finally:
            server.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Timing:
    name: str
    status: int
    n: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    def row(self) -> str:
        return (
            f"| {self.name} | {self.status} | {self.n} | {self.p50_ms:.1f} | "
            f"{self.p99_ms:.1f} | {self.max_ms:.1f} |"
        )


def timed(name: str, count: int, call: Callable[[int], httpx.Response], expect: int) -> Timing:
    """``count`` calls one after the other (after 3 not counted, to warm up)."""
    for number in range(3):
        call(-1 - number)
    latencies: list[float] = []
    for number in range(count):
        started = time.perf_counter()
        answer = call(number)
        latencies.append((time.perf_counter() - started) * 1000)
        if answer.status_code != expect:
            raise SystemExit(f"{name}: expected {expect}, got {answer.status_code} {answer.text}")
    return Timing(
        name,
        expect,
        count,
        statistics.median(latencies),
        percentile(latencies, 0.99),
        max(latencies),
    )


def once(call: Callable[[], httpx.Response], expect: int) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = call()
    elapsed = time.perf_counter() - started
    if answer.status_code != expect:
        raise SystemExit(f"expected {expect}, got {answer.status_code}: {answer.text}")
    return elapsed, answer.json()


def wait_done(coordinator: httpx.Client, plan_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        plan: dict[str, Any] = coordinator.get(f"/plans/{plan_id}").json()
        if plan["status"] in ("done", "failed", "cancelled"):
            if plan["status"] != "done":
                raise SystemExit(f"plan {plan_id} ended {plan['status']}")
            return plan
        time.sleep(0.05)
    raise SystemExit(f"plan {plan_id} not done after 300 s")


@dataclass(frozen=True)
class Published:
    queue_ms: float
    run_s: float
    publish_s: float
    plan: dict[str, Any]
    published: dict[str, Any]


def plan_and_publish(coordinator: httpx.Client) -> Published:
    """The demo week planned by the local worker and published."""
    queued_s, queued = once(
        lambda: coordinator.post("/plans", json={"week": WEEK.isoformat()}), 202
    )
    started = time.perf_counter()
    plan = wait_done(coordinator, queued["id"])
    run_s = time.perf_counter() - started
    publish_s, published = once(lambda: coordinator.post(f"/plans/{queued['id']}/publish"), 200)
    return Published(queued_s * 1000, run_s, publish_s, plan, published)


def _loads() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


TABLE_HEAD = "| request | status | n | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|"


# ------------------------------------------------------------------------------ service


def service_section(*, requests: int, command: str) -> str:
    load_before = _loads()
    with running_service() as service, service.client("coordinator") as coordinator:
        done = plan_and_publish(coordinator)
        rows = [
            timed("GET /households (coordinator)", requests,
                  lambda _: coordinator.get("/households"), 200),
        ]  # fmt: skip
        with service.client("caseworker") as caseworker:
            window = {
                "from": f"{WEEK}T00:00:00+01:00",
                "to": f"{WEEK + timedelta(days=7)}T00:00:00+01:00",
            }
            rows.append(
                timed("GET /appointments?from=&to= (caseworker cw01, the week)", requests,
                      lambda _: caseworker.get("/appointments", params=window), 200)
            )  # fmt: skip
            mine = caseworker.get("/appointments", params=window).json()["total"]
        # Queueing alone: each queued re-plan is cancelled at once (not timed), so the
        # worker has nothing to plan meanwhile.
        queued: list[int] = []

        def queue(_: int) -> httpx.Response:
            answer = coordinator.post("/plans", json={"week": WEEK.isoformat(), "time_limit_s": 1})
            if answer.status_code == 202:
                queued.append(answer.json()["id"])
                coordinator.post(f"/plans/{answer.json()['id']}/cancel")
            return answer

        post_count = max(10, requests // 5)
        rows.append(timed("POST /plans (queue a run; cancelled after)", post_count, queue, 202))
    load_after = _loads()
    kpis = done.plan.get("kpis") or {}
    run = "queued -> done (local worker: a process per run, OR-Tools; polled every 50 ms)"
    publish = (
        f"`POST /plans/{{id}}/publish` ({_count(done.published['counts'])} appointments, "
        f"{done.published['bookings']} vehicle bookings, one transaction)"
    )
    rows_text = "\n".join(row.row() for row in rows)
    return f"""## Service: API latency, planning runs, publishing (issue 4)

The API under uvicorn (one process, as `fieldwork serve`, with its local planning
worker) on a fresh SQLite database with the Ennigerloh/Everswinkel demo records; the
requests come one after the other from another process over a keep-alive connection
(3 warm-up requests not counted). The lists run after the demo week was published
(`GET /households`: the {requests} requests see the 30 households; cw01 sees
{mine} appointments of the week).

| request | status | n | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|---:|
{rows_text}

Planning run of the demo week (default time limit 10 s; the search stops once the plan
stops improving), measured once:

| step | time |
|---|---:|
| `POST /plans` (the first: queued) | {done.queue_ms:.0f} ms |
| {run} | {done.run_s:.2f} s |
| {publish} | {done.publish_s * 1000:.0f} ms |

Planned: {kpis.get("scheduled", "?")}/{kpis.get("visits", "?")} visits.
Client and server share the machine's 2 cores with other work; the load averages (1/5/15 min) were
{load_before} before and {load_after} after the section.

Reproduce: `{command}`"""


def _count(counts: Any) -> str:
    if isinstance(counts, dict):
        return str(sum(v for k, v in counts.items() if k != "cancelled" and isinstance(v, int)))
    return str(counts)


# -------------------------------------------------------------------------------- fleet


def race(service: Service, body: dict[str, object]) -> tuple[float, list[int]]:
    """CONTENDERS clients post the same booking at once (a barrier releases them)."""
    barrier = threading.Barrier(CONTENDERS + 1)
    clients = [service.client("coordinator") for _ in range(CONTENDERS)]
    for client in clients:  # connections open before the start
        client.get("/sites")

    def post(client: httpx.Client) -> int:
        barrier.wait()
        return client.post("/bookings", json=body).status_code

    try:
        with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
            futures = [pool.submit(post, client) for client in clients]
            barrier.wait()
            started = time.perf_counter()
            statuses = [future.result() for future in futures]
            wall = time.perf_counter() - started
    finally:
        for client in clients:
            client.close()
    return wall, statuses


def fleet_section(*, requests: int, command: str) -> str:
    load_before = _loads()
    with running_service() as service:
        with service.client("coordinator") as coordinator:
            plan_and_publish(coordinator)
        with service.client("fleet_manager") as manager:
            start = datetime.fromisoformat(f"{NEXT + timedelta(days=1)}T06:00:00+01:00")

            def book(number: int) -> httpx.Response:
                # Distinct 5-minute slots of one e-bike (warm-ups before the others).
                begin = start + timedelta(minutes=5 * (number + 3))
                return manager.post(
                    "/bookings",
                    json={
                        "vehicle": "ebike-enn-2",
                        "start": begin.isoformat(),
                        "end": (begin + timedelta(minutes=5)).isoformat(),
                    },
                )

            rows = [timed("POST /bookings (a free slot)", requests, book, 201)]
            find = {
                "site": "enn",
                "start": f"{WEEK + timedelta(days=1)}T10:00:00+01:00",
                "end": f"{WEEK + timedelta(days=1)}T12:00:00+01:00",
                "km": 30,
            }
            rows.append(
                timed("POST /bookings/find (demo week, after the plan's bookings)", requests,
                      lambda _: manager.post("/bookings/find", json=find), 200)
            )  # fmt: skip
            month = {"from": "2026-11-01", "to": "2026-11-30"}
            december = {"from": "2026-12-01", "to": "2026-12-31"}
            rows.append(
                timed("GET /fleet/usage (December 2026: demo week Tue-Fri, bookings above)",
                      max(10, requests // 5), lambda _: manager.get("/fleet/usage",
                                                                    params=december), 200)
            )  # fmt: skip
            rows.append(
                timed("GET /fleet/usage (November 2026: demo week Monday)", max(10, requests // 5),
                      lambda _: manager.get("/fleet/usage", params=month), 200)
            )  # fmt: skip
        body = {
            "vehicle": "ecar-enn-1",
            "start": f"{NEXT}T09:00:00+01:00",
            "end": f"{NEXT}T11:00:00+01:00",
            "km_planned": 30,
        }
        wall, statuses = race(service, body)
        with service.client("fleet_manager") as manager:
            active = [
                item
                for item in manager.get(
                    "/bookings", params={"vehicle": "ecar-enn-1", "limit": 500}
                ).json()["items"]
                if item["start"].startswith(str(NEXT)) and item.get("status") == "active"
            ]
    load_after = _loads()
    outcome = ", ".join(f"{statuses.count(s)}x {s}" for s in sorted(set(statuses)))
    verdict = (
        "as it must be"
        if sorted(statuses) == [201] + [409] * (CONTENDERS - 1) and len(active) == 1
        else "WRONG"
    )
    rows_text = "\n".join(row.row() for row in rows)
    return f"""## Fleet: bookings, finding a vehicle, usage, the booking race (issue 5)

The API under uvicorn (one process) on a fresh SQLite database with the demo records and
the demo week's plan published (its vehicle bookings in place); requests one after the
other from another process over a keep-alive connection (3 warm-ups not counted).

{TABLE_HEAD}
{rows_text}

The race: {CONTENDERS} clients (threads of another process, each with its own open
connection) post the same booking of `ecar-enn-1` ({NEXT} 09:00-11:00) at the same
moment. Wall time from their release to the last answer: {wall * 1000:.0f} ms; outcome
{outcome} ({verdict}: one winner, {CONTENDERS - 1} refused with 409);
{len(active)} active booking of the slot afterwards. The load averages (1/5/15 min) were
{load_before} before and {load_after} after the section (2 cores shared with other work).

Reproduce: `{command}`"""


# ---------------------------------------------------------------------------------- web


def sign_in(client: httpx.Client, role: str) -> None:
    page = client.get("/web/signin")
    match = CSRF.search(page.text)
    if match is None:
        raise SystemExit("no CSRF token on /web/signin")
    answer = client.post(
        "/web/signin",
        data={
            "csrf_token": match.group(1),
            "name": f"bench-{role}",
            "password": password(role),
            "next": "/web/",
        },
    )
    if answer.status_code != 303:
        raise SystemExit(f"sign-in answered {answer.status_code}")


def web_section(*, requests: int, command: str) -> str:
    load_before = _loads()
    with running_service() as service:
        with service.client("coordinator") as coordinator:
            plan_and_publish(coordinator)
        with service.client() as browser:
            sign_in(browser, "coordinator")
            pages = (
                ("coordinator week page (`/web/week`, the published demo week)",
                 f"/web/week?week={WEEK}"),
                ("households (`/web/households`)", "/web/households"),
                ("fleet page (`/web/fleet`, the demo week)", f"/web/fleet?week={WEEK}"),
                ("report page (`/web/reports`, November 2026)", "/web/reports?period=2026-11"),
            )  # fmt: skip
            rows: list[tuple[Timing, int]] = []
            for name, path in pages:
                timing = timed(name, requests, lambda _, path=path: browser.get(path), 200)  # type: ignore[misc]
                rows.append((timing, len(browser.get(path).content)))
    load_after = _loads()
    table = "\n".join(
        f"| {t.name} | {t.n} | {t.p50_ms:.1f} | {t.p99_ms:.1f} | {t.max_ms:.1f} | {size:,} |"
        for t, size in rows
    )
    return f"""## Web pages (issue 7)

Server-side render times of the coordinator's pages: the app under uvicorn (one
process) on a fresh SQLite database with the demo records and the demo week's plan
published; a client signed in with a password (session and CSRF cookies, as a browser)
asks for each page {requests} times one after the other (3 warm-ups not counted), from
request to the whole HTML read (static files, scripts and map tiles not included).

| page | n | median ms | p99 ms | max ms | HTML bytes |
|---|---:|---:|---:|---:|---:|
{table}

The load averages (1/5/15 min) were {load_before} before and {load_after} after the
section (2 cores shared with other work).

Reproduce: `{command}`"""


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=("service", "fleet", "web"))
    parser.add_argument("--requests", type=int, default=100)
    arguments = parser.parse_args()
    make = {"service": service_section, "fleet": fleet_section, "web": web_section}
    command = f".venv/bin/python -m benchmarks.run --only {arguments.section}"
    print(make[arguments.section](requests=arguments.requests, command=command))


if __name__ == "__main__":
    main()
