from __future__ import annotations

from collections.abc import Iterator

import pytest

from linli.workdays.rules import calendar_invalidate


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Iterator[None]:
    # Each test's transaction is rolled back: make the cache re-read the stamp before and after, so no test
    # (here or in another app) sees a calendar built from rows that no longer exist.
    calendar_invalidate()
    yield
    calendar_invalidate()
