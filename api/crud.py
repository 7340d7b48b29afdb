"""What every resource router does the same way: look up, write, audit, paginate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from sqlalchemy import Select, func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from core.audit import record
from core.db import transaction
from core.errors import Conflict, Infeasible, NotFound
from scheduler.models import User

Row = TypeVar("Row")

Limit = Annotated[int, Query(ge=1, le=500, description="at most this many items")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="skip this many items")]
#: A record's id in a URL: the columns are 32-bit integers on PostgreSQL.
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: A filter by a planning-format id (``site=enn``, ``caseworker=cw01``).
KeyFilter = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


@contextmanager
def writing(session: Session) -> Iterator[None]:
    """One transaction; a write the database refuses (a duplicate key, a record still
    referred to) is a ``Conflict`` and writes nothing."""
    try:
        with transaction(session):
            yield
            session.flush()
    except (IntegrityError, DataError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise Conflict(f"the database refused the change: {reason}") from error


def get_or_404(session: Session, model: type[Row], id_: int, what: str) -> Row:
    row = session.get(model, id_)
    if row is None:
        raise NotFound(f"no {what} {id_}")
    return row


def referenced(session: Session, model: type[Row], column: Any, key: str, what: str) -> Row:
    """A record a body refers to by its key; 422 when it does not exist."""
    row = session.scalars(select(model).where(column == key)).one_or_none()
    if row is None:
        raise Infeasible(f"unknown {what} {key}")
    return row


def page(session: Session, query: Select[Row], limit: int, offset: int) -> tuple[list[Row], int]:
    """One page of ``query`` and the number of rows it has in all."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return list(session.scalars(query.limit(limit).offset(offset))), int(total or 0)


def audit(
    session: Session,
    user: User,
    action: str,
    entity: str,
    entity_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    record(
        session=session,
        actor=user.name,
        user_id=user.id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
    )
