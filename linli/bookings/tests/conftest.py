from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from pytest_django.fixtures import Settings

from linli.accounts.sms import ConsoleSmsBackend
from linli.bookings.tests.factories import T0, BookingWorld, build_booking_world
from linli.places.tests.factories import SmallDistrict
from linli.workdays.rules import calendar_invalidate


@pytest.fixture(autouse=True)
def _bookings_env(settings: Settings, tmp_path: object) -> Iterator[None]:
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path)
    ConsoleSmsBackend.reset()
    calendar_invalidate()
    yield
    ConsoleSmsBackend.reset()
    calendar_invalidate()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Frozen at Monday 2026-03-02 08:00 (Asia/Shanghai), a regular working day; tests move it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bw(small_district: SmallDistrict, clock: time_machine.Coordinates) -> BookingWorld:
    return build_booking_world(small_district)
