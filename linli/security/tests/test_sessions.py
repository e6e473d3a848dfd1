"""Sessions: idle and absolute timeouts (AU-3), a new key at every sign-in and a dead cookie after
sign-out (AU-4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, UserFactory
from linli.security.models import AuditEvent

COOKIE = django_settings.SESSION_COOKIE_NAME


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(username="wangwu")


def sign_in(client: Client, user: User) -> None:
    answer = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 302


def signed_in_as(client: Client) -> int | None:
    me = client.get("/api/accounts/me")
    return me.json()["id"] if me.status_code == 200 else None


def test_the_session_key_changes_at_sign_in(client: Client, staff: User) -> None:
    session = client.session  # an anonymous session (e.g. a language choice) exists before sign-in
    session["probe"] = "before"
    session.save()
    before = client.cookies[COOKIE].value
    sign_in(client, staff)
    after = client.cookies[COOKIE].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()  # the old key is gone, not reusable
    assert client.session["probe"] == "before"  # the data moved with it


def test_a_signed_out_cookie_is_dead(client: Client, staff: User) -> None:
    sign_in(client, staff)
    stolen = client.cookies[COOKIE].value
    assert signed_in_as(client) == staff.pk
    client.post("/accounts/logout/")
    replay = Client()
    replay.cookies[COOKIE] = stolen
    assert signed_in_as(replay) is None
    assert not Session.objects.filter(session_key=stolen).exists()
    assert AuditEvent.objects.filter(action="auth.logout", data__reason="user").count() == 1


def test_staff_sessions_end_after_fifteen_idle_minutes(client: Client, staff: User) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in(client, staff)
        clock.shift(timedelta(minutes=14))
        assert signed_in_as(client) == staff.pk  # active again: the idle clock restarts
        clock.shift(timedelta(minutes=14))
        assert signed_in_as(client) == staff.pk
        clock.shift(timedelta(minutes=16))
        expired = client.get("/api/accounts/me")
        assert expired.status_code == 401 and expired.json()["code"] == "session_expired"
        assert signed_in_as(client) is None
    assert AuditEvent.objects.filter(action="auth.logout", data__reason="idle_timeout").count() == 1


def test_staff_sessions_end_twelve_hours_after_sign_in_however_active(client: Client, staff: User) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in(client, staff)
        expires = client.session.get_expiry_date()  # the row itself dies just after the limit, too
        assert timedelta(hours=12) < expires - timezone.now() <= timedelta(hours=12, minutes=10)
        for _ in range(11 * 6):  # a request every 10 minutes for 11 hours
            clock.shift(timedelta(minutes=10))
            assert signed_in_as(client) == staff.pk
        clock.shift(timedelta(minutes=61))
        page = client.get("/places/map/")
        assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:login"))
        assert "next=%2Fplaces%2Fmap%2F" in page["Location"]
    assert AuditEvent.objects.filter(action="auth.logout", data__reason="absolute_timeout").count() == 1


def test_residents_stay_signed_in_for_days_but_not_past_thirty(client: Client, db: None) -> None:
    resident = ResidentFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(resident)
        for _ in range(4):  # a visit every 6 days: never 7 idle
            clock.shift(timedelta(days=6))
            assert signed_in_as(client) == resident.pk
        clock.shift(timedelta(days=6, hours=1))  # day 30 + 1 hour
        assert signed_in_as(client) is None


def test_resident_sessions_end_after_seven_idle_days(client: Client, db: None) -> None:
    resident = ResidentFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(resident)
        clock.shift(timedelta(days=7, minutes=1))
        page = client.get("/")
        assert signed_in_as(client) is None
        assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:phone_login"))


def test_timeouts_are_configurable(client: Client, staff: User, settings: Any) -> None:
    settings.LINLI_STAFF_SESSION_IDLE_MINUTES = 5
    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in(client, staff)
        clock.shift(timedelta(minutes=6))
        assert signed_in_as(client) is None


def test_the_last_seen_stamp_is_written_at_most_once_a_minute(client: Client, staff: User) -> None:
    from linli.security.sessions import SEEN_AT

    with time_machine.travel(timezone.now(), tick=False) as clock:
        sign_in(client, staff)
        first = client.session[SEEN_AT]
        clock.shift(20)
        signed_in_as(client)
        assert client.session[SEEN_AT] == first
        clock.shift(60)
        signed_in_as(client)
        assert client.session[SEEN_AT] > first
