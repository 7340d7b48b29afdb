"""Sites (offices): everyone may read them, planners change them."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from api.crud import Limit, Offset, RecordId, audit, get_or_404, page, writing
from api.deps import CurrentUser, Planner, SessionDep
from api.schemas import Page, SiteCreate, SitePublic, SiteUpdate
from scheduler.models import Site

router = APIRouter(prefix="/sites", tags=["sites"])


def public(site: Site) -> SitePublic:
    return SitePublic(
        id=site.id,
        key=site.key,
        name=site.name,
        lat=site.lat,
        lon=site.lon,
        timezone=site.timezone,
        region=site.region,
    )


@router.get("")
def list_sites(
    session: SessionDep, user: CurrentUser, limit: Limit = 100, offset: Offset = 0
) -> Page[SitePublic]:
    rows, total = page(session, select(Site).order_by(Site.key), limit, offset)
    return Page(items=[public(site) for site in rows], total=total, limit=limit, offset=offset)


@router.post("", status_code=201)
def create_site(session: SessionDep, user: Planner, body: SiteCreate) -> SitePublic:
    with writing(session):
        site = Site(**body.model_dump())
        session.add(site)
        session.flush()
        audit(session, user, "create", "site", site.key, body.model_dump(mode="json"))
    return public(site)


@router.get("/{site_id}")
def read_site(session: SessionDep, user: CurrentUser, site_id: RecordId) -> SitePublic:
    return public(get_or_404(session, Site, site_id, "site"))


@router.patch("/{site_id}")
def update_site(
    session: SessionDep, user: Planner, site_id: RecordId, body: SiteUpdate
) -> SitePublic:
    site = get_or_404(session, Site, site_id, "site")
    changes = body.model_dump(exclude_unset=True)
    with writing(session):
        for name, value in changes.items():
            if value is not None or name in ("name", "region"):
                setattr(site, name, value)
        audit(
            session,
            user,
            "update",
            "site",
            site.key,
            body.model_dump(mode="json", exclude_unset=True),
        )
    return public(site)


@router.delete("/{site_id}", status_code=204)
def delete_site(session: SessionDep, user: Planner, site_id: RecordId) -> Response:
    site = get_or_404(session, Site, site_id, "site")
    with writing(session):
        session.delete(site)
        audit(session, user, "delete", "site", site.key)
    return Response(status_code=204)
