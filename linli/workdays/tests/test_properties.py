"""Properties of the working-time arithmetic, on the package's own calendar (no database needed)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.workdays.tests.calendars import SHANGHAI, package_calendar
from linli.workdays.timeline import CalendarError, WorkCalendar, validate_periods

CAL = package_calendar()
ONE_US = dt.timedelta(microseconds=1)

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2026, 11, 30),
    timezones=st.sampled_from([SHANGHAI, dt.UTC]),
)
# Up to ~6 weeks of office time, to the microsecond, with plenty of round values.
amounts = st.one_of(
    st.integers(0, 200 * 60).map(lambda m: dt.timedelta(minutes=m)),
    st.integers(0, 200 * 3600 * 10**6).map(lambda us: dt.timedelta(microseconds=us)),
)
fast = settings(max_examples=200, deadline=None)
PACKAGE_LAST_YEAR = max(chinese_calendar.holidays).year


def package_says_working(day: dt.date) -> bool:
    """The package's answer where it has one, the weekday rule beyond its last year."""
    return chinese_calendar.is_workday(day) if day.year <= PACKAGE_LAST_YEAR else day.weekday() < 5


@fast
@given(start=moments, a=amounts, b=amounts)
def test_adding_more_working_time_never_gives_an_earlier_deadline(
    start: dt.datetime, a: dt.timedelta, b: dt.timedelta
) -> None:
    small, large = sorted([a, b])
    assert CAL.add_working_time(start, small) <= CAL.add_working_time(start, large)


@fast
@given(start=moments, a=amounts, b=amounts)
def test_adding_in_two_steps_equals_adding_the_sum(
    start: dt.datetime, a: dt.timedelta, b: dt.timedelta
) -> None:
    assert CAL.add_working_time(start, a + b) == CAL.add_working_time(CAL.add_working_time(start, a), b)


@fast
@given(start=moments, amount=amounts)
def test_a_deadline_always_falls_within_working_time(start: dt.datetime, amount: dt.timedelta) -> None:
    result = CAL.add_working_time(start, amount)
    if amount:
        # Periods are [start, end): the instant just before a deadline is always working time.
        assert CAL.is_working_time(result - ONE_US)
        assert package_says_working(result.date())
    else:
        assert result == start


@fast
@given(start=moments, amount=amounts)
def test_working_time_between_inverts_adding_working_time(start: dt.datetime, amount: dt.timedelta) -> None:
    assert CAL.working_time_between(start, CAL.add_working_time(start, amount)) == amount


@fast
@given(a=moments, b=moments, c=moments)
def test_working_time_between_adds_up_and_is_antisymmetric(
    a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    assert CAL.working_time_between(a, b) + CAL.working_time_between(b, c) == CAL.working_time_between(a, c)
    assert CAL.working_time_between(a, b) == -CAL.working_time_between(b, a)


@fast
@given(start=moments, days=st.integers(1, 60))
def test_n_working_days_end_at_close_of_the_nth_working_day_after_receipt(
    start: dt.datetime, days: int
) -> None:
    result = CAL.add_working_days(start, days)
    local_start = start.astimezone(SHANGHAI)
    assert result.timetz() == dt.time(17, 30, tzinfo=SHANGHAI)
    assert package_says_working(result.date())
    assert CAL.working_days_between(local_start.date(), result.date()) == days
    assert CAL.add_working_days(start, days + 1) > result


@fast
@given(moment=moments)
def test_next_working_moment_is_the_first_instant_of_working_time(moment: dt.datetime) -> None:
    result = CAL.next_working_moment(moment)
    assert result >= moment
    assert CAL.is_working_time(result)
    assert CAL.working_time_between(moment, result) == dt.timedelta(0)


@fast
@given(start=moments, hours=st.floats(0, 300, allow_nan=False))
def test_hours_are_working_time_in_hours(start: dt.datetime, hours: float) -> None:
    assert CAL.add_working_hours(start, hours) == CAL.add_working_time(start, dt.timedelta(hours=hours))


@fast
@given(pairs=st.lists(st.tuples(moments, amounts), min_size=1, max_size=30))
def test_bulk_adding_equals_adding_one_by_one(pairs: list[tuple[dt.datetime, dt.timedelta]]) -> None:
    starts, amts = [p[0] for p in pairs], [p[1] for p in pairs]
    assert CAL.add_working_time_many(starts, amts) == [CAL.add_working_time(s, a) for s, a in pairs]


def test_every_day_in_the_package_years_agrees_with_the_package() -> None:
    day, last = dt.date(2004, 1, 1), dt.date(2026, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_other_working_hours_change_the_arithmetic() -> None:
    # Summer hours: afternoon from 14:00 to 18:00.
    summer = WorkCalendar(
        exceptions={},
        periods=[(dt.time(9), dt.time(12)), (dt.time(14), dt.time(18))],
        tz=SHANGHAI,
    )
    monday_11 = dt.datetime(2025, 7, 7, 11, tzinfo=SHANGHAI)
    assert summer.add_working_time(monday_11, dt.timedelta(hours=2)) == monday_11.replace(hour=15)
    assert summer.add_working_days(monday_11, 1) == dt.datetime(2025, 7, 8, 18, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "periods",
    [
        [],
        [(dt.time(9), dt.time(9))],
        [(dt.time(12), dt.time(9))],
        [(dt.time(9), dt.time(12)), (dt.time(11, 30), dt.time(17))],
    ],
)
def test_empty_reversed_or_overlapping_periods_are_refused(periods: list[tuple[dt.time, dt.time]]) -> None:
    with pytest.raises(CalendarError):
        validate_periods(periods)


def test_dates_outside_the_supported_range_are_refused() -> None:
    with pytest.raises(CalendarError):
        CAL.is_working_day(dt.date(1969, 12, 31))
    with pytest.raises(CalendarError):
        CAL.add_working_days(dt.datetime(2199, 12, 30, tzinfo=SHANGHAI), 5)
