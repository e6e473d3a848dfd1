from __future__ import annotations

from typing import Any

import pytest

from linli.needs.tests.factories import NeedsWorld, build_needs_world
from linli.places.tests.factories import SmallDistrict


@pytest.fixture(autouse=True)
def _needs_env(settings: Any) -> None:
    # A dozen staff users per test: the real password hasher would cost seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(small_district: SmallDistrict) -> NeedsWorld:
    return build_needs_world(small_district)
