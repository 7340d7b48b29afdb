"""CSV import and export of households and caseworkers, as coordinators keep them in
Excel (``scheduler.csv_import``). Only planners: the files hold household data.

``POST /imports/households`` and ``POST /imports/caseworkers`` take the file as a
multipart upload (field ``file``, what a browser form or ``curl -F`` sends) or as the
request body itself (``text/csv``). An import is all or nothing; a file with bad rows is
422 problem+json whose ``errors`` name each row and column (``Zeile 4, Breitengrad``).
``GET /exports/households.csv`` and ``GET /exports/caseworkers.csv`` write the same
columns (UTF-8 with BOM, semicolons), ready to edit in Excel and import again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from api.crud import audit, writing
from api.deps import Planner, SessionDep
from api.problems import RequestInvalid
from core.settings import Settings, get_settings
from scheduler.csv_import import (
    CsvImportSummary,
    CsvInvalid,
    export_caseworkers_csv,
    export_households_csv,
    import_caseworkers_csv,
    import_households_csv,
)
from scheduler.geocoding import Geocoder, geocoder_for
from scheduler.validation import Problem

router = APIRouter(tags=["imports"])

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"

_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "the CSV file: semicolon- or comma-separated, UTF-8 (with or without BOM) or "
            "Windows-1252, German or English headers"
        ),
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


class CsvImportResult(BaseModel):
    """What an import wrote, and how it read the file."""

    rows: int = Field(description="records in the file")
    created: int
    updated: int
    encoding: str = Field(description="utf-8, utf-16 or cp1252 (older Excel)")
    delimiter: str
    ignored_columns: list[str] = Field(description="columns the importer does not know")
    geocoded: dict[str, int] = Field(
        description="addresses geocoded: asked of the geocoder, and found in the cache"
    )
    notices: list[str] = Field(description="what the coordinator should check (German)")


def app_settings(request: Request) -> Settings:
    """The settings the app was created with (``create_app(settings)``)."""
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def current_geocoder(settings: Annotated[Settings, Depends(app_settings)]) -> Geocoder | None:
    """The configured geocoder (None: coordinates are required)."""
    return geocoder_for(settings)


GeocoderDep = Annotated[Geocoder | None, Depends(current_geocoder)]


async def _csv_bytes(request: Request) -> bytes:
    """The uploaded file (multipart field ``file``) or the body itself."""
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=10)
        except MultiPartException as error:
            raise RequestInvalid(
                [Problem("body", f"multipart body not readable: {error.message}")],
                "die Datei konnte nicht gelesen werden",
            ) from error
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            return await upload.read()
        if isinstance(upload, str):
            return upload.encode("utf-8")
        raise RequestInvalid(
            [Problem("body.file", "eine CSV-Datei im Feld „file“ wird erwartet")],
            "keine Datei hochgeladen",
        )
    return await request.body()


def _result(summary: CsvImportSummary) -> CsvImportResult:
    return CsvImportResult(
        rows=summary.rows,
        created=summary.created,
        updated=summary.updated,
        encoding=summary.encoding,
        delimiter=summary.delimiter,
        ignored_columns=summary.ignored_columns,
        geocoded={"asked": summary.geocoded_asked, "cached": summary.geocoded_cached},
        notices=summary.notices(),
    )


def _invalid(error: CsvInvalid) -> RequestInvalid:
    return RequestInvalid(
        [Problem(problem.path, problem.message) for problem in error.problems], error.summary
    )


@router.post("/imports/households", status_code=201, openapi_extra=_CSV_BODY)
async def import_households(
    request: Request, session: SessionDep, user: Planner, geocoder: GeocoderDep
) -> CsvImportResult:
    """Create or update households from a CSV file, all or nothing; rows without
    coordinates are geocoded from their address when a geocoder is configured."""
    data = await _csv_bytes(request)
    try:
        summary = await run_in_threadpool(
            lambda: import_households_csv(
                session=session, data=data, actor=user.name, user_id=user.id, geocoder=geocoder
            )
        )
    except CsvInvalid as error:
        raise _invalid(error) from error
    return _result(summary)


@router.post("/imports/caseworkers", status_code=201, openapi_extra=_CSV_BODY)
async def import_caseworkers(
    request: Request, session: SessionDep, user: Planner
) -> CsvImportResult:
    """Create or update caseworkers from a CSV file, all or nothing (absences stay)."""
    data = await _csv_bytes(request)
    try:
        summary = await run_in_threadpool(
            lambda: import_caseworkers_csv(
                session=session, data=data, actor=user.name, user_id=user.id
            )
        )
    except CsvInvalid as error:
        raise _invalid(error) from error
    return _result(summary)


_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV file"}
}


@router.get("/exports/households.csv", response_class=Response, responses=_CSV_RESPONSE)
def export_households(session: SessionDep, user: Planner) -> Response:
    """Every household that is not erased, in the import's columns (UTF-8 with BOM,
    semicolons); each one written is an audited export."""
    data, pseudonyms = export_households_csv(session=session)
    with writing(session):
        for pseudonym in pseudonyms:
            audit(session, user, "export", "household", pseudonym, {"via": "csv"})
    return Response(
        data,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="haushalte.csv"'},
    )


@router.get("/exports/caseworkers.csv", response_class=Response, responses=_CSV_RESPONSE)
def export_caseworkers(session: SessionDep, user: Planner) -> Response:
    """Every caseworker in the import's columns (UTF-8 with BOM, semicolons)."""
    return Response(
        export_caseworkers_csv(session=session),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="fachkraefte.csv"'},
    )
