"""The HTTP API: ``create_app(settings)`` builds the FastAPI application.

Routes are plain ``def`` functions (synchronous SQLAlchemy runs in FastAPI's thread
pool); every error is ``application/problem+json`` (``api.problems``); request bodies
over 5 MB are refused with 413. OpenAPI at ``/openapi.json``, its pages at ``/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import problems
from api.routers import (
    appointments,
    bookings,
    caseworkers,
    documentation,
    feeds,
    fleet_usage,
    households,
    imports,
    plans,
    reports,
    scenarios,
    sites,
    trips,
    vehicles,
    visits,
)
from api.schemas import ProblemDetails
from api.web import app as web
from api.worker import run_queue_for
from calendars.service import FeedCache
from core.db import create_engine_for, create_session_factory
from core.settings import Settings, get_settings

_REF_TEMPLATE = "#/components/schemas/{model}"
_PROBLEM_REF = _REF_TEMPLATE.format(model="ProblemDetails")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application on the settings' database (``FIELDWORK_DATABASE_URL`` by default)."""
    settings = settings or get_settings()
    engine = create_engine_for(settings.database_url)
    run_queue = run_queue_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Planning runs: queued runs (and runs whose worker died) go on the queue again.
        run_queue.start()
        yield
        run_queue.close()
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        responses={
            status: {
                "description": description,
                "content": {problems.MEDIA_TYPE: {"schema": {"$ref": _PROBLEM_REF}}},
            }
            for status, description in (
                (401, "no token, or an unknown or revoked one"),
                (403, "the role may not do this"),
                (404, "no such record (or not the caller's)"),
                (409, "contradicts what the database holds"),
                (413, "the body is larger than 5 MB"),
                (422, "the request is not valid; errors lists every problem with its path"),
            )
        },
        title="fieldwork",
        version="0.1.0",
        summary="Home visits of social-work programmes: households, visits, caseworkers, fleet",
        description=(
            "Authenticate with `Authorization: Bearer TOKEN` (`fieldwork tokens create USER`). "
            "Errors are application/problem+json (RFC 9457)."
        ),
    )
    app.state.session_factory = create_session_factory(engine)
    app.state.settings = settings
    app.state.feed_cache = FeedCache()
    app.state.run_queue = run_queue
    problems.install(app)
    bookings.install(app)
    app.add_middleware(problems.BodySizeLimit, max_bytes=problems.MAX_BODY_BYTES)
    routers = (sites, caseworkers, households, visits, vehicles, scenarios, plans, appointments)
    for module in routers:
        app.include_router(module.router)
    app.include_router(documentation.router)
    for module in (bookings, trips, fleet_usage):
        app.include_router(module.router)
    app.include_router(reports.router)
    app.include_router(feeds.router)
    app.include_router(imports.router)
    web.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem = ProblemDetails.model_json_schema(ref_template=_REF_TEMPLATE)
            components.update(problem.pop("$defs", {}))
            components["ProblemDetails"] = problem
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
