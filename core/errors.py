"""The domain error tree, rooted in ``ValueError`` like the planning format's errors.

Services raise these; the CLI turns them into one line and exit code 2, the HTTP API
into ``application/problem+json`` (404 for ``NotFound``, 409 for ``Conflict``, 422 for
``Infeasible``).
"""

from __future__ import annotations


class DomainError(ValueError):
    """A request the data cannot satisfy; the message says why, for a coordinator."""


class NotFound(DomainError):
    """The entity asked for does not exist (or the caller may not see it)."""


class Conflict(DomainError):
    """The change contradicts what the database holds (a duplicate, a booked vehicle)."""


class Infeasible(DomainError):
    """The request is well-formed but cannot be carried out as asked."""
