"""Users, their bearer API tokens and their passwords for the web pages.

A token is 32 random bytes (256 bits, ``secrets.token_urlsafe``) with a ``fw_`` prefix;
only its SHA-256 (hex) is stored, so the token is shown once, when it is created, and a
copy of the database does not let anyone in. Plain keyword-only functions that take the
session, like every service: the CLI and the API's dependencies call the same code.

A password (optional, for the web pages' sign-in) is stored as its scrypt hash
(RFC 7914, ``hashlib.scrypt``: memory-hard, in the standard library) with a random
salt and the cost parameters, so they can be raised later without breaking old hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
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


# --------------------------------------------------------------------------- passwords

#: scrypt cost: N = 2**15, r = 8 (32 MiB, about 0.1 s per check), as OWASP recommends.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD_LENGTH = 10


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * n * r * p, dklen=32
    )


def hash_password(password: str) -> str:
    """The stored form of a password: ``scrypt$N$r$p$salt$hash`` (base64url)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, _unb64(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


@functools.cache
def _dummy_hash() -> str:
    # A well-formed hash to check against when the user is unknown or has no password,
    # so the answer takes as long as for a known user and does not tell who exists.
    return hash_password(secrets.token_urlsafe(16))


def set_password(*, session: Session, user_name: str, password: str | None, actor: str) -> User:
    """Set (or with None remove) the user's web password; audited, never logged."""
    user = user_named(session=session, name=user_name)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise Conflict(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    with transaction(session):
        user.password_hash = None if password is None else hash_password(password)
        record(
            session=session,
            actor=actor,
            action="update",
            entity="app_user",
            entity_id=user.name,
            detail={"password": "set" if password is not None else "removed"},
        )
    return user


def user_for_password(*, session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None."""
    user = session.scalars(
        select(User).where(User.name == name, User.active.is_(True))
    ).one_or_none()
    stored = user.password_hash if user is not None else None
    matches = password_matches(password, stored or _dummy_hash())
    return user if user is not None and stored is not None and matches else None


def active_token_id(*, session: Session, token: str) -> int | None:
    """The id of the unrevoked token with this text, or None (a web session remembers it,
    so revoking the token ends the sessions it opened)."""
    return session.scalar(
        select(ApiToken.id).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
