"""Calendar feed latency and throughput through a real server.

    .venv/bin/python -m benchmarks.feeds                 # prints the section
    .venv/bin/python -m benchmarks.run --only feeds      # writes it into BENCHMARKS.md

A SQLite database gets the demo records and one published plan in which caseworker
cw01 has 200 appointments (40 days with 5 visits, a tour each with an e-bike); the API
runs under uvicorn on a free port of this machine (one process, as `fieldwork serve`),
and an asyncio load generator (keep-alive HTTP/1.1 connections, in this process) asks
for cw01's feed:

- ``render``: the feed changed before every request (an appointment's LAST-MODIFIED is
  bumped in the database), so each answer is built and rendered anew; one connection.
- ``200``: plain GETs without validators (a client's first fetch): the full body; the
  server renders a version once and serves it from its cache after that.
- ``304``: GETs with If-None-Match of the current ETag, as polling clients send: the
  token lookup and one aggregate query, nothing rendered.

Latency is measured per request from sending it to having read the whole answer.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ennigerloh-everswinkel.scenario.json"
APPOINTMENTS = 200


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    concurrency: int
    status: int
    body_bytes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    per_second: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def build_database(path: Path) -> tuple[str, str]:
    """The demo records, a published plan with APPOINTMENTS for cw01, and a feed token;
    returns the database URL and the token."""
    from sqlalchemy import select

    import migrations
    from calendars.tokens import Subject, create_token
    from core.db import create_engine_for, create_session_factory, transaction
    from fleet.models import Vehicle, VehicleBooking
    from scheduler.models import (
        Appointment,
        Caseworker,
        Household,
        Plan,
        PlanningWeek,
        Tour,
        VisitRequest,
    )
    from scheduler.service import import_scenario
    from scheduler.validation import load_scenario

    url = f"sqlite:///{path}"
    engine = create_engine_for(url)
    migrations.upgrade(engine)
    zone = ZoneInfo("Europe/Berlin")
    with create_session_factory(engine)() as session:
        import_scenario(
            session=session,
            scenario=load_scenario(EXAMPLE.read_bytes(), source=str(EXAMPLE)),
            actor="bench",
        )
        worker = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
        bike = session.scalars(select(Vehicle).where(Vehicle.key == "ebike-enn-1")).one()
        households = list(session.scalars(select(Household).order_by(Household.pseudonym)))
        per_day = 5
        days = APPOINTMENTS // per_day
        start = datetime.now(UTC).date() - timedelta(days=7)
        now = datetime.now(UTC).replace(microsecond=0)
        with transaction(session):
            week = PlanningWeek(start=start, end=start + timedelta(days=days), name="Bench")
            session.add(week)
            session.flush()
            plan = Plan(
                week_id=week.id,
                sites=["enn"],
                status="published",
                time_limit_s=1,
                scenario={},
                published_at=now,
            )
            session.add(plan)
            session.flush()
            for offset in range(days):
                day: date = start + timedelta(days=offset)
                depart = datetime.combine(day, clock(8, 30), zone).astimezone(UTC)
                tour = Tour(
                    plan_id=plan.id,
                    key=f"cw01/{day}/1",
                    caseworker_id=worker.id,
                    date=day,
                    mode="e_bike",
                    vehicle_id=bike.id,
                    depart=depart,
                    return_=depart + timedelta(minutes=30 + 75 * per_day),
                    distance_km=14.0,
                    travel_minutes=50,
                    co2e_kg=0.1,
                    baseline_co2e_kg=2.4,
                    legs=[],
                )
                session.add(tour)
                session.flush()
                for slot in range(per_day):
                    household = households[(offset * per_day + slot) % len(households)]
                    visit = VisitRequest(
                        week_id=week.id,
                        key=f"{household.pseudonym}/{offset}-{slot}",
                        household_id=household.id,
                        duration_minutes=60,
                    )
                    session.add(visit)
                    session.flush()
                    begin = depart + timedelta(minutes=30 + 75 * slot)
                    session.add(
                        Appointment(
                            plan_id=plan.id,
                            visit_request_id=visit.id,
                            caseworker_id=worker.id,
                            tour_key=tour.key,
                            start=begin,
                            end=begin + timedelta(minutes=60),
                            uid=f"{uuid.uuid4()}@fieldwork",
                            status="confirmed",
                            updated_at=now,
                        )
                    )
                session.add(
                    VehicleBooking(
                        vehicle_id=bike.id,
                        start=tour.depart,
                        end=tour.return_,
                        source="plan",
                        plan_id=plan.id,
                        tour_key=tour.key,
                        km_planned=14.0,
                    )
                )
        _, token = create_token(
            session=session, subject=Subject("caseworker", worker.id), actor="bench"
        )
    engine.dispose()
    return url, token


class Server:
    """uvicorn serving the API on a free port of this machine (our own process)."""

    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env={**os.environ, "FIELDWORK_DATABASE_URL": url},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, etag: str | None
) -> tuple[int, int, str | None]:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/calendar"]
    if etag is not None:
        lines.append(f"If-None-Match: {etag}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, tag = 0, None
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
        elif name.lower() == "etag":
            tag = value.strip()
    body = await reader.readexactly(length) if length else b""
    return status, len(body), tag


async def _load(
    port: int, path: str, etag: str | None, requests: int, concurrency: int
) -> tuple[list[float], int, int, float]:
    latencies: list[float] = []
    statuses: set[int] = set()
    sizes: set[int] = set()
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                status, size, _ = await _request(reader, writer, path, etag)
                latencies.append((time.perf_counter() - started) * 1000)
                statuses.add(status)
                sizes.add(size)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    if len(statuses) != 1:
        raise SystemExit(f"mixed answers {statuses}")
    return latencies, statuses.pop(), max(sizes), wall


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _result(
    name: str, latencies: list[float], status: int, size: int, wall: float, concurrency: int
) -> Result:
    return Result(
        name=name,
        requests=len(latencies),
        concurrency=concurrency,
        status=status,
        body_bytes=size,
        p50_ms=statistics.median(latencies),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=max(latencies),
        per_second=len(latencies) / wall,
    )


async def _renders(port: int, path: str, database: Path, count: int) -> Result:
    """One request at a time, each after the feed changed (no cached rendering fits)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = []
    size = 0
    connection = sqlite3.connect(database)
    try:
        for number in range(count):
            stamp = (datetime.now(UTC) + timedelta(seconds=number + 1)).strftime(
                "%Y-%m-%d %H:%M:%S.%f"
            )
            connection.execute(
                "UPDATE appointment SET updated_at = ?"
                " WHERE id = (SELECT min(id) FROM appointment)",
                (stamp,),
            )
            connection.commit()
            started = time.perf_counter()
            status, size, _ = await _request(reader, writer, path, None)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise SystemExit(f"render request answered {status}")
    finally:
        connection.close()
        writer.close()
    # Requests per second of rendering alone (the database update is not counted).
    total = sum(latencies) / 1000
    return _result("render (feed changed before each request)", latencies, 200, size, total, 1)


def measure(*, requests: int = 2000, concurrency: int = 8, renders: int = 50) -> list[Result]:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "feeds.db"
        url, token = build_database(database)
        server = Server(url)
        try:
            path = f"/feeds/{token}.ics"

            async def run() -> list[Result]:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                status, _, etag = await _request(reader, writer, path, None)
                writer.close()
                assert status == 200 and etag is not None
                results = [await _renders(server.port, path, database, renders)]
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                _, _, etag = await _request(reader, writer, path, None)
                writer.close()
                # Warm-up, not counted.
                await _load(server.port, path, None, 50, concurrency)
                # One client at a time (the cost of a request) and several at once.
                for connections in (1, concurrency):
                    for name, tag, expected in (
                        ("200, full body (no validators)", None, 200),
                        ("304 (If-None-Match, current ETag)", etag, 304),
                    ):
                        count = requests // 4 if connections == 1 else requests
                        latencies, status, size, wall = await _load(
                            server.port, path, tag, count, connections
                        )
                        if status != expected:
                            raise SystemExit(f"expected {expected}, got {status}")
                        results.append(_result(name, latencies, status, size, wall, connections))
                return results

            return asyncio.run(run())
        finally:
            server.stop()


def section(*, requests: int, concurrency: int, renders: int, command: str) -> str:
    load_before = os.getloadavg()[0]
    results = measure(requests=requests, concurrency=concurrency, renders=renders)
    load_after = os.getloadavg()[0]
    rows = "\n".join(
        f"| {r.name} | {r.requests} | {r.concurrency} | {r.status} | {r.body_bytes:,} | "
        f"{r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.per_second:,.0f} |"
        for r in results
    )
    met = [r for r in results if r.p99_ms < 50]
    verdict = (
        "met by every row"
        if len(met) == len(results)
        else f"met by {len(met)} of {len(results)} rows ("
        + ", ".join(
            f"{r.name.split(' ')[0].rstrip(',')} with {r.concurrency}: {r.p99_ms:.0f} ms"
            for r in results
            if r not in met
        )
        + " not)"
    )
    return f"""## Calendar feeds (issue 8)

A caseworker's feed with {APPOINTMENTS} appointments (and a way out and back for each of
their 40 tours: 280 events, a reminder for each visit) from SQLite, served by uvicorn
(one process) on this machine, read by an asyncio load generator in another process
over keep-alive connections, first one client at a time, then {concurrency} at once.
Target: p99 under 50 ms; {verdict}.

| requests | n | connections | status | body bytes | p50 ms | p99 ms | max ms | req/s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

`render` is the cost after a publish, once per feed version (events are serialised
once and kept, so a re-plan that moves one visit re-renders one event; this row changes
one event each time, one client). `200` is what a new subscriber costs (the version
rendered once, then served from the cache); `304` what hundreds of clients polling
every 15 minutes cost (token lookup and one aggregate query, nothing rendered). Load
generator and server share the machine's 2 cores; the 1-minute load average was
{load_before:.1f} before the run and {load_after:.1f} after it: other work on the machine
(here: other sessions' test suites) slows every row, the concurrent ones most.

Reproduce: `{command}`"""


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--renders", type=int, default=50)
    arguments = parser.parse_args()
    command = (
        f".venv/bin/python -m benchmarks.run --only feeds --feeds-requests {arguments.requests} "
        f"--feeds-concurrency {arguments.concurrency} --feeds-renders {arguments.renders}"
    )
    print(
        section(
            requests=arguments.requests,
            concurrency=arguments.concurrency,
            renders=arguments.renders,
            command=command,
        )
    )


if __name__ == "__main__":
    main()
