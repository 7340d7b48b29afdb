"""Users and their bearer API tokens.

A token is 32 random bytes (256 bits, ``secrets.token_urlsafe``) with a ``fw_`` prefix;
only its SHA-256 (hex) is stored, so the token is shown once, when it is created, and a
copy of the database does not let anyone in. Plain keyword-only functions that take the
session, like every service: the CLI and the API's dependencies call the same code.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import record
from core.db import transaction, utc_now
from core.errors import Conflict, NotFound
from scheduler.models import ApiToken, Caseworker, Role, User

TOKEN_PREFIX = "fw_"


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256 of its text, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(
    *, session: Session, name: str, role: Role, caseworker_key: str | None, actor: str
) -> User:
    """Create a user; a caseworker user names the caseworker they are (their key)."""
    if role == "caseworker" and caseworker_key is None:
        raise Conflict("a caseworker user needs --caseworker ID (the caseworker they are)")
    if role != "caseworker" and caseworker_key is not None:
        raise Conflict(f"--caseworker is only for the caseworker role, not {role}")
    caseworker_id: int | None = None
    if caseworker_key is not None:
        caseworker = session.scalars(
            select(Caseworker).where(Caseworker.key == caseworker_key)
        ).one_or_none()
        if caseworker is None:
            raise NotFound(f"unknown caseworker {caseworker_key}")
        caseworker_id = caseworker.id
    user = User(name=name, role=role, caseworker_id=caseworker_id)
    try:
        with transaction(session):
            session.add(user)
            session.flush()
            record(
                session=session,
                actor=actor,
                action="create",
                entity="app_user",
                entity_id=name,
                detail={"role": role, "caseworker": caseworker_key},
            )
    except IntegrityError as error:
        taken = f"user {name} exists already"
        if caseworker_key is not None:
            taken += f", or caseworker {caseworker_key} has a user already"
        raise Conflict(taken) from error
    return user


def user_named(*, session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name)).one_or_none()
    if user is None:
        raise NotFound(f"unknown user {name}")
    return user


def create_token(*, session: Session, user_name: str, actor: str) -> tuple[ApiToken, str]:
    """A new token for the user: the stored row and the token itself (shown once)."""
    user = user_named(session=session, name=user_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(session):
        row = ApiToken(user_id=user.id, token_hash=hash_token(token))
        session.add(row)
        session.flush()
        record(
            session=session,
            actor=actor,
            action="create",
            entity="api_token",
            entity_id=str(row.id),
            detail={"user": user.name},
        )
    return row, token


def revoke_tokens(
    *, session: Session, user_name: str, token_id: int | None, actor: str
) -> list[int]:
    """Revoke one token of the user (``token_id``) or all of them; the ids revoked."""
    user = user_named(session=session, name=user_name)
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    tokens = list(session.scalars(query))
    if token_id is not None and not tokens:
        raise NotFound(f"user {user_name} has no active token {token_id}")
    with transaction(session):
        now = utc_now()
        for token in tokens:
            token.revoked_at = now
            record(
                session=session,
                actor=actor,
                action="revoke",
                entity="api_token",
                entity_id=str(token.id),
                detail={"user": user.name},
            )
    return [token.id for token in tokens]


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user an unrevoked token belongs to, or None."""
    return session.scalars(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    ).one_or_none()
