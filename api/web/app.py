"""Installs the web pages into the FastAPI app (see ``api.web``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web import caseworker as caseworker_pages
from api.web import coordinator, imports, planning, reports, signin
from api.web import fleet as fleet_pages
from api.web.config import WebSettings
from api.web.pages import (
    HERE,
    PREFIX,
    PageError,
    SignInNeeded,
    error_page,
    make_state,
    sign_in_redirect,
)


def install(app: FastAPI, settings: WebSettings | None = None) -> None:
    app.state.web = make_state(settings or WebSettings())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="web-static")
    for module in (
        signin,
        coordinator,
        planning,
        imports,
        caseworker_pages,
        fleet_pages,
        reports,
    ):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @app.exception_handler(SignInNeeded)
    def sign_in_needed(request: Request, _error: SignInNeeded) -> Response:
        return sign_in_redirect(request)

    @app.exception_handler(PageError)
    def page_error(request: Request, error: PageError) -> Response:
        return error_page(request, error)
