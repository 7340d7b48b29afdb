"""Sign-in (password or API token), sign-out, the language switch, the start page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import active_token_id, user_for_password, user_for_token
from api.deps import SessionDep
from api.web.pages import (
    PREFIX,
    CheckedForm,
    PageUser,
    home_of,
    redirect,
    render,
    safe_next,
    session_of,
    set_cookie,
    start_session,
    still_valid,
)
from api.web.security import CSRF_COOKIE, LANGUAGE_COOKIE, SESSION_COOKIE

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/")
def start(user: PageUser) -> Response:
    return redirect(home_of(user))


@router.get("/signin")
def signin_page(
    request: Request, session: SessionDep, next: str | None = None, out: bool = False
) -> Response:
    web_session = session_of(request)
    if web_session is not None and still_valid(session, web_session) is not None:
        return redirect(safe_next(next))
    return render(request, "signin.html", next=safe_next(next), error=None, signed_out=out)


def _field(form: CheckedForm, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/signin")
def signin(request: Request, session: SessionDep, form: CheckedForm) -> Response:
    target = safe_next(_field(form, "next"))
    token = _field(form, "token")
    if token:
        user = user_for_token(session=session, token=token)
        token_id = None if user is None else active_token_id(session=session, token=token)
        error = "Das Token ist unbekannt oder widerrufen."
    else:
        password = form.get("password")
        user = user_for_password(
            session=session,
            name=_field(form, "name"),
            password=password if isinstance(password, str) else "",
        )
        token_id = None
        error = "Name oder Passwort stimmen nicht."
    if user is None:
        return render(
            request, "signin.html", status_code=401, next=target, error=error, signed_out=False
        )
    response = redirect(target if target != PREFIX + "/" else home_of(user))
    start_session(request, response, user, token_id)
    return response


@router.post("/signout")
def signout(request: Request, form: CheckedForm) -> Response:
    response = redirect(f"{PREFIX}/signin?out=1")
    for cookie in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(cookie, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the language (a preference only, so a plain link may set it)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, response, LANGUAGE_COOKIE, "en" if code == "en" else "de", 365 * 86400)
    return response
