"""Signed cookies for the web pages: the session and the CSRF token.

The session is a cookie the server signs (HMAC-SHA256 with ``FIELDWORK_SECRET_KEY``)
rather than a row in a table: it names the user and how they signed in, and it is
checked against the database on every request, so it ends as soon as the token it was
opened with is revoked, the password it was opened with changes, or the user is
deactivated. It is HttpOnly (scripts cannot read it), SameSite=Lax (other sites' forms
do not send it) and Secure when ``FIELDWORK_SECURE_COOKIES`` is set.

CSRF: every form carries a token that is the HMAC of a random value held in its own
HttpOnly cookie (a signed double submit). Another site can make the browser send the
cookie, but cannot read it, so it cannot compute the token. Signing in replaces the
value, so a token seen before sign-in is worthless after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Literal

SESSION_COOKIE = "fw_session"
CSRF_COOKIE = "fw_csrf"
LANGUAGE_COOKIE = "fw_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

Method = Literal["token", "password"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash: a session opened with a password ends when the
    password changes, without the cookie carrying the hash itself."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class WebSession:
    user_id: int
    method: Method
    #: The token it was opened with (``api_token.id``), for a token sign-in.
    token_id: int | None
    #: ``password_fingerprint`` of the password it was opened with.
    password: str | None
    expires: float


class Signer:
    """Signs and checks the cookies with one secret key."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"fieldwork-web|" + secret_key.encode("utf-8")).digest()

    def _mac(self, purpose: str, payload: bytes) -> str:
        return _b64(hmac.new(self._key, purpose.encode() + b"|" + payload, "sha256").digest())

    # ------------------------------------------------------------------------ session

    def session_cookie(self, session: WebSession) -> str:
        payload = json.dumps(
            {
                "u": session.user_id,
                "m": session.method,
                "t": session.token_id,
                "p": session.password,
                "e": int(session.expires),
            },
            separators=(",", ":"),
        ).encode("utf-8")
        return f"{_b64(payload)}.{self._mac('session', payload)}"

    def read_session(self, cookie: str | None, now: float | None = None) -> WebSession | None:
        """The session in a cookie this server signed and that has not expired, or None."""
        if not cookie or cookie.count(".") != 1:
            return None
        encoded, mac = cookie.split(".")
        try:
            payload = _unb64(encoded)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac("session", payload)):
            return None
        try:
            data = json.loads(payload)
            session = WebSession(
                user_id=int(data["u"]),
                method=data["m"],
                token_id=None if data["t"] is None else int(data["t"]),
                password=data["p"],
                expires=float(data["e"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if session.expires <= (time.time() if now is None else now):
            return None
        return session

    # --------------------------------------------------------------------------- CSRF

    @staticmethod
    def new_csrf_secret() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token(self, secret: str) -> str:
        """The token forms carry for the CSRF cookie's value."""
        return self._mac("csrf", secret.encode("utf-8"))

    def csrf_valid(self, secret: str | None, token: str | None) -> bool:
        if not secret or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(secret))
