"""Fleet pages: vehicles, a booking timeline per vehicle, utilisation and km charts,
maintenance blocks, the usage CSV.

The figures are ``fleet.usage``'s (the same as ``GET /fleet/usage`` and its CSV):
utilisation is booked / available service hours (Monday to Friday, 07:00 to 19:00
local time, less maintenance blocks); km are confirmed trips plus what is only planned
(published tours not yet confirmed, ad-hoc bookings without a trip), shown apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from api.deps import SessionDep
from api.routers import vehicles as vehicle_routes
from api.schemas import VehicleCreate
from api.web import charts, forms
from api.web.i18n import clock, day, number, translator
from api.web.pages import (
    PREFIX,
    CheckedForm,
    FleetPage,
    PageError,
    download,
    language,
    not_found,
    redirect,
    render,
)
from core.db import write_transaction
from core.errors import DomainError
from fleet.bookings import (
    BookingConflict,
    overlapping_blocks,
    overlapping_bookings,
    remove_block,
    retire,
)
from fleet.bookings import add_block as add_maintenance_block
from fleet.models import Vehicle, VehicleBlock, VehicleBooking
from fleet.usage import Usage, UsageOptions, VehicleUsage, to_csv, usage
from scheduler.models import Site

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@dataclass
class VehicleWeek:
    vehicle: Vehicle
    site: Site
    bookings: list[VehicleBooking]
    blocks: list[VehicleBlock]
    usage: VehicleUsage | None


def _monday(day_: date) -> date:
    return day_ - timedelta(days=day_.weekday())


def week_usage(session: SessionDep, monday: date) -> Usage:
    return usage(
        session, options=UsageOptions(first=monday, last=monday + timedelta(days=4)), site_ids=None
    )


def vehicle_weeks(session: SessionDep, monday: date, figures: Usage) -> list[VehicleWeek]:
    sites = {site.id: site for site in session.scalars(select(Site))}
    by_vehicle = {row.vehicle_id: row for row in figures.vehicles}
    result: list[VehicleWeek] = []
    for vehicle in session.scalars(select(Vehicle).order_by(Vehicle.site_id, Vehicle.key)):
        site = sites[vehicle.site_id]
        zone = ZoneInfo(site.timezone)
        start = datetime.combine(monday, time(0), zone)
        end = datetime.combine(monday + timedelta(days=7), time(0), zone)
        bookings = overlapping_bookings(session, vehicle_id=vehicle.id, start=start, end=end)
        blocks = overlapping_blocks(session, vehicle_id=vehicle.id, start=start, end=end)
        result.append(
            VehicleWeek(vehicle, site, list(bookings), list(blocks), by_vehicle.get(vehicle.id))
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
    figures = week_usage(session, monday)
    weeks = vehicle_weeks(session, monday, figures)
    lang = language(request)
    _ = translator(lang)
    used = [w for w in weeks if w.usage is not None]
    utilisation = charts.bars(
        [
            charts.Value(
                w.vehicle.name or w.vehicle.key,
                100 * (w.usage.utilisation or 0.0) if w.usage else 0.0,
                charts.colour(w.vehicle.kind),
            )
            for w in used
        ],
        label=_("Auslastung je Fahrzeug"),
        unit="%",
        show=lambda value: number(value, lang, 0),
    )
    km = charts.bars(
        [
            charts.Value(
                w.vehicle.name or w.vehicle.key,
                w.usage.km if w.usage else 0.0,
                charts.colour(w.vehicle.kind),
            )
            for w in used
        ],
        label=_("Kilometer je Fahrzeug"),
        unit="km",
        show=lambda value: number(value, lang, 1),
    )
    site_names = {w.site.id: w.site.name or w.site.key for w in weeks}
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
        kinds=figures.kinds,
        site_names=site_names,
        sites=sorted({w.site.id: w.site for w in weeks}.values(), key=lambda site: site.key)
        or list(session.scalars(select(Site).order_by(Site.key))),
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
    try:
        with write_transaction(session):
            add_maintenance_block(
                session,
                vehicle_id=vehicle.id,
                start=start,
                end=end,
                reason=forms.optional(form, "reason"),
                user_id=user.id,
                actor=user.name,
            )
    except BookingConflict as error:
        raise PageError(
            409,
            "Sperrung nicht möglich",
            "; ".join(
                item.reason_en if language(request) == "en" else item.reason_de
                for item in error.conflicts
            ),
        ) from None
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
    with write_transaction(session):
        remove_block(session, block_id=block_id, user_id=user.id, actor=user.name)
    return redirect(f"{PREFIX}/fleet?week={monday}&msg=deleted")


@router.get("/fleet/usage.csv")
def usage_csv(session: SessionDep, user: FleetPage, week: date | None = None) -> Response:
    """The week's usage as CSV for German Excel (``fleet.usage.to_csv``)."""
    monday = _monday(week or date.today())
    figures = week_usage(session, monday)
    site_keys = dict(session.execute(select(Site.id, Site.key)).tuples().all())
    name = f"fuhrpark-{monday.isoformat()}-{(monday + timedelta(days=4)).isoformat()}.csv"
    return download(to_csv(figures, site_keys), "text/csv; charset=utf-8", name)


# --------------------------------------------------------------------------- vehicles

VEHICLE_LABELS = {
    "key": "Kennung",
    "site": "Standort",
    "kind": "Art",
    "name": "Name",
    "range_km": "Reichweite (km pro Tag)",
    "consumption_kwh_per_100km": "Verbrauch (kWh/100 km)",
}


@router.post("/fleet/vehicles")
def create_vehicle(
    request: Request, session: SessionDep, user: FleetPage, form: CheckedForm
) -> Response:
    """A new pool vehicle (the API's ``POST /vehicles``: same checks, same audit)."""
    try:
        body = VehicleCreate.model_validate(
            {
                "key": forms.text(form, "key"),
                "site": forms.text(form, "site"),
                "kind": forms.text(form, "kind"),
                "name": forms.optional(form, "name"),
                "range_km": forms.number(form, "range_km"),
                "consumption_kwh_per_100km": forms.number(form, "consumption"),
            }
        )
        vehicle_routes.create_vehicle(session, user, body)
    except (ValidationError, DomainError) as error:
        raise PageError(
            422, "Bitte prüfen:", "; ".join(forms.messages(error, VEHICLE_LABELS))
        ) from None
    return redirect(f"{PREFIX}/fleet?msg=saved#vehicles")


@router.post("/fleet/vehicles/{vehicle_id}/retire")
def retire_vehicle(
    request: Request, session: SessionDep, user: FleetPage, vehicle_id: int, form: CheckedForm
) -> Response:
    """Out of service: no new bookings, its history stays; its future bookings are
    listed so they can be moved (they are not cancelled behind their bookers' backs)."""
    if session.get(Vehicle, vehicle_id) is None:
        raise not_found()
    try:
        with write_transaction(session):
            vehicle, future = retire(
                session, vehicle_id=vehicle_id, user_id=user.id, actor=user.name
            )
    except DomainError as error:
        raise PageError(409, "Bitte prüfen:", str(error)) from None
    site = session.get(Site, vehicle.site_id)
    assert site is not None
    zone = ZoneInfo(site.timezone)
    return render(
        request,
        "retired.html",
        vehicle=vehicle,
        future=[(b, b.start.astimezone(zone), b.end.astimezone(zone)) for b in future],
    )
