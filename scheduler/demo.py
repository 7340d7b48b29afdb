"""Synthetic demo scenarios: real geography, invented people.

``generate_scenario`` builds one planning week (Monday to Friday) for a family-support
programme: ANNA in Kreis Warendorf (offices in Ennigerloh and Everswinkel) or Akti(F)
in Landkreis Rottweil (Rottweil, Schramberg, Oberndorf am Neckar). Offices and
villages sit at their real coordinates; households, caseworkers ("Fachkraft 01"),
vehicles and appointments are invented and carry pseudonyms only ("H0001").

The same arguments always give the same scenario: every random choice comes from
``random.Random`` instances derived from ``seed``, never from global state.

The scenarios are plannable but not trivially so: most visits fit, while a few
households are out of reach by design (one is only available on Saturday, one lives
beyond e-bike range of a caseworker who has no driving licence), vehicles are shared
and sometimes blocked, and some caseworkers cap their visits per day.

``python -m scheduler.demo [DIRECTORY]`` rewrites the example files (default
``examples/``).
"""

from __future__ import annotations

import json
import math
import random
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from fleet.modes import MODE_LABELS_DE, TRAVEL_DEFAULTS, Mode, VehicleKind
from scheduler.format import (
    WEEKDAYS,
    Absence,
    Blocked,
    Caseworker,
    DateWindow,
    Horizon,
    Household,
    Location,
    Pin,
    Scenario,
    Site,
    Vehicle,
    Visit,
    Weekday,
    dump_document,
)
from scheduler.rules import region_holidays

#: The Monday of KW 49 2026, the week of the demo files.
DEFAULT_WEEK_START = date(2026, 11, 30)

ModeSet = Literal["mixed", "single"]

# ------------------------------------------------------------------------ geography


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Town:
    """An office location; ``villages`` are the places around it where families live."""

    id: str
    name: str
    lat: float
    lon: float
    villages: tuple[Place, ...] = ()


@dataclass(frozen=True, slots=True)
class Programme:
    key: str
    title: str
    district: str
    region: str
    #: The programme's own offices first, then further towns of the region used as
    #: extra sites for large generated scenarios.
    towns: tuple[Town, ...]
    home_towns: int
    #: Distance band (km) of the outlying farms and hamlets around an office.
    outlier_km: tuple[float, float]


WARENDORF = Programme(
    key="warendorf",
    title="ANNA",
    district="Kreis Warendorf",
    region="DE-NW",
    towns=(
        Town(
            "enn",
            "Ennigerloh",
            51.8367,
            8.0311,
            (
                Place("Enniger", 51.8308, 7.9489),
                Place("Ostenfelde", 51.8656, 8.0800),
                Place("Westkirchen", 51.8870, 8.0150),
            ),
        ),
        Town(
            "evw",
            "Everswinkel",
            51.9253,
            7.8476,
            (
                Place("Alverskirchen", 51.9128, 7.8097),
                Place("Müssingen", 51.9397, 7.8814),
                Place("Mehringen", 51.9203, 7.8869),
                Place("Schuter", 51.8864, 7.8408),
                Place("Wester", 51.9269, 7.8236),
            ),
        ),
        Town("waf", "Warendorf", 51.9539, 7.9933),
        Town("bec", "Beckum", 51.7558, 8.0411),
        Town("ahl", "Ahlen", 51.7633, 7.8911),
        Town("oel", "Oelde", 51.8275, 8.1472),
        Town("sen", "Sendenhorst", 51.8436, 7.8281),
        Town("tel", "Telgte", 51.9819, 7.7861),
        Town("sas", "Sassenberg", 51.9906, 8.0411),
        Town("dre", "Drensteinfurt", 51.7950, 7.7392),
        Town("obv", "Ostbevern", 52.0408, 7.8419),
        Town("wad", "Wadersloh", 51.7364, 8.2500),
        Town("bee", "Beelen", 51.9286, 8.1161),
        Town("gt", "Gütersloh", 51.9067, 8.3783),
        Town("lip", "Lippstadt", 51.6733, 8.3444),
        Town("ham", "Hamm", 51.6739, 7.8150),
        Town("ms", "Münster", 51.9607, 7.6261),
        Town("rhwd", "Rheda-Wiedenbrück", 51.8497, 8.3000),
        Town("hsw", "Harsewinkel", 51.9622, 8.2297),
        Town("hzc", "Herzebrock-Clarholz", 51.8833, 8.2333),
        Town("gre", "Greven", 52.0917, 7.6083),
        Town("wer", "Werne", 51.6639, 7.6342),
        Town("lh", "Lüdinghausen", 51.7681, 7.4439),
        Town("so", "Soest", 51.5711, 8.1058),
    ),
    home_towns=2,
    outlier_km=(8.5, 14.5),
)

ROTTWEIL = Programme(
    key="rottweil",
    title="Akti(F)",
    district="Landkreis Rottweil",
    region="DE-BW",
    towns=(
        Town(
            "rw",
            "Rottweil",
            48.1681,
            8.6290,
            (
                Place("Zimmern ob Rottweil", 48.1667, 8.5917),
                Place("Deißlingen", 48.1117, 8.6050),
                Place("Dietingen", 48.2069, 8.6461),
                Place("Villingendorf", 48.2000, 8.5833),
                Place("Wellendingen", 48.1464, 8.7042),
            ),
        ),
        Town(
            "sbg",
            "Schramberg",
            48.2263,
            8.3846,
            (
                Place("Sulgen", 48.2150, 8.4161),
                Place("Tennenbronn", 48.1911, 8.3586),
                Place("Lauterbach", 48.2308, 8.3472),
                Place("Aichhalden", 48.2561, 8.4114),
                Place("Hardt", 48.1792, 8.4150),
            ),
        ),
        Town(
            "obd",
            "Oberndorf am Neckar",
            48.2906,
            8.5756,
            (
                Place("Epfendorf", 48.2486, 8.6103),
                Place("Aistaig", 48.3061, 8.5878),
                Place("Bochingen", 48.2683, 8.5681),
                Place("Hochmössingen", 48.2842, 8.5350),
                Place("Fluorn-Winzeln", 48.2900, 8.4880),
            ),
        ),
        Town("sulz", "Sulz am Neckar", 48.3625, 8.6317),
        Town("dun", "Dunningen", 48.2111, 8.5017),
        Town("vs", "Villingen-Schwenningen", 48.0603, 8.4586),
        Town("tro", "Trossingen", 48.0756, 8.6342),
        Town("spa", "Spaichingen", 48.0756, 8.7361),
        Town("tut", "Tuttlingen", 47.9844, 8.8167),
        Town("bl", "Balingen", 48.2753, 8.8542),
        Town("horb", "Horb am Neckar", 48.4453, 8.6900),
        Town("fds", "Freudenstadt", 48.4633, 8.4111),
        Town("hch", "Hechingen", 48.3517, 8.9633),
        Town("stg", "St. Georgen im Schwarzwald", 48.1264, 8.3339),
        Town("sch", "Schiltach", 48.2892, 8.3439),
        Town("hor", "Hornberg", 48.2114, 8.2333),
        Town("rot", "Rottenburg am Neckar", 48.4772, 8.9344),
        Town("alb", "Albstadt", 48.2119, 9.0239),
        Town("hai", "Haigerloch", 48.3650, 8.8050),
        Town("nag", "Nagold", 48.5519, 8.7233),
        Town("dos", "Donaueschingen", 47.9531, 8.5033),
        Town("bdd", "Bad Dürrheim", 48.0197, 8.5331),
        Town("tri", "Triberg im Schwarzwald", 48.1297, 8.2333),
        Town("fuw", "Furtwangen im Schwarzwald", 48.0508, 8.2072),
    ),
    home_towns=3,
    outlier_km=(8.0, 12.0),
)

PROGRAMMES: dict[str, Programme] = {p.key: p for p in (WARENDORF, ROTTWEIL)}

_EARTH_RADIUS_KM = 6371.0088


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; close enough to the geodesic for generating data."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    dlat = km * math.cos(bearing) / 111.2
    dlon = km * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


# -------------------------------------------------------------- people and vehicles

_Segment = tuple[tuple[Weekday, ...], str, str]

#: Weekly working-time patterns (weight, segments): full-time and part-time.
_HOUR_PATTERNS: tuple[tuple[int, tuple[_Segment, ...]], ...] = (
    (3, ((("mon", "tue", "wed", "thu"), "08:00", "16:00"), (("fri",), "08:00", "13:00"))),
    (2, ((("mon", "tue", "wed", "thu"), "07:30", "16:00"), (("fri",), "07:30", "12:30"))),
    (2, ((("mon", "tue", "wed", "thu"), "08:30", "17:00"), (("fri",), "08:30", "13:30"))),
    (2, ((("mon", "tue", "thu", "fri"), "08:00", "15:30"),)),
    (2, ((("mon", "tue", "wed", "thu"), "07:30", "15:00"),)),
    (1, ((("tue", "wed", "thu", "fri"), "08:30", "16:30"),)),
    (1, ((("mon", "tue", "wed", "thu", "fri"), "08:00", "12:30"),)),
    (1, ((("tue", "wed", "thu"), "08:00", "16:00"),)),
)

#: Modes by caseworker index (cycled) in a "mixed" scenario: mostly e-bike + e-car +
#: walking; one without a driving licence (e-bike and walking only), some using their
#: private car, one using a conventional pool car.
_MODE_CYCLE: tuple[tuple[Mode, ...], ...] = (
    ("e_bike", "e_car", "walk"),
    ("e_bike", "e_car", "walk"),
    ("e_bike", "walk"),
    ("e_car", "e_bike", "walk"),
    ("e_bike", "private_car"),
    ("e_car", "e_bike"),
    ("e_bike", "e_car", "walk"),
    ("car", "e_bike", "walk"),
    ("e_bike", "e_car", "walk"),
    ("e_car", "private_car", "walk"),
)

#: Languages spoken besides German: Turkish, Arabic, Russian, Ukrainian.
_LANGUAGES: tuple[str, ...] = ("tr", "ar", "ru", "uk")

_VEHICLE_PREFIX: dict[str, str] = {"e_car": "ecar", "e_bike": "ebike", "car": "car"}

#: (reason, start, end) of blocked vehicle intervals, per vehicle kind.
_BLOCKINGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "e_car": (
        ("vom Jugendamt gebucht", "13:00", "17:00"),
        ("vom Jugendamt gebucht", "08:00", "12:30"),
        ("Inspektion in der Werkstatt", "07:00", "12:00"),
    ),
    "e_bike": (
        ("Wartung", "07:00", "18:00"),
        ("Reifenwechsel", "08:00", "12:00"),
    ),
    "car": (
        ("Hauptuntersuchung", "07:00", "13:00"),
        ("vom Jugendamt gebucht", "12:00", "18:00"),
    ),
}

# Household availability around school runs and lunch.
_MORNINGS: tuple[tuple[str, str], ...] = (
    ("08:30", "11:30"),
    ("08:30", "12:00"),
    ("09:00", "12:00"),
    ("09:30", "12:30"),
    ("08:00", "11:00"),
)
_AFTERNOONS: tuple[tuple[str, str], ...] = (
    ("14:00", "17:30"),
    ("13:30", "16:30"),
    ("14:30", "18:00"),
    ("13:00", "15:30"),
    ("15:00", "17:30"),
)
_MIDDAYS: tuple[tuple[str, str], ...] = (("10:00", "14:00"), ("11:00", "15:00"))

_DURATIONS: tuple[int, ...] = (45, 60, 90, 120)
_DURATION_WEIGHTS: tuple[int, ...] = (2, 5, 3, 1)
#: Durations a generator with a target ``load`` draws from (shorter check-ins too),
#: with base weights that are tilted towards shorter or longer visits to meet it.
_LOAD_DURATIONS: tuple[int, ...] = (30, 45, 60, 90, 120)
_LOAD_WEIGHTS: tuple[int, ...] = (1, 2, 5, 3, 1)
#: Visits per ordinary household on average (second visits less the households planned alone).
_VISITS_PER_HOUSEHOLD = 1.16

#: Minutes a caseworker needs at the office before leaving and after returning, on top
#: of the travel time, when the generator checks that a visit fits (a safety margin).
_MARGIN = 10


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute: int) -> time:
    return time(minute // 60, minute % 60)


Interval = tuple[int, int]


@dataclass(slots=True)
class _Worker:
    index: int
    id: str
    town: Town
    hours: dict[Weekday, Interval]
    modes: tuple[Mode, ...]
    skills: list[str]
    cap: int | None
    #: (start, end, reason): whole dates or local datetimes, as in the format.
    absences: list[tuple[date, date, str]] = field(default_factory=list)
    #: Working time per date left after absences (minutes since midnight).
    free: dict[date, list[Interval]] = field(default_factory=dict)
    load: float = 0.0

    @property
    def capacity(self) -> float:
        return float(sum(end - start for start, end in self.hours.values()))

    def travel_minutes(self, km: float) -> int | None:
        """Minutes of the fastest of this caseworker's modes that reaches ``km`` (geodesic)."""
        best: int | None = None
        for mode in self.modes:
            minutes = _leg_minutes(mode, km)
            if minutes is not None and (best is None or minutes < best):
                best = minutes
        return best


@dataclass(slots=True)
class _Car:
    id: str
    name: str
    kind: VehicleKind
    town: Town
    range_km: float
    blocked: list[tuple[datetime, datetime, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Visit:
    id: str
    duration: int
    priority: int
    earliest: date | None = None
    latest: date | None = None
    pin: tuple[str, datetime] | None = None


@dataclass(slots=True)
class _Home:
    id: str
    lat: float
    lon: float
    town: Town
    availability: dict[Weekday, list[Interval]] | None
    primary: _Worker | None
    allowed: list[_Worker]
    skills: list[str]
    special: bool
    visits: list[_Visit] = field(default_factory=list)


def _leg_minutes(mode: Mode, geodesic_km: float) -> int | None:
    """Travel minutes of one leg by the documented defaults; None if out of the mode's reach.

    A 3 % margin below ``max_leg_km`` keeps the generator's great-circle estimate on the
    safe side of the planner's WGS-84 geodesic.
    """
    defaults = TRAVEL_DEFAULTS[mode]
    km = geodesic_km * defaults.detour_factor
    if defaults.max_leg_km is not None and km > defaults.max_leg_km * 0.97:
        return None
    return math.ceil(km / defaults.speed_kmh * 60.0)


def _subtract(windows: list[Interval], cut: Interval) -> list[Interval]:
    result: list[Interval] = []
    for start, end in windows:
        if cut[1] <= start or cut[0] >= end:
            result.append((start, end))
            continue
        if cut[0] > start:
            result.append((start, cut[0]))
        if cut[1] < end:
            result.append((cut[1], end))
    return result


def _start_ranges(
    household: list[Interval], free: list[Interval], travel: int, duration: int
) -> list[Interval]:
    """Ranges of visit starts that fit inside one household interval and a free window."""
    ranges: list[Interval] = []
    for h_start, h_end in household:
        for f_start, f_end in free:
            lo = max(h_start, f_start + travel + _MARGIN)
            hi = min(h_end, f_end - travel - _MARGIN) - duration
            if hi >= lo:
                ranges.append((lo, hi))
    return ranges


# ------------------------------------------------------------------------ generator


class _Generator:
    def __init__(
        self,
        *,
        programme: Programme,
        households: int,
        seed: int,
        monday: date,
        towns: tuple[Town, ...],
        caseworkers: int,
        modes: ModeSet,
        load: float | None = None,
        fleet: float = 1.0,
    ) -> None:
        self.programme = programme
        self.load = load
        self.fleet = fleet
        self.durations: tuple[int, ...] = _DURATIONS
        self.duration_weights: tuple[float, ...] = tuple(map(float, _DURATION_WEIGHTS))
        self.n_households = households
        self.seed = seed
        self.monday = monday
        self.days = [monday + timedelta(days=i) for i in range(5)]
        holidays = region_holidays(programme.region, range(monday.year, self.days[-1].year + 1))
        self.workdays = [day for day in self.days if day not in holidays]
        self.towns = towns
        self.n_workers = caseworkers
        self.modes: ModeSet = modes
        self.workers: list[_Worker] = []
        self.cars: list[_Car] = []
        self.homes: list[_Home] = []

    def rng(self, part: str) -> random.Random:
        """An independent stream per part, so changing one part leaves the others alone."""
        return random.Random(f"fieldwork-demo/{self.programme.key}/{self.seed}/{part}")

    def day_of(self, weekday: Weekday) -> date:
        return self.days[WEEKDAYS.index(weekday)]

    # ---------------------------------------------------------------- caseworkers

    def make_workers(self) -> None:
        rng = self.rng("caseworkers")
        width = max(2, len(str(self.n_workers)))
        weights = [weight for weight, _ in _HOUR_PATTERNS]
        # Speakers' languages in a shuffled cycle, so a small team covers several.
        languages = list(_LANGUAGES)
        rng.shuffle(languages)
        speakers = 0
        for index in range(self.n_workers):
            _, segments = rng.choices(_HOUR_PATTERNS, weights=weights)[0]
            hours: dict[Weekday, Interval] = {}
            for days, start, end in segments:
                for weekday in days:
                    hours[weekday] = (_minutes(start), _minutes(end))
            hours = {wd: hours[wd] for wd in WEEKDAYS if wd in hours}
            if self.modes == "single":
                modes: tuple[Mode, ...] = ("e_car",)
            else:
                modes = _MODE_CYCLE[index % len(_MODE_CYCLE)]
            skills: list[str] = []
            if index in (1, 2) or index % 5 == 1 or rng.random() < 0.05:
                skills.append(languages[speakers % len(languages)])
                speakers += 1
                if rng.random() < 0.1:
                    other = rng.choice([lang for lang in _LANGUAGES if lang not in skills])
                    skills.append(other)
            cap = rng.randint(3, 5) if index % 3 == 1 else None
            self.workers.append(
                _Worker(
                    index=index,
                    id=f"cw{index + 1:0{width}d}",
                    town=self.towns[index % len(self.towns)],
                    hours=hours,
                    modes=modes,
                    skills=sorted(skills, key=_LANGUAGES.index),
                    cap=cap,
                )
            )
        self.make_absences(self.rng("absences"))
        for worker in self.workers:
            for day in self.days:
                weekday = WEEKDAYS[day.weekday()]
                if day not in self.workdays or weekday not in worker.hours:
                    worker.free[day] = []
                    continue
                windows = [worker.hours[weekday]]
                for first, last, _ in worker.absences:
                    if isinstance(first, datetime) and isinstance(last, datetime):
                        if first.date() == day:
                            windows = _subtract(
                                windows,
                                (first.hour * 60 + first.minute, last.hour * 60 + last.minute),
                            )
                    elif first <= day <= last:
                        windows = []
                worker.free[day] = windows

    def make_absences(self, rng: random.Random) -> None:
        if self.n_workers < 2 or not self.workdays:
            return
        count = max(1, round(self.n_workers * 0.4))
        for number, worker in enumerate(rng.sample(self.workers, count)):
            workdays = [d for d in self.workdays if WEEKDAYS[d.weekday()] in worker.hours]
            if not workdays:
                continue
            day = rng.choice(workdays)
            kind = ("day", "half")[number] if number < 2 else None
            if kind is None:
                kind = rng.choices(("day", "half", "leave"), weights=(40, 45, 15))[0]
            if kind == "day":
                reason = rng.choice(("Fortbildung", "Fachtag im Kreishaus", "Überstundenausgleich"))
                worker.absences.append((day, day, reason))
            elif kind == "leave":
                last = min(day + timedelta(days=rng.randint(1, 2)), self.days[-1])
                worker.absences.append((day, last, "Urlaub"))
            else:
                start, end = worker.hours[WEEKDAYS[day.weekday()]]
                if end - start < 6 * 60 or rng.random() < 0.5:
                    cut = (start, min(end, start + 3 * 60 + 30))
                    reason = rng.choice(("Teamsitzung", "Supervision"))
                else:
                    cut = (max(start, 12 * 60), end)
                    reason = rng.choice(("Arzttermin", "Hilfeplangespräch im Jugendamt"))
                worker.absences.append(
                    (
                        datetime.combine(day, _clock(cut[0])),
                        datetime.combine(day, _clock(cut[1])),
                        reason,
                    )
                )

    # ------------------------------------------------------------------- vehicles

    def make_vehicles(self) -> None:
        rng = self.rng("vehicles")
        for town in self.towns:
            staff = [w for w in self.workers if w.town == town]
            if not staff:
                continue
            counts: dict[VehicleKind, int] = {}
            if self.modes == "single":
                counts["e_car"] = len(staff)
            else:
                users = {
                    kind: sum(1 for w in staff if kind in w.modes)
                    for kind in ("e_car", "e_bike", "car")
                }
                if users["e_car"]:
                    counts["e_car"] = max(1, math.ceil(self.fleet * len(staff) / 4))
                if users["e_bike"]:
                    counts["e_bike"] = min(
                        users["e_bike"], max(2, math.ceil(self.fleet * len(staff) / 3))
                    )
                if users["car"]:
                    counts["car"] = min(users["car"], math.ceil(self.fleet * users["car"] / 2))
            for kind, count in counts.items():
                for number in range(1, count + 1):
                    if kind == "e_car":
                        range_km = 250 if self.modes == "single" else rng.randrange(180, 251, 10)
                    elif kind == "e_bike":
                        range_km = rng.randrange(50, 81, 5)
                    else:
                        range_km = 600
                    self.cars.append(
                        _Car(
                            id=f"{_VEHICLE_PREFIX[kind]}-{town.id}-{number}",
                            name=f"{MODE_LABELS_DE[kind]} {town.name} {number}",
                            kind=kind,
                            town=town,
                            range_km=float(range_km),
                        )
                    )
        if self.modes == "single" or not self.cars or not self.workdays:
            return
        for car in rng.sample(self.cars, max(1, round(len(self.cars) / 4))):
            reason, start, end = rng.choice(_BLOCKINGS[car.kind])
            day = rng.choice(self.workdays)
            car.blocked.append(
                (
                    datetime.combine(day, _clock(_minutes(start))),
                    datetime.combine(day, _clock(_minutes(end))),
                    reason,
                )
            )

    # ----------------------------------------------------------------- households

    def staffed_towns(self) -> list[Town]:
        staffed = {w.town.id for w in self.workers}
        return [t for t in self.towns if t.id in staffed]

    def nearest_town(self, lat: float, lon: float) -> Town:
        return min(self.staffed_towns(), key=lambda t: _km(lat, lon, t.lat, t.lon))

    def place(self, rng: random.Random, town: Town) -> tuple[float, float]:
        """A household location around an office: in town, in a village, or outlying."""
        roll = rng.random()
        bearing = rng.uniform(0.0, 2.0 * math.pi)
        if roll < 0.10:
            low, high = self.programme.outlier_km
            return _offset(town.lat, town.lon, rng.uniform(low, high), bearing)
        if town.villages and roll < 0.55:
            village = rng.choice(town.villages)
            distance = 0.1 + 1.1 * math.sqrt(rng.random())
            return _offset(village.lat, village.lon, distance, bearing)
        if not town.villages and roll < 0.40:
            return _offset(town.lat, town.lon, rng.uniform(3.0, 8.0), bearing)
        distance = 0.2 + 2.6 * math.sqrt(rng.random())
        return _offset(town.lat, town.lon, distance, bearing)

    def far_place(self, rng: random.Random, worker: _Worker) -> tuple[float, float] | None:
        """A farm beyond e-bike range of ``worker``'s office, still nearest to that office."""
        town = worker.town
        others = [t for t in self.staffed_towns() if t != town]
        distance = rng.uniform(11.5, 14.0)
        start = rng.uniform(0.0, 2.0 * math.pi)
        best: tuple[float, tuple[float, float]] | None = None
        for step in range(16):
            lat, lon = _offset(town.lat, town.lon, distance, start + step * math.pi / 8)
            own = _km(lat, lon, town.lat, town.lon)
            nearest_other = min((_km(lat, lon, t.lat, t.lon) for t in others), default=1e9)
            if nearest_other <= own + 1.0:
                continue
            if best is None or nearest_other > best[0]:
                best = (nearest_other, (lat, lon))
        return None if best is None else best[1]

    def allocate_towns(self, rng: random.Random) -> list[Town]:
        """Offices of the households, in proportion to the caseworkers there (shuffled)."""
        staffed = self.staffed_towns()
        staff = {t.id: sum(1 for w in self.workers if w.town == t) for t in staffed}
        total = sum(staff.values())
        exact = {t.id: self.n_households * staff[t.id] / total for t in staffed}
        counts = {tid: math.floor(x) for tid, x in exact.items()}
        rest = self.n_households - sum(counts.values())
        for tid in sorted(exact, key=lambda tid: exact[tid] - counts[tid], reverse=True)[:rest]:
            counts[tid] += 1
        towns = [t for t in staffed for _ in range(counts[t.id])]
        rng.shuffle(towns)
        return towns

    def tilt_durations(self) -> None:
        """Visit durations whose mean fills ``load`` of the caseworkers' working time.

        The base mix is tilted exponentially (weights x e^(t x minutes)) until its mean
        is the working time after absences x ``load`` over the expected visits; the
        bounds of the mix (30 and 120 minutes) bound the mean.
        """
        if self.load is None:
            return
        working = sum(
            end - start
            for worker in self.workers
            for spans in worker.free.values()
            for start, end in spans
        )
        wanted = self.load * working / max(1.0, self.n_households * _VISITS_PER_HOUSEHOLD)

        def tilted(t: float) -> tuple[float, ...]:
            return tuple(
                w * math.exp(t * (d - 60) / 60)
                for w, d in zip(_LOAD_WEIGHTS, _LOAD_DURATIONS, strict=True)
            )

        def mean(weights: tuple[float, ...]) -> float:
            return sum(w * d for w, d in zip(weights, _LOAD_DURATIONS, strict=True)) / sum(weights)

        low, high = -20.0, 20.0
        for _ in range(60):
            middle = (low + high) / 2
            if mean(tilted(middle)) < wanted:
                low = middle
            else:
                high = middle
        self.durations = _LOAD_DURATIONS
        self.duration_weights = tilted((low + high) / 2)

    def make_households(self) -> None:
        rng = self.rng("households")
        self.tilt_durations()
        towns = self.allocate_towns(rng)
        width = max(4, len(str(self.n_households)))
        indices = list(range(self.n_households))

        # Households that cannot be planned, by design: available only outside working
        # hours, or out of e-bike reach of a caseworker who cannot drive.
        n_special = max(1, self.n_households // 100) if self.n_households >= 10 else 0
        specials = rng.sample(indices, min(len(indices), 2 * n_special))
        off_hours = set(specials[:n_special])
        far = specials[n_special:]
        cyclists = [w for w in self.workers if set(w.modes) <= {"e_bike", "walk"}]
        rng.shuffle(cyclists)
        far_workers: dict[int, _Worker] = {}
        if cyclists:
            far_workers = {index: cyclists[k % len(cyclists)] for k, index in enumerate(far)}

        # Households that need a language, among those whose office has a speaker.
        speakers = {
            t.id: sorted({s for w in self.workers if w.town == t for s in w.skills})
            for t in self.towns
        }
        eligible = [i for i in indices if i not in specials and speakers.get(towns[i].id)]
        n_language = max(1, round(0.08 * self.n_households))
        language_homes = set(rng.sample(eligible, min(n_language, len(eligible))))

        for index in indices:
            hid = f"H{index + 1:0{width}d}"
            if index in far_workers:
                worker = far_workers[index]
                spot = self.far_place(rng, worker)
                if spot is not None:
                    self.add_far_home(rng, hid, worker, spot)
                    continue
            lat, lon = self.place(rng, towns[index])
            town = self.nearest_town(lat, lon)
            skills: list[str] = []
            if index in language_homes and speakers.get(town.id):
                skills = [rng.choice(speakers[town.id])]
            self.add_home(rng, hid, lat, lon, town, skills, off_hours=index in off_hours)

    def pick_primary(
        self, rng: random.Random, town: Town, km_to: dict[str, float], skills: list[str]
    ) -> _Worker | None:
        def able(worker: _Worker) -> bool:
            return set(skills) <= set(worker.skills) and (
                worker.travel_minutes(km_to[worker.town.id]) is not None
            )

        candidates = [w for w in self.workers if w.town == town and able(w)]
        if not candidates:
            by_distance = sorted(self.staffed_towns(), key=lambda t: km_to[t.id])
            for other in by_distance:
                candidates = [w for w in self.workers if w.town == other and able(w)]
                if candidates:
                    break
        if not candidates:
            return None
        return min(candidates, key=lambda w: (w.load / w.capacity, rng.random()))

    def fit_days(self, home: _Home, worker: _Worker, duration: int) -> list[date]:
        km = _km(home.lat, home.lon, worker.town.lat, worker.town.lon)
        travel = worker.travel_minutes(km)
        if travel is None:
            return []
        days: list[date] = []
        for day in self.workdays:
            weekday = WEEKDAYS[day.weekday()]
            if home.availability is None:
                intervals: list[Interval] = [(0, 24 * 60)]
            else:
                intervals = home.availability.get(weekday, [])
            if _start_ranges(intervals, worker.free[day], travel, duration):
                days.append(day)
        return days

    def availability(
        self, rng: random.Random, worker: _Worker | None
    ) -> dict[Weekday, list[Interval]] | None:
        if rng.random() < 0.15:
            return None
        weekdays: list[Weekday] = list(WEEKDAYS[:5])
        count = rng.choice((2, 2, 3, 3, 4))
        pool = weekdays
        if worker is not None:
            working = [wd for wd in weekdays if worker.free[self.day_of(wd)]]
            if len(working) >= count:
                pool = working
        chosen = rng.sample(pool, count)
        if rng.random() < 0.25:
            others = [wd for wd in weekdays if wd not in chosen]
            if others:
                chosen[rng.randrange(len(chosen))] = rng.choice(others)
        result: dict[Weekday, list[Interval]] = {}
        for weekday in sorted(chosen, key=WEEKDAYS.index):
            roll = rng.random()
            if roll < 0.25:
                spans = [rng.choice(_MORNINGS), rng.choice(_AFTERNOONS)]
            elif roll < 0.65:
                spans = [rng.choice(_MORNINGS)]
            elif roll < 0.9:
                spans = [rng.choice(_AFTERNOONS)]
            else:
                spans = [rng.choice(_MIDDAYS)]
            result[weekday] = [(_minutes(a), _minutes(b)) for a, b in spans]
        return result

    def add_far_home(
        self, rng: random.Random, hid: str, worker: _Worker, spot: tuple[float, float]
    ) -> None:
        days = [wd for wd in WEEKDAYS[:5] if worker.free[self.day_of(wd)]] or list(WEEKDAYS[:2])
        availability: dict[Weekday, list[Interval]] = {
            wd: [(_minutes("09:00"), _minutes("12:00"))]
            for wd in sorted(rng.sample(days, min(2, len(days))), key=WEEKDAYS.index)
        }
        home = _Home(hid, spot[0], spot[1], worker.town, availability, worker, [], [], special=True)
        home.visits.append(_Visit(f"{hid}/1", rng.choice((60, 90)), 1))
        self.homes.append(home)

    def add_home(
        self,
        rng: random.Random,
        hid: str,
        lat: float,
        lon: float,
        town: Town,
        skills: list[str],
        *,
        off_hours: bool,
    ) -> None:
        km_to = {t.id: _km(lat, lon, t.lat, t.lon) for t in self.staffed_towns()}
        no_primary = not skills and not off_hours and rng.random() < 0.05
        primary = None if no_primary else self.pick_primary(rng, town, km_to, skills)
        allowed: list[_Worker] = []
        if primary is not None:
            colleagues = [
                w
                for w in self.workers
                if w.town == primary.town
                and w is not primary
                and set(skills) <= set(w.skills)
                and w.travel_minutes(km_to[w.town.id]) is not None
            ]
            wanted = min(len(colleagues), rng.choice((0, 1, 1, 2)))
            allowed = sorted(rng.sample(colleagues, wanted), key=lambda w: w.index)

        if off_hours:
            if rng.random() < 0.5 or self.n_households < 60:
                availability: dict[Weekday, list[Interval]] | None = {
                    "sat": [(_minutes("10:00"), _minutes("13:00"))]
                }
            else:
                availability = {"fri": [(_minutes("17:30"), _minutes("19:30"))]}
            home = _Home(hid, lat, lon, town, availability, primary, allowed, skills, special=True)
            home.visits.append(_Visit(f"{hid}/1", 60, 1))
            self.homes.append(home)
            return

        # Whose week the availability is checked against: the primary caseworker, or
        # for a household anyone may visit, the least busy caseworker of its office.
        checker = primary
        if checker is None:
            local = [w for w in self.workers if w.town == town] or self.workers
            checker = min(local, key=lambda w: (w.load / w.capacity, w.index))
        availability = self.availability(rng, checker)
        home = _Home(hid, lat, lon, town, availability, primary, allowed, skills, special=False)

        wanted_duration = rng.choices(self.durations, weights=self.duration_weights)[0]
        duration, days = self.fitting_duration(home, checker, wanted_duration)
        if not days and home.availability is not None:
            # Repair: a free morning on one of the caseworker's days (a new day if possible).
            working = [wd for wd in WEEKDAYS[:5] if checker.free[self.day_of(wd)]]
            new_days = [wd for wd in working if wd not in home.availability]
            if working:
                weekday = rng.choice(new_days or working)
                home.availability[weekday] = [(_minutes("08:30"), _minutes("12:00"))]
                home.availability = {
                    wd: home.availability[wd] for wd in WEEKDAYS if wd in home.availability
                }
                duration, days = self.fitting_duration(home, checker, wanted_duration)

        priority = rng.choices((1, 2, 3), weights=(75, 17, 8))[0]
        first = _Visit(f"{hid}/1", duration, priority)
        home.visits.append(first)
        travel = 2 * (checker.travel_minutes(km_to[checker.town.id]) or 30)
        checker.load += duration + travel

        # A second visit on another date: visit 1 on its first fitting day, visit 2 later.
        later = [d for d in self.fit_days(home, checker, 60) if days and d > days[0]]
        if later and rng.random() < 0.2:
            second = _Visit(f"{hid}/2", rng.choice((45, 60)), rng.choices((1, 2), (80, 20))[0])
            if rng.random() < 0.5:
                second.earliest = later[0]
            home.visits.append(second)
            checker.load += second.duration + travel
        elif days and rng.random() < 0.15:
            day = rng.choice(days)
            earliest = max(self.days[0], day - timedelta(days=rng.choice((0, 1, 2))))
            latest = min(self.days[-1], day + timedelta(days=rng.choice((0, 1, 2))))
            first.earliest = earliest if earliest > self.days[0] else None
            first.latest = latest if latest < self.days[-1] else None
        self.homes.append(home)

    def fitting_duration(self, home: _Home, worker: _Worker, wanted: int) -> tuple[int, list[date]]:
        """``wanted`` if it fits some day, else the longest shorter duration that does."""
        for duration in sorted((d for d in self.durations if d <= wanted), reverse=True):
            days = self.fit_days(home, worker, duration)
            if days:
                return duration, days
        return wanted, []

    # ----------------------------------------------------------------------- pins

    def make_pins(self) -> None:
        """Fixed appointments (court-ordered, school meetings) at plausible times."""
        if self.n_households < 10:
            return
        rng = self.rng("pins")
        wanted = max(1, round(self.n_households / 20))
        candidates = [
            h
            for h in self.homes
            if not h.special
            and h.primary is not None
            and len(h.visits) == 1
            and h.visits[0].earliest is None
            and h.visits[0].latest is None
        ]
        rng.shuffle(candidates)
        taken: set[tuple[str, date]] = set()
        made = 0
        for home in candidates:
            if made >= wanted:
                break
            worker = home.primary
            assert worker is not None
            visit = home.visits[0]
            km = _km(home.lat, home.lon, worker.town.lat, worker.town.lon)
            travel = worker.travel_minutes(km)
            if travel is None:
                continue
            options: list[tuple[date, int]] = []
            for day in self.workdays:
                if (worker.id, day) in taken:
                    continue
                weekday = WEEKDAYS[day.weekday()]
                if home.availability is None:
                    intervals: list[Interval] = [(0, 24 * 60)]
                else:
                    intervals = home.availability.get(weekday, [])
                for lo, hi in _start_ranges(intervals, worker.free[day], travel, visit.duration):
                    first = -(-lo // 30) * 30
                    for start in range(first, hi + 1, 30):
                        if self.vehicle_free(worker, km, day, start, visit.duration, travel):
                            options.append((day, start))
            if not options:
                continue
            day, start = rng.choice(options)
            visit.pin = (worker.id, datetime.combine(day, _clock(start)))
            taken.add((worker.id, day))
            made += 1

    def vehicle_free(
        self, worker: _Worker, km: float, day: date, start: int, duration: int, travel: int
    ) -> bool:
        """Whether some mode of ``worker`` reaching ``km`` is available for the whole tour."""
        tour = (
            datetime.combine(day, time()) + timedelta(minutes=start - travel - _MARGIN),
            datetime.combine(day, time()) + timedelta(minutes=start + duration + travel + _MARGIN),
        )
        for mode in worker.modes:
            if _leg_minutes(mode, km) is None:
                continue
            if mode in ("walk", "private_car"):
                return True
            for car in self.cars:
                if car.kind != mode or car.town != worker.town:
                    continue
                if all(end <= tour[0] or start_ >= tour[1] for start_, end, _ in car.blocked):
                    return True
        return False

    # --------------------------------------------------------------------- output

    def name(self) -> str:
        home = self.programme.towns[: self.programme.home_towns]
        if self.programme.key == "warendorf" and all(t in home for t in self.towns):
            area = "/".join(t.name for t in self.towns)
        else:
            area = self.programme.district
        year, week, _ = self.monday.isocalendar()
        return f"{self.programme.title} {area}, KW {week} {year}"

    def scenario(self) -> Scenario:
        return Scenario(
            format="fieldwork-scenario/1",
            name=self.name(),
            timezone="Europe/Berlin",
            region=self.programme.region,
            horizon=Horizon(start=self.days[0], end=self.days[-1]),
            sites=[
                Site(id=t.id, name=f"Büro {t.name}", location=Location(lat=t.lat, lon=t.lon))
                for t in self.towns
            ],
            caseworkers=[
                Caseworker(
                    id=w.id,
                    name=f"Fachkraft {w.id[2:]}",
                    site=w.town.id,
                    working_hours={
                        wd: (_clock(start), _clock(end)) for wd, (start, end) in w.hours.items()
                    },
                    absences=[Absence(start=s, end=e, reason=r) for s, e, r in w.absences],
                    modes=list(w.modes),
                    skills=list(w.skills),
                    max_visits_per_day=w.cap,
                )
                for w in self.workers
            ],
            vehicles=[
                Vehicle(
                    id=c.id,
                    name=c.name,
                    kind=c.kind,
                    site=c.town.id,
                    range_km=c.range_km,
                    blocked=[Blocked(start=s, end=e, reason=r) for s, e, r in c.blocked],
                )
                for c in self.cars
            ],
            households=[
                Household(
                    id=h.id,
                    location=Location(lat=h.lat, lon=h.lon),
                    availability=None
                    if h.availability is None
                    else {
                        wd: [(_clock(a), _clock(b)) for a, b in spans]
                        for wd, spans in h.availability.items()
                    },
                    primary_caseworker=None if h.primary is None else h.primary.id,
                    allowed_caseworkers=[w.id for w in h.allowed],
                    required_skills=list(h.skills),
                )
                for h in self.homes
            ],
            visits=[
                Visit(
                    id=v.id,
                    household=h.id,
                    duration_minutes=v.duration,
                    priority=v.priority,
                    window=None
                    if v.earliest is None and v.latest is None
                    else DateWindow(earliest=v.earliest, latest=v.latest),
                    pinned=None if v.pin is None else Pin(caseworker=v.pin[0], start=v.pin[1]),
                )
                for h in self.homes
                for v in h.visits
            ],
            baseline_mode="private_car",
        )


# --------------------------------------------------------------------------- public


def generate_scenario(
    *,
    households: int = 30,
    seed: int = 1,
    programme: str = "warendorf",
    week_start: date | None = None,
    sites: int | None = None,
    caseworkers: int | None = None,
    modes: str = "mixed",
    load: float | None = None,
    fleet: float = 1.0,
) -> Scenario:
    """A synthetic planning week (Monday to Friday of ``week_start``'s week).

    ``programme`` is ``"warendorf"`` (ANNA, Ennigerloh and Everswinkel) or ``"rottweil"``
    (Akti(F), Rottweil, Schramberg, Oberndorf). ``sites`` defaults to the programme's
    own offices; more sites add further towns of the region (up to 24 in all).
    ``caseworkers`` defaults to one per six households. ``modes="single"`` gives every
    caseworker the e-car only and one e-car each (nothing blocked), for comparisons with
    single-mode routing engines; everything else stays as in ``"mixed"``.
    ``load`` (a share of the caseworkers' working time, e.g. 0.55) chooses visit
    durations whose sum fills about that share (30 to 120 minutes; without it the
    usual mix of 45 to 120 minutes, whatever share that fills): a large week with few
    caseworkers per household that is still plannable as a whole. ``fleet`` scales
    each office's pool (default: an e-car per four caseworkers, an e-bike per three,
    a pool car per two of its drivers; 2.0 doubles it, never beyond one per user).
    """
    if programme not in PROGRAMMES:
        raise ValueError(f"unknown programme {programme!r}; expected one of {sorted(PROGRAMMES)}")
    if modes not in ("mixed", "single"):
        raise ValueError(f"modes must be 'mixed' or 'single', got {modes!r}")
    if households < 1:
        raise ValueError("households must be at least 1")
    if load is not None and not 0 < load <= 1:
        raise ValueError(f"load must be a share of working time in (0, 1], got {load!r}")
    if not 0 < fleet <= 10:
        raise ValueError(f"fleet must be a factor in (0, 10], got {fleet!r}")
    spec = PROGRAMMES[programme]
    n_sites = spec.home_towns if sites is None else sites
    if not 1 <= n_sites <= len(spec.towns):
        raise ValueError(f"sites must be between 1 and {len(spec.towns)} for {programme!r}")
    n_workers = max(1, round(households / 6)) if caseworkers is None else caseworkers
    if n_workers < 1:
        raise ValueError("caseworkers must be at least 1")
    start = week_start or DEFAULT_WEEK_START
    monday = start - timedelta(days=start.weekday())
    generator = _Generator(
        programme=spec,
        households=households,
        seed=seed,
        monday=monday,
        towns=spec.towns[:n_sites],
        caseworkers=n_workers,
        modes="single" if modes == "single" else "mixed",
        load=load,
        fleet=fleet,
    )
    generator.make_workers()
    generator.make_vehicles()
    generator.make_households()
    generator.make_pins()
    return generator.scenario()


#: The example files under ``examples/``: file name -> (households, seed, programme).
EXAMPLES: dict[str, tuple[int, int, str]] = {
    "ennigerloh-everswinkel.scenario.json": (30, 49, "warendorf"),
    "rottweil.scenario.json": (24, 7, "rottweil"),
}


def example_scenarios() -> dict[str, Scenario]:
    """The scenarios of the example files, by file name."""
    return {
        filename: generate_scenario(households=households, seed=seed, programme=programme)
        for filename, (households, seed, programme) in EXAMPLES.items()
    }


def scenario_json(scenario: Scenario) -> str:
    """The text of a scenario file as the examples are written."""
    return json.dumps(dump_document(scenario), indent=1, ensure_ascii=False) + "\n"


def write_examples(directory: Path) -> None:
    """(Re)write the example scenario files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for filename, scenario in example_scenarios().items():
        (directory / filename).write_text(scenario_json(scenario), encoding="utf-8")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "examples"
    write_examples(target)
