"""Loading and checking what every bookings service starts from: the item, the station, the person lock."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from linli.bookings.errors import BookingError, not_found
from linli.bookings.permissions import may_manage_station
from linli.catalog.models import ServiceItem
from linli.stations.models import Station, StationService

if TYPE_CHECKING:
    from linli.accounts.models import User


def item_active(item_id: int | str | None) -> ServiceItem:
    """An active catalogue item by id or code, else ``unknown_service``."""
    if item_id is None or item_id == "":
        raise BookingError("unknown_service", "请选择服务事项")
    qs = ServiceItem.objects.filter(is_active=True)
    item = (
        qs.filter(pk=int(item_id)).first()
        if isinstance(item_id, int) or str(item_id).isdigit()
        else qs.filter(code=str(item_id)).first()
    )
    if item is None:
        raise BookingError("unknown_service", "服务事项不存在或已停用")
    return item


def item_offered(*, station_id: int, item_id: int) -> bool:
    """ "Station S offers item I" ⇔ an active menu line with an active item (docs/stations.md)."""
    return StationService.objects.filter(
        station_id=station_id, item_id=item_id, is_active=True, item__is_active=True
    ).exists()


def require_offered(*, station: Station, item: ServiceItem, universal_ok: bool = False) -> None:
    """``item_not_offered`` unless the station's menu has the item (or, at a window, it is 通办)."""
    if universal_ok and item.universal:
        return
    if not item_offered(station_id=station.pk, item_id=item.pk):
        raise BookingError("item_not_offered", f"{station.name}目前不提供「{item.name}」")


def station_published(station_id: int | None) -> Station:
    station = Station.objects.filter(pk=station_id, is_published=True).first() if station_id else None
    if station is None:
        raise BookingError("unknown_station", "服务阵地不存在或未公开", status=404)
    return station


def station_managed(user: User | None, station_id: int | None) -> Station:
    """The station, when ``user`` may run its desk (``bookings.manage`` over it); else 404."""
    station = Station.objects.filter(pk=station_id).first() if station_id else None
    if station is None or not may_manage_station(user, station.region_path):
        raise not_found("服务阵地")
    return station


def person_lock(user_id: int) -> None:
    """Serialise one person's bookings (per-person limits) by locking their account row until commit.

    On SQLite the IMMEDIATE transaction already holds the database's write lock (SELECT … FOR UPDATE is
    not supported there and not needed)."""
    if connection.vendor == "sqlite":
        return
    from linli.accounts.models import User

    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def aware(moment: dt.datetime, what: str = "时间") -> dt.datetime:
    if timezone.is_naive(moment):
        raise BookingError("invalid_time", f"{what}需要带时区")
    return moment
