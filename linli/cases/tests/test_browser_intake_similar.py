"""代客登记 in a real browser (Debian's Chromium through Playwright): as the clerk chooses the category and
types the caller's coordinates, the open case of that kind already filed there appears beside the form,
with its number (htmx, no CSP violation), so the caller can be told instead of filing it twice, and
the caller's mobile made to follow it with one click; a click
on the map moves the pin and fills in the coordinates. Set ``LINLI_SCREENSHOT_DIR`` to keep a screenshot."""

from __future__ import annotations

import os
from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory
from linli.cases.models import CaseCaller
from linli.cases.services import case_submit
from linli.cases.tests.factories import category, grid_point
from linli.core.tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CSP_WATCH,
    chromium_required,
    staff_in_small_district,
    staff_login,
)

pytestmark = pytest.mark.browser


def test_the_clerk_sees_the_case_already_filed_there_while_filling_in_the_form(
    live_server: Any, transactional_db: None, settings: Any
) -> None:
    chromium_required()
    from playwright.sync_api import expect, sync_playwright

    district, clerk = staff_in_small_district(settings, Role.WINDOW_STAFF, "window0")
    litter = category("city.litter")
    lat, lng = grid_point(district, 0)
    filed = case_submit(
        text="小区门口垃圾堆了三天没人清运",
        channel="resident",
        reporter=ResidentFactory(),
        category_id=litter.pk,
        lat=lat,
        lng=lng,
    ).case
    origin = live_server.url
    problems: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            context.add_init_script(CSP_WATCH)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            staff_login(page, origin, clerk.username, "/cases/wb/new/")
            panel = page.locator("#intake-similar")
            expect(panel).to_be_hidden()  # nothing chosen yet: empty and hidden
            page.select_option("#id_category", str(litter.pk))
            page.fill("#id_lat", f"{lat:.6f}")
            page.fill("#id_lng", f"{lng:.6f}")
            page.locator("#id_lng").dispatch_event("change")
            expect(panel).to_be_visible()
            expect(panel.locator("a", has_text=filed.number)).to_have_attribute(
                "href", f"/cases/wb/{filed.pk}/"
            )
            expect(panel).to_contain_text("附近同类未办结工单")
            if os.environ.get("LINLI_SCREENSHOT_DIR"):
                page.screenshot(
                    path=f"{os.environ['LINLI_SCREENSHOT_DIR']}/intake-similar.png", full_page=True
                )
            # the caller asks to hear of it: their mobile, typed in the form, follows the case (htmx POST)
            page.wait_for_load_state("networkidle")  # the panel's last refresh is in (one per changed field)
            page.fill("#id_contact_phone", "13800138000")
            with page.expect_response(lambda r: f"/cases/wb/{filed.pk}/caller/" in r.url):
                page.get_by_role("button", name="来电人关注此工单").click()
            expect(page.locator("#caller-result")).to_contain_text("已登记:138****8000")
            # a refresh of the panel (another field changed) leaves the answer in place
            with page.expect_response(lambda r: "/cases/wb/new/similar/" in r.url):
                page.locator("#id_lat").dispatch_event("change")
            expect(page.locator("#caller-result")).to_contain_text(filed.number)
            pin = page.locator("#intake-map path.leaflet-interactive")
            expect(pin).to_have_count(1)  # the typed point shows as the pin
            # a click on the map moves the pin and fills in the coordinates, which ask again
            with page.expect_response(lambda r: "/cases/wb/new/similar/" in r.url):
                page.locator("#intake-map").click(position={"x": 300, "y": 200})  # clear of the zoom buttons
            clicked = float(page.input_value("#id_lat")), float(page.input_value("#id_lng"))
            assert clicked != (round(lat, 6), round(lng, 6))
            assert all(-180 <= v <= 180 for v in clicked)
            expect(pin).to_have_count(1)
            problems += page.evaluate("window.__csp")
        finally:
            browser.close()
    assert problems == []
    assert list(CaseCaller.objects.filter(case=filed).values_list("phone", flat=True)) == ["13800138000"]
