"""A small month of trips built by hand (November 2026), for the sustainability report.

``build_month(session)`` writes it; ``conftest.py`` offers it as the ``month`` fixture.

Two sites: Ennigerloh (``enn``) with caseworkers cw01, cw02, an e-car (17 kWh/100 km
on record), an e-bike (no consumption on record: the kind's 0.6 kWh/100 km) and a pool
car; Everswinkel (``evb``) with cw03 and a pool car. One published plan with four
tours in November and one in December, one plan that was never published:

| tour | who  | date       | mode        | vehicle    | planned km | visits | trip log        |
|------|------|------------|-------------|------------|-----------:|-------:|-----------------|
| T1   | cw01 | 2026-11-03 | e_car       | ecar-enn-1 |       24.0 |      2 | confirmed 25.5  |
| T2   | cw02 | 2026-11-04 | private_car |            |       31.2 |      1 | none (planned)  |
| T3   | cw01 | 2026-11-05 | e_bike      | ebike-enn-1|        8.4 |      2 | confirmed 8.4   |
| T4   | cw03 | 2026-11-05 | car         | car-evb-1  |       40.0 |      1 | confirmed 42.0  |
| T5   | cw01 | 2026-12-01 | e_car       | ecar-enn-1 |       10.0 |      1 | (December)      |

Ad-hoc trips: cw02 walks 1.6 km (11-10) and drives her own car 12.0 km (11-12); cw01
takes the pool car car-enn-1 for 18.0 km (11-20); cw01 on 10-30 (October). The e-car
has a 3-hour booking on 11-03, a cancelled one on 11-04 and maintenance all of 11-06.
Paperless steps with their counts, one of them just after local midnight of 11-01 and
one just after local midnight of 12-01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core.db import transaction
from core.paperless import PaperlessKind, record_paperless
from fleet import trips as trip_log
from fleet.models import Vehicle, VehicleBlock, VehicleBooking
from scheduler.models import (
    Appointment,
    Caseworker,
    Household,
    Plan,
    PlanningWeek,
    Site,
    Tour,
    VisitRequest,
)

BERLIN = ZoneInfo("Europe/Berlin")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@dataclass(frozen=True)
class Month:
    sites: dict[str, int]
    caseworkers: dict[str, int]
    vehicles: dict[str, int]
    plan_id: int
    #: Trip log ids: ``T1``, ``T3``, ``T4`` (confirmations), ``walk``, ``own_car``,
    #: ``pool_car``, ``october``.
    trips: dict[str, int]
    #: Tour ids: ``T1`` .. ``T5``.
    tours: dict[str, int]


def _site(session: Session, key: str, name: str, lat: float, lon: float) -> Site:
    site = Site(key=key, name=name, lat=lat, lon=lon, timezone="Europe/Berlin", region="DE-NW")
    session.add(site)
    session.flush()
    return site


def build_month(session: Session) -> Month:
    with transaction(session):
        enn = _site(session, "enn", "Ennigerloh", 51.84, 8.03)
        evb = _site(session, "evb", "Everswinkel", 51.93, 7.85)
        caseworkers = {
            key: Caseworker(key=key, name=f"Name {key}", site_id=site.id)
            for key, site in (("cw01", enn), ("cw02", enn), ("cw03", evb))
        }
        session.add_all(caseworkers.values())
        vehicles = {
            "ecar-enn-1": Vehicle(
                key="ecar-enn-1",
                site_id=enn.id,
                kind="e_car",
                range_km=200,
                consumption_kwh_per_100km=17.0,
            ),
            "ebike-enn-1": Vehicle(key="ebike-enn-1", site_id=enn.id, kind="e_bike", range_km=60),
            "car-enn-1": Vehicle(key="car-enn-1", site_id=enn.id, kind="car", range_km=600),
            "car-evb-1": Vehicle(key="car-evb-1", site_id=evb.id, kind="car", range_km=600),
        }
        session.add_all(vehicles.values())
        session.flush()

        week = PlanningWeek(start=date(2026, 11, 2), end=date(2026, 12, 4), name="Test")
        session.add(week)
        households = [
            Household(pseudonym=f"H{number:04d}", lat=51.85, lon=8.0, site_id=enn.id)
            for number in range(1, 9)
        ]
        session.add_all(households)
        session.flush()
        requests = [
            VisitRequest(
                week_id=week.id, key=f"{h.pseudonym}/1", household_id=h.id, duration_minutes=60
            )
            for h in households
        ]
        session.add_all(requests)
        published = Plan(
            week_id=week.id,
            status="published",
            time_limit_s=10,
            scenario={},
            published_at=datetime(2026, 11, 1, 17, 0, tzinfo=UTC),
        )
        draft = Plan(week_id=week.id, status="done", time_limit_s=10, scenario={})
        session.add_all([published, draft])
        session.flush()

        def tour(
            plan: Plan, key: str, who: str, day: date, mode: str, vehicle: str | None, km: float
        ) -> Tour:
            made = Tour(
                plan_id=plan.id,
                key=key,
                caseworker_id=caseworkers[who].id,
                date=day,
                mode=mode,
                vehicle_id=vehicles[vehicle].id if vehicle else None,
                depart=local(day, 9),
                return_=local(day, 12),
                distance_km=km,
                travel_minutes=60,
                co2e_kg=0.0,
                baseline_co2e_kg=0.0,
                legs=[],
            )
            session.add(made)
            return made

        tours = {
            "T1": tour(
                published,
                "cw01/2026-11-03/1",
                "cw01",
                date(2026, 11, 3),
                "e_car",
                "ecar-enn-1",
                24.0,
            ),
            "T2": tour(
                published, "cw02/2026-11-04/1", "cw02", date(2026, 11, 4), "private_car", None, 31.2
            ),
            "T3": tour(
                published,
                "cw01/2026-11-05/1",
                "cw01",
                date(2026, 11, 5),
                "e_bike",
                "ebike-enn-1",
                8.4,
            ),
            "T4": tour(
                published, "cw03/2026-11-05/1", "cw03", date(2026, 11, 5), "car", "car-evb-1", 40.0
            ),
            "T5": tour(
                published,
                "cw01/2026-12-01/1",
                "cw01",
                date(2026, 12, 1),
                "e_car",
                "ecar-enn-1",
                10.0,
            ),
        }
        # A plan that was never published: its tour counts nowhere.
        tour(draft, "cw02/2026-11-04/1", "cw02", date(2026, 11, 4), "private_car", None, 99.0)
        session.flush()

        visits = {"T1": 2, "T2": 1, "T3": 2, "T4": 1, "T5": 1}
        pending = iter(requests)
        for name, count in visits.items():
            made = tours[name]
            for number in range(count):
                request = next(pending)
                session.add(
                    Appointment(
                        plan_id=published.id,
                        visit_request_id=request.id,
                        caseworker_id=made.caseworker_id,
                        tour_key=made.key,
                        start=local(made.date, 10 + number),
                        end=local(made.date, 10 + number, 45),
                        uid=f"{request.key}@test",
                        status="confirmed",
                    )
                )
        # A cancelled appointment (no tour) is no home visit.
        last = next(pending)
        session.add(
            Appointment(
                plan_id=published.id,
                visit_request_id=last.id,
                caseworker_id=caseworkers["cw02"].id,
                tour_key=None,
                start=local(date(2026, 11, 4), 14),
                end=local(date(2026, 11, 4), 15),
                uid=f"{last.key}@test",
                status="cancelled",
            )
        )

        ecar = vehicles["ecar-enn-1"].id
        session.add_all(
            [
                VehicleBooking(
                    vehicle_id=ecar,
                    start=local(date(2026, 11, 3), 9),
                    end=local(date(2026, 11, 3), 12),
                    blocked_until=local(date(2026, 11, 3), 12),
                    source="plan",
                    plan_id=published.id,
                    tour_key=tours["T1"].key,
                    km_planned=24.0,
                ),
                VehicleBooking(
                    vehicle_id=ecar,
                    start=local(date(2026, 11, 4), 9),
                    end=local(date(2026, 11, 4), 17),
                    blocked_until=local(date(2026, 11, 4), 17),
                    source="adhoc",
                    status="cancelled",
                    cancelled_at=datetime(2026, 11, 2, 8, tzinfo=UTC),
                ),
                VehicleBlock(
                    vehicle_id=ecar,
                    start=local(date(2026, 11, 6), 0),
                    end=local(date(2026, 11, 7), 0),
                    reason="Inspektion",
                ),
            ]
        )
        session.flush()

    trips = {
        "T1": trip_log.confirm_tour(
            session, plan_id=published.id, tour_key=tours["T1"].key, km=25.5
        ),
        "T3": trip_log.confirm_tour(
            session, plan_id=published.id, tour_key=tours["T3"].key, km=8.4
        ),
        "T4": trip_log.confirm_tour(
            session, plan_id=published.id, tour_key=tours["T4"].key, km=42.0
        ),
        "walk": trip_log.log_adhoc(
            session,
            caseworker_id=caseworkers["cw02"].id,
            day=date(2026, 11, 10),
            mode="walk",
            km=1.6,
        ),
        "own_car": trip_log.log_adhoc(
            session,
            caseworker_id=caseworkers["cw02"].id,
            day=date(2026, 11, 12),
            mode="private_car",
            km=12.0,
        ),
        "pool_car": trip_log.log_adhoc(
            session,
            caseworker_id=caseworkers["cw01"].id,
            day=date(2026, 11, 20),
            mode="car",
            km=18.0,
            vehicle_id=vehicles["car-enn-1"].id,
        ),
        "october": trip_log.log_adhoc(
            session,
            caseworker_id=caseworkers["cw01"].id,
            day=date(2026, 10, 30),
            mode="private_car",
            km=50.0,
        ),
    }
    session.flush()

    steps: list[tuple[PaperlessKind, int | None, int, datetime]] = [
        # 00:30 local on 11-01 is still 10-31 in UTC: it belongs to November.
        ("plan_published", enn.id, 2, datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),
        ("plan_published", enn.id, 3, datetime(2026, 11, 1, 17, 0, tzinfo=UTC)),
        # Trips confirmed and logged above count themselves (``trip_confirmed``).
        ("booking_online", enn.id, 2, datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        ("visit_record", enn.id, 4, datetime(2026, 11, 3, 12, 0, tzinfo=UTC)),
        ("consent", evb.id, 1, datetime(2026, 11, 5, 12, 0, tzinfo=UTC)),
        ("consent", None, 1, datetime(2026, 11, 20, 12, 0, tzinfo=UTC)),
        # 00:30 local on 12-01: December.
        ("visit_record", enn.id, 5, datetime(2026, 11, 30, 23, 30, tzinfo=UTC)),
    ]
    with transaction(session):
        for kind, site_id, count, at in steps:
            record_paperless(session=session, kind=kind, site_id=site_id, count=count, at=at)

    return Month(
        sites={"enn": enn.id, "evb": evb.id},
        caseworkers={key: cw.id for key, cw in caseworkers.items()},
        vehicles={key: vehicle.id for key, vehicle in vehicles.items()},
        plan_id=published.id,
        trips={name: trip.id for name, trip in trips.items()},
        tours={name: made.id for name, made in tours.items()},
    )


@dataclass(frozen=True)
class Tokens:
    values: dict[str, str]

    def header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.values[role]}"}
