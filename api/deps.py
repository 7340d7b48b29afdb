"""Dependencies of the routes: the session, the user behind the bearer token, roles.

``SessionDep`` and ``CurrentUser`` are ``Annotated`` aliases, so a route reads
``def read_household(session: SessionDep, user: CurrentUser, ...)``. Tests override
``get_session`` to run every request in their rolled-back transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth import user_for_token
from scheduler.models import Role, User

_bearer = HTTPBearer(auto_error=False, description="an API token from `fieldwork tokens create`")


def get_session(request: Request) -> Iterator[Session]:
    """A session per request, from the app's session factory."""
    with request.app.state.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user of the bearer token; 401 without a token or with a bad one."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers=challenge)
    user = user_for_token(session=session, token=credentials.credentials)
    # End the lookup's read transaction, so its connection goes back to the pool while
    # the route waits for a worker thread: otherwise, with more requests at once than
    # pooled connections, requests holding connections wait for threads that wait for
    # connections (until the pool's 30 s timeout). The user stays loaded.
    session.commit()
    if user is None:
        raise HTTPException(401, "the token is unknown or revoked", headers=challenge)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

#: Who may change the planning data (sites, caseworkers, households, visits, scenarios).
PLANNERS: tuple[Role, ...] = ("admin", "coordinator")


def require(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets only these roles through (403 for the others)."""

    def allowed(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(403, f"the role {user.role} may not do this")
        return user

    return allowed


Planner = Annotated[User, Depends(require(*PLANNERS))]
#: Everyone who may see household data (a caseworker only their own).
HouseholdReader = Annotated[User, Depends(require("admin", "coordinator", "caseworker"))]
FleetWriter = Annotated[User, Depends(require("admin", "coordinator", "fleet_manager"))]
