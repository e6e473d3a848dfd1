"""Deadlines through real 调休 weeks, read from the table the migration seeded (the real database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from linli.workdays import rules
from linli.workdays.tests.calendars import SHANGHAI, at

pytestmark = pytest.mark.django_db


def test_every_day_of_2024_to_2026_matches_the_package() -> None:
    day = dt.date(2024, 1, 1)
    mismatches = []
    while day <= dt.date(2026, 12, 31):
        if rules.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += dt.timedelta(days=1)
    assert mismatches == []


def test_national_day_2025_makeup_sunday_and_saturday_are_working_days() -> None:
    assert dt.date(2025, 9, 28).weekday() == 6 and rules.is_working_day(dt.date(2025, 9, 28))
    assert dt.date(2025, 10, 11).weekday() == 5 and rules.is_working_day(dt.date(2025, 10, 11))
    holidays = [dt.date(2025, 10, d) for d in range(1, 9)]
    assert [rules.is_working_day(d) for d in holidays] == [False] * 8


def test_one_working_day_from_the_eve_of_national_day_is_the_ninth_of_october() -> None:
    # Received Tuesday 30 Sept: the next working day is Thursday 9 Oct, after the eight-day holiday.
    assert rules.add_working_days(at(2025, 9, 30, 16), 1) == at(2025, 10, 9, 17, 30)
    assert rules.add_working_days(at(2025, 9, 30, 16), 2) == at(2025, 10, 10, 17, 30)
    # ...and the third lands on the make-up Saturday.
    assert rules.add_working_days(at(2025, 9, 30, 16), 3) == at(2025, 10, 11, 17, 30)


def test_received_on_saturday_before_the_makeup_sunday_is_due_that_sunday() -> None:
    assert rules.add_working_days(at(2025, 9, 27, 10), 1) == at(2025, 9, 28, 17, 30)


def test_received_on_a_holiday_counts_from_the_next_working_day() -> None:
    assert rules.add_working_days(at(2025, 10, 3, 10), 1) == at(2025, 10, 9, 17, 30)
    assert rules.add_working_days(at(2025, 10, 3, 10), 3) == at(2025, 10, 11, 17, 30)


def test_the_day_of_receipt_never_counts_whatever_the_hour() -> None:
    # Monday 3 March 2025 at 08:00, 12:30 and 23:59 all give the end of Monday + 5 working days.
    for hour, minute in [(8, 0), (12, 30), (23, 59)]:
        assert rules.add_working_days(at(2025, 3, 3, hour, minute), 5) == at(2025, 3, 10, 17, 30)


def test_zero_working_days_means_today_if_still_open_else_the_next_working_day() -> None:
    assert rules.add_working_days(at(2025, 3, 3, 10), 0) == at(2025, 3, 3, 17, 30)
    assert rules.add_working_days(at(2025, 3, 3, 18), 0) == at(2025, 3, 4, 17, 30)
    assert rules.add_working_days(at(2025, 10, 2, 10), 0) == at(2025, 10, 9, 17, 30)


def test_spring_festival_2026_with_its_two_makeup_saturdays() -> None:
    assert rules.is_working_day(dt.date(2026, 2, 14)) and rules.is_working_day(dt.date(2026, 2, 28))
    assert not any(rules.is_working_day(dt.date(2026, 2, d)) for d in range(15, 24))
    assert rules.add_working_days(at(2026, 2, 13, 10), 1) == at(2026, 2, 14, 17, 30)
    assert rules.add_working_days(at(2026, 2, 13, 10), 2) == at(2026, 2, 24, 17, 30)
    # 14 Feb 16:30 plus 3 working hours: one hour on the make-up Saturday, two after the holiday.
    assert rules.add_working_hours(at(2026, 2, 14, 16, 30), 3) == at(2026, 2, 24, 11)


def test_working_hours_skip_the_lunch_break() -> None:
    assert rules.add_working_hours(at(2025, 3, 3, 11), 2) == at(2025, 3, 3, 14, 30)


def test_working_hours_may_end_exactly_at_noon_and_resume_after_lunch() -> None:
    assert rules.add_working_hours(at(2025, 3, 3, 11), 1) == at(2025, 3, 3, 12)
    assert rules.add_working_hours(at(2025, 3, 3, 12), 1) == at(2025, 3, 3, 14, 30)


def test_working_hours_started_after_hours_begin_next_morning() -> None:
    assert rules.add_working_hours(at(2025, 3, 3, 18), 1) == at(2025, 3, 4, 10)
    assert rules.add_working_hours(at(2025, 3, 4, 6), 1) == at(2025, 3, 4, 10)


def test_working_hours_cross_the_weekend() -> None:
    assert rules.add_working_hours(at(2025, 3, 7, 17), 1) == at(2025, 3, 10, 9, 30)


def test_working_hours_across_national_day() -> None:
    # 1.5 h left on 30 Sept, the other half hour on 9 Oct.
    assert rules.add_working_hours(at(2025, 9, 30, 16), 2) == at(2025, 10, 9, 9, 30)
    # A week of office time (5 × 7 h) from Friday 26 Sept: 26, 28 (Sun), 29, 30 Sept, 9 Oct.
    assert rules.add_working_hours(at(2025, 9, 26, 9), 35) == at(2025, 10, 9, 17, 30)


def test_how_long_it_took_in_working_time_across_the_holiday() -> None:
    assert rules.working_time_between(at(2025, 9, 30, 9), at(2025, 10, 9, 9)) == dt.timedelta(hours=7)
    assert rules.working_time_between(at(2025, 10, 2), at(2025, 10, 8, 23)) == dt.timedelta(0)
    assert rules.working_time_between(at(2025, 10, 9, 9), at(2025, 9, 30, 9)) == -dt.timedelta(hours=7)


def test_next_working_moment() -> None:
    assert rules.next_working_moment(at(2025, 10, 3, 10)) == at(2025, 10, 9, 9)
    assert rules.next_working_moment(at(2025, 10, 10, 20)) == at(2025, 10, 11, 9)  # make-up Saturday
    assert rules.next_working_moment(at(2025, 3, 3, 12)) == at(2025, 3, 3, 13, 30)
    assert rules.next_working_moment(at(2025, 3, 3, 10, 15)) == at(2025, 3, 3, 10, 15)


def test_other_time_zones_are_converted_and_results_are_in_shanghai_time() -> None:
    utc_start = dt.datetime(2025, 9, 30, 8, 0, tzinfo=dt.UTC)  # 16:00 in Shanghai
    result = rules.add_working_hours(utc_start, 2)
    assert result == at(2025, 10, 9, 9, 30)
    assert result.tzinfo == ZoneInfo("Asia/Shanghai")
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_naive_datetimes_and_negative_amounts_are_refused() -> None:
    with pytest.raises(rules.CalendarError):
        rules.add_working_hours(dt.datetime(2025, 3, 3, 10), 1)  # naive: the point of the test
    with pytest.raises(rules.CalendarError):
        rules.add_working_days(at(2025, 3, 3), -1)
    with pytest.raises(rules.CalendarError):
        rules.add_working_hours(at(2025, 3, 3), -0.5)


def test_working_days_between_counts_the_days_after_the_first() -> None:
    assert rules.working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 11)) == 3
    assert rules.working_days_between(dt.date(2025, 9, 26), dt.date(2025, 9, 28)) == 1


def test_bulk_helpers_agree_with_the_single_calls() -> None:
    starts = [at(2025, 9, 25) + dt.timedelta(minutes=97 * i) for i in range(400)]
    amounts = [dt.timedelta(minutes=37 * (i % 50)) for i in range(400)]
    assert rules.add_working_time_many(starts, amounts) == [
        rules.add_working_time(s, a) for s, a in zip(starts, amounts, strict=True)
    ]
    ends = [s + dt.timedelta(hours=31) for s in starts]
    seconds = rules.working_seconds_between_many(starts, ends)
    assert seconds.tolist() == [
        rules.working_time_between(s, e).total_seconds() for s, e in zip(starts, ends, strict=True)
    ]


def test_years_with_official_holidays_are_covered_and_others_are_not() -> None:
    assert rules.calendar_covers(2025) and rules.calendar_covers(2026)
    assert not rules.calendar_covers(2199)


def test_an_uncovered_year_falls_back_to_the_weekday_rule_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="linli.workdays"):
        result = rules.add_working_days(at(2198, 10, 1, 10), 1)  # a Tuesday: no holidays known
    assert result == at(2198, 10, 2, 17, 30)
    assert "2198" in caplog.text
    assert result.tzinfo == SHANGHAI
