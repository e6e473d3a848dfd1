"""The admin: filters by year and kind, and every save goes through the services as a manual entry."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from django.test import Client

from linli.accounts.models import User
from linli.accounts.tests.factories import UserFactory
from linli.workdays.models import CalendarDay, DayKind, DaySource, WorkingHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client: Client) -> Client:
    user: User = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_changelist_filters_by_year_and_kind(admin_client_: Client) -> None:
    response = admin_client_.get("/admin/workdays/calendarday/", {"year": "2025", "kind": "makeup_workday"})
    assert response.status_code == 200
    shown = {row.date for row in response.context["cl"].result_list}
    assert shown == {d for d in chinese_calendar.workdays if d.year == 2025}
    assert "年份" in response.content.decode()


def test_adding_a_day_in_the_admin_makes_a_manual_row(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/workdays/calendarday/add/",
        {"date": "2025-07-15", "kind": DayKind.REST_DAY, "name": "台风停工", "note": "区防指通知"},
    )
    assert response.status_code == 302
    row = CalendarDay.objects.get(date=dt.date(2025, 7, 15))
    assert (row.kind, row.source, row.name) == (DayKind.REST_DAY, DaySource.MANUAL, "台风停工")


def test_editing_a_seeded_day_turns_it_manual(admin_client_: Client) -> None:
    row = CalendarDay.objects.get(date=dt.date(2025, 10, 8))
    response = admin_client_.post(
        f"/admin/workdays/calendarday/{row.pk}/change/",
        {"kind": DayKind.WORKDAY, "name": "国庆节", "note": "本区照常上班"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.kind, row.source, row.date) == (DayKind.WORKDAY, DaySource.MANUAL, dt.date(2025, 10, 8))


def test_overlapping_working_hours_are_refused_in_the_admin(admin_client_: Client) -> None:
    response = admin_client_.post("/admin/workdays/workinghours/add/", {"start": "11:00", "end": "14:00"})
    assert response.status_code == 200
    assert "工作时段重叠" in response.content.decode()
    assert WorkingHours.objects.count() == 2


def test_the_default_working_hours_are_seeded() -> None:
    assert list(WorkingHours.objects.values_list("start", "end")) == [
        (dt.time(9), dt.time(12)),
        (dt.time(13, 30), dt.time(17, 30)),
    ]
