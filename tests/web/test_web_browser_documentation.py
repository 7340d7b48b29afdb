"""Visit documentation in a real browser (headless Chromium, as ``test_web_browser.py``,
whose server and browser it shares): a caseworker on a phone ticks both boxes under a
visit of last week, saves, and sees what is noted; the form then offers nothing more."""

from __future__ import annotations

from typing import Any

from test_web_browser import WEEK, _page, _shot, browser, server

__all__ = ["browser", "server"]  # the shared session fixtures


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
