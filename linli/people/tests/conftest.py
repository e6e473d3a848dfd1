from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from linli.people.tests.factories import People, build_people
from linli.places.tests.factories import SmallDistrict
from linli.workdays.rules import calendar_invalidate


@pytest.fixture(autouse=True)
def _people_env(settings: Settings, tmp_path: object) -> Iterator[None]:
    # ~20 staff users per test: the real password hasher would cost seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    settings.LINLI_RATE_LIMITS_ENABLED = False
    calendar_invalidate()
    yield
    calendar_invalidate()


@pytest.fixture
def people(small_district: SmallDistrict) -> People:
    return build_people(small_district)
