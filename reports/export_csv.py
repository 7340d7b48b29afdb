"""The report as CSV for German Excel: UTF-8 with BOM (Excel then reads the umlauts),
semicolons, decimal commas, dates as ``TT.MM.JJJJ``, CRLF line ends.

One file, one block per table, each block a title row, a header row and its rows,
blocks separated by an empty row: Kennzahlen, Verkehrsmittel, Scopes, Geplant und
bestätigt, E-Fahrzeuge, Papier, Faktoren, Methode, Fahrtenbuch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from reports.german import KIND_DE, STATUS_DE, day, mode_de, number, yes_no
from reports.schemas import SustainabilityReport

BOM = "\ufeff"

Row = Sequence[str | int]


def _key_figures(report: SustainabilityReport) -> list[Row]:
    totals, paper = report.totals, report.paper
    share = totals.low_emission_share
    return [
        ("Zeitraum", report.period.label, ""),
        ("Von", day(report.period.start), ""),
        ("Bis", day(report.period.end), ""),
        ("Standort", report.site_label, ""),
        ("Fahrten", totals.trips, "Anzahl"),
        ("Strecke", number(totals.km, 3), "km"),
        ("davon emissionsarm", number(totals.low_emission_km, 3), "km"),
        ("Anteil emissionsarmer km", number(share * 100 if share is not None else None, 2), "%"),
        ("CO2e gesamt", number(totals.co2e_kg, 3), "kg"),
        ("CO2e Auspuff (direkt)", number(totals.co2e_tailpipe_kg, 3), "kg"),
        ("CO2e Vorkette", number(totals.co2e_upstream_kg, 3), "kg"),
        ("CO2e nicht aufgeteilt", number(totals.co2e_unsplit_kg, 3), "kg"),
        ("CO2e je km", number(totals.co2e_g_per_km, 1), "g"),
        ("Hausbesuche (in Touren)", totals.home_visits, "Anzahl"),
        ("CO2e je Hausbesuch", number(totals.co2e_per_home_visit_kg, 3), "kg"),
        ("Vergleichsbasis", mode_de(totals.baseline_mode), ""),
        ("CO2e der Vergleichsbasis", number(totals.baseline_co2e_kg, 3), "kg"),
        ("Vermiedene CO2e (getrennt, nicht verrechnet)", number(totals.avoided_co2e_kg, 3), "kg"),
        ("Energie E-Fahrzeuge", number(totals.energy_kwh, 3), "kWh"),
        ("Papier vermieden", number(paper.sheets, 2), "Blatt"),
        ("Papier vermieden", number(paper.paper_kg, 3), "kg"),
        ("CO2e Papier vermieden", number(paper.co2e_kg, 3), "kg"),
    ]


def render_csv(report: SustainabilityReport) -> bytes:
    """The report as bytes of a German-Excel CSV file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def block(title: str, header: Row, rows: Sequence[Row]) -> None:
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])

    block(report.title, ("Kennzahl", "Wert", "Einheit"), _key_figures(report))
    block(
        "Nach Verkehrsmittel",
        (
            "Verkehrsmittel",
            "emissionsarm",
            "Fahrten",
            "km",
            "Anteil km %",
            "CO2e kg",
            "davon Auspuff kg",
            "davon Vorkette kg",
            "nicht aufgeteilt kg",
            "Energie kWh",
            "Vergleichsbasis CO2e kg",
            "vermieden CO2e kg",
        ),
        [
            (
                line.label,
                yes_no(line.low_emission),
                line.trips,
                number(line.km, 3),
                number(line.km_share * 100 if line.km_share is not None else None, 2),
                number(line.co2e_kg, 3),
                number(line.co2e_tailpipe_kg, 3),
                number(line.co2e_upstream_kg, 3),
                number(line.co2e_unsplit_kg, 3),
                number(line.energy_kwh, 3),
                number(line.baseline_co2e_kg, 3),
                number(line.avoided_co2e_kg, 3),
            )
            for line in report.by_mode
        ],
    )
    block(
        "Nach Scope (GHG Protocol)",
        ("Scope", "CO2e kg", "Verkehrsmittel"),
        [
            (line.label, number(line.co2e_kg, 3), ", ".join(mode_de(m) for m in line.modes))
            for line in report.by_scope
        ],
    )
    planned = report.planned_vs_confirmed
    block(
        "Geplant und bestätigt",
        ("Kennzahl", "Wert", "Einheit"),
        [
            ("Touren veröffentlichter Pläne", planned.tours, "Anzahl"),
            ("davon bestätigt", planned.tours_confirmed, "Anzahl"),
            ("davon unbestätigt (mit geplanten km gezählt)", planned.tours_unconfirmed, "Anzahl"),
            (
                "geplante km der bestätigten Touren",
                number(planned.km_planned_confirmed_tours, 3),
                "km",
            ),
            ("bestätigte km derselben Touren", number(planned.km_confirmed_tours, 3), "km"),
            ("Abweichung bestätigt - geplant", number(planned.km_difference, 3), "km"),
            ("km unbestätigter Touren", number(planned.km_unconfirmed, 3), "km"),
            ("Ad-hoc-Fahrten", planned.adhoc_trips, "Anzahl"),
            ("km der Ad-hoc-Fahrten", number(planned.adhoc_km, 3), "km"),
            ("korrigierte Fahrten", planned.corrected_trips, "Anzahl"),
        ],
    )
    block(
        "E-Fahrzeuge",
        (
            "Fahrzeug",
            "Art",
            "Standort",
            "Fahrten",
            "km",
            "Energie kWh",
            "gebucht h",
            "verfügbar h",
            "Auslastung %",
        ),
        [
            (
                line.vehicle,
                KIND_DE.get(line.kind, line.kind),
                line.site,
                line.trips,
                number(line.km, 3),
                number(line.energy_kwh, 3),
                number(line.booked_hours, 2),
                number(line.available_hours, 2),
                number(line.utilisation * 100 if line.utilisation is not None else None, 2),
            )
            for line in report.vehicles
        ],
    )
    block(
        "Papier vermieden",
        ("Schritt", "Anzahl", "Seiten je Schritt", "Seiten", "Blatt", "Papier kg", "CO2e kg"),
        [
            (
                line.label,
                line.events,
                number(line.pages_per_event, 2),
                number(line.pages, 2),
                number(line.sheets, 2),
                number(line.paper_kg, 3),
                number(line.co2e_kg, 3),
            )
            for line in report.paper.lines
        ],
    )
    block(
        f"Faktoren (Satz {report.factors.set}, Faktordatei {report.factors.version})",
        (
            "Bezugsjahr",
            "Faktor",
            "Wert",
            "Einheit",
            "davon direkt",
            "davon Vorkette",
            "Systemgrenze",
            "Quelle",
            "Herausgeber",
            "Jahr",
            "geprüft",
            "Hinweis",
        ),
        [
            (
                item.reference_year,
                item.what,
                number(item.value, 3),
                item.unit,
                number(item.tailpipe, 3),
                number(item.upstream, 3),
                item.boundary,
                item.source,
                item.publisher,
                item.year,
                yes_no(item.verified),
                item.note or "",
            )
            for item in report.factors.items
        ],
    )
    block("Methode", ("Absatz",), [(paragraph,) for paragraph in report.method])
    block(
        "Fahrtenbuch",
        (
            "Beleg",
            "Datum",
            "Mitarbeitende",
            "Standort",
            "Verkehrsmittel",
            "Fahrzeug",
            "Status",
            "korrigiert",
            "km geplant",
            "km",
            "Energie kWh",
            "CO2e kg",
            "Auspuff kg",
            "Vorkette kg",
            "Vergleichsbasis kg",
            "vermieden kg",
            "Hausbesuche",
        ),
        [
            (
                line.ref,
                day(line.date),
                line.caseworker,
                line.site,
                mode_de(line.mode),
                line.vehicle or "",
                STATUS_DE[line.status],
                yes_no(line.corrected),
                number(line.km_planned, 3),
                number(line.km, 3),
                number(line.energy_kwh, 3),
                number(line.co2e_kg, 3),
                number(line.co2e_tailpipe_kg, 3),
                number(line.co2e_upstream_kg, 3),
                number(line.baseline_co2e_kg, 3),
                number(line.avoided_co2e_kg, 3),
                "" if line.home_visits is None else line.home_visits,
            )
            for line in report.trips
        ],
    )
    return (BOM + buffer.getvalue()).encode("utf-8")
