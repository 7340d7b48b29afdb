"""Errors as ``application/problem+json`` (RFC 9457) and the request body size limit.

Every error the API answers has the same shape: ``type``, ``title``, ``status``,
``detail``, ``instance`` (the request path), and for a request that fails validation
``errors``: ``[{"path", "message"}]`` with JSON paths into the body (``$.visits[0].id``)
or the parameter's place (``query.limit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import Conflict, DomainError, Infeasible, NotFound
from scheduler.validation import DocumentInvalid, Problem, json_path

MEDIA_TYPE = "application/problem+json"
#: The largest request body accepted (a scenario of a few thousand households fits).
MAX_BODY_BYTES = 5 * 1024 * 1024
#: The status of each domain error; any other DomainError is 422.
DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Infeasible, 422),
)


class RequestInvalid(Exception):
    """A request the API refuses with field paths (422), raised by routes."""

    def __init__(self, problems: Sequence[Problem], detail: str) -> None:
        super().__init__(detail)
        self.problems = list(problems)
        self.detail = detail


def problem(
    status: int,
    detail: str,
    instance: str,
    errors: Sequence[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        # RFC 9457 4.2.1: no problem type of our own, so the status phrase is the title.
        "type": "about:blank",
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = [{"path": error.path, "message": error.message} for error in errors]
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _path(loc: Sequence[str | int]) -> str:
    if not loc:
        return "$"
    where, *rest = loc
    if where == "body":
        return json_path(rest)
    return ".".join(str(part) for part in loc)


def validation_problems(error: RequestValidationError) -> list[Problem]:
    return [Problem(_path(tuple(item["loc"])), str(item["msg"])) for item in error.errors()]


def install(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    def request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = validation_problems(error)
        return problem(422, "the request is not valid", request.url.path, problems)

    @app.exception_handler(RequestInvalid)
    def route_invalid(request: Request, error: RequestInvalid) -> JSONResponse:
        return problem(422, error.detail, request.url.path, error.problems)

    @app.exception_handler(DocumentInvalid)
    def document_invalid(request: Request, error: DocumentInvalid) -> JSONResponse:
        return problem(422, f"the {error.source} is not valid", request.url.path, error.problems)

    @app.exception_handler(DomainError)
    def domain_error(request: Request, error: DomainError) -> JSONResponse:
        status = next((code for kind, code in DOMAIN_STATUS if isinstance(error, kind)), 422)
        return problem(status, str(error), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(
            error.status_code,
            str(error.detail),
            request.url.path,
            headers=dict(error.headers) if error.headers else None,
        )


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, announced or streamed.

    A ``Content-Length`` over the limit is refused before reading; a body without one is
    read up to the limit and then refused, so a chunked upload cannot get past it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        announced = headers.get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        messages: list[Message] = []
        total = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413,
            f"the request body is larger than {self.max_bytes} bytes",
            str(scope.get("path", "")),
        )
        await response(scope, receive, send)
