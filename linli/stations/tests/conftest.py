from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from linli.stations.index import station_index_invalidate
from linli.workdays.rules import calendar_invalidate


@pytest.fixture(autouse=True)
def _stations_env(settings: Settings, tmp_path: object) -> Iterator[None]:
    # Each test's stations live in its own rolled-back transaction: never serve another test's index.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    station_index_invalidate()
    calendar_invalidate()
    yield
    station_index_invalidate()
    calendar_invalidate()
