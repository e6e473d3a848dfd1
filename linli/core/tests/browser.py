"""What every browser test shares (tests only): Debian's Chromium, its flags, and the CSP watch script.

No test tool downloads its own browser: ``make test`` installs Debian's ``chromium`` and Playwright drives
it by path.
"""

from __future__ import annotations

from pathlib import Path

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
