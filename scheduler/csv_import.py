"""Households and caseworkers as coordinators keep them in Excel: CSV in and out.

What Excel writes, read as it is:

- separators: semicolons (German Excel), commas when the header clearly uses them,
  tabs (Excel's "Unicode text"); an Excel ``sep=;`` first line is honoured;
- encodings: UTF-8 with or without BOM, UTF-16 with BOM, and Windows-1252 (older
  Excel's "CSV (Trennzeichen-getrennt)"), which is detected and reported;
- German or English headers (``Breitengrad`` or ``lat``; umlauts may be written ``ae``),
  German decimal commas (``51,8345``), German day names (``Mo 09:00-12:00, Mi
  14:00-17:00``, ``Mo-Fr 08:00-16:00``), travel modes as people say them (``E-Bike``,
  ``zu Fuß``, ``Privat-PKW``).

An import is all or nothing: every row is checked first and every problem reported with
its row (as Excel numbers them, the header is row 1), its column (as the file names it)
and a message in German; if there is any, nothing is written. Records are matched by
pseudonym (households) or Kürzel (caseworkers) and created or updated through the same
code as a scenario import (``scheduler.service``). A column the file does not have leaves
that field of an existing record as it is; an empty cell empties it (no skills, any
time). Columns the importer does not know are ignored (and named in the summary), so a
sheet may keep notes of its own; a column that looks like a misspelt known one is an
error instead, because ignoring it would silently drop data.

Exports write the same columns (UTF-8 with BOM, semicolons, CRLF, decimal commas), so a
coordinator can export, edit in Excel and import again.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.audit import record
from core.db import transaction
from core.errors import Conflict, Infeasible
from fleet.modes import MODE_LABELS_DE, MODES, Mode
from scheduler import format as fmt
from scheduler.geocoding import NOT_CONFIGURED, Coordinates, Geocoder, geocode
from scheduler.models import Caseworker, Household, Site
from scheduler.service import _Importer

Kind = Literal["households", "caseworkers"]
T = TypeVar("T")

#: The longest key the database holds (the planning format's ids).
_KEY_LENGTH = 200
_MAX_VISITS_PER_DAY = 100


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem of a CSV file: its row (1 is the header; 0 the file as a whole),
    its column as the file names it (None for the whole row) and what is wrong."""

    row: int
    column: str | None
    message: str

    @property
    def path(self) -> str:
        if self.row == 0:
            return "Datei"
        where = f"Zeile {self.row}"
        return where if self.column is None else f"{where}, {self.column}"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class CsvInvalid(Infeasible):
    """A CSV file that cannot be imported; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.row, p.column or ""))
        rows = {problem.row for problem in self.problems if problem.row > 1}
        if rows:
            summary = (
                f"{len(rows)} fehlerhafte Zeile(n), nichts wurde importiert "
                f"({len(self.problems)} Problem(e))"
            )
        else:
            summary = "die Datei kann nicht importiert werden, nichts wurde importiert"
        self.summary = summary
        super().__init__(summary)


class _CellError(ValueError):
    """A cell that cannot be read; the message is German, for the coordinator."""


# ---------------------------------------------------------------------------- columns


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    #: The header exports write (German, as coordinators name the column).
    header: str
    #: Other names accepted, German and English.
    aliases: tuple[str, ...]


HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column("pseudonym", "Pseudonym", ("id", "household", "haushalt", "kennung")),
    Column("site", "Standort", ("site", "office", "büro", "dienststelle")),
    Column("lat", "Breitengrad", ("breite", "lat", "latitude")),
    Column("lon", "Längengrad", ("länge", "lon", "lng", "longitude")),
    Column("address", "Adresse", ("anschrift", "address")),
    Column(
        "primary_caseworker",
        "Hauptfachkraft",
        ("fachkraft", "hauptbetreuung", "primary caseworker", "primary_caseworker"),
    ),
    Column(
        "allowed_caseworkers",
        "Weitere Fachkräfte",
        ("vertretung", "allowed caseworkers", "allowed_caseworkers", "other caseworkers"),
    ),
    Column(
        "required_skills",
        "Benötigte Fähigkeiten",
        ("fähigkeiten", "required skills", "required_skills", "skills"),
    ),
    Column("availability", "Verfügbarkeit", ("erreichbarkeit", "availability")),
)

CASEWORKER_COLUMNS: tuple[Column, ...] = (
    Column("key", "Kürzel", ("id", "key", "kennung", "caseworker")),
    Column("name", "Name", ("name",)),
    Column("site", "Standort", ("site", "office", "büro", "dienststelle")),
    Column("working_hours", "Arbeitszeiten", ("arbeitszeit", "working hours", "working_hours")),
    Column("skills", "Fähigkeiten", ("skills", "sprachen")),
    Column("modes", "Verkehrsmittel", ("modes", "mode", "mobilität")),
    Column(
        "max_visits_per_day",
        "Max. Besuche pro Tag",
        ("max besuche", "besuche pro tag", "max_visits_per_day", "max visits per day"),
    ),
)

_COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "households": HOUSEHOLD_COLUMNS,
    "caseworkers": CASEWORKER_COLUMNS,
}
_KEY_FIELD: dict[Kind, str] = {"households": "pseudonym", "caseworkers": "key"}


def _fold(text: str) -> str:
    """A header or word as compared: case, umlauts (or ae/oe/ue), spaces, punctuation
    and a BOM Excel left in do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    return re.sub(r"[^a-z0-9]", "", text)


def _header_index(columns: Sequence[Column]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, column.field, *column.aliases):
            index[_fold(name)] = column
    return index


# --------------------------------------------------------------------------- decoding

Encoding = Literal["utf-8", "utf-16", "cp1252"]


def decode(data: bytes) -> tuple[str, Encoding]:
    """The text of a CSV file and the encoding it was in. Raises ``CsvInvalid`` for a
    file that is not text (an Excel workbook saved as .xlsx, say)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as error:
            raise _file_problem(
                f"die Datei beginnt als UTF-8, enthält aber ungültige Bytes (Byte "
                f"{error.start + len(codecs.BOM_UTF8)}); bitte in Excel erneut als "
                "„CSV UTF-8 (durch Trennzeichen getrennt)“ speichern"
            ) from error
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise _file_problem("die Datei ist kein gültiges UTF-16") from error
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_problem(
            "das ist eine Excel-Arbeitsmappe, keine CSV-Datei; bitte in Excel unter "
            "„Speichern unter“ als „CSV UTF-8 (durch Trennzeichen getrennt)“ speichern"
        )
    if b"\x00" in data:
        raise _file_problem("die Datei ist keine Textdatei (sie enthält Null-Bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Older Excel saves "CSV (Trennzeichen-getrennt)" in Windows-1252; the five bytes
    # it leaves undefined are read as Latin-1, so every byte means something.
    return data.decode("cp1252", errors="latin1_fallback"), "cp1252"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    undefined = error.object[error.start : error.end]
    return bytes(undefined).decode("latin-1"), error.end


codecs.register_error("latin1_fallback", _latin1_fallback)


def _file_problem(message: str) -> CsvInvalid:
    return CsvInvalid([RowProblem(0, None, message)])


# ---------------------------------------------------------------------------- reading


@dataclass
class _Table:
    """A CSV file split into rows: the header's columns and each data row by field."""

    delimiter: str
    encoding: Encoding
    #: field -> the header as the file writes it
    headers: dict[str, str]
    #: (row number, {field: cell}) for each data row that is not empty
    rows: list[tuple[int, dict[str, str]]]
    ignored: list[str]
    problems: list[RowProblem] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.headers

    def column(self, name: str, columns: Sequence[Column]) -> str:
        """The column's name for a message: the file's header, else the German one."""
        if name in self.headers:
            return self.headers[name]
        return next(column.header for column in columns if column.field == name)


_DELIMITERS = (";", ",", "\t")
_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)


def read_table(data: bytes, kind: Kind) -> _Table:
    """Decode and split a CSV file; header problems raise ``CsvInvalid`` at once."""
    text, encoding = decode(data)
    columns = _COLUMNS[kind]
    index = _header_index(columns)
    lines = text.splitlines(keepends=True)
    delimiter: str | None = None
    if lines and (match := _SEP_LINE.match(lines[0])):
        delimiter = match.group(1)
        text = "".join(lines[1:])
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first:
        raise _file_problem("die Datei ist leer")
    if delimiter is None:
        # The separator under which the header names the most known columns; on a
        # tie the semicolon, as German Excel writes it.
        scores = {
            candidate: sum(
                _fold(cell) in index for cell in next(csv.reader([first], delimiter=candidate))
            )
            for candidate in _DELIMITERS
        }
        delimiter = max(_DELIMITERS, key=lambda candidate: scores[candidate])
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    # Excel numbers rows from 1 and shows empty ones; the header is the first that
    # is not empty.
    numbered = list(enumerate(records, start=1))
    while numbered and not any(cell.strip() for cell in numbered[0][1]):
        numbered.pop(0)
    header_row, header = numbered[0]
    problems: list[RowProblem] = []
    headers: dict[str, str] = {}
    positions: dict[int, str] = {}
    ignored: list[str] = []
    known = [name for column in columns for name in (column.header, *column.aliases)]
    for position, cell in enumerate(header):
        name = cell.strip().lstrip("\ufeff").strip()
        if not name:
            continue
        column = index.get(_fold(name))
        if column is None:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            if close:
                problems.append(
                    RowProblem(header_row, name, f"unbekannte Spalte (gemeint: „{close[0]}“?)")
                )
            else:
                ignored.append(name)
            continue
        if column.field in headers:
            problems.append(
                RowProblem(
                    header_row,
                    name,
                    f"Spalte kommt doppelt vor (auch „{headers[column.field]}“)",
                )
            )
            continue
        headers[column.field] = name
        positions[position] = column.field
    key = _KEY_FIELD[kind]
    if key not in headers:
        expected = "; ".join(column.header for column in columns)
        problems.append(
            RowProblem(
                header_row,
                None,
                f"Spalte „{columns[0].header}“ fehlt; die Kopfzeile wurde nicht erkannt "
                f"(Trennzeichen „{_shown(delimiter)}“). Erwartet werden Spalten wie: {expected}",
            )
        )
    if problems:
        raise CsvInvalid(problems)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record_ in numbered[1:]:
        if not any(cell.strip() for cell in record_):
            continue
        extra = [cell for cell in record_[len(header) :] if cell.strip()]
        if extra:
            hint = (
                " (Dezimalkomma in einer kommagetrennten Datei? Zahlen in Anführungszeichen "
                "setzen oder Semikolons als Trennzeichen verwenden)"
                if delimiter == ","
                else ""
            )
            problems.append(
                RowProblem(
                    number,
                    None,
                    f"{len(record_)} Zellen, die Kopfzeile hat nur {len(header)}{hint}",
                )
            )
            continue
        rows.append(
            (
                number,
                {
                    name: record_[position].strip() if position < len(record_) else ""
                    for position, name in positions.items()
                },
            )
        )
    return _Table(delimiter, encoding, headers, rows, ignored, problems)


def _shown(delimiter: str) -> str:
    return {"\t": "Tabulator"}.get(delimiter, delimiter)


# ------------------------------------------------------------------------------ cells


def _text(cell: str) -> str:
    """A text cell; an apostrophe exports put before ``=``, ``+``, ``-``, ``@`` (so
    Excel does not read the cell as a formula) is taken off again."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@":
        return cell[1:]
    return cell


def _key(cell: str) -> str:
    value = _text(cell)
    if len(value) > _KEY_LENGTH:
        raise _CellError(f"höchstens {_KEY_LENGTH} Zeichen, hier {len(value)}")
    if any(ord(character) < 32 for character in value):
        raise _CellError("enthält Steuerzeichen (z. B. einen Zeilenumbruch)")
    return value


_NUMBER = re.compile(r"^[+\-\u2212]?\d+(?:[.,]\d+)?$")


def _number(cell: str) -> float:
    value = cell.replace("\u00a0", "").replace(" ", "").rstrip("°")
    if not _NUMBER.match(value):
        raise _CellError(f"„{cell}“ ist keine Zahl (z. B. 51,8345)")
    return float(value.replace(",", ".").replace("\u2212", "-"))


def _coordinate(cell: str, limit: int) -> float:
    value = _number(cell)
    if not -limit <= value <= limit:
        raise _CellError(f"{cell} liegt nicht zwischen -{limit} und {limit}")
    return value


def _list(cell: str) -> list[str]:
    """A list in one cell: separated by commas, semicolons, | or line breaks."""
    return [_key(item.strip()) for item in re.split(r"[,;|\n]", cell) if item.strip()]


def _whole_number(cell: str, low: int, high: int) -> int:
    value = cell.strip()
    if value.endswith((",0", ".0")):
        value = value[:-2]
    if not value.isdigit():
        raise _CellError(f"„{cell}“ ist keine ganze Zahl")
    number = int(value)
    if not low <= number <= high:
        raise _CellError(f"{number} liegt nicht zwischen {low} und {high}")
    return number


# ---------------------------------------------------------------------- weekly times

_DAY_NAMES: dict[str, int] = {}
for _index, _names in enumerate(
    (
        ("mo", "mon", "montag", "monday"),
        ("di", "die", "dienstag", "tue", "tues", "tuesday"),
        ("mi", "mit", "mittwoch", "wed", "wednesday"),
        ("do", "don", "donnerstag", "thu", "thur", "thurs", "thursday"),
        ("fr", "fre", "freitag", "fri", "friday"),
        ("sa", "sam", "samstag", "sonnabend", "sat", "saturday"),
        ("so", "son", "sonntag", "sun", "sunday"),
    )
):
    for _name in _names:
        _DAY_NAMES[_name] = _index
_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "werktags": (0, 1, 2, 3, 4),
    "wochentags": (0, 1, 2, 3, 4),
    "weekdays": (0, 1, 2, 3, 4),
    "taeglich": (0, 1, 2, 3, 4, 5, 6),
    "daily": (0, 1, 2, 3, 4, 5, 6),
}
_ANY_TIME = {"", "jederzeit", "immer", "beliebig", "anytime", "any", "always"}
_NEVER = {"nie", "niemals", "keine", "never", "none"}
DAY_ABBREVIATIONS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")

_TOKEN = re.compile(
    r"""
    (?P<times>(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*(?:uhr)?\s*-\s*
              (?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?\s*(?:uhr)?)
    |(?P<days>(?P<d1>[^\W\d_]+)\.?\s*-\s*(?P<d2>[^\W\d_]+)\.?)
    |(?P<day>[^\W\d_]+)\.?
    |(?P<separator>[\s,;/+&]+)
    """,
    re.VERBOSE,
)

Weekly = dict[int, list[tuple[time, time]]]


def _clock(hours: str, minutes: str | None, cell: str) -> time:
    hour, minute = int(hours), int(minutes or 0)
    if hour > 23 or minute > 59:
        raise _CellError(f"„{cell}“: {hours}:{minutes or '00'} ist keine Uhrzeit (00:00 bis 23:59)")
    return time(hour, minute)


def _day(word: str, cell: str) -> int:
    folded = _fold(word)
    if folded.endswith("s") and len(folded) > 5 and folded[:-1] in _DAY_NAMES:
        folded = folded[:-1]  # "montags", "dienstags": on Mondays, on Tuesdays
    if folded not in _DAY_NAMES:
        raise _CellError(f"„{cell}“: „{word}“ ist kein Wochentag (Mo, Di, Mi, Do, Fr, Sa, So)")
    return _DAY_NAMES[folded]


def parse_weekly(cell: str) -> Weekly | None:
    """``Mo 09:00-12:00, Mi 14:00-17:00`` as intervals per weekday (0 = Monday).

    Days may be ranges (``Mo-Fr``), lists (``Mo, Mi``) or ``werktags``; a time range
    without a day of its own belongs to the days before it (``Mo 9-12, 14-16``); times
    may be written ``9``, ``9:30``, ``9.30`` or ``9 Uhr``, ranges with ``-``, ``–`` or
    ``bis``. An empty cell (or ``jederzeit``) is None: any time; ``nie`` is no time.
    """
    text = cell.strip()
    if _fold(text) in _ANY_TIME:
        return None
    if _fold(text) in _NEVER:
        return {}
    normalised = re.sub(r"\s+bis\s+", "-", text.casefold().replace("–", "-").replace("—", "-"))
    normalised = re.sub(r"\b(und|and)\b", ",", normalised)
    weekly: Weekly = {}
    days: list[int] = []
    days_have_times = False
    position = 0
    while position < len(normalised):
        match = _TOKEN.match(normalised, position)
        if match is None or match.end() == position:
            rest = normalised[position:].strip()
            raise _CellError(f"„{cell}“: „{rest}“ nicht verstanden (Beispiel: Mo 09:00-12:00)")
        position = match.end()
        if match.group("separator") is not None:
            continue
        if match.group("times") is not None:
            if not days:
                raise _CellError(f"„{cell}“: vor der Uhrzeit fehlt der Wochentag (z. B. Mo)")
            start = _clock(match.group("h1"), match.group("m1"), cell)
            end = _clock(match.group("h2"), match.group("m2"), cell)
            if end <= start:
                raise _CellError(f"„{cell}“: {start:%H:%M}-{end:%H:%M} endet nicht nach dem Beginn")
            for day in days:
                weekly.setdefault(day, []).append((start, end))
            days_have_times = True
            continue
        if days_have_times:
            days, days_have_times = [], False
        if match.group("days") is not None:
            first, last = _day(match.group("d1"), cell), _day(match.group("d2"), cell)
            if last < first:
                raise _CellError(f"„{cell}“: {match.group('days')} läuft rückwärts")
            days.extend(range(first, last + 1))
        else:
            word = match.group("day")
            group = _DAY_GROUPS.get(_fold(word))
            days.extend(group if group is not None else (_day(word, cell),))
    if days and not days_have_times:
        named = ", ".join(DAY_ABBREVIATIONS[day] for day in days)
        raise _CellError(f"„{cell}“: für {named} fehlt die Uhrzeit (z. B. 09:00-12:00)")
    for intervals in weekly.values():
        intervals.sort()
    return weekly


def format_weekly(weekly: Weekly, *, merge_days: bool) -> str:
    """The cell ``parse_weekly`` reads back; ``merge_days`` writes runs of days with the
    same hours as ranges (``Mo-Fr 08:00-16:00``)."""
    items: list[tuple[list[int], str]] = []
    for day in sorted(weekly):
        hours = ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in weekly[day])
        if merge_days and items and items[-1][1] == hours and items[-1][0][-1] == day - 1:
            items[-1][0].append(day)
        else:
            items.append(([day], hours))
    parts: list[str] = []
    for days, hours in items:
        if len(days) == 1:
            named = DAY_ABBREVIATIONS[days[0]]
        else:
            named = f"{DAY_ABBREVIATIONS[days[0]]}-{DAY_ABBREVIATIONS[days[-1]]}"
        parts.append(f"{named} {hours}")
    return ", ".join(parts)


# ------------------------------------------------------------------------------ modes

_MODE_NAMES: dict[str, Mode] = {}
for _mode, _words in (
    ("e_bike", ("E-Bike", "Pedelec", "Elektrofahrrad", "e_bike")),
    ("e_car", ("E-Auto", "Elektroauto", "E-Pkw", "E-Car", "e_car")),
    ("walk", ("zu Fuß", "Fuß", "zu Fuss", "Fußweg", "walk", "walking")),
    ("car", ("Dienstwagen", "Poolfahrzeug", "Poolauto", "Dienst-Pkw", "car", "pool car")),
    ("private_car", ("Privat-PKW", "Privatauto", "Privatwagen", "eigener Pkw", "private_car")),
):
    for _word in _words:
        _MODE_NAMES[_fold(_word)] = _mode  # type: ignore[assignment]


def _modes(cell: str) -> list[Mode]:
    modes: list[Mode] = []
    for item in _list(cell):
        mode = _MODE_NAMES.get(_fold(item))
        if mode is None:
            allowed = ", ".join(MODE_LABELS_DE[mode] for mode in MODES)
            raise _CellError(f"unbekanntes Verkehrsmittel „{item}“ (möglich: {allowed})")
        if mode not in modes:
            modes.append(mode)
    return modes


# ----------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class CsvImportSummary:
    """What a CSV import wrote and how it read the file."""

    kind: Kind
    rows: int
    created: int
    updated: int
    encoding: Encoding
    delimiter: str
    ignored_columns: list[str]
    #: Addresses geocoded: asked of the geocoder, and answered from the cache.
    geocoded_asked: int = 0
    geocoded_cached: int = 0

    def notices(self) -> list[str]:
        """What the coordinator should know besides the counts (German)."""
        notes: list[str] = []
        if self.encoding == "cp1252":
            notes.append(
                "Die Datei war nicht UTF-8 und wurde als Windows-1252 (ältere Excel-"
                "Versionen) gelesen; bitte prüfen, ob Umlaute stimmen, und künftig als "
                "„CSV UTF-8 (durch Trennzeichen getrennt)“ speichern."
            )
        if self.ignored_columns:
            notes.append("Nicht übernommene Spalten: " + ", ".join(self.ignored_columns))
        return notes


class _Rows:
    """Problems of one import, collected per row and column."""

    def __init__(self, table: _Table, columns: Sequence[Column]) -> None:
        self.table = table
        self.columns = columns
        self.problems: list[RowProblem] = list(table.problems)

    def problem(self, row: int, name: str | None, message: str) -> None:
        column = None if name is None else self.table.column(name, self.columns)
        self.problems.append(RowProblem(row, column, message))

    def cell(
        self, row: int, cells: dict[str, str], name: str, read: Callable[[str], T]
    ) -> T | None:
        """The cell read by ``read``, or None (and a problem) if it cannot be read."""
        try:
            return read(cells[name])
        except _CellError as error:
            self.problem(row, name, str(error))
            return None

    def duplicates(self, key_field: str, what: str) -> set[int]:
        """Rows repeating an earlier row's key (a problem each)."""
        first: dict[str, int] = {}
        repeated: set[int] = set()
        for number, cells in self.table.rows:
            key = _text(cells[key_field])
            if not key:
                continue
            if key in first:
                self.problem(
                    number, key_field, f"{what} {key} kommt doppelt vor (auch Zeile {first[key]})"
                )
                repeated.add(number)
            else:
                first[key] = number
        return repeated


def _sites_by_key_or_name(session: Session) -> tuple[dict[str, Site], Callable[[str], Site]]:
    sites = list(session.scalars(select(Site).order_by(Site.key)))
    by_key = {site.key: site for site in sites}
    by_name = {_fold(site.name): site for site in sites if site.name}

    def find(cell: str) -> Site:
        value = _text(cell)
        site = by_key.get(value) or by_name.get(_fold(value))
        if site is None:
            known = ", ".join(by_key) or "keine"
            raise _CellError(f"unbekannter Standort „{value}“ (bekannt: {known})")
        return site

    return by_key, find


def _scenario(
    sites: dict[str, Site],
    households: list[fmt.Household] | None = None,
    caseworkers: list[fmt.Caseworker] | None = None,
) -> fmt.Scenario:
    """A scenario around the records of a CSV file, so they are written by the same
    code as a scenario import. It has no visits and a one-day horizon that nothing of
    the CSV depends on."""
    zone = next(iter(sites.values())).timezone if sites else "Europe/Berlin"
    today = datetime.now(UTC).date()
    return fmt.Scenario(
        format=fmt.SCENARIO_FORMAT,
        name="CSV-Import",
        timezone=zone,
        horizon=fmt.Horizon(start=today, end=today),
        sites=[],
        caseworkers=caseworkers or [],
        households=households or [],
        visits=[],
    )


def _refused(error: IntegrityError | DataError) -> Conflict:
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    return Conflict(f"die Datenbank hat den Import abgelehnt: {reason}")


def _summary(
    kind: Kind,
    table: _Table,
    keys: Sequence[str],
    existing: Container[str],
    *,
    geocoded_asked: int = 0,
    geocoded_cached: int = 0,
) -> tuple[set[str], CsvImportSummary]:
    """The keys that are new, and the summary of an import of ``keys`` read from ``table``."""
    created = {key for key in keys if key not in existing}
    summary = CsvImportSummary(
        kind=kind,
        rows=len(keys),
        created=len(created),
        updated=len(keys) - len(created),
        encoding=table.encoding,
        delimiter=table.delimiter,
        ignored_columns=table.ignored,
        geocoded_asked=geocoded_asked,
        geocoded_cached=geocoded_cached,
    )
    return created, summary


@contextmanager
def _writing(
    session: Session,
    *,
    actor: str,
    user_id: int | None,
    entity: str,
    keys: Iterable[str],
    created: set[str],
    summary: CsvImportSummary,
) -> Iterator[None]:
    """One transaction for what the block writes and its audit trail (a record per row
    and one of the import); a write the database refuses is a ``Conflict``."""
    try:
        with transaction(session):
            yield
            _audit(
                session,
                actor=actor,
                user_id=user_id,
                entity=entity,
                keys=keys,
                created=created,
                summary=summary,
            )
            session.flush()
    except (IntegrityError, DataError) as error:
        raise _refused(error) from error


def _audit(
    session: Session,
    *,
    actor: str,
    user_id: int | None,
    entity: str,
    keys: Iterable[str],
    created: set[str],
    summary: CsvImportSummary,
) -> None:
    for key in keys:
        record(
            session=session,
            actor=actor,
            user_id=user_id,
            action="create" if key in created else "update",
            entity=entity,
            entity_id=key,
            detail={"via": "csv"},
        )
    record(
        session=session,
        actor=actor,
        user_id=user_id,
        action="import",
        entity="csv",
        entity_id=summary.kind,
        detail={"rows": summary.rows, "created": summary.created, "updated": summary.updated},
    )


@dataclass
class _HouseholdRow:
    number: int
    pseudonym: str
    site: Site | None
    coordinates: Coordinates | None
    address: str | None
    primary: str | None
    allowed: list[str]
    skills: list[str]
    availability: Weekly | None


def import_households_csv(
    *,
    session: Session,
    data: bytes,
    actor: str,
    user_id: int | None = None,
    geocoder: Geocoder | None = None,
) -> CsvImportSummary:
    """Create or update households from a CSV file, all of them or none.

    A row without coordinates but with an address is geocoded (``scheduler.geocoding``)
    when a geocoder is given; without one it is a problem of that row. Raises
    ``CsvInvalid`` with every problem, or ``Conflict`` if the database refuses a write.
    """
    table = read_table(data, "households")
    rows = _Rows(table, HOUSEHOLD_COLUMNS)
    repeated = rows.duplicates("pseudonym", "Pseudonym")
    sites, find_site = _sites_by_key_or_name(session)
    if not sites:
        raise _file_problem(
            "es gibt noch keinen Standort; zuerst Standorte anlegen (POST /sites) oder ein "
            "Szenario importieren"
        )
    pseudonyms = [_text(cells["pseudonym"]) for _, cells in table.rows]
    existing = {
        household.pseudonym: household
        for household in session.scalars(
            select(Household)
            .where(Household.pseudonym.in_([key for key in pseudonyms if key]))
            .options(
                selectinload(Household.site),
                selectinload(Household.primary_caseworker),
                selectinload(Household.allowed_caseworkers),
                selectinload(Household.availability),
                selectinload(Household.required_skills),
            )
        )
    }
    referenced = {
        key
        for _, cells in table.rows
        for name in ("primary_caseworker", "allowed_caseworkers")
        if name in cells
        for key in re.split(r"[,;|\n]", cells[name])
        if key.strip()
    }
    caseworkers = {
        caseworker.key: caseworker
        for caseworker in session.scalars(
            select(Caseworker)
            .where(Caseworker.key.in_({_text(key.strip()) for key in referenced}))
            .options(selectinload(Caseworker.site))
        )
    }
    parsed: list[_HouseholdRow] = []
    to_geocode: dict[int, str] = {}
    for number, cells in table.rows:
        if number in repeated:
            continue
        entry = _household_row(rows, number, cells, existing, caseworkers, find_site)
        if entry is None:
            continue
        if entry.coordinates is None and entry.address:
            to_geocode[number] = entry.address
        parsed.append(entry)
    answers = geocode(session=session, geocoder=geocoder, addresses=to_geocode.values())
    for entry in parsed:
        address = to_geocode.get(entry.number)
        if address is None:
            continue
        if address in answers.found:
            entry.coordinates = answers.found[address]
        elif address in answers.not_found:
            rows.problem(
                entry.number,
                "address",
                f"Adresse „{address}“ wurde nicht gefunden; bitte Breitengrad und "
                "Längengrad eintragen",
            )
        else:
            rows.problem(entry.number, "lat", answers.failed.get(address, NOT_CONFIGURED))
    if rows.problems:
        raise CsvInvalid(rows.problems)
    keys = [entry.pseudonym for entry in parsed]
    created, summary = _summary(
        "households",
        table,
        keys,
        existing,
        geocoded_asked=answers.asked,
        geocoded_cached=len(to_geocode) - answers.asked,
    )
    entries = [
        fmt.Household(
            id=entry.pseudonym,
            location=fmt.Location(lat=entry.coordinates.lat, lon=entry.coordinates.lon),
            availability=None
            if entry.availability is None
            else {
                fmt.WEEKDAYS[day]: list(intervals)
                for day, intervals in sorted(entry.availability.items())
            },
            primary_caseworker=entry.primary,
            allowed_caseworkers=entry.allowed,
            required_skills=entry.skills,
        )
        for entry in parsed
        if entry.coordinates is not None
    ]
    with _writing(
        session,
        actor=actor,
        user_id=user_id,
        entity="household",
        keys=keys,
        created=created,
        summary=summary,
    ):
        importer = _Importer(session, _scenario(sites, households=entries))
        importer.sites = dict(sites)
        importer.caseworkers = dict(caseworkers)
        importer.import_households()
        for entry in parsed:
            household = importer.households[entry.pseudonym]
            household.address = entry.address
            if entry.site is not None:
                household.site = entry.site
        session.flush()
    return summary


def _household_row(
    rows: _Rows,
    number: int,
    cells: dict[str, str],
    existing: dict[str, Household],
    caseworkers: dict[str, Caseworker],
    find_site: Callable[[str], Site],
) -> _HouseholdRow | None:
    """One row as a household, or None if it has problems (recorded in ``rows``)."""
    before = len(rows.problems)
    pseudonym = rows.cell(number, cells, "pseudonym", _key)
    if pseudonym == "":
        rows.problem(number, "pseudonym", "Pseudonym fehlt")
    current = existing.get(pseudonym or "")
    if current is not None and current.erased_at is not None:
        rows.problem(
            number,
            "pseudonym",
            f"Haushalt {pseudonym} wurde gelöscht (Art. 17 DSGVO) und kann nicht "
            "wieder angelegt werden",
        )

    def known(key: str) -> str:
        value = _key(key)
        if value not in caseworkers:
            raise _CellError(f"unbekannte Fachkraft „{value}“")
        return value

    site = current.site if current is not None else None
    if cells.get("site"):
        site = rows.cell(number, cells, "site", find_site)
    elif "site" in cells:
        site = None
    address = current.address if current is not None else None
    if "address" in cells:
        address = _text(cells["address"]).strip() or None
    primary = current.primary_caseworker.key if current and current.primary_caseworker else None
    if "primary_caseworker" in cells:
        value = cells["primary_caseworker"]
        primary = rows.cell(number, cells, "primary_caseworker", known) if value else None
    allowed = [caseworker.key for caseworker in current.allowed_caseworkers] if current else []
    if "allowed_caseworkers" in cells:
        allowed = (
            rows.cell(
                number,
                cells,
                "allowed_caseworkers",
                lambda cell: list(dict.fromkeys(known(key) for key in _list(cell))),
            )
            or []
        )
    skills = [skill.skill for skill in current.required_skills] if current else []
    if "required_skills" in cells:
        skills = rows.cell(number, cells, "required_skills", _list) or []
    availability: Weekly | None = None
    if current is not None and not current.available_any_time:
        availability = {}
        for interval in current.availability:
            availability.setdefault(interval.weekday, []).append((interval.start, interval.end))
    if "availability" in cells:
        availability = rows.cell(number, cells, "availability", parse_weekly)
    coordinates = _coordinates(rows, number, cells, current, address)
    if len(rows.problems) > before or pseudonym is None:
        return None
    return _HouseholdRow(
        number=number,
        pseudonym=pseudonym,
        site=site,
        coordinates=coordinates,
        address=address,
        primary=primary,
        allowed=allowed,
        skills=skills,
        availability=availability,
    )


def _coordinates(
    rows: _Rows,
    number: int,
    cells: dict[str, str],
    current: Household | None,
    address: str | None,
) -> Coordinates | None:
    """The row's coordinates; None with an address means "geocode it".

    Empty coordinate cells keep an existing household's location unless its address
    changed; a new address without coordinates is geocoded.
    """
    lat_cell, lon_cell = cells.get("lat", ""), cells.get("lon", "")
    if lat_cell or lon_cell:
        lat = rows.cell(number, cells, "lat", lambda c: _coordinate(c, 90)) if lat_cell else None
        lon = rows.cell(number, cells, "lon", lambda c: _coordinate(c, 180)) if lon_cell else None
        if not lat_cell:
            rows.problem(number, "lat", "Breitengrad fehlt (Längengrad ist angegeben)")
        if not lon_cell:
            rows.problem(number, "lon", "Längengrad fehlt (Breitengrad ist angegeben)")
        if lat is None or lon is None:
            return None
        return Coordinates(lat=lat, lon=lon)
    if (
        current is not None
        and current.lat is not None
        and current.lon is not None
        and (not address or address == current.address)
    ):
        return Coordinates(lat=current.lat, lon=current.lon)
    if address:
        return None
    rows.problem(
        number,
        "lat",
        "Breitengrad/Längengrad fehlen (oder eine Adresse, wenn Geokodierung eingerichtet ist)",
    )
    return None


def import_caseworkers_csv(
    *, session: Session, data: bytes, actor: str, user_id: int | None = None
) -> CsvImportSummary:
    """Create or update caseworkers from a CSV file, all of them or none.

    Absences are not part of the file and stay as they are. Raises ``CsvInvalid`` with
    every problem, or ``Conflict`` if the database refuses a write.
    """
    table = read_table(data, "caseworkers")
    rows = _Rows(table, CASEWORKER_COLUMNS)
    repeated = rows.duplicates("key", "Kürzel")
    sites, find_site = _sites_by_key_or_name(session)
    keys = [_text(cells["key"]) for _, cells in table.rows]
    existing = {
        caseworker.key: caseworker
        for caseworker in session.scalars(
            select(Caseworker)
            .where(Caseworker.key.in_([key for key in keys if key]))
            .options(
                selectinload(Caseworker.site),
                selectinload(Caseworker.working_hours),
                selectinload(Caseworker.skills),
                selectinload(Caseworker.modes),
            )
        )
    }
    entries: list[fmt.Caseworker] = []
    for number, cells in table.rows:
        if number in repeated:
            continue
        entry = _caseworker_row(rows, number, cells, existing, find_site)
        if entry is not None:
            entries.append(entry)
    if rows.problems:
        raise CsvInvalid(rows.problems)
    keys = [entry.id for entry in entries]
    created, summary = _summary("caseworkers", table, keys, existing)
    with _writing(
        session,
        actor=actor,
        user_id=user_id,
        entity="caseworker",
        keys=keys,
        created=created,
        summary=summary,
    ):
        importer = _Importer(session, _scenario(sites, caseworkers=entries))
        importer.sites = dict(sites)
        # A file has no horizon: an empty window before every absence, so the
        # importer replaces none of them.
        never = datetime.min.replace(tzinfo=UTC)
        importer.window = (never, never)
        importer.import_caseworkers()
    return summary


def _caseworker_row(
    rows: _Rows,
    number: int,
    cells: dict[str, str],
    existing: dict[str, Caseworker],
    find_site: Callable[[str], Site],
) -> fmt.Caseworker | None:
    before = len(rows.problems)
    key = rows.cell(number, cells, "key", _key)
    if key == "":
        rows.problem(number, "key", "Kürzel fehlt")
    current = existing.get(key or "")

    def required(name: str, what: str) -> None:
        if name not in cells:
            rows.problem(
                number, name, f"Spalte fehlt in der Datei; für neue Fachkräfte nötig ({what})"
            )
        else:
            rows.problem(number, name, f"{what} fehlt")

    name = current.name if current is not None else None
    if "name" in cells:
        name = rows.cell(number, cells, "name", _text) or None
    site = current.site if current is not None else None
    if cells.get("site"):
        site = rows.cell(number, cells, "site", find_site)
    elif "site" in cells or current is None:
        required("site", "Standort")
    hours: dict[fmt.Weekday, tuple[time, time]] = {}
    if current is not None:
        hours = {fmt.WEEKDAYS[h.weekday]: (h.start, h.end) for h in current.working_hours}
    if cells.get("working_hours"):
        weekly = rows.cell(number, cells, "working_hours", parse_weekly)
        if weekly is not None:
            doubled = [
                DAY_ABBREVIATIONS[day] for day, spans in sorted(weekly.items()) if len(spans) > 1
            ]
            if doubled:
                rows.problem(
                    number,
                    "working_hours",
                    f"nur ein Zeitraum pro Tag möglich ({', '.join(doubled)} mehrfach)",
                )
            hours = {fmt.WEEKDAYS[day]: spans[0] for day, spans in sorted(weekly.items())}
    elif "working_hours" in cells or current is None:
        required("working_hours", "Arbeitszeiten")
    skills = [skill.skill for skill in current.skills] if current is not None else []
    if "skills" in cells:
        skills = rows.cell(number, cells, "skills", _list) or []
    modes: list[Mode] = [mode.mode for mode in current.modes] if current is not None else []
    if cells.get("modes"):
        modes = rows.cell(number, cells, "modes", _modes) or []
    elif "modes" in cells or current is None:
        required("modes", "Verkehrsmittel")
    limit = current.max_visits_per_day if current is not None else None
    if "max_visits_per_day" in cells:
        limit = (
            rows.cell(
                number,
                cells,
                "max_visits_per_day",
                lambda cell: _whole_number(cell, 1, _MAX_VISITS_PER_DAY),
            )
            if cells["max_visits_per_day"]
            else None
        )
    if len(rows.problems) > before or key is None or site is None or not modes:
        return None
    return fmt.Caseworker(
        id=key,
        name=name,
        site=site.key,
        working_hours=hours,
        modes=modes,
        skills=skills,
        max_visits_per_day=limit,
    )


# ----------------------------------------------------------------------------- export


def _cell(value: str) -> str:
    """A text cell Excel does not take for a formula (``_text`` reads it back)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def _decimal(value: float) -> str:
    shown = repr(value)
    if "e" in shown or "E" in shown:
        shown = f"{value:.10f}".rstrip("0").rstrip(".")
    return shown.replace(".", ",")


def _write(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 with BOM, semicolons and CRLF: what Excel opens without asking."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    writer.writerows(rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def export_households_csv(*, session: Session) -> tuple[bytes, list[str]]:
    """Every household that is not erased, in the import's columns; and the pseudonyms
    written (for the caller's audit)."""
    households = list(
        session.scalars(
            select(Household)
            .where(Household.erased_at.is_(None))
            .options(
                selectinload(Household.site),
                selectinload(Household.primary_caseworker),
                selectinload(Household.allowed_caseworkers),
                selectinload(Household.availability),
                selectinload(Household.required_skills),
            )
            .order_by(Household.pseudonym)
        )
    )
    rows: list[list[str]] = []
    for household in households:
        availability = ""
        if not household.available_any_time:
            weekly: Weekly = {}
            for interval in household.availability:
                weekly.setdefault(interval.weekday, []).append((interval.start, interval.end))
            availability = format_weekly(weekly, merge_days=False) or "nie"
        rows.append(
            [
                _cell(household.pseudonym),
                _cell(household.site.key) if household.site else "",
                "" if household.lat is None else _decimal(household.lat),
                "" if household.lon is None else _decimal(household.lon),
                _cell(household.address or ""),
                _cell(household.primary_caseworker.key) if household.primary_caseworker else "",
                ", ".join(_cell(c.key) for c in household.allowed_caseworkers),
                ", ".join(_cell(s.skill) for s in household.required_skills),
                availability,
            ]
        )
    return _write(HOUSEHOLD_COLUMNS, rows), [household.pseudonym for household in households]


def export_caseworkers_csv(*, session: Session) -> bytes:
    """Every caseworker in the import's columns."""
    caseworkers = session.scalars(
        select(Caseworker)
        .options(
            selectinload(Caseworker.site),
            selectinload(Caseworker.working_hours),
            selectinload(Caseworker.skills),
            selectinload(Caseworker.modes),
        )
        .order_by(Caseworker.key)
    )
    rows = [
        [
            _cell(caseworker.key),
            _cell(caseworker.name or ""),
            _cell(caseworker.site.key),
            format_weekly(
                {hours.weekday: [(hours.start, hours.end)] for hours in caseworker.working_hours},
                merge_days=True,
            ),
            ", ".join(_cell(skill.skill) for skill in caseworker.skills),
            ", ".join(MODE_LABELS_DE[mode.mode] for mode in caseworker.modes),
            "" if caseworker.max_visits_per_day is None else str(caseworker.max_visits_per_day),
        ]
        for caseworker in caseworkers
    ]
    return _write(CASEWORKER_COLUMNS, rows)


__all__ = [
    "CASEWORKER_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "CsvImportSummary",
    "CsvInvalid",
    "RowProblem",
    "export_caseworkers_csv",
    "export_households_csv",
    "import_caseworkers_csv",
    "import_households_csv",
    "parse_weekly",
]
