"""When a station is open: its weekly periods, the working-day calendar's holidays, 24-hour stations.

The rule (docs/stations.md, "Opening hours"):

- A period belongs to the local day it starts on (Asia/Shanghai). ``closes <= opens`` means it ends on the
  next day (夜间延时 22:00–02:00). Periods are half-open ``[opens, closes)``.
- A 24-hour station is open the whole of every day it opens at all.
- On a 法定节假日 or a 休息日 of the working-day calendar (``linli.workdays``) a station is closed unless
  ``open_on_holidays``; when it opens, it keeps its 节假日 periods (weekday 7) if it has any, else that
  weekday's own periods.
- On a 调休上班 weekend day the station opens like on a working day: the periods of its first weekday
  (Monday to Friday) that has any.
- An overnight period is governed by the day it starts on: a Friday 20:00–02:00 period runs into Saturday
  even if Saturday is a holiday, and a holiday that closes the station closes that day's overnight period.

Everything here is pure except ``day_type``, which reads the calendar exceptions once per calendar version.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

if TYPE_CHECKING:
    from linli.stations.models import Station

DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
HOLIDAY_WEEKDAY = 7

REGULAR = "regular"
HOLIDAY = "holiday"  # 法定节假日 or 休息日: closed unless the station opens on holidays
MAKEUP = "makeup"  # a weekend day worked (调休上班, or a manual workday)

WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日", "节假日")


class HoursError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, order=True)
class Period:
    weekday: int
    opens: dt.time
    closes: dt.time

    @property
    def start_min(self) -> int:
        return self.opens.hour * 60 + self.opens.minute

    @property
    def end_min(self) -> int:
        """Minutes after the start day's midnight; past 1440 for an overnight period."""
        end = self.closes.hour * 60 + self.closes.minute
        return end + DAY_MINUTES if end <= self.start_min else end

    @property
    def overnight(self) -> bool:
        return self.end_min > DAY_MINUTES

    def label(self) -> str:
        nxt = "次日" if self.overnight and self.end_min != DAY_MINUTES else ""
        closes = "24:00" if self.end_min == DAY_MINUTES else f"{nxt}{self.closes:%H:%M}"
        return f"{self.opens:%H:%M}–{closes}"


def validate_periods(periods: Iterable[Period]) -> list[Period]:
    """Sorted periods, or ``HoursError``: bad weekday, empty period, or two periods overlapping (including
    an overnight period running into the next day's first period, and Sunday night into Monday)."""
    ordered = sorted(periods)
    for p in ordered:
        if not 0 <= p.weekday <= HOLIDAY_WEEKDAY:
            raise HoursError("invalid_hours", f"星期应为 0(周一)到 7(节假日),收到 {p.weekday}")
        if p.opens.second or p.closes.second or p.opens.microsecond or p.closes.microsecond:
            raise HoursError("invalid_hours", "开放时间请精确到分钟")
        if p.opens == p.closes:
            raise HoursError(
                "invalid_hours",
                f"{WEEKDAY_LABELS[p.weekday]} {p.opens:%H:%M} 开始与结束相同;全天开放请设为24小时",
            )
    # The week is a circle of minutes; holiday periods (weekday 7) are checked among themselves.
    spans: list[tuple[int, int, Period]] = []
    holiday: list[tuple[int, int, Period]] = []
    for p in ordered:
        if p.weekday == HOLIDAY_WEEKDAY:
            holiday.append((p.start_min, p.end_min, p))
            continue
        start = p.weekday * DAY_MINUTES + p.start_min
        end = p.weekday * DAY_MINUTES + p.end_min
        if end > WEEK_MINUTES:  # Sunday night into Monday morning
            spans.append((start, WEEK_MINUTES, p))
            spans.append((0, end - WEEK_MINUTES, p))
        else:
            spans.append((start, end, p))
    for group in (spans, holiday):
        group.sort(key=lambda s: (s[0], s[1]))
        for (_s1, e1, p1), (s2, _e2, p2) in itertools.pairwise(group):
            if s2 < e1:
                raise HoursError(
                    "overlapping_hours",
                    f"开放时段重叠:{WEEKDAY_LABELS[p1.weekday]} {p1.label()} 与 "
                    f"{WEEKDAY_LABELS[p2.weekday]} {p2.label()}",
                )
    return ordered


_TIME = r"([01]?\d|2[0-4]):([0-5]\d)"
_RANGE = re.compile(rf"^{_TIME}\s*[-–—~至]\s*(次日)?\s*{_TIME}$")


def parse_day(text: str, weekday: int) -> list[Period]:
    """ "09:00-12:00, 13:30-17:30" (comma, 、 or ; separated; "休息" or empty = closed) → periods."""
    text = text.strip().replace(",", ",").replace(";", ",").replace(";", ",").replace("、", ",")
    if text in {"", "休息", "闭馆", "不开放"}:
        return []
    periods = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        m = _RANGE.match(part)
        if not m:
            raise HoursError(
                "invalid_hours", f"{WEEKDAY_LABELS[weekday]}的时段“{part}”格式不对,应为 09:00-17:30"
            )
        h1, m1, _next, h2, m2 = m.groups()
        if int(h1) == 24 and int(m1):
            raise HoursError("invalid_hours", f"{WEEKDAY_LABELS[weekday]}的时间“{part}”不存在")
        if int(h2) == 24 and int(m2):
            raise HoursError("invalid_hours", f"{WEEKDAY_LABELS[weekday]}的时间“{part}”不存在")
        opens = dt.time(int(h1) % 24, int(m1))
        closes = dt.time(int(h2) % 24, int(m2))  # 24:00 = midnight = the end of the day
        periods.append(Period(weekday, opens, closes))
    return periods


def format_day(periods: Sequence[Period]) -> str:
    return ", ".join(p.label().replace("–", "-").replace("次日", "") for p in periods)


# --- the calendar's view of a day --------------------------------------------------------------------
_cache_lock = threading.Lock()
_day_cache: dict[str, Any] = {"version": None, "kinds": {}}


def _calendar_kinds() -> dict[dt.date, str]:
    from linli.workdays import rules
    from linli.workdays.models import CalendarDay, DayKind

    version = rules.work_calendar().version
    cached = _day_cache
    if cached["version"] == version:
        return cached["kinds"]
    with _cache_lock:
        if _day_cache["version"] != version:
            kinds: dict[dt.date, str] = {}
            for day, kind in CalendarDay.objects.values_list("date", "kind"):
                if kind in (DayKind.HOLIDAY, DayKind.REST_DAY):
                    kinds[day] = HOLIDAY
                elif day.weekday() >= 5:  # 调休上班 or a manual workday on a weekend
                    kinds[day] = MAKEUP
            _day_cache.update(version=version, kinds=kinds)
        return _day_cache["kinds"]


def day_type(day: dt.date) -> str:
    """REGULAR, HOLIDAY or MAKEUP for a local date, from the working-day calendar (cached per version)."""
    return _calendar_kinds().get(day, REGULAR)


# --- one station's week ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """A station's hours, detached from the database (what the index keeps per station)."""

    is_24h: bool
    open_on_holidays: bool
    by_weekday: tuple[tuple[Period, ...], ...] = field(default_factory=lambda: ((),) * 8)

    @classmethod
    def build(cls, *, is_24h: bool, open_on_holidays: bool, periods: Iterable[Period]) -> Schedule:
        days: list[list[Period]] = [[] for _ in range(8)]
        for p in sorted(periods):
            days[p.weekday].append(p)
        return cls(is_24h, open_on_holidays, tuple(tuple(d) for d in days))

    def spans(self, day: dt.date, kind: str) -> list[tuple[int, int]]:
        """Opening spans of periods starting on ``day`` in minutes after its midnight (end may pass 1440)."""
        if kind == HOLIDAY and not self.open_on_holidays:
            return []
        if self.is_24h:
            return [(0, DAY_MINUTES)]
        periods: Sequence[Period] = self.by_weekday[day.weekday()]
        if kind == HOLIDAY and self.by_weekday[HOLIDAY_WEEKDAY]:
            periods = self.by_weekday[HOLIDAY_WEEKDAY]
        elif kind == MAKEUP:
            periods = next((d for d in self.by_weekday[:5] if d), periods)
        return [(p.start_min, p.end_min) for p in periods]

    def is_open(self, local: dt.datetime, kind_today: str, kind_yesterday: str) -> bool:
        """Open at this local wall-clock time, given the calendar kinds of its day and the day before."""
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        today = local.date()
        if any(s <= minute < e for s, e in self.spans(today, kind_today)):
            return True
        spill = minute + DAY_MINUTES
        return any(s <= spill < e for s, e in self.spans(today - dt.timedelta(days=1), kind_yesterday))

    @functools.cached_property  # badges of every hit of every nearest-station request: compute once
    def weekend_open(self) -> bool:
        """六日不打烊: open on both Saturday and Sunday."""
        return self.is_24h or bool(self.by_weekday[5] and self.by_weekday[6])

    @functools.cached_property
    def extended(self) -> bool:
        """错时延时: open through lunch, before 08:30, after 18:00 or overnight on some day."""
        if self.is_24h:
            return True
        for day in self.by_weekday:
            for p in day:
                if p.start_min < 8 * 60 + 30 or p.end_min > 18 * 60:
                    return True
                if p.start_min <= 12 * 60 and p.end_min >= 13 * 60 + 30:
                    return True
        return False


def schedule_of(station: Station) -> Schedule:
    """The station's schedule (uses prefetched ``periods`` when present)."""
    return Schedule.build(
        is_24h=station.is_24h,
        open_on_holidays=station.open_on_holidays,
        periods=[Period(p.weekday, p.opens, p.closes) for p in station.periods.all()],
    )


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        raise ValueError("需要带时区的时间(不接受 naive datetime)")
    return timezone.localtime(moment)


def schedule_is_open(schedule: Schedule, moment: dt.datetime) -> bool:
    local = _local(moment)
    today = local.date()
    return schedule.is_open(local, day_type(today), day_type(today - dt.timedelta(days=1)))


def is_open_at(station: Station, moment: dt.datetime) -> bool:
    """Whether residents find the station open at an aware instant (see the module docstring)."""
    return schedule_is_open(schedule_of(station), moment)


def open_intervals(station: Station, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The openings that start on a local date, as aware datetimes (an overnight one ends the next day)."""
    tz = timezone.get_current_timezone()
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    spans = schedule_of(station).spans(day, day_type(day))
    return [(midnight + dt.timedelta(minutes=s), midnight + dt.timedelta(minutes=e)) for s, e in spans]
