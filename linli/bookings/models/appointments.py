"""Appointments (预约): slots per station × service item with a capacity, the appointments in them, their
history, and the per-station, per-day queue-number counters (取号).

A slot's ``booked`` counts the places its appointments hold (every status but cancelled). It only moves
by compare-and-set UPDATEs in ``services.appointments`` (``booked < capacity``), so the database, not a
check in Python, decides who gets the last place; a check constraint backs it up.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.bookings.models.common import EventBase, StatusCategory
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields


class Slot(TimeStampedModel):
    """A bookable period at a station for one service item, with a number of places."""

    station = models.ForeignKey(
        "stations.Station", verbose_name=_("服务阵地"), on_delete=models.CASCADE, related_name="slots"
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("服务事项"), on_delete=models.PROTECT, related_name="slots"
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    # The local (Asia/Shanghai) date of starts_at: the resident's calendar asks "which days have places".
    day = models.DateField(_("日期"))
    capacity = models.PositiveSmallIntegerField(_("名额"))
    booked = models.PositiveSmallIntegerField(_("已约"), default=0)
    is_active = models.BooleanField(_("开放预约"), default=True)
    region_path = models.CharField(max_length=400, editable=False)  # the station's, for scoping

    objects: ClassVar[ScopedQuerySet[Slot]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.BOOKINGS_VIEW, region_path="region_path")

    class Meta:
        verbose_name = _("预约号源")
        verbose_name_plural = _("预约号源")
        ordering = ["starts_at", "station_id", "item_id"]
        indexes = [
            # The resident calendar: open slots of one item at one station on a day (or a range of days).
            models.Index(fields=["station", "item", "day"], name="slot_station_item_day"),
            # Staff lists of a subtree's slots by day.
            models.Index(fields=["region_path", "day"], name="slot_region_day"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["station", "item", "starts_at"], name="slot_unique_start"),
            models.CheckConstraint(condition=Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}@{self.station_id} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.booked)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")  # holds a place; the resident has not arrived yet
    CHECKED_IN = "checked_in", _("已取号")  # arrived and has a queue number; waiting for the window
    DONE = "done", _("已办理")  # served at the window (a window record exists)
    CANCELLED = "cancelled", _("已取消")  # by the resident or the station; the place is free again
    NO_SHOW = "no_show", _("未到")  # the slot ended without a check-in (the sweep)


APPOINTMENT_CATEGORY: dict[str, str] = {
    AppointmentStatus.BOOKED: StatusCategory.OPEN,
    AppointmentStatus.CHECKED_IN: StatusCategory.OPEN,
    AppointmentStatus.DONE: StatusCategory.DONE,
    AppointmentStatus.CANCELLED: StatusCategory.CANCELLED,
    AppointmentStatus.NO_SHOW: StatusCategory.CANCELLED,
}
# Statuses that keep their place in the slot's ``booked`` count (a no-show's place was used up).
HOLDS_PLACE = frozenset(s for s in AppointmentStatus.values if s != AppointmentStatus.CANCELLED)
OPEN_STATUSES = tuple(s for s, c in APPOINTMENT_CATEGORY.items() if c == StatusCategory.OPEN)


def _category_matches(mapping: dict[str, str]) -> Q:
    """A check constraint: status_category is the one the table says for the status."""
    parts = []
    for category in StatusCategory.values:
        statuses = [s for s, c in mapping.items() if c == category]
        if statuses:
            parts.append(Q(status__in=statuses, status_category=category))
    return reduce(operator.or_, parts)


class Appointment(TimeStampedModel):
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预约人"),
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    slot = models.ForeignKey(
        Slot, verbose_name=_("号源"), on_delete=models.PROTECT, related_name="appointments"
    )
    # Copies of the slot's (kept in step on reschedule): queues, sweeps and limits query them without a join.
    station = models.ForeignKey(
        "stations.Station", verbose_name=_("服务阵地"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("服务事项"), on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("日期"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    status_category = models.CharField(
        _("状态类别"), max_length=10, choices=StatusCategory.choices, default=StatusCategory.OPEN
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    queue_number = models.CharField(_("排队号"), max_length=8, blank=True)
    checked_in_at = models.DateTimeField(_("取号时间"), null=True, blank=True)
    # Set by the reminder sweep's compare-and-set; cleared on reschedule (the new time gets its reminders).
    day_reminded_at = models.DateTimeField(_("提前一天提醒时间"), null=True, blank=True)
    hour_reminded_at = models.DateTimeField(_("提前一小时提醒时间"), null=True, blank=True)
    region_path = models.CharField(max_length=400, editable=False)

    objects: ClassVar[ScopedQuerySet[Appointment]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.BOOKINGS_VIEW, region_path="region_path", owner="resident")

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["-starts_at", "-id"]
        indexes = [
            # "My appointments" and the per-person limit (open appointments of one resident).
            models.Index(fields=["resident", "status_category", "starts_at"], name="appt_resident_open"),
            # The window's queue: one station's appointments of one day, by status.
            models.Index(fields=["station", "day", "status"], name="appt_station_day"),
            # Reminder and no-show sweeps: booked appointments by start/end time (partial: the few open).
            models.Index(
                fields=["starts_at"], condition=Q(status=AppointmentStatus.BOOKED), name="appt_booked_start"
            ),
            models.Index(
                fields=["ends_at"], condition=Q(status=AppointmentStatus.BOOKED), name="appt_booked_end"
            ),
            # Staff lists of a subtree's appointments by day.
            models.Index(fields=["region_path", "day"], name="appt_region_day"),
        ]
        constraints = [
            # At most one open appointment per person, item and day: a concurrent double booking loses here.
            models.UniqueConstraint(
                fields=["resident", "item", "day"],
                condition=Q(status__in=OPEN_STATUSES),
                name="appt_one_open_per_item_day",
            ),
            # Queue numbers are unique per station and day (the counter hands them out).
            models.UniqueConstraint(
                fields=["station", "day", "queue_number"],
                condition=~Q(queue_number=""),
                name="appt_queue_number_unique",
            ),
            models.CheckConstraint(
                condition=_category_matches(APPOINTMENT_CATEGORY), name="appt_status_category_matches"
            ),
        ]

    def __str__(self) -> str:
        return f"预约#{self.pk} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.status_category == StatusCategory.OPEN


class AppointmentEvent(EventBase):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("预约记录")
        verbose_name_plural = _("预约记录")
        ordering = ["appointment_id", "created_at", "id"]


class QueueCounter(models.Model):
    """The last queue number handed out at a station on a day, per prefix (A = 预约, B = 现场)."""

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    prefix = models.CharField(max_length=1)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("取号计数")
        verbose_name_plural = _("取号计数")
        ordering = ["-day", "station_id", "prefix"]
        constraints = [
            models.UniqueConstraint(fields=["station", "day", "prefix"], name="queue_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.day} {self.prefix}{self.last:03d}"
