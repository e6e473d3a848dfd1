from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings

from linli.cases.tests.factories import World, build_world
from linli.places.tests.factories import SmallDistrict


@pytest.fixture(autouse=True)
def _patrols_env(settings: Settings, tmp_path: object) -> None:
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    # The world has ~20 staff users: the real password hasher would cost seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world(small_district: SmallDistrict) -> World:
    return build_world(small_district)
