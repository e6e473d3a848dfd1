from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from linli.accounts.sms import ConsoleSmsBackend
from linli.cases.tests.factories import case_rules_ensure
from linli.places.tests.factories import SmallDistrict
from linli.workdays.rules import calendar_invalidate


@pytest.fixture(autouse=True)
def _integrations_env(settings: Settings, tmp_path: object) -> Iterator[None]:
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    ConsoleSmsBackend.reset()
    calendar_invalidate()
    yield
    calendar_invalidate()


@pytest.fixture
def district(small_district: SmallDistrict) -> SmallDistrict:
    case_rules_ensure()
    return small_district
