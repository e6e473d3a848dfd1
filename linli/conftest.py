from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator

import pytest

from linli.places.tests.factories import SmallDistrict, build_small_district


@pytest.fixture
def small_district(db: None) -> SmallDistrict:
    return build_small_district()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit windows live in the cache (LocMemCache in tests): each test starts with none used."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    cache = caches["default"]
    if isinstance(cache, LocMemCache):  # never flush a real Redis someone pointed REDIS_URL at
        cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _audit_flush_permitted() -> Iterator[None]:
    """The audit trail refuses DELETE (AUD-2); the test runner still empties a SQLite test database
    between transactional tests with ``flush`` (PostgreSQL uses TRUNCATE, which the trigger ignores)."""
    from django.core.management.commands import flush

    from linli.security.audit_guard import audit_flush_permitted

    original = flush.Command.handle

    def handle(self: flush.Command, *args: object, **options: object) -> None:
        with audit_flush_permitted():
            original(self, *args, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flush.Command, "handle", handle)
        yield


@pytest.fixture(scope="session", autouse=True)
def _no_personal_data_in_logs() -> Iterator[None]:
    """AUD-4: everything this test process logs, through the filters and formatter of the configured
    root handlers, holds 0 valid ID numbers and 0 full mobiles. Each xdist worker checks its own."""
    from linli.security.logscan import pii_leaks

    root = logging.getLogger()
    configured = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]
    fd, path = tempfile.mkstemp(prefix="linli-test-log-", suffix=".txt")
    os.close(fd)
    capture = logging.FileHandler(path, encoding="utf-8")
    for handler in configured:  # the same masking the real output gets, and no other
        for log_filter in handler.filters:
            capture.addFilter(log_filter)
    capture.setFormatter(configured[0].formatter if configured else logging.Formatter())
    root.addHandler(capture)
    try:
        yield
    finally:
        root.removeHandler(capture)
        capture.close()
        with open(path, encoding="utf-8", errors="replace") as log:
            offending = [_mark_leaks(line.rstrip(), pii_leaks(line)) for line in log if pii_leaks(line)]
        os.unlink(path)
        if offending:
            shown = "\n".join(offending[:20])
            pytest.fail(f"AUD-4: {len(offending)} log line(s) hold an ID number or a full phone:\n{shown}")


def _mark_leaks(line: str, leaks: list[str]) -> str:
    # Point at each leak without printing it whole into the test report.
    for leak in leaks:
        line = line.replace(leak, f"{leak[:3]}«…leaked {len(leak)} chars»")
    return line
