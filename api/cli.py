"""The ``fieldwork`` command line.

Exit codes: 0 fine, 1 a checked plan breaks a promise, 2 bad input (one line per
problem on stderr, never a traceback).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from api.cli_feeds import feeds_app
from api.cli_fleet import bookings_app, fleet_app
from fleet.modes import MODE_LABELS_DE
from scheduler.format import Plan, Scenario, dump_document
from scheduler.validation import DocumentInvalid, load_plan, load_scenario

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from scheduler.publishing import PublishResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="fieldwork: plan home visits, book the shared fleet, report the mobility.",
)
db_app = typer.Typer(no_args_is_help=True, help="The database (FIELDWORK_DATABASE_URL).")
app.add_typer(db_app, name="db")
users_app = typer.Typer(no_args_is_help=True, help="Users of the HTTP API and their roles.")
app.add_typer(users_app, name="users")
tokens_app = typer.Typer(no_args_is_help=True, help="Bearer tokens of the HTTP API.")
app.add_typer(tokens_app, name="tokens")
plans_app = typer.Typer(no_args_is_help=True, help="Planning runs of the database's weeks.")
app.add_typer(plans_app, name="plans")
app.add_typer(bookings_app, name="bookings")
app.add_typer(fleet_app, name="fleet")
app.add_typer(feeds_app, name="feeds")
stdout = Console()
stderr = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    stderr.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def read_text(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except IsADirectoryError:
        fail(f"{path}: is a directory, not a file")
    except OSError as error:
        fail(f"{path}: cannot read ({error.strerror})")


def read_scenario(path: Path) -> Scenario:
    try:
        return load_scenario(read_text(path), source=str(path))
    except DocumentInvalid as error:
        fail("\n".join(f"{path}: {p.path}: {p.message}" for p in error.problems))


def read_plan(path: Path) -> Plan:
    try:
        return load_plan(read_text(path), source=str(path))
    except DocumentInvalid as error:
        fail("\n".join(f"{path}: {p.path}: {p.message}" for p in error.problems))


def write_json(document: dict[str, Any], output: Path | None) -> None:
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary = output.with_name(output.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(output)
    except OSError as error:
        fail(f"{output}: cannot write ({error.strerror})")


@app.command()
def schema(
    document: Annotated[Literal["scenario", "plan"], typer.Argument(help="scenario or plan")],
) -> None:
    """Print the JSON Schema of a scenario or a plan."""
    model = Scenario if document == "scenario" else Plan
    sys.stdout.write(json.dumps(model.model_json_schema(by_alias=True), indent=1) + "\n")


@app.command()
def plan(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO.json")],
    output: Annotated[Path, typer.Option("--output", "-o", help="where the plan goes")],
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, max=3600, help="seconds, at most")
    ] = 10.0,
    seed: Annotated[int, typer.Option(help="fixes the search for repeatable runs")] = 0,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            metavar="PLAN.json",
            help="a published plan: re-plan around it, moving only what must move",
        ),
    ] = None,
    full_time: Annotated[
        bool,
        typer.Option(
            "--full-time",
            help="use the whole time limit for a better plan instead of stopping once the "
            "search stops improving",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no summary")] = False,
) -> None:
    """Plan a scenario: appointments, tours and vehicle bookings."""
    from scheduler.planner import PlanProgress, plan_scenario

    started = process_started()
    scenario = read_scenario(scenario_path)
    published = read_plan(previous) if previous is not None else None
    if stderr.is_terminal:
        with Progress(
            TextColumn("[bold]Planen"),
            BarColumn(),
            TextColumn("{task.fields[elapsed]:.1f}/{task.total:.0f} s"),
            TextColumn("{task.fields[placed]} Besuche"),
            TextColumn("Kosten {task.fields[cost]}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
        ) as bar:
            task = bar.add_task(
                "plan", total=time_limit, elapsed=0.0, placed=f"0/{len(scenario.visits)}", cost="-"
            )

            def show(progress: PlanProgress) -> None:
                cost = "-" if progress.cost is None else f"{progress.cost:,.0f}"
                bar.update(
                    task,
                    completed=min(progress.elapsed_s, time_limit),
                    elapsed=progress.elapsed_s,
                    placed=f"{progress.placed}/{progress.visits}",
                    cost=cost,
                )

            result = plan_scenario(
                scenario,
                time_limit_s=time_limit,
                seed=seed,
                on_progress=show,
                previous=published,
                early_stop=not full_time,
                started=started,
            )
    else:
        result = plan_scenario(
            scenario,
            time_limit_s=time_limit,
            seed=seed,
            previous=published,
            early_stop=not full_time,
            started=started,
        )
    write_json(dump_document(result), output)
    if not quiet:
        print_summary(scenario, result)
        stdout.print(f"Plan written to {output}", markup=False, highlight=False)


def process_started() -> float:
    """When this process started, on the ``time.monotonic()`` clock: the time limit of
    ``fieldwork plan`` counts the interpreter's start-up and imports too (Linux: from
    /proc; elsewhere from now)."""
    now = time.monotonic()
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        # Field 22 of stat(5), the start time in clock ticks after boot; the fields
        # after the command's closing parenthesis begin with field 3.
        ticks = int(fields[22 - 3])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - min(max(age, 0.0), 60.0)


def print_summary(scenario: Scenario, result: Plan) -> None:
    from scheduler.summary import summarise

    kpis = result.kpis
    stdout.print(
        f"{scenario.name}: {kpis.scheduled} of {kpis.visits} visits planned, "
        f"{kpis.unassigned} unplanned, {len(result.tours)} tours, "
        f"{kpis.continuity_breaks} continuity breaks, {result.solver.wall_s:.1f} s",
        markup=False,
        highlight=False,
    )
    if result.replanning is not None:
        change = result.replanning
        stdout.print(
            f"Re-planned: {change.kept} of {change.previous_appointments} appointments kept "
            f"where they were, {len(change.moved)} moved, {len(change.dropped)} no longer "
            "planned" + (f" (moved: {', '.join(change.moved)})" if change.moved else ""),
            markup=False,
            highlight=False,
        )
    caseworkers, modes = summarise(scenario, result)
    labels: dict[str, str] = dict(MODE_LABELS_DE)
    for title, rows in (("Caseworker", caseworkers), ("Mode", modes)):
        table = Table(title=None, show_footer=True)
        table.add_column(title, footer="total")
        for column, total in (
            ("visits", str(sum(r.visits for r in rows))),
            ("tours", str(sum(r.tours for r in rows))),
            ("km", f"{sum(r.km for r in rows):.1f}"),
            ("kg CO2e", f"{sum(r.co2e_kg for r in rows):.2f}"),
            ("kg avoided", f"{sum(r.avoided_co2e_kg for r in rows):.2f}"),
        ):
            table.add_column(column, justify="right", footer=total)
        for row in rows:
            table.add_row(
                Text(labels.get(row.key, row.key) if title == "Mode" else row.key),
                str(row.visits),
                str(row.tours),
                f"{row.km:.1f}",
                f"{row.co2e_kg:.2f}",
                f"{row.avoided_co2e_kg:.2f}",
            )
        stdout.print(table)
    if result.unassigned:
        table = Table("unplanned visit", "reason", "detail")
        for item in result.unassigned:
            table.add_row(Text(item.visit), Text(item.reason), Text(item.detail))
        stdout.print(table)
    if any(item.reason == "capacity" for item in result.unassigned):
        print_capacity_bound(scenario)


def print_capacity_bound(scenario: Scenario) -> None:
    """Whether visits that fit alone stay open for the planner or for the week: how
    many of them any plan can make together (``scheduler/bound.py``)."""
    from scheduler.bound import capacity_bound
    from scheduler.problem import Context

    bound = capacity_bound(Context(scenario))
    if bound.visits >= bound.plannable:
        stdout.print(
            f"Capacity: all {bound.plannable} visits that fit alone could fit together as "
            "far as daily caps and working hours go; vehicles and the families' hours "
            "within a day keep the rest open.",
            markup=False,
            highlight=False,
        )
        return
    named = []
    if bound.capped_days:
        named.append(f"the daily cap on {bound.capped_days} caseworker-days")
    if bound.timed_days:
        named.append(f"the working time of {bound.timed_days}")
    limit = " and ".join(named) or "one visit a family and date"
    stdout.print(
        f"Capacity: of {bound.plannable} visits that fit alone, at most {bound.visits} fit "
        f"together ({limit} {'limit' if len(named) > 1 else 'limits'} the week): "
        f"{bound.plannable - bound.visits} stay open in any plan unless caps, hours or "
        "caseworkers change.",
        markup=False,
        highlight=False,
    )


@app.command()
def check(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO.json")],
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN.json")],
) -> None:
    """Check every promise of the planning format; exit 1 if a plan breaks one."""
    from scheduler.check import check_plan

    scenario = read_scenario(scenario_path)
    checked = read_plan(plan_path)
    violations = check_plan(scenario, checked)
    if violations:
        for violation in violations:
            stdout.print(
                f"rule {violation.rule}: {violation.path}: {violation.message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        stdout.print(f"{len(violations)} violation(s)", highlight=False)
        raise typer.Exit(1)
    stdout.print(
        f"OK: {plan_path} keeps every promise for {scenario_path} "
        f"({len(checked.appointments)} appointments, {len(checked.tours)} tours)",
        markup=False,
        highlight=False,
    )


@app.command("demo-scenario")
def demo_scenario(
    households: Annotated[int, typer.Option(min=1, max=20000)] = 30,
    seed: Annotated[int, typer.Option()] = 1,
    programme: Annotated[
        Literal["warendorf", "rottweil"], typer.Option(help="whose geography")
    ] = "warendorf",
    sites: Annotated[int | None, typer.Option(min=1, max=24)] = None,
    caseworkers: Annotated[int | None, typer.Option(min=1, max=5000)] = None,
    modes: Annotated[Literal["mixed", "single"], typer.Option()] = "mixed",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Generate a synthetic scenario (pseudonyms only, never real people)."""
    from scheduler.demo import generate_scenario

    scenario = generate_scenario(
        households=households,
        seed=seed,
        programme=programme,
        sites=sites,
        caseworkers=caseworkers,
        modes=modes,
    )
    write_json(dump_document(scenario), output)


@contextmanager
def database(*, migrated: bool = True) -> Iterator[tuple[Engine, str]]:
    """The engine of FIELDWORK_DATABASE_URL and the URL to show (password hidden).

    ``migrated``: refuse a database that lacks migrations, with the command that helps,
    instead of failing later on a missing table.
    """
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, OperationalError

    import migrations
    from core.db import create_engine_for, database_url
    from core.settings import get_settings

    try:
        url = get_settings().database_url
    except ValidationError as error:
        # A FIELDWORK_* variable the settings refuse: one line each, no traceback.
        fail(
            "\n".join(
                f"FIELDWORK_{str(problem['loc'][0]).upper()}: {problem['msg']}"
                for problem in error.errors()
            )
        )
    try:
        shown = database_url(url).render_as_string(hide_password=True)
        engine = create_engine_for(url)
    except (ArgumentError, ValueError) as error:
        fail(f"FIELDWORK_DATABASE_URL: {error}")
    try:
        if migrated:
            with engine.connect() as connection:
                if migrations.current(connection) is None:
                    fail(f"{shown}: the database has no tables yet; run `fieldwork db upgrade`")
                if migrations.pending(connection):
                    fail(f"{shown}: the database is not up to date; run `fieldwork db upgrade`")
        yield engine, shown
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        fail(f"{shown}: {reason}")
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database or migrate it to the newest revision."""
    import migrations

    with database(migrated=False) as (engine, shown):
        with engine.connect() as connection:
            before = migrations.current(connection)
        migrations.upgrade(engine)
        with engine.connect() as connection:
            after = migrations.current(connection)
        # PostgreSQL: the planning runs' queue (procrastinate's own tables, not Alembic's).
        from api.worker import apply_queue_schema

        queue_created = apply_queue_schema(engine.url)
    state = "already at" if before == after else f"migrated from {before or 'empty'} to"
    stdout.print(f"{shown}: {state} revision {after}", markup=False, highlight=False)
    if queue_created:
        stdout.print(f"{shown}: queue of planning runs created", markup=False, highlight=False)


WEEK_HELP = "this, next, or the first date of the planning week, YYYY-MM-DD"


def week_option(value: str) -> date:
    from scheduler.weeks import parse_week

    try:
        return parse_week(value)
    except ValueError as error:
        fail(f"--week: {error}")


@app.command("import")
def import_(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO.json")],
    week: Annotated[
        str | None,
        typer.Option(
            help="move the scenario by whole weeks to this week first: " + WEEK_HELP,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import a scenario into the database, all or nothing.

    Sites, caseworkers, vehicles, households and the week's visits are created or updated
    by their ids; nothing is deleted. With --week (e.g. --week next) a scenario of
    another week, such as the demo week, is moved to that week: same weekdays, new dates.
    """
    from core.db import create_session_factory
    from core.errors import DomainError
    from scheduler.service import import_scenario
    from scheduler.weeks import moved_to_week

    scenario = read_scenario(scenario_path)
    if week is not None:
        scenario = moved_to_week(scenario, week_option(week))
    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            summary = import_scenario(session=session, scenario=scenario, actor="cli")
        except (DomainError, DocumentInvalid) as error:
            fail(f"{scenario_path}: {error}")
    counts = ", ".join(
        f"{kind} {c['created']} new, {c['updated']} updated"
        for kind, c in summary.as_dict().items()
    )
    stdout.print(
        f"Imported {scenario.name} (week of {summary.week_start}) into {shown}: {counts}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def export(
    week: Annotated[str, typer.Option(help=WEEK_HELP)],
    sites: Annotated[
        list[str] | None, typer.Option("--site", help="only this site (repeatable)")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Export a planning week from the database as a scenario (stdout or -o FILE)."""
    from core.db import create_session_factory
    from core.errors import DomainError
    from scheduler.service import export_scenario

    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            scenario = export_scenario(session=session, week_start=week_option(week), sites=sites)
        except DomainError as error:
            fail(f"{shown}: {error}")
    write_json(dump_document(scenario), output)


@app.command("import-csv")
def import_csv(
    kind: Annotated[
        Literal["households", "caseworkers"], typer.Argument(help="households or caseworkers")
    ],
    csv_path: Annotated[Path, typer.Argument(metavar="FILE.csv")],
) -> None:
    """Import households or caseworkers from a CSV file as kept in Excel, all or nothing.

    Semicolons or commas, UTF-8 (with or without BOM) or Windows-1252, German or English
    headers; records are created or updated by pseudonym or Kürzel. A file with bad
    rows writes nothing and lists every bad row.
    """
    from core.db import create_session_factory
    from core.errors import DomainError
    from core.settings import get_settings
    from scheduler.csv_import import CsvInvalid, import_caseworkers_csv, import_households_csv
    from scheduler.geocoding import geocoder_for

    data = read_text(csv_path)
    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            if kind == "households":
                summary = import_households_csv(
                    session=session,
                    data=data,
                    actor="cli",
                    geocoder=geocoder_for(get_settings()),
                )
            else:
                summary = import_caseworkers_csv(session=session, data=data, actor="cli")
        except CsvInvalid as error:
            fail(
                "\n".join(
                    [f"{csv_path}: {error.summary}"]
                    + [f"{csv_path}: {problem}" for problem in error.problems]
                )
            )
        except DomainError as error:
            fail(f"{csv_path}: {error}")
    what = "Haushalte" if kind == "households" else "Fachkräfte"
    line = f"{csv_path}: {summary.created} {what} neu, {summary.updated} aktualisiert ({shown})"
    if summary.geocoded_asked or summary.geocoded_cached:
        line += (
            f"; Adressen geokodiert: {summary.geocoded_asked} angefragt, "
            f"{summary.geocoded_cached} aus dem Cache"
        )
    stdout.print(line, markup=False, highlight=False, soft_wrap=True)
    for notice in summary.notices():
        stderr.print(
            f"{csv_path}: Hinweis: {notice}", markup=False, highlight=False, soft_wrap=True
        )


@app.command("export-csv")
def export_csv(
    kind: Annotated[
        Literal["households", "caseworkers"], typer.Argument(help="households or caseworkers")
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: stdout")] = None,
) -> None:
    """Export households or caseworkers as CSV for Excel (UTF-8 with BOM, semicolons),
    in the columns import-csv reads."""
    from core.audit import record
    from core.db import create_session_factory, transaction
    from scheduler.csv_import import export_caseworkers_csv, export_households_csv

    with database() as (engine, _shown), create_session_factory(engine)() as session:
        if kind == "households":
            data, pseudonyms = export_households_csv(session=session)
            with transaction(session):
                for pseudonym in pseudonyms:
                    record(
                        session=session,
                        actor="cli",
                        action="export",
                        entity="household",
                        entity_id=pseudonym,
                        detail={"via": "csv"},
                    )
        else:
            data = export_caseworkers_csv(session=session)
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
    except OSError as error:
        fail(f"{output}: cannot write ({error.strerror})")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="a unique user name")],
    role: Annotated[
        Literal["admin", "coordinator", "caseworker", "fleet_manager"],
        typer.Option(help="what the user may do"),
    ],
    caseworker: Annotated[
        str | None,
        typer.Option(metavar="ID", help="for the caseworker role: the caseworker they are"),
    ] = None,
) -> None:
    """Add a user of the HTTP API with one role."""
    from api.auth import add_user
    from core.db import create_session_factory
    from core.errors import DomainError

    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            add_user(session=session, name=name, role=role, caseworker_key=caseworker, actor="cli")
        except DomainError as error:
            fail(f"{shown}: {error}")
    stdout.print(f"Added {name} ({role})", markup=False, highlight=False)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="the user's name")],
    stdin: Annotated[
        bool, typer.Option("--stdin", help="read the password from the first line of stdin")
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="remove the password (sign-in by token only)")
    ] = False,
) -> None:
    """Set the password USER signs in to the web pages with (asked twice, hidden)."""
    from api.auth import set_password
    from core.db import create_session_factory
    from core.errors import DomainError

    password: str | None = None
    if stdin and remove:
        fail("--stdin and --remove exclude each other")
    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not remove:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            set_password(session=session, user_name=name, password=password, actor="cli")
        except DomainError as error:
            fail(f"{shown}: {error}")
    done = "removed" if password is None else "set"
    stdout.print(f"Password of {name} {done}", markup=False, highlight=False)


@tokens_app.command("create")
def tokens_create(user: Annotated[str, typer.Argument(help="the user's name")]) -> None:
    """Create a bearer token for USER and print it; it is stored hashed, shown only now."""
    from api.auth import create_token
    from core.db import create_session_factory
    from core.errors import DomainError

    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            row, token = create_token(session=session, user_name=user, actor="cli")
        except DomainError as error:
            fail(f"{shown}: {error}")
    stderr.print(
        f"Token {row.id} for {user} (shown once; send it as 'Authorization: Bearer TOKEN'):",
        markup=False,
        highlight=False,
    )
    sys.stdout.write(token + "\n")


@tokens_app.command("revoke")
def tokens_revoke(
    user: Annotated[str, typer.Argument(help="the user's name")],
    token_id: Annotated[
        int | None, typer.Option("--id", help="only this token (default: all of the user's)")
    ] = None,
) -> None:
    """Revoke a user's tokens (all, or one by --id)."""
    from api.auth import revoke_tokens
    from core.db import create_session_factory
    from core.errors import DomainError

    with database() as (engine, shown), create_session_factory(engine)() as session:
        try:
            revoked = revoke_tokens(session=session, user_name=user, token_id=token_id, actor="cli")
        except DomainError as error:
            fail(f"{shown}: {error}")
    ids = ", ".join(str(token) for token in revoked) or "none"
    stdout.print(f"Revoked tokens of {user}: {ids}", markup=False, highlight=False)


@plans_app.command("run")
def plans_run(
    week: Annotated[str, typer.Option(help=WEEK_HELP)],
    sites: Annotated[
        list[str] | None, typer.Option("--site", help="only this site (repeatable)")
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.5, max=3600, help="seconds, at most")
    ] = 10.0,
    seed: Annotated[int, typer.Option(min=0, help="fixes the search for repeatable runs")] = 0,
    replan: Annotated[
        bool | None,
        typer.Option(
            "--replan/--from-scratch",
            help="start from the week's published plan (default: if there is one)",
        ),
    ] = None,
    publish_plan: Annotated[
        bool, typer.Option("--publish", help="publish the plan once it is done")
    ] = False,
) -> None:
    """Plan a week of the database here and now, as the API's workers do: queue the
    run, run it in this process, and with --publish publish it."""
    from api.worker import run_supervised
    from core.db import create_session_factory
    from core.errors import DomainError
    from scheduler.models import Plan as PlanRow
    from scheduler.publishing import PublishConflict, publish
    from scheduler.runs import queue_run

    week_start = week_option(week)
    with database() as (engine, shown):
        factory = create_session_factory(engine)
        with factory() as session:
            try:
                queued = queue_run(
                    session=session,
                    week_start=week_start,
                    sites=sites,
                    time_limit_s=time_limit,
                    seed=seed,
                    replan=replan,
                    actor="cli",
                )
            except DomainError as error:
                fail(f"{shown}: {error}")
            stdout.print(
                f"Plan {queued.id}: week of {week_start}, sites {', '.join(queued.sites or [])}"
                + (
                    f", re-planning plan {queued.previous_plan_id}"
                    if queued.previous_plan_id
                    else ""
                ),
                markup=False,
                highlight=False,
            )
            # As a worker does: a child process plans, this one beats its heartbeat.
            status = run_supervised(engine.url, queued.id)
            row = session.get(PlanRow, queued.id)
            assert row is not None
            session.refresh(row)
            if status != "done" or row.result is None:
                fail(f"plan {row.id} {status or row.status}: {row.error or 'not run'}", code=1)
            result = Plan.model_validate(row.result)
            print_summary(Scenario.model_validate(row.scenario), result)
            if not publish_plan:
                return
            try:
                published = publish(session=session, plan_id=row.id, actor="cli")
            except PublishConflict as conflict:
                for clash in conflict.clashes:
                    stderr.print(
                        f"tour {clash.tour}: {clash.reason}", markup=False, highlight=False
                    )
                fail(str(conflict))
            except DomainError as error:
                fail(f"{shown}: {error}")
            tell_caseworkers(factory, session, published)


@plans_app.command("publish")
def plans_publish(plan_id: Annotated[int, typer.Argument(min=1, help="the plan's id")]) -> None:
    """Publish a done plan: appointments and vehicle bookings, all or nothing; then, as
    POST /plans/ID/publish does, mail same-day changes and push CalDAV calendars."""
    from core.db import create_session_factory
    from core.errors import DomainError
    from scheduler.publishing import publish

    with database() as (engine, shown):
        factory = create_session_factory(engine)
        with factory() as session:
            try:
                published = publish(session=session, plan_id=plan_id, actor="cli")
            except DomainError as error:
                fail(f"{shown}: {error}")
            tell_caseworkers(factory, session, published)


def tell_caseworkers(
    factory: Callable[[], Session], session: Session, published: PublishResult
) -> None:
    """After a publish, as POST /plans/ID/publish does: mail the same-day changes and
    push the CalDAV calendars of the caseworkers whose appointments changed. The
    publish stands whatever happens to its mails and pushes; the outcome is printed."""
    from api.routers.plans import changed_caseworkers
    from calendars.caldav_push import push_after_publish
    from calendars.notify import deliver, prepare_mails
    from calendars.service import options_from
    from core.settings import get_settings

    counts = published.counts()
    stdout.print(
        f"Published plan {published.plan_id}: "
        + ", ".join(f"{count} {kind}" for kind, count in counts.items())
        + f", {published.bookings} vehicle bookings"
        + (
            f"; superseded plan(s) {', '.join(map(str, published.superseded))}"
            if published.superseded
            else ""
        ),
        markup=False,
        highlight=False,
    )
    settings = get_settings()
    options = options_from(settings)
    outbox = prepare_mails(
        session=session, changes=published.changes, settings=settings, options=options
    )
    mailed = deliver(outbox, settings)
    pushed = push_after_publish(factory, changed_caseworkers(published), options)
    if outbox.mails or mailed.no_address:
        stdout.print(
            f"Same-day changes: {len(mailed.sent)} e-mail(s) sent"
            + (", no SMTP server configured (FIELDWORK_SMTP_HOST)" if mailed.smtp_off else "")
            + (f", no address: {', '.join(mailed.no_address)}" if mailed.no_address else "")
            + (f", failed: {'; '.join(mailed.failed)}" if mailed.failed else ""),
            markup=False,
            highlight=False,
        )
    failed = [outcome for outcome in pushed.values() if isinstance(outcome, str)]
    if pushed:
        stdout.print(
            f"CalDAV: {len(pushed) - len(failed)} calendar(s) pushed"
            + (f", {len(failed)} failed: {'; '.join(failed)}" if failed else ""),
            markup=False,
            highlight=False,
        )


@app.command()
def worker(
    name: Annotated[str | None, typer.Option(help="the worker's name in logs")] = None,
) -> None:
    """Take planning runs from the queue (PostgreSQL) until stopped (Ctrl-C, SIGTERM)."""
    import logging

    from api.worker import run_worker

    with database() as (engine, shown):
        if engine.dialect.name != "postgresql":
            fail(
                f"{shown}: workers take runs from PostgreSQL's queue; with SQLite the API "
                "runs them in a worker process of its own"
            )
        url = engine.url
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stdout.print(f"fieldwork worker on {shown}: waiting for planning runs", markup=False)
    run_worker(url, name=name)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve the HTTP API (uvicorn); OpenAPI pages at /docs."""
    import uvicorn

    from api.main import create_app

    with database():
        pass
    stdout.print(
        f"fieldwork API on http://{host}:{port} (docs: http://{host}:{port}/docs)",
        markup=False,
        highlight=False,
    )
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def report(
    start: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="first day, YYYY-MM-DD"),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="last day, YYYY-MM-DD (inclusive)"),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="instead of --from/--to: 2026-11, 2026-Q4 or 2026")
    ] = None,
    site: Annotated[str | None, typer.Option(help="one site's key; default: all")] = None,
    output_format: Annotated[
        Literal["pdf", "csv", "json"], typer.Option("--format", help="pdf, csv or json")
    ] = "pdf",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: stdout")] = None,
    factor_set: Annotated[
        str | None, typer.Option("--factor-set", help="uba (default), uba_tremod, desnz, ...")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="mode avoided CO2e is measured against (private_car)")
    ] = None,
    factors_path: Annotated[
        Path | None,
        typer.Option("--factors", help="a factor file of one's own instead of the packaged one"),
    ] = None,
) -> None:
    """The sustainability report of a period: km, CO2e by mode and scope, avoided CO2e,
    energy, e-vehicle use, paper avoided, factors and method (PDF, CSV or JSON)."""
    from core.audit import record
    from core.db import create_session_factory, transaction
    from fleet.emissions import load_factor_file
    from reports.export_csv import render_csv
    from reports.export_pdf import render_pdf
    from reports.german import number
    from reports.periods import Period, parse_period
    from reports.sustainability import ReportOptionInvalid, ReportOptions, sustainability_report

    try:
        if period is not None:
            if start is not None or end is not None:
                fail("give either --period or --from and --to, not both")
            chosen = parse_period(period)
        elif start is None or end is None:
            fail("--from and --to (or --period) are required")
        else:
            chosen = Period(start.date(), end.date())
        factors = load_factor_file(factors_path) if factors_path is not None else None
    except ValueError as error:
        fail(str(error))
    options = ReportOptions(
        period=chosen,
        site=site,
        factor_source=factor_set,
        baseline_mode=baseline,
        factors=factors,
    )
    with database() as (engine, _shown), create_session_factory(engine)() as session:
        try:
            result = sustainability_report(session=session, options=options)
        except ReportOptionInvalid as error:
            fail(f"--{error.option.replace('_', '-')}: {error}")
        with transaction(session):
            record(
                session=session,
                actor="cli",
                action="export",
                entity="sustainability_report",
                entity_id=f"{chosen.start.isoformat()}..{chosen.end.isoformat()}",
                detail={"site": site, "format": output_format, "factor_set": result.factors.set},
            )
    if output_format == "json":
        write_json(result.model_dump(mode="json", by_alias=True), output)
        return
    body = render_csv(result) if output_format == "csv" else render_pdf(result)
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(body)
    except OSError as error:
        fail(f"{output}: cannot write ({error.strerror})")
    stderr.print(
        f"{output}: Nachhaltigkeitsbericht {result.period.label}, {result.site_label}: "
        f"{result.totals.trips} Fahrten, {number(result.totals.co2e_kg, 3)} kg CO2e",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
