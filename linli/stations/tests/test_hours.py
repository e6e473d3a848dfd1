"""Opening hours: weekly periods, overnight periods, 24 hours, holidays and 调休 from the working-day calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.places.tests.factories import SmallDistrict
from linli.stations.hours import (
    HOLIDAY,
    MAKEUP,
    REGULAR,
    HoursError,
    Period,
    Schedule,
    day_type,
    is_open_at,
    open_intervals,
    parse_day,
    validate_periods,
)
from linli.stations.models import Station
from linli.stations.tests.factories import make_station
from linli.workdays.rules import calendar_invalidate
from linli.workdays.services import calendar_day_set

TZ = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=TZ)


def t(text: str) -> dt.time:
    h, m = text.split(":")
    return dt.time(int(h), int(m))


def test_a_period_is_half_open_and_lunch_is_closed() -> None:
    s = Schedule.build(is_24h=False, open_on_holidays=False, periods=parse_day("09:00-12:00, 13:30-17:30", 0))
    monday = at(2025, 6, 9)  # a Monday with no holiday
    assert not s.is_open(monday.replace(hour=8, minute=59), REGULAR, REGULAR)
    assert s.is_open(monday.replace(hour=9), REGULAR, REGULAR)
    assert s.is_open(monday.replace(hour=11, minute=59, second=59), REGULAR, REGULAR)
    assert not s.is_open(monday.replace(hour=12), REGULAR, REGULAR)
    assert not s.is_open(monday.replace(hour=13), REGULAR, REGULAR)
    assert s.is_open(monday.replace(hour=17, minute=29), REGULAR, REGULAR)
    assert not s.is_open(monday.replace(hour=17, minute=30), REGULAR, REGULAR)
    assert not s.is_open(at(2025, 6, 10, 10), REGULAR, REGULAR)  # Tuesday has no periods


def test_an_overnight_period_runs_into_the_next_day_and_is_governed_by_its_start_day() -> None:
    # Friday 20:00 – Saturday 02:00 (夜间延时)
    s = Schedule.build(is_24h=False, open_on_holidays=False, periods=[Period(4, t("20:00"), t("02:00"))])
    assert s.is_open(at(2025, 6, 13, 23, 30), REGULAR, REGULAR)  # Friday night
    assert s.is_open(at(2025, 6, 14, 1, 59), REGULAR, REGULAR)  # Saturday small hours
    assert not s.is_open(at(2025, 6, 14, 2, 0), REGULAR, REGULAR)
    assert not s.is_open(at(2025, 6, 13, 1, 0), REGULAR, REGULAR)  # Friday small hours: Thursday had none
    # Saturday being a holiday does not cut Friday's night short; Friday being one closes it.
    assert s.is_open(at(2025, 6, 14, 1, 0), HOLIDAY, REGULAR)
    assert not s.is_open(at(2025, 6, 14, 1, 0), REGULAR, HOLIDAY)


def test_sunday_night_runs_into_monday_morning() -> None:
    s = Schedule.build(is_24h=False, open_on_holidays=False, periods=[Period(6, t("22:00"), t("06:00"))])
    assert s.is_open(at(2025, 6, 16, 5, 0), REGULAR, REGULAR)  # Monday 05:00
    assert not s.is_open(at(2025, 6, 16, 6, 0), REGULAR, REGULAR)


def test_a_period_ending_at_midnight_is_not_overnight() -> None:
    (p,) = parse_day("18:00-24:00", 2)
    assert p.end_min == 24 * 60 and p.label() == "18:00–24:00"
    s = Schedule.build(is_24h=False, open_on_holidays=False, periods=[p])
    assert s.is_open(at(2025, 6, 11, 23, 59), REGULAR, REGULAR)
    assert not s.is_open(at(2025, 6, 12, 0, 0), REGULAR, REGULAR)


def test_holidays_close_the_station_unless_it_opens_on_holidays() -> None:
    periods = parse_day("09:00-17:00", 2) + parse_day("10:00-12:00", 7)
    closed = Schedule.build(is_24h=False, open_on_holidays=False, periods=periods)
    opened = Schedule.build(is_24h=False, open_on_holidays=True, periods=periods)
    wednesday = at(2025, 10, 1, 11)
    assert not closed.is_open(wednesday, HOLIDAY, HOLIDAY)
    assert opened.is_open(wednesday, HOLIDAY, HOLIDAY)  # the 节假日 periods apply
    assert not opened.is_open(wednesday.replace(hour=15), HOLIDAY, HOLIDAY)
    no_holiday_periods = Schedule.build(
        is_24h=False, open_on_holidays=True, periods=parse_day("09:00-17:00", 2)
    )
    assert no_holiday_periods.is_open(wednesday.replace(hour=15), HOLIDAY, HOLIDAY)  # its Wednesday hours


def test_24_hour_stations_are_always_open_except_closed_holidays() -> None:
    s = Schedule.build(is_24h=True, open_on_holidays=False, periods=[])
    assert s.is_open(at(2025, 6, 14, 3, 0), REGULAR, REGULAR)
    assert not s.is_open(at(2025, 10, 1, 3, 0), HOLIDAY, HOLIDAY)
    assert s.weekend_open and s.extended


def test_a_makeup_workday_uses_the_working_week_hours() -> None:
    s = Schedule.build(is_24h=False, open_on_holidays=False, periods=parse_day("09:00-17:00", 1))
    sunday = at(2025, 9, 28, 10)
    assert not s.is_open(sunday, REGULAR, REGULAR)
    assert s.is_open(sunday, MAKEUP, REGULAR)


@pytest.mark.django_db
def test_the_calendar_decides_holidays_and_makeup_days() -> None:
    assert day_type(dt.date(2025, 10, 1)) == HOLIDAY  # 国庆节 (seeded from chinese-calendar)
    assert day_type(dt.date(2025, 9, 28)) == MAKEUP  # 调休上班, a Sunday
    assert day_type(dt.date(2025, 6, 11)) == REGULAR
    calendar_day_set(day=dt.date(2025, 6, 11), kind="rest_day", name="台风停工")
    calendar_invalidate()
    assert day_type(dt.date(2025, 6, 11)) == HOLIDAY


@pytest.mark.django_db
def test_is_open_at_reads_the_stations_periods_and_the_calendar(small_district: SmallDistrict) -> None:
    station = make_station(region=small_district.communities[0])  # Mon–Fri 09:00–12:00, 13:30–17:30
    station = Station.objects.prefetch_related("periods").get(pk=station.pk)
    assert is_open_at(station, at(2025, 9, 30, 10))  # Tuesday before National Day
    assert not is_open_at(station, at(2025, 10, 1, 10))  # 国庆节, a Wednesday
    assert is_open_at(station, at(2025, 9, 28, 10))  # Sunday worked (调休上班)
    assert not is_open_at(station, at(2025, 9, 27, 10))  # an ordinary Saturday
    assert is_open_at(station, dt.datetime(2025, 9, 30, 2, 0, tzinfo=dt.UTC))  # = 10:00 in Shanghai
    with pytest.raises(ValueError):
        is_open_at(station, dt.datetime(2025, 9, 30, 10))
    intervals = open_intervals(station, dt.date(2025, 9, 30))
    assert [(a.hour, a.minute, b.hour, b.minute) for a, b in intervals] == [(9, 0, 12, 0), (13, 30, 17, 30)]
    assert open_intervals(station, dt.date(2025, 10, 1)) == []


def test_overlapping_periods_are_refused_with_a_clear_code() -> None:
    with pytest.raises(HoursError) as exc:
        validate_periods(parse_day("09:00-12:00, 11:00-14:00", 0))
    assert exc.value.code == "overlapping_hours"
    with pytest.raises(HoursError) as exc:  # Monday night into Tuesday morning
        validate_periods(parse_day("20:00-02:00", 0) + parse_day("01:00-05:00", 1))
    assert exc.value.code == "overlapping_hours"
    with pytest.raises(HoursError) as exc:  # Sunday night into Monday morning
        validate_periods(parse_day("23:00-08:00", 6) + parse_day("07:30-12:00", 0))
    assert exc.value.code == "overlapping_hours"
    validate_periods(parse_day("09:00-12:00, 12:00-14:00", 0))  # touching is fine: half-open


def test_bad_hours_text_and_empty_periods_are_refused() -> None:
    with pytest.raises(HoursError) as exc:
        parse_day("9点到12点", 0)
    assert exc.value.code == "invalid_hours"
    with pytest.raises(HoursError) as exc:
        validate_periods(parse_day("09:00-09:00", 0))
    assert exc.value.code == "invalid_hours"
    assert parse_day("休息", 3) == [] and parse_day("", 3) == []
    assert parse_day("08:30–12:00、14:00-次日01:00", 5) == [
        Period(5, t("08:30"), t("12:00")),
        Period(5, t("14:00"), t("01:00")),
    ]


def test_badges_for_weekend_and_extended_hours() -> None:
    office = Schedule.build(
        is_24h=False, open_on_holidays=False, periods=parse_day("09:00-12:00,13:30-17:30", 0)
    )
    assert not office.weekend_open and not office.extended
    weekend = parse_day("09:00-12:00", 5) + parse_day("09:00-12:00", 6)
    assert Schedule.build(is_24h=False, open_on_holidays=False, periods=weekend).weekend_open
    assert Schedule.build(is_24h=False, open_on_holidays=False, periods=parse_day("08:30-20:00", 0)).extended


# --- property: the rule equals a brute-force expansion of the periods into concrete intervals -------------
minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@st.composite
def weeks(draw: st.DrawFn) -> list[Period]:
    out: list[Period] = []
    for _ in range(draw(st.integers(0, 10))):
        day = draw(st.integers(0, 6))
        a, b = draw(minutes), draw(minutes)
        if a == b:
            continue
        candidate = [*out, Period(day, dt.time(a // 60, a % 60), dt.time(b // 60, b % 60))]
        try:
            validate_periods(candidate)
        except HoursError:
            continue
        out = candidate
    return out


def brute_open(
    periods: list[Period], local: dt.datetime, holidays: set[dt.date], open_on_holidays: bool
) -> bool:
    for offset in (0, 1):
        day = local.date() - dt.timedelta(days=offset)
        if day in holidays and not open_on_holidays:
            continue
        for p in periods:
            if p.weekday != day.weekday():
                continue
            start = dt.datetime.combine(day, p.opens, tzinfo=TZ)
            end = dt.datetime.combine(day, p.closes, tzinfo=TZ)
            if end <= start:
                end += dt.timedelta(days=1)
            if start <= local < end:
                return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    periods=weeks(),
    day=st.integers(0, 13),
    minute=minutes,
    holiday_today=st.booleans(),
    holiday_yesterday=st.booleans(),
    open_on_holidays=st.booleans(),
)
def test_schedule_equals_brute_force_expansion(
    periods: list[Period],
    day: int,
    minute: int,
    holiday_today: bool,
    holiday_yesterday: bool,
    open_on_holidays: bool,
) -> None:
    local = at(2025, 6, 2) + dt.timedelta(days=day, minutes=minute)
    holidays = {
        d
        for d, flag in (
            (local.date(), holiday_today),
            (local.date() - dt.timedelta(days=1), holiday_yesterday),
        )
        if flag
    }
    s = Schedule.build(is_24h=False, open_on_holidays=open_on_holidays, periods=periods)
    kinds = (HOLIDAY if holiday_today else REGULAR, HOLIDAY if holiday_yesterday else REGULAR)
    assert s.is_open(local, *kinds) == brute_open(periods, local, holidays, open_on_holidays)
