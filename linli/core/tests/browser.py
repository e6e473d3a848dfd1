"""What every browser test shares (tests only): Debian's Chromium, its flags, and the CSP watch script.

No test tool downloads its own browser: ``make test`` installs Debian's ``chromium`` and Playwright drives
it by path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Injected before any page script: every CSP violation is recorded in window.__csp.
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


def chromium_required() -> None:
    """Fail (not skip) without the browser: the browser tests are part of the suite."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (`make test` does it)")


def watch_page(page: Any, origin: str, *, errors: list[str], off_origin: list[str]) -> None:
    """Record the page's script errors in ``errors`` and every request that leaves ``origin`` in
    ``off_origin`` (``data:`` and ``blob:`` URLs are the page's own): everything is served from our origin."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(origin + "/") or urlsplit(request.url).scheme in {"data", "blob"}
            else off_origin.append(request.url)
        ),
    )


def staff_login(page: Any, origin: str, username: str, next_path: str) -> None:
    """Sign a staff user in through the login page (the test factories' password) and land on ``next_path``."""
    from linli.accounts.tests.factories import PASSWORD

    page.goto(f"{origin}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{origin}{next_path}")


def staff_in_small_district(settings: Any, role: str, username: str) -> tuple[Any, Any]:
    """The small test district with its case rules and one staff user holding ``role`` (at the first
    place the role anchors to), with fast password hashing: all database work done before Playwright
    starts its event loop in this thread. Returns (district, user)."""
    from linli.accounts.tests.factories import staff_with_role
    from linli.cases.tests.factories import case_rules_ensure
    from linli.places.tests.factories import build_small_district

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district = build_small_district()
    case_rules_ensure()
    return district, staff_with_role(role, district=district, username=username)
