"""What every page shares: the signed-in user, roles, CSRF-checked forms, rendering.

Pages are server-rendered Jinja2 templates (autoescaped) with a little htmx. A page
route takes ``PageUser`` (or a role alias such as ``CoordinatorPage``) and, for a form,
``CheckedForm``; it answers with ``render(request, "name.html", ...)``. Without a valid
session a page redirects to the sign-in (htmx requests get ``HX-Redirect``), a role
that may not see a page gets a 403 page, a record that is not the user's a 404 page.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from starlette.datastructures import FormData

from api.deps import SessionDep
from api.web import i18n
from api.web.config import WebSettings
from api.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    Signer,
    WebSession,
    password_fingerprint,
)
from scheduler.models import ApiToken, Role, User

HERE = Path(__file__).resolve().parent
PREFIX = "/web"


@dataclass
class WebState:
    """The web pages' part of the app: settings, cookie signer, templates."""

    settings: WebSettings
    signer: Signer
    templates: Environment


def make_state(settings: WebSettings) -> WebState:
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters["tz"] = ZoneInfo
    return WebState(settings=settings, signer=Signer(settings.secret_key), templates=templates)


def state(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


# ------------------------------------------------------------------------ exceptions


class SignInNeeded(Exception):
    """No valid session: go to the sign-in page, and back here afterwards."""


class PageError(Exception):
    """An error shown as a page: 403 (role), 404 (not there or not yours), 400 (CSRF)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def not_found() -> PageError:
    return PageError(
        404, "Nicht gefunden", "Diese Seite gibt es nicht, oder sie ist nicht für Sie bestimmt."
    )


#: A path on this site: one slash, then no second slash or backslash, and no whitespace or
#: control characters anywhere (browsers drop tabs and newlines, so ``/\t/evil`` would
#: become ``//evil``, another site).
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in (never another site: no open redirect)."""
    if not target or not _LOCAL_PATH.fullmatch(target):
        return PREFIX + "/"
    return target


def sign_in_redirect(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"{PREFIX}/signin?next={quote(here, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, error: PageError) -> Response:
    return render(
        request, "error.html", status_code=error.status, title=error.title, message=error.message
    )


# ----------------------------------------------------------------------------- users


def session_of(request: Request) -> WebSession | None:
    return state(request).signer.read_session(request.cookies.get(SESSION_COOKIE))


def still_valid(session: SessionDep, web_session: WebSession) -> User | None:
    """The session's user if the way they signed in still holds (token not revoked,
    password unchanged, user active)."""
    user = session.get(User, web_session.user_id)
    if user is None or not user.active:
        return None
    if web_session.method == "token":
        token = session.scalar(
            select(ApiToken).where(
                ApiToken.id == web_session.token_id,
                ApiToken.user_id == user.id,
                ApiToken.revoked_at.is_(None),
            )
        )
        return user if token is not None else None
    if user.password_hash is None or web_session.password != password_fingerprint(
        user.password_hash
    ):
        return None
    return user


def page_user(request: Request, session: SessionDep) -> User:
    web_session = session_of(request)
    user = None if web_session is None else still_valid(session, web_session)
    if user is None:
        raise SignInNeeded
    request.state.user = user
    return user


PageUser = Annotated[User, Depends(page_user)]


def page_for(*roles: Role) -> Callable[[User], User]:
    def allowed(user: PageUser) -> User:
        if user.role not in roles:
            raise PageError(403, "Kein Zugriff", "Ihre Rolle darf diese Seite nicht sehen.")
        return user

    return allowed


CoordinatorPage = Annotated[User, Depends(page_for("admin", "coordinator"))]
CaseworkerPage = Annotated[User, Depends(page_for("caseworker"))]
FleetPage = Annotated[User, Depends(page_for("admin", "coordinator", "fleet_manager"))]
ReportPage = Annotated[User, Depends(page_for("admin", "coordinator", "fleet_manager"))]


def home_of(user: User) -> str:
    """Where a role starts."""
    return {
        "caseworker": f"{PREFIX}/me",
        "fleet_manager": f"{PREFIX}/fleet",
    }.get(user.role, f"{PREFIX}/week")


# ------------------------------------------------------------------------------ CSRF


def csrf_secret(request: Request) -> str:
    """The CSRF cookie's value; a new one (set by ``render``) if the browser has none."""
    secret: str | None = getattr(request.state, "csrf_secret", None)
    if secret is None:
        secret = request.cookies.get(CSRF_COOKIE) or Signer.new_csrf_secret()
        request.state.csrf_secret = secret
    return secret


async def checked_form(request: Request) -> FormData:
    """The submitted form, after its CSRF token was checked (400 page otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    sent = token if isinstance(token, str) else request.headers.get(CSRF_HEADER)
    if not state(request).signer.csrf_valid(request.cookies.get(CSRF_COOKIE), sent):
        raise PageError(
            400,
            "Formular abgelaufen",
            "Das Formular war abgelaufen oder kam nicht von dieser Seite. Bitte erneut versuchen.",
        )
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=state(request).settings.secure_cookies,
    )


def start_session(request: Request, response: Response, user: User, token_id: int | None) -> None:
    """Sign the user in on ``response``: the session cookie and a fresh CSRF value."""
    web = state(request)
    lifetime = int(web.settings.session_hours * 3600)
    web_session = WebSession(
        user_id=user.id,
        method="token" if token_id is not None else "password",
        token_id=token_id,
        password=None
        if token_id is not None or user.password_hash is None
        else password_fingerprint(user.password_hash),
        expires=time.time() + lifetime,
    )
    set_cookie(request, response, SESSION_COOKIE, web.signer.session_cookie(web_session), lifetime)
    set_cookie(request, response, CSRF_COOKIE, Signer.new_csrf_secret(), lifetime)


# ------------------------------------------------------------------------- rendering


def language(request: Request) -> i18n.Language:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return "en" if chosen == "en" else i18n.DEFAULT_LANGUAGE


def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` with the frame's context (user, language, CSRF token)."""
    web = state(request)
    lang = language(request)
    translate = i18n.translator(lang)
    secret = csrf_secret(request)
    user: User | None = getattr(request.state, "user", None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    body = web.templates.get_template(template).render(
        request=request,
        user=user,
        lang=lang,
        _=translate,
        csrf_field=CSRF_FIELD,
        csrf_token=web.signer.csrf_token(secret),
        prefix=PREFIX,
        here=here,
        nav=navigation(user, request.url.path),
        number=lambda value, digits=1: i18n.number(value, lang, digits),
        day=lambda value: i18n.day(value, lang),
        clock=i18n.clock,
        mode_name=lambda mode: translate(i18n.MODE_NAMES.get(mode) or str(mode)),
        role_name=lambda role: translate(i18n.ROLE_NAMES.get(role) or str(role)),
        status_name=lambda status: translate(i18n.PLAN_STATUS_NAMES.get(status) or str(status)),
        appointment_status=lambda status: translate(
            i18n.APPOINTMENT_STATUS_NAMES.get(status) or str(status)
        ),
        reason_name=lambda reason: translate(i18n.REASONS.get(reason) or str(reason)),
        weekday_name=lambda index: i18n.WEEKDAY_NAMES[lang][index],
        tile_url=web.settings.tile_url,
        **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    if request.cookies.get(CSRF_COOKIE) != secret:
        set_cookie(request, response, CSRF_COOKIE, secret, int(web.settings.session_hours * 3600))
    # Pages show personal data: never cached by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    current: bool


def navigation(user: User | None, path: str) -> list[NavItem]:
    if user is None:
        return []
    items: list[tuple[str, str]]
    if user.role == "caseworker":
        items = [
            ("Meine Woche", "/me"),
            ("Meine Haushalte", "/me/households"),
            ("Fahrzeug buchen", "/me/book"),
            ("Mein Kalender", "/me/calendar"),
        ]
    elif user.role == "fleet_manager":
        items = [("Fuhrpark", "/fleet"), ("Nachhaltigkeit", "/reports")]
    else:
        items = [
            ("Wochenplan", "/week"),
            ("Haushalte", "/households"),
            ("Fachkräfte", "/caseworkers"),
            ("CSV-Import", "/imports"),
            ("Fuhrpark", "/fleet"),
            ("Nachhaltigkeit", "/reports"),
        ]
    # The current item is the longest one the path lies under (/me/households, not /me).
    under = [
        href
        for _label, href in items
        if path == PREFIX + href or path.startswith(PREFIX + href + "/")
    ]
    current = max(under, key=len, default=None)
    return [NavItem(label, PREFIX + href, href == current) for label, href in items]


def redirect(target: str) -> RedirectResponse:
    """After a form: see the result (POST-redirect-GET)."""
    return RedirectResponse(target, status_code=303)


def download(body: bytes | str, media_type: str, filename: str) -> Response:
    """A file to save (CSV, PDF, JSON): personal data, so never cached either."""
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
