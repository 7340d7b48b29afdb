"""The coordinator's week, read from a plan: timeline rows, maps per day, KPIs.

A plan row holds the scenario it planned and the plan document it produced (the
planning format), so the page draws the week exactly as it was planned, locations and
all, even after households changed since. Times show in the scenario's timezone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from api.web import charts, geodata
from api.web.i18n import MODE_NAMES, Language, clock, day, translator


@dataclass(frozen=True, slots=True)
class AppointmentLine:
    visit: str
    household: str
    caseworker: str
    date: date
    start: datetime
    end: datetime
    tour: str
    mode: str
    vehicle: str | None


@dataclass
class WeekView:
    days: list[date]
    caseworkers: list[tuple[str, str]]  # (key, label)
    appointments: list[AppointmentLine]
    unassigned: list[dict[str, Any]]
    kpis: dict[str, Any]
    tours: list[dict[str, Any]]
    zone: ZoneInfo
    scenario: dict[str, Any]
    replanning: dict[str, Any] | None = None
    tours_by_day: dict[date, list[dict[str, Any]]] = field(default_factory=dict)


def _aware(text: str) -> datetime:
    return datetime.fromisoformat(text)


def week_view(scenario: dict[str, Any], result: dict[str, Any]) -> WeekView:
    zone = ZoneInfo(scenario["timezone"])
    horizon = scenario["horizon"]
    days = charts.week_days(
        date.fromisoformat(horizon["start"]), date.fromisoformat(horizon["end"])
    )
    tours = {tour["id"]: tour for tour in result.get("tours", [])}
    appointments = [
        AppointmentLine(
            visit=entry["visit"],
            household=entry["household"],
            caseworker=entry["caseworker"],
            date=_aware(entry["start"]).astimezone(zone).date(),
            start=_aware(entry["start"]).astimezone(zone),
            end=_aware(entry["end"]).astimezone(zone),
            tour=entry["tour"],
            mode=tours[entry["tour"]]["mode"] if entry["tour"] in tours else "",
            vehicle=tours[entry["tour"]].get("vehicle") if entry["tour"] in tours else None,
        )
        for entry in result.get("appointments", [])
    ]
    appointments.sort(key=lambda line: (line.start, line.caseworker))
    # Days off at the weekend stay off the timeline unless something happens on them.
    used = {line.date for line in appointments}
    days = [d for d in days if d.weekday() < 5 or d in used]
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for tour in result.get("tours", []):
        by_day[date.fromisoformat(tour["date"])].append(tour)
    return WeekView(
        days=days,
        caseworkers=[
            (entry["id"], entry.get("name") or entry["id"]) for entry in scenario["caseworkers"]
        ],
        appointments=appointments,
        unassigned=list(result.get("unassigned", [])),
        kpis=dict(result.get("kpis", {})),
        tours=list(result.get("tours", [])),
        zone=zone,
        scenario=scenario,
        replanning=result.get("replanning"),
        tours_by_day=dict(by_day),
    )


def _minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def timeline(view: WeekView, language: Language, only: str | None = None) -> Markup:
    """The week per caseworker: tours from departure to return, visits inside them."""
    _ = translator(language)
    rows = {key: charts.Row(label=label) for key, label in view.caseworkers if only in (None, key)}
    index = {d: i for i, d in enumerate(view.days)}
    first, last = 8 * 60.0, 17 * 60.0
    for tour in view.tours:
        row = rows.get(tour["caseworker"])
        depart = _aware(tour["depart"]).astimezone(view.zone)
        back = _aware(tour["return"]).astimezone(view.zone)
        if row is None or depart.date() not in index:
            continue
        first, last = min(first, _minutes(depart)), max(last, _minutes(back))
        mode = _(MODE_NAMES.get(tour["mode"], tour["mode"]))
        vehicle = f", {_('Fahrzeug')} {tour['vehicle']}" if tour.get("vehicle") else ""
        row.bars.append(
            charts.Bar(
                day=index[depart.date()],
                start=_minutes(depart),
                end=_minutes(back),
                kind="tour",
                mode=tour["mode"],
                title=(
                    f"{_('Tour')} {tour['id']}: {mode}{vehicle}, {clock(depart)}-{clock(back)}, "
                    f"{tour['distance_km']} km"
                ),
            )
        )
    for line in view.appointments:
        row = rows.get(line.caseworker)
        if row is None or line.date not in index:
            continue
        row.bars.append(
            charts.Bar(
                day=index[line.date],
                start=_minutes(line.start),
                end=_minutes(line.end),
                kind="visit",
                mode=line.mode,
                title=(
                    f"{_('Besuch')} {line.visit} ({line.household}), {clock(line.start)}-"
                    f"{clock(line.end)}, {_(MODE_NAMES.get(line.mode, line.mode))}"
                ),
                text=line.household,
            )
        )
    return charts.timeline(
        list(rows.values()),
        [day(d, language) for d in view.days],
        first_hour=int(first // 60),
        last_hour=min(24, int(-(-last // 60))),
        label=_("Zeitplan je Fachkraft"),
    )


def day_map(view: WeekView, on: date, language: Language, tile_url: str | None) -> Markup:
    """The tours of one day over the orientation areas, offices and households."""
    _ = translator(language)
    sites = {
        site["id"]: (
            site["location"]["lat"],
            site["location"]["lon"],
            site.get("name") or site["id"],
        )
        for site in view.scenario["sites"]
    }
    homes = {
        entry["id"]: (entry["location"]["lat"], entry["location"]["lon"])
        for entry in view.scenario["households"]
        if "location" in entry
    }
    caseworker_site = {entry["id"]: entry["site"] for entry in view.scenario["caseworkers"]}
    visit_home = {line.visit: line.household for line in view.appointments}
    lines: list[charts.MapLine] = []
    visited: set[str] = set()
    for tour in view.tours_by_day.get(on, []):
        office = sites.get(caseworker_site.get(tour["caseworker"], ""))
        stops = [visit_home.get(stop, "") for stop in tour["stops"]]
        visited.update(stops)
        path = [office[:2]] if office else []
        path += [homes[stop] for stop in stops if stop in homes]
        path += [office[:2]] if office else []
        lines.append(
            charts.MapLine(
                points=tuple(path),
                mode=tour["mode"],
                title=(
                    f"{tour['caseworker']}: {_(MODE_NAMES.get(tour['mode'], tour['mode']))}, "
                    f"{tour['distance_km']} km, {' → '.join(stops)}"
                ),
            )
        )
    points = [charts.MapPoint(lat, lon, label, "site") for lat, lon, label in sites.values()]
    points += [
        charts.MapPoint(homes[key][0], homes[key][1], key, "household")
        for key in sorted(visited)
        if key in homes
    ]
    return charts.tour_map(
        points=points,
        lines=lines,
        areas=geodata.load(),
        label=f"{_('Karte der Touren')} {day(on, language)}",
        tile_url=tile_url,
    )
