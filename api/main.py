"""The HTTP API: ``create_app(settings)`` builds the FastAPI application.

Routes are plain ``def`` functions (synchronous SQLAlchemy runs in FastAPI's thread
pool); every error is ``application/problem+json`` (``api.problems``); request bodies
over 5 MB are refused with 413. OpenAPI at ``/openapi.json``, its pages at ``/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.routers import caseworkers, households, scenarios, sites, vehicles, visits
from core.db import create_engine_for, create_session_factory
from core.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application on the settings' database (``FIELDWORK_DATABASE_URL`` by default)."""
    settings = settings or get_settings()
    engine = create_engine_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="fieldwork",
        version="0.1.0",
        summary="Home visits of social-work programmes: households, visits, caseworkers, fleet",
        description=(
            "Authenticate with `Authorization: Bearer TOKEN` (`fieldwork tokens create USER`). "
            "Errors are application/problem+json (RFC 9457)."
        ),
    )
    app.state.session_factory = create_session_factory(engine)
    problems.install(app)
    app.add_middleware(problems.BodySizeLimit, max_bytes=problems.MAX_BODY_BYTES)
    for module in (sites, caseworkers, households, visits, vehicles, scenarios):
        app.include_router(module.router)
    return app
