"""Coordinator pages: the week's plan, pins, households, caseworkers and absences.

Changes go through the JSON API's own route functions (``api.routers.*``): the same
validation, the same single transaction and the same audit event as a ``PATCH``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.crud import audit, writing
from api.deps import SessionDep
from api.routers import caseworkers as caseworker_routes
from api.routers import households as household_routes
from api.routers import visits as visit_routes
from api.schemas import (
    CaseworkerCreate,
    CaseworkerUpdate,
    HouseholdCreate,
    HouseholdUpdate,
    VisitCreate,
    VisitUpdate,
)
from api.web import forms, weekview
from api.web.pages import (
    PREFIX,
    CheckedForm,
    CoordinatorPage,
    PageError,
    download,
    language,
    not_found,
    redirect,
    render,
    safe_next,
)
from core.errors import DomainError
from fleet.modes import MODES
from scheduler.geocoding import geocoder_for
from scheduler.models import (
    Absence,
    Caseworker,
    Household,
    Plan,
    PlanningWeek,
    Site,
    VisitRequest,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

#: Flash messages a redirect may name (``?msg=saved``): only these, never free text.
MESSAGES = {
    "saved": "Gespeichert.",
    "deleted": "Gelöscht.",
    "published": "Veröffentlicht.",
    "erased": "Die personenbezogenen Daten des Haushalts wurden gelöscht.",
}


def flash(msg: str | None) -> str | None:
    return MESSAGES.get(msg or "")


# ------------------------------------------------------------------------------ week


def weeks_of(session: SessionDep) -> list[PlanningWeek]:
    return list(session.scalars(select(PlanningWeek).order_by(PlanningWeek.start.desc())))


def chosen_week(weeks: list[PlanningWeek], wanted: date | None) -> PlanningWeek | None:
    """The asked-for week, else the one holding today, else the latest."""
    if wanted is not None:
        return next((week for week in weeks if week.start == wanted), None)
    today = date.today()
    return next((w for w in weeks if w.start <= today <= w.end), weeks[0] if weeks else None)


def plans_of(session: SessionDep, week: PlanningWeek) -> list[Plan]:
    return list(
        session.scalars(select(Plan).where(Plan.week_id == week.id).order_by(Plan.id.desc()))
    )


def shown_plan(plans: list[Plan], wanted: int | None) -> Plan | None:
    """The asked-for plan, else the published one, else the newest with a result."""
    if wanted is not None:
        return next((plan for plan in plans if plan.id == wanted), None)
    published = [plan for plan in plans if plan.status == "published"]
    done = [plan for plan in plans if plan.result is not None]
    if published:
        return published[0]
    return done[0] if done else None


@router.get("/week")
def week_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    week: date | None = None,
    plan: int | None = None,
    day: date | None = None,
    msg: str | None = None,
    run: int | None = None,
    new: int | None = None,
    moved: int | None = None,
    cancelled: int | None = None,
    unchanged: int | None = None,
) -> Response:
    weeks = weeks_of(session)
    current = chosen_week(weeks, week)
    if week is not None and current is None:
        raise not_found()
    plans = plans_of(session, current) if current else []
    shown = shown_plan(plans, plan)
    if plan is not None and shown is None:
        raise not_found()
    lang = language(request)
    context: dict[str, Any] = {
        "weeks": weeks,
        "week": current,
        "plans": plans,
        "plan": shown,
        "view": None,
        "message": flash(msg),
        "active_runs": [p for p in plans if p.status in ("queued", "running")],
        # What publishing changed in the caseworkers' calendars (numbers only).
        "published": None
        if msg != "published" or new is None
        else {
            "new": new,
            "moved": moved or 0,
            "cancelled": cancelled or 0,
            "unchanged": unchanged or 0,
        },
    }
    if shown is not None and shown.result is not None:
        view = weekview.week_view(shown.scenario, shown.result)
        map_day = day if day in view.days else (view.days[0] if view.days else None)
        visits = {
            visit.key: visit
            for visit in session.scalars(
                select(VisitRequest)
                .where(VisitRequest.week_id == shown.week_id)
                .options(selectinload(VisitRequest.pinned_caseworker))
            )
        }
        context.update(
            view=view,
            timeline=weekview.timeline(view, lang),
            map_day=map_day,
            day_map=(
                weekview.day_map(view, map_day, lang, request.app.state.web.settings.tile_url)
                if map_day
                else None
            ),
            visits=visits,
            caseworker_keys=[key for key, _label in view.caseworkers],
        )
    return render(request, "week.html", **context)


@router.post("/visits/{visit_id}/pin")
def pin_visit(
    request: Request, session: SessionDep, user: CoordinatorPage, visit_id: int, form: CheckedForm
) -> Response:
    """Pin a visit to a caseworker and a start (or remove the pin); the next run keeps it."""
    visit = session.get(VisitRequest, visit_id)
    if visit is None:
        raise not_found()
    back = safe_next(forms.text(form, "back") or f"{PREFIX}/week")
    if forms.text(form, "action") == "unpin":
        body = VisitUpdate(pinned_caseworker=None, pinned_start=None)
    else:
        caseworker = session.scalars(
            select(Caseworker)
            .where(Caseworker.key == forms.text(form, "caseworker"))
            .options(selectinload(Caseworker.site))
        ).one_or_none()
        if caseworker is None:
            raise PageError(400, "Bitte prüfen:", "Fachkraft")
        start = forms.local_instant(forms.text(form, "start"), ZoneInfo(caseworker.site.timezone))
        if start is None:
            raise PageError(400, "Bitte prüfen:", "Startzeit")
        body = VisitUpdate(pinned_caseworker=caseworker.key, pinned_start=start)
    visit_routes.update_visit(session, user, visit_id, body)
    return redirect(_with_message(back, "saved"))


def _with_message(target: str, msg: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}msg={msg}"


# ------------------------------------------------------------------------ households


@router.get("/households")
def households_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    site: str | None = None,
    caseworker: str | None = None,
    offset: int = 0,
    msg: str | None = None,
) -> Response:
    found = household_routes.list_households(
        session,
        user,
        limit=100,
        offset=max(0, offset),
        site=site or None,
        caseworker=caseworker or None,
    )
    return render(
        request,
        "households.html",
        page=found,
        sites=_sites(session),
        caseworkers=_caseworkers(session),
        site=site or "",
        caseworker=caseworker or "",
        message=flash(msg),
    )


def _sites(session: SessionDep) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.key)))


def _caseworkers(session: SessionDep) -> list[Caseworker]:
    return list(
        session.scalars(
            select(Caseworker).options(selectinload(Caseworker.site)).order_by(Caseworker.key)
        )
    )


HOUSEHOLD_LABELS = {
    "pseudonym": "Pseudonym",
    "address": "Adresse",
    "lat": "Breite",
    "lon": "Länge",
    "site": "Standort",
    "primary_caseworker": "Hauptzuständig",
    "allowed_caseworkers": "Weitere zulässige Fachkräfte",
    "required_skills": "Benötigte Qualifikationen",
    "availability": "Erreichbarkeit",
}


def _availability(form: CheckedForm) -> list[dict[str, Any]] | None:
    if forms.text(form, "any_time") == "1":
        return None
    intervals: list[dict[str, Any]] = []
    for weekday in range(7):
        for slot in range(2):
            start = forms.text(form, f"avail_{weekday}_{slot}_start")
            end = forms.text(form, f"avail_{weekday}_{slot}_end")
            if start or end:
                intervals.append({"weekday": weekday, "start": start, "end": end})
    return intervals


def _household_body(form: CheckedForm) -> dict[str, Any]:
    return {
        "address": forms.optional(form, "address"),
        "lat": forms.number(form, "lat"),
        "lon": forms.number(form, "lon"),
        "site": forms.optional(form, "site"),
        "primary_caseworker": forms.optional(form, "primary_caseworker"),
        "allowed_caseworkers": forms.listed(form, "allowed_caseworkers"),
        "required_skills": forms.listed(form, "required_skills"),
        "availability": _availability(form),
    }


def _household_form(
    request: Request,
    session: SessionDep,
    household: Any,
    errors: list[str],
    status_code: int = 200,
    message: str | None = None,
    visits: list[VisitRequest] | None = None,
) -> Response:
    return render(
        request,
        "household.html",
        status_code=status_code,
        household=household,
        errors=errors,
        sites=_sites(session),
        caseworkers=_caseworkers(session),
        message=message,
        visits=visits or [],
        readonly=False,
        weeks=weeks_of(session),
    )


@router.get("/households/new")
def new_household_page(request: Request, session: SessionDep, user: CoordinatorPage) -> Response:
    return _household_form(request, session, None, [])


@router.post("/households/new")
def create_household(
    request: Request, session: SessionDep, user: CoordinatorPage, form: CheckedForm
) -> Response:
    try:
        body = HouseholdCreate.model_validate(
            {"pseudonym": forms.text(form, "pseudonym"), **_household_body(form)}
        )
        created = household_routes.create_household(
            session, user, body, geocoder_for(request.app.state.settings)
        )
    except (ValidationError, DomainError) as error:
        return _household_form(
            request, session, None, forms.messages(error, HOUSEHOLD_LABELS), status_code=422
        )
    return redirect(f"{PREFIX}/households/{created.id}?msg=saved")


def household_visits(session: SessionDep, household_id: int) -> list[VisitRequest]:
    return list(
        session.scalars(
            select(VisitRequest)
            .where(VisitRequest.household_id == household_id)
            .options(selectinload(VisitRequest.week), selectinload(VisitRequest.pinned_caseworker))
            .order_by(VisitRequest.week_id.desc(), VisitRequest.key)
        )
    )


@router.get("/households/{household_id}")
def household_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    household_id: int,
    msg: str | None = None,
) -> Response:
    try:
        household = household_routes.read_household(session, user, household_id)
    except DomainError:
        raise not_found() from None
    return _household_form(
        request,
        session,
        household,
        [],
        message=flash(msg),
        visits=household_visits(session, household_id),
    )


@router.post("/households/{household_id}")
def update_household(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    household_id: int,
    form: CheckedForm,
) -> Response:
    if session.get(Household, household_id) is None:
        raise not_found()
    try:
        body = HouseholdUpdate.model_validate(_household_body(form))
        household_routes.update_household(
            session, user, household_id, body, geocoder_for(request.app.state.settings)
        )
    except (ValidationError, DomainError) as error:
        household = household_routes.public(
            household_routes.household_for(session, user, household_id)
        )
        return _household_form(
            request,
            session,
            household,
            forms.messages(error, HOUSEHOLD_LABELS),
            status_code=422,
            visits=household_visits(session, household_id),
        )
    return redirect(f"{PREFIX}/households/{household_id}?msg=saved")


# ----------------------------------------------------------------------- caseworkers


@router.get("/caseworkers")
def caseworkers_page(
    request: Request, session: SessionDep, user: CoordinatorPage, msg: str | None = None
) -> Response:
    rows = caseworker_routes.list_caseworkers(session, user, limit=500, offset=0, site=None)
    return render(request, "caseworkers.html", page=rows, message=flash(msg))


CASEWORKER_LABELS = {
    "name": "Name",
    "site": "Standort",
    "max_visits_per_day": "Besuche pro Tag höchstens",
    "working_hours": "Arbeitszeiten",
    "modes": "Verkehrsmittel (erlaubt)",
    "skills": "Qualifikationen",
}


def _caseworker_form(
    request: Request,
    session: SessionDep,
    caseworker_id: int,
    errors: list[str],
    status_code: int = 200,
    message: str | None = None,
) -> Response:
    caseworker = session.scalars(
        select(Caseworker)
        .where(Caseworker.id == caseworker_id)
        .options(selectinload(Caseworker.site))
    ).one_or_none()
    if caseworker is None:
        raise not_found()
    zone = ZoneInfo(caseworker.site.timezone)
    return render(
        request,
        "caseworker.html",
        status_code=status_code,
        caseworker=caseworker_routes.public(caseworker),
        absences=[
            (absence, absence.start.astimezone(zone), absence.end.astimezone(zone))
            for absence in session.scalars(
                select(Absence)
                .where(Absence.caseworker_id == caseworker.id)
                .order_by(Absence.start)
            )
        ],
        sites=_sites(session),
        modes=MODES,
        errors=errors,
        message=message,
    )


@router.get("/caseworkers/new")
def new_caseworker_page(request: Request, session: SessionDep, user: CoordinatorPage) -> Response:
    return render(
        request, "caseworker_new.html", sites=_sites(session), modes=MODES, errors=[], values={}
    )


def _working_hours(form: CheckedForm) -> list[dict[str, str]]:
    hours = []
    for weekday in range(7):
        start = forms.text(form, f"hours_{weekday}_start")
        end = forms.text(form, f"hours_{weekday}_end")
        if start or end:
            hours.append({"weekday": str(weekday), "start": start, "end": end})
    return hours


@router.post("/caseworkers/new")
def create_caseworker(
    request: Request, session: SessionDep, user: CoordinatorPage, form: CheckedForm
) -> Response:
    values = {
        "key": forms.text(form, "key"),
        "name": forms.optional(form, "name"),
        "site": forms.text(form, "site"),
        "max_visits_per_day": forms.number(form, "max_visits_per_day"),
        "working_hours": _working_hours(form),
        "modes": forms.listed(form, "modes"),
        "skills": forms.listed(form, "skills"),
    }
    try:
        created = caseworker_routes.create_caseworker(
            session, user, CaseworkerCreate.model_validate(values)
        )
    except (ValidationError, DomainError) as error:
        return render(
            request,
            "caseworker_new.html",
            status_code=422,
            sites=_sites(session),
            modes=MODES,
            errors=forms.messages(error, {"key": "Kürzel", **CASEWORKER_LABELS}),
            values=values,
        )
    return redirect(f"{PREFIX}/caseworkers/{created.id}?msg=saved")


@router.get("/caseworkers/{caseworker_id}")
def caseworker_page(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    caseworker_id: int,
    msg: str | None = None,
) -> Response:
    return _caseworker_form(request, session, caseworker_id, [], message=flash(msg))


@router.post("/caseworkers/{caseworker_id}")
def update_caseworker(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    caseworker_id: int,
    form: CheckedForm,
) -> Response:
    if session.get(Caseworker, caseworker_id) is None:
        raise not_found()
    hours = []
    for weekday in range(7):
        start, end = (
            forms.text(form, f"hours_{weekday}_start"),
            forms.text(form, f"hours_{weekday}_end"),
        )
        if start or end:
            hours.append({"weekday": weekday, "start": start, "end": end})
    try:
        body = CaseworkerUpdate.model_validate(
            {
                "name": forms.optional(form, "name"),
                "site": forms.optional(form, "site"),
                "max_visits_per_day": forms.number(form, "max_visits_per_day"),
                "working_hours": hours,
                "modes": forms.listed(form, "modes"),
                "skills": forms.listed(form, "skills"),
            }
        )
        caseworker_routes.update_caseworker(session, user, caseworker_id, body)
    except (ValidationError, DomainError) as error:
        return _caseworker_form(
            request, session, caseworker_id, forms.messages(error, CASEWORKER_LABELS), 422
        )
    return redirect(f"{PREFIX}/caseworkers/{caseworker_id}?msg=saved")


@router.post("/caseworkers/{caseworker_id}/absences")
def add_absence(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    caseworker_id: int,
    form: CheckedForm,
) -> Response:
    caseworker = session.get(Caseworker, caseworker_id)
    if caseworker is None:
        raise not_found()
    zone = ZoneInfo(caseworker.site.timezone)
    start = forms.local_instant(forms.text(form, "start"), zone)
    end = forms.local_instant(forms.text(form, "end"), zone)
    errors = []
    if start is None:
        errors.append("Beginn")
    if end is None:
        errors.append("Ende")
    if start is not None and end is not None and end <= start:
        errors.append("Ende")
    if errors:
        return _caseworker_form(request, session, caseworker_id, errors, 422)
    assert start is not None and end is not None
    with writing(session):
        absence = Absence(
            caseworker_id=caseworker.id,
            start=start,
            end=end,
            reason=forms.optional(form, "reason"),
        )
        session.add(absence)
        session.flush()
        audit(
            session,
            user,
            "create",
            "absence",
            str(absence.id),
            {"caseworker": caseworker.key, "start": _iso(start), "end": _iso(end)},
        )
    return redirect(f"{PREFIX}/caseworkers/{caseworker_id}?msg=saved")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@router.post("/caseworkers/{caseworker_id}/absences/{absence_id}/delete")
def delete_absence(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    caseworker_id: int,
    absence_id: int,
    form: CheckedForm,
) -> Response:
    absence = session.get(Absence, absence_id)
    if absence is None or absence.caseworker_id != caseworker_id:
        raise not_found()
    with writing(session):
        session.delete(absence)
        audit(session, user, "delete", "absence", str(absence_id), {"caseworker_id": caseworker_id})
    return redirect(f"{PREFIX}/caseworkers/{caseworker_id}?msg=deleted")


def local_input(moment: datetime | None, zone: ZoneInfo) -> str:
    """An instant as a ``datetime-local`` input's value in ``zone``."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


# ------------------------------------------------- new records, GDPR export and erasure


@router.post("/households/{household_id}/visits")
def add_visit(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    household_id: int,
    form: CheckedForm,
) -> Response:
    """A visit to make in a planning week; the next planning run plans it."""
    household = session.get(Household, household_id)
    if household is None:
        raise not_found()
    try:
        body = VisitCreate.model_validate(
            {
                "week": forms.text(form, "week"),
                "key": forms.text(form, "key"),
                "household": household.pseudonym,
                "duration_minutes": forms.number(form, "duration_minutes"),
                "priority": forms.number(form, "priority") or "1",
            }
        )
        visit_routes.create_visit(session, user, body)
    except (ValidationError, DomainError) as error:
        raise PageError(
            422,
            "Bitte prüfen:",
            "; ".join(
                forms.messages(
                    error,
                    {
                        "week": "Woche",
                        "key": "Besuch",
                        "duration_minutes": "Dauer (Minuten)",
                        "priority": "Priorität",
                    },
                )
            ),
        ) from None
    return redirect(f"{PREFIX}/households/{household_id}?msg=saved")


@router.get("/households/{household_id}/export")
def export_household(session: SessionDep, user: CoordinatorPage, household_id: int) -> Response:
    """Everything held on the household (GDPR Art. 15) as the API's JSON document."""
    try:
        document = household_routes.export_household(session, user, household_id)
    except DomainError:
        raise not_found() from None
    name = f"auskunft-{document.household.pseudonym}.json".replace("/", "-")
    return download(document.model_dump_json(indent=2), "application/json", name)


@router.post("/households/{household_id}/erase")
def erase_household(
    request: Request,
    session: SessionDep,
    user: CoordinatorPage,
    household_id: int,
    form: CheckedForm,
) -> Response:
    """Erase the household's personal data (GDPR Art. 17), once the box is ticked."""
    if forms.text(form, "confirm") != "yes":
        raise PageError(
            422, "Bitte prüfen:", "Bitte bestätigen, dass der Haushalt gelöscht werden soll."
        )
    try:
        household_routes.erase_household(session, user, household_id)
    except DomainError:
        raise not_found() from None
    return redirect(f"{PREFIX}/households?msg=erased")
