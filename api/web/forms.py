"""Reading HTML forms into the API's own request bodies.

The pages change records through the same route functions as the JSON API (the same
validation, transaction and audit event), so a form is turned into the API's body
model; what pydantic or the service refuses comes back as a list of messages shown
above the form, with the field's label.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from core.errors import DomainError


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def listed(form: FormData, name: str) -> list[str]:
    """A comma-separated field or repeated fields (checkboxes), de-duplicated in order."""
    values: list[str] = []
    for raw in form.getlist(name):
        if isinstance(raw, str):
            values += [part.strip() for part in raw.split(",") if part.strip()]
    return list(dict.fromkeys(values))


def number(form: FormData, name: str) -> str | None:
    """A number as the user typed it, German decimal comma allowed (pydantic parses it)."""
    value = text(form, name).replace(",", ".")
    return value or None


def local_instant(value: str, zone: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` input (``2026-12-01T10:00``) as an instant in ``zone``."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone)
    except ValueError:
        return None


def clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


def messages(error: ValidationError | DomainError, labels: dict[str, str]) -> list[str]:
    """One message per problem, naming the field by its label."""
    if isinstance(error, DomainError):
        return [str(error)]
    found: list[str] = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        field = labels.get(location[0], location[0]) if location else ""
        where = " ".join([field, *location[1:]]).strip()
        found.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return found
