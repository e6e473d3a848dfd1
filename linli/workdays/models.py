"""The working-day calendar: exceptions over the weekday rule, and the daily working hours.

The default rule is Monday–Friday working, Saturday and Sunday resting. ``CalendarDay`` rows are the
exceptions (法定节假日, 调休上班, a local closure), seeded from the ``chinese-calendar`` package and editable in
the admin. ``WorkingHours`` rows are the periods of one working day; every working day has the same periods.
No I/O here: the arithmetic lives in ``timeline.py``, the cached public API in ``rules.py``.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.models import TimeStampedModel


class DayKind(models.TextChoices):
    """What a listed day is; whether people work on it is ``is_working``."""

    WORKDAY = "workday", _("工作日")  # a manual override: work on a day the weekday rule calls rest
    REST_DAY = "rest_day", _("休息日")  # a manual override: no work on a weekday (e.g. 台风停工)
    HOLIDAY = "holiday", _("法定节假日")  # the State Council holiday period, weekends inside it included
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")  # a weekend worked in exchange for a holiday

    @property
    def is_working(self) -> bool:
        return self in WORKING_KINDS


WORKING_KINDS = frozenset({DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY})


class DaySource(models.TextChoices):
    """Where a row came from; the seeder only ever touches its own rows."""

    SEED = "seed", _("国务院放假安排(自动导入)")
    MANUAL = "manual", _("手工维护")


class CalendarDay(TimeStampedModel):
    """One day that departs from the Monday–Friday rule (or is pinned to it by hand)."""

    # unique=True also gives the index that the year filter and the seeder's range reads use.
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=60, blank=True, help_text=_("例如“国庆节”"))
    source = models.CharField(_("来源"), max_length=8, choices=DaySource.choices, default=DaySource.MANUAL)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("日历例外日")
        verbose_name_plural = _("日历例外日")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=DayKind.values), name="calendarday_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=DaySource.values), name="calendarday_source_valid"
            ),
        ]

    def __str__(self) -> str:
        label = self.name or DayKind(self.kind).label
        return f"{self.date.isoformat()} {label}"

    @property
    def is_working(self) -> bool:
        return DayKind(self.kind).is_working


# Used when the WorkingHours table is empty, and seeded into it by the data migration.
DEFAULT_WORKING_PERIODS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(9, 0), dt.time(12, 0)),
    (dt.time(13, 30), dt.time(17, 30)),
)


class WorkingHours(TimeStampedModel):
    """One working period of a working day (上午 09:00–12:00, 下午 13:30–17:30 by default)."""

    start = models.TimeField(_("开始时间"))
    end = models.TimeField(_("结束时间"))
    note = models.CharField(_("备注"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("工作时段")
        verbose_name_plural = _("工作时段")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="workinghours_start_lt_end"
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"
