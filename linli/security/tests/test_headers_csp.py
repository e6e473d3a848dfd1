"""Headers and CSP (IO-4, CFG-1, PI-8, PI-9): a strict policy on every page, the other security headers,
cookies, the production checklist, and a real browser that sees 0 CSP violations."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, UserFactory, staff_with_role
from linli.core.tests.browser import CHROMIUM, CHROMIUM_ARGS, CSP_WATCH, chromium_required, watch_page
from linli.places.tests.factories import SmallDistrict

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE_DIRS = [ROOT / "linli" / "templates", *ROOT.glob("linli/*/templates")]
POLICY = {
    "default-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
PAGES = ["/", "/accounts/login/", "/accounts/login/phone/", "/places/map/", "/admin/login/", "/api/docs"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_the_strict_policy(client: Client, db: None, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 200, url
    header = answer["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    found = directives(header)
    for name, value in POLICY.items():
        assert found.get(name) == value, (url, name, found.get(name))
    script = found["script-src"].split()
    assert script[0] == "'self'" and all(s == "'self'" or s.startswith("'nonce-") for s in script)


def test_the_nonce_is_fresh_per_response_when_a_template_uses_it(rf: Any) -> None:
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    nonces = set()
    for _ in range(3):
        request = rf.get("/")
        middleware = CSPMiddleware(lambda r: HttpResponse(f"<script nonce='{r.csp_nonce}'></script>"))
        header = middleware(request)["Content-Security-Policy"]
        nonces.add(re.search(r"'nonce-([^']+)'", header).group(1))  # type: ignore[union-attr]
    assert len(nonces) == 3


def test_the_other_security_headers_are_sent(client: Client, db: None) -> None:
    answer = client.get("/")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["Referrer-Policy"] == "same-origin"
    assert answer["Cross-Origin-Opener-Policy"] == "same-origin"
    assert answer["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "geolocation=(self)" in answer["Permissions-Policy"]
    assert "microphone=()" in answer["Permissions-Policy"]


def test_pages_for_a_signed_in_person_are_never_cached(client: Client, db: None) -> None:
    assert "no-store" not in client.get("/").get("Cache-Control", "")
    client.force_login(UserFactory())
    assert "no-store" in client.get("/")["Cache-Control"]
    assert "no-store" in client.get("/api/accounts/me")["Cache-Control"]


def test_session_and_csrf_cookies_are_httponly_and_same_site(client: Client, db: None) -> None:
    user = UserFactory()
    client.get("/accounts/login/")
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    session = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"
    assert client.cookies[django_settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"


def test_no_template_has_inline_script_style_attribute_or_event_handler() -> None:
    inline_script = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
    )
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            if inline_script.search(text) and "CSP_NONCE" not in text:
                offenders.append(f"{path}: inline <script> without the nonce")
            if re.search(r"\sstyle=[\"']", text):
                offenders.append(f"{path}: style attribute")
            if re.search(r"\son[a-z]+=[\"']", text):
                offenders.append(f"{path}: inline event handler")
            if re.search(r"(href|src)=[\"']https?://", text):
                offenders.append(f"{path}: loads from another origin")
    assert offenders == []


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _production(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_") and k != "DATABASE_URL"}
    env.update(
        LINLI_ENV="production",
        LINLI_SECRET_KEY=secrets.token_urlsafe(64),
        LINLI_ALLOWED_HOSTS="linli.example.org",
        LINLI_DATA_KEYS=f"p1:{_key()}",
        LINLI_DATA_KEY_ID="p1",
        LINLI_BLIND_INDEX_KEY=_key(),
        LINLI_AUDIT_KEY=f"a1:{_key()}",
    )
    env.update(extra)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_production_passes_the_deployment_checklist_and_turns_on_what_development_relaxes() -> None:
    check = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production())
    assert check.returncode == 0, check.stdout + check.stderr
    probe = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.LINLI_REQUIRE_STAFF_OTP, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])",
        env=_production(
            LINLI_MAP_TILE_URL="https://t{s}.tianditu.gov.cn/img_w/wmts?tk=KEY&x={x}&y={y}&z={z}"
        ),
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == (
        "True True True True [\"'self'\", 'data:', 'blob:', 'https://*.tianditu.gov.cn']"
    )


# --- a real browser: 0 CSP violations -----------------------------------------------------------
# Injected before any page script: every CSP violation and any payload that runs is recorded.
WATCH = (
    CSP_WATCH
    + """
window.__xss = 0;
window.alert = () => { window.__xss += 1; };
"""
)


@pytest.mark.browser
def test_a_browser_sees_no_csp_violation_and_runs_no_payload(
    live_server: Any, transactional_db: None, settings: Any
) -> None:
    chromium_required()
    from playwright.sync_api import sync_playwright

    from linli.places.models import Grid
    from linli.places.tests.factories import build_small_district
    from linli.security.tests.xss_corpus import XSS_PAYLOADS

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district: SmallDistrict = build_small_district()
    staff = staff_with_role(Role.DISTRICT_STAFF, district=district, username="csp-staff")
    payload = XSS_PAYLOADS[2]  # <img src=x onerror=alert(1)>
    grid = district.grids[0]
    Grid.objects.filter(pk=grid.pk).update(name=payload)
    staff.display_name = XSS_PAYLOADS[0]
    staff.save(update_fields=["display_name"])
    admin = UserFactory(username="csp-admin", is_staff=True, is_superuser=True)
    origin = live_server.url
    seen: dict[str, list[str]] = {}
    off_origin: list[str] = []
    errors: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
            context.add_init_script(WATCH)
            page = context.new_page()
            page.set_default_timeout(15_000)
            watch_page(page, origin, errors=errors, off_origin=off_origin)

            def visit(path: str, ready: str = "body") -> None:
                page.goto(origin + path)
                page.wait_for_selector(ready)
                page.wait_for_timeout(200)  # let late violations (styles, images) arrive
                seen[path] = page.evaluate("window.__csp")

            for path in ["/", "/accounts/login/", "/accounts/login/phone/", "/api/docs"]:
                visit(path, "#swagger-ui .information-container" if path == "/api/docs" else "body")
            page.goto(origin + "/accounts/login/?next=/places/map/")
            page.fill("#id_username", staff.username)
            page.fill("#id_password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url(origin + "/places/map/")
            page.wait_for_selector("#map[data-loaded-grid]")
            page.locator("path.grid-shape").first.click()
            page.wait_for_selector("#panel-grid:not([hidden])")
            assert page.locator("#panel-title").inner_text() == payload  # shown as text
            seen["/places/map/"] = page.evaluate("window.__csp")
            visit("/")  # the workbench, with the payload display name in the header
            assert page.evaluate("window.__xss") == 0

            admin_context = browser.new_context(locale="zh-CN")
            admin_context.add_init_script(WATCH)
            admin_page = admin_context.new_page()
            admin_page.goto(origin + "/admin/login/?next=/admin/")
            admin_page.fill("#id_username", admin.username)
            admin_page.fill("#id_password", PASSWORD)
            admin_page.click("form.form button[type=submit]")
            admin_page.wait_for_url(origin + "/admin/")
            for path in ["/admin/", "/admin/places/grid/", f"/admin/places/grid/{grid.pk}/change/"]:
                admin_page.goto(origin + path)
                admin_page.wait_for_selector("#content")
                admin_page.wait_for_timeout(200)
                seen[path] = admin_page.evaluate("window.__csp")
            assert admin_page.evaluate("window.__xss") == 0
        finally:
            browser.close()

    violations = {path: found for path, found in seen.items() if found}
    assert violations == {}, violations
    assert off_origin == [], off_origin
    assert errors == [], errors
