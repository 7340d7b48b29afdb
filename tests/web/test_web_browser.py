"""The pages in a real browser: headless Chromium (Debian's ``chromium``) through
Playwright's Python API, against the app served by uvicorn on a free port.

One server and one browser for the whole session (a SQLite file prepared once: the
demo week moved to last week, a user of every role, one published plan). Each test
writes screenshots of the pages it visits into ``docs/screenshots/`` (linked from the
README). Without chromium or Playwright the tests skip and say why; with ``CI=true``
they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_helpers import demo_week, last_week, next_week, password

import migrations
from api.auth import add_user, set_password
from core.db import create_engine_for, create_session_factory
from scheduler.models import Caseworker, Household
from scheduler.publishing import publish
from scheduler.runs import execute_run, queue_run
from scheduler.service import import_scenario

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("FIELDWORK_CHROMIUM", "/usr/bin/chromium")
#: The demo week moved to last week: its tours are over, so trips can be confirmed.
WEEK = last_week().isoformat()
#: The demo week moved to next week as well: a week that is over is not re-planned, so
#: the coordinator plans, re-plans and publishes this one.
PLAN_WEEK = next_week().isoformat()


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs the browser tests", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _prepare(url: str) -> dict[str, Any]:
    """The demo week, users of every role and a published plan of the week."""
    engine = create_engine_for(url)
    migrations.upgrade(engine)
    sessions = create_session_factory(engine)
    with sessions() as session:
        scenario = demo_week(last_week())
        import_scenario(session=session, scenario=scenario, actor="test")
        upcoming = demo_week(next_week())
        import_scenario(session=session, scenario=upcoming, actor="test")
        for name, role, caseworker in (
            ("koordination", "coordinator", None),
            ("cw01", "caseworker", "cw01"),
            ("fuhrpark", "fleet_manager", None),
        ):
            add_user(session=session, name=name, role=role, caseworker_key=caseworker, actor="t")
            set_password(session=session, user_name=name, password=password(name), actor="t")
        plan = queue_run(
            session=session,
            week_start=date.fromisoformat(WEEK),
            sites=None,
            time_limit_s=3,
            seed=0,
            replan=False,
            actor="test",
        )
        plan_id = plan.id
    with sessions() as session:
        assert execute_run(session=session, plan_id=plan_id) == "done"
    with sessions() as session:
        publish(session=session, plan_id=plan_id, actor="test")
        cw01 = session.scalars(select(Caseworker).where(Caseworker.key == "cw01")).one()
        households = list(session.scalars(select(Household).order_by(Household.id)))
        own = next(h for h in households if h.primary_caseworker_id == cw01.id)
        other = next(
            h
            for h in households
            if h.primary_caseworker_id not in (None, cw01.id)
            and cw01.id not in {c.id for c in h.allowed_caseworkers}
        )
        facts = {"own": (own.id, own.pseudonym), "other": (other.id, other.pseudonym)}
    engine.dispose()
    return facts


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        _missing(f"browser tests: no chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("browser tests: the playwright package is not installed")
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'browser.db'}"
    facts = _prepare(url)
    port = _free_port()
    environment = {
        **os.environ,
        "FIELDWORK_DATABASE_URL": url,
        "FIELDWORK_SECRET_KEY": "browser-test-secret-0123456789",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=environment,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("the app did not start", pytrace=False)
            time.sleep(0.2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"base": base, **facts}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def _page(browser: Any, server: dict[str, Any], name: str, phone: bool = False) -> Any:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, locale="de-DE")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(server["base"] + "/web/signin")
    page.get_by_label("Benutzername").fill(name)
    page.get_by_label("Passwort").fill(password(name))
    page.locator("form:has(#password)").get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
    return page


#: Every visible form control without an accessible name, and images without alt text.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, img')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => el.tagName === 'IMG' ? !el.alt : el.tagName === 'BUTTON'
    ? !(el.textContent.trim() || el.getAttribute('aria-label'))
    : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML.slice(0, 120))"""


def _shot(page: Any, name: str) -> None:
    """Screenshot the page, after checking that every control on it is labelled."""
    assert page.evaluate(UNLABELLED) == [], name
    assert page.evaluate("document.documentElement.lang") in ("de", "en")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _wait_for_plan(page: Any) -> str:
    """Wait until the run's progress gives way to its plan; the plan's status text."""
    page.wait_for_url(re.compile(r"/web/week\?week=.*&plan=\d+"), timeout=90_000)
    return str(page.locator("#plan-status").inner_text())


def test_coordinator_plans_pins_replans_and_publishes_a_week(
    browser: Any, server: dict[str, Any]
) -> None:
    page = _page(browser, server, "koordination")
    assert page.url.endswith("/web/week")
    page.goto(f"{server['base']}/web/week?week={PLAN_WEEK}")
    # Plan from scratch and watch the run.
    page.get_by_label("Rechenzeit (Sekunden)").fill("3")
    page.get_by_label("Ausgangspunkt").select_option("fresh")
    page.get_by_role("button", name="Planungslauf starten").click()
    page.wait_for_url(re.compile(r"run=\d+"))
    assert _wait_for_plan(page) == "fertig"
    _shot(page, "coordinator-week")
    kpi = page.locator(".kpis li").first.inner_text()
    planned, total = re.search(r"(\d+) / (\d+)", kpi).groups()  # type: ignore[union-attr]
    assert 0 < int(planned) <= int(total) == 35
    assert page.locator("svg[aria-label='Zeitplan je Fachkraft'] rect").count() > 20
    assert page.locator("#map ~ .figure svg polyline").count() >= 1
    page.get_by_role("button", name="Veröffentlichen").click()
    assert page.locator("#plan-status").inner_text() == "veröffentlicht"
    assert page.get_by_role("status").first.inner_text() == "Veröffentlicht."
    counts = page.locator("#publish-counts").inner_text()
    found = re.search(r": (\d+) neu, \d+ verschoben, \d+ abgesagt, (\d+) unverändert\.$", counts)
    assert found is not None and int(found.group(1)) + int(found.group(2)) > 0, counts
    # Pin the first appointment where it is (its caseworker and start are prefilled).
    row = page.locator("#appointments ~ .scroll tbody tr").first
    visit = row.locator("td").nth(3).inner_text()
    start = row.locator("td").nth(1).inner_text().split("–")[0]
    row.locator("summary").click()
    row.get_by_role("button", name="Fixieren").click()
    pinned = page.locator("#appointments ~ .scroll tbody tr", has_text=visit).first
    assert "fixiert" in pinned.inner_text()
    # Re-plan from the published plan, then publish again.
    page.get_by_label("Rechenzeit (Sekunden)").fill("3")
    page.get_by_label("Ausgangspunkt").select_option("auto")
    page.get_by_role("button", name="Planungslauf starten").click()
    assert _wait_for_plan(page) == "fertig"
    assert "Neu geplant" in page.locator("main").inner_text()
    again = page.locator("#appointments ~ .scroll tbody tr", has_text=visit).first
    assert again.locator("td").nth(1).inner_text().startswith(start)
    page.get_by_role("button", name="Veröffentlichen").click()
    assert page.locator("#plan-status").inner_text() == "veröffentlicht"
    _shot(page, "coordinator-week-replanned")
    # The other coordinator pages, in German and one in English.
    page.goto(f"{server['base']}/web/households")
    _shot(page, "coordinator-households")
    page.get_by_role("link", name=server["own"][1], exact=True).click()
    _shot(page, "coordinator-household-form")
    page.goto(f"{server['base']}/web/caseworkers")
    page.get_by_role("link", name="cw01", exact=True).click()
    _shot(page, "coordinator-caseworker-form")
    page.goto(f"{server['base']}/web/imports")
    _shot(page, "coordinator-csv-import")
    page.goto(f"{server['base']}/web/reports?period={WEEK[:7]}")
    assert page.locator("#download-pdf").count() == 1
    _shot(page, "sustainability-report")
    page.goto(f"{server['base']}/web/caseworkers")
    page.get_by_role("link", name="cw01", exact=True).click()
    page.get_by_role("link", name="EN", exact=True).click()
    assert page.locator("h1").inner_text().startswith("Edit caseworker")
    page.get_by_role("link", name="DE", exact=True).click()
    page.context.close()


def test_caseworker_confirms_a_trip_books_an_ebike_and_reaches_only_their_households(
    browser: Any, server: dict[str, Any]
) -> None:
    page = _page(browser, server, "cw01", phone=True)
    assert page.url.endswith("/web/me")
    page.goto(f"{server['base']}/web/me?week={WEEK}")
    assert page.locator("ul.appointments li").count() >= 1
    _shot(page, "caseworker-week-phone")
    own_id, own_name = server["own"]
    other_id, other_name = server["other"]
    page.goto(f"{server['base']}/web/me/households")
    assert page.get_by_role("link", name=own_name, exact=True).count() == 1
    assert page.get_by_role("link", name=other_name, exact=True).count() == 0
    page.goto(f"{server['base']}/web/me/households/{own_id}")
    assert own_name in page.locator("h1").inner_text()
    _shot(page, "caseworker-household-phone")
    answer = page.goto(f"{server['base']}/web/me/households/{other_id}")
    assert answer is not None and answer.status == 404
    assert page.locator("h1").inner_text() == "Nicht gefunden"
    assert other_name not in page.content()
    # Confirm a trip's km in one step.
    page.goto(f"{server['base']}/web/me?week={WEEK}")
    trip = page.locator("form.trip").first
    trip.get_by_label("Gefahrene Kilometer").fill("12,5")
    trip.get_by_role("button", name="Bestätigen").click()
    assert page.get_by_role("status").first.inner_text() == "Fahrt bestätigt."
    assert "12,5 km" in page.locator("#confirmed-trips").inner_text()
    _shot(page, "caseworker-trips-phone")
    # Book an e-bike for tomorrow morning.
    page.get_by_role("link", name="Fahrzeug buchen", exact=True).first.click()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page.get_by_label("Tag").fill(tomorrow)
    page.get_by_label("Beginn").fill("09:00")
    page.get_by_label("Ende").fill("11:00")
    page.get_by_label("Kilometer (hin und zurück)").fill("6")
    page.get_by_label("Art").select_option("e_bike")
    page.get_by_role("button", name="Freie Fahrzeuge suchen").click()
    page.get_by_role("button", name=re.compile(r"^Buchen: ebike-")).first.click()
    assert page.get_by_role("status").first.inner_text() == "Gebucht."
    assert "E-Bike" in page.locator("#my-bookings").inner_text()
    _shot(page, "caseworker-booking-phone")
    # The calendar link and its QR code, shown once.
    page.get_by_role("link", name="Mein Kalender").click()
    page.get_by_role("button", name="Kalender-Link erzeugen").click()
    assert page.locator("#webcal").get_attribute("href").startswith("webcal://")  # type: ignore[union-attr]
    assert page.get_by_role("img", name=re.compile("QR-Code")).count() == 1
    _shot(page, "caseworker-calendar-phone")
    # Keyboard: the skip link is the first stop and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
    page.context.close()


def test_fleet_manager_reads_utilisation(browser: Any, server: dict[str, Any]) -> None:
    page = _page(browser, server, "fuhrpark")
    assert page.url.endswith("/web/fleet")
    page.goto(f"{server['base']}/web/fleet?week={WEEK}")
    cells = page.locator("[data-utilisation]")
    assert cells.count() == 6
    figures = [int(text.rstrip(" %")) for text in cells.all_inner_texts()]
    assert any(figure > 0 for figure in figures) and all(0 <= f <= 100 for f in figures)
    assert page.locator("svg[aria-label='Auslastung je Fahrzeug'] rect").count() == 6
    _shot(page, "fleet-week")
    page.context.close()


def test_sign_in_page(browser: Any, server: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server["base"] + "/web/")
    assert "/web/signin" in page.url
    _shot(page, "signin-phone")
    page.get_by_label("Benutzername").fill("cw01")
    page.get_by_label("Passwort").fill("falsch-falsch")
    page.locator("form:has(#password)").get_by_role("button", name="Anmelden").click()
    assert page.get_by_role("alert").inner_text() == "Name oder Passwort stimmen nicht."
    context.close()


def test_no_asset_comes_from_another_host(browser: Any, server: dict[str, Any]) -> None:
    page = _page(browser, server, "koordination")
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{server['base']}/web/week?week={WEEK}")
    page.wait_for_load_state("networkidle")
    assert hosts == {server["base"].split("/")[2]}
    assert page.evaluate("typeof htmx") == "object"
    page.context.close()


def test_chromium_is_debians(server: dict[str, Any]) -> None:
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists()


# Visit documentation: a caseworker on a phone ticks both boxes under a visit of last
# week, saves, and sees what is noted; the form then offers nothing more. (In this module:
# a second module importing the session fixtures would start a second Playwright.)
def test_caseworker_notes_a_visit_record_and_consent_on_a_phone(
    browser: Any, server: dict[str, Any]
) -> None:
    page = _page(browser, server, "cw01", phone=True)
    page.goto(f"{server['base']}/web/me?week={WEEK}")
    form = page.locator("form.documentation").first
    item = page.locator("ul.appointments > li", has=form).first
    item_id = item.get_attribute("id")
    form.get_by_label("Besuchsdokumentation digital abgelegt").check()
    form.get_by_label("Einwilligung digital erfasst").check()
    _shot(page, "caseworker-documentation-phone")
    form.get_by_role("button", name="Vermerken").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").first.inner_text() == "Digitale Ablage vermerkt."
    noted = page.locator(f"#{item_id}")
    text = noted.locator("ul.documented").inner_text()
    assert "Besuchsdokumentation digital abgelegt" in text
    assert "Einwilligung digital erfasst" in text
    assert noted.locator("form.documentation").count() == 0
    noted.scroll_into_view_if_needed()
    _shot(page, "caseworker-documented-phone")
    page.context.close()
