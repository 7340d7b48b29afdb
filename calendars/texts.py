"""What calendars show people, in German (the default) and English.

One ``Texts`` per language, chosen by ``FIELDWORK_CALENDAR_LANGUAGE``. Everything a
caseworker reads in a calendar or a notification e-mail comes from here, so a wording
is changed in one place and both languages stay complete (the dataclass has no
defaults: a missing text is a type error, not an English word in a German calendar).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)


@dataclass(frozen=True, slots=True)
class Texts:
    #: The only kind of visit the planning format knows: a home visit.
    visit_kind: str
    modes: dict[str, str]
    #: "E-Bike Ennigerloh 1 ab Büro Ennigerloh 09:05"
    departure: str
    back: str
    travel_out: str
    travel_back: str
    cancelled_prefix: str
    duration: str
    visit: str
    tour: str
    caseworker: str
    booking_plan: str
    booking_adhoc: str
    booking_cancelled: str
    booking_for_caseworker: str
    km_planned: str
    reminder: str
    calendar_caseworker: str
    calendar_vehicle: str
    calendar_site: str
    calendar_description: str
    # Notification e-mails about same-day changes.
    mail_subject_moved: str
    mail_subject_cancelled: str
    mail_subject_new: str
    mail_greeting: str
    mail_moved: str
    mail_cancelled: str
    mail_new: str
    mail_footer: str


GERMAN = Texts(
    visit_kind="Hausbesuch",
    modes={
        "e_car": "E-Auto",
        "e_bike": "E-Bike",
        "walk": "zu Fuß",
        "car": "Dienstwagen",
        "private_car": "Privat-Pkw",
    },
    departure="{transport} ab {site} {time}",
    back="zurück {time}",
    travel_out="Hinfahrt ({transport})",
    travel_back="Rückfahrt ({transport})",
    cancelled_prefix="Abgesagt: ",
    duration="{minutes} Min.",
    visit="Besuch {key}",
    tour="Tour {key}",
    caseworker="Fachkraft {key}",
    booking_plan="Gebucht: {caseworker}",
    booking_adhoc="Gebucht (ad hoc)",
    booking_cancelled="Storniert: ",
    booking_for_caseworker="Fahrzeug gebucht: {vehicle}",
    km_planned="{km:.1f} km geplant",
    reminder="Erinnerung: {summary}",
    calendar_caseworker="fieldwork: Termine {name}",
    calendar_vehicle="fieldwork: Fahrzeug {name}",
    calendar_site="fieldwork: Standort {name}",
    calendar_description=(
        "Veröffentlichte Termine aus fieldwork. Haushalte nur mit Pseudonym. "
        "Änderungen am selben Tag kommen zusätzlich per E-Mail."
    ),
    mail_subject_moved="Terminänderung {day}: {summary}",
    mail_subject_cancelled="Termin abgesagt {day}: {summary}",
    mail_subject_new="Neuer Termin {day}: {summary}",
    mail_greeting="Guten Tag,",
    mail_moved="der Termin {summary} wurde verlegt: bisher {old}, jetzt {new}.",
    mail_cancelled="der Termin {summary} am {old} wurde abgesagt.",
    mail_new="neu geplant: {summary} am {new}.",
    mail_footer=(
        "Der Anhang aktualisiert den Termin in Ihrem Kalender sofort; das abonnierte "
        "Kalender-Feed zieht später nach.\n\n-- fieldwork"
    ),
)

ENGLISH = Texts(
    visit_kind="Home visit",
    modes={
        "e_car": "E-car",
        "e_bike": "E-bike",
        "walk": "on foot",
        "car": "pool car",
        "private_car": "private car",
    },
    departure="{transport} from {site} {time}",
    back="back {time}",
    travel_out="Outbound ({transport})",
    travel_back="Return ({transport})",
    cancelled_prefix="Cancelled: ",
    duration="{minutes} min",
    visit="Visit {key}",
    tour="Tour {key}",
    caseworker="Caseworker {key}",
    booking_plan="Booked: {caseworker}",
    booking_adhoc="Booked (ad hoc)",
    booking_cancelled="Cancelled: ",
    booking_for_caseworker="Vehicle booked: {vehicle}",
    km_planned="{km:.1f} km planned",
    reminder="Reminder: {summary}",
    calendar_caseworker="fieldwork: appointments {name}",
    calendar_vehicle="fieldwork: vehicle {name}",
    calendar_site="fieldwork: site {name}",
    calendar_description=(
        "Published appointments from fieldwork. Households by pseudonym only. "
        "Same-day changes also arrive by e-mail."
    ),
    mail_subject_moved="Appointment moved {day}: {summary}",
    mail_subject_cancelled="Appointment cancelled {day}: {summary}",
    mail_subject_new="New appointment {day}: {summary}",
    mail_greeting="Hello,",
    mail_moved="the appointment {summary} has moved: was {old}, now {new}.",
    mail_cancelled="the appointment {summary} on {old} has been cancelled.",
    mail_new="newly planned: {summary} on {new}.",
    mail_footer=(
        "The attachment updates the event in your calendar at once; the subscribed "
        "calendar feed follows later.\n\n-- fieldwork"
    ),
)

TEXTS: dict[Language, Texts] = {"de": GERMAN, "en": ENGLISH}


def texts(language: Language) -> Texts:
    return TEXTS[language]
