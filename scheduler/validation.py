"""Reading scenario and plan documents with every problem reported at once, by JSON path.

``load_scenario`` and ``load_plan`` turn the text of a document (planning-format-v1) into
its model or raise ``DocumentInvalid`` with *all* the problems found, each a ``Problem``
with a JSON path (``$.visits[3].household``) and a one-line message naming the offending
value. ``validate_scenario`` runs the semantic checks alone on an already parsed
``Scenario`` (the HTTP API gets its models from FastAPI and calls it).

Stages, each adding to one report:

1. Text: not UTF-8, not JSON (with line and column), not a JSON object. These stop the
   report there: nothing else can be said. A key given twice in one object is reported
   at its path (``json`` would silently keep the last one, which is how a typo changes a
   plan) and the report goes on.
2. ``format``: a scenario handed to ``load_plan`` or the other way round is reported with
   that one problem only (a list of every field the other document lacks would bury it);
   any other wrong or missing ``format`` is reported and the report goes on.
3. Structure: every pydantic error, converted to a path and a plain message
   (``unknown field 'durration_minutes' (did you mean 'duration_minutes'?)``,
   ``missing required field 'household'``, ``expected a whole number, got 'ninety'``).
   Plans are validated by alias only, so ``from_``/``return_`` are unknown fields there.
4. Semantics (scenario only): when the structure is wrong, the semantic checks still run
   on every part that is valid on its own: each entry of ``sites``, ``caseworkers``,
   ``vehicles``, ``households`` and ``visits`` is validated separately and checked if it
   passes; ``horizon``, ``timezone``, ``region``, ``travel``, emission factors and
   ``objective`` likewise. Ids of entries that are themselves invalid still count for
   duplicate and reference checks, so a broken household does not also make each of
   its visits "unknown"; references into a section that is not an array, or has an
   entry without a readable id, are not checked at all. An entry with a structural
   problem gets no semantic problems of its own.

Semantic checks (``validate_scenario``):

- duplicate ids among sites, caseworkers, vehicles, households and visits, reported at
  each repeated entry; a visit id equal to a site id (plan legs name both in ``from`` and
  ``to``, so they could not be told apart);
- references: ``caseworkers[].site``, ``vehicles[].site``,
  ``households[].primary_caseworker``, ``households[].allowed_caseworkers[]``,
  ``visits[].household``, ``visits[].pinned.caseworker``;
- order: horizon end before start; an absence ending before it starts (whole dates are
  inclusive, so a one-day absence has end == start; a date-time end must be after the
  start; a date start means 00:00, a date end the end of that day, as in the planner);
  working hours and availability intervals that do not end after they start; blocked
  intervals likewise; a visit window whose earliest date is after its latest;
- values: coordinates outside -90..90 / -180..180 or not finite; a timezone ZoneInfo
  does not know; a region ``rules.is_known_region`` does not know; horizon longer than
  31 dates; ``duration_minutes`` <= 0; ``speed_kmh`` <= 0; ``detour_factor`` < 1;
  ``max_leg_km`` <= 0 (null means no limit); ``range_km`` <= 0; ``max_visits_per_day``
  < 1; negative emission factors; any of these numbers NaN or infinite (Python's json
  reads ``NaN`` and ``Infinity``); objective weights that are not finite;
- pins: a pinned start outside the horizon, or at a local time the scenario's timezone
  skips (the hour lost when daylight saving time begins).

Not errors, on purpose: a visit window entirely outside the horizon (the visit is simply
unassigned), required skills nobody holds (the planner reports ``no_caseworker``), a
pin the caseworker cannot keep (``pin_infeasible``).

Numbers and strings follow the models' (lax) pydantic rules: ``"90"`` is accepted where
an integer is expected, as it is by the HTTP API that uses the same models.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from fleet.modes import MODES
from scheduler.format import (
    PLAN_FORMAT,
    SCENARIO_FORMAT,
    Caseworker,
    Horizon,
    Household,
    Location,
    Objective,
    Plan,
    Scenario,
    Site,
    TravelMode,
    Vehicle,
    Visit,
)
from scheduler.rules import is_known_region

__all__ = [
    "DocumentInvalid",
    "Problem",
    "load_plan",
    "load_scenario",
    "validate_scenario",
]

#: The most dates a horizon may span (start..end inclusive).
MAX_HORIZON_DATES = 31

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where (a JSON path) and what, in one line."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DocumentInvalid(ValueError):
    """A scenario or plan that cannot be used; ``problems`` lists everything found."""

    problems: list[Problem]
    source: str

    def __init__(self, problems: Sequence[Problem], source: str = "document") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems, self.source))


# ----------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class _Issue:
    """A problem before its location is written as a path (sorting needs the parts)."""

    loc: Loc
    message: str


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(loc: Iterable[str | int]) -> str:
    """``("visits", 3, "household")`` -> ``$.visits[3].household``."""
    parts = ["$"]
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            parts.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


def _finish(issues: Iterable[_Issue], root: type[BaseModel]) -> list[Problem]:
    """Problems in document order (top-level field, then entry), duplicates removed.

    The sort is stable, so within one entry structural problems stay first and
    pydantic's own order is kept.
    """
    order = {
        (info.alias or name): rank for rank, (name, info) in enumerate(root.model_fields.items())
    }

    def key(issue: _Issue) -> tuple[int, int]:
        if not issue.loc:
            return (-1, -1)
        first = issue.loc[0]
        rank = order.get(first, len(order)) if isinstance(first, str) else len(order)
        index = issue.loc[1] if len(issue.loc) > 1 and isinstance(issue.loc[1], int) else -1
        return (rank, index)

    seen: set[Problem] = set()
    result: list[Problem] = []
    for issue in sorted(issues, key=key):
        problem = Problem(json_path(issue.loc), " ".join(issue.message.split()))
        if problem not in seen:
            seen.add(problem)
            result.append(problem)
    return result


# ------------------------------------------------------------------------ describing


def _number(value: float) -> str:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(value: object) -> str:
    """A JSON value as a message shows it: strings quoted, containers by kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _local(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


# ------------------------------------------------------------------------ parsing


def _parse_json(text: str | bytes, source: str) -> tuple[object, list[_Issue]]:
    """The JSON value and the keys given twice; raises DocumentInvalid if not JSON."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"{source} is not UTF-8 text (byte {exc.start})"
            raise DocumentInvalid([Problem("$", message)], source) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        message = f"{source} is empty, expected a JSON object"
        raise DocumentInvalid([Problem("$", message)], source)

    # By id() of the object; the object is kept too, so that its id is not reused by
    # another one if it is itself dropped as the earlier value of a repeated key.
    duplicates: dict[int, tuple[dict[str, Any], list[str]]] = {}

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                duplicates.setdefault(id(obj), (obj, []))[1].append(key)
            obj[key] = value
        return obj

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        what = exc.msg[:1].lower() + exc.msg[1:]
        message = f"{source} is not valid JSON: {what} (line {exc.lineno}, column {exc.colno})"
        raise DocumentInvalid([Problem("$", message)], source) from None
    except RecursionError:
        message = f"{source} is nested too deeply"
        raise DocumentInvalid([Problem("$", message)], source) from None

    issues: list[_Issue] = []
    if duplicates:
        _find_duplicate_keys(data, (), duplicates, issues)
    return data, issues


def _find_duplicate_keys(
    value: object,
    loc: Loc,
    duplicates: dict[int, tuple[dict[str, Any], list[str]]],
    issues: list[_Issue],
) -> None:
    if isinstance(value, dict):
        obj, keys = duplicates.get(id(value), (None, []))
        for key in keys if obj is value else []:
            message = f"duplicate key {key!r} in one object (only the last value would count)"
            issues.append(_Issue((*loc, key), message))
        for key, item in value.items():
            _find_duplicate_keys(item, (*loc, key), duplicates, issues)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _find_duplicate_keys(item, (*loc, index), duplicates, issues)


def _document_object(
    text: str | bytes, source: str, expected: str, other: str
) -> tuple[dict[str, Any], list[_Issue]]:
    """Stages 1 and 2: the top-level object and the problems that do not stop the report."""
    data, issues = _parse_json(text, source)
    if not isinstance(data, dict):
        message = f"{source} must be a JSON object, got {_describe(data)}"
        raise DocumentInvalid([Problem("$", message)], source)
    if "format" in data and data["format"] != expected:
        found = data["format"]
        if found == other:
            kinds = {SCENARIO_FORMAT: "a scenario", PLAN_FORMAT: "a plan"}
            message = f"expected {kinds[expected]} ({expected!r}), got {kinds[other]} ({other!r})"
            raise DocumentInvalid([Problem("$.format", message)], source)
        issues.append(
            _Issue(("format",), f"unknown format {_describe(found)}, expected {expected!r}")
        )
    return data, issues


# ---------------------------------------------------------------- pydantic errors


_EXPECTED_KIND = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "an array",
    "tuple_type": "an array [start, end]",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "timezone_aware": "a timestamp with its UTC offset, e.g. 2026-12-01T10:00:00+01:00",
    "datetime_type": "a timestamp with its UTC offset, e.g. 2026-12-01T10:00:00+01:00",
    "datetime_parsing": "a timestamp with its UTC offset, e.g. 2026-12-01T10:00:00+01:00",
    "datetime_from_date_parsing": (
        "a timestamp with its UTC offset, e.g. 2026-12-01T10:00:00+01:00"
    ),
}

_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X, ``X | None`` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is typing.Union or origin is types.UnionType:
            arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
            if len(arms) != 1:
                return annotation
            annotation = arms[0]
        else:
            return annotation


def _field_names_at(root: type[BaseModel], loc: Loc) -> list[str]:
    """The field names (as written in documents) of the object at ``loc``, if a model."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            found = None
            for name, info in current.model_fields.items():
                if (info.alias or name) == part:
                    found = info.annotation
            if found is None:
                return []
            current = found
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is list and args:
            current = args[0]
        elif origin is dict and len(args) == 2:
            current = args[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _with_got(message: str, value: object) -> str:
    """Append the offending value unless the message already shows it."""
    shown = _describe(value)
    if isinstance(value, dict | list | tuple):
        return message
    if message.endswith(f"got {value!r}"):
        return message[: -len(repr(value))] + shown
    if shown in message:
        return message
    return f"{message}, got {shown}"


def _structural_issue(error: ErrorDetails, root: type[BaseModel]) -> _Issue:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    got = _describe(value)

    if loc and loc[-1] == "[key]":
        expected = ctx.get("expected")
        tail = f", expected one of {expected}" if expected else ""
        return _Issue(loc[:-1], f"unknown key {got}{tail}")
    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            count = len(value) if isinstance(value, list | tuple) else 0
            return _Issue(loc[:-1], f"expected a [start, end] pair, got {count} item(s)")
        name = loc[-1] if loc else "?"
        return _Issue(loc, f"missing required field {str(name)!r}")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        message = f"unknown field {name!r}"
        close = difflib.get_close_matches(name, _field_names_at(root, loc[:-1]), n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        return _Issue(loc, message)
    if kind == "literal_error":
        return _Issue(loc, f"expected one of {ctx.get('expected', '?')}, got {got}")
    if kind in _EXPECTED_KIND:
        return _Issue(loc, f"expected {_EXPECTED_KIND[kind]}, got {got}")
    if kind in ("too_short", "too_long"):
        length = ctx.get("actual_length")
        if ctx.get("field_type") == "Tuple":
            return _Issue(loc, f"expected a [start, end] pair, got {length} item(s)")
        if kind == "too_short":
            return _Issue(loc, f"expected at least {ctx.get('min_length')} item(s), got {length}")
        return _Issue(loc, f"expected at most {ctx.get('max_length')} item(s), got {length}")
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return _Issue(loc, "must not be empty")
    if kind in ("string_too_short", "string_too_long"):
        bound = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
        word = "at least" if kind == "string_too_short" else "at most"
        length = len(value) if isinstance(value, str) else "?"
        return _Issue(loc, f"expected {word} {bound} characters, got {length}")
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return _Issue(loc, f"expected a number {words} {_describe(ctx.get(key))}, got {got}")
    message = error["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    return _Issue(loc, _with_got(message, value))


def _structural_issues(exc: ValidationError, root: type[BaseModel]) -> list[_Issue]:
    issues = []
    for error in exc.errors(include_url=False):
        if tuple(error["loc"]) == ("format",) and error["type"] == "literal_error":
            continue  # reported by _document_object, in its own words
        issues.append(_structural_issue(error, root))
    return issues


# -------------------------------------------------------------------- the parts


@dataclass
class _Parts:
    """What the semantic checks look at: every part of a scenario that is valid alone.

    From a parsed ``Scenario`` that is everything; from a document with structural
    problems, the entries and fields that validate on their own. ``ids`` holds the id
    of every entry that has a (non-empty string) id, valid or not; ``complete`` names the
    sections whose every id is known, the only ones references are checked against (an
    entry without a readable id could be the one a reference means).
    """

    timezone: str | None = None
    region: str | None = None
    horizon: Horizon | None = None
    sites: list[tuple[int, Site]] = field(default_factory=list)
    caseworkers: list[tuple[int, Caseworker]] = field(default_factory=list)
    vehicles: list[tuple[int, Vehicle]] = field(default_factory=list)
    households: list[tuple[int, Household]] = field(default_factory=list)
    visits: list[tuple[int, Visit]] = field(default_factory=list)
    travel: list[tuple[str, TravelMode]] = field(default_factory=list)
    emission_factors: list[tuple[str, float]] = field(default_factory=list)
    objective: Objective | None = None
    ids: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)

    def known(self, section: str) -> set[str] | None:
        """The ids of a section to check references against, None if not all are known."""
        if section not in self.complete:
            return None
        return {ident for _, ident in self.ids.get(section, [])}


_SECTIONS = ("sites", "caseworkers", "vehicles", "households", "visits")


def _parts_of_scenario(scenario: Scenario) -> _Parts:
    parts = _Parts(
        timezone=scenario.timezone,
        region=scenario.region,
        horizon=scenario.horizon,
        sites=list(enumerate(scenario.sites)),
        caseworkers=list(enumerate(scenario.caseworkers)),
        vehicles=list(enumerate(scenario.vehicles)),
        households=list(enumerate(scenario.households)),
        visits=list(enumerate(scenario.visits)),
        travel=list((scenario.travel or {}).items()),
        emission_factors=list((scenario.emission_factors_g_per_km or {}).items()),
        objective=scenario.objective,
    )
    parts.ids = {
        "sites": [(i, item.id) for i, item in parts.sites],
        "caseworkers": [(i, item.id) for i, item in parts.caseworkers],
        "vehicles": [(i, item.id) for i, item in parts.vehicles],
        "households": [(i, item.id) for i, item in parts.households],
        "visits": [(i, item.id) for i, item in parts.visits],
    }
    parts.complete = set(_SECTIONS)
    return parts


def _valid(model: type[M], value: object) -> M | None:
    try:
        return model.model_validate(value, by_name=False)
    except ValidationError:
        return None


def _valid_entries(model: type[M], value: object) -> list[tuple[int, M]]:
    if not isinstance(value, list):
        return []
    entries = []
    for index, item in enumerate(value):
        valid = _valid(model, item)
        if valid is not None:
            entries.append((index, valid))
    return entries


def _parts_of_document(data: dict[str, Any]) -> _Parts:
    timezone = data.get("timezone")
    region = data.get("region")
    parts = _Parts(
        timezone=timezone if isinstance(timezone, str) else None,
        region=region if isinstance(region, str) else None,
        horizon=_valid(Horizon, data.get("horizon")),
        sites=_valid_entries(Site, data.get("sites")),
        caseworkers=_valid_entries(Caseworker, data.get("caseworkers")),
        vehicles=_valid_entries(Vehicle, data.get("vehicles")),
        households=_valid_entries(Household, data.get("households")),
        visits=_valid_entries(Visit, data.get("visits")),
        objective=_valid(Objective, data.get("objective")),
    )
    travel = data.get("travel")
    if isinstance(travel, dict):
        for mode, raw in travel.items():
            params = _valid(TravelMode, raw)
            if mode in MODES and params is not None:
                parts.travel.append((mode, params))
    factors = data.get("emission_factors_g_per_km")
    if isinstance(factors, dict):
        for mode, raw in factors.items():
            if mode in MODES and isinstance(raw, int | float) and not isinstance(raw, bool):
                parts.emission_factors.append((mode, float(raw)))
    for section in _SECTIONS:
        entries = data.get(section, [] if section == "vehicles" else None)
        if not isinstance(entries, list):
            continue
        parts.ids[section] = [
            (index, entry["id"])
            for index, entry in enumerate(entries)
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]
        ]
        if len(parts.ids[section]) == len(entries):
            parts.complete.add(section)
    return parts


# ------------------------------------------------------------------ semantic checks


_SINGULAR = {
    "sites": "site",
    "caseworkers": "caseworker",
    "vehicles": "vehicle",
    "households": "household",
    "visits": "visit",
}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _skipped_local_time(local: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time does not exist in ``zone`` (clocks jump over it)."""
    round_trip = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) != local


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _check_ids(parts: _Parts, issues: list[_Issue]) -> None:
    for section in _SECTIONS:
        first: dict[str, int] = {}
        for index, ident in parts.ids.get(section, []):
            if ident in first:
                where = json_path((section, first[ident]))
                message = f"duplicate {_SINGULAR[section]} id {ident!r} (also {where})"
                issues.append(_Issue((section, index, "id"), message))
            else:
                first[ident] = index
    site_ids = {ident for _, ident in parts.ids.get("sites", [])}
    for index, ident in parts.ids.get("visits", []):
        if ident in site_ids:
            message = f"visit id {ident!r} is also a site id (plan legs could not tell them apart)"
            issues.append(_Issue(("visits", index, "id"), message))


def _check_location(loc: Loc, location: Location, issues: list[_Issue]) -> None:
    for name, value, limit in (("lat", location.lat, 90), ("lon", location.lon, 180)):
        word = "latitude" if name == "lat" else "longitude"
        if not math.isfinite(value):
            issues.append(_Issue((*loc, name), f"{word} must be a finite number, got {value}"))
        elif not -limit <= value <= limit:
            message = f"{word} {_number(value)} is out of range -{limit}..{limit}"
            issues.append(_Issue((*loc, name), message))


def _check_interval(loc: Loc, what: str, start: time, end: time, issues: list[_Issue]) -> None:
    shown = f"{what} interval {_hhmm(start)}-{_hhmm(end)}"
    if end < start:
        issues.append(_Issue(loc, f"{shown} ends before it starts"))
    elif end == start:
        issues.append(_Issue(loc, f"{shown} is empty (ends when it starts)"))


def _check_horizon(parts: _Parts, issues: list[_Issue]) -> tuple[date, date] | None:
    """Order and length of the horizon; its dates if usable for the pin check."""
    horizon = parts.horizon
    if horizon is None:
        return None
    if horizon.end < horizon.start:
        message = f"horizon ends on {horizon.end}, before it starts on {horizon.start}"
        issues.append(_Issue(("horizon", "end"), message))
        return None
    dates = (horizon.end - horizon.start).days + 1
    if dates > MAX_HORIZON_DATES:
        message = (
            f"horizon {horizon.start}..{horizon.end} spans {dates} dates, "
            f"at most {MAX_HORIZON_DATES} are allowed"
        )
        issues.append(_Issue(("horizon",), message))
    return horizon.start, horizon.end


def _check_caseworker(
    index: int, caseworker: Caseworker, site_ids: set[str] | None, issues: list[_Issue]
) -> None:
    loc: Loc = ("caseworkers", index)
    if site_ids is not None and caseworker.site not in site_ids:
        issues.append(_Issue((*loc, "site"), f"unknown site {caseworker.site!r}"))
    for day, (start, end) in caseworker.working_hours.items():
        _check_interval((*loc, "working_hours", day), "working hours", start, end, issues)
    for number, absence in enumerate(caseworker.absences):
        # A date start means 00:00 that day, a date end the end of that day (inclusive).
        begins = absence.start
        if not isinstance(begins, datetime):
            begins = datetime.combine(begins, time(0, 0))
        ends = absence.end
        if not isinstance(ends, datetime):
            ends = datetime.combine(ends + timedelta(days=1), time(0, 0))
        if ends <= begins:
            shown_end, shown_start = _local(absence.end), _local(absence.start)
            if isinstance(absence.start, datetime) or isinstance(absence.end, datetime):
                message = f"absence ends at {shown_end}, not after it starts at {shown_start}"
            else:
                message = f"absence ends on {shown_end}, before it starts on {shown_start}"
            issues.append(_Issue((*loc, "absences", number, "end"), message))
    limit = caseworker.max_visits_per_day
    if limit is not None and limit < 1:
        message = f"max_visits_per_day must be at least 1, got {limit}"
        issues.append(_Issue((*loc, "max_visits_per_day"), message))


def _check_vehicle(
    index: int, vehicle: Vehicle, site_ids: set[str] | None, issues: list[_Issue]
) -> None:
    loc: Loc = ("vehicles", index)
    if site_ids is not None and vehicle.site not in site_ids:
        issues.append(_Issue((*loc, "site"), f"unknown site {vehicle.site!r}"))
    if not _positive(vehicle.range_km):
        message = f"range_km must be a positive number of km, got {_number(vehicle.range_km)}"
        issues.append(_Issue((*loc, "range_km"), message))
    for number, blocked in enumerate(vehicle.blocked):
        if blocked.end <= blocked.start:
            message = (
                f"blocked interval ends at {_local(blocked.end)}, "
                f"not after it starts at {_local(blocked.start)}"
            )
            issues.append(_Issue((*loc, "blocked", number, "end"), message))


def _check_household(
    index: int, household: Household, caseworker_ids: set[str] | None, issues: list[_Issue]
) -> None:
    loc: Loc = ("households", index)
    _check_location((*loc, "location"), household.location, issues)
    primary = household.primary_caseworker
    if primary is not None and caseworker_ids is not None and primary not in caseworker_ids:
        issues.append(_Issue((*loc, "primary_caseworker"), f"unknown caseworker {primary!r}"))
    for number, allowed in enumerate(household.allowed_caseworkers):
        if caseworker_ids is not None and allowed not in caseworker_ids:
            message = f"unknown caseworker {allowed!r}"
            issues.append(_Issue((*loc, "allowed_caseworkers", number), message))
    for day, intervals in (household.availability or {}).items():
        for number, (start, end) in enumerate(intervals):
            where = (*loc, "availability", day, number)
            _check_interval(where, "availability", start, end, issues)


def _check_visit(
    index: int,
    visit: Visit,
    household_ids: set[str] | None,
    caseworker_ids: set[str] | None,
    horizon: tuple[date, date] | None,
    zone: ZoneInfo | None,
    issues: list[_Issue],
) -> None:
    loc: Loc = ("visits", index)
    if household_ids is not None and visit.household not in household_ids:
        issues.append(_Issue((*loc, "household"), f"unknown household {visit.household!r}"))
    if visit.duration_minutes <= 0:
        message = f"duration_minutes must be positive, got {visit.duration_minutes}"
        issues.append(_Issue((*loc, "duration_minutes"), message))
    window = visit.window
    if window and window.earliest and window.latest and window.latest < window.earliest:
        message = f"window's latest date {window.latest} is before its earliest {window.earliest}"
        issues.append(_Issue((*loc, "window", "latest"), message))
    pin = visit.pinned
    if pin is None:
        return
    if caseworker_ids is not None and pin.caseworker not in caseworker_ids:
        issues.append(
            _Issue((*loc, "pinned", "caseworker"), f"unknown caseworker {pin.caseworker!r}")
        )
    if horizon is not None and not horizon[0] <= pin.start.date() <= horizon[1]:
        message = (
            f"pinned start {_local(pin.start)} is outside the horizon {horizon[0]}..{horizon[1]}"
        )
        issues.append(_Issue((*loc, "pinned", "start"), message))
    elif zone is not None and _skipped_local_time(pin.start, zone):
        message = (
            f"pinned start {_local(pin.start)} does not exist in {zone.key} "
            "(the clocks skip it when daylight saving time begins)"
        )
        issues.append(_Issue((*loc, "pinned", "start"), message))


def _check_numbers(parts: _Parts, issues: list[_Issue]) -> None:
    for mode, params in parts.travel:
        loc: Loc = ("travel", mode)
        if params.speed_kmh is not None and not _positive(params.speed_kmh):
            message = f"speed_kmh must be a positive number, got {_number(params.speed_kmh)}"
            issues.append(_Issue((*loc, "speed_kmh"), message))
        detour = params.detour_factor
        if detour is not None and not (math.isfinite(detour) and detour >= 1):
            message = (
                f"detour_factor must be at least 1 (a road is never shorter than the "
                f"straight line), got {_number(detour)}"
            )
            issues.append(_Issue((*loc, "detour_factor"), message))
        if params.max_leg_km is not None and not _positive(params.max_leg_km):
            message = (
                f"max_leg_km must be a positive number of km (null for no limit), "
                f"got {_number(params.max_leg_km)}"
            )
            issues.append(_Issue((*loc, "max_leg_km"), message))
    for mode, factor in parts.emission_factors:
        if not (math.isfinite(factor) and factor >= 0):
            message = f"emission factor must be a finite number >= 0 g/km, got {_number(factor)}"
            issues.append(_Issue(("emission_factors_g_per_km", mode), message))
    if parts.objective is not None:
        for name, value in parts.objective.model_dump().items():
            if isinstance(value, float) and not math.isfinite(value):
                message = f"weight must be a finite number, got {_number(value)}"
                issues.append(_Issue(("objective", name), message))


def _semantic_issues(parts: _Parts) -> list[_Issue]:
    issues: list[_Issue] = []
    zone = None
    if parts.timezone is not None:
        zone = _zone(parts.timezone)
        if zone is None:
            issues.append(_Issue(("timezone",), f"unknown timezone {parts.timezone!r}"))
    if parts.region is not None and not is_known_region(parts.region):
        message = f"unknown region {parts.region!r} (expected an ISO 3166-2 code such as 'DE-NW')"
        issues.append(_Issue(("region",), message))
    horizon = _check_horizon(parts, issues)
    _check_ids(parts, issues)
    site_ids = parts.known("sites")
    caseworker_ids = parts.known("caseworkers")
    household_ids = parts.known("households")
    for index, site in parts.sites:
        _check_location(("sites", index, "location"), site.location, issues)
    for index, caseworker in parts.caseworkers:
        _check_caseworker(index, caseworker, site_ids, issues)
    for index, vehicle in parts.vehicles:
        _check_vehicle(index, vehicle, site_ids, issues)
    for index, household in parts.households:
        _check_household(index, household, caseworker_ids, issues)
    for index, visit in parts.visits:
        _check_visit(index, visit, household_ids, caseworker_ids, horizon, zone, issues)
    _check_numbers(parts, issues)
    return issues


# ----------------------------------------------------------------------- public


def validate_scenario(scenario: Scenario) -> list[Problem]:
    """The semantic problems of a parsed scenario, in document order; [] if none."""
    return _finish(_semantic_issues(_parts_of_scenario(scenario)), Scenario)


def _load(
    text: str | bytes,
    source: str,
    model: type[M],
    expected: str,
    other: str,
    semantic: Callable[[M], list[_Issue]] | None,
    semantic_of_document: Callable[[dict[str, Any]], list[_Issue]] | None,
) -> M:
    data, issues = _document_object(text, source, expected, other)
    try:
        parsed = model.model_validate(data, by_name=False)
    except ValidationError as exc:
        issues.extend(_structural_issues(exc, model))
        if semantic_of_document is not None:
            issues.extend(semantic_of_document(data))
        raise DocumentInvalid(_finish(issues, model), source) from None
    if semantic is not None:
        issues.extend(semantic(parsed))
    if issues:
        raise DocumentInvalid(_finish(issues, model), source)
    return parsed


def load_scenario(text: str | bytes, *, source: str = "scenario") -> Scenario:
    """Parse and check a scenario document; raises DocumentInvalid with every problem."""
    return _load(
        text,
        source,
        Scenario,
        SCENARIO_FORMAT,
        PLAN_FORMAT,
        lambda scenario: _semantic_issues(_parts_of_scenario(scenario)),
        lambda data: _semantic_issues(_parts_of_document(data)),
    )


def load_plan(text: str | bytes, *, source: str = "plan") -> Plan:
    """Parse a plan document (structure only: ``scheduler.check`` checks its promises)."""
    return _load(text, source, Plan, PLAN_FORMAT, SCENARIO_FORMAT, None, None)
