"""The report as a printable PDF (A4, German): key figures and charts on page 1, the
tables, the factors with their sources and the method note, the trip log as appendix.

fpdf2 writes the PDF in pure Python; the font is the DejaVu Sans that matplotlib ships
(umlauts, the subscript in CO₂e), embedded as a subset with its Unicode map, so the
text can be searched and extracted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from reports import charts
from reports.german import KIND_DE, STATUS_DE, day, mode_de, number, percent
from reports.schemas import SustainabilityReport, TripLine

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_FAMILY = "DejaVu"
_HEADING = FontFace(emphasis="BOLD", fill_color=(232, 240, 233))
_GREEN = (46, 125, 50)
#: Up to this many trips the PDF lists each (a month of a programme); a longer period
#: gets a table by month and mode, and the CSV and JSON keep every trip.
PDF_TRIP_LINES = 400

Align = Literal["LEFT", "RIGHT", "CENTER"]


class _ReportPDF(FPDF):
    def __init__(self, report: SustainabilityReport) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.add_font(_FAMILY, "", str(_FONTS / "DejaVuSans.ttf"))
        self.add_font(_FAMILY, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(f"{report.title}: {report.site_label}, {report.period.label}")
        self.set_author("fieldwork")
        self.set_lang("de-DE")
        self.set_creation_date(report.generated_at)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(_FAMILY, "", 7)
        self.set_text_color(110)
        self.cell(
            0,
            4,
            f"{self.report.title} · {self.report.site_label} · {self.report.period.label}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(_FAMILY, "", 7)
        self.set_text_color(110)
        self.cell(0, 4, f"Seite {self.page_no()} von {{nb}}", align="C")
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(_FAMILY, "B", 11)
        self.set_text_color(*_GREEN)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)
        self.set_font(_FAMILY, "", 8.5)

    def paragraph(self, text: str, size: float = 8.5) -> None:
        self.set_font(_FAMILY, "", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        align: Sequence[Align],
        size: float = 8,
    ) -> None:
        self.set_font(_FAMILY, "", size)
        with self.table(
            col_widths=tuple(widths),
            text_align=tuple(align),
            headings_style=_HEADING,
            line_height=size * 0.55,
            borders_layout="HORIZONTAL_LINES",
            padding=0.8,
        ) as table:
            heading = table.row()
            for text in header:
                heading.cell(text)
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(text)
        self.ln(2)


def _kg(value: float | None) -> str:
    return "" if value is None else f"{number(value, 3, thousands=True)}"


def _page_one(pdf: _ReportPDF, report: SustainabilityReport) -> None:
    totals, paper, planned = report.totals, report.paper, report.planned_vs_confirmed
    pdf.add_page()
    pdf.set_font(_FAMILY, "B", 16)
    pdf.set_text_color(*_GREEN)
    pdf.cell(0, 9, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.set_font(_FAMILY, "", 10)
    pdf.cell(
        0,
        6,
        f"{report.site_label} · {report.period.label} "
        f"({day(report.period.start)} bis {day(report.period.end)})",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(_FAMILY, "", 7.5)
    pdf.set_text_color(110)
    pdf.cell(
        0,
        5,
        f"Erstellt am {report.generated_at:%d.%m.%Y um %H:%M} UTC mit fieldwork · Faktoren: "
        f"{report.factors.label}, Bezugsjahr "
        f"{', '.join(str(year) for year in report.factors.reference_years)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(0)
    pdf.heading("Kennzahlen")
    figures = [
        (
            "Fahrten",
            f"{totals.trips} (davon {planned.tours_unconfirmed} nur geplant, "
            f"{number(planned.km_unconfirmed, 1, thousands=True)} km)",
        ),
        ("Strecke", f"{number(totals.km, 1, thousands=True)} km"),
        (
            "Anteil emissionsarmer km",
            f"{percent(totals.low_emission_share)} "
            f"({number(totals.low_emission_km, 1, thousands=True)} km)",
        ),
        ("CO₂e gesamt (Scope 1–3)", f"{_kg(totals.co2e_kg)} kg"),
        ("CO₂e je km", f"{number(totals.co2e_g_per_km, 1)} g"),
        (
            "CO₂e je Hausbesuch",
            "–"
            if totals.co2e_per_home_visit_kg is None
            else f"{_kg(totals.co2e_per_home_visit_kg)} kg ({totals.home_visits} Hausbesuche)",
        ),
        ("Energie der E-Fahrzeuge", f"{number(totals.energy_kwh, 1, thousands=True)} kWh"),
        (
            f"Vergleichsbasis ({mode_de(totals.baseline_mode)})",
            f"{_kg(totals.baseline_co2e_kg)} kg CO₂e",
        ),
        (
            "Vermiedene CO₂e (getrennt ausgewiesen)",
            f"{_kg(totals.avoided_co2e_kg)} kg",
        ),
        (
            "Papier vermieden",
            f"{number(paper.sheets, 1, thousands=True)} Blatt · {_kg(paper.paper_kg)} kg · "
            f"{_kg(paper.co2e_kg)} kg CO₂e",
        ),
    ]
    pdf.grid(("Kennzahl", "Wert"), figures, (95, 85), ("LEFT", "RIGHT"), size=9)
    pdf.heading("Diagramme")
    top = pdf.get_y()
    left = pdf.image(charts.km_by_mode(report), x=15, y=top, w=88)
    right = pdf.image(charts.co2e_by_scope(report), x=107, y=top, w=88)
    pdf.set_y(top + max(left.rendered_height, right.rendered_height) + 2)
    pdf.paragraph(
        "Vermiedene Emissionen sind dieselben Kilometer mit der Vergleichsbasis abzüglich "
        "der tatsächlichen Emissionen. Sie werden neben dem Inventar (Scope 1–3) gezeigt "
        "und nie von ihm abgezogen.",
        size=7.5,
    )
    pdf.heading("Treibhausgasinventar nach GHG Protocol")
    pdf.grid(
        ("Scope", "kg CO₂e"),
        [(line.label, _kg(line.co2e_kg)) for line in report.by_scope]
        + [
            ("Summe Scope 1–3", _kg(totals.co2e_kg)),
            ("nachrichtlich: vermiedene CO₂e (nicht verrechnet)", _kg(totals.avoided_co2e_kg)),
        ],
        (140, 40),
        ("LEFT", "RIGHT"),
        size=8.5,
    )


def _tables(pdf: _ReportPDF, report: SustainabilityReport) -> None:
    pdf.add_page()
    pdf.heading("Nach Verkehrsmittel")
    pdf.grid(
        (
            "Verkehrsmittel",
            "Fahrten",
            "km",
            "Anteil",
            "CO₂e kg",
            "Auspuff kg",
            "Vorkette kg",
            "Energie kWh",
            "vermieden kg",
        ),
        [
            (
                line.label,
                str(line.trips),
                number(line.km, 1, thousands=True),
                percent(line.km_share),
                _kg(line.co2e_kg),
                _kg(line.co2e_tailpipe_kg),
                _kg(line.co2e_upstream_kg),
                number(line.energy_kwh, 2, thousands=True),
                _kg(line.avoided_co2e_kg),
            )
            for line in report.by_mode
        ],
        (32, 14, 18, 16, 20, 20, 20, 20, 20),
        ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        size=7.5,
    )
    if report.totals.co2e_unsplit_kg:
        pdf.paragraph(
            f"{_kg(report.totals.co2e_unsplit_kg)} kg CO₂e stammen aus Faktoren, die Auspuff "
            "und Vorkette nicht trennen (ÖPNV, Durchschnitts-Pkw).",
            size=7.5,
        )
    pdf.heading("Nach Scope (GHG Protocol)")
    pdf.grid(
        ("Scope", "CO₂e kg", "Verkehrsmittel"),
        [
            (line.label, _kg(line.co2e_kg), ", ".join(mode_de(mode) for mode in line.modes))
            for line in report.by_scope
        ],
        (95, 25, 60),
        ("LEFT", "RIGHT", "LEFT"),
    )
    planned = report.planned_vs_confirmed
    pdf.heading("Geplant und bestätigt")
    pdf.grid(
        ("", "Anzahl", "km"),
        [
            ("Touren veröffentlichter Pläne", str(planned.tours), ""),
            (
                "bestätigt: geplant / gefahren",
                str(planned.tours_confirmed),
                f"{number(planned.km_planned_confirmed_tours, 1, thousands=True)} / "
                f"{number(planned.km_confirmed_tours, 1, thousands=True)} "
                f"(Abweichung {number(planned.km_difference, 1, thousands=True)})",
            ),
            (
                "unbestätigt (mit geplanten km gezählt)",
                str(planned.tours_unconfirmed),
                number(planned.km_unconfirmed, 1, thousands=True),
            ),
            (
                "Ad-hoc-Fahrten",
                str(planned.adhoc_trips),
                number(planned.adhoc_km, 1, thousands=True),
            ),
            ("korrigierte Fahrten (aktuelle Fassung)", str(planned.corrected_trips), ""),
        ],
        (85, 25, 70),
        ("LEFT", "RIGHT", "RIGHT"),
    )
    pdf.heading("Auslastung der E-Fahrzeuge")
    if report.vehicles:
        pdf.grid(
            ("Fahrzeug", "Art", "Fahrten", "km", "kWh", "gebucht h", "verfügbar h", "Auslastung"),
            [
                (
                    line.vehicle,
                    KIND_DE.get(line.kind, line.kind),
                    str(line.trips),
                    number(line.km, 1, thousands=True),
                    number(line.energy_kwh, 2, thousands=True),
                    number(line.booked_hours, 1, thousands=True),
                    number(line.available_hours, 1, thousands=True),
                    percent(line.utilisation),
                )
                for line in report.vehicles
            ],
            (40, 20, 16, 20, 20, 20, 22, 22),
            ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
            size=7.5,
        )
    else:
        pdf.paragraph("Keine E-Fahrzeuge im Bestand.")
    pdf.heading("Papier vermieden")
    pdf.grid(
        ("Papierloser Schritt", "Anzahl", "Seiten je", "Blatt", "kg Papier", "kg CO₂e"),
        [
            (
                line.label,
                str(line.events),
                number(line.pages_per_event, 2),
                number(line.sheets, 2, thousands=True),
                _kg(line.paper_kg),
                _kg(line.co2e_kg),
            )
            for line in report.paper.lines
        ],
        (70, 18, 22, 22, 24, 24),
        ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        size=7.5,
    )


def _factors_and_method(pdf: _ReportPDF, report: SustainabilityReport) -> None:
    pdf.add_page()
    factors = report.factors
    pdf.heading("Verwendete Faktoren und Quellen")
    pdf.paragraph(
        f"Faktorsatz „{factors.label}“ ({factors.set}), Faktordatei Version {factors.version}. "
        "„nicht geprüft“: zitiert gesehen, im Originaldokument nicht bestätigt.",
        size=7.5,
    )
    pdf.grid(
        ("Jahr", "Faktor", "Wert", "Quelle"),
        [
            (
                str(item.reference_year),
                item.what,
                f"{number(item.value, 2, thousands=True)} {item.unit}"
                + (
                    f" (direkt {number(item.tailpipe, 2)}, Vorkette {number(item.upstream, 2)})"
                    if item.tailpipe is not None and item.upstream is not None
                    else ""
                ),
                f"{item.source}. {item.publisher}, {item.year}; Systemgrenze {item.boundary}"
                + ("" if item.verified else "; nicht geprüft")
                + (f". {item.note}" if item.note else ""),
            )
            for item in factors.items
        ],
        (11, 38, 33, 98),
        ("LEFT", "LEFT", "RIGHT", "LEFT"),
        size=6.5,
    )
    pdf.heading("Methode")
    for paragraph in report.method:
        pdf.paragraph(paragraph, size=8)


def _trips_by_month(pdf: _ReportPDF, report: SustainabilityReport) -> None:
    """The appendix of a long period: trips by month and mode instead of every line."""
    pdf.heading("Anhang: Fahrten nach Monat und Verkehrsmittel")
    pdf.paragraph(
        f"Der Zeitraum umfasst {len(report.trips)} Fahrten; das vollständige Fahrtenbuch "
        "mit jeder Fahrt steht in der CSV- und JSON-Ausgabe desselben Berichts "
        "(fieldwork report --format csv).",
        size=8,
    )
    groups: dict[tuple[str, str], list[TripLine]] = defaultdict(list)
    for line in report.trips:
        groups[(f"{line.date:%Y-%m}", line.mode)].append(line)
    pdf.grid(
        ("Monat", "Verkehrsmittel", "Fahrten", "davon geplant", "km", "kWh", "CO₂e kg"),
        [
            (
                f"{month[5:]}.{month[:4]}",
                mode_de(mode),
                str(len(lines)),
                str(sum(1 for line in lines if line.status == "planned")),
                number(sum(line.km for line in lines), 1, thousands=True),
                number(sum(line.energy_kwh or 0.0 for line in lines), 2, thousands=True),
                _kg(sum(line.co2e_kg for line in lines)),
            )
            for (month, mode), lines in sorted(groups.items())
        ],
        (30, 50, 25, 30, 35, 30, 35),
        ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        size=7.5,
    )


def _trip_log(pdf: _ReportPDF, report: SustainabilityReport) -> None:
    pdf.add_page(orientation="landscape")
    if len(report.trips) > PDF_TRIP_LINES:
        _trips_by_month(pdf, report)
        return
    pdf.heading("Anhang: Fahrtenbuch")
    if not report.trips:
        pdf.paragraph("Keine Fahrten im Zeitraum.")
        return
    pdf.grid(
        (
            "Beleg",
            "Datum",
            "MA",
            "Standort",
            "Verkehrsmittel",
            "Fahrzeug",
            "Status",
            "km geplant",
            "km",
            "kWh",
            "CO₂e kg",
            "Basis kg",
            "vermieden kg",
            "Besuche",
        ),
        [
            (
                line.ref + (" (korr.)" if line.corrected else ""),
                day(line.date),
                line.caseworker,
                line.site,
                mode_de(line.mode),
                line.vehicle or "",
                STATUS_DE[line.status],
                number(line.km_planned, 1),
                number(line.km, 1),
                number(line.energy_kwh, 2),
                _kg(line.co2e_kg),
                _kg(line.baseline_co2e_kg),
                _kg(line.avoided_co2e_kg),
                "" if line.home_visits is None else str(line.home_visits),
            )
            for line in report.trips
        ],
        (24, 17, 12, 15, 22, 24, 27, 16, 14, 14, 18, 18, 20, 13),
        (
            "LEFT",
            "LEFT",
            "LEFT",
            "LEFT",
            "LEFT",
            "LEFT",
            "LEFT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
            "RIGHT",
        ),
        size=6.5,
    )


def render_pdf(report: SustainabilityReport) -> bytes:
    """The report as the bytes of a PDF file."""
    pdf = _ReportPDF(report)
    _page_one(pdf, report)
    _tables(pdf, report)
    _factors_and_method(pdf, report)
    _trip_log(pdf, report)
    return bytes(pdf.output())
