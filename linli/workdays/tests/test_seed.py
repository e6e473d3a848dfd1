"""Seeding from chinese-calendar: complete, idempotent, never overwriting manual days, never guessing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import chinese_calendar
import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Max

from linli.workdays.models import CalendarDay, DayKind, DaySource
from linli.workdays.services import calendar_day_set, calendar_seed, package_schedule, package_years
from linli.workdays.tests.calendars import at

pytestmark = pytest.mark.django_db


def run_seed(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("workdays_seed", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_migration_seeded_every_year_the_package_knows() -> None:
    expected = {**chinese_calendar.holidays, **chinese_calendar.workdays}
    rows = dict(CalendarDay.objects.filter(source=DaySource.SEED).values_list("date", "kind"))
    assert set(rows) == set(expected)
    assert rows[dt.date(2025, 9, 28)] == DayKind.MAKEUP_WORKDAY
    assert rows[dt.date(2025, 10, 1)] == DayKind.HOLIDAY
    assert CalendarDay.objects.get(date=dt.date(2025, 10, 6)).name == "中秋"
    assert CalendarDay.objects.get(date=dt.date(2025, 10, 11)).name == "国庆节"


def test_reseeding_changes_nothing() -> None:
    before = CalendarDay.objects.aggregate(n=Max("updated_at"))["n"], CalendarDay.objects.count()
    out, _ = run_seed()
    assert "无改动" in out
    assert (CalendarDay.objects.aggregate(n=Max("updated_at"))["n"], CalendarDay.objects.count()) == before


def test_seeding_an_empty_table_creates_each_year_once() -> None:
    CalendarDay.objects.all().delete()
    first = calendar_seed(years=[2025, 2026])
    second = calendar_seed(years=[2025, 2026])
    expected = len(package_schedule(2025)) + len(package_schedule(2026))
    assert (first.created, second.created, second.unchanged) == (expected, 0, expected)
    assert CalendarDay.objects.count() == expected


def test_manual_days_are_never_overwritten() -> None:
    # The district decides 8 Oct 2025 is worked after all, and adds a typhoon closure.
    calendar_day_set(day=dt.date(2025, 10, 8), kind=DayKind.WORKDAY, name="区政府通知", note="应急值守")
    calendar_day_set(day=dt.date(2025, 7, 15), kind=DayKind.REST_DAY, name="台风停工")
    report = calendar_seed(years=[2025])
    assert report.kept_manual == 1 and not report.changed
    row = CalendarDay.objects.get(date=dt.date(2025, 10, 8))
    assert (row.kind, row.source, row.note) == (DayKind.WORKDAY, DaySource.MANUAL, "应急值守")
    assert CalendarDay.objects.get(date=dt.date(2025, 7, 15)).kind == DayKind.REST_DAY


def test_seed_rows_are_brought_back_in_line_with_the_package() -> None:
    CalendarDay.objects.filter(date=dt.date(2025, 10, 6)).update(kind=DayKind.MAKEUP_WORKDAY, name="旧数据")
    CalendarDay.objects.create(date=dt.date(2025, 3, 3), kind=DayKind.HOLIDAY, source=DaySource.SEED)
    report = calendar_seed(years=[2025])
    assert (report.updated, report.deleted, report.created) == (1, 1, 0)
    assert CalendarDay.objects.get(date=dt.date(2025, 10, 6)).kind == DayKind.HOLIDAY
    assert not CalendarDay.objects.filter(date=dt.date(2025, 3, 3)).exists()


def test_years_the_package_does_not_know_are_reported_not_guessed() -> None:
    missing = max(package_years()) + 1
    out, err = run_seed("--years", "2025", str(missing))
    assert f"{missing} 年：所安装的 chinese-calendar 未收录" in err
    assert "已导入年份 2025" in out
    assert not CalendarDay.objects.filter(date__year=missing).exists()


def test_in_november_the_command_reminds_that_next_year_is_missing() -> None:
    last = max(package_years())
    with time_machine.travel(at(last, 11, 20, 10), tick=False):
        _, err = run_seed("--years", str(last))
    assert f"没有 {last + 1} 年的法定节假日" in err


def test_before_november_next_years_absence_is_normal() -> None:
    last = max(package_years())
    with time_machine.travel(at(last, 3, 1, 10), tick=False):
        _, err = run_seed("--years", str(last))
    assert err == ""
