"""German first, English on request: a dictionary from the German text to the English.

Templates and routes write the German text and pass it through ``_()``; in English the
dictionary gives the translation. A German text without an English entry would show in
German on an English page, so a test reads every text passed to ``_()`` in the templates and
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
    "Lastenrad": "cargo bike",
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
    "Neue Fachkraft": "New caseworker",
    "Besuch anlegen": "Add a visit",
    "Datenschutz": "Data protection",
    "Auskunft (Art. 15 DSGVO) als JSON herunterladen": "Download the GDPR Art. 15 record as JSON",
    "Personenbezogene Daten dieses Haushalts löschen (Art. 17 DSGVO); Kilometer und CO2e der "
    "Besuche bleiben anonym erhalten.": (
        "Erase this household's personal data (GDPR Art. 17); the visits' km and CO2e stay, "
        "anonymised."
    ),
    "Löschen": "Erase",
    "Die personenbezogenen Daten des Haushalts wurden gelöscht.": (
        "The household's personal data was erased."
    ),
    "Bitte bestätigen, dass der Haushalt gelöscht werden soll.": (
        "Please confirm that the household is to be erased."
    ),
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
    "In den Kalendern der Fachkräfte": "In the caseworkers' calendars",
    "unverändert": "unchanged",
    "Termine blieben, wo sie waren": "appointments stayed where they were",
    "verschoben": "moved",
    "nicht mehr geplant": "no longer planned",
    # caseworker
    "Keine Termine in dieser Woche.": "No appointments this week.",
    "vorläufig": "tentative",
    "bestätigt": "confirmed",
    "abgesagt": "cancelled",
    # trips and calendar
    "Fahrten bestätigen": "Confirm trips",
    "Keine offenen Fahrten.": "No trips to confirm.",
    "geplant": "planned",
    "Gefahrene Kilometer": "Kilometres driven",
    "Bestätigen": "Confirm",
    "Bestätigte Fahrten": "Confirmed trips",
    "Fahrt bestätigt.": "Trip confirmed.",
    "Fahrt nicht bestätigt": "Trip not confirmed",
    "Fahrten werden nach der Fahrt bestätigt, nicht vorher.": (
        "Trips are confirmed after the trip, not before."
    ),
    # visit documentation (only THAT it was kept digitally)
    "Besuchsdokumentation digital abgelegt": "Visit record kept digitally",
    "Einwilligung digital erfasst": "Consent recorded digitally",
    "Digitale Ablage": "Kept digitally",
    "Vermerken": "Note",
    "vermerkt am": "noted on",
    "Digitale Ablage vermerkt.": "Noted as kept digitally.",
    "Nicht vermerkt": "Not noted",
    "Bitte mindestens ein Kästchen ankreuzen.": "Please tick at least one box.",
    "Mein Kalender": "My calendar",
    "Abonnieren Sie Ihre Termine im Kalender des Diensthandys oder am Arbeitsplatz. Der "
    "Kalender zeigt nur Pseudonyme, keine Namen oder Adressen.": (
        "Subscribe to your appointments in your work phone's or desktop calendar. The "
        "calendar shows pseudonyms only, no names or addresses."
    ),
    "Ihr Kalender-Link": "Your calendar link",
    "Der Link wird nur jetzt angezeigt. Wer ihn kennt, sieht Ihre Termine: nicht weitergeben.": (
        "The link is shown only now. Whoever knows it sees your appointments: keep it to yourself."
    ),
    "Im Kalender abonnieren": "Subscribe in your calendar",
    "Link zum Kopieren": "Link to copy",
    "QR-Code des Kalender-Links zum Scannen mit dem Diensthandy": (
        "QR code of the calendar link, to scan with the work phone"
    ),
    "Ein Kalender-Link ist aktiv seit": "A calendar link is active since",
    "Er wird aus Sicherheitsgründen nicht noch einmal angezeigt. Ein neuer Link ersetzt "
    "ihn; der alte hört dann auf zu funktionieren.": (
        "For security it is not shown again. A new link replaces it; the old one then "
        "stops working."
    ),
    "Sie haben noch keinen Kalender-Link.": "You have no calendar link yet.",
    "Neuen Link erzeugen": "Make a new link",
    "Kalender-Link erzeugen": "Make a calendar link",
    # booking a vehicle
    "Fahrzeug buchen": "Book a vehicle",
    "Gebucht.": "Booked.",
    "Storniert.": "Cancelled.",
    "Kilometer (hin und zurück)": "Kilometres (there and back)",
    "beliebig": "any",
    "Zweck": "Purpose",
    "ohne Namen": "no names",
    "Freie Fahrzeuge suchen": "Find free vehicles",
    "Freie Fahrzeuge": "Free vehicles",
    "Die Fahrzeuge mit den geringsten Emissionen stehen oben.": "Lowest emissions first.",
    "Zu dieser Zeit ist kein passendes Fahrzeug frei. Die nächsten freien Zeiten:": (
        "No suitable vehicle is free at that time. The nearest free times:"
    ),
    "Kein Fahrzeug des Büros kann diese Fahrt übernehmen.": (
        "No vehicle of the office can make this trip."
    ),
    "Restreichweite": "range left",
    "Buchen": "Book",
    "Meine Buchungen": "My bookings",
    "Keine Buchungen.": "No bookings.",
    "Stornieren": "Cancel",
    "Buchung nicht möglich": "Cannot book",
    # CSV import
    "CSV-Import": "CSV import",
    "Haushalte und Fachkräfte aus Excel: Semikolon oder Komma, Dezimalkomma, deutsche oder "
    "englische Spaltennamen. Es werden alle Zeilen übernommen oder keine.": (
        "Households and caseworkers from Excel: semicolons or commas, decimal commas, "
        "German or English column names. All rows are imported, or none."
    ),
    "Vorlage und aktueller Stand zum Bearbeiten in Excel": (
        "Template and current data to edit in Excel"
    ),
    "Haushalte als CSV": "Households as CSV",
    "Fachkräfte als CSV": "Caseworkers as CSV",
    "Importiert": "Imported",
    "Zeilen": "rows",
    "neu": "new",
    "geändert": "changed",
    "Art der Datei": "Kind of file",
    "CSV-Datei": "CSV file",
    "Hochladen und importieren": "Upload and import",
    "Bitte eine CSV-Datei und ihre Art wählen.": "Please choose a CSV file and its kind.",
    "Die Datei ist größer als 5 MB.": "The file is larger than 5 MB.",
    "Adresse": "Address",
    "optional; ohne Breite und Länge wird sie in Koordinaten umgerechnet, wenn ein "
    "Geocoder eingerichtet ist": (
        "optional; without latitude and longitude it is geocoded when a geocoder is set up"
    ),
    # sustainability
    "Nachhaltigkeitsbericht": "Sustainability report",
    "Zeitraum": "Period",
    "alle Standorte": "all sites",
    "Als PDF herunterladen": "Download as PDF",
    "Als CSV (Excel) herunterladen": "Download as CSV (Excel)",
    "Fahrten": "Trips",
    "gefahren": "travelled",
    "emissionsarm (E-Bike, E-Auto, zu Fuß)": "low-emission (e-bike, e-car, on foot)",
    "Hausbesuche": "Home visits",
    "CO2e je Hausbesuch": "CO2e per home visit",
    "Blatt Papier vermieden": "sheets of paper avoided",
    "Kilometer nach Verkehrsmittel": "Kilometres by mode",
    "Vermiedenes CO2e nach Verkehrsmittel": "Avoided CO2e by mode",
    "CO2e nach Scope (GHG Protocol)": "CO2e by scope (GHG Protocol)",
    "Nach Verkehrsmittel": "By mode",
    "Geplant und bestätigt": "Planned and confirmed",
    "Touren bestätigt": "tours confirmed",
    "Abweichung der bestätigten von den geplanten km": "confirmed minus planned km",
    "noch unbestätigt": "not yet confirmed",
    "Methode und Emissionsfaktoren": "Method and emission factors",
    "Zeitraum (2026-11, 2026-Q4 oder 2026)": "Period (2026-11, 2026-Q4 or 2026)",
    # fleet
    "Buchung": "Booking",
    "Sperrung": "Block",
    "Buchungen je Fahrzeug": "Bookings per vehicle",
    "Auslastung je Fahrzeug": "Utilisation per vehicle",
    "Kilometer je Fahrzeug": "Kilometres per vehicle",
    "Gebuchte Stunden je verfügbare Betriebsstunde (Mo–Fr 7–19 Uhr, ohne Wartung).": (
        "Booked hours per available service hour (Mon-Fri 7:00-19:00, maintenance excluded)."
    ),
    "Nutzung als CSV (Excel)": "Usage as CSV (Excel)",
    "Bestätigte und nur geplante Kilometer zusammen.": "Confirmed and planned-only km together.",
    "km bestätigt": "km confirmed",
    "km nur geplant": "km planned only",
    "Tage ungenutzt": "Idle days",
    "Bedarf je Standort und Art": "Demand per site and kind",
    "höchstens gleichzeitig gebucht": "Most booked at once",
    "abgelehnt": "refused",
    "zusätzlich nötig": "extra needed",
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
    "Sperrung nicht möglich": "Cannot block the vehicle",
    "Außer Dienst gestellt": "Retired",
    "Außer Dienst stellen": "Retire",
    "Das Fahrzeug nimmt keine neuen Buchungen mehr an; seine bisherigen Fahrten bleiben in "
    "den Berichten.": "The vehicle takes no new bookings; its past trips stay in the reports.",
    "Diese Buchungen brauchen ein anderes Fahrzeug": "These bookings need another vehicle",
    "Es gibt keine künftigen Buchungen.": "There are no future bookings.",
    "Zurück zum Fuhrpark": "Back to the fleet",
    "Fahrzeug anlegen": "Add a vehicle",
    "Kennung": "Id",
    "Reichweite (km pro Tag)": "Range (km per day)",
    "Verbrauch (kWh/100 km)": "Consumption (kWh/100 km)",
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
    # a fleet vehicle kind (its trips are e-bike trips)
    "cargo_bike": "Lastenrad",
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
