"""One real browser run: a staff member signs in, opens the district map, clicks a grid.

Uses Debian's Chromium (``apt-get install -y chromium``); Playwright never downloads a browser here.
Set ``LINLI_SCREENSHOT_DIR`` to keep phone- and desktop-sized screenshots of the pages it visits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, staff_with_role
from linli.core.tests.browser import CHROMIUM, CHROMIUM_ARGS, watch_page
from linli.places.tests.factories import build_small_district

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.browser


def screenshot(page, name: str) -> None:
    folder = os.environ.get("LINLI_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def test_staff_signs_in_opens_the_map_and_reads_a_grid_card(live_server, transactional_db, settings) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install -y chromium` "
            "(`make test` does it). Playwright's own browser download is not used."
        )
    from playwright.sync_api import sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # All database work happens before Playwright starts its event loop in this thread.
    district = build_small_district()
    staff = staff_with_role(Role.DISTRICT_STAFF, district=district, username="qu-staff")
    worker = staff_with_role(Role.GRID_WORKER, district=district, username="grid-worker")
    worker.display_name = "张网格"
    worker.save(update_fields=["display_name"])
    grid = district.grids[0]
    origin = live_server.url
    off_origin: list[str] = []
    page_errors: list[str] = []

    def watch(page) -> None:
        watch_page(page, origin, errors=page_errors, off_origin=off_origin)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                locale="zh-CN",
                geolocation={"latitude": grid.lat, "longitude": grid.lng},
                permissions=["geolocation"],
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            watch(page)

            page.goto(f"{origin}/")
            screenshot(page, "phone-home")
            page.goto(f"{origin}/accounts/login/?next=/places/map/")
            page.fill("#id_username", staff.username)
            page.fill("#id_password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url(f"{origin}/places/map/")

            page.wait_for_selector("#map[data-loaded-grid]")
            assert page.locator("path.grid-shape").count() == len(district.grids)
            # The grid layer lists grids in code order, so the first shape is the first grid.
            page.locator("path.grid-shape").first.click()
            page.wait_for_selector("#panel-grid:not([hidden])")
            panel = page.locator("#map-panel")
            assert page.locator("#panel-title").inner_text() == grid.name
            assert panel.locator('[data-field="community_name"]').inner_text() == grid.community.name
            assert panel.locator('[data-field="households"]').inner_text() == "200"
            assert panel.locator('[data-field="workers"]').inner_text() == "张网格"
            screenshot(page, "phone-map-grid")

            # On a phone the card is a bottom sheet over the map's buttons: close it first.
            page.click("#panel-close")
            assert page.locator("#map-panel").is_hidden()
            page.click("#locate-btn")
            # A locator wait, not wait_for_function: that evaluates a string in the page, which the strict CSP forbids.
            page.locator("#map-status", has_text="›").wait_for()
            status = page.locator("#map-status").inner_text()
            assert grid.community.name in status and grid.name in status

            desktop = browser.new_context(
                viewport=DESKTOP, locale="zh-CN", storage_state=context.storage_state()
            )
            wide = desktop.new_page()
            wide.set_default_timeout(15_000)
            watch(wide)
            wide.goto(f"{origin}/")
            screenshot(wide, "desktop-workbench")
            wide.goto(f"{origin}/places/map/")
            wide.wait_for_selector("#map[data-loaded-grid]")
            wide.locator("path.grid-shape").nth(3).click()
            wide.wait_for_selector("#panel-grid:not([hidden])")
            assert wide.locator("#panel-title").inner_text() == district.grids[3].name
            screenshot(wide, "desktop-map-grid")
        finally:
            browser.close()

    assert off_origin == [], f"requests left the live server: {off_origin}"
    assert page_errors == [], page_errors
