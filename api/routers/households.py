"""Households: planners manage them, a caseworker reads their own, a fleet manager none.

A caseworker asking for a household that is not theirs gets 404, exactly as for one
that does not exist, so ids tell them nothing. Every read of a household's record is
audited, as is every change. ``DELETE`` erases (GDPR Art. 17): the pseudonymised
record stays as a husk so plans keep their km and CO2e, but its location, availability,
caseworkers and skills are removed, also from the scenarios stored with plans.
``/export`` returns everything held on it (Art. 15).

A household given an address but no coordinates is geocoded when a geocoder is set up
(``scheduler.geocoding``); without one its coordinates are required.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from api.crud import KeyFilter, Limit, Offset, RecordId, audit, page, referenced, writing
from api.deps import HouseholdReader, Planner, SessionDep
from api.problems import RequestInvalid
from api.routers.imports import GeocoderDep
from api.routers.visits import public as visit_public
from api.schemas import (
    AppointmentPublic,
    AuditEventPublic,
    DocumentationNote,
    HouseholdCreate,
    HouseholdExport,
    HouseholdPublic,
    HouseholdUpdate,
    Interval,
    Page,
)
from core.audit import AuditEvent
from core.db import utc_now
from core.errors import Conflict, NotFound
from scheduler.geocoding import Coordinates, Geocoder, forget, geocode
from scheduler.models import (
    Appointment,
    Caseworker,
    Household,
    HouseholdAvailability,
    HouseholdSkill,
    Plan,
    Site,
    User,
    VisitDocumentation,
    VisitRequest,
    household_allowed_caseworker,
)
from scheduler.validation import Problem

router = APIRouter(prefix="/households", tags=["households"])


def public(household: Household) -> HouseholdPublic:
    return HouseholdPublic(
        id=household.id,
        pseudonym=household.pseudonym,
        lat=household.lat,
        lon=household.lon,
        site=household.site.key if household.site else None,
        primary_caseworker=(
            household.primary_caseworker.key if household.primary_caseworker else None
        ),
        allowed_caseworkers=[caseworker.key for caseworker in household.allowed_caseworkers],
        required_skills=[skill.skill for skill in household.required_skills],
        availability=None
        if household.available_any_time
        else [
            Interval(weekday=interval.weekday, start=interval.start, end=interval.end)
            for interval in household.availability
        ],
        address=household.address,
        erased_at=household.erased_at,
    )


def visible_to(query: Select[Household], user: User) -> Select[Household]:
    """Only the households the user may see: a caseworker's own (primary or allowed)."""
    if user.role != "caseworker":
        return query
    allowed = select(household_allowed_caseworker.c.household_id).where(
        household_allowed_caseworker.c.caseworker_id == user.caseworker_id
    )
    return query.where(
        or_(Household.primary_caseworker_id == user.caseworker_id, Household.id.in_(allowed))
    )


def _loaded() -> Select[Household]:
    return select(Household).options(
        selectinload(Household.site),
        selectinload(Household.primary_caseworker),
        selectinload(Household.allowed_caseworkers),
        selectinload(Household.availability),
        selectinload(Household.required_skills),
    )


def household_for(session: Session, user: User, household_id: RecordId) -> Household:
    """The household if the user may see it; else 404, whether it exists or not."""
    household = session.scalars(
        visible_to(_loaded().where(Household.id == household_id), user)
    ).one_or_none()
    if household is None:
        raise NotFound(f"no household {household_id}")
    return household


def _caseworker(session: Session, key: str) -> Caseworker:
    return referenced(session, Caseworker, Caseworker.key, key, "caseworker")


def _geocoded(session: Session, geocoder: Geocoder | None, address: str) -> Coordinates:
    """The address's coordinates (cache or geocoder), else 422 naming the field."""
    answers = geocode(session=session, geocoder=geocoder, addresses=[address])
    if address in answers.found:
        return answers.found[address]
    if address in answers.not_found:
        problem = Problem("$.address", "address not found; give lat and lon instead")
    else:
        problem = Problem("$.lat", answers.failed[address])
    raise RequestInvalid([problem], "the household has no location")


def _apply(
    session: Session,
    household: Household,
    body: HouseholdCreate | HouseholdUpdate,
    location: Coordinates | None = None,
) -> None:
    changes = body.model_dump(exclude_unset=True)
    if body.lat is not None:
        household.lat = body.lat
    if body.lon is not None:
        household.lon = body.lon
    if location is not None:
        household.lat, household.lon = location.lat, location.lon
    if "address" in changes:
        household.address = body.address
    if "primary_caseworker" in changes:
        household.primary_caseworker = (
            None
            if body.primary_caseworker is None
            else _caseworker(session, body.primary_caseworker)
        )
    if body.allowed_caseworkers is not None:
        household.allowed_caseworkers = [
            _caseworker(session, key) for key in dict.fromkeys(body.allowed_caseworkers)
        ]
    if body.required_skills is not None:
        household.required_skills = [
            HouseholdSkill(skill=skill) for skill in sorted(set(body.required_skills))
        ]
    if "availability" in changes:
        household.available_any_time = body.availability is None
        household.availability = [
            HouseholdAvailability(weekday=interval.weekday, start=interval.start, end=interval.end)
            for interval in body.availability or []
        ]
    caseworkers_changed = {"primary_caseworker", "allowed_caseworkers"} & set(changes)
    if body.site is not None:
        household.site = referenced(session, Site, Site.key, body.site, "site")
    elif household.site is None or caseworkers_changed:
        # As an import does: the office of whoever is responsible for the household.
        responsible = household.primary_caseworker or next(
            iter(household.allowed_caseworkers), None
        )
        household.site = responsible.site if responsible else household.site


@router.get("")
def list_households(
    session: SessionDep,
    user: HouseholdReader,
    limit: Limit = 100,
    offset: Offset = 0,
    site: KeyFilter = None,
    caseworker: KeyFilter = None,
) -> Page[HouseholdPublic]:
    """Households (a caseworker's own only); each one listed is an audited read."""
    query = visible_to(_loaded().order_by(Household.pseudonym), user)
    if site is not None:
        query = query.where(Household.site.has(Site.key == site))
    if caseworker is not None:
        allowed = (
            select(household_allowed_caseworker.c.household_id)
            .join(Caseworker, Caseworker.id == household_allowed_caseworker.c.caseworker_id)
            .where(Caseworker.key == caseworker)
        )
        query = query.where(
            or_(
                Household.primary_caseworker.has(Caseworker.key == caseworker),
                Household.id.in_(allowed),
            )
        )
    rows, total = page(session, query, limit, offset)
    with writing(session):
        for household in rows:
            audit(session, user, "read", "household", household.pseudonym, {"via": "list"})
    return Page(items=[public(row) for row in rows], total=total, limit=limit, offset=offset)


@router.post("", status_code=201)
def create_household(
    session: SessionDep, user: Planner, body: HouseholdCreate, geocoder: GeocoderDep = None
) -> HouseholdPublic:
    location = None
    if body.lat is None and body.address is not None:
        location = _geocoded(session, geocoder, body.address)
    with writing(session):
        household = Household(pseudonym=body.pseudonym)
        session.add(household)
        _apply(session, household, body, location)
        session.flush()
        audit(session, user, "create", "household", household.pseudonym)
    return public(household)


@router.get("/{household_id}")
def read_household(
    session: SessionDep, user: HouseholdReader, household_id: RecordId
) -> HouseholdPublic:
    household = household_for(session, user, household_id)
    with writing(session):
        audit(session, user, "read", "household", household.pseudonym)
    return public(household)


@router.patch("/{household_id}")
def update_household(
    session: SessionDep,
    user: Planner,
    household_id: RecordId,
    body: HouseholdUpdate,
    geocoder: GeocoderDep = None,
) -> HouseholdPublic:
    """Change a household; a new address without coordinates moves it to the address's
    geocoded location when a geocoder is set up (else the location stays)."""
    household = household_for(session, user, household_id)
    if household.erased_at is not None:
        raise Conflict(f"household {household.pseudonym} was erased")
    location = None
    moved = body.address is not None and body.address != household.address
    if moved and body.lat is None and body.lon is None and geocoder is not None:
        assert body.address is not None
        location = _geocoded(session, geocoder, body.address)
    with writing(session):
        _apply(session, household, body, location)
        audit(
            session,
            user,
            "update",
            "household",
            household.pseudonym,
            {"fields": sorted(body.model_dump(exclude_unset=True))},
        )
    return public(household)


@router.delete("/{household_id}", status_code=204)
def erase_household(session: SessionDep, user: Planner, household_id: RecordId) -> Response:
    """Erase the household's personal data and location (GDPR Art. 17).

    Its visits, appointments and tours stay without them, so reports keep their km and
    CO2e; the scenarios stored with plans lose the household's location too, and the
    geocode cache its address's entry (unless another household lives there).
    """
    household = household_for(session, user, household_id)
    with writing(session):
        forget(session=session, household=household)
        household.address = None
        household.lat = None
        household.lon = None
        household.primary_caseworker = None
        household.allowed_caseworkers = []
        household.availability = []
        household.available_any_time = True
        household.required_skills = []
        household.erased_at = household.erased_at or utc_now()
        weeks = select(VisitRequest.week_id).where(VisitRequest.household_id == household.id)
        for plan in session.scalars(select(Plan).where(Plan.week_id.in_(weeks))):
            plan.scenario = _without_location(plan.scenario, household.pseudonym)
        audit(session, user, "erase", "household", household.pseudonym)
    return Response(status_code=204)


def _without_location(scenario: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    households = [
        {"id": entry["id"], "erased": True} if entry.get("id") == pseudonym else entry
        for entry in scenario.get("households", [])
    ]
    return {**scenario, "households": households}


@router.get("/{household_id}/export")
def export_household(session: SessionDep, user: Planner, household_id: RecordId) -> HouseholdExport:
    """Everything held on the household (GDPR Art. 15): the record, its visits, their
    appointments and the audit events about it and its visits (this export included)."""
    household = household_for(session, user, household_id)
    with writing(session):
        audit(session, user, "export", "household", household.pseudonym)
    visits = list(
        session.scalars(
            select(VisitRequest)
            .where(VisitRequest.household_id == household.id)
            .options(
                selectinload(VisitRequest.week),
                selectinload(VisitRequest.household),
                selectinload(VisitRequest.pinned_caseworker),
            )
            .order_by(VisitRequest.week_id, VisitRequest.key)
        )
    )
    keys = {visit.id: visit.key for visit in visits}
    appointments = session.execute(
        select(Appointment, Caseworker.key)
        .join(Caseworker, Caseworker.id == Appointment.caseworker_id)
        .where(Appointment.visit_request_id.in_(keys))
        .order_by(Appointment.start)
    ).all()
    visit_names = [f"{visit.week.start}/{visit.key}" for visit in visits]
    # The uid names a visit's appointment in every plan; notes of digital records hang
    # on it (scheduler.documentation), as do their audit events.
    uids = {appointment.uid: keys[appointment.visit_request_id] for appointment, _ in appointments}
    notes = session.scalars(
        select(VisitDocumentation)
        .where(VisitDocumentation.appointment_uid.in_(uids))
        .order_by(VisitDocumentation.recorded_at, VisitDocumentation.id)
    )
    events = session.scalars(
        select(AuditEvent)
        .where(
            or_(
                (AuditEvent.entity == "household") & (AuditEvent.entity_id == household.pseudonym),
                (AuditEvent.entity == "visit_request") & AuditEvent.entity_id.in_(visit_names),
                (AuditEvent.entity == "appointment") & AuditEvent.entity_id.in_(uids),
            )
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return HouseholdExport(
        household=public(household),
        visits=[visit_public(visit) for visit in visits],
        appointments=[
            AppointmentPublic(
                plan_id=appointment.plan_id,
                visit=keys[appointment.visit_request_id],
                caseworker=caseworker_key,
                start=appointment.start,
                end=appointment.end,
                status=appointment.status,
            )
            for appointment, caseworker_key in appointments
        ],
        documentation=[
            DocumentationNote(
                visit=uids[note.appointment_uid], kind=note.kind, recorded_at=note.recorded_at
            )
            for note in notes
        ],
        audit_events=[
            AuditEventPublic(
                at=event.at,
                actor=event.actor,
                action=event.action,
                entity=event.entity,
                entity_id=event.entity_id,
                detail=event.detail,
            )
            for event in events
        ],
    )
