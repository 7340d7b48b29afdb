"""The sustainability report of a period and a site (or the whole programme), as JSON,
German-Excel CSV or PDF. For admins, coordinators and fleet managers; every report is
an audited export (it holds staff trips, under pseudonyms)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.crud import KeyFilter, audit, writing
from api.deps import SessionDep, require
from api.problems import RequestInvalid
from reports.export_csv import render_csv
from reports.export_pdf import render_pdf
from reports.periods import Period, parse_period
from reports.schemas import SustainabilityReport
from reports.sustainability import ReportOptionInvalid, ReportOptions, sustainability_report
from scheduler.models import User
from scheduler.validation import Problem

router = APIRouter(prefix="/reports", tags=["reports"])

ReportReader = Annotated[User, Depends(require("admin", "coordinator", "fleet_manager"))]

_MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _period(start: date | None, end: date | None, period: str | None) -> Period:
    problems: list[Problem] = []
    if period is not None and (start is not None or end is not None):
        problems.append(Problem("query.period", "give either period or from and to, not both"))
    elif period is not None:
        try:
            return parse_period(period)
        except ValueError as error:
            problems.append(Problem("query.period", str(error)))
    else:
        if start is None:
            problems.append(
                Problem("query.from", "from (a date, YYYY-MM-DD) or period is required")
            )
        if end is None:
            problems.append(Problem("query.to", "to (a date, YYYY-MM-DD) or period is required"))
        if start is not None and end is not None:
            try:
                return Period(start, end)
            except ValueError as error:
                problems.append(Problem("query.to", str(error)))
    raise RequestInvalid(problems, "the report's period is not valid")


@router.get(
    "/sustainability",
    response_model=SustainabilityReport,
    response_model_by_alias=True,
    responses={
        200: {
            "description": "the report: JSON, or with format=csv a CSV file for German Excel, "
            "with format=pdf a printable PDF",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def sustainability(
    session: SessionDep,
    user: ReportReader,
    start: Annotated[
        date | None, Query(alias="from", description="first day (YYYY-MM-DD), inclusive")
    ] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, inclusive")] = None,
    period: Annotated[
        str | None,
        Query(max_length=16, description="instead of from/to: 2026-11, 2026-Q4 or 2026"),
    ] = None,
    site: KeyFilter = None,
    format: Literal["json", "csv", "pdf"] = "json",
    factor_set: Annotated[
        str | None,
        Query(max_length=64, pattern=r"^[a-z0-9_]+$", description="default: uba"),
    ] = None,
    baseline: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z_]+$",
            description="the mode avoided CO2e is measured against; default private_car",
        ),
    ] = None,
) -> Response | SustainabilityReport:
    chosen = _period(start, end, period)
    options = ReportOptions(
        period=chosen, site=site, factor_source=factor_set, baseline_mode=baseline
    )
    try:
        report = sustainability_report(session=session, options=options)
    except ReportOptionInvalid as error:
        path = (
            "query.from" if error.option == "period" and period is None else f"query.{error.option}"
        )
        raise RequestInvalid([Problem(path, str(error))], "no report for these options") from None
    with writing(session):
        audit(
            session,
            user,
            "export",
            "sustainability_report",
            f"{chosen.start.isoformat()}..{chosen.end.isoformat()}",
            {"site": site, "format": format, "factor_set": report.factors.set},
        )
    if format == "json":
        return report
    name = f"nachhaltigkeit_{chosen.start:%Y%m%d}-{chosen.end:%Y%m%d}" + (
        f"_{site}" if site else ""
    )
    body = render_csv(report) if format == "csv" else render_pdf(report)
    return Response(
        content=body,
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )
