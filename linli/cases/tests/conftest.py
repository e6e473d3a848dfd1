from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from linli.accounts.sms import ConsoleSmsBackend
from linli.cases.tests.factories import World, build_world
from linli.places.tests.factories import SmallDistrict
from linli.workdays.rules import calendar_invalidate


@pytest.fixture(autouse=True)
def _cases_env(settings: Settings, tmp_path: object) -> Iterator[None]:
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    # The world has ~20 staff users: hashing their passwords with the real hasher costs seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    ConsoleSmsBackend.reset()
    calendar_invalidate()
    yield
    calendar_invalidate()


@pytest.fixture
def world(small_district: SmallDistrict) -> World:
    return build_world(small_district)
