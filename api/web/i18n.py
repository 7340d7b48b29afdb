"""German first, English on request: a dictionary from the German text to the English.

Templates and routes write the German text and pass it through ``_()``; in English the
dictionary gives the translation. A German text without an English entry would show in
German on an English page, so a test reads every ``_("...")`` of the templates and of
the page modules and fails on any that is missing here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")
DEFAULT_LANGUAGE: Language = "de"

WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
WEEKDAY_NAMES: dict[Language, tuple[str, ...]] = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

ENGLISH: dict[str, str] = {
    # frame and navigation
    "Hauptnavigation": "Main navigation",
    "Zum Inhalt springen": "Skip to content",
    "Wochenplan": "Week plan",
    "Haushalte": "Households",
    "Fachkräfte": "Caseworkers",
    "Planung": "Planning",
    "Fuhrpark": "Fleet",
    "Nachhaltigkeit": "Sustainability",
    "Meine Woche": "My week",
    "Meine Haushalte": "My households",
    "Abmelden": "Sign out",
    "Angemeldet als": "Signed in as",
    "Sprache": "Language",
    "Rolle": "Role",
    "Administration": "Administration",
    "Koordination": "Coordination",
    "Fachkraft": "Caseworker",
    "Fuhrparkverwaltung": "Fleet management",
    # sign-in
    "Anmelden": "Sign in",
    "Anmeldung": "Sign-in",
    "Mit Passwort": "With a password",
    "Mit API-Token": "With an API token",
    "Benutzername": "User name",
    "Passwort": "Password",
    "API-Token": "API token",
    "beginnt mit fw_": "starts with fw_",
    "Name oder Passwort stimmen nicht.": "The name or the password is wrong.",
    "Das Token ist unbekannt oder widerrufen.": "The token is unknown or revoked.",
    "Bitte melden Sie sich an.": "Please sign in.",
    "Sie wurden abgemeldet.": "You have signed out.",
    # errors
    "Nicht gefunden": "Not found",
    "Diese Seite gibt es nicht, oder sie ist nicht für Sie bestimmt.": (
        "This page does not exist, or it is not meant for you."
    ),
    "Kein Zugriff": "No access",
    "Ihre Rolle darf diese Seite nicht sehen.": "Your role may not see this page.",
    "Formular abgelaufen": "Form expired",
    "Das Formular war abgelaufen oder kam nicht von dieser Seite. Bitte erneut versuchen.": (
        "The form had expired or did not come from this site. Please try again."
    ),
    "Zur Startseite": "To the start page",
    "Bitte prüfen:": "Please check:",
    "Gespeichert.": "Saved.",
    "Gelöscht.": "Deleted.",
    # week
    "Woche": "Week",
    "Plan": "Plan",
    "Anzeigen": "Show",
    "Es gibt noch keine Planungswoche. Importieren Sie ein Szenario oder eine CSV-Datei.": (
        "There is no planning week yet. Import a scenario or a CSV file."
    ),
    "Für diese Woche gibt es noch keinen Plan.": "There is no plan for this week yet.",
    "Geplante Besuche": "Visits planned",
    "Ungeplant": "Unplanned",
    "km nach Verkehrsmittel": "km by mode",
    "CO2e": "CO2e",
    "vermiedenes CO2e": "avoided CO2e",
    "Kennzahlen": "Key figures",
    "Zeitplan je Fachkraft": "Timeline per caseworker",
    "Besuch": "Visit",
    "Fahrt": "Travel",
    "Fahrzeug": "Vehicle",
    "Verkehrsmittel": "Mode",
    "Ungeplante Besuche": "Unplanned visits",
    "Alle Besuche sind geplant.": "Every visit is planned.",
    "Grund": "Reason",
    "Erläuterung": "Detail",
    "Karte der Touren": "Map of the tours",
    "Tag": "Day",
    "Büro": "Office",
    "Haushalt": "Household",
    "Orientierungsflächen um Ortsmitten, keine amtlichen Grenzen": (
        "Orientation areas around town centres, not official boundaries"
    ),
    "Kartendaten": "Map data",
    "Tour": "Tour",
    "Abfahrt": "Departure",
    "Rückkehr": "Return",
    "Besuche": "Visits",
    "Touren": "Tours",
    "Tabelle der Termine": "Table of appointments",
    "Termin": "Appointment",
    "Beginn": "Start",
    "Ende": "End",
    "Status": "Status",
    "Entwurf": "Draft",
    "veröffentlicht": "published",
    "abgelöst": "superseded",
    "fertig": "done",
    "läuft": "running",
    "wartet": "queued",
    "fehlgeschlagen": "failed",
    # modes
    "E-Auto": "e-car",
    "Dienstwagen": "pool car",
    "Privatwagen": "private car",
    "E-Bike": "e-bike",
    "zu Fuß": "on foot",
    # reasons
    "keine Fachkraft mit allen Qualifikationen": "nobody holds every required skill",
    "Fachkraft abwesend": "caseworker absent",
    "kein passendes Zeitfenster": "no time window",
    "nicht erreichbar": "out of reach",
    "kein Fahrzeug frei": "no vehicle",
    "Fixierung nicht möglich": "pin impossible",
    "Kapazität": "capacity",
    # pins
    "Fixieren": "Pin",
    "Fixierung": "Pin",
    "Fixierung aufheben": "Remove pin",
    "fixiert": "pinned",
    "Startzeit": "Start time",
    "Besuch fixieren": "Pin a visit",
    "Neu planen": "Re-plan",
    # households
    "Pseudonym": "Pseudonym",
    "Standort": "Site",
    "Hauptzuständig": "Primary caseworker",
    "Weitere zulässige Fachkräfte": "Other allowed caseworkers",
    "Benötigte Qualifikationen": "Required skills",
    "Erreichbarkeit": "Availability",
    "jederzeit in der Arbeitszeit": "any time within working hours",
    "nur zu diesen Zeiten": "only at these times",
    "Breite": "Latitude",
    "Länge": "Longitude",
    "Speichern": "Save",
    "Neuer Haushalt": "New household",
    "Anlegen": "Create",
    "keine": "none",
    "Haushalt bearbeiten": "Edit household",
    "durch Komma getrennt": "separated by commas",
    "Wochentag": "Weekday",
    "von": "from",
    "bis": "to",
    "gelöscht (DSGVO)": "erased (GDPR)",
    "Besuche dieses Haushalts": "This household's visits",
    "Dauer (Minuten)": "Duration (minutes)",
    "Priorität": "Priority",
    "Suche": "Search",
    "Filtern": "Filter",
    # caseworkers
    "Name": "Name",
    "Kürzel": "Id",
    "Besuche pro Tag höchstens": "At most visits per day",
    "Verkehrsmittel (erlaubt)": "Modes allowed",
    "Qualifikationen": "Skills",
    "Arbeitszeiten": "Working hours",
    "frei": "off",
    "Abwesenheiten": "Absences",
    "Abwesenheit eintragen": "Add an absence",
    "Keine Abwesenheiten.": "No absences.",
    "Entfernen": "Remove",
    "Fachkraft bearbeiten": "Edit caseworker",
    # planning runs
    "Planungslauf": "Planning run",
    "Besuche platziert": "visits placed",
    "Aktualisieren": "Refresh",
    "Rechenzeit (Sekunden)": "Time limit (seconds)",
    "Ausgangspunkt": "Starting point",
    "veröffentlichten Plan fortschreiben, falls vorhanden": "re-plan the published plan, if any",
    "neu von Grund auf": "from scratch",
    "Planungslauf starten": "Start a planning run",
    "ist fertig, aber noch nicht veröffentlicht. Erst nach dem Veröffentlichen sehen die "
    "Fachkräfte ihn und die Fahrzeuge sind gebucht.": (
        "is done but not published yet. Caseworkers see it, and its vehicles are booked, "
        "only once it is published."
    ),
    "Veröffentlichen": "Publish",
    "Veröffentlicht.": "Published.",
    "Veröffentlichen nicht möglich": "Cannot publish",
    "Planungslauf nicht möglich": "Cannot start the planning run",
    "Neu geplant": "Re-planned",
    "Termine blieben, wo sie waren": "appointments stayed where they were",
    "verschoben": "moved",
    "nicht mehr geplant": "no longer planned",
    # caseworker
    "Keine Termine in dieser Woche.": "No appointments this week.",
    "vorläufig": "tentative",
    "bestätigt": "confirmed",
    "abgesagt": "cancelled",
    # fleet
    "Buchung": "Booking",
    "Sperrung": "Block",
    "Buchungen je Fahrzeug": "Bookings per vehicle",
    "Auslastung je Fahrzeug": "Utilisation per vehicle",
    "Kilometer je Fahrzeug": "Kilometres per vehicle",
    "Anteil der gebuchten Stunden an 60 Betriebsstunden (Mo–Fr 7–19 Uhr), ohne Sperrzeiten.": (
        "Share of the 60 service hours (Mon-Fri 7:00-19:00) booked, blocked hours excluded."
    ),
    "Fahrzeuge": "Vehicles",
    "Art": "Kind",
    "Reichweite": "Range",
    "Buchungen": "Bookings",
    "Auslastung": "Utilisation",
    "außer Dienst": "retired",
    "Wartung und Sperrungen": "Maintenance and blocks",
    "Sperrung eintragen": "Add a block",
    "Wartung": "Maintenance",
    "Das Ende der Sperrung muss nach ihrem Beginn liegen.": "The block must end after it starts.",
}

#: Reason codes of unplanned visits, as a coordinator reads them.
REASONS: dict[str, str] = {
    "no_caseworker": "keine Fachkraft mit allen Qualifikationen",
    "caseworker_absent": "Fachkraft abwesend",
    "no_time_window": "kein passendes Zeitfenster",
    "out_of_reach": "nicht erreichbar",
    "no_vehicle": "kein Fahrzeug frei",
    "pin_infeasible": "Fixierung nicht möglich",
    "capacity": "Kapazität",
}

MODE_NAMES: dict[str, str] = {
    "e_car": "E-Auto",
    "car": "Dienstwagen",
    "private_car": "Privatwagen",
    "e_bike": "E-Bike",
    "walk": "zu Fuß",
}

ROLE_NAMES: dict[str, str] = {
    "admin": "Administration",
    "coordinator": "Koordination",
    "caseworker": "Fachkraft",
    "fleet_manager": "Fuhrparkverwaltung",
}

PLAN_STATUS_NAMES: dict[str, str] = {
    "queued": "wartet",
    "running": "läuft",
    "done": "fertig",
    "failed": "fehlgeschlagen",
    "published": "veröffentlicht",
    "superseded": "abgelöst",
}

APPOINTMENT_STATUS_NAMES: dict[str, str] = {
    "tentative": "vorläufig",
    "confirmed": "bestätigt",
    "cancelled": "abgesagt",
}


def translator(language: Language) -> Callable[[str], str]:
    """``_()`` for one language: German as written, English from the dictionary."""
    if language == "de":
        return lambda text: text
    return lambda text: ENGLISH.get(text, text)


def number(value: float, language: Language, digits: int = 1) -> str:
    """``1234.5`` as ``1.234,5`` in German and ``1,234.5`` in English."""
    text = f"{value:,.{digits}f}"
    if language == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def day(value: date, language: Language) -> str:
    """``Mo 30.11.`` / ``Mon 30 Nov``-like short dates for column heads."""
    weekday = WEEKDAYS[language][value.weekday()]
    if language == "de":
        return f"{weekday} {value.day:02d}.{value.month:02d}."
    return f"{weekday} {value.isoformat()[5:]}"


def clock(value: datetime) -> str:
    return value.strftime("%H:%M")
