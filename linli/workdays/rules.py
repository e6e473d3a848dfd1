"""The working-day rules every deadline in linli uses: ``from linli.workdays import rules``.

    rules.is_working_day(date)                 法定节假日/调休 honoured
    rules.add_working_days(received_at, 5)     "5个工作日内办结": 17:30 of the 5th working day after receipt
    rules.add_working_hours(received_at, 2)    two hours of office time, skipping lunch, nights, holidays
    rules.working_time_between(a, b)           how long something took in office time (a timedelta)
    rules.next_working_moment(dt)              when work can next happen

The calendar is one in-process snapshot (``timeline.WorkCalendar``) of the whole exception table and the
working hours. Each process re-reads a version stamp (row count + latest ``updated_at`` of both tables) at
most every ``LINLI_WORKDAYS_RECHECK_SECONDS`` (default 2) and rebuilds only when it moved, so a sweep over
10 k cases costs no query per case and an admin edit is seen by every process within seconds, no restart.

Inputs must be timezone-aware; results are aware datetimes in the default time zone (Asia/Shanghai).
A year with no 法定节假日 rows is "not covered" (the State Council has not published it, or nobody has
seeded it): the weekday rule still applies there and a warning is logged once per process and year.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import connection
from django.utils import timezone

from linli.core.snapshot import VersionedSnapshot
from linli.workdays.models import (
    DEFAULT_WORKING_PERIODS,
    WORKING_KINDS,
    CalendarDay,
    DayKind,
    WorkingHours,
)
from linli.workdays.timeline import CalendarError, FloatArray, WorkCalendar

__all__ = [
    "CalendarError",
    "add_working_days",
    "add_working_hours",
    "add_working_time",
    "add_working_time_many",
    "calendar_covers",
    "calendar_invalidate",
    "is_working_day",
    "is_working_time",
    "next_working_moment",
    "work_calendar",
    "working_days_between",
    "working_seconds_between_many",
    "working_time_between",
]

logger = logging.getLogger("linli.workdays")


_warned: set[tuple[str, int]] = set()


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_WORKDAYS_RECHECK_SECONDS", 2))


def _current_version() -> str:
    """Count and latest change of both tables in one round trip; any insert, edit or delete moves it."""
    days, hours = CalendarDay._meta.db_table, WorkingHours._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {days}), (SELECT MAX(updated_at) FROM {days}),"  # noqa: S608 - table names from model meta
            f" (SELECT COUNT(*) FROM {hours}), (SELECT MAX(updated_at) FROM {hours})"
        )
        row = cursor.fetchone()
    return "|".join(str(value) for value in row)


def _build(version: str) -> WorkCalendar:
    exceptions: dict[dt.date, bool] = {}
    covered: set[int] = set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        exceptions[day] = kind in WORKING_KINDS
        if kind == DayKind.HOLIDAY:
            covered.add(day.year)
    periods = list(WorkingHours.objects.values_list("start", "end")) or list(DEFAULT_WORKING_PERIODS)
    try:
        return WorkCalendar(
            exceptions=exceptions,
            periods=periods,
            tz=timezone.get_default_timezone(),
            version=version,
            covered_years=covered,
        )
    except CalendarError:
        # Overlapping rows written around the services: keep deadlines flowing on the documented default.
        logger.exception("working hours table is invalid; using the default periods")
        return WorkCalendar(
            exceptions=exceptions,
            periods=DEFAULT_WORKING_PERIODS,
            tz=timezone.get_default_timezone(),
            version=version,
            covered_years=covered,
        )


_snapshot: VersionedSnapshot[WorkCalendar] = VersionedSnapshot(
    version=_current_version, build=_build, recheck=_recheck_seconds
)


def work_calendar() -> WorkCalendar:
    """The current snapshot; re-reads the stamp at most every few seconds, rebuilds when it moved."""
    return _snapshot.get()


def calendar_invalidate() -> None:
    """Make the next call re-read the stamp (this process just edited the calendar, or a test rolled back)."""
    _snapshot.recheck_now()


def _check_covered(calendar: WorkCalendar, *moments: dt.date) -> None:
    for day in moments:
        key = (calendar.version, day.year)
        if day.year not in calendar.covered_years and key not in _warned:
            _warned.add(key)
            logger.warning(
                "working-day calendar has no holidays for %s: weekday rule only; run workdays_seed "
                "after upgrading chinese-calendar, or enter the year in the admin",
                day.year,
            )


# --- the public API -----------------------------------------------------------------------------
def is_working_day(day: dt.date) -> bool:
    calendar = work_calendar()
    _check_covered(calendar, day)
    return calendar.is_working_day(day)


def is_working_time(moment: dt.datetime) -> bool:
    return work_calendar().is_working_time(moment)


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Working days in ``(first, last]``."""
    return work_calendar().working_days_between(first, last)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """End of the working hours of the ``days``-th working day after the day of ``start``.

    "N个工作日内办结": the day of receipt does not count, whatever its hour, and the deadline is the close of
    business (17:30 by default) of the N-th working day after it. ``days=0`` ("当日办结") is the close of the
    working day on which work can next happen.
    """
    calendar = work_calendar()
    result = calendar.add_working_days(start, days)
    _check_covered(calendar, result.date())
    return result


def add_working_time(start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The earliest instant at which ``amount`` of working time has passed since ``start``."""
    calendar = work_calendar()
    result = calendar.add_working_time(start, amount)
    _check_covered(calendar, result.date())
    return result


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """``add_working_time`` in hours (may be fractional; rounded to the microsecond)."""
    return add_working_time(start, dt.timedelta(hours=hours))


def working_time_between(a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Working time from ``a`` to ``b`` (negative if ``b`` is earlier): "how long, in office hours"."""
    return work_calendar().working_time_between(a, b)


def next_working_moment(moment: dt.datetime) -> dt.datetime:
    """``moment`` if it is within working hours, otherwise the start of the next working period."""
    return work_calendar().next_working_moment(moment)


def working_seconds_between_many(starts: Sequence[dt.datetime], ends: Sequence[dt.datetime]) -> FloatArray:
    """Working seconds between N pairs at once (reports over many cases)."""
    return work_calendar().working_seconds_between_many(starts, ends)


def add_working_time_many(
    starts: Sequence[dt.datetime], amounts: Sequence[dt.timedelta]
) -> list[dt.datetime]:
    """``add_working_time`` for N pairs at once (recomputing stored deadlines)."""
    return work_calendar().add_working_time_many(starts, amounts)


def calendar_covers(year: int) -> bool:
    """Whether the table holds the official holidays of ``year`` (seeded or entered by hand)."""
    return year in work_calendar().covered_years
