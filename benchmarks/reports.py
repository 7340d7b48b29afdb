"""How long the sustainability report of a programme-year takes, on SQLite and (with
``FIELDWORK_TEST_DATABASE_URL``) PostgreSQL.

    .venv/bin/python -m benchmarks.reports [--weeks 52] [--caseworkers 30]

Builds a synthetic year in a fresh database (3 sites, the caseworkers spread over them,
two e-cars and two e-bikes per site, one published plan per week with 4 tours per
caseworker, 80 % of them confirmed, 1 ad-hoc trip per caseworker and week, bookings for
every e-vehicle tour, paperless steps), then times the report (JSON model), the CSV and
the PDF. Nothing here is a test: the numbers go to the report of the work.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import migrations
from core.db import create_engine_for
from core.paperless import PaperlessEvent
from fleet.models import Trip, Vehicle, VehicleBooking
from reports.export_csv import render_csv
from reports.export_pdf import render_pdf
from reports.periods import Period
from reports.sustainability import ReportOptions, sustainability_report
from scheduler.models import Caseworker, Plan, PlanningWeek, Site, Tour

BERLIN = ZoneInfo("Europe/Berlin")
MODES = ("e_car", "e_bike", "walk", "car", "private_car")


def build_year(engine: Engine, *, weeks: int, caseworkers: int, seed: int = 7) -> int:
    """The synthetic year; returns the number of trips the report will count."""
    rng = random.Random(seed)
    with Session(engine) as session:
        sites = [
            Site(key=f"s{n}", name=f"Standort {n}", lat=51.8, lon=8.0, timezone="Europe/Berlin",
                 region="DE-NW")
            for n in range(3)
        ]  # fmt: skip
        session.add_all(sites)
        session.flush()
        workers = [
            Caseworker(key=f"cw{n:03d}", site_id=sites[n % 3].id) for n in range(caseworkers)
        ]
        vehicles = [
            Vehicle(key=f"{kind}-{site.key}-{n}", site_id=site.id, kind=kind, range_km=200)
            for site in sites
            for kind in ("e_car", "e_bike")
            for n in range(2)
        ]
        session.add_all([*workers, *vehicles])
        session.flush()
        by_site = {
            (site.id, kind): [v for v in vehicles if v.site_id == site.id and v.kind == kind]
            for site in sites
            for kind in ("e_car", "e_bike")
        }
        start = date(2026, 1, 5)
        counted = 0
        for week_number in range(weeks):
            monday = start + timedelta(weeks=week_number)
            week = PlanningWeek(
                start=monday, end=monday + timedelta(days=4), name=f"KW{week_number}"
            )
            session.add(week)
            session.flush()
            plan = Plan(week_id=week.id, status="published", time_limit_s=10, scenario={})
            session.add(plan)
            session.flush()
            rows: list[object] = []
            for worker in workers:
                for number in range(4):
                    day = monday + timedelta(days=number)
                    mode = rng.choice(MODES)
                    km = round(rng.uniform(2, 40), 3)
                    # One hour per caseworker of the site: the shared vehicles' bookings
                    # never overlap (PostgreSQL's exclusion constraint would refuse them).
                    slot = workers.index(worker) // 3
                    depart = datetime.combine(day, datetime.min.time(), BERLIN) + timedelta(
                        minutes=60 * slot
                    )
                    vehicle = None
                    if mode in ("e_car", "e_bike"):
                        vehicle = by_site[(worker.site_id, mode)][number % 2]
                    key = f"{worker.key}/{day}/{number}"
                    rows.append(
                        Tour(plan_id=plan.id, key=key, caseworker_id=worker.id, date=day,
                             mode=mode, vehicle_id=vehicle.id if vehicle else None, depart=depart,
                             return_=depart + timedelta(minutes=50), distance_km=km,
                             travel_minutes=60, co2e_kg=0.0, baseline_co2e_kg=0.0, legs=[])
                    )  # fmt: skip
                    if vehicle is not None:
                        rows.append(
                            VehicleBooking(vehicle_id=vehicle.id, start=depart,
                                           end=depart + timedelta(minutes=50),
                                           blocked_until=depart + timedelta(minutes=50),
                                           source="plan", plan_id=plan.id, tour_key=key,
                                           km_planned=km)
                        )  # fmt: skip
                    if rng.random() < 0.8:
                        rows.append(
                            Trip(source="tour", caseworker_id=worker.id, site_id=worker.site_id,
                                 date=day, mode=mode, vehicle_id=vehicle.id if vehicle else None,
                                 plan_id=plan.id, tour_key=key, km_planned=km,
                                 km=round(km * rng.uniform(0.9, 1.2), 3))
                        )  # fmt: skip
                    counted += 1
                rows.append(
                    Trip(source="adhoc", caseworker_id=worker.id, site_id=worker.site_id,
                         date=monday + timedelta(days=4), mode="private_car",
                         km=round(rng.uniform(2, 30), 3))
                )  # fmt: skip
                counted += (monday + timedelta(days=4)).year == 2026
            rows.append(
                PaperlessEvent(kind="plan_published", site_id=sites[0].id, count=caseworkers,
                               at=datetime.combine(monday, datetime.min.time(), UTC))
            )  # fmt: skip
            # Tours first: bookings and trips name them.
            session.add_all([row for row in rows if isinstance(row, Tour)])
            session.flush()
            session.add_all([row for row in rows if not isinstance(row, Tour)])
            session.flush()
        session.commit()
    return counted


@dataclass(frozen=True)
class Figures:
    label: str
    trips: int
    weeks: int
    caseworkers: int
    built_s: float
    report_s: float
    csv_s: float
    csv_kib: int
    pdf_s: float
    pdf_kib: int

    def line(self) -> str:
        return (
            f"{self.label}: {self.trips} trips ({self.weeks} weeks, {self.caseworkers} "
            f"caseworkers; built in {self.built_s:.1f} s): report {self.report_s:.2f} s, "
            f"CSV {self.csv_s:.2f} s ({self.csv_kib} KiB), PDF {self.pdf_s:.2f} s "
            f"({self.pdf_kib} KiB)"
        )

    def row(self) -> str:
        return (
            f"| {self.label} | {self.trips:,} | {self.report_s:.2f} | {self.csv_s:.2f} | "
            f"{self.csv_kib:,} | {self.pdf_s:.2f} | {self.pdf_kib:,} | {self.built_s:.1f} |"
        )


def measure(url: str, label: str, weeks: int, caseworkers: int) -> Figures:
    engine = create_engine_for(url)
    migrations.upgrade(engine)
    began = time.perf_counter()
    trips = build_year(engine, weeks=weeks, caseworkers=caseworkers)
    built = time.perf_counter() - began
    period = Period(date(2026, 1, 1), date(2026, 12, 31))
    with Session(engine) as session:
        timings: dict[str, float] = {}
        began = time.perf_counter()
        report = sustainability_report(session=session, options=ReportOptions(period=period))
        timings["report"] = time.perf_counter() - began
        began = time.perf_counter()
        csv_bytes = render_csv(report)
        timings["csv"] = time.perf_counter() - began
        began = time.perf_counter()
        pdf_bytes = render_pdf(report)
        timings["pdf"] = time.perf_counter() - began
    engine.dispose()
    assert report.totals.trips == trips, (report.totals.trips, trips)
    return Figures(
        label=label,
        trips=trips,
        weeks=weeks,
        caseworkers=caseworkers,
        built_s=built,
        report_s=timings["report"],
        csv_s=timings["csv"],
        csv_kib=len(csv_bytes) // 1024,
        pdf_s=timings["pdf"],
        pdf_kib=len(pdf_bytes) // 1024,
    )


def measure_all(weeks: int, caseworkers: int) -> list[Figures]:
    """SQLite, and PostgreSQL (a schema of its own) when FIELDWORK_TEST_DATABASE_URL is set."""
    figures = []
    with tempfile.TemporaryDirectory() as directory:
        figures.append(measure(f"sqlite:///{directory}/year.db", "SQLite", weeks, caseworkers))
    postgres = os.environ.get("FIELDWORK_TEST_DATABASE_URL")
    if postgres:
        schema = f"fieldwork_bench_reports_{os.getpid()}"
        admin = create_engine_for(postgres)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            separator = "&" if "?" in postgres else "?"
            figures.append(
                measure(
                    f"{postgres}{separator}options=-csearch_path%3D{schema}",
                    "PostgreSQL",
                    weeks,
                    caseworkers,
                )
            )
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return figures


def section(*, weeks: int, caseworkers: int, command: str) -> str:
    load_before = "/".join(f"{value:.1f}" for value in os.getloadavg())
    figures = measure_all(weeks, caseworkers)
    load_after = "/".join(f"{value:.1f}" for value in os.getloadavg())
    rows = "\n".join(figure.row() for figure in figures)
    missing = (
        ""
        if len(figures) > 1
        else " PostgreSQL was not measured: FIELDWORK_TEST_DATABASE_URL was not set."
    )
    return f"""## Sustainability report of a year (issue 6)

A synthetic programme-year ({weeks} weeks, {caseworkers} caseworkers over 3 sites, two
e-cars and two e-bikes per site, one published plan a week with 4 tours per caseworker,
80 % of them confirmed as trips, one ad-hoc trip per caseworker and week, bookings for
every e-vehicle tour) in a fresh database; then the report of 2026 (the model behind the
page and `GET /reports/sustainability`), its CSV and its PDF, each computed once, in
this process (no HTTP).{missing}

| database | trips counted | report s | CSV s | CSV KiB | PDF s | PDF KiB | year built in s |
|---|---:|---:|---:|---:|---:|---:|---:|
{rows}

The load averages (1/5/15 min) were {load_before} before and {load_after} after the
section (2 cores shared with other work).

Reproduce: `{command}` (PostgreSQL with `FIELDWORK_TEST_DATABASE_URL` set, as the
tests)"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--caseworkers", type=int, default=30)
    arguments = parser.parse_args()
    for figure in measure_all(arguments.weeks, arguments.caseworkers):
        print(figure.line())


if __name__ == "__main__":
    main()
