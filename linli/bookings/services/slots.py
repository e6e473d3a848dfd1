"""Slot calendars: generate a station × item's slots from its opening hours, or define one explicitly.

Generation cuts each opening interval of ``linli.stations.hours.open_intervals`` (which already honours
holidays, 调休 and 24-hour stations) into back-to-back slots of the given length; a remainder shorter
than a slot is left unused. It is idempotent: the unique (station, item, start) key makes a second run
over the same days create nothing, so a nightly job may extend the calendar day by day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from linli.bookings.errors import BookingError, not_found
from linli.bookings.models import Slot
from linli.bookings.permissions import may_manage_station
from linli.bookings.services.lookups import aware, item_active, require_offered, station_managed
from linli.stations.hours import open_intervals
from linli.stations.models import Station

if TYPE_CHECKING:
    from linli.accounts.models import User

LENGTH_MIN, LENGTH_MAX = 5, 240  # minutes
CAPACITY_MAX = 200
GENERATE_MAX_DAYS = 62


@dataclass(frozen=True)
class SlotsGenerated:
    created: int
    existing: int
    days: int


def _check_capacity(capacity: int) -> None:
    if not 1 <= capacity <= CAPACITY_MAX:
        raise BookingError("invalid_capacity", f"每个时段名额应为 1–{CAPACITY_MAX}")


def _station(actor: User | None, station_id: int) -> Station:
    """The station for a slot write: staff need ``bookings.manage`` over it; None is the system (seed)."""
    if actor is None:
        station = Station.objects.filter(pk=station_id).first()
        if station is None:
            raise not_found("服务阵地")
        return station
    return station_managed(actor, station_id)


def slots_generate(
    *,
    actor: User | None,
    station_id: int,
    item_id: int | str,
    first_day: dt.date,
    last_day: dt.date,
    length_minutes: int,
    capacity: int,
    now: dt.datetime | None = None,
) -> SlotsGenerated:
    """Create the slots of ``first_day``..``last_day`` (local dates) that do not exist yet."""
    now = now or timezone.now()
    station = _station(actor, station_id)
    item = item_active(item_id)
    require_offered(station=station, item=item)
    if not LENGTH_MIN <= length_minutes <= LENGTH_MAX:
        raise BookingError("invalid_length", f"时段长度应为 {LENGTH_MIN}–{LENGTH_MAX} 分钟")
    _check_capacity(capacity)
    if last_day < first_day:
        raise BookingError("invalid_range", "结束日期不能早于开始日期")
    if first_day < timezone.localdate(now):
        raise BookingError("slot_in_past", "不能为已经过去的日期生成号源")
    days = (last_day - first_day).days + 1
    if days > GENERATE_MAX_DAYS:
        raise BookingError("range_too_long", f"一次最多生成 {GENERATE_MAX_DAYS} 天的号源")
    length = dt.timedelta(minutes=length_minutes)
    wanted: list[Slot] = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for start, end in open_intervals(station, day):
            t = start
            while t + length <= end:
                if t > now:  # today's slots that already began are not offered
                    wanted.append(
                        Slot(
                            station=station,
                            item=item,
                            starts_at=t,
                            ends_at=t + length,
                            day=timezone.localdate(t),
                            capacity=capacity,
                            region_path=station.region_path,
                        )
                    )
                t += length
    starts = [s.starts_at for s in wanted]
    existing = set(
        Slot.objects.filter(station=station, item=item, starts_at__in=starts).values_list(
            "starts_at", flat=True
        )
    )
    new = [s for s in wanted if s.starts_at not in existing]
    with transaction.atomic():
        # ignore_conflicts: a concurrent run over the same days may have inserted some since the read.
        Slot.objects.bulk_create(new, ignore_conflicts=True)
    return SlotsGenerated(created=len(new), existing=len(existing), days=days)


def _within_opening(station: Station, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    day = timezone.localdate(starts_at)
    intervals = open_intervals(station, day) + open_intervals(station, day - dt.timedelta(days=1))
    return any(s <= starts_at and ends_at <= e for s, e in intervals)


def slot_create(
    *,
    actor: User | None,
    station_id: int,
    item_id: int | str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    now: dt.datetime | None = None,
) -> Slot:
    """Define one slot explicitly (e.g. a 义诊 morning); it must lie inside one opening period."""
    now = now or timezone.now()
    station = _station(actor, station_id)
    item = item_active(item_id)
    require_offered(station=station, item=item)
    aware(starts_at, "开始时间")
    aware(ends_at, "结束时间")
    if starts_at <= now:
        raise BookingError("slot_in_past", "不能创建已经开始或过去的时段")
    if ends_at <= starts_at:
        raise BookingError("invalid_period", "结束时间应晚于开始时间")
    if ends_at - starts_at > dt.timedelta(minutes=LENGTH_MAX):
        raise BookingError("invalid_length", f"一个时段最长 {LENGTH_MAX} 分钟")
    _check_capacity(capacity)
    if not _within_opening(station, starts_at, ends_at):
        raise BookingError("outside_opening_hours", "该时段不在阵地的开放时间内")
    slot = Slot(
        station=station,
        item=item,
        starts_at=starts_at,
        ends_at=ends_at,
        day=timezone.localdate(starts_at),
        capacity=capacity,
        region_path=station.region_path,
    )
    try:
        with transaction.atomic():
            slot.save(force_insert=True)
    except IntegrityError as exc:
        raise BookingError("slot_exists", "该事项在这个开始时间已有号源", status=409) from exc
    return slot


def _slot_managed(actor: User, slot_id: int) -> Slot:
    slot = Slot.objects.filter(pk=slot_id).first()
    if slot is None or not may_manage_station(actor, slot.region_path):
        raise not_found("号源")
    return slot


def slot_capacity_set(*, actor: User, slot_id: int, capacity: int) -> Slot:
    """Change a slot's places; never below the places already taken (compare-and-set on ``booked``)."""
    _check_capacity(capacity)
    slot = _slot_managed(actor, slot_id)
    won = Slot.objects.filter(pk=slot.pk, booked__lte=capacity).update(
        capacity=capacity, updated_at=timezone.now()
    )
    if not won:
        raise BookingError("capacity_below_booked", "名额不能少于已预约人数", status=409)
    slot.refresh_from_db()
    return slot


def slot_close(*, actor: User, slot_id: int) -> Slot:
    """Stop taking bookings in a slot (the appointments already in it stay)."""
    slot = _slot_managed(actor, slot_id)
    Slot.objects.filter(pk=slot.pk).update(is_active=False, updated_at=timezone.now())
    slot.refresh_from_db()
    return slot


def slot_take_place(*, slot_id: int, now: dt.datetime) -> bool:
    """Compare-and-set: take one place if one is left. True for exactly as many callers as there are places.

    On PostgreSQL a concurrent UPDATE of the same row waits for the first to commit and re-checks
    ``booked < capacity`` against the new value; SQLite serialises writers.
    """
    won = Slot.objects.filter(pk=slot_id, is_active=True, booked__lt=F("capacity")).update(
        booked=F("booked") + 1, updated_at=now
    )
    return won == 1


def slot_release_place(*, slot_id: int, now: dt.datetime) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1, updated_at=now)
