"""A failed htmx request shows one dismissible Chinese banner (linli.js), in a real browser (Debian's
Chromium through Playwright; no browser download): a case that left the user's scope (404), an expired
CSRF token (403), a conflict (409), a server error (500) and a dropped connection. No CSP violation.

Set ``LINLI_SCREENSHOT_DIR`` to keep a screenshot of the banner.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.core.tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CSP_WATCH,
    chromium_required,
    staff_in_small_district,
    staff_login,
)

DESKTOP = {"width": 1280, "height": 900}
# An htmx POST from the page, as a case action button sends it (the CSRF header comes from linli.js).
# Only htmx.ajax returns a promise (rejected when the connection drops); requests htmx sends for an
# element have none, so the page sees no unhandled rejection there either.
POST = "(url) => { htmx.ajax('POST', url, {target: '#main', swap: 'none'}).catch(() => {}); }"
MISSING_CASE = "/cases/wb/999999/act/accept/"
STUBBED = "/cases/wb/999998/act/accept/"  # answered by the browser's route stub below

pytestmark = pytest.mark.browser


def test_failed_htmx_requests_show_one_dismissible_chinese_banner(
    live_server: Any, transactional_db: None, settings: Any
) -> None:
    chromium_required()
    from playwright.sync_api import expect, sync_playwright

    _district, staff = staff_in_small_district(settings, Role.COMMUNITY_SECRETARY, "desk0")
    origin = live_server.url
    page_errors: list[str] = []
    stub: dict[str, Any] = {}

    def answer(route: Any) -> None:
        if stub.get("abort"):
            route.abort("connectionreset")
        else:
            route.fulfill(status=stub["status"], content_type=stub["type"], body=stub["body"])

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            context.add_init_script(CSP_WATCH)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            staff_login(page, origin, staff.username, "/cases/wb/")
            page.route(f"{origin}{STUBBED}", answer)
            banner = page.locator(".error-banner")
            text = page.locator(".error-banner .error-banner-text")
            expect(banner).to_have_count(0)

            # 404 from the app itself (no such case for this user), twice: still one banner.
            with page.expect_response(lambda r: r.url.endswith(MISSING_CASE) and r.status == 404):
                page.evaluate(POST, MISSING_CASE)
            expect(text).to_have_text("该工单已不在您的办理范围,请刷新页面")
            with page.expect_response(lambda r: r.url.endswith(MISSING_CASE) and r.status == 404):
                page.evaluate(POST, MISSING_CASE)
            page.wait_for_timeout(100)
            expect(banner).to_have_count(1)
            assert banner.get_attribute("role") == "alert"
            assert page.locator("#htmx-error-banner").count() == 1
            if os.environ.get("LINLI_SCREENSHOT_DIR"):
                Path(os.environ["LINLI_SCREENSHOT_DIR"]).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(os.environ["LINLI_SCREENSHOT_DIR"]) / "htmx-error-banner.png"))

            # Closed, it goes away.
            page.click(".error-banner-close")
            expect(banner).to_have_count(0)

            # 403 from the app: the page's CSRF token no longer matches (e.g. after signing in elsewhere).
            page.evaluate(
                "() => { document.querySelector('meta[name=\"csrf-token\"]').content = 'x'.repeat(64); }"
            )
            with page.expect_response(lambda r: r.url.endswith(MISSING_CASE) and r.status == 403):
                page.evaluate(POST, MISSING_CASE)
            expect(text).to_have_text("页面已过期或无权操作,请刷新后重试")

            # 409: a short plain-text answer is shown as it is; anything else gets the general sentence.
            for status, kind, body, shown in [
                (409, "text/plain; charset=utf-8", "该工单已被他人接单", "该工单已被他人接单"),
                (409, "text/html; charset=utf-8", "<p>conflict</p>", "内容已被他人更新,请刷新后重试"),
                (500, "text/html; charset=utf-8", "<h1>Server Error</h1>", "服务器出错,请稍后重试"),
            ]:
                stub.update(status=status, type=kind, body=body)
                page.evaluate(POST, STUBBED)
                expect(text).to_have_text(shown)
                expect(banner).to_have_count(1)

            # A dropped connection.
            stub["abort"] = True
            page.evaluate(POST, STUBBED)
            expect(text).to_have_text("网络异常,您填写的内容已保留,请重试")
            expect(banner).to_have_count(1)
            page.wait_for_timeout(150)  # let late violations arrive
            csp = page.evaluate("window.__csp")
        finally:
            browser.close()

    assert csp == [], csp
    assert page_errors == [], page_errors
