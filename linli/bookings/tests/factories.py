"""Test data for bookings: two community centers with a slot calendar, the staff around them, residents.

Time is frozen by the ``clock`` fixture at Monday 2026-03-02 08:00 (Asia/Shanghai); both stations open on
weekdays 09:00–12:00 and 13:30–17:30 (``OFFICE_WEEK``), so Monday has 14 half-hour slots per item.
"""

from __future__ import annotations

import datetime as dt
import itertools
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.bookings.models import Slot
from linli.bookings.services import slot_create, slots_generate
from linli.catalog.models import Category, ServiceItem
from linli.catalog.services import service_item_create
from linli.places.tests.factories import SmallDistrict
from linli.stations.models import Station
from linli.stations.tests.factories import make_station

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=TZ)  # Monday
MONDAY = T0.date()
_codes = itertools.count(1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def make_item(**kw: Any) -> ServiceItem:
    n = next(_codes)
    fields: dict[str, Any] = {
        "code": f"TST-BK-{n:04d}",
        "name": f"测试事项{n}",
        "category": Category.GOVERNMENT,
        "appointment_required": True,
    }
    fields.update(kw)
    return service_item_create(**fields)


class BookingWorld:
    """Stations, items and residents are made up front; staff users only when a test first asks for one
    (each costs a membership and an audit row). Touch them before starting threads."""

    def __init__(self, d: SmallDistrict) -> None:
        self.d = d
        self.item = make_item(name="居住证办理")  # offered at both stations, bookable
        self.item2 = make_item(name="老年优待证")  # offered at both stations
        self.agency_item = make_item(name="高龄津贴申领", agency_allowed=True, appointment_required=False)
        self.not_offered = make_item(name="别处的事项")  # active, offered nowhere
        menu = [self.item, self.item2, self.agency_item]
        self.station0 = make_station(
            region=d.communities[0], items=menu, name="一社区党群服务中心"
        )  # street 0
        self.station2 = make_station(
            region=d.communities[2], items=menu, name="三社区党群服务中心"
        )  # street 1
        self.resident: User = ResidentFactory(display_name="张三丰")
        self.resident2: User = ResidentFactory(display_name="李四")

    @cached_property
    def window0(self) -> User:  # window staff of community 0
        return staff_with_role(Role.WINDOW_STAFF, district=self.d, index=0)

    @cached_property
    def window2(self) -> User:  # window staff of community 2
        return staff_with_role(Role.WINDOW_STAFF, district=self.d, index=2)

    @cached_property
    def back_office0(self) -> User:
        return staff_with_role(Role.BACK_OFFICE, district=self.d, index=0)

    @cached_property
    def secretary0(self) -> User:
        return staff_with_role(Role.COMMUNITY_SECRETARY, district=self.d, index=0)

    @cached_property
    def street0(self) -> User:  # street 0: sees station0, runs no desk
        return staff_with_role(Role.STREET_STAFF, district=self.d, index=0)

    @cached_property
    def grid0(self) -> User:  # grid worker of grid 0 (community 0)
        return staff_with_role(Role.GRID_WORKER, district=self.d, index=0)

    def slot(
        self,
        *,
        station: Station | None = None,
        item: ServiceItem | None = None,
        hour: int = 9,
        minute: int = 0,
        day: dt.date = MONDAY,
        capacity: int = 5,
        length: int = 30,
    ) -> Slot:
        start = at(day, hour, minute)
        return slot_create(
            actor=None,
            station_id=(station or self.station0).pk,
            item_id=(item or self.item).pk,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=length),
            capacity=capacity,
        )

    def generate(
        self,
        *,
        station: Station | None = None,
        item: ServiceItem | None = None,
        days: int = 5,
        capacity: int = 5,
    ) -> int:
        return slots_generate(
            actor=None,
            station_id=(station or self.station0).pk,
            item_id=(item or self.item).pk,
            first_day=MONDAY,
            last_day=MONDAY + dt.timedelta(days=days - 1),
            length_minutes=30,
            capacity=capacity,
        ).created


def build_booking_world(d: SmallDistrict) -> BookingWorld:
    return BookingWorld(d)
