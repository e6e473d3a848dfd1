"""The in-process calendar: no query per call, and edits seen without a restart."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_django import DjangoAssertNumQueries, DjangoCaptureOnCommitCallbacks, Settings

from linli.workdays import rules
from linli.workdays.models import CalendarDay, DayKind
from linli.workdays.services import calendar_day_delete, calendar_day_set, working_hours_replace
from linli.workdays.tests.calendars import at

pytestmark = pytest.mark.django_db

MONDAY_EVENING = at(2025, 3, 3, 18)


def test_a_thousand_deadlines_cost_no_query_once_the_calendar_is_loaded(
    settings: Settings, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 3600
    rules.add_working_days(MONDAY_EVENING, 1)
    with django_assert_num_queries(0):
        for i in range(1000):
            rules.add_working_days(MONDAY_EVENING + dt.timedelta(hours=i), 5)


def test_an_unchanged_table_costs_one_stamp_query_and_no_rebuild(
    settings: Settings, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 0
    first = rules.work_calendar()
    with django_assert_num_queries(1):
        assert rules.work_calendar() is first


def test_another_process_s_edit_is_seen_after_the_recheck_interval(settings: Settings) -> None:
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 3600
    assert rules.add_working_hours(MONDAY_EVENING, 1) == at(2025, 3, 4, 10)
    # Another process closes the offices on Tuesday (a typhoon); this process has not been told.
    CalendarDay.objects.create(date=dt.date(2025, 3, 4), kind=DayKind.REST_DAY, name="台风停工")
    assert rules.add_working_hours(MONDAY_EVENING, 1) == at(2025, 3, 4, 10)  # still within the interval
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 0  # the interval has passed
    assert rules.add_working_hours(MONDAY_EVENING, 1) == at(2025, 3, 5, 10)
    CalendarDay.objects.filter(date=dt.date(2025, 3, 4)).delete()
    assert rules.add_working_hours(MONDAY_EVENING, 1) == at(2025, 3, 4, 10)


def test_this_process_s_own_edit_is_seen_at_once_after_commit(
    settings: Settings, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 3600
    assert rules.is_working_day(dt.date(2025, 3, 4))
    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_set(day=dt.date(2025, 3, 4), kind=DayKind.REST_DAY, name="台风停工")
    assert not rules.is_working_day(dt.date(2025, 3, 4))
    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_delete(day=dt.date(2025, 3, 4))
    assert rules.is_working_day(dt.date(2025, 3, 4))


def test_a_makeup_saturday_added_by_hand_becomes_a_working_day(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    saturday = dt.date(2025, 3, 8)
    assert not rules.is_working_day(saturday)
    with django_capture_on_commit_callbacks(execute=True):
        calendar_day_set(day=saturday, kind=DayKind.MAKEUP_WORKDAY, name="补班")
    assert rules.is_working_day(saturday)
    assert rules.add_working_days(at(2025, 3, 7, 10), 1) == at(2025, 3, 8, 17, 30)


def test_changed_working_hours_apply_to_new_deadlines(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        working_hours_replace(
            periods=[(dt.time(9), dt.time(12)), (dt.time(14), dt.time(18))], note="夏季作息"
        )
    assert rules.add_working_hours(at(2025, 7, 7, 11), 2) == at(2025, 7, 7, 15)
    assert rules.add_working_days(at(2025, 7, 7, 11), 1) == at(2025, 7, 8, 18)
