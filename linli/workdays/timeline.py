"""Working-time arithmetic on a precomputed line of days. Pure: no database, no clock.

Every day from ``FIRST_DAY`` to ``LAST_DAY`` is either working or not (the weekday rule overridden by the
exception table). ``_wcount[i]`` is the number of working days before day ``i``, so the working time before
any instant is ``_wcount[i] * day_us + (time worked so far that day)``: one array lookup, never a loop over
days. Adding working time is the inverse: a binary search in ``_wcount`` plus a walk over the day's periods.
All times are integer microseconds, so sums are exact and ``working_time_between`` inverts
``add_working_time`` to the microsecond.

Conventions (documented in docs/workdays.md, tested in tests/test_rules.py):
* Working time is the half-open periods ``[start, end)`` of each working day, in the local time zone.
* ``add_working_time(t, x)`` for ``x > 0`` is the earliest instant at which ``x`` of working time has
  elapsed since ``t``; it may be a period end (12:00, 17:30). ``x == 0`` returns ``t`` unchanged.
* ``add_working_days(t, n)`` is the end of the last period of the n-th working day after ``t``'s date (the
  day of receipt is not counted, 民法典 §201/§203); ``n == 0`` is the end of the working day on which work
  can next happen (today if still within hours, otherwise the next working day).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
_FIRST_ORDINAL = FIRST_DAY.toordinal()
_N_DAYS = LAST_DAY.toordinal() - _FIRST_ORDINAL + 1
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_ONE_US = dt.timedelta(microseconds=1)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Period = tuple[dt.time, dt.time]


class CalendarError(ValueError):
    """A bad argument (naive datetime, negative amount, date outside the supported range)."""


def _time_us(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * _US_PER_SECOND + t.microsecond


def validate_periods(periods: Iterable[Period]) -> list[Period]:
    """Sorted periods, or ``CalendarError`` if one is empty/reversed or two overlap."""
    ordered = sorted(periods)
    if not ordered:
        raise CalendarError("至少需要一个工作时段")
    for start, end in ordered:
        if not start < end:
            raise CalendarError(f"工作时段 {start:%H:%M}–{end:%H:%M} 的开始时间必须早于结束时间")
    for (_, prev_end), (start, _) in itertools.pairwise(ordered):
        if start < prev_end:
            raise CalendarError(f"工作时段重叠：{start:%H:%M} 早于上一时段结束 {prev_end:%H:%M}")
    return ordered


class WorkCalendar:
    """An immutable snapshot of the calendar; safe to share between threads."""

    def __init__(
        self,
        *,
        exceptions: Mapping[dt.date, bool],
        periods: Sequence[Period],
        tz: dt.tzinfo,
        version: str = "",
        covered_years: Iterable[int] = (),
    ) -> None:
        self.version = version
        self.tz = tz
        self.covered_years = frozenset(covered_years)
        self.periods = validate_periods(periods)
        self._starts = [_time_us(s) for s, _ in self.periods]
        self._ends = [_time_us(e) for _, e in self.periods]
        lengths = [e - s for s, e in zip(self._starts, self._ends, strict=True)]
        self.day_us = sum(lengths)
        # Working time elapsed before each period starts, for the vectorised inverse.
        self._period_offsets = np.cumsum([0, *lengths[:-1]], dtype=np.int64)
        self._period_ends_cum = np.cumsum(lengths, dtype=np.int64)

        # 1970-01-01 was a Thursday (weekday 3).
        weekday = (np.arange(_N_DAYS, dtype=np.int64) + FIRST_DAY.weekday()) % 7
        work = weekday < 5
        for day, is_working in exceptions.items():
            index = day.toordinal() - _FIRST_ORDINAL
            if 0 <= index < _N_DAYS:
                work[index] = is_working
        self._work = work
        self._wcount: IntArray = np.zeros(_N_DAYS + 1, dtype=np.int64)
        np.cumsum(work, out=self._wcount[1:])

    # --- conversions ------------------------------------------------------------------------------
    def _split(self, moment: dt.datetime) -> tuple[int, int]:
        """(day index, microseconds since local midnight) of an aware datetime."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CalendarError("需要带时区的时间(不接受 naive datetime)")
        local = moment.astimezone(self.tz)
        index = local.toordinal() - _FIRST_ORDINAL
        if not 0 <= index < _N_DAYS:
            raise CalendarError(f"日期超出工作日历范围({FIRST_DAY}–{LAST_DAY})")
        us = _time_us(local.time())
        return index, us

    def _day_index(self, day: dt.date) -> int:
        index = day.toordinal() - _FIRST_ORDINAL
        if not 0 <= index < _N_DAYS:
            raise CalendarError(f"日期超出工作日历范围({FIRST_DAY}–{LAST_DAY})")
        return index

    def _instant(self, index: int, us: int) -> dt.datetime:
        day = dt.date.fromordinal(index + _FIRST_ORDINAL)
        seconds, micro = divmod(us, _US_PER_SECOND)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return dt.datetime.combine(day, dt.time(hour, minute, second, micro), tzinfo=self.tz)

    def _worked_in_day(self, us: int) -> int:
        return sum(min(max(us - s, 0), e - s) for s, e in zip(self._starts, self._ends, strict=True))

    def _position(self, index: int, us: int) -> int:
        """Working microseconds from FIRST_DAY 00:00 to this instant."""
        before = int(self._wcount[index]) * self.day_us
        return before + self._worked_in_day(us) if self._work[index] else before

    def _nth_working_day_after(self, index: int, n: int) -> int:
        """Index of the n-th working day strictly after day ``index`` (n >= 1)."""
        target = int(self._wcount[index + 1]) + n
        found = int(np.searchsorted(self._wcount, target, side="left"))
        if found > _N_DAYS:
            raise CalendarError(f"结果超出工作日历范围(晚于 {LAST_DAY})")
        return found - 1

    # --- days -------------------------------------------------------------------------------------
    def is_working_day(self, day: dt.date) -> bool:
        return bool(self._work[self._day_index(day)])

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """Working days in ``(first, last]``: how many working days ``last`` lies after ``first``."""
        a, b = self._day_index(first), self._day_index(last)
        return int(self._wcount[b + 1] - self._wcount[a + 1])

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        if days < 0:
            raise CalendarError("工作日数不能为负数")
        index, _ = self._split(start)
        if days == 0:
            index, _ = self._split(self.next_working_moment(start))
        else:
            index = self._nth_working_day_after(index, days)
        return self._instant(index, self._ends[-1])

    # --- instants ---------------------------------------------------------------------------------
    def is_working_time(self, moment: dt.datetime) -> bool:
        index, us = self._split(moment)
        return bool(self._work[index]) and any(
            s <= us < e for s, e in zip(self._starts, self._ends, strict=True)
        )

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself if it is working time, otherwise the start of the next working period."""
        index, us = self._split(moment)
        if self._work[index]:
            for s, e in zip(self._starts, self._ends, strict=True):
                if us < s:
                    return self._instant(index, s)
                if us < e:
                    return moment.astimezone(self.tz)
        return self._instant(self._nth_working_day_after(index, 1), self._starts[0])

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Working time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        return dt.timedelta(microseconds=self._position(*self._split(b)) - self._position(*self._split(a)))

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        amount_us = amount // _ONE_US
        if amount_us < 0:
            raise CalendarError("工作时长不能为负数")
        if amount_us == 0:
            self._split(start)  # still reject naive or out-of-range input
            return start.astimezone(self.tz)
        target = self._position(*self._split(start)) + amount_us
        index, remainder = self._locate(target)
        for s, e in zip(self._starts, self._ends, strict=True):
            if remainder <= e - s:
                return self._instant(index, s + remainder)
            remainder -= e - s
        raise AssertionError("unreachable: remainder exceeds one working day")  # pragma: no cover

    def _locate(self, target: int) -> tuple[int, int]:
        """(day index, working microseconds into that day) of a position > 0, end-inclusive."""
        days_needed = -(-target // self.day_us)  # ceil: the day on which ``target`` is reached
        found = int(np.searchsorted(self._wcount, days_needed, side="left"))
        if found > _N_DAYS:
            raise CalendarError(f"结果超出工作日历范围(晚于 {LAST_DAY})")
        index = found - 1
        return index, target - int(self._wcount[index]) * self.day_us

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.add_working_time(start, dt.timedelta(hours=hours))

    # --- many at once -----------------------------------------------------------------------------
    def _split_many(self, moments: Sequence[dt.datetime]) -> tuple[IntArray, IntArray]:
        pairs = [self._split(m) for m in moments]
        indexes = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        us = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
        return indexes, us

    def _positions(self, indexes: IntArray, us: IntArray) -> IntArray:
        worked = np.zeros(len(us), dtype=np.int64)
        for s, e in zip(self._starts, self._ends, strict=True):
            worked += np.clip(us - s, 0, e - s)
        result: IntArray = self._wcount[indexes] * self.day_us + np.where(self._work[indexes], worked, 0)
        return result

    def working_seconds_between_many(
        self, starts: Sequence[dt.datetime], ends: Sequence[dt.datetime]
    ) -> FloatArray:
        """``working_time_between`` for N pairs, in seconds, one numpy pass after the time-zone split."""
        if len(starts) != len(ends):
            raise CalendarError("起止时间数量不一致")
        a = self._positions(*self._split_many(starts))
        b = self._positions(*self._split_many(ends))
        result: FloatArray = (b - a) / _US_PER_SECOND
        return result

    def add_working_time_many(
        self, starts: Sequence[dt.datetime], amounts: Sequence[dt.timedelta]
    ) -> list[dt.datetime]:
        """``add_working_time`` for N pairs (e.g. recomputing deadlines after a calendar edit)."""
        if len(starts) != len(amounts):
            raise CalendarError("起始时间与时长数量不一致")
        amount_us = np.fromiter((a // _ONE_US for a in amounts), dtype=np.int64, count=len(amounts))
        if (amount_us < 0).any():
            raise CalendarError("工作时长不能为负数")
        targets = self._positions(*self._split_many(starts)) + amount_us
        days_needed = -(-targets // self.day_us)
        found = np.searchsorted(self._wcount, days_needed, side="left")
        if (found > _N_DAYS).any():
            raise CalendarError(f"结果超出工作日历范围(晚于 {LAST_DAY})")
        indexes = found - 1
        remainders = targets - self._wcount[indexes] * self.day_us
        # Clipped only for zero amounts at the very first instant, whose result is replaced below.
        period = np.minimum(
            np.searchsorted(self._period_ends_cum, remainders, side="left"), len(self._starts) - 1
        )
        us = np.asarray(self._starts, dtype=np.int64)[period] + remainders - self._period_offsets[period]
        results = [self._instant(int(i), int(u)) for i, u in zip(indexes.tolist(), us.tolist(), strict=True)]
        # Zero amounts keep their start (same convention as the scalar function).
        return [
            start.astimezone(self.tz) if a == 0 else r
            for start, a, r in zip(starts, amount_us.tolist(), results, strict=True)
        ]
