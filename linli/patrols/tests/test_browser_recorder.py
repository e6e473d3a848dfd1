"""The phone recorder in a real browser: start, walk, lose the network, reload, come back, end — and the
server holds one patrol with every fix once.

Uses Debian's Chromium (``apt-get install -y chromium``); Playwright never downloads a browser here.
Geolocation is emulated (``context.set_geolocation``); going offline is ``context.set_offline``.
"""

from __future__ import annotations

from typing import Any

import pytest

from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, staff_with_role
from linli.core.tests.browser import CHROMIUM, CHROMIUM_ARGS, chromium_required
from linli.patrols.models import Patrol, PatrolPoint, PatrolStatus
from linli.patrols.tests.walks import STREET_LAT, m_to_deg
from linli.places.tests.factories import LNG0, build_small_district

pytestmark = pytest.mark.browser


def test_a_patrol_recorded_through_an_outage_and_a_reload_arrives_whole(
    live_server: Any, transactional_db: None, settings: Any
) -> None:
    chromium_required()
    from playwright.sync_api import sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district = build_small_district()
    worker = staff_with_role(Role.GRID_WORKER, district=district, username="patrol-walker")
    origin = live_server.url
    errors: list[str] = []

    def position(step: int) -> dict[str, float]:
        dlat, dlng = m_to_deg(STREET_LAT, 0, 2.5 * step)  # ~8 m/s at one position per 0.3 s
        return {"latitude": STREET_LAT + dlat, "longitude": LNG0 + 0.001 + dlng, "accuracy": 6}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 375, "height": 812},
                locale="zh-CN",
                geolocation=position(0),
                permissions=["geolocation"],
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(origin + "/accounts/login/?next=/patrols/record/")
            page.fill("#id_username", worker.username)
            page.fill("#id_password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url(origin + "/patrols/record/")

            def until(expression: str, timeout_ms: int = 20_000) -> None:
                # wait_for_function evaluates strings with eval(), which the page's CSP forbids.
                for _ in range(timeout_ms // 100):
                    if page.evaluate(expression):
                        return
                    page.wait_for_timeout(100)
                raise AssertionError(f"timed out waiting for {expression}")

            def fast() -> None:  # keep a fix every 0.2 s instead of every 5 s
                page.evaluate("document.getElementById('recorder').dataset.minIntervalMs = '200'")

            def walk(steps: range) -> None:
                for step in steps:
                    context.set_geolocation(position(step))
                    page.wait_for_timeout(300)

            fast()
            page.click("#patrol-start")
            page.wait_for_selector("#patrol-end:not([hidden])")
            walk(range(1, 8))
            until("document.getElementById('stat-pending').textContent === '0'")
            context.set_offline(True)
            walk(range(8, 16))
            page.evaluate("window.dispatchEvent(new Event('online'))")  # a retry while still offline
            page.wait_for_timeout(300)
            pending_offline = int(page.inner_text("#stat-pending"))
            context.set_offline(False)
            page.reload()  # the buffer and the patrol survive in localStorage
            fast()
            until("document.getElementById('stat-pending').textContent === '0'")
            walk(range(16, 22))
            page.click("#patrol-end")
            until("window.localStorage.length === 0")
            page.wait_for_selector("#patrol-start:not([hidden])")
            recorded = int(page.inner_text("#stat-points") or 0)
        finally:
            browser.close()

    assert errors == []
    assert pending_offline >= 6  # the offline fixes waited on the phone
    patrol = Patrol.objects.get(worker=worker)
    seqs = list(PatrolPoint.objects.filter(patrol=patrol).values_list("client_seq", flat=True))
    assert patrol.status == PatrolStatus.ENDED
    assert len(seqs) == len(set(seqs)) == patrol.point_count >= 18
    assert recorded == 0  # the screen is reset once the end was acknowledged
    assert 40 < patrol.distance_m < 60  # 21 steps of 2.5 m, nothing flagged as a jump
    assert patrol.flagged_count == 0
