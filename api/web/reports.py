"""The sustainability report page: key figures, charts, PDF and CSV downloads.

The report is ``reports.sustainability``'s, computed for the period asked (a month, a
quarter, a year or two dates) and, optionally, one site; the downloads render the same
report with ``reports.export_pdf`` and ``reports.export_csv``. Every report shown or
downloaded is an audited export, as through the API.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.crud import audit, writing
from api.deps import SessionDep
from api.web import charts
from api.web.i18n import MODE_NAMES, number, translator
from api.web.pages import PREFIX, PageError, ReportPage, download, language, not_found, render
from reports.export_csv import render_csv
from reports.export_pdf import render_pdf
from reports.periods import Period, parse_period
from reports.schemas import SustainabilityReport
from reports.sustainability import ReportOptionInvalid, ReportOptions, sustainability_report
from scheduler.models import Site, User

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SCOPE_COLOURS = {"scope_1": "#a33a2b", "scope_2": "#1f5fa8", "scope_3": "#6b4fa0"}


def _report(
    session: SessionDep, user: User, period: str | None, site: str | None, form: str
) -> tuple[SustainabilityReport, str]:
    text = period or date.today().strftime("%Y-%m")
    try:
        chosen: Period = parse_period(text)
    except ValueError:
        raise PageError(422, "Bitte prüfen:", "Zeitraum (2026-11, 2026-Q4 oder 2026)") from None
    try:
        report = sustainability_report(
            session=session, options=ReportOptions(period=chosen, site=site or None)
        )
    except ReportOptionInvalid as error:
        raise PageError(422, "Bitte prüfen:", str(error)) from None
    with writing(session):
        audit(
            session,
            user,
            "export",
            "sustainability_report",
            f"{chosen.start.isoformat()}..{chosen.end.isoformat()}",
            {"site": site or None, "format": form, "factor_set": report.factors.set, "via": "web"},
        )
    return report, text


@router.get("/reports")
def report_page(
    request: Request,
    session: SessionDep,
    user: ReportPage,
    period: str | None = None,
    site: str | None = None,
) -> Response:
    report, text = _report(session, user, period, site, "html")
    lang = language(request)
    _ = translator(lang)

    def _mode(mode: str, label: str) -> str:
        return _(MODE_NAMES[mode]) if mode in MODE_NAMES else label

    by_mode = charts.bars(
        [
            charts.Value(_mode(line.mode, line.label), line.km, charts.colour(line.mode))
            for line in report.by_mode
        ],
        label=_("Kilometer nach Verkehrsmittel"),
        unit="km",
        show=lambda value: number(value, lang, 1),
    )
    avoided = charts.bars(
        [
            charts.Value(
                _mode(line.mode, line.label), line.avoided_co2e_kg, charts.colour(line.mode)
            )
            for line in report.by_mode
        ],
        label=_("Vermiedenes CO2e nach Verkehrsmittel"),
        unit="kg",
        show=lambda value: number(value, lang, 1),
    )
    by_scope = charts.bars(
        [
            charts.Value(_(line.label), line.co2e_kg, SCOPE_COLOURS.get(line.scope, "#4a5360"))
            for line in report.by_scope
        ],
        label=_("CO2e nach Scope (GHG Protocol)"),
        unit="kg",
        show=lambda value: number(value, lang, 1),
    )
    return render(
        request,
        "reports.html",
        report=report,
        period=text,
        site=site or "",
        sites=list(session.scalars(select(Site).order_by(Site.key))),
        by_mode_chart=by_mode,
        avoided_chart=avoided,
        by_scope_chart=by_scope,
    )


@router.get("/reports/sustainability.{kind}")
def report_download(
    session: SessionDep,
    user: ReportPage,
    kind: str,
    period: str | None = None,
    site: str | None = None,
) -> Response:
    if kind not in ("pdf", "csv"):
        raise not_found()
    report, _text = _report(session, user, period, site, kind)
    name = f"nachhaltigkeit_{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}" + (
        f"_{site}" if site else ""
    )
    body = render_pdf(report) if kind == "pdf" else render_csv(report)
    media = "application/pdf" if kind == "pdf" else "text/csv; charset=utf-8"
    return download(body, media, f"{name}.{kind}")
