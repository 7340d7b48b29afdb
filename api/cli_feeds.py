"""``fieldwork feeds``: calendar feed URLs from the command line (create, rotate, revoke,
list) and a CalDAV push. Registered in ``api.cli``; the same services as ``/feeds``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

feeds_app = typer.Typer(
    no_args_is_help=True, help="Calendar feeds: subscription URLs, QR codes, CalDAV push."
)

Kind = Annotated[
    Literal["caseworker", "vehicle", "site"],
    typer.Argument(help="whose feed: caseworker, vehicle or site"),
]
Key = Annotated[str, typer.Argument(metavar="ID", help="its id: cw01, ebike-enn-1, enn")]
Qr = Annotated[
    Path | None,
    typer.Option("--qr", metavar="FILE", help="also write the webcal link as QR (.png or .svg)"),
]


def _issue(
    kind: Literal["caseworker", "vehicle", "site"], key: str, qr: Path | None, rotate: bool
) -> None:
    from api.cli import database, fail, stderr
    from calendars.service import feed_url, qr_code, subject_for_key, webcal_url
    from calendars.tokens import create_token, rotate_token
    from core.db import create_session_factory
    from core.errors import DomainError
    from core.settings import get_settings

    if qr is not None and qr.suffix.lower() not in (".png", ".svg"):
        fail(f"{qr}: the QR code is written as .png or .svg")
    public_url = get_settings().public_url
    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            subject = subject_for_key(session=session, kind=kind, key=key)
            issue = rotate_token if rotate else create_token
            _, token = issue(session=session, subject=subject, actor="cli")
        except DomainError as error:
            fail(f"{shown}: {error}")
    link = webcal_url(public_url, token)
    if qr is not None:
        kind_of_file: Literal["png", "svg"] = "png" if qr.suffix.lower() == ".png" else "svg"
        try:
            qr.write_bytes(qr_code(link, kind_of_file))
        except OSError as error:
            fail(f"{qr}: cannot write ({error.strerror})")
    what = "New feed URL" if rotate else "Feed URL"
    stderr.print(
        f"{what} for {kind} {key} (shown once; the previous URL, if any, answers 404 now):"
        if rotate
        else f"{what} for {kind} {key} (shown once; subscribe with either line):",
        markup=False,
        highlight=False,
    )
    sys.stdout.write(feed_url(public_url, token) + "\n" + link + "\n")


@feeds_app.command("create")
def feeds_create(kind: Kind, key: Key, qr: Qr = None) -> None:
    """Create the feed's subscription URL and print it (https and webcal); shown once."""
    _issue(kind, key, qr, rotate=False)


@feeds_app.command("rotate")
def feeds_rotate(kind: Kind, key: Key, qr: Qr = None) -> None:
    """Replace the feed's URL by a new one; the old one stops working at once."""
    _issue(kind, key, qr, rotate=True)


@feeds_app.command("revoke")
def feeds_revoke(kind: Kind, key: Key) -> None:
    """End the feed's URL: every client subscribed to it gets 404 from now on."""
    from api.cli import database, fail, stdout
    from calendars.service import subject_for_key
    from calendars.tokens import revoke_token
    from core.db import create_session_factory
    from core.errors import DomainError

    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            subject = subject_for_key(session=session, kind=kind, key=key)
            row = revoke_token(session=session, subject=subject, actor="cli")
        except DomainError as error:
            fail(f"{shown}: {error}")
    stdout.print(f"Revoked feed token {row.id} of {kind} {key}", markup=False, highlight=False)


@feeds_app.command("list")
def feeds_list() -> None:
    """The feeds with an active URL (the URLs themselves are not stored)."""
    from rich.table import Table
    from sqlalchemy import select

    from api.cli import database, stdout
    from calendars.models import FeedToken
    from core.db import create_session_factory
    from fleet.models import Vehicle
    from scheduler.models import Caseworker, Site

    with database() as (engine, _), create_session_factory(engine)() as session:
        keys: dict[str, dict[int, str]] = {
            kind: {row_id: key for row_id, key in session.execute(select(model.id, model.key))}
            for kind, model in (("caseworker", Caseworker), ("vehicle", Vehicle), ("site", Site))
        }
        rows = list(
            session.scalars(
                select(FeedToken).where(FeedToken.revoked_at.is_(None)).order_by(FeedToken.id)
            )
        )
    table = Table("token", "feed", "id", "created", "by")
    for row in rows:
        subject_id = getattr(row, f"{row.kind}_id")
        table.add_row(
            str(row.id),
            row.kind,
            keys[row.kind].get(subject_id, "?"),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            row.created_by,
        )
    stdout.print(table)


@feeds_app.command("push")
def feeds_push(
    key: Annotated[
        str | None,
        typer.Argument(metavar="[CASEWORKER]", help="one caseworker (default: see --all)"),
    ] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="every caseworker with a CalDAV calendar (for cron)"),
    ] = False,
) -> None:
    """Write caseworkers' feeds into their CalDAV calendars (see /feeds/.../settings).

    With --all, a caseworker whose server fails is reported and the others go on; the
    exit code is 1 if any failed.
    """
    from sqlalchemy import select

    from api.cli import database, fail, stderr, stdout
    from calendars.caldav_push import PushFailed, push_caseworker
    from calendars.models import CaseworkerCalendar
    from calendars.service import options_from, subject_for_key
    from core.db import create_session_factory
    from core.errors import DomainError
    from core.settings import get_settings
    from scheduler.models import Caseworker

    if (key is None) == (not every):
        fail("name one CASEWORKER or give --all")
    options = options_from(get_settings())
    failures = 0
    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            if key is not None:
                targets = [(subject_for_key(session=session, kind="caseworker", key=key).id, key)]
            else:
                targets = [
                    (caseworker_id, caseworker_key)
                    for caseworker_id, caseworker_key in session.execute(
                        select(Caseworker.id, Caseworker.key)
                        .join(
                            CaseworkerCalendar,
                            CaseworkerCalendar.caseworker_id == Caseworker.id,
                        )
                        .where(CaseworkerCalendar.caldav_url.is_not(None))
                        .order_by(Caseworker.key)
                    )
                ]
            for caseworker_id, caseworker_key in targets:
                try:
                    result = push_caseworker(
                        session=session, caseworker_id=caseworker_id, options=options
                    )
                except PushFailed as error:
                    if key is not None:
                        raise
                    failures += 1
                    stderr.print(f"{caseworker_key}: {error}", markup=False, highlight=False)
                    continue
                stdout.print(
                    f"CalDAV calendar of {caseworker_key}: {result.created} created, "
                    f"{result.updated} updated, {result.deleted} deleted, "
                    f"{result.unchanged} unchanged",
                    markup=False,
                    highlight=False,
                )
        except DomainError as error:
            fail(f"{shown}: {error}")
    if every and not targets:
        stdout.print("No caseworker has a CalDAV calendar.", markup=False, highlight=False)
    if failures:
        raise typer.Exit(1)
