from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings

from linli.accounts.sms import ConsoleSmsBackend
from linli.cases.rules_cache import case_rules_invalidate
from linli.cases.tests.factories import World, build_world
from linli.places.tests.factories import SmallDistrict
from linli.workdays.rules import calendar_invalidate
from linli.workdays.services import calendar_day_set


@pytest.fixture(autouse=True)
def _cases_env(settings: Settings, tmp_path: object) -> Iterator[None]:
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    # The world has ~20 staff users: hashing their passwords with the real hasher costs seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    ConsoleSmsBackend.reset()
    calendar_invalidate()
    case_rules_invalidate()  # a test may change rules with QuerySet.update(), which no signal reports
    yield
    calendar_invalidate()
    case_rules_invalidate()


@pytest.fixture
def world(small_district: SmallDistrict) -> World:
    return build_world(small_district)


@pytest.fixture
def national_day(db: None) -> None:
    """2025: Sun 28 Sep a make-up working day, 1–8 Oct holidays, Sat 11 Oct a make-up working day."""
    calendar_day_set(day=dt.date(2025, 9, 28), kind="makeup_workday", name="国庆调休")
    for d in range(1, 9):
        calendar_day_set(day=dt.date(2025, 10, d), kind="holiday", name="国庆节、中秋节")
    calendar_day_set(day=dt.date(2025, 10, 11), kind="makeup_workday", name="国庆调休")
    calendar_invalidate()
