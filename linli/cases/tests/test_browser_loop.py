"""The closed loop in a real browser (Debian's Chromium through Playwright; no browser download):
a resident scans a building QR code on a phone-sized screen and reports with a photo, the community
dispatcher assigns it, the unit's handler accepts and resolves it, the resident rates it, and the case
shows on the public page. No request leaves the live server; no page reports a CSP violation.

Set ``LINLI_SCREENSHOT_DIR`` to keep screenshots of each step.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from PIL import Image

from linli.accounts.tests.factories import PASSWORD
from linli.cases.models import Case, CaseAttachment, Status
from linli.cases.qr import building_qr_path
from linli.cases.tests.factories import build_world, category
from linli.core.tests.browser import CHROMIUM, CHROMIUM_ARGS, CSP_WATCH, chromium_required, watch_page

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = pytest.mark.browser


def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("LINLI_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"loop-{name}.png"), full_page=True)


def big_photo() -> bytes:
    """A 2400×1800 camera-like JPEG with EXIF: the page must shrink it to ≤ 1600 px and ≤ 400 KB."""
    image = Image.effect_noise((2400, 1800), 48).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def test_a_resident_reports_by_qr_code_and_the_loop_closes_in_a_browser(
    live_server: Any, transactional_db: None, settings: Any, tmp_path: Path
) -> None:
    chromium_required()
    from playwright.sync_api import expect, sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    # All database work happens before Playwright starts its event loop in this thread.
    world = build_world()
    building = world.d.buildings[0]  # grid 0, community 0: secretary0 dispatches, unit0 handles
    qr_path = building_qr_path(building)
    leaf = category("road.streetlight")
    resident_session = Client()
    resident_session.force_login(world.resident, backend="linli.accounts.backends.PhoneCodeBackend")
    session_cookie = resident_session.cookies[django_settings.SESSION_COOKIE_NAME].value
    photo = big_photo()
    assert len(photo) > 1_000_000

    origin = live_server.url
    off_origin: list[str] = []
    page_errors: list[str] = []
    violations: dict[str, list[str]] = {}

    def watch(page: Any) -> None:
        watch_page(page, origin, errors=page_errors, off_origin=off_origin)

    def seen(page: Any, label: str) -> None:
        page.wait_for_timeout(150)  # let late violations (styles, images) arrive
        found = page.evaluate("window.__csp || []")
        if found:
            violations[label] = found

    def staff_context(browser: Any, username: str) -> Any:
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        page.set_default_timeout(15_000)
        watch(page)
        page.goto(f"{origin}/accounts/login/?next=/cases/wb/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("form.form button[type=submit]")
        page.wait_for_url(f"{origin}/cases/wb/")
        return page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # 1. The resident scans the building's QR code on a phone and reports with a photo.
            phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
            phone.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": origin}]
            )
            phone.add_init_script(CSP_WATCH)
            page = phone.new_page()
            page.set_default_timeout(15_000)
            watch(page)
            page.goto(origin + qr_path)
            assert building.name in page.locator("#qr-place").inner_text()
            page.select_option("#id_category", str(leaf.pk))
            assert page.locator("input[name=kind][value=complaint]").is_checked()  # the category's default
            page.fill("#id_text", "楼下路灯坏了一周,晚上看不见路")
            page.set_input_files(
                "#id_photos", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}]
            )
            page.wait_for_selector("#photo-list li img")
            expect(page.locator("#photo-status")).to_have_text("")
            sent_bytes = int(page.locator("#photo-list li").first.get_attribute("data-bytes") or 0)
            screenshot(page, "1-report")
            seen(page, "report")
            page.click("#submit-btn")
            page.wait_for_url(re.compile(r".*/cases/report/done/\d+/$"))
            number = page.locator("#case-number").inner_text()
            seen(page, "receipt")
            screenshot(page, "2-receipt")

            # 2. The community dispatcher assigns it to the property company.
            desk = staff_context(browser, world.secretary0.username)
            desk.click(f"text={number}")
            desk.wait_for_selector("#case-detail")
            desk.click("details[data-action=assign] summary")
            desk.select_option("details[data-action=assign] select[name=unit]", str(world.unit0.pk))
            desk.click("details[data-action=assign] button[type=submit]")
            desk.wait_for_selector("#case-notice")
            assert desk.locator("#case-status").inner_text() == "待接单"
            seen(desk, "dispatcher")
            screenshot(desk, "3-assigned")
            desk.goto(f"{origin}/cases/wb/map/")
            desk.wait_for_selector("#case-map[data-loaded]")
            assert desk.locator("path.case-pin").count() == 1
            seen(desk, "staff map")

            # 3. The unit's handler accepts and resolves it, with a public result photo.
            unit = staff_context(browser, world.handler0.username)
            unit.click(f"text={number}")
            unit.wait_for_selector("#case-detail")
            unit.click("details[data-action=accept] summary")
            unit.click("details[data-action=accept] button[type=submit]")
            expect(unit.locator("#case-status")).to_have_text("办理中")
            unit.click("details[data-action=resolve] summary")
            unit.fill("details[data-action=resolve] textarea[name=result_text]", "已更换灯泡,恢复照明")
            unit.check("details[data-action=resolve] input[name=photos_public]")
            unit.set_input_files(
                "details[data-action=resolve] input[name=photos]",
                files=[{"name": "done.jpg", "mimeType": "image/jpeg", "buffer": photo}],
            )
            unit.click("details[data-action=resolve] button[type=submit]")
            expect(unit.locator("#case-status")).to_have_text("已办结待评价")
            seen(unit, "handler")
            screenshot(unit, "4-resolved")

            # 4. The resident reads the result and rates it.
            page.goto(f"{origin}/cases/mine/")
            page.click(f"text={number}")
            page.wait_for_selector("#rate")
            assert "已更换灯泡" in page.locator("#case-result").inner_text()
            page.click("label.pick:has(input[value=satisfied])")
            page.fill("#id_comment", "修得很快,谢谢")
            page.click("#rate button[type=submit]")
            expect(page.locator("#case-status")).to_have_text("已结案")
            seen(page, "rated")
            screenshot(page, "5-rated")

            # 5. The case is on the public page (and its pin on the map).
            page.goto(f"{origin}/cases/public/")
            page.wait_for_selector(f'[data-number="{number}"]')
            page.wait_for_selector("#case-map[data-loaded]")
            assert int(page.locator("#case-map").get_attribute("data-loaded") or 0) >= 1
            seen(page, "public")
            screenshot(page, "6-public")
        finally:
            browser.close()

    case = Case.objects.get(number=number)
    assert (case.status, case.rating, case.building_id) == (Status.CLOSED, "satisfied", building.pk)
    assert case.channel == "building_qr" and (case.lat, case.lng) == (building.lat, building.lng)
    report_photo = CaseAttachment.objects.get(case=case, kind="report")
    assert max(report_photo.width, report_photo.height) <= 1600  # resized in the browser
    assert dict(Image.open(report_photo.file.path).getexif()) == {}
    assert 0 < sent_bytes <= 400 * 1024, sent_bytes  # the photo went up resized: ≤ 400 KB instead of > 1 MB
    assert CaseAttachment.objects.get(case=case, kind="result").is_public
    assert off_origin == [], f"requests left the live server: {off_origin}"
    assert violations == {}, violations
    assert page_errors == [], page_errors


def test_the_report_page_locates_the_phone_offers_me_too_and_loads_the_map_on_demand(
    live_server: Any, transactional_db: None, settings: Any, tmp_path: Path
) -> None:
    chromium_required()
    from playwright.sync_api import expect, sync_playwright

    from linli.cases.tests.factories import grid_point, submit

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    world = build_world()
    leaf = category("road.streetlight")
    existing = submit(world, grid=1, reporter=world.resident2, category_id=leaf.pk)
    lat, lng = grid_point(world.d, 1)
    session = Client()
    session.force_login(world.resident, backend="linli.accounts.backends.PhoneCodeBackend")
    cookie = session.cookies[django_settings.SESSION_COOKIE_NAME].value
    origin = live_server.url
    off_origin: list[str] = []
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                locale="zh-CN",
                geolocation={"latitude": lat, "longitude": lng},
                permissions=["geolocation"],
            )
            context.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": origin}]
            )
            context.add_init_script(CSP_WATCH)
            page = context.new_page()
            page.set_default_timeout(15_000)
            watch_page(page, origin, errors=errors, off_origin=off_origin)
            page.goto(f"{origin}/cases/report/")
            assert page.evaluate("typeof window.L") == "undefined"  # no map library until it is asked for
            page.select_option("#id_category", str(leaf.pk))
            page.click("#geo-btn")
            expect(page.locator("#loc-status")).to_contain_text(world.d.communities[0].name)
            page.wait_for_selector("#nearby:not([hidden]) .nearby-list li")
            assert existing.number in page.locator("#nearby").inner_text()
            page.click("#nearby button")
            expect(page.locator("#nearby .followed")).to_have_count(1)
            page.click("#pin-btn")
            page.wait_for_selector("#pin-map .leaflet-container, #pin-map.leaflet-container")
            page.wait_for_selector("#pin-map path.leaflet-interactive")
            box = page.locator("#pin-map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            expect(page.locator("#id_lat")).not_to_have_value(f"{lat:.6f}")
            screenshot(page, "7-pin")
            page.wait_for_timeout(150)
            csp = page.evaluate("window.__csp")
        finally:
            browser.close()

    existing.refresh_from_db()
    assert existing.follower_count == 1
    assert Case.objects.count() == 1  # followed, not filed again
    assert csp == [] and off_origin == [] and errors == []
