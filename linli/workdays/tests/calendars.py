"""A calendar built straight from the chinese-calendar package, without the database (fast, for properties)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar

from linli.workdays.models import DEFAULT_WORKING_PERIODS
from linli.workdays.timeline import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def package_calendar() -> WorkCalendar:
    exceptions = dict.fromkeys(chinese_calendar.holidays, False)
    exceptions.update(dict.fromkeys(chinese_calendar.workdays, True))
    return WorkCalendar(exceptions=exceptions, periods=DEFAULT_WORKING_PERIODS, tz=SHANGHAI)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
