"""CSV upload of households and caseworkers, and the same lists as CSV to edit in Excel.

``scheduler.csv_import`` reads what Excel writes (semicolons, decimal commas, German
day names, Windows-1252) and imports all rows or none; every problem comes back with
its row and column, and the page lists them so the coordinator can fix the sheet.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.crud import audit, writing
from api.deps import SessionDep
from api.web.pages import PREFIX, CheckedForm, CoordinatorPage, download, render
from core.errors import DomainError
from scheduler.csv_import import (
    CsvImportSummary,
    CsvInvalid,
    export_caseworkers_csv,
    export_households_csv,
    import_caseworkers_csv,
    import_households_csv,
)
from scheduler.geocoding import geocoder_for

router = APIRouter(prefix=PREFIX, include_in_schema=False)

#: The API's body limit is 5 MB; a sheet of households is far smaller.
MAX_CSV_BYTES = 5 * 1024 * 1024


@router.get("/imports")
def imports_page(request: Request, user: CoordinatorPage) -> Response:
    return render(request, "imports.html", summary=None, problems=[], failure=None, kind=None)


@router.post("/imports")
async def upload_csv(
    request: Request, session: SessionDep, user: CoordinatorPage, form: CheckedForm
) -> Response:
    kind = form.get("kind")
    upload = form.get("file")
    if kind not in ("households", "caseworkers") or not isinstance(upload, UploadFile):
        return render(
            request,
            "imports.html",
            status_code=422,
            summary=None,
            problems=[],
            failure="Bitte eine CSV-Datei und ihre Art wählen.",
            kind=None,
        )
    data = await upload.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return render(
            request,
            "imports.html",
            status_code=413,
            summary=None,
            problems=[],
            failure="Die Datei ist größer als 5 MB.",
            kind=kind,
        )
    geocoder = geocoder_for(request.app.state.settings)

    def run() -> CsvImportSummary:
        if kind == "households":
            return import_households_csv(
                session=session, data=data, actor=user.name, user_id=user.id, geocoder=geocoder
            )
        return import_caseworkers_csv(session=session, data=data, actor=user.name, user_id=user.id)

    try:
        summary = await run_in_threadpool(run)
    except CsvInvalid as error:
        return render(
            request,
            "imports.html",
            status_code=422,
            summary=None,
            problems=error.problems,
            failure=error.summary,
            kind=kind,
        )
    except DomainError as error:
        return render(
            request,
            "imports.html",
            status_code=409,
            summary=None,
            problems=[],
            failure=str(error),
            kind=kind,
        )
    return render(request, "imports.html", summary=summary, problems=[], failure=None, kind=kind)


@router.get("/exports/households.csv")
def households_csv(session: SessionDep, user: CoordinatorPage) -> Response:
    data, pseudonyms = export_households_csv(session=session)
    with writing(session):
        for pseudonym in pseudonyms:
            audit(session, user, "export", "household", pseudonym, {"via": "csv"})
    return download(data, "text/csv; charset=utf-8", "haushalte.csv")


@router.get("/exports/caseworkers.csv")
def caseworkers_csv(session: SessionDep, user: CoordinatorPage) -> Response:
    return download(
        export_caseworkers_csv(session=session), "text/csv; charset=utf-8", "fachkraefte.csv"
    )
