"""Fleet pages: vehicles, a booking timeline per vehicle, utilisation and km charts,
maintenance blocks.

Utilisation is the share of the week's service hours (Monday to Friday, 07:00 to
19:00 local time, 60 hours) a vehicle is booked; a booking outside those hours counts
only with its part inside them, so no vehicle is ever over 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.crud import audit, writing
from api.deps import SessionDep
from api.web import charts, forms
from api.web.i18n import clock, day, number, translator
from api.web.pages import (
    PREFIX,
    CheckedForm,
    FleetPage,
    PageError,
    language,
    not_found,
    redirect,
    render,
)
from fleet.models import Vehicle, VehicleBlock, VehicleBooking
from scheduler.models import Site

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SERVICE_START, SERVICE_END = time(7), time(19)


@dataclass
class VehicleWeek:
    vehicle: Vehicle
    site: Site
    bookings: list[VehicleBooking]
    blocks: list[VehicleBlock]
    booked_hours: float
    service_hours: float
    km: float

    @property
    def utilisation(self) -> float:
        return 0.0 if self.service_hours == 0 else self.booked_hours / self.service_hours


def _monday(day_: date) -> date:
    return day_ - timedelta(days=day_.weekday())


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> float:
    return max(0.0, (min(a[1], b[1]) - max(a[0], b[0])).total_seconds() / 3600)


def vehicle_weeks(session: SessionDep, monday: date) -> list[VehicleWeek]:
    sites = {site.id: site for site in session.scalars(select(Site))}
    vehicles = list(session.scalars(select(Vehicle).order_by(Vehicle.site_id, Vehicle.key)))
    result: list[VehicleWeek] = []
    for vehicle in vehicles:
        site = sites[vehicle.site_id]
        zone = ZoneInfo(site.timezone)
        start = datetime.combine(monday, time(0), zone)
        end = datetime.combine(monday + timedelta(days=7), time(0), zone)
        service = [
            (
                datetime.combine(monday + timedelta(days=offset), SERVICE_START, zone),
                datetime.combine(monday + timedelta(days=offset), SERVICE_END, zone),
            )
            for offset in range(5)
        ]
        bookings = list(
            session.scalars(
                select(VehicleBooking)
                .where(
                    VehicleBooking.vehicle_id == vehicle.id,
                    VehicleBooking.start < end,
                    VehicleBooking.end > start,
                )
                .order_by(VehicleBooking.start)
            )
        )
        blocks = list(
            session.scalars(
                select(VehicleBlock)
                .where(
                    VehicleBlock.vehicle_id == vehicle.id,
                    VehicleBlock.start < end,
                    VehicleBlock.end > start,
                )
                .order_by(VehicleBlock.start)
            )
        )
        booked = sum(
            _overlap((booking.start, booking.end), window)
            for booking in bookings
            for window in service
        )
        blocked = sum(_overlap((b.start, b.end), window) for b in blocks for window in service)
        result.append(
            VehicleWeek(
                vehicle=vehicle,
                site=site,
                bookings=bookings,
                blocks=blocks,
                booked_hours=booked,
                service_hours=max(0.0, 5 * 12.0 - blocked),
                km=sum(booking.km_planned for booking in bookings),
            )
        )
    return result


def _minutes(moment: datetime) -> float:
    return moment.hour * 60 + moment.minute


def booking_timeline(weeks: list[VehicleWeek], monday: date, lang: str) -> object:
    _ = translator("en" if lang == "en" else "de")
    days = [monday + timedelta(days=offset) for offset in range(5)]
    rows: list[charts.Row] = []
    for week in weeks:
        zone = ZoneInfo(week.site.timezone)
        row = charts.Row(label=week.vehicle.name or week.vehicle.key)
        for kind, items in (("visit", week.bookings), ("block", week.blocks)):
            for item in items:
                start, end = item.start.astimezone(zone), item.end.astimezone(zone)
                current = start
                # A block over several days is drawn on each of them.
                while current < end:
                    day_end = datetime.combine(current.date() + timedelta(days=1), time(0), zone)
                    piece_end = min(end, day_end)
                    if current.date() in days:
                        what = (
                            _("Buchung")
                            if kind == "visit"
                            else f"{_('Sperrung')}: {getattr(item, 'reason', None) or ''}"
                        )
                        row.bars.append(
                            charts.Bar(
                                day=days.index(current.date()),
                                start=_minutes(current),
                                end=_minutes(piece_end) if piece_end < day_end else 24 * 60,
                                kind=kind,
                                mode=week.vehicle.kind,
                                title=f"{what} {clock(current)}-{clock(piece_end)}",
                            )
                        )
                    current = piece_end
        rows.append(row)
    return charts.timeline(
        rows,
        [day(d, "en" if lang == "en" else "de") for d in days],
        first_hour=7,
        last_hour=19,
        label=_("Buchungen je Fahrzeug"),
    )


@router.get("/fleet")
def fleet_page(
    request: Request,
    session: SessionDep,
    user: FleetPage,
    week: date | None = None,
    msg: str | None = None,
) -> Response:
    monday = _monday(week or date.today())
    weeks = vehicle_weeks(session, monday)
    lang = language(request)
    _ = translator(lang)
    utilisation = charts.bars(
        [
            charts.Value(
                w.vehicle.name or w.vehicle.key, 100 * w.utilisation, charts.colour(w.vehicle.kind)
            )
            for w in weeks
        ],
        label=_("Auslastung je Fahrzeug"),
        unit="%",
        show=lambda value: number(value, lang, 0),
    )
    km = charts.bars(
        [
            charts.Value(w.vehicle.name or w.vehicle.key, w.km, charts.colour(w.vehicle.kind))
            for w in weeks
        ],
        label=_("Kilometer je Fahrzeug"),
        unit="km",
        show=lambda value: number(value, lang, 1),
    )
    return render(
        request,
        "fleet.html",
        weeks=weeks,
        monday=monday,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        timeline=booking_timeline(weeks, monday, lang),
        utilisation_chart=utilisation,
        km_chart=km,
        message={"saved": "Gespeichert.", "deleted": "Gelöscht."}.get(msg or ""),
        errors=[],
    )


@router.post("/fleet/blocks")
def add_block(
    request: Request, session: SessionDep, user: FleetPage, form: CheckedForm
) -> Response:
    """A maintenance block: the planner and ad-hoc bookings leave the vehicle alone."""
    vehicle_id = forms.text(form, "vehicle")
    vehicle = session.get(Vehicle, int(vehicle_id)) if vehicle_id.isdigit() else None
    if vehicle is None:
        raise not_found()
    site = session.get(Site, vehicle.site_id)
    assert site is not None
    zone = ZoneInfo(site.timezone)
    start = forms.local_instant(forms.text(form, "start"), zone)
    end = forms.local_instant(forms.text(form, "end"), zone)
    if start is None or end is None or end <= start:
        raise PageError(
            422, "Bitte prüfen:", "Das Ende der Sperrung muss nach ihrem Beginn liegen."
        )
    with writing(session):
        block = VehicleBlock(
            vehicle_id=vehicle.id, start=start, end=end, reason=forms.optional(form, "reason")
        )
        session.add(block)
        session.flush()
        audit(
            session,
            user,
            "create",
            "vehicle_block",
            str(block.id),
            {"vehicle": vehicle.key, "start": start.isoformat(), "end": end.isoformat()},
        )
    return redirect(f"{PREFIX}/fleet?week={_monday(start.date())}&msg=saved")


@router.post("/fleet/vehicles/{vehicle_id}/blocks/{block_id}/delete")
def delete_block(
    request: Request,
    session: SessionDep,
    user: FleetPage,
    vehicle_id: int,
    block_id: int,
    form: CheckedForm,
) -> Response:
    block = session.get(VehicleBlock, block_id)
    if block is None or block.vehicle_id != vehicle_id:
        raise not_found()
    monday = _monday(block.start.date())
    with writing(session):
        session.delete(block)
        audit(session, user, "delete", "vehicle_block", str(block_id), {"vehicle_id": vehicle_id})
    return redirect(f"{PREFIX}/fleet?week={monday}&msg=deleted")
