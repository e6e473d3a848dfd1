"""Demo data for bookings: appointment slots for the next 14 days at the demo district's community
centers (and the district center), and the rooms and tools of 一室多用 / 小修小补. Deterministic and
idempotent: slots are generated through the service (the unique start key skips existing ones) and a
station that already has rooms and tools is left alone.

Called by ``manage.py seed_demo`` after the station network exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from linli.bookings.models import Resource, ResourceKind
from linli.bookings.services import resource_create, slots_generate
from linli.places.demo.geography import DISTRICT_CODE
from linli.places.models import Level, Region
from linli.stations.models import Station, StationKind, StationService

DAYS = 14
ITEMS_PER_STATION = 4
SLOT_MINUTES = 30
SLOT_CAPACITY = 3
# Appointments make most sense for these counter matters (in the basic menu of every center).
PREFERRED_CODES = ("ZW-GA-001", "ZW-MZ-005", "ZW-SB-004", "ZW-YB-001")

ROOMS = [
    # name, capacity, min, max, approval, description
    ("多功能活动室", 40, 60, 240, False, "一室多用:议事、培训、文体活动"),
    ("党员活动室", 20, 30, 180, True, "党员学习、组织生活;须社区审批"),
]
TOOLS = [("小修小补工具箱", 3, 7), ("人字梯", 2, 3), ("冲击电钻", 1, 3), ("爱心轮椅", 2, 14)]


@dataclass(frozen=True)
class DemoBookingsResult:
    slots: int
    resources: int
    message: str


def _items_for(station: Station) -> list[int]:
    menu = list(
        StationService.objects.filter(station=station, is_active=True, item__is_active=True)
        .select_related("item")
        .order_by("sort_order", "item__code")
    )
    by_code = {line.item.code: line.item.pk for line in menu}
    chosen = [by_code[c] for c in PREFERRED_CODES if c in by_code]
    chosen += [line.item.pk for line in menu if line.item.appointment_required and line.item.pk not in chosen]
    return chosen[:ITEMS_PER_STATION]


def _resources(station: Station, *, big_hall: bool) -> int:
    if Resource.objects.filter(station=station).exists():
        return 0
    made = 0
    rooms = [("报告厅", 150, 60, 240, True, "区级中心报告厅;须审批")] if big_hall else ROOMS
    for name, capacity, low, high, approval, text in rooms:
        resource_create(
            actor=None,
            station_id=station.pk,
            kind=ResourceKind.ROOM,
            name=name,
            description=text,
            capacity=capacity,
            min_minutes=low,
            max_minutes=high,
            advance_days=14,
            per_person_limit=2,
            needs_approval=approval,
        )
        made += 1
    for name, quantity, days in TOOLS:
        resource_create(
            actor=None,
            station_id=station.pk,
            kind=ResourceKind.TOOL,
            name=name,
            quantity=quantity,
            loan_days=days,
        )
        made += 1
    return made


def bookings_seed_demo(
    *, district_code: str = DISTRICT_CODE, today: dt.date | None = None
) -> DemoBookingsResult:
    district = Region.objects.filter(code=district_code, level=Level.DISTRICT).first()
    if district is None:
        return DemoBookingsResult(0, 0, "未找到演示辖区,未生成预约号源。")
    stations = list(
        Station.objects.filter(
            region_path__startswith=district.path,
            kind__in=[StationKind.COMMUNITY_CENTER, StationKind.DISTRICT_CENTER],
        )
        .prefetch_related("periods")
        .order_by("code")
    )
    if not stations:
        return DemoBookingsResult(0, 0, "演示辖区尚无服务阵地,未生成预约号源。")
    first = today or timezone.localdate()
    slots = resources = 0
    for station in stations:
        with transaction.atomic():
            for item_id in _items_for(station):
                slots += slots_generate(
                    actor=None,
                    station_id=station.pk,
                    item_id=item_id,
                    first_day=first,
                    last_day=first + dt.timedelta(days=DAYS - 1),
                    length_minutes=SLOT_MINUTES,
                    capacity=SLOT_CAPACITY,
                ).created
            resources += _resources(station, big_hall=station.kind == StationKind.DISTRICT_CENTER)
    return DemoBookingsResult(
        slots,
        resources,
        f"预约号源:新增 {slots} 个时段({len(stations)} 个中心,未来 {DAYS} 天);场地与工具:新增 {resources} 项。",
    )
